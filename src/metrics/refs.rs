//! What the files git writes say, read without starting git: reflog
//! entries (the clone, pushes, local commits) and where a ref points.
//!
//! The timeline looks here on every run while a step is unknown, so this
//! must stay a handful of small file reads. Starting `git` costs a
//! millisecond or more; these cost microseconds.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// One reflog line: `<old> <new> Name <email> <unix-seconds> <tz>\t<message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub new: String,
    pub email: String,
    pub at: DateTime<Utc>,
    pub message: String,
}

pub fn parse_entry(line: &str) -> Option<Entry> {
    let (head, message) = line.split_once('\t')?;
    let mut fields = head.splitn(3, ' ');
    let (_old, new, rest) = (fields.next()?, fields.next()?, fields.next()?);
    let (open, close) = (rest.rfind('<')?, rest.rfind('>')?);
    let email = rest.get(open + 1..close)?.to_string();
    let secs: i64 = rest[close + 1..].split_whitespace().next()?.parse().ok()?;
    Some(Entry {
        new: new.to_string(),
        email,
        at: DateTime::from_timestamp(secs, 0)?,
        message: message.trim_end().to_string(),
    })
}

pub fn is_clone(e: &Entry) -> bool {
    e.message.starts_with("clone: from ")
}

/// Every file below `dir`, depth first; reflogs of refs with slashes in
/// their names (`origin/feature/x`) live in subdirectories.
fn files_below(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        match e.file_type() {
            Ok(t) if t.is_dir() => files_below(&e.path(), out),
            Ok(t) if t.is_file() => out.push(e.path()),
            _ => {}
        }
    }
}

/// The reflogs a local commit lands in: HEAD's and every local branch's
/// (a commit in a linked worktree moves only its branch's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalLogs {
    /// Their total size: it grows with every commit, checkout and pull.
    pub size: u64,
    /// Nothing but the entries `git clone` wrote: no commit was made here.
    pub only_clone: bool,
    /// Who made the newest change to HEAD: the identity git commits with here.
    pub newest_email: Option<String>,
}

pub fn local_logs(common_dir: &Path) -> LocalLogs {
    let logs = common_dir.join("logs");
    let mut files = vec![logs.join("HEAD")];
    files_below(&logs.join("refs/heads"), &mut files);
    let mut out = LocalLogs {
        only_clone: true,
        ..LocalLogs::default()
    };
    for (i, path) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        out.size += text.len() as u64;
        let mut lines = text.lines().filter(|l| !l.is_empty());
        let first = lines.next().and_then(parse_entry);
        let more = lines.next_back();
        out.only_clone &= first.as_ref().is_some_and(is_clone) && more.is_none();
        if i == 0 {
            out.newest_email = more
                .and_then(parse_entry)
                .or(first)
                .map(|e| e.email)
                .filter(|e| !e.is_empty());
        }
    }
    out.only_clone &= out.size > 0;
    out
}

/// The earliest successful push from this clone at or after `since`: git
/// writes `update by push` into the remote-tracking branch's reflog only
/// once the remote took it.
pub fn first_push_since(common_dir: &Path, since: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let since = chrono::SubsecRound::trunc_subsecs(since, 0);
    let mut files = Vec::new();
    files_below(&common_dir.join("logs/refs/remotes"), &mut files);
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(parse_entry)
                .filter(|e| e.message == "update by push" && e.at >= since)
                .map(|e| e.at)
                .collect::<Vec<_>>()
        })
        .min()
}

/// Where `name` (`refs/remotes/origin/HEAD`) points, following symbolic
/// refs: a loose ref file, else `packed-refs`.
pub fn resolve(common_dir: &Path, name: &str) -> Option<String> {
    let mut name = name.to_string();
    // A symref chain longer than this is a loop.
    for _ in 0..5 {
        match std::fs::read_to_string(common_dir.join(&name)) {
            Ok(text) => {
                let text = text.trim();
                match text.strip_prefix("ref: ") {
                    Some(target) => name = target.trim().to_string(),
                    None => return is_sha(text).then(|| text.to_string()),
                }
            }
            Err(_) => return packed(common_dir, &name),
        }
    }
    None
}

