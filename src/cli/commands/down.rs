//! `devenv down [--volumes]`: stop and remove this project's containers,
//! network (and mocks); named volumes are kept unless asked.
//!
//! Also home of the engine plumbing the service commands share: connecting
//! (no engine -> exit 3) and turning `ServicesError` into the program's error.

use crate::cli::args::DownArgs;
use crate::cli::App;
use crate::error::Error;
use crate::hooks::{self, trust, HookKind};
use crate::manifest::Manifest;
use crate::metrics::{RunKind, Start};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::services::{self, DownOptions, Engine, EngineConfig, ServicesError};

pub fn run(app: &mut App, args: DownArgs) -> Result<i32, Error> {
    let start = Start::now(&super::metrics::CLOCK);
    let manifest = app.manifest()?;
    let result = down(app, &manifest, args.volumes);
    super::metrics::record_run(app, &manifest, RunKind::Down, start, &result);
    result
}

fn down(app: &App, manifest: &Manifest, volumes: bool) -> Result<i32, Error> {
    let paths = Paths::new(&app.home, &manifest.root);
    run_pre_down(app, manifest, &paths);
    let mocks = stop_mocks(app, &paths);
    let report = remove_containers(manifest, volumes)?;
    let p = &app.printer;
    if !mocks.is_empty() {
        p.message(
            Level::Info,
            &format!("stopped mock(s): {}", mocks.join(", ")),
        );
    }
    if report.containers.is_empty()
        && !report.network
        && report.volumes.is_empty()
        && mocks.is_empty()
    {
        p.message(
            Level::Info,
            &format!("{}: nothing to stop", manifest.project.name),
        );
        return Ok(0);
    }
    let mut text = format!(
        "{} is down: removed {} container{}",
        manifest.project.name,
        report.containers.len(),
        if report.containers.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    if !report.volumes.is_empty() {
        text.push_str(&format!(" and {} volume(s)", report.volumes.len()));
    } else if !volumes {
        text.push_str("; data volumes kept (`devenv down --volumes` removes them)");
    }
    p.message(Level::Success, &text);
    Ok(0)
}

/// The containers part of `down` and `reset`, on its own runtime. A project
/// without services needs no engine to go down (its mocks are stopped by
/// then); one with services does.
pub(crate) fn remove_containers(
    manifest: &Manifest,
    volumes: bool,
) -> Result<services::DownReport, Error> {
    let runtime = super::runtime()?;
    runtime.block_on(super::up::interruptible(async {
        match connect_engine().await {
            Ok(engine) => down_services(&engine, manifest, volumes).await,
            Err(_) if manifest.services.is_empty() => Ok(Default::default()),
            Err(e) => Err(e),
        }
    }))
}

/// `pre_down` hooks run only from a trusted devenv.toml; an untrusted or
/// failing one is reported, and `down` goes on: stopping must always work.
pub(crate) fn run_pre_down(app: &App, manifest: &Manifest, paths: &Paths) {
    if manifest.hooks.pre_down.is_empty() {
        return;
    }
    if !trust::is_trusted(paths, manifest) {
        app.printer.message(
            Level::Warn,
            "pre_down hooks skipped: this devenv.toml is not trusted (`devenv trust`)",
        );
        return;
    }
    let env = crate::tools::project_env(manifest, paths, std::env::var_os("PATH").as_ref());
    let req = hooks::RunRequest {
        paths,
        hooks: &manifest.hooks.pre_down,
        kind: HookKind::PreDown,
        env: &env,
    };
    if let Err(e) = hooks::run(&req, &app.printer) {
        let e = super::trust::hook_error(e);
        app.printer
            .message(Level::Warn, &format!("{e}; going on with down"));
    }
}

/// Stops this clone's mocks; a failure is reported, not fatal.
pub(crate) fn stop_mocks(app: &App, paths: &Paths) -> Vec<String> {
    match crate::mocks::down(paths) {
        Ok(names) => names,
        Err(e) => {
            app.printer
                .message(Level::Warn, &format!("stopping mocks: {e}"));
            Vec::new()
        }
    }
}

/// The services part of `down` (and `reset`).
async fn down_services(
    engine: &Engine,
    manifest: &Manifest,
    volumes: bool,
) -> Result<services::DownReport, Error> {
    services::down(
        engine,
        &DownOptions {
            project_id: &manifest.project.id,
            volumes,
        },
    )
    .await
    .map_err(services_error)
}

/// Connects to the user's engine; none answering is a missing prerequisite.
pub(crate) async fn connect_engine() -> Result<Engine, Error> {
    services::engine::connect(&EngineConfig::from_env())
        .await
        .map_err(|e| Error::prerequisite(e.to_string(), e.hint()))
}

/// Ports in use are bad input (exit 2, nothing created); the rest failed
/// operations (exit 1).
pub(crate) fn services_error(e: ServicesError) -> Error {
    let hint = e.hint();
    match e {
        ServicesError::PortsInUse(_) => Error::usage(e.to_string(), hint),
        other => {
            let text = match hint {
                Some(h) => format!("{other}\n  hint: {h}"),
                None => other.to_string(),
            };
            Error::failed(text)
        }
    }
}
