//! `devenv metrics` on a terminal: the onboarding timeline, the last runs,
//! the last `up`'s phases, the setup runs per phase and a trend line.
//!
//! Built as lines first (`render`), printed second, so the exact output is
//! tested without a terminal.

use super::{onboarding, setup_runs};
use crate::metrics::{self, chart, Outcome, Run};
use crate::progress::{Level, Reporter};
use crate::ui::Printer;

/// Emphasis, which only the printer knows how to draw (and whether to).
pub trait Style {
    fn bold(&self, text: &str) -> String;
    fn dim(&self, text: &str) -> String;
}

impl Style for Printer {
    fn bold(&self, text: &str) -> String {
        Printer::bold(self, text)
    }
    fn dim(&self, text: &str) -> String {
        Printer::dim(self, text)
    }
}

/// No emphasis at all: what the tests compare (a pipe gets the same from a
/// printer without colour).
#[cfg(test)]
pub struct Plain;

#[cfg(test)]
impl Style for Plain {
    fn bold(&self, text: &str) -> String {
        text.to_string()
    }
    fn dim(&self, text: &str) -> String {
        text.to_string()
    }
}

pub fn show(p: &Printer, runs: &[Run], t: &metrics::Timeline, enabled: bool) {
    if !enabled {
        p.message(
            Level::Warn,
            "metrics are turned off (DEVENV_NO_METRICS or DO_NOT_TRACK): nothing new is recorded or sent",
        );
    }
    for line in render(runs, t, p) {
        p.data(&line);
    }
}

pub fn render(runs: &[Run], t: &metrics::Timeline, st: &dyn Style) -> Vec<String> {
    let mut out = onboarding::lines(t, st);
    if runs.is_empty() {
        out.push(String::new());
        out.push("No runs recorded yet: run `devenv up`.".into());
        return out;
    }
    out.push(String::new());
    out.push(st.bold("Last runs"));
    out.push(st.dim(&format!(
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
        out.push(line.trim_end().to_string());
    }
    let ups: Vec<&Run> = runs.iter().filter(|r| r.kind.is_setup()).collect();
    if let Some(last) = ups.last() {
        out.push(String::new());
        out.push(st.bold(&format!(
            "Last up: {} in {}",
            last.outcome.as_str(),
            chart::duration(last.seconds())
        )));
        for line in chart::phase_bars(last, 30) {
            out.push(format!("  {line}"));
        }
        let c = last.fetches.summary();
        if c != metrics::CacheSummary::default() {
            out.push(st.dim(&format!(
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
    out.extend(setup_runs::lines(runs, st));
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
        out.push(String::new());
        out.push(st.bold(&format!("Up time trend (last {} successful)", recent.len())));
        out.push(format!(
            "  {}   first {}  median {}  last {}",
            chart::sparkline(&recent),
            chart::duration(recent[0]),
            chart::duration(chart::median(&recent).unwrap_or_default()),
            chart::duration(*recent.last().unwrap_or(&0.0)),
        ));
    }
    out
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

#[cfg(test)]
mod tests;
