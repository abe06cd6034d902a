//! This clone's setup runs (`up`, and `up` under CI) as a small chart:
//! one row per phase, one column per run, so a phase that got slow or a
//! cache that stopped working shows as a column that stands out.

use super::metrics::Style;
use crate::metrics::{chart, Outcome, Run};

/// Columns: enough to see a trend, few enough to read each run.
const LAST: usize = 12;

/// The journal's phase names in the order `up` runs them (images is the
/// pulling part of services).
const ORDER: [&str; 8] = [
    "preflight",
    "tools",
    "mocks",
    "images",
    "services",
    "config",
    "hooks",
    "processes",
];

fn glyph(o: Outcome) -> char {
    match o {
        Outcome::Ok => 'o',
        Outcome::Failed => 'x',
        Outcome::Interrupted => '!',
    }
}

pub fn lines(runs: &[Run], st: &dyn Style) -> Vec<String> {
    let setup: Vec<&Run> = runs.iter().filter(|r| r.kind.is_setup()).collect();
    // One run: the bars of the last up say it all.
    if setup.len() < 2 {
        return Vec::new();
    }
    let recent = &setup[setup.len().saturating_sub(LAST)..];
    let mut phases: Vec<&str> = Vec::new();
    for r in recent {
        for p in &r.phases {
            if !phases.contains(&p.name.as_str()) {
                phases.push(&p.name);
            }
        }
    }
    // In the order `up` runs them (a run that failed early has fewer).
    let rank = |p: &str| ORDER.iter().position(|o| *o == p).unwrap_or(ORDER.len());
    phases.sort_by_key(|p| rank(p));
    let w = phases
        .iter()
        .map(|p| p.len())
        .max()
        .unwrap_or(0)
        .max("outcome".len());
    // One scale for every phase, so the rows compare.
    let max = recent
        .iter()
        .flat_map(|r| r.phases.iter().map(|p| p.seconds))
        .fold(0.0, f64::max);
    let last = recent[recent.len() - 1];
    let mut out = vec![
        String::new(),
        st.bold(&format!(
            "Setup runs: seconds per phase (last {}, oldest first; max {})",
            recent.len(),
            chart::duration(max)
        )),
    ];
    for name in &phases {
        let values: Vec<Option<f64>> = recent.iter().map(|r| r.phase(name)).collect();
        let now = last
            .phase(name)
            .map(chart::duration)
            .unwrap_or_else(|| "-".into());
        out.push(format!(
            "  {name:<w$}  {}  {now:>8}",
            chart::spark_scaled(&values, max)
        ));
    }
    let totals: Vec<Option<f64>> = recent.iter().map(|r| Some(r.seconds())).collect();
    let top = recent.iter().map(|r| r.seconds()).fold(0.0, f64::max);
    out.push(format!(
        "  {:<w$}  {}  {:>8}  {}",
        "total",
        chart::spark_scaled(&totals, top),
        chart::duration(last.seconds()),
        st.dim(&format!("(own scale, max {})", chart::duration(top)))
    ));
    let outcomes: String = recent.iter().map(|r| glyph(r.outcome)).collect();
    out.push(format!(
        "  {:<w$}  {outcomes}  {}",
        "outcome",
        st.dim("o ok  x failed  ! interrupted")
    ));
    out
}
