//! `[requires]`: system tools that must already be on PATH, at a version in
//! the declared range (parsed from their `--version` output).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::manifest::Requirement;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    /// Found, but its version could not be read and the range needs one.
    Unknown {
        path: PathBuf,
    },
    TooOld {
        path: PathBuf,
        found: semver::Version,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    pub name: String,
    pub range: String,
    pub problem: Problem,
}

impl std::fmt::Display for Unmet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (name, range) = (&self.name, &self.range);
        match &self.problem {
            Problem::Missing => write!(
                f,
                "required tool `{name}` was not found on PATH (devenv.toml wants {range})"
            ),
            Problem::Unknown { path } => write!(
                f,
                "required tool `{name}` at {} did not report a version (devenv.toml wants {range})",
                path.display()
            ),
            Problem::TooOld { path, found } => write!(
                f,
                "required tool `{name}` is {found} at {}, but devenv.toml wants {range}",
                path.display()
            ),
        }
    }
}

/// Checks every requirement (in parallel: each runs a `--version`).
/// `path_var` is the PATH to search.
pub fn check(reqs: &[Requirement], path_var: Option<&OsString>, cwd: &Path) -> Vec<Unmet> {
    std::thread::scope(|s| {
        let handles: Vec<_> = reqs
            .iter()
            .map(|r| s.spawn(move || check_one(r, path_var, cwd)))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .collect()
    })
}

fn check_one(r: &Requirement, path_var: Option<&OsString>, cwd: &Path) -> Option<Unmet> {
    let unmet = |problem| {
        Some(Unmet {
            name: r.name.clone(),
            range: r.raw.clone(),
            problem,
        })
    };
    let Ok(path) = which::which_in(&r.name, path_var, cwd) else {
        return unmet(Problem::Missing);
    };
    if r.range == semver::VersionReq::STAR {
        return None;
    }
    let Some(found) = version_of(&path) else {
        return unmet(Problem::Unknown { path });
    };
    if matches(&r.range, &found) {
        None
    } else {
        unmet(Problem::TooOld { path, found })
    }
}

/// Pre-release versions (`2.0.0-rc1`) satisfy a plain range by their core.
fn matches(range: &semver::VersionReq, v: &semver::Version) -> bool {
    range.matches(v) || range.matches(&semver::Version::new(v.major, v.minor, v.patch))
}

fn version_of(path: &Path) -> Option<semver::Version> {
    for args in [&["--version"][..], &["version"][..]] {
        let out = Command::new(path)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(v) = parse_version(&text) {
            return Some(v);
        }
    }
    None
}

/// The first `X.Y[.Z]` in a tool's version output: `git version 2.39.2`,
/// `Docker version 24.0.7, build afdd53b`, `go version go1.22.1 linux/amd64`.
pub fn parse_version(text: &str) -> Option<semver::Version> {
    let re = regex::Regex::new(r"(\d+)\.(\d+)(?:\.(\d+))?").expect("valid regex");
    let c = re.captures(text)?;
    let n = |i: usize| c.get(i).map_or(Some(0), |m| m.as_str().parse().ok());
    Some(semver::Version::new(n(1)?, n(2)?, n(3)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_real_outputs() {
        let v = |s| parse_version(s).map(|v| v.to_string());
        assert_eq!(v("git version 2.39.2").as_deref(), Some("2.39.2"));
        assert_eq!(
            v("Docker version 24.0.7, build afdd53b").as_deref(),
            Some("24.0.7")
        );
        assert_eq!(
            v("go version go1.22.1 linux/amd64").as_deref(),
            Some("1.22.1")
        );
        assert_eq!(v("jq-1.7").as_deref(), Some("1.7.0"));
        assert_eq!(v("no digits"), None);
    }

    #[test]
    fn ranges_accept_prereleases_by_their_core() {
        let r = semver::VersionReq::parse(">=2.30").unwrap();
        assert!(matches(&r, &semver::Version::parse("2.31.0-rc1").unwrap()));
        assert!(!matches(&r, &semver::Version::parse("2.20.1").unwrap()));
    }
}
