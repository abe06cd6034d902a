//! `devenv doctor`: pre-flight checks, each pass, warn or fail, each with
//! what to do about it. The same checks serve `up`'s early stop.

mod checks;
mod engine;

use serde::Serialize;

pub use checks::{
    activation, clock_skew, disk_free, ports, registry, requirements, store_writable, Inputs,
};
pub use engine::{check as engine, EngineFacts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Short and stable, for `--json` consumers: "engine", "disk", "port 5432", ...
    pub name: String,
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do, for warn and fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// On the passing `engine` check: what and where the engine is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineFacts>,
}

impl Check {
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: Status::Pass,
            detail: detail.into(),
            hint: None,
            engine: None,
        }
    }
    pub fn warn(
        name: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            status: Status::Warn,
            detail: detail.into(),
            hint: Some(hint.into()),
            engine: None,
        }
    }
    pub fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            status: Status::Fail,
            detail: detail.into(),
            hint: Some(hint.into()),
            engine: None,
        }
    }
}

/// The contract's exit code for a set of checks: 0 all pass, 1 warnings
/// only, 3 a failure (a prerequisite is missing).
/// 3 when a check failed (a prerequisite is missing); 0 otherwise:
/// warnings are advice, and a script that runs `doctor` before `up` must
/// not stop on one.
pub fn exit_code(checks: &[Check]) -> i32 {
    match checks.iter().map(|c| c.status).max() {
        Some(Status::Fail) => 3,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_check_decides_the_exit_code() {
        assert_eq!(exit_code(&[Check::pass("a", "")]), 0);
        assert_eq!(
            exit_code(&[Check::pass("a", ""), Check::warn("b", "", "")]),
            0,
            "warnings alone are not a failure"
        );
        assert_eq!(
            exit_code(&[Check::warn("b", "", ""), Check::fail("c", "", "")]),
            3
        );
        assert_eq!(exit_code(&[]), 0);
    }
}
