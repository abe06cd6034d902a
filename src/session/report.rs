//! `report`: send unsent runs and the onboarding timeline to the
//! `[metrics]` endpoint; and the bounded automatic report at the end of
//! `up` (`auto_report = true`).

use std::time::Duration;

use crate::error::Error;
use crate::metrics::{self, Context, ReportError, ReportOptions, ReportSummary};
use crate::progress::{Level, Reporter};

use super::{interruptible, record, Session};

/// A manual report may wait longer than the automatic one: the user asked.
const MANUAL_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ReportRequest {
    /// Build the requests, send nothing.
    pub dry_run: bool,
}

/// What was sent (or would be, with `dry_run`); `None` when the user opted
/// out of metrics (said as a warning).
pub fn report(s: &Session<'_>, req: &ReportRequest) -> Result<Option<ReportSummary>, Error> {
    let cx = record::metrics_context(s);
    let opts = ReportOptions {
        dry_run: req.dry_run,
        timeout: s.manifest.metrics.timeout.max(MANUAL_TIMEOUT),
        git: metrics::GitCalls::AsNeeded,
    };
    let result = super::runtime()?.block_on(interruptible(async {
        Ok(metrics::report(&cx, &opts).await)
    }))?;
    match result {
        Ok(summary) => Ok(Some(summary)),
        Err(ReportError::Disabled) => {
            s.reporter.message(
                Level::Warn,
                "metrics are turned off (DEVENV_NO_METRICS or DO_NOT_TRACK is set): nothing sent",
            );
            Ok(None)
        }
        Err(ReportError::NoEndpoint) => Err(Error::usage(
            "devenv.toml has no [metrics] endpoint, so there is nowhere to report to",
            Some("add `[metrics]` with `endpoint = \"http://pushgateway.internal:9091\"` (and `format`), or see `devenv metrics` for local numbers".into()),
        )),
        Err(e) => Err(Error::failed_with(&e, e.hint())),
    }
}

/// The automatic report after `up` (and from the post-commit hook): only
/// when configured, bounded by `[metrics] timeout` as a whole, and never
/// an error: at most a warning.
pub fn auto_report(reporter: &dyn Reporter, cx: &Context, runtime: &tokio::runtime::Runtime) {
    let m = &cx.manifest.metrics;
    if !cx.enabled || !m.auto_report || m.endpoint.is_none() {
        return;
    }
    let opts = ReportOptions {
        dry_run: false,
        timeout: m.timeout,
        // After `up` or a hook's `metrics`, which refreshed it just now.
        git: metrics::GitCalls::AtMostOne,
    };
    let result = runtime
        .block_on(async { tokio::time::timeout(m.timeout, metrics::report(cx, &opts)).await });
    match result {
        Ok(Ok(s)) if s.runs_sent > 0 || s.timeline_sent => reporter.message(
            Level::Detail,
            &format!("metrics: sent {} run(s)", s.runs_sent),
        ),
        Ok(Ok(_)) => {}
        // One line, after `up`'s own summary: what happened, where the
        // endpoint is set, and that nothing is lost.
        Ok(Err(e @ ReportError::Unreachable { .. })) => reporter.message(
            Level::Warn,
            &format!(
                "metrics not sent: {e}; kept for the next `devenv report` (the endpoint is set by {})",
                ReportError::SETTING
            ),
        ),
        Ok(Err(e)) => reporter.message(
            Level::Warn,
            &format!("metrics not sent: {e}; kept for the next `devenv report`"),
        ),
        Err(_) => reporter.message(
            Level::Warn,
            &format!(
                "metrics not sent: the metrics endpoint {} did not answer within {:.1} s; kept for the next `devenv report` (the endpoint is set by {})",
                metrics::report::redact(m.endpoint.as_deref().unwrap_or_default()),
                m.timeout.as_secs_f64(),
                ReportError::SETTING
            ),
        ),
    }
}
