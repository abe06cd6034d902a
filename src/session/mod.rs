//! The core: the flows behind `up`, `down`, `reset`, `status`, `logs`,
//! `render` and `report`, and everything they share.
//!
//! A `Session` is one command's view of one clone: the validated manifest,
//! the resolved settings, where things live, the clock, and the two ways to
//! talk to the user (`Reporter`, `Prompter`). The flows decide what runs and
//! in what order, run pre-flight checks, ask for trust, hold the per-clone
//! lock, record the run and turn signals into exit 130; the capability
//! modules (`tools`, `services`, `mocks`, `render`, `hooks`, `metrics`) do
//! the work. Everything that touches the engine or starts processes goes
//! through a `Backend`, so the flows' logic is unit-tested with a fake one.
//!
//! Nothing here knows clap, indicatif or dialoguer, and nothing reads the
//! process environment: it arrives as `ProcessEnv` and `Settings`.

mod backend;
mod down;
mod exec;
mod forward;
pub mod interrupt;
mod live;
pub mod lock;
mod logs;
mod logs_all;
mod phase;
mod preflight;
mod prompt;
mod record;
mod render;
mod report;
mod secrets;
pub mod standin;
mod status;
mod trust;
mod up;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use crate::prompt::{NoPrompt, PromptError, Prompter};
pub use backend::Backend;
pub use down::{down, reset, DownOptions, DownSummary, ResetSummary};
pub use exec::exec_in_service;
pub use interrupt::interruptible;
pub use live::Live;
pub use lock::Wait;
pub use logs::{logs, LogsRequest};
pub use logs_all::{logs_all, AllLogsRequest};
pub use phase::Phase;
pub use preflight::{file_problems, template_problems};
pub use record::{metrics_context, record_simple_run};
pub use render::{render, RenderMode, RenderRequest, Rendered};
pub use report::{auto_report, report, ReportRequest};
pub use status::{status, StatusDoc};
pub use trust::{ensure_trusted, trust};
pub use up::{tool_settings, up, UpOptions};

use crate::clock::Clock;
use crate::error::Error;
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::progress::Reporter;
use crate::render::{CommandOutputs, RedactingReporter, Redactor};
use crate::settings::{ProcessEnv, Settings};

/// One command's view of one clone.
pub struct Session<'a> {
    pub manifest: &'a Manifest,
    pub settings: &'a Settings,
    /// The process environment, captured once by the CLI.
    pub env: &'a ProcessEnv,
    pub paths: Paths,
    pub clock: &'a dyn Clock,
    /// The user's reporter behind this command's redactor.
    pub reporter: RedactingReporter<'a>,
    pub prompter: &'a dyn Prompter,
    /// The devenv binary, for the background processes it starts (mocks).
    pub exe: PathBuf,
    /// The manifest is a stand-in (devenv.toml does not load): work from
    /// the labels and state files only (see `standin`).
    pub from_labels: bool,
    /// Knows every secret value before anything streams (`secrets.rs`).
    redactor: Redactor,
    /// Secret commands run during this command, each at most once.
    secret_commands: CommandOutputs,
    /// `[env]` rendered, once per command: hooks and processes both need it.
    rendered_env: tokio::sync::OnceCell<Vec<(String, String)>>,
}

/// What a session is made from, besides the manifest and settings.
pub struct Io<'a> {
    pub clock: &'a dyn Clock,
    pub reporter: &'a dyn Reporter,
    pub prompter: &'a dyn Prompter,
}

impl<'a> Session<'a> {
    pub fn new(
        manifest: &'a Manifest,
        settings: &'a Settings,
        env: &'a ProcessEnv,
        io: Io<'a>,
        exe: PathBuf,
    ) -> Self {
        let paths = Paths::new(&settings.home.value, &manifest.root);
        let redactor = secrets::known(manifest, &paths, env);
        Session {
            paths,
            manifest,
            settings,
            env,
            clock: io.clock,
            reporter: RedactingReporter::new(io.reporter, redactor.clone()),
            prompter: io.prompter,
            exe,
            from_labels: false,
            redactor,
            secret_commands: CommandOutputs::default(),
            rendered_env: tokio::sync::OnceCell::new(),
        }
    }

    /// What hooks, processes, `exec`, `shell` and `env` see: the pinned
    /// tools first on PATH, devenv's own variables, and `[env]` rendered
    /// like a config file. Rendering `[env]` may read secrets and sources,
    /// so it needs trust for those, as `render` does.
    pub async fn project_env(&self) -> Result<Vec<(String, std::ffi::OsString)>, Error> {
        let mut env = crate::tools::project_env(self.manifest, &self.paths, self.env.path());
        if self.manifest.env.is_empty() {
            return Ok(env);
        }
        let code = [
            crate::hooks::trust::Code::SecretCommands,
            crate::hooks::trust::Code::ConfigSources,
        ];
        trust::ensure_trusted_for(self, &code, false)?;
        let vars = self
            .rendered_env
            .get_or_try_init(|| async {
                let prompts = prompt::SecretPrompts(self.prompter);
                let req = render::request(self, Vec::new(), false, &prompts);
                let rendered = crate::render::render_env(&req)
                    .await
                    .map_err(|e| self.redact_error(e.into()))?;
                for why in &rendered.unset {
                    self.reporter.message(crate::progress::Level::Warn, why);
                }
                Ok::<_, Error>(rendered.vars)
            })
            .await?;
        env.extend(vars.iter().map(|(k, v)| (k.clone(), v.into())));
        Ok(env)
    }

    /// `project_env` for commands that run no async runtime of their own.
    pub fn project_env_blocking(&self) -> Result<Vec<(String, std::ffi::OsString)>, Error> {
        if self.manifest.env.is_empty() {
            return Ok(crate::tools::project_env(
                self.manifest,
                &self.paths,
                self.env.path(),
            ));
        }
        let runtime = runtime()?;
        runtime.block_on(interruptible(self.project_env()))
    }
}

/// The async runtime for flows that talk to the engine or the network.
/// Built per command, never for `--version` or `validate`, to keep start-up
/// fast.
///
/// One thread: the work is waiting on the engine and the network, and
/// what computes (hashing, unpacking, build contexts) goes to
/// `spawn_blocking`. Worker threads cost a no-op `up` their start and a
/// cross-thread wake-up for every engine request (futex, perf on 2 cores).
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("cannot start the async runtime: {e}")))
}
