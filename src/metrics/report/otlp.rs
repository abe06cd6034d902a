//! OTLP/HTTP with the JSON encoding: one export request per run to
//! `<endpoint>/v1/metrics`, gauges dated at the run's own times and tagged
//! with its id, so a resent request describes identical points.
//!
//! The names are the Pushgateway's in OpenTelemetry spelling: a collector
//! exporting to Prometheus turns `devenv.up.phase` (unit `s`) into
//! `devenv_up_phase_seconds`, so contrib/'s rules and dashboard read
//! either path. `tests/metrics_otlp.rs` holds that line.

use serde_json::{json, Value};

use super::Facts;
use crate::metrics::run::Run;

fn attr(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn nanos(t: chrono::DateTime<chrono::Utc>) -> String {
    t.timestamp_nanos_opt().unwrap_or_default().to_string()
}

fn gauge(name: &str, unit: &str, description: &str, points: Vec<Value>) -> Value {
    json!({"name": name, "unit": unit, "description": description, "gauge": {"dataPoints": points}})
}

fn point(attrs: Vec<Value>, time: &str, value: f64) -> Value {
    json!({"attributes": attrs, "timeUnixNano": time, "asDouble": value})
}

fn int_point(attrs: Vec<Value>, time: &str, value: u64) -> Value {
    // OTLP JSON carries 64-bit integers as strings.
    json!({"attributes": attrs, "timeUnixNano": time, "asInt": value.to_string()})
}

fn envelope(f: &Facts, hire: Option<&str>, metrics: Vec<Value>) -> Value {
    let mut resource = vec![
        attr("service.name", "devenv"),
        attr("service.version", env!("CARGO_PKG_VERSION")),
        attr("devenv.project", f.project),
        attr("os.type", std::env::consts::OS),
        attr("host.arch", std::env::consts::ARCH),
    ];
    if let Some(h) = hire {
        resource.push(attr("devenv.hire", h));
    }
    json!({"resourceMetrics": [{
        "resource": {"attributes": resource},
        "scopeMetrics": [{
            "scope": {"name": "devenv", "version": env!("CARGO_PKG_VERSION")},
            "metrics": metrics,
        }],
    }]})
}

/// Each onboarding duration, dated at the moment it ends.
fn onboarding_metrics(f: &Facts) -> Vec<Value> {
    let t = f.timeline;
    let figures = [
        (
            "devenv.setup",
            "From the clone to the first fully ready devenv up.",
            t.setup_seconds(),
            t.first_ready_at,
        ),
        (
            "devenv.time_to_first_commit",
            "From the clone to the first commit by the local user.",
            t.time_to_first_commit_seconds(),
            t.first_commit_at,
        ),
        (
            "devenv.time_to_first_push",
            "From the clone to the first push.",
            t.time_to_first_push_seconds(),
            t.first_push_at,
        ),
        (
            "devenv.time_to_production",
            "From the clone to the user's first commit on the upstream default branch.",
            t.time_to_production_seconds(),
            t.first_merged_at,
        ),
    ];
    figures
        .into_iter()
        .filter_map(|(name, description, secs, at)| {
            Some(gauge(
                name,
                "s",
                description,
                vec![point(vec![], &nanos(at?), secs?)],
            ))
        })
        .collect()
}

pub fn run_request(f: &Facts, run: &Run) -> Value {
    let time = nanos(run.finished_at);
    let mut base = vec![
        attr("devenv.run.id", &run.id),
        attr("devenv.run.kind", run.kind.as_str()),
        attr("devenv.run.outcome", run.outcome.as_str()),
    ];
    if let Some(step) = &run.failed_step {
        base.push(attr("devenv.run.failed_step", step));
    }
    if let Some(ci) = &run.ci {
        base.push(attr("devenv.ci.provider", ci.provider.as_str()));
        for (key, v) in [
            ("devenv.ci.pipeline", &ci.pipeline),
            ("devenv.ci.job", &ci.job),
            ("devenv.ci.commit", &ci.commit),
        ] {
            if let Some(v) = v {
                base.push(attr(key, v));
            }
        }
    }
    let mut duration = point(base.clone(), &time, run.seconds());
    duration["startTimeUnixNano"] = json!(nanos(run.started_at));
    let phases = run
        .phases
        .iter()
        .map(|p| {
            let mut a = base.clone();
            a.push(attr("devenv.phase", &p.name));
            point(a, &time, p.seconds)
        })
        .collect();
    let c = run.fetches.summary();
    let item = |kind: &str, state: &str, n: u64| {
        let mut a = base.clone();
        a.push(attr("devenv.cache.kind", kind));
        a.push(attr("devenv.cache.state", state));
        int_point(a, &time, n)
    };
    let bytes = |kind: &str, n: u64| {
        let mut a = base.clone();
        a.push(attr("devenv.cache.kind", kind));
        int_point(a, &time, n)
    };
    if !run.kind.is_setup() {
        let d = gauge(
            "devenv.run",
            "s",
            "How long the devenv down or reset took.",
            vec![duration],
        );
        return with_onboarding(f, run, vec![d]);
    }
    let metrics = vec![
        gauge(
            "devenv.up",
            "s",
            "How long the devenv up took.",
            vec![duration],
        ),
        gauge(
            "devenv.up.phase",
            "s",
            "How long each phase of the devenv up took (images is part of services).",
            phases,
        ),
        gauge(
            "devenv.up.cache_items",
            "{item}",
            "Tools and images the devenv up needed: fetched now or reused.",
            vec![
                item("tool", "downloaded", c.tools_downloaded),
                item("tool", "reused", c.tools_reused),
                item("image", "pulled", c.images_pulled),
                item("image", "present", c.images_present),
            ],
        ),
        gauge(
            "devenv.up.download",
            "By",
            "Bytes the devenv up downloaded.",
            vec![bytes("tool", c.tool_bytes), bytes("image", c.image_bytes)],
        ),
    ];
    with_onboarding(f, run, metrics)
}

/// A hire's run also carries the timeline; a CI job is nobody: no
/// identity and no onboarding.
fn with_onboarding(f: &Facts, run: &Run, mut metrics: Vec<Value>) -> Value {
    if run.ci.is_some() {
        return envelope(f, None, metrics);
    }
    metrics.extend(onboarding_metrics(f));
    envelope(f, f.hire, metrics)
}

/// The onboarding gauges alone, when there is no new run to carry them.
pub fn onboarding_request(f: &Facts) -> Option<Value> {
    let m = onboarding_metrics(f);
    (!m.is_empty()).then(|| envelope(f, f.hire, m))
}
