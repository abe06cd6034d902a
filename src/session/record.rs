//! Run recording: every `up`, `down` and `reset` is appended to the metrics
//! journal on every path (success, failure, exit 130), and an `up` is then
//! reported when `[metrics] auto_report` is on.

use crate::error::Error;
use crate::metrics::{self, Context, Outcome, RunKind, RunRecorder, Start};
use crate::progress::{Level, Reporter};

use super::Session;

pub fn metrics_context<'a>(s: &'a Session<'_>) -> Context<'a> {
    Context {
        enabled: s.settings.metrics.value,
        paths: &s.paths,
        manifest: s.manifest,
        clock: s.clock,
        ci: s.settings.ci.value.as_ref(),
    }
}

/// The outcome a command's result stands for.
pub fn outcome_of<T>(result: &Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(Error::Interrupted) => Outcome::Interrupted,
        Err(_) => Outcome::Failed,
    }
}

/// Records a `down` or `reset` run; `start` was taken before the manifest
/// loaded.
pub fn record_simple_run<T>(
    s: &Session<'_>,
    kind: RunKind,
    start: Start,
    result: &Result<T, Error>,
) {
    let cx = metrics_context(s);
    let recorded = metrics::record_simple(&cx, kind, start, outcome_of(result));
    note_recorded(&s.reporter, recorded);
}

/// Ends an `up` run: appends it to the journal whatever the result, then
/// (unless interrupted) reports it when `auto_report` is on.
pub(super) fn finish_up<T>(
    s: &Session<'_>,
    recorder: RunRecorder,
    result: &Result<T, Error>,
    runtime: &tokio::runtime::Runtime,
) {
    let cx = metrics_context(s);
    let outcome = outcome_of(result);
    note_recorded(&s.reporter, recorder.finish(&cx, outcome));
    if outcome != Outcome::Interrupted {
        super::auto_report(&s.reporter, &cx, runtime);
    }
}

fn note_recorded(
    reporter: &dyn Reporter,
    recorded: Result<Option<metrics::Finished>, metrics::JournalError>,
) {
    match recorded {
        Ok(Some(f)) => reporter.message(
            Level::Detail,
            &format!(
                "recorded run {} in {:.2} ms (timeline {:.3} ms)",
                f.run.id,
                f.overhead.as_secs_f64() * 1000.0,
                f.timeline_cost.as_secs_f64() * 1000.0
            ),
        ),
        Ok(None) => {}
        Err(e) => reporter.message(Level::Warn, &format!("{e}; this run is not in the metrics")),
    }
}
