//! What the user's own `git` knows about this clone: who the local user is,
//! and the commits since the clone on a set of refs.
//!
//! Whatever can be read from git's files (the clone, pushes, where a ref
//! points) is read in `refs.rs` without a subprocess; `git` itself runs only
//! for identity and history, and only while a step of the timeline is
//! unknown and those files say something moved.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};

use super::refs::{self, Entry};

/// The clone's git directory, found by walking up from `start` (the
/// manifest's directory may be a subdirectory of the repository).
#[derive(Debug, Clone)]
pub struct Repo {
    /// The working tree root.
    pub top: PathBuf,
    /// Where `logs/HEAD` of the main worktree lives.
    pub common_dir: PathBuf,
}

impl Repo {
    pub fn find(start: &Path) -> Option<Repo> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let dotgit = d.join(".git");
            if dotgit.is_dir() {
                return Some(Repo {
                    top: d.to_path_buf(),
                    common_dir: dotgit,
                });
            }
            if dotgit.is_file() {
                // A linked worktree or submodule: `gitdir: <path>`.
                let text = std::fs::read_to_string(&dotgit).ok()?;
                let gitdir = text.strip_prefix("gitdir:")?.trim();
                let gitdir = d.join(gitdir);
                let common = std::fs::read_to_string(gitdir.join("commondir"))
                    .map(|c| gitdir.join(c.trim()))
                    .unwrap_or(gitdir);
                return Some(Repo {
                    top: d.to_path_buf(),
                    common_dir: common,
                });
            }
            dir = d.parent();
        }
        None
    }

    /// The reflog's `clone: from` entry, if the reflog still has it.
    pub fn clone_entry(&self) -> Option<Entry> {
        let text = std::fs::read_to_string(self.common_dir.join("logs/HEAD")).ok()?;
        // The clone entry is the first line; a reflog that was expired or
        // rewritten may have lost it, and then nothing else can stand in.
        text.lines()
            .next()
            .and_then(refs::parse_entry)
            .filter(refs::is_clone)
    }

    pub fn cloned_at(&self) -> Option<DateTime<Utc>> {
        self.clone_entry().map(|e| e.at)
    }

    fn git(&self) -> Command {
        let mut c = Command::new("git");
        c.arg("-C")
            .arg(&self.top)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    fn output(&self, args: &[&str]) -> Option<String> {
        let out = self.git().args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// `user.email` as git would use it for a commit here.
    pub fn user_email(&self) -> Option<String> {
        self.output(&["config", "user.email"])
            .filter(|e| !e.is_empty())
    }

    /// The commits reachable from `revs` and dated at or after `since`, in
    /// one `git log`: who wrote them (as written and after `.mailmap`) and
    /// when they were authored and committed. Matching the user happens
    /// here, not in git's `--author`, so no second call maps their email.
    pub fn commits(&self, revs: &[&str], since: DateTime<Utc>) -> Option<Vec<Commit>> {
        // Commit dates have whole seconds; a clone time from the journal has
        // milliseconds, and a commit in that same second is after it.
        let since = chrono::SubsecRound::trunc_subsecs(since, 0);
        let since_arg = format!("--since={}", since.to_rfc3339());
        let mut args = vec!["log", &since_arg, "--format=%ae%x09%aE%x09%aI%x09%cI"];
        args.extend_from_slice(revs);
        args.push("--");
        let text = self.output(&args)?;
        Some(text.lines().filter_map(Commit::parse).collect())
    }

    /// Where git runs hooks for this clone (honours `core.hooksPath`).
    pub fn hooks_dir(&self) -> Option<PathBuf> {
        let p = self.output(&["rev-parse", "--git-path", "hooks"])?;
        let p = PathBuf::from(p);
        Some(if p.is_absolute() { p } else { self.top.join(p) })
    }
}

/// One commit as `Repo::commits` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The author's email as written in the commit.
    pub email: String,
    /// The same after `.mailmap`.
    pub mapped: String,
    pub authored: DateTime<Utc>,
    pub committed: DateTime<Utc>,
}

impl Commit {
    fn parse(line: &str) -> Option<Commit> {
        let mut f = line.split('\t');
        let (email, mapped, a, c) = (f.next()?, f.next()?, f.next()?, f.next()?);
        let date = |d: &str| -> Option<DateTime<Utc>> {
            Some(DateTime::parse_from_rfc3339(d).ok()?.into())
        };
        Some(Commit {
            email: email.to_string(),
            mapped: mapped.to_string(),
            authored: date(a)?,
            committed: date(c)?,
        })
    }
}

/// The commits of the user with `email`, case-insensitive, after `.mailmap`:
/// their own address, an old address the mailmap gives theirs, or any
/// address mapped to the same person as theirs.
pub fn mine<'a>(commits: &'a [Commit], email: &str) -> Vec<&'a Commit> {
    let canonical = commits
        .iter()
        .find(|c| c.email.eq_ignore_ascii_case(email))
        .map(|c| c.mapped.as_str());
    commits
        .iter()
        .filter(|c| {
            c.email.eq_ignore_ascii_case(email)
                || c.mapped.eq_ignore_ascii_case(email)
                || canonical.is_some_and(|m| c.mapped.eq_ignore_ascii_case(m))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(email: &str, mapped: &str) -> Commit {
        let at = "2026-03-01T10:00:00Z".parse().unwrap();
        Commit {
            email: email.into(),
            mapped: mapped.into(),
            authored: at,
            committed: at,
        }
    }

    #[test]
    fn log_lines_give_both_emails_and_both_dates() {
        let c = Commit::parse("a@x.io\tb@x.io\t2026-03-01T10:00:00+01:00\t2026-03-02T10:00:00Z")
            .unwrap();
        assert_eq!((c.email.as_str(), c.mapped.as_str()), ("a@x.io", "b@x.io"));
        assert_eq!(c.authored.to_rfc3339(), "2026-03-01T09:00:00+00:00");
        assert!(c.committed > c.authored);
    }

    #[test]
    fn mine_means_my_address_or_one_the_mailmap_gives_to_me() {
        let commits = [
            commit("ann@x.io", "ann@x.io"),
            commit("ANN.old@x.io", "ann@x.io"),
            commit("aXnn@x.io", "aXnn@x.io"),
            commit("boss@corp.io", "boss@corp.io"),
        ];
        assert_eq!(mine(&commits, "Ann@X.io").len(), 2);
        // My own address is mapped to a canonical one: its other aliases count.
        let mapped = [
            commit("new@x.io", "ann@corp.io"),
            commit("old@x.io", "ann@corp.io"),
        ];
        assert_eq!(mine(&mapped, "new@x.io").len(), 2);
        assert!(mine(&commits, "a.nn@x.io").is_empty());
    }
}
