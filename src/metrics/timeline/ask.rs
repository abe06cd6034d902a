//! Filling in the steps git can tell, asking `git` itself as little as
//! possible: a run while a step is unknown must stay cheap.
//!
//! Every step first looks at the files git writes (`refs.rs`): the clone
//! and a push are read from reflogs and never start git. The first commit
//! and the first merge need history, so git is asked only when the files
//! say something moved since the last look (the local reflogs grew, the
//! upstream branch points elsewhere), and `GitCalls` bounds how many calls
//! one refresh may make.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ClonedFrom, Timeline};
use crate::metrics::git::{self, Commit, Repo};
use crate::metrics::refs;

/// How many times one refresh may start git.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitCalls {
    /// Any command's glance and the run recording of `up`: a step found a
    /// command later is fine, a slow `up` is not.
    AtMostOne,
    /// `devenv metrics`, `report` and the hooks: what they show or send
    /// must be current.
    AsNeeded,
}

/// What git's files looked like when git was last asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Total size of the local reflogs when local history was last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<u64>,
    /// The upstream branch's commit when its history was last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// `git config user.email`, kept on this machine so each history
    /// question is one call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The size of the local reflogs when the email was asked: it is asked
    /// again only after something happened here and a commit made here
    /// carries another address (the user changed theirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_at: Option<u64>,
}

impl Seen {
    pub fn is_empty(&self) -> bool {
        *self == Seen::default()
    }
}

/// One refresh's git calls so far, against its allowance.
struct Budget {
    calls: GitCalls,
    used: u32,
}

impl Budget {
    fn take(&mut self) -> bool {
        if self.calls == GitCalls::AtMostOne && self.used >= 1 {
            return false;
        }
        self.used += 1;
        true
    }
}

/// The user's email: the kept one while commits made here still carry it.
fn email(
    seen: &mut Seen,
    repo: &Repo,
    local: &refs::LocalLogs,
    budget: &mut Budget,
) -> Option<String> {
    let asked_since_last_change = seen.email_at == Some(local.size);
    match &seen.email {
        Some(e)
            if asked_since_last_change
                || local
                    .newest_email
                    .as_deref()
                    .is_none_or(|n| n.eq_ignore_ascii_case(e)) =>
        {
            return Some(e.clone())
        }
        None if asked_since_last_change => return None,
        _ => {}
    }
    if !budget.take() {
        return None;
    }
    seen.email = repo.user_email();
    seen.email_at = Some(local.size);
    seen.email.clone()
}

fn earliest(
    commits: &[Commit],
    email: &str,
    since: DateTime<Utc>,
    at: fn(&Commit) -> DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let since = chrono::SubsecRound::trunc_subsecs(since, 0);
    git::mine(commits, email)
        .into_iter()
        .map(at)
        .filter(|t| *t >= since)
        .min()
}

pub(super) fn ask_git(t: &mut Timeline, repo: Option<&Repo>, calls: GitCalls) {
    if t.cloned_at.is_none() || t.cloned_from == Some(ClonedFrom::FirstRun) {
        if let Some(at) = repo.and_then(Repo::cloned_at) {
            t.cloned_at = Some(at);
            t.cloned_from = Some(ClonedFrom::Reflog);
        } else if let Some(first) = t.first_run_at {
            t.cloned_at = Some(first);
            t.cloned_from = Some(ClonedFrom::FirstRun);
        }
    }
    let (Some(repo), Some(since)) = (repo, t.cloned_at) else {
        return;
    };
    let mut budget = Budget { calls, used: 0 };
    let local = refs::local_logs(&repo.common_dir);
    if t.first_commit_at.is_none() {
        first_commit(t, repo, since, &local, &mut budget);
    }
    if t.first_push_at.is_none() {
        t.first_push_at = refs::first_push_since(&repo.common_dir, since);
    }
    if t.first_merged_at.is_none() {
        first_merge(t, repo, since, &local, &mut budget);
    }
    // Nothing needed git this time: learn the email now, so the run after
    // a commit or a fetch needs one call, not two.
    let unknown = t.first_commit_at.is_none() || t.first_merged_at.is_none();
    if unknown && budget.used == 0 && t.seen.email.is_none() {
        let _ = email(&mut t.seen, repo, &local, &mut budget);
    }
}

fn first_commit(
    t: &mut Timeline,
    repo: &Repo,
    since: DateTime<Utc>,
    local: &refs::LocalLogs,
    budget: &mut Budget,
) {
    // No reflogs at all (core.logAllRefUpdates off): nothing to go by, ask.
    let moved = local.size == 0 || t.seen.local != Some(local.size);
    if !moved {
        return;
    }
    if local.only_clone {
        // Nothing happened here since the clone: no commit to look for.
        t.seen.local = Some(local.size);
        return;
    }
    let Some(email) = email(&mut t.seen, repo, local, budget) else {
        return;
    };
    if !budget.take() {
        return;
    }
    if let Some(commits) = repo.commits(&["--branches", "HEAD"], since) {
        t.first_commit_at = earliest(&commits, &email, since, |c| c.authored);
        t.seen.local = Some(local.size);
    }
}

fn first_merge(
    t: &mut Timeline,
    repo: &Repo,
    since: DateTime<Utc>,
    local: &refs::LocalLogs,
    budget: &mut Budget,
) {
    let Some(tip) = refs::upstream_tip(&repo.common_dir) else {
        return;
    };
    if t.seen.upstream.as_deref() == Some(tip.as_str()) {
        return;
    }
    // Still what the clone checked out: everything on it predates the clone.
    if repo.clone_entry().is_some_and(|e| e.new == tip) {
        t.seen.upstream = Some(tip);
        return;
    }
    let Some(email) = email(&mut t.seen, repo, local, budget) else {
        return;
    };
    if !budget.take() {
        return;
    }
    if let Some(commits) = repo.commits(&[&tip], since) {
        t.first_merged_at = earliest(&commits, &email, since, |c| c.committed);
        t.seen.upstream = Some(tip);
    }
}
