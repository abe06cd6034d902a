//! The onboarding timeline of a clone: cloned -> first `up` -> first time
//! fully ready -> first commit by the local user.
//!
//! Kept in `timeline.json` beside the journal so a run only touches git
//! while something is still unknown; once the first commit is known, a run
//! costs one small file read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::git::Repo;
use super::journal::Journal;
use super::run::{Run, RunKind};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClonedFrom {
    /// The reflog's `clone: from` entry.
    #[default]
    Reflog,
    /// No reflog entry: the first devenv run recorded in this clone.
    FirstRun,
}

/// What is known so far (the cache file's content).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub cloned_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cloned_from: Option<ClonedFrom>,
    pub first_run_at: Option<DateTime<Utc>>,
    pub first_up_started_at: Option<DateTime<Utc>>,
    pub first_ready_at: Option<DateTime<Utc>>,
    pub first_commit_at: Option<DateTime<Utc>>,
}

/// The timeline as `metrics --json` and the reports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Onboarding {
    pub cloned_at: Option<String>,
    pub first_up_started_at: Option<String>,
    pub first_ready_at: Option<String>,
    pub first_commit_at: Option<String>,
    pub setup_seconds: Option<f64>,
    pub time_to_first_commit_seconds: Option<f64>,
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn seconds_between(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<f64> {
    let (a, b) = (a?, b?);
    Some(((b - a).num_milliseconds() as f64 / 1000.0).max(0.0))
}

impl Timeline {
    pub fn setup_seconds(&self) -> Option<f64> {
        seconds_between(self.cloned_at, self.first_ready_at)
    }

    pub fn time_to_first_commit_seconds(&self) -> Option<f64> {
        seconds_between(self.cloned_at, self.first_commit_at)
    }

    pub fn onboarding(&self) -> Onboarding {
        Onboarding {
            cloned_at: self.cloned_at.map(rfc3339),
            first_up_started_at: self.first_up_started_at.map(rfc3339),
            first_ready_at: self.first_ready_at.map(rfc3339),
            first_commit_at: self.first_commit_at.map(rfc3339),
            setup_seconds: self.setup_seconds(),
            time_to_first_commit_seconds: self.time_to_first_commit_seconds(),
        }
    }

    /// A stable fingerprint, to tell whether an endpoint has seen this one.
    pub fn fingerprint(&self) -> String {
        let o = serde_json::to_vec(&self.onboarding()).unwrap_or_default();
        crate::util::sha256_hex(&o)[..16].to_string()
    }

    fn is_complete(&self) -> bool {
        self.cloned_at.is_some() && self.first_commit_at.is_some()
    }

    /// Folds one recorded run in.
    pub fn observe(&mut self, run: &Run) {
        if self.first_run_at.is_none_or(|t| run.started_at < t) {
            self.first_run_at = Some(run.started_at);
        }
        if run.kind == RunKind::Up && self.first_up_started_at.is_none_or(|t| run.started_at < t) {
            self.first_up_started_at = Some(run.started_at);
        }
        if run.is_full_ready() && self.first_ready_at.is_none_or(|t| run.finished_at < t) {
            self.first_ready_at = Some(run.finished_at);
        }
    }

    /// Fills in what git can tell, touching git only for what is unknown.
    fn ask_git(&mut self, repo: Option<&Repo>) {
        if self.cloned_at.is_none() || self.cloned_from == Some(ClonedFrom::FirstRun) {
            if let Some(t) = repo.and_then(Repo::cloned_at) {
                self.cloned_at = Some(t);
                self.cloned_from = Some(ClonedFrom::Reflog);
            } else if let Some(first) = self.first_run_at {
                self.cloned_at = Some(first);
                self.cloned_from = Some(ClonedFrom::FirstRun);
            }
        }
        if self.first_commit_at.is_none() {
            if let (Some(repo), Some(since)) = (repo, self.cloned_at) {
                if let Some(email) = repo.user_email() {
                    self.first_commit_at = repo.first_commit_by(&email, since);
                }
            }
        }
    }
}

/// Loads the cached timeline (rebuilt from the journal when the cache is
/// missing), folds in `new_run`, asks git for what is still unknown and
/// saves it when something changed.
pub fn refresh(journal: &Journal, repo_start: &std::path::Path, new_run: Option<&Run>) -> Timeline {
    let path = journal.file(Journal::TIMELINE);
    let cached: Option<Timeline> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let mut t = match cached.clone() {
        Some(t) => t,
        None => {
            let mut t = Timeline::default();
            for r in journal.runs() {
                t.observe(&r);
            }
            t
        }
    };
    if let Some(r) = new_run {
        t.observe(r);
    }
    // A clone time from the reflog is final; so is a first commit.
    if !t.is_complete() || t.cloned_from == Some(ClonedFrom::FirstRun) {
        let repo = Repo::find(repo_start);
        t.ask_git(repo.as_ref());
    }
    if cached.as_ref() != Some(&t) && t != Timeline::default() {
        // Best effort: the journal is the truth and this is rebuilt from it.
        let _ = crate::state::write_json(&path, &t);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_come_from_the_clone_time() {
        let t = Timeline {
            cloned_at: Some("2026-01-01T10:00:00Z".parse().unwrap()),
            first_ready_at: Some("2026-01-01T10:20:00Z".parse().unwrap()),
            first_commit_at: Some("2026-01-02T10:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(t.setup_seconds(), Some(1200.0));
        assert_eq!(t.time_to_first_commit_seconds(), Some(86400.0));
        let o = t.onboarding();
        assert_eq!(o.cloned_at.as_deref(), Some("2026-01-01T10:00:00Z"));
        assert_eq!(o.first_up_started_at, None);
    }
}
