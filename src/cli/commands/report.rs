//! `devenv report [--dry-run]`: send unsent runs and the onboarding
//! timeline to the `[metrics]` endpoint (the flow is `session::report`).

use crate::cli::args::ReportArgs;
use crate::cli::App;
use crate::error::Error;
use crate::metrics;
use crate::progress::{Level, Reporter};
use crate::session::{self, ReportRequest};
use crate::settings::Flags;

pub fn run(app: &mut App, args: ReportArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let s = app.session(&manifest, &settings);
    let req = ReportRequest {
        dry_run: args.dry_run,
    };
    let Some(summary) = session::report(&s, &req)? else {
        return Ok(0);
    };
    let p = &app.printer;
    if summary.requests.is_empty() {
        p.message(
            Level::Info,
            "nothing to send: the endpoint has every run and the timeline",
        );
        return Ok(0);
    }
    if args.dry_run {
        for (i, req) in summary.requests.iter().enumerate() {
            if i > 0 {
                p.data("");
            }
            p.data(&format!(
                "{} {}",
                req.method,
                metrics::report::redact(&req.url)
            ));
            for (k, v) in &req.headers {
                p.data(&format!("{k}: {v}"));
            }
            p.data("");
            p.data(req.body.trim_end());
        }
        return Ok(0);
    }
    let n = summary.runs_sent;
    p.message(
        Level::Success,
        &format!(
            "sent {n} run{}{} to {}",
            if n == 1 { "" } else { "s" },
            if summary.timeline_sent {
                " and the onboarding timeline"
            } else {
                ""
            },
            metrics::report::redact(manifest.metrics.endpoint.as_deref().unwrap_or(""))
        ),
    );
    Ok(0)
}
