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
use crate::services::{self, images::ImagePolicy, EngineConfig};

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
        Phase::Tools if m.tools.is_empty() && m.requires.is_empty() => Ok(()),
        Phase::Tools => Err(Error::NotAvailable {
            command: "up",
            what: "installing pinned tools",
        }),
        Phase::Services if m.services.is_empty() => Ok(()),
        Phase::Services => services_phase(cx).await,
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

/// Brings the `[services]` up. The mirror comes from
/// `DEVENV_REGISTRY_MIRROR`, else `[settings] registry_mirror`.
async fn services_phase(cx: &UpContext<'_>) -> Result<(), Error> {
    let engine = super::down::connect_engine().await?;
    let mirror = std::env::var("DEVENV_REGISTRY_MIRROR")
        .ok()
        .filter(|m| !m.is_empty())
        .or_else(|| cx.manifest.settings.registry_mirror.clone());
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
        // The lead fills these from the mocks phase: each mock's name ->
        // the network gateway (`services::network::ensure`), and the mock
        // names as already-ready dependencies.
        extra_hosts: Vec::new(),
        external_ready: Vec::new(),
    };
    let report = services::up(&engine, &req)
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
