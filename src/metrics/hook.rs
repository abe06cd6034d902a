//! The optional post-commit hook that records the first commit right away.
//!
//! It must never block or fail a commit: devenv runs in the background with
//! its output discarded, under `timeout` when available, and every failure
//! is swallowed. A hook that was already there keeps running: it is moved
//! aside and called first, with its exit status passed on.

use std::path::{Path, PathBuf};

use super::git::Repo;

pub const MARKER: &str = "# devenv-metrics-hook v1";
const CHAINED: &str = "post-commit.pre-devenv";

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("this directory is not inside a git clone")]
    NotARepo,
    /// `core.hooksPath` points at a directory tracked in the repository
    /// (e.g. husky's): writing there would change the team's files.
    #[error("git runs hooks from {0}, a directory inside the repository")]
    SharedHooksDir(PathBuf),
    /// Our hook was replaced and an older chained hook is still there.
    #[error("{0} already exists; installing would overwrite it")]
    ChainTaken(PathBuf),
    #[error("cannot write the hook {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    New(PathBuf),
    /// An existing hook was kept and is chained before ours.
    Chained {
        hook: PathBuf,
        kept: PathBuf,
    },
    /// Ours was there already; rewritten with the current binary's path.
    Updated(PathBuf),
}

fn quote(p: &Path) -> String {
    crate::util::single_quote(&p.to_string_lossy())
}

pub fn script(exe: &Path, manifest: &Path) -> String {
    let exe = quote(exe);
    let manifest = quote(manifest);
    format!(
        r#"#!/bin/sh
{MARKER}
# Installed by `devenv metrics --install-hook`: records your first commit in
# devenv's onboarding timeline (and, with [metrics] auto_report, sends it). It runs in the
# background and can never block or fail a commit. Delete this file to stop.
hooks_dir=$(dirname "$0")
status=0
if [ -x "$hooks_dir/{CHAINED}" ]; then
	"$hooks_dir/{CHAINED}" "$@" || status=$?
fi
# devenv itself honours DEVENV_NO_METRICS and DO_NOT_TRACK.
if [ -x {exe} ]; then
	t=""
	command -v timeout >/dev/null 2>&1 && t="timeout 20"
	( DEVENV_METRICS_HOOK=1 $t {exe} -q -f {manifest} metrics --json || true ) </dev/null >/dev/null 2>&1 &
fi
exit $status
"#
    )
}

/// Installs (or refreshes) the hook in the clone containing `start`.
pub fn install(start: &Path, exe: &Path, manifest: &Path) -> Result<Installed, HookError> {
    let repo = Repo::find(start).ok_or(HookError::NotARepo)?;
    let dir = repo
        .hooks_dir()
        .unwrap_or_else(|| repo.common_dir.join("hooks"));
    if dir.starts_with(&repo.top) && !dir.starts_with(&repo.common_dir) {
        return Err(HookError::SharedHooksDir(dir));
    }
    let hook = dir.join("post-commit");
    let kept = dir.join(CHAINED);
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HookError::Write { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(err(&dir))?;
    let existing = std::fs::read_to_string(&hook).ok();
    let result = match &existing {
        Some(text) if text.contains(MARKER) => Installed::Updated(hook.clone()),
        // Someone else's hook (text or binary): keep it and call it first.
        _ if hook.exists() => {
            if kept.exists() {
                return Err(HookError::ChainTaken(kept));
            }
            std::fs::rename(&hook, &kept).map_err(err(&kept))?;
            Installed::Chained {
                hook: hook.clone(),
                kept,
            }
        }
        _ => Installed::New(hook.clone()),
    };
    crate::state::write_atomic(&hook, script(exe, manifest).as_bytes()).map_err(err(&hook))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .map_err(err(&hook))?;
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_quotes_are_quoted_for_sh() {
        assert_eq!(quote(Path::new("/a b/it's")), "'/a b/it'\\''s'");
    }
}
