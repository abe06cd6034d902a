//! Prometheus Pushgateway: the clone's state as gauges in the text
//! exposition format, PUT to one group per job, project and hire.
//!
//! A PUT replaces the whole group, so sending the same state twice is
//! harmless and a retried report can never double-count. Every metric is a
//! gauge in every group (Pushgateway rejects a name whose type differs
//! between groups) and no sample carries a timestamp (it rejects those too).

use std::collections::BTreeMap;
use std::fmt::Write;

use base64::Engine;

use super::Facts;
use crate::metrics::run::{Outcome, RunKind};

/// `<endpoint>/metrics/job/<job>/project/<project>[/hire/<id>]`. Values that
/// are not plain words use Pushgateway's `label@base64/<value>` form.
pub fn url(endpoint: &str, job: &str, project: &str, hire: Option<&str>) -> String {
    let mut u = format!("{}/metrics", endpoint.trim_end_matches('/'));
    let mut push = |label: &str, value: &str| {
        let plain = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if plain {
            let _ = write!(u, "/{label}/{value}");
        } else {
            let b = base64::engine::general_purpose::URL_SAFE.encode(value.as_bytes());
            let _ = write!(u, "/{label}@base64/{b}");
        }
    };
    push("job", job);
    push("project", project);
    if let Some(h) = hire {
        push("hire", h);
    }
    u
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} gauge");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.0, "{{{}}}", l.join(","));
        }
        let _ = writeln!(self.0, " {}", num(value));
    }
}

/// The exposition text for the whole journal: totals over every run, the
/// last `up` in detail, and the onboarding durations once known.
pub fn exposition(f: &Facts) -> String {
    let mut o = Out(String::new());
    let ups: Vec<_> = f.runs.iter().filter(|r| r.kind == RunKind::Up).collect();

    o.family(
        "devenv_up_total",
        "devenv up runs recorded in this clone, by outcome.",
    );
    for outcome in Outcome::ALL {
        let n = ups.iter().filter(|r| r.outcome == outcome).count();
        o.sample(
            "devenv_up_total",
            &[("outcome", outcome.as_str())],
            n as f64,
        );
    }

    let mut steps: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &ups {
        if let Some(s) = &r.failed_step {
            *steps.entry(s.as_str()).or_default() += 1;
        }
    }
    if !steps.is_empty() {
        o.family(
            "devenv_up_failed_step_total",
            "devenv up runs that failed or were interrupted, by the step that was running.",
        );
        for (step, n) in steps {
            o.sample("devenv_up_failed_step_total", &[("step", step)], n as f64);
        }
    }

    o.family(
        "devenv_runs_total",
        "devenv runs recorded in this clone, by command.",
    );
    for kind in [RunKind::Up, RunKind::Down, RunKind::Reset] {
        let n = f.runs.iter().filter(|r| r.kind == kind).count();
        o.sample("devenv_runs_total", &[("kind", kind.as_str())], n as f64);
    }

    if let Some(last) = ups.last() {
        o.family(
            "devenv_up_phase_seconds",
            "Seconds each phase of the last devenv up took (images is part of services).",
        );
        for p in &last.phases {
            o.sample("devenv_up_phase_seconds", &[("phase", &p.name)], p.seconds);
        }
        o.family("devenv_up_seconds", "Seconds the last devenv up took.");
        o.sample("devenv_up_seconds", &[], last.seconds());
        o.family(
            "devenv_up_last_success",
            "1 when the last devenv up ended ok, else 0.",
        );
        o.sample(
            "devenv_up_last_success",
            &[],
            f64::from(u8::from(last.outcome == Outcome::Ok)),
        );
        o.family(
            "devenv_up_last_timestamp_seconds",
            "Unix time the last devenv up finished.",
        );
        o.sample(
            "devenv_up_last_timestamp_seconds",
            &[],
            last.finished_at.timestamp() as f64,
        );
        let c = last.fetches.summary();
        o.family(
            "devenv_up_cache_items",
            "Tools and images the last devenv up needed: fetched now or reused.",
        );
        o.sample(
            "devenv_up_cache_items",
            &[("kind", "tool"), ("state", "downloaded")],
            c.tools_downloaded as f64,
        );
        o.sample(
            "devenv_up_cache_items",
            &[("kind", "tool"), ("state", "reused")],
            c.tools_reused as f64,
        );
        o.sample(
            "devenv_up_cache_items",
            &[("kind", "image"), ("state", "pulled")],
            c.images_pulled as f64,
        );
        o.sample(
            "devenv_up_cache_items",
            &[("kind", "image"), ("state", "present")],
            c.images_present as f64,
        );
        o.family(
            "devenv_up_download_bytes",
            "Bytes the last devenv up downloaded.",
        );
        o.sample(
            "devenv_up_download_bytes",
            &[("kind", "tool")],
            c.tool_bytes as f64,
        );
        o.sample(
            "devenv_up_download_bytes",
            &[("kind", "image")],
            c.image_bytes as f64,
        );
    }

    // The moments themselves, so the platform can put each hire in the week
    // they cloned or became ready (recording rules in contrib/ use them).
    let stamps = [
        (
            "devenv_cloned_timestamp_seconds",
            "Unix time of the clone.",
            f.timeline.cloned_at,
        ),
        (
            "devenv_first_ready_timestamp_seconds",
            "Unix time the first fully ready devenv up finished.",
            f.timeline.first_ready_at,
        ),
        (
            "devenv_first_commit_timestamp_seconds",
            "Unix time of the first commit by the local user after the clone.",
            f.timeline.first_commit_at,
        ),
    ];
    for (name, help, at) in stamps {
        if let Some(at) = at {
            o.family(name, help);
            o.sample(name, &[], at.timestamp() as f64);
        }
    }
    if let Some(s) = f.timeline.setup_seconds() {
        o.family(
            "devenv_setup_seconds",
            "Seconds from the clone to the first fully ready devenv up.",
        );
        o.sample("devenv_setup_seconds", &[], s);
    }
    if let Some(s) = f.timeline.time_to_first_commit_seconds() {
        o.family(
            "devenv_time_to_first_commit_seconds",
            "Seconds from the clone to the first commit by the local user.",
        );
        o.sample("devenv_time_to_first_commit_seconds", &[], s);
    }
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_values_that_are_not_words_are_base64() {
        assert_eq!(
            url("http://pg:9091/", "devenv", "checkout", Some("ab12")),
            "http://pg:9091/metrics/job/devenv/project/checkout/hire/ab12"
        );
        assert_eq!(
            url("http://pg:9091", "devenv", "checkout", Some("ann@x.io")),
            "http://pg:9091/metrics/job/devenv/project/checkout/hire@base64/YW5uQHguaW8="
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.25), "0.25");
    }
}
