//! `devenv report [--dry-run]`: send unsent runs and the onboarding timeline
//! to the `[metrics]` endpoint; and the bounded automatic report at the end
//! of `up` (`auto_report = true`).

use std::time::Duration;

use crate::cli::args::ReportArgs;
use crate::cli::App;
use crate::error::Error;
use crate::metrics::{self, Context, ReportError, ReportOptions};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::ui::Printer;

/// A manual report may wait longer than the automatic one: the user asked.
const MANUAL_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(app: &mut App, args: ReportArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let paths = Paths::new(&app.home, &manifest.root);
    let cx = super::metrics::context(&paths, &manifest);
    let opts = ReportOptions {
        dry_run: args.dry_run,
        timeout: manifest.metrics.timeout.max(MANUAL_TIMEOUT),
    };
    let runtime = super::runtime()?;
    let result = runtime.block_on(super::up::interruptible(async {
        Ok(metrics::report(&cx, &opts).await)
    }))?;
    let p = &app.printer;
    match result {
        Ok(summary) if args.dry_run => {
            if summary.requests.is_empty() {
                p.message(Level::Info, "nothing to send: the endpoint has every run and the timeline");
            }
            for (i, req) in summary.requests.iter().enumerate() {
                if i > 0 {
                    p.data("");
                }
                p.data(&format!("{} {}", req.method, metrics::report::redact(&req.url)));
                for (k, v) in &req.headers {
                    p.data(&format!("{k}: {v}"));
                }
                p.data("");
                p.data(req.body.trim_end());
            }
            Ok(0)
        }
        Ok(summary) => {
            if summary.requests.is_empty() {
                p.message(Level::Info, "nothing to send: the endpoint has every run and the timeline");
            } else {
                p.message(
                    Level::Success,
                    &format!(
                        "sent {} run{}{} to {}",
                        summary.runs_sent,
                        if summary.runs_sent == 1 { "" } else { "s" },
                        if summary.timeline_sent { " and the onboarding timeline" } else { "" },
                        metrics::report::redact(manifest.metrics.endpoint.as_deref().unwrap_or(""))
                    ),
                );
            }
            Ok(0)
        }
        Err(ReportError::Disabled) => {
            p.message(
                Level::Warn,
                "metrics are turned off (DEVENV_NO_METRICS or DO_NOT_TRACK is set): nothing sent",
            );
            Ok(0)
        }
        Err(ReportError::NoEndpoint) => Err(Error::usage(
            "devenv.toml has no [metrics] endpoint, so there is nowhere to report to",
            Some("add `[metrics]` with `endpoint = \"http://pushgateway.internal:9091\"` (and `format`), or see `devenv metrics` for local numbers".into()),
        )),
        Err(e) => {
            let pending = e.pending().unwrap_or(0);
            Err(Error::failed(format!(
                "{e}; {pending} run{} kept in the spool, sent by the next `devenv report`",
                if pending == 1 { "" } else { "s" }
            )))
        }
    }
}

/// The automatic report after `up` (and from the post-commit hook): only
/// when configured, bounded by `[metrics] timeout` as a whole, and never
/// an error: at most a warning.
pub fn auto_report(printer: &Printer, cx: &Context, runtime: &tokio::runtime::Runtime) {
    let m = &cx.manifest.metrics;
    if !cx.enabled || !m.auto_report || m.endpoint.is_none() {
        return;
    }
    let opts = ReportOptions {
        dry_run: false,
        timeout: m.timeout,
    };
    let result = runtime
        .block_on(async { tokio::time::timeout(m.timeout, metrics::report(cx, &opts)).await });
    match result {
        Ok(Ok(s)) if s.runs_sent > 0 || s.timeline_sent => printer.message(
            Level::Detail,
            &format!("metrics: sent {} run(s)", s.runs_sent),
        ),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => printer.message(
            Level::Warn,
            &format!("metrics not sent ({e}); kept for the next `devenv report`"),
        ),
        Err(_) => printer.message(
            Level::Warn,
            &format!(
                "metrics not sent within {:.1} s; kept for the next `devenv report`",
                m.timeout.as_secs_f64()
            ),
        ),
    }
}
