//! The program's top-level error and the one place it becomes an exit code.
//!
//! Core modules have their own typed errors (`thiserror`); the `From` impls
//! below are the only place they are sorted into the contract's classes, and
//! `exit_code` is the contract's table: nothing else in the program decides
//! an exit status. What to do next travels in `hint`, never glued into the
//! message, so every front end (the terminal printer, `--json`) can show it
//! its own way.

use crate::diagnostic::Diagnostics;
use crate::hooks::HookError;
use crate::manifest::ManifestError;
use crate::mocks::MockError;
use crate::processes::ProcessError;
use crate::render::RenderError;
use crate::services::{EngineError, ServicesError};
use crate::tools::ToolsError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input that is not a file problem: a flag, an argument, a host
    /// port that is taken. Exit 2; found before any phase starts.
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    /// Problems in the user's files, each with its location. Exit 2.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// A prerequisite is missing: no engine, a tool too old, a secret not given. Exit 3.
    #[error("{message}")]
    Prerequisite {
        message: String,
        hint: Option<String>,
    },
    /// SIGINT, SIGTERM or SIGHUP. Exit 130.
    #[error("interrupted")]
    Interrupted,
    /// An operation failed: a service never became ready, a download failed. Exit 1.
    #[error("{message}")]
    Failed {
        message: String,
        hint: Option<String>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The contract's exit-code table.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage { .. } | Error::Invalid(_) => 2,
            Error::Prerequisite { .. } => 3,
            Error::Interrupted => 130,
            Error::Failed { .. } => 1,
        }
    }

    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint,
        }
    }

    /// An operation failed (exit 1) with this message.
    pub fn failed(message: impl std::fmt::Display) -> Self {
        Error::Failed {
            message: message.to_string(),
            hint: None,
        }
    }

    /// An operation failed (exit 1); `hint` says what to do next.
    pub fn failed_with(message: impl std::fmt::Display, hint: Option<String>) -> Self {
        Error::Failed {
            message: message.to_string(),
            hint,
        }
    }

    pub fn prerequisite(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Prerequisite {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// What to do next, when we know.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Usage { hint, .. }
            | Error::Prerequisite { hint, .. }
            | Error::Failed { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    /// The same error with every text passed through `f` (redaction).
    pub fn map_text(self, f: impl Fn(String) -> String) -> Self {
        match self {
            Error::Usage { message, hint } => Error::Usage {
                message: f(message),
                hint: hint.map(&f),
            },
            Error::Prerequisite { message, hint } => Error::Prerequisite {
                message: f(message),
                hint: hint.map(&f),
            },
            Error::Failed { message, hint } => Error::Failed {
                message: f(message),
                hint: hint.map(&f),
            },
            other => other,
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::failed(format!("{e:#}"))
    }
}

impl From<ManifestError> for Error {
    fn from(e: ManifestError) -> Self {
        match e {
            ManifestError::NotFound { ref compose, .. } => {
                let hint = match compose {
                    Some(c) => format!(
                        "this repository has a compose file: `devenv init --from {}` converts it to devenv.toml",
                        c.display()
                    ),
                    None => "run `devenv init` to write one, or pass `-f PATH`".into(),
                };
                Error::usage(e.to_string(), Some(hint))
            }
            ManifestError::Invalid(d) => Error::Invalid(d),
        }
    }
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Self {
        Error::Invalid(d)
    }
}

/// No engine answering is a missing prerequisite (exit 3).
impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        Error::prerequisite(e.to_string(), e.hint())
    }
}

/// Ports in use are bad input (exit 2, nothing created); the rest are
/// failed operations (exit 1).
impl From<ServicesError> for Error {
    fn from(e: ServicesError) -> Self {
        let hint = e.hint();
        match e {
            ServicesError::PortsInUse(_) => Error::usage(e.to_string(), hint),
            other => Error::failed_with(other, hint),
        }
    }
}

/// Broken mock files and taken mock ports are bad input (exit 2), exactly
/// as for services.
impl From<MockError> for Error {
    fn from(e: MockError) -> Self {
        let hint = e.hint();
        match e {
            MockError::Invalid(d) => Error::Invalid(d),
            MockError::PortInUse { .. } => Error::usage(e.to_string(), hint),
            other => Error::failed_with(other, hint),
        }
    }
}

/// A bad `--upstream` is bad input (exit 2); a recording that cannot be
/// written is a failed operation.
impl From<crate::mocks::RecordError> for Error {
    fn from(e: crate::mocks::RecordError) -> Self {
        use crate::mocks::RecordError;
        let hint = e.hint();
        match e {
            RecordError::Mock(m) => m.into(),
            RecordError::BadUpstream(_) => Error::usage(e.to_string(), hint),
            other => Error::failed_with(other, hint),
        }
    }
}

/// A working directory leading out of the repository is bad input (exit
/// 2), as for every path; a process that never gets ready, or cannot be
/// started, is a failed operation (exit 1).
impl From<ProcessError> for Error {
    fn from(e: ProcessError) -> Self {
        let hint = e.hint();
        match e {
            ProcessError::Cwd { .. } => Error::usage(e.to_string(), hint),
            other => Error::failed_with(other, hint),
        }
    }
}

impl From<ToolsError> for Error {
    fn from(e: ToolsError) -> Self {
        let hint = e.hint();
        if e.is_bad_input() {
            Error::usage(e.to_string(), hint)
        } else {
            Error::failed_with(e, hint)
        }
    }
}

/// A failed hook: which one, how it ended, and its last output.
impl From<HookError> for Error {
    fn from(e: HookError) -> Self {
        let mut msg = e.to_string();
        if let HookError::Failed { tail, .. } = &e {
            if !tail.is_empty() {
                msg.push_str("; its last output:");
                for l in tail {
                    msg.push_str("\n    ");
                    msg.push_str(l);
                }
            }
        }
        Error::failed_with(
            msg,
            Some("fix the hook or what it needs, then run `devenv up` again".into()),
        )
    }
}

/// Installing the metrics hooks (post-commit, pre-push).
impl From<crate::metrics::hook::HookError> for Error {
    fn from(e: crate::metrics::hook::HookError) -> Self {
        use crate::metrics::hook::HookError as H;
        match e {
            H::NotARepo => Error::prerequisite(
                "this directory is not inside a git clone, so there is no commit to record",
                "run it inside the repository's clone",
            ),
            H::SharedHooksDir(_) => Error::usage(
                format!("{e}; devenv does not change the team's shared hooks"),
                Some(
                    "add this line to your post-commit and pre-push hooks instead: \
                     (DEVENV_METRICS_HOOK=1 devenv -q metrics --json >/dev/null 2>&1 &) \
                     (a push is seen once it is done, by that or any later devenv command)"
                        .into(),
                ),
            ),
            H::ChainTaken(_) => Error::usage(
                e.to_string(),
                Some(
                    "merge it into the hook of the same name by hand, remove it, then run this again"
                        .into(),
                ),
            ),
            other => Error::failed(other),
        }
    }
}

/// Unredacted; the render flow redacts with `map_text` on its way out.
impl From<RenderError> for Error {
    fn from(e: RenderError) -> Self {
        let hint = e.hint();
        let message = e.to_string();
        match e {
            RenderError::Invalid(d) => Error::Invalid(d),
            RenderError::Usage { .. } => Error::Usage { message, hint },
            RenderError::Secret(crate::render::SecretError::Missing(_)) => {
                Error::Prerequisite { message, hint }
            }
            _ => Error::Failed { message, hint },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Error::usage("x", None).exit_code(), 2);
        assert_eq!(Error::Invalid(Diagnostics::default()).exit_code(), 2);
        assert_eq!(Error::prerequisite("x", "y").exit_code(), 3);
        assert_eq!(Error::Interrupted.exit_code(), 130);
        assert_eq!(Error::failed("x").exit_code(), 1);
    }

    #[test]
    fn a_taken_port_is_bad_input_for_mocks_and_services_alike() {
        let mock: Error = MockError::PortInUse {
            name: "payments".into(),
            port: 8081,
        }
        .into();
        let service: Error = ServicesError::PortsInUse(Vec::new()).into();
        assert_eq!(mock.exit_code(), 2);
        assert_eq!(service.exit_code(), 2);
        assert!(mock.hint().is_some() && service.hint().is_some());
    }

    #[test]
    fn hints_are_data_not_text_in_the_message() {
        let e: Error = ServicesError::NotReady("db never became ready".into()).into();
        assert_eq!(e.exit_code(), 1);
        assert!(!e.to_string().contains("hint"));
        assert!(e.hint().is_some());
    }
}
