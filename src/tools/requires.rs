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
    check_cached(reqs, path_var, cwd, None)
}

/// Like `check`, remembering each binary's version in `cache` (a JSON file):
/// a compiled binary cannot report another version unless the file itself
/// changes, so its answer is kept by path, size and mtime, and a no-op `up`
/// spawns nothing. Scripts (version-manager shims like pyenv's) answer by
/// the environment, so they are always asked.
pub fn check_cached(
    reqs: &[Requirement],
    path_var: Option<&OsString>,
    cwd: &Path,
    cache: Option<&Path>,
) -> Vec<Unmet> {
    let known: VersionCache = cache.map(crate::state::read_json).unwrap_or_default();
    let found: Vec<Checked> = std::thread::scope(|s| {
        let handles: Vec<_> = reqs
            .iter()
            .map(|r| {
                let known = &known;
                s.spawn(move || check_one(r, path_var, cwd, known))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut fresh = known.clone();
    let mut unmet = Vec::new();
    for (u, learned) in found {
        unmet.extend(u);
        if let Some((k, v)) = learned {
            fresh.versions.insert(k, v);
        }
    }
    if let Some(c) = cache {
        if fresh != known {
            // Only a cache: failing to write it costs a spawn next time.
            let _ = crate::state::write_json(c, &fresh);
        }
    }
    unmet
}

/// One requirement's verdict, and a version learned for the cache.
type Checked = (Option<Unmet>, Option<(String, CachedVersion)>);

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct VersionCache {
    versions: std::collections::BTreeMap<String, CachedVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct CachedVersion {
    size: u64,
    mtime_ns: u128,
    version: String,
}

/// The cache key and identity of a compiled binary; None for scripts.
fn identity(path: &Path) -> Option<(String, u64, u128)> {
    let real = std::fs::canonicalize(path).ok()?;
    let mut head = [0u8; 2];
    let mut f = std::fs::File::open(&real).ok()?;
    std::io::Read::read_exact(&mut f, &mut head).ok()?;
    if &head == b"#!" {
        return None;
    }
    let meta = f.metadata().ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((real.to_string_lossy().to_string(), meta.len(), mtime))
}

fn check_one(
    r: &Requirement,
    path_var: Option<&OsString>,
    cwd: &Path,
    known: &VersionCache,
) -> Checked {
    let unmet = |problem| {
        Some(Unmet {
            name: r.name.clone(),
            range: r.raw.clone(),
            problem,
        })
    };
    let Ok(path) = which::which_in(&r.name, path_var, cwd) else {
        return (unmet(Problem::Missing), None);
    };
    if r.range == semver::VersionReq::STAR {
        return (None, None);
    }
    let id = identity(&path);
    let cached = id.as_ref().and_then(|(key, size, mtime)| {
        let c = known.versions.get(key)?;
        (c.size == *size && c.mtime_ns == *mtime)
            .then(|| semver::Version::parse(&c.version).ok())?
    });
    let (found, learned) = match cached {
        Some(v) => (Some(v), None),
        None => {
            let v = version_of(&path);
            let learned = match (&id, &v) {
                (Some((key, size, mtime)), Some(v)) => Some((
                    key.clone(),
                    CachedVersion {
                        size: *size,
                        mtime_ns: *mtime,
                        version: v.to_string(),
                    },
                )),
                _ => None,
            };
            (v, learned)
        }
    };
    let Some(found) = found else {
        return (unmet(Problem::Unknown { path }), None);
    };
    let result = if matches(&r.range, &found) {
        None
    } else {
        unmet(Problem::TooOld { path, found })
    };
    (result, learned)
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
    fn a_compiled_binarys_version_is_kept_and_a_scripts_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        // `true --version` prints "true (GNU coreutils) 9.1": a real ELF binary.
        std::fs::copy("/bin/true", bin.join("coreutil")).unwrap();
        let script = bin.join("shim");
        std::fs::write(&script, "#!/bin/sh\necho 'shim 2.5.0'\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let req = |name: &str, range: &str| Requirement {
            name: name.into(),
            range: semver::VersionReq::parse(range).unwrap(),
            raw: range.into(),
        };
        let reqs = [req("coreutil", ">=1"), req("shim", ">=2")];
        let cache = dir.path().join("versions.json");
        let path = OsString::from(&bin);
        assert!(check_cached(&reqs, Some(&path), dir.path(), Some(&cache)).is_empty());
        let mut kept: VersionCache = crate::state::read_json(&cache);
        assert_eq!(
            kept.versions.len(),
            1,
            "only the binary is cached: {kept:?}"
        );
        // Proof the cached answer is used without running the binary: make
        // the cache say something the binary never would.
        for v in kept.versions.values_mut() {
            v.version = "0.1.0".into();
        }
        crate::state::write_json(&cache, &kept).unwrap();
        let unmet = check_cached(&reqs, Some(&path), dir.path(), Some(&cache));
        assert_eq!(unmet.len(), 1);
        assert!(unmet[0].to_string().contains("0.1.0"), "{}", unmet[0]);
    }

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
