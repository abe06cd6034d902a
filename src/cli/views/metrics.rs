//! `devenv metrics` on a terminal: the onboarding timeline and the last
//! runs, with bars and a trend line.

use crate::metrics::{self, chart, Outcome, Run, RunKind};
use crate::progress::{Level, Reporter};
use crate::ui::Printer;

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "-".to_string())
}

pub fn show(p: &Printer, runs: &[Run], t: &metrics::Timeline, enabled: bool) {
    if !enabled {
        p.message(
            Level::Warn,
            "metrics are turned off (DEVENV_NO_METRICS or DO_NOT_TRACK): nothing new is recorded or sent",
        );
    }
    p.data(&p.bold("Onboarding of this clone"));
    let since = |x: Option<chrono::DateTime<chrono::Utc>>| match (t.cloned_at, x) {
        (Some(c), Some(x)) => format!(
            "  {}",
            p.dim(&format!(
                "+{}",
                chart::duration((x - c).num_milliseconds().max(0) as f64 / 1000.0)
            ))
        ),
        _ => String::new(),
    };
    let cloned_note = match t.cloned_from {
        Some(metrics::ClonedFrom::FirstRun) => {
            p.dim("  (no clone entry in the reflog: first devenv run)")
        }
        _ => String::new(),
    };
    p.data(&format!(
        "  cloned             {}{cloned_note}",
        when(t.cloned_at)
    ));
    p.data(&format!(
        "  first up started   {}{}",
        when(t.first_up_started_at),
        since(t.first_up_started_at)
    ));
    p.data(&format!(
        "  first fully ready  {}{}",
        when(t.first_ready_at),
        since(t.first_ready_at)
    ));
    p.data(&format!(
        "  first commit       {}{}",
        when(t.first_commit_at),
        since(t.first_commit_at)
    ));
    let opt = |s: Option<f64>| {
        s.map(chart::duration)
            .unwrap_or_else(|| "not yet".to_string())
    };
    p.data(&format!(
        "  setup time {}   time to first commit {}",
        p.bold(&opt(t.setup_seconds())),
        p.bold(&opt(t.time_to_first_commit_seconds()))
    ));

    if runs.is_empty() {
        p.data("");
        p.data("No runs recorded yet: run `devenv up`.");
        return;
    }
    p.data("");
    p.data(&p.bold("Last runs"));
    p.data(&p.dim(&format!(
        "  {:<19}  {:<5}  {:<11}  {:>9}  {}",
        "STARTED (UTC)", "KIND", "OUTCOME", "TIME", "FAILED STEP"
    )));
    for r in runs.iter().rev().take(10) {
        let line = format!(
            "  {:<19}  {:<5}  {:<11}  {:>9}  {}",
            r.started_at.format("%Y-%m-%d %H:%M:%S"),
            r.kind.as_str(),
            r.outcome.as_str(),
            chart::duration(r.seconds()),
            r.failed_step.as_deref().unwrap_or("")
        );
        p.data(line.trim_end());
    }
    let ups: Vec<&Run> = runs.iter().filter(|r| r.kind == RunKind::Up).collect();
    if let Some(last) = ups.last() {
        p.data("");
        p.data(&p.bold(&format!(
            "Last up: {} in {}",
            last.outcome.as_str(),
            chart::duration(last.seconds())
        )));
        for line in chart::phase_bars(last, 30) {
            p.data(&format!("  {line}"));
        }
        let c = last.fetches.summary();
        if c != metrics::CacheSummary::default() {
            p.data(&p.dim(&format!(
                "  tools: {} downloaded, {} reused ({})   images: {} pulled, {} present ({})",
                c.tools_downloaded,
                c.tools_reused,
                bytes(c.tool_bytes),
                c.images_pulled,
                c.images_present,
                bytes(c.image_bytes)
            )));
        }
    }
    // Failed runs stop early; their times would only blur the trend.
    let ok: Vec<&&Run> = ups.iter().filter(|r| r.outcome == Outcome::Ok).collect();
    if ok.len() >= 2 {
        let recent: Vec<f64> = ok
            .iter()
            .rev()
            .take(20)
            .rev()
            .map(|r| r.seconds())
            .collect();
        p.data("");
        p.data(&p.bold(&format!("Up time trend (last {} successful)", recent.len())));
        p.data(&format!(
            "  {}   first {}  median {}  last {}",
            chart::sparkline(&recent),
            chart::duration(recent[0]),
            chart::duration(chart::median(&recent).unwrap_or_default()),
            chart::duration(*recent.last().unwrap_or(&0.0)),
        ));
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
