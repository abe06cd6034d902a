//! `devenv up`: bring the environment to the declared state, phase by phase:
//! tools -> mocks -> services -> config -> hooks.
//!
//! Each phase lives in its core module; this file only decides which phases
//! run, in what order, and turns Ctrl-C into exit 130. A phase whose section
//! is empty in devenv.toml is a no-op.
//!
//! Mocks start before services so a container that calls an upstream while
//! it starts finds the mock already answering. Containers reach a mock by
//! its name: every container gets an /etc/hosts entry `<mock>` -> the project
//! network's gateway, and the mock listens on 127.0.0.1 and that gateway
//! only (a host-internal bridge address, never reachable from other machines).

use std::future::Future;
use std::net::IpAddr;

use tokio::sync::OnceCell;

use crate::cli::args::{Phase, UpArgs};
use crate::cli::App;
use crate::error::Error;
use crate::hooks::{self, HookKind};
use crate::manifest::{HookEntry, Manifest};
use crate::metrics::{RunKind, RunRecorder, Start};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::services::{self, images::ImagePolicy, EngineConfig};
use crate::services::{network::NetworkInfo, Engine};

/// What every phase gets.
pub struct UpContext<'a> {
    pub manifest: &'a Manifest,
    pub paths: &'a Paths,
    pub reporter: &'a dyn Reporter,
    /// The config environment (`--env`, else `[config] environment`).
    pub environment: String,
    pub offline: bool,
    /// Mirror, timeouts and parallelism for tool downloads.
    pub tools: crate::tools::Settings,
    /// Connected on first use, shared by the mocks and services phases.
    pub engine: OnceCell<Engine>,
    pub network: OnceCell<NetworkInfo>,
}

impl UpContext<'_> {
    async fn engine(&self) -> Result<&Engine, Error> {
        self.engine
            .get_or_try_init(super::down::connect_engine)
            .await
    }

    /// The project network's gateway: where containers reach host processes.
    async fn gateway(&self) -> Result<Option<IpAddr>, Error> {
        let engine = self.engine().await?;
        let info = self
            .network
            .get_or_try_init(|| async {
                services::network::ensure(engine, &self.manifest.project.id)
                    .await
                    .map_err(super::down::services_error)
            })
            .await?;
        Ok(info.gateway)
    }
}

const ORDER: [Phase; 5] = [
    Phase::Tools,
    Phase::Mocks,
    Phase::Services,
    Phase::Config,
    Phase::Hooks,
];

pub fn run(app: &mut App, args: UpArgs) -> Result<i32, Error> {
    // Preflight (manifest load and checks) is timed from here. A manifest
    // that does not load names no project, so that run is not recorded.
    let start = Start::now(&super::metrics::CLOCK);
    let manifest = app.manifest()?;
    // Broken mock files and templates are bad input: report every problem
    // before any phase changes anything.
    let problems = super::validate::file_problems(&manifest);
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let paths = Paths::new(&app.home, &manifest.root);
    // Before anything else changes: a missing or too old system tool stops here.
    check_requires(&manifest, &paths)?;
    let tool_settings = super::lock::settings(args.frozen, args.offline)?;
    let phases: Vec<Phase> = ORDER
        .into_iter()
        .filter(|p| args.only.is_empty() || args.only.contains(p))
        .collect();
    // Code from the repository runs only in these phases; ask before any
    // phase starts, so an untrusted file changes nothing.
    if phases
        .iter()
        .any(|p| matches!(p, Phase::Hooks | Phase::Config))
    {
        super::trust::ensure_trusted(app, &manifest, &paths, args.yes)?;
    }
    let recorder = RunRecorder::new(RunKind::Up, start, phases.len() == ORDER.len());
    let metrics_cx = super::metrics::context(&paths, &manifest);
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(e) => {
            let r = Err(e);
            let _ = recorder.finish(&metrics_cx, super::metrics::outcome_of(&r));
            return r;
        }
    };
    let result = {
        // Every progress event of the run passes through the recorder on
        // its way to the printer.
        let reporter = recorder.tap(&app.printer);
        let cx = UpContext {
            manifest: &manifest,
            paths: &paths,
            reporter: &reporter,
            environment: args
                .env
                .clone()
                .unwrap_or_else(|| manifest.config.environment.clone()),
            offline: args.offline,
            tools: tool_settings,
            engine: OnceCell::new(),
            network: OnceCell::new(),
        };
        runtime.block_on(interruptible(async {
            for phase in &phases {
                recorder.begin(phase_name(*phase));
                run_phase(*phase, &cx).await?;
            }
            recorder.end();
            Ok::<(), Error>(())
        }))
    };
    if result.is_ok() {
        app.printer
            .message(Level::Success, &format!("{} is up", manifest.project.name));
    }
    // Written on every path, including failure and Ctrl-C (exit 130).
    super::metrics::finish_up(app, &metrics_cx, recorder, &result, &runtime);
    result.map(|()| 0)
}

