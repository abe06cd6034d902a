//! The optional git hooks that record onboarding steps right away: a
//! post-commit hook (the first commit) and a pre-push hook (the first push).
//!
//! They must never block or fail a commit or a push: devenv runs in the
//! background with its output discarded, under `timeout` when available,
//! and every failure is swallowed. A hook that was already there keeps
//! running: it is moved aside and called first, with its exit status passed
//! on (for pre-push, that status still decides whether the push goes ahead).

use std::path::{Path, PathBuf};

use super::git::Repo;

pub const MARKER: &str = "# devenv-metrics-hook v1";

/// The git hooks devenv installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitHook {
    PostCommit,
    PrePush,
}

impl GitHook {
    pub const ALL: [GitHook; 2] = [GitHook::PostCommit, GitHook::PrePush];

    pub fn name(self) -> &'static str {
        match self {
            GitHook::PostCommit => "post-commit",
            GitHook::PrePush => "pre-push",
        }
    }

    /// Where a hook that was there before ours is kept.
    fn chained(self) -> String {
        format!("{}.pre-devenv", self.name())
    }
}

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
pub enum How {
    New,
    /// An existing hook was kept (at this path) and is chained before ours.
    Chained(PathBuf),
    /// Ours was there already; rewritten with the current binary's path.
    Updated,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Installed {
    pub hook: GitHook,
    pub path: PathBuf,
    pub how: How,
}

fn quote(p: &Path) -> String {
    crate::util::single_quote(&p.to_string_lossy())
}

pub fn script(hook: GitHook, exe: &Path, manifest: &Path) -> String {
    let exe = quote(exe);
    let manifest = quote(manifest);
    let chained = hook.chained();
    let run = format!(
        "DEVENV_METRICS_HOOK={} $t {exe} -q -f {manifest} metrics --json",
        hook.name()
    );
    let (what, background) = match hook {
        GitHook::PostCommit => (
            "your first commit",
            format!("\t( {run} || true ) </dev/null >/dev/null 2>&1 &\n"),
        ),
        // The push is not done when this runs: git writes it into the
        // remote-tracking reflog only once the remote took it. So wait, in
        // the background, for the git that runs this hook to finish.
        GitHook::PrePush => (
            "your first push",
            format!(
                "\tgit_pid=$PPID\n\
                 \t(\n\
                 \t\ti=0\n\
                 \t\twhile kill -0 \"$git_pid\" 2>/dev/null && [ \"$i\" -lt 3000 ]; do\n\
                 \t\t\tsleep 0.2 2>/dev/null || sleep 1\n\
                 \t\t\ti=$((i + 1))\n\
                 \t\tdone\n\
                 \t\t{run} || true\n\
                 \t) </dev/null >/dev/null 2>&1 &\n"
            ),
        ),
    };
    // A push the user's own hook refused is not worth a devenv run.
    let only_if_ok = match hook {
        GitHook::PostCommit => "",
        GitHook::PrePush => "[ \"$status\" = 0 ] && ",
    };
    format!(
        r#"#!/bin/sh
{MARKER}
# Installed by `devenv metrics --install-hook`: records {what} in devenv's
# onboarding timeline (and, with [metrics] auto_report, sends it). It runs in
# the background and can never block or fail a {verb}. Delete this file to stop.
hooks_dir=$(dirname "$0")
status=0
if [ -x "$hooks_dir/{chained}" ]; then
	"$hooks_dir/{chained}" "$@" || status=$?
fi
# devenv itself honours DEVENV_NO_METRICS and DO_NOT_TRACK.
if {only_if_ok}[ -x {exe} ]; then
	t=""
	command -v timeout >/dev/null 2>&1 && t="timeout 20"
{background}fi
exit $status
"#,
        verb = match hook {
            GitHook::PostCommit => "commit",
            GitHook::PrePush => "push",
        },
    )
}

/// What installing one hook will do, decided before anything is written.
struct Plan {
    hook: GitHook,
    path: PathBuf,
    how: How,
}

fn plan(dir: &Path, hook: GitHook) -> Result<Plan, HookError> {
    let path = dir.join(hook.name());
    let kept = dir.join(hook.chained());
    let existing = std::fs::read_to_string(&path).ok();
    let how = match &existing {
        Some(text) if text.contains(MARKER) => How::Updated,
        // Someone else's hook (text or binary): keep it and call it first.
        _ if path.exists() => {
            if kept.exists() {
                return Err(HookError::ChainTaken(kept));
            }
            How::Chained(kept)
        }
        _ => How::New,
    };
    Ok(Plan { hook, path, how })
}

/// Installs (or refreshes) both hooks in the clone containing `start`.
/// Every hook is checked before any is written, so a refusal changes nothing.
pub fn install(start: &Path, exe: &Path, manifest: &Path) -> Result<Vec<Installed>, HookError> {
    let repo = Repo::find(start).ok_or(HookError::NotARepo)?;
    let dir = repo
        .hooks_dir()
        .unwrap_or_else(|| repo.common_dir.join("hooks"));
    if dir.starts_with(&repo.top) && !dir.starts_with(&repo.common_dir) {
        return Err(HookError::SharedHooksDir(dir));
    }
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HookError::Write { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(err(&dir))?;
    let plans = GitHook::ALL
        .iter()
        .map(|h| plan(&dir, *h))
        .collect::<Result<Vec<_>, _>>()?;
    let mut done = Vec::new();
    for p in plans {
        if let How::Chained(kept) = &p.how {
            std::fs::rename(&p.path, kept).map_err(err(kept))?;
        }
        let text = script(p.hook, exe, manifest);
        crate::state::write_atomic(&p.path, text.as_bytes()).map_err(err(&p.path))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p.path, std::fs::Permissions::from_mode(0o755))
                .map_err(err(&p.path))?;
        }
        done.push(Installed {
            hook: p.hook,
            path: p.path,
            how: p.how,
        });
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_quotes_are_quoted_for_sh() {
        assert_eq!(quote(Path::new("/a b/it's")), "'/a b/it'\\''s'");
    }

    #[test]
    fn both_scripts_are_valid_sh_and_the_push_hook_waits_for_git() {
        for hook in GitHook::ALL {
            let text = script(hook, Path::new("/bin/devenv"), Path::new("/r/devenv.toml"));
            let out = std::process::Command::new("sh")
                .args(["-n", "-c", &text])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{hook:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(text.contains(&format!("DEVENV_METRICS_HOOK={}", hook.name())));
        }
        let push = script(
            GitHook::PrePush,
            Path::new("/bin/devenv"),
            Path::new("/r/devenv.toml"),
        );
        assert!(push.contains("kill -0 \"$git_pid\""), "{push}");
        assert!(push.contains("exit $status"));
    }
}
