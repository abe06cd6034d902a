//! The program's top-level error and the one place it becomes an exit code.
//!
//! Core modules have their own typed errors; they convert into this at the
//! command layer. `exit_code` is the contract's table, and nothing else in the
//! program decides an exit status.

use crate::diagnostic::Diagnostics;
use crate::manifest::ManifestError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input that is not a file problem: a flag, an argument. Exit 2.
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
    /// Ctrl-C. Exit 130.
    #[error("interrupted")]
    Interrupted,
    /// An operation failed: a service never became ready, a download failed. Exit 1.
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage { .. } | Error::Invalid(_) => 2,
            Error::Prerequisite { .. } => 3,
            Error::Interrupted => 130,
            Error::Failed(_) => 1,
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
        Error::Failed(anyhow::anyhow!("{message}"))
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
            Error::Usage { hint, .. } | Error::Prerequisite { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }
}

impl From<ManifestError> for Error {
    fn from(e: ManifestError) -> Self {
        match e {
            ManifestError::NotFound { .. } => Error::usage(
                e.to_string(),
                Some("run `devenv init` to write one, or pass `-f PATH`".into()),
            ),
            ManifestError::Invalid(d) => Error::Invalid(d),
        }
    }
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Self {
        Error::Invalid(d)
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
        assert_eq!(Error::Failed(anyhow::anyhow!("x")).exit_code(), 1);
    }
}
