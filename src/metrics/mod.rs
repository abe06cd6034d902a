//! Setup metrics: a journal of `up`/`down`/`reset` runs, the onboarding
//! timeline of a clone (clone -> first ready -> first commit), and reports
//! to the platform's endpoint (Pushgateway, webhook or OTLP).
//!
//! The journal under `Paths::spool()` is the source of truth; reports are
//! derived from it and tracked with a cursor per endpoint, so an endpoint
//! that is down loses nothing. Nothing here reads the environment: whether
//! metrics are on (`DEVENV_NO_METRICS`, `DO_NOT_TRACK`) is decided by the
//! command layer and passed in as `Context::enabled`.

pub mod chart;
mod git;
pub mod hook;
mod identity;
mod journal;
mod recorder;
mod refs;
pub mod report;
mod run;
mod timeline;

pub use git::Repo;
pub use journal::{Cursor, Journal, JournalError};
pub use recorder::{record_simple, Finished, RunRecorder, Start, Tap};
pub use report::{report, ReportError, ReportOptions, ReportSummary};
pub use run::{CacheSummary, Outcome, PhaseTime, Run, RunKind};
pub use timeline::{ClonedFrom, GitCalls, Onboarding, Timeline};

use crate::clock::Clock;
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::settings::CiRun;

/// What every metrics call gets.
pub struct Context<'a> {
    /// False when the user opted out: nothing is recorded or sent.
    pub enabled: bool,
    pub paths: &'a Paths,
    pub manifest: &'a Manifest,
    pub clock: &'a dyn Clock,
    /// The CI job this command runs in: its runs are of kind `ci`, carry no
    /// identity and leave the onboarding timeline alone.
    pub ci: Option<&'a CiRun>,
}

impl Context<'_> {
    pub fn journal(&self) -> Journal {
        Journal::new(self.paths, &self.manifest.project.id)
    }
}

/// The journal's runs and the timeline, refreshed (git is asked only for
/// what is still unknown). What `devenv metrics` shows.
pub fn load(cx: &Context) -> (Vec<Run>, Timeline) {
    let journal = cx.journal();
    let runs = journal.runs();
    let timeline = if cx.enabled && cx.ci.is_none() {
        timeline::refresh(&journal, &cx.manifest.root, None, GitCalls::AsNeeded)
    } else {
        // Opted out, or a CI job: show what is there, write nothing.
        timeline::cached(&journal)
    };
    (runs, timeline)
}

/// A look at the timeline from any command (`status`, `exec`, ...): a
/// first merge shows up after a fetch without waiting for the next `up`.
/// Costs a few small file reads, and at most one git call while a step is
/// unknown; nothing under CI or when opted out.
pub fn glance(cx: &Context) {
    if cx.enabled && cx.ci.is_none() {
        let _ = timeline::refresh(&cx.journal(), &cx.manifest.root, None, GitCalls::AtMostOne);
    }
}

/// `metrics --json`, as CONTRACT.md fixes it.
#[derive(Debug, serde::Serialize)]
pub struct MetricsDoc {
    pub runs: Vec<RunDoc>,
    pub onboarding: Onboarding,
}

#[derive(Debug, serde::Serialize)]
pub struct RunDoc {
    pub id: String,
    pub kind: RunKind,
    pub started_at: String,
    pub finished_at: String,
    pub outcome: Outcome,
    pub failed_step: Option<String>,
    pub phases: Vec<PhaseTime>,
    pub cache: CacheSummary,
}

impl MetricsDoc {
    pub fn new(runs: &[Run], timeline: &Timeline) -> MetricsDoc {
        MetricsDoc {
            runs: runs
                .iter()
                .map(|r| RunDoc {
                    id: r.id.clone(),
                    kind: r.kind,
                    started_at: timeline::rfc3339(r.started_at),
                    finished_at: timeline::rfc3339(r.finished_at),
                    outcome: r.outcome,
                    failed_step: r.failed_step.clone(),
                    phases: r.phases.clone(),
                    cache: r.fetches.summary(),
                })
                .collect(),
            onboarding: timeline.onboarding(),
        }
    }
}
