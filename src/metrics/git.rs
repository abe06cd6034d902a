//! What the user's own `git` knows about this clone: when it was cloned,
//! who the local user is, and their first commit after the clone.
//!
//! The reflog is read as a file (no subprocess) because it is asked on every
//! run until known; `git` itself runs only for identity and history, and
//! only while the timeline is incomplete.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};

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

    /// The time of the reflog's `clone: from` entry, if the reflog still has it.
    pub fn cloned_at(&self) -> Option<DateTime<Utc>> {
        let text = std::fs::read_to_string(self.common_dir.join("logs/HEAD")).ok()?;
        // The clone entry is the first line; a reflog that was expired or
        // rewritten may have lost it, and then nothing else can stand in.
        text.lines().take(1).find_map(parse_clone_entry)
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

    /// The email after `.mailmap`, so a remapped identity still matches.
    fn canonical_email(&self, email: &str) -> String {
        // `mailmap.file`/`mailmap.blob` are rare; the repository's own
        // .mailmap is the common case, and without one there is nothing to map.
        if !self.top.join(".mailmap").is_file() {
            return email.to_string();
        }
        self.output(&["check-mailmap", &format!("<{email}>")])
            .and_then(|line| {
                let start = line.rfind('<')?;
                let end = line.rfind('>')?;
                (start < end).then(|| line[start + 1..end].to_string())
            })
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| email.to_string())
    }

    /// The author date of the first commit by `email` (after `.mailmap`)
    /// dated at or after `since`, on any local branch or HEAD.
    pub fn first_commit_by(&self, email: &str, since: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Commit dates have whole seconds; a clone time from the journal has
        // milliseconds, and a commit in that same second is after it.
        let since = chrono::SubsecRound::trunc_subsecs(since, 0);
        let canonical = self.canonical_email(email);
        let author = format!("<{}>", escape_bre(&canonical));
        let since_arg = format!("--since={}", since.to_rfc3339());
        let author_arg = format!("--author={author}");
        let text = self.output(&[
            "log",
            "--branches",
            "HEAD",
            "--use-mailmap",
            "--basic-regexp",
            "--regexp-ignore-case",
            &author_arg,
            &since_arg,
            "--format=%aI%x09%aE",
        ])?;
        text.lines()
            .filter_map(|l| {
                let (date, mail) = l.split_once('\t')?;
                let date: DateTime<Utc> = DateTime::parse_from_rfc3339(date).ok()?.into();
                (mail.eq_ignore_ascii_case(&canonical) && date >= since).then_some(date)
            })
            .min()
    }

    /// Where git runs hooks for this clone (honours `core.hooksPath`).
    pub fn hooks_dir(&self) -> Option<PathBuf> {
        let p = self.output(&["rev-parse", "--git-path", "hooks"])?;
        let p = PathBuf::from(p);
        Some(if p.is_absolute() { p } else { self.top.join(p) })
    }
}

/// `<old> <new> Name <email> <unix-seconds> <tz>\tclone: from <url>`
fn parse_clone_entry(line: &str) -> Option<DateTime<Utc>> {
    let (head, message) = line.split_once('\t')?;
    if !message.starts_with("clone: from ") {
        return None;
    }
    let after_email = &head[head.rfind('>')? + 1..];
    let secs: i64 = after_email.split_whitespace().next()?.parse().ok()?;
    DateTime::from_timestamp(secs, 0)
}

/// Escapes what a POSIX basic regular expression treats as special, so an
/// email like `a.b*c@x.io` matches only itself (`--basic-regexp` is passed
/// so the user's `grep.patternType` cannot change the meaning).
pub fn escape_bre(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if matches!(c, '\\' | '.' | '[' | ']' | '*' | '^' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clone_entry_gives_the_clone_time() {
        let line = "0000000000000000000000000000000000000000 1234567890abcdef1234567890abcdef12345678 Ann Lee <ann@x.io> 1763800000 +0100\tclone: from /tmp/origin.git";
        assert_eq!(parse_clone_entry(line).unwrap().timestamp(), 1_763_800_000);
        let commit = line.replace("clone: from /tmp/origin.git", "commit (initial): x");
        assert_eq!(parse_clone_entry(&commit), None);
    }

    #[test]
    fn regex_metacharacters_in_emails_are_escaped() {
        assert_eq!(escape_bre("a.b*c+d@x.io"), "a\\.b\\*c+d@x\\.io");
        assert_eq!(escape_bre("[x]^$\\"), "\\[x\\]\\^\\$\\\\");
    }
}
