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
use crate::manifest::Manifest;
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
    let manifest = app.manifest()?;
    let paths = Paths::new(&app.home, &manifest.root);
    // Before anything else changes: a missing or too old system tool stops here.
    check_requires(&manifest)?;
    let tool_settings = super::lock::settings(args.frozen, args.offline)?;
    let phases: Vec<Phase> = ORDER
        .into_iter()
        .filter(|p| args.only.is_empty() || args.only.contains(p))
        .collect();
    let cx = UpContext {
        manifest: &manifest,
        paths: &paths,
        reporter: &app.printer,
        environment: args
            .env
            .clone()
            .unwrap_or_else(|| manifest.config.environment.clone()),
        frozen: args.frozen,
        offline: args.offline,
        yes: args.yes,
        tools: tool_settings,
    };
    let runtime = super::runtime()?;
    runtime.block_on(interruptible(async {
        for phase in &phases {
            run_phase(*phase, &cx).await?;
        }
        Ok::<(), Error>(())
    }))?;
    cx.reporter
        .message(Level::Success, &format!("{} is up", manifest.project.name));
    Ok(0)
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
        Phase::Mocks => Err(Error::NotAvailable {
            command: "up",
            what: "starting mocks",
        }),
        Phase::Config if m.config.files.is_empty() => Ok(()),
        Phase::Config => Err(Error::NotAvailable {
            command: "up",
            what: "rendering config files",
        }),
        Phase::Hooks if m.hooks.setup.is_empty() => Ok(()),
        Phase::Hooks => Err(Error::NotAvailable {
            command: "up",
            what: "running setup hooks",
        }),
    }
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
