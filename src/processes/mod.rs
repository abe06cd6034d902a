//! `[processes]`: the app itself, run on this machine and supervised, so a
//! new hire's `up` ends with the service they work on answering, not only
//! its dependencies.
//!
//! `lifecycle` starts one detached supervisor per process for `up`, stops
//! them for `down`, and reports them for `status`; `supervise` is the
//! supervisor (`devenv process supervise NAME`, hidden), which runs the
//! command in its own process group, logs to `.devenv/logs/NAME.log` and
//! restarts it; `ready` probes it on this machine; `group` finds and stops
//! what a process left behind; `state` is `processes.json`. Linux only for
//! now, like the mocks' lifecycle: it reads `/proc`.

mod group;
mod lifecycle;
mod ready;
mod state;
mod supervise;

pub use crate::log_trim::LogLimit;
pub use lifecycle::{down, status, up, ProcessStatus, UpRequest};
pub use state::log_path;
pub use supervise::{supervise, Spec};

/// How the supervisor's own lines in a log start.
pub const NOTE: &str = "[devenv]";

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The working directory leaves the repository (a symlink swapped in
    /// since the manifest loaded).
    #[error("process {name}: cwd {escape}")]
    Cwd {
        name: String,
        escape: crate::confine::Escape,
    },
    #[error("process {name} never became ready: {reason}; its log ends with:\n{log}")]
    NotReady {
        name: String,
        reason: String,
        log: String,
    },
    #[error("process {name}: cannot start its supervisor: {source}")]
    Spawn {
        name: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(std::io::Error),
}

impl ProcessError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ProcessError::Cwd { .. } => Some(
                "point `cwd` at a directory inside the repository, then run `devenv up` again"
                    .into(),
            ),
            ProcessError::NotReady { name, .. } => Some(format!(
                "`devenv logs {name}` shows its whole log; fix the command or its `ready` probe, then run `devenv up` again"
            )),
            _ => None,
        }
    }
}
