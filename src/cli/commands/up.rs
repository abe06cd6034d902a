//! `devenv up`: bring the environment to the declared state, phase by phase:
//! tools -> services -> mocks -> config -> hooks.
//!
//! Each phase lives in its core module; this file only decides which phases
//! run, in what order, and turns Ctrl-C into exit 130. A phase whose section
//! is empty in devenv.toml is a no-op.

use std::future::Future;

use crate::cli::args::{Phase, UpArgs};
use crate::cli::App;
use crate::error::Error;
use crate::hooks::{self, HookKind};
use crate::manifest::{HookEntry, Manifest};
use crate::metrics::{RunKind, RunRecorder, Start};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};

/// What every phase gets.
#[allow(dead_code)] // read by the phases as they land in the core modules
pub struct UpContext<'a> {
    pub manifest: &'a Manifest,
    pub paths: &'a Paths,
    pub reporter: &'a dyn Reporter,
    /// The config environment (`--env`, else `[config] environment`).
    pub environment: String,
    pub frozen: bool,
    pub offline: bool,
    pub yes: bool,
    /// Mirror, timeouts and parallelism for tool downloads.
    pub tools: crate::tools::Settings,
}

const ORDER: [Phase; 5] = [
    Phase::Tools,
    Phase::Services,
    Phase::Mocks,
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
    check_requires(&manifest)?;
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
            frozen: args.frozen,
            offline: args.offline,
            yes: args.yes,
            tools: tool_settings,
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
        Phase::Services => Err(Error::NotAvailable {
            command: "up",
            what: "starting services",
        }),
        Phase::Mocks if m.mocks.is_empty() => Ok(()),
        Phase::Mocks => {
            let exe = std::env::current_exe().map_err(|e| {
                Error::Failed(anyhow::anyhow!("cannot find the devenv binary: {e}"))
            })?;
            let req = crate::mocks::UpRequest::new(m, cx.paths, exe, cx.reporter);
            tokio::task::block_in_place(|| crate::mocks::up(&req))
                .map(|_| ())
                .map_err(super::mock::to_error)
        }
        Phase::Config if m.config.files.is_empty() => Ok(()),
        Phase::Config => super::render::config_phase(cx).await,
        Phase::Hooks if m.hooks.setup.is_empty() => Ok(()),
        Phase::Hooks => run_hooks(cx, &m.hooks.setup, HookKind::Setup),
    }
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
fn check_requires(manifest: &Manifest) -> Result<(), Error> {
    if manifest.requires.is_empty() {
        return Ok(());
    }
    let unmet = crate::tools::requires::check(
        &manifest.requires,
        std::env::var_os("PATH").as_ref(),
        &manifest.root,
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

/// Runs `work` until it ends or Ctrl-C arrives; Ctrl-C drops the work (its
/// pending engine calls are cancelled) and becomes `Error::Interrupted`.
pub async fn interruptible<T>(work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
    }
}
