//! The onboarding timeline on a terminal: a bar per step (clone -> ready ->
//! commit -> push -> production), each placed on the time since the clone
//! and labelled with how long it took.

use chrono::{DateTime, Utc};

use super::metrics::Style;
use crate::metrics::{chart, ClonedFrom, Timeline};

/// Wide enough to tell hours from days, narrow enough for 80 columns.
const WIDTH: usize = 32;

pub fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "-".to_string())
}

fn steps(t: &Timeline) -> [(&'static str, Option<DateTime<Utc>>); 4] {
    [
        ("ready", t.first_ready_at),
        ("commit", t.first_commit_at),
        ("push", t.first_push_at),
        ("production", t.first_merged_at),
    ]
}

pub fn lines(t: &Timeline, st: &dyn Style) -> Vec<String> {
    let mut out = vec![st.bold("Onboarding of this clone")];
    let note = match t.cloned_from {
        Some(ClonedFrom::FirstRun) => st.dim("  (no clone entry in the reflog: first devenv run)"),
        _ => String::new(),
    };
    out.push(format!("  {:<10}  {}{note}", "cloned", when(t.cloned_at)));
    let since = |at: DateTime<Utc>| -> Option<f64> {
        let c = t.cloned_at?;
        Some(((at - c).num_milliseconds() as f64 / 1000.0).max(0.0))
    };
    let ends: Vec<Option<f64>> = steps(t).iter().map(|(_, at)| at.and_then(since)).collect();
    let total = ends.iter().flatten().copied().fold(0.0, f64::max);
    for (i, (name, _)) in steps(t).iter().enumerate() {
        let Some(end) = ends[i] else {
            out.push(format!("  {name:<10}  {}", st.dim("not yet")));
            continue;
        };
        // A step starts where the latest step before it ended; steps can
        // come out of order (a commit before the first `up`).
        let start = ends[..i]
            .iter()
            .flatten()
            .copied()
            .filter(|e| *e <= end)
            .fold(0.0, f64::max);
        let bar = chart::span_bar(start, end, total, WIDTH);
        out.push(format!(
            "  {name:<10}  {bar:<WIDTH$}  {:>8}  {}",
            chart::duration(end - start),
            st.dim(&format!("+{}", chart::duration(end)))
        ));
    }
    let opt = |s: Option<f64>| s.map(chart::duration).unwrap_or_else(|| "not yet".into());
    out.push(format!(
        "  setup {}   first commit {}   first push {}   production {}",
        st.bold(&opt(t.setup_seconds())),
        st.bold(&opt(t.time_to_first_commit_seconds())),
        st.bold(&opt(t.time_to_first_push_seconds())),
        st.bold(&opt(t.time_to_production_seconds())),
    ));
    out
}
