//! The onboarding timeline of a clone: cloned -> first `up` -> first time
//! fully ready -> first commit by the local user -> first push -> first
//! commit of theirs on the upstream default branch ("production").
//!
//! Kept in `timeline.json` beside the journal so a run only touches git
//! while something is still unknown (`ask.rs` says how little); once every
//! step is known, a run costs one small file read.

mod ask;

pub use ask::GitCalls;

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
    /// The first push from this clone that the remote took.
    #[serde(default)]
    pub first_push_at: Option<DateTime<Utc>>,
    /// The commit time of the user's first commit (after the clone) that is
    /// reachable from the upstream default branch.
    #[serde(default)]
    pub first_merged_at: Option<DateTime<Utc>>,
    /// What git's files looked like when git was last asked: not part of
    /// the timeline, only what keeps git from being asked again for nothing.
    #[serde(default, skip_serializing_if = "ask::Seen::is_empty")]
    pub seen: ask::Seen,
}

/// The timeline as `metrics --json` and the reports show it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Onboarding {
    pub cloned_at: Option<String>,
    pub first_up_started_at: Option<String>,
    pub first_ready_at: Option<String>,
    pub first_commit_at: Option<String>,
    pub first_push_at: Option<String>,
    pub first_merged_at: Option<String>,
    pub setup_seconds: Option<f64>,
    pub time_to_first_commit_seconds: Option<f64>,
    pub time_to_first_push_seconds: Option<f64>,
    pub time_to_production_seconds: Option<f64>,
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

    pub fn time_to_first_push_seconds(&self) -> Option<f64> {
        seconds_between(self.cloned_at, self.first_push_at)
    }

    pub fn time_to_production_seconds(&self) -> Option<f64> {
        seconds_between(self.cloned_at, self.first_merged_at)
    }

    pub fn onboarding(&self) -> Onboarding {
        Onboarding {
            cloned_at: self.cloned_at.map(rfc3339),
            first_up_started_at: self.first_up_started_at.map(rfc3339),
            first_ready_at: self.first_ready_at.map(rfc3339),
            first_commit_at: self.first_commit_at.map(rfc3339),
            first_push_at: self.first_push_at.map(rfc3339),
            first_merged_at: self.first_merged_at.map(rfc3339),
            setup_seconds: self.setup_seconds(),
            time_to_first_commit_seconds: self.time_to_first_commit_seconds(),
            time_to_first_push_seconds: self.time_to_first_push_seconds(),
            time_to_production_seconds: self.time_to_production_seconds(),
        }
    }

    /// Nothing known yet: not news to any endpoint.
    pub fn is_empty(&self) -> bool {
        self.onboarding() == Onboarding::default()
    }

    /// A stable fingerprint, to tell whether an endpoint has seen this one.
    pub fn fingerprint(&self) -> String {
        let o = serde_json::to_vec(&self.onboarding()).unwrap_or_default();
        crate::util::sha256_hex(&o)[..16].to_string()
    }

    /// Every step that git can tell is known: git is never asked again.
    fn is_complete(&self) -> bool {
        self.cloned_at.is_some()
            && self.cloned_from != Some(ClonedFrom::FirstRun)
            && self.first_commit_at.is_some()
            && self.first_push_at.is_some()
            && self.first_merged_at.is_some()
    }

    /// Folds one recorded run in. A CI job's runs are nobody's onboarding.
    pub fn observe(&mut self, run: &Run) {
        if run.ci.is_some() || run.kind == RunKind::Ci {
            return;
        }
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
}

/// The cached timeline (rebuilt from the journal when the cache is
/// missing), without asking git and without writing: for CI jobs and
/// users who opted out.
pub fn cached(journal: &Journal) -> Timeline {
    read_cache(journal).unwrap_or_else(|| rebuild(journal))
}

fn read_cache(journal: &Journal) -> Option<Timeline> {
    let bytes = std::fs::read(journal.file(Journal::TIMELINE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn rebuild(journal: &Journal) -> Timeline {
    let mut t = Timeline::default();
    for r in journal.runs() {
        t.observe(&r);
    }
    t
}

/// Loads the cached timeline, folds in `new_run`, asks git for what is
/// still unknown (within `calls`) and saves it when something changed.
pub fn refresh(
    journal: &Journal,
    repo_start: &std::path::Path,
    new_run: Option<&Run>,
    calls: GitCalls,
) -> Timeline {
    let cached = read_cache(journal);
    let mut t = cached.clone().unwrap_or_else(|| rebuild(journal));
    if let Some(r) = new_run {
        t.observe(r);
    }
    if !t.is_complete() {
        let repo = Repo::find(repo_start);
        ask::ask_git(&mut t, repo.as_ref(), calls);
    }
    if cached.as_ref() != Some(&t) && t != Timeline::default() {
        // Best effort: the journal is the truth and this is rebuilt from it.
        let _ = crate::state::write_json(&journal.file(Journal::TIMELINE), &t);
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
        assert_eq!(t.time_to_production_seconds(), None);
        let o = t.onboarding();
        assert_eq!(o.cloned_at.as_deref(), Some("2026-01-01T10:00:00Z"));
        assert_eq!(o.first_up_started_at, None);
    }
}