/// The phase's name in the metrics journal.
fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Tools => "tools",
        Phase::Services => "services",
        Phase::Mocks => "mocks",
        Phase::Config => "config",
        Phase::Hooks => "hooks",
    }
}

async fn run_phase(phase: Phase, cx: &UpContext<'_>) -> Result<(), Error> {
    let m = cx.manifest;
    match phase {
        Phase::Tools if m.tools.is_empty() && !cx.paths.bin_dir().exists() => Ok(()),
        Phase::Tools => Ok(crate::tools::install(m, cx.paths, cx.reporter, &cx.tools).await?),
        Phase::Services if m.services.is_empty() => Ok(()),
        Phase::Services => services_phase(cx).await,
        Phase::Mocks if m.mocks.is_empty() => Ok(()),
        Phase::Mocks => mocks_phase(cx).await,
        Phase::Config if m.config.files.is_empty() => Ok(()),
        Phase::Config => super::render::config_phase(cx).await,
        Phase::Hooks if m.hooks.setup.is_empty() => Ok(()),
        Phase::Hooks => run_hooks(cx, &m.hooks.setup, HookKind::Setup),
    }
}

/// Starts the mocks, on 127.0.0.1 and, when there are containers to reach
/// them, on the project network's gateway.
async fn mocks_phase(cx: &UpContext<'_>) -> Result<(), Error> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::failed(format!("cannot find the devenv binary: {e}")))?;
    let mut req = crate::mocks::UpRequest::new(cx.manifest, cx.paths, exe, cx.reporter);
    if !cx.manifest.services.is_empty() {
        if let Some(gw) = cx.gateway().await? {
            req.addresses.push(gw);
        }
    }
    tokio::task::block_in_place(|| crate::mocks::up(&req))
        .map(|_| ())
        .map_err(super::mock::to_error)
}

/// Runs hooks off the async workers: they are plain blocking processes.
fn run_hooks(cx: &UpContext<'_>, list: &[HookEntry], kind: HookKind) -> Result<(), Error> {
    let env = crate::tools::project_env(cx.manifest, cx.paths, std::env::var_os("PATH").as_ref());
    let req = hooks::RunRequest {
        paths: cx.paths,
        hooks: list,
        kind,
        env: &env,
    };
    tokio::task::block_in_place(|| hooks::run(&req, cx.reporter))
        .map(|_| ())
        .map_err(super::trust::hook_error)
}

/// `[requires]`: every unmet requirement named, with what was found and
/// the range wanted. Exit 3.
fn check_requires(manifest: &Manifest, paths: &Paths) -> Result<(), Error> {
    if manifest.requires.is_empty() {
        return Ok(());
    }
    let unmet = crate::tools::requires::check_cached(
        &manifest.requires,
        std::env::var_os("PATH").as_ref(),
        &manifest.root,
        Some(&paths.cache().join("versions.json")),
    );
    if unmet.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = unmet.iter().map(|u| u.to_string()).collect();
    Err(Error::prerequisite(
        lines.join("\n"),
        "install or upgrade it, then run `devenv up` again",
    ))
}

/// Brings the `[services]` up.
async fn services_phase(cx: &UpContext<'_>) -> Result<(), Error> {
    // Every mock is reachable from every container by its name. Always
    // computed from the manifest, so `--only services` hashes the same.
    let extra_hosts: Vec<(String, IpAddr)> = match cx.manifest.mocks.is_empty() {
        true => Vec::new(),
        false => match cx.gateway().await? {
            Some(gw) => cx
                .manifest
                .mocks
                .iter()
                .map(|mk| (mk.name.clone(), gw))
                .collect(),
            None => Vec::new(),
        },
    };
    let engine = cx.engine().await?;
    let mirror = super::registry_mirror(cx.manifest);
    let req = services::UpRequest {
        manifest: cx.manifest,
        paths: cx.paths,
        reporter: cx.reporter,
        mirror,
        images: ImagePolicy {
            pull: cx.manifest.settings.pull,
            offline: cx.offline,
            docker_config_dir: EngineConfig::from_env().docker_config_dir,
        },
        extra_hosts,
        // Mocks start before services; a service may depend on one.
        external_ready: cx.manifest.mocks.iter().map(|mk| mk.name.clone()).collect(),
    };
    let report = services::up(engine, &req)
        .await
        .map_err(super::down::services_error)?;
    if report.changed_nothing() {
        cx.reporter
            .message(Level::Detail, "services: all running and unchanged");
    }
    Ok(())
}

/// Runs `work` until it ends or Ctrl-C arrives; Ctrl-C drops the work (its
/// pending engine calls are cancelled) and becomes `Error::Interrupted`.
pub async fn interruptible<T>(work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
    }
}