fn packed(common_dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(common_dir.join("packed-refs")).ok()?;
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
        .find_map(|l| {
            let (sha, r) = l.split_once(' ')?;
            (r.trim() == name && is_sha(sha)).then(|| sha.to_string())
        })
}

fn is_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The commit at the tip of the upstream default branch: `origin/HEAD`
/// (what the clone took as default), else `origin/main`, else `origin/master`.
pub fn upstream_tip(common_dir: &Path) -> Option<String> {
    ["HEAD", "main", "master"]
        .iter()
        .find_map(|b| resolve(common_dir, &format!("refs/remotes/origin/{b}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "1234567890abcdef1234567890abcdef12345678";

    fn line(email: &str, secs: i64, message: &str) -> String {
        format!(
            "{} {SHA} Ann <{email}> {secs} +0100\t{message}\n",
            "0".repeat(40)
        )
    }

    #[test]
    fn a_reflog_line_gives_the_time_the_identity_and_what_happened() {
        let e = parse_entry(&line("ann@x.io", 1_763_800_000, "clone: from /tmp/o.git")).unwrap();
        assert_eq!(e.at.timestamp(), 1_763_800_000);
        assert_eq!(e.email, "ann@x.io");
        assert_eq!(e.new, SHA);
        assert!(is_clone(&e));
        assert_eq!(parse_entry("garbage"), None);
    }

    #[test]
    fn only_a_successful_push_after_the_clone_counts() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs/refs/remotes/origin/feature");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(
            dir.path().join("logs/refs/remotes/origin/main"),
            line("a@x.io", 100, "fetch: fast-forward") + &line("a@x.io", 150, "update by push"),
        )
        .unwrap();
        std::fs::write(logs.join("x"), line("a@x.io", 300, "update by push")).unwrap();
        let since = DateTime::from_timestamp(120, 0).unwrap();
        assert_eq!(
            first_push_since(dir.path(), since).unwrap().timestamp(),
            150
        );
        let later = DateTime::from_timestamp(200, 0).unwrap();
        assert_eq!(
            first_push_since(dir.path(), later).unwrap().timestamp(),
            300
        );
    }

    #[test]
    fn the_upstream_tip_follows_origin_head_into_packed_refs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("refs/remotes/origin")).unwrap();
        std::fs::write(
            d.join("refs/remotes/origin/HEAD"),
            "ref: refs/remotes/origin/trunk\n",
        )
        .unwrap();
        std::fs::write(
            d.join("packed-refs"),
            format!("# pack-refs with: peeled\n{SHA} refs/remotes/origin/trunk\n"),
        )
        .unwrap();
        assert_eq!(upstream_tip(d).as_deref(), Some(SHA));
        // A loose ref wins over the packed one, as in git.
        let newer = "abcdef1234567890abcdef1234567890abcdef12";
        std::fs::write(d.join("refs/remotes/origin/trunk"), format!("{newer}\n")).unwrap();
        assert_eq!(upstream_tip(d).as_deref(), Some(newer));
    }

    #[test]
    fn a_fresh_clone_has_only_clone_entries_and_a_commit_changes_that() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("logs/refs/heads")).unwrap();
        let clone = line("test@x.io", 100, "clone: from /tmp/o.git");
        std::fs::write(d.join("logs/HEAD"), &clone).unwrap();
        std::fs::write(d.join("logs/refs/heads/main"), &clone).unwrap();
        let fresh = local_logs(d);
        assert!(fresh.only_clone);
        assert_eq!(fresh.newest_email.as_deref(), Some("test@x.io"));
        std::fs::write(
            d.join("logs/refs/heads/main"),
            clone.clone() + &line("ann@x.io", 200, "commit: first"),
        )
        .unwrap();
        let after = local_logs(d);
        assert!(!after.only_clone);
        assert!(after.size > fresh.size);
        assert!(!local_logs(&d.join("nowhere")).only_clone);
    }
}
