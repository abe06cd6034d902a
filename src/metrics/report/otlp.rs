//! OTLP/HTTP with the JSON encoding: one export request per run to
//! `<endpoint>/v1/metrics`, gauges dated at the run's own times and tagged
//! with its id, so a resent request describes identical points.

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

fn envelope(f: &Facts, metrics: Vec<Value>) -> Value {
    let mut resource = vec![
        attr("service.name", "devenv"),
        attr("service.version", env!("CARGO_PKG_VERSION")),
        attr("devenv.project", f.project),
        attr("os.type", std::env::consts::OS),
        attr("host.arch", std::env::consts::ARCH),
    ];
    if let Some(h) = f.hire {
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

fn onboarding_metrics(f: &Facts) -> Vec<Value> {
    let t = f.timeline;
    let mut out = Vec::new();
    if let (Some(s), Some(at)) = (t.setup_seconds(), t.first_ready_at) {
        out.push(gauge(
            "devenv.setup.duration",
            "s",
            "From the clone to the first fully ready devenv up.",
            vec![point(vec![], &nanos(at), s)],
        ));
    }
    if let (Some(s), Some(at)) = (t.time_to_first_commit_seconds(), t.first_commit_at) {
        out.push(gauge(
            "devenv.time_to_first_commit",
            "s",
            "From the clone to the first commit by the local user.",
            vec![point(vec![], &nanos(at), s)],
        ));
    }
    out
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
    let mut metrics = vec![
        gauge(
            "devenv.run.duration",
            "s",
            "How long the run took.",
            vec![duration],
        ),
        gauge(
            "devenv.run.phase.duration",
            "s",
            "How long each phase of the run took (images is part of services).",
            phases,
        ),
        gauge(
            "devenv.run.cache.items",
            "{item}",
            "Tools and images the run needed: fetched now or reused.",
            vec![
                item("tool", "downloaded", c.tools_downloaded),
                item("tool", "reused", c.tools_reused),
                item("image", "pulled", c.images_pulled),
                item("image", "present", c.images_present),
            ],
        ),
        gauge(
            "devenv.run.download.size",
            "By",
            "Bytes the run downloaded.",
            vec![bytes("tool", c.tool_bytes), bytes("image", c.image_bytes)],
        ),
    ];
    metrics.extend(onboarding_metrics(f));
    envelope(f, metrics)
}

/// The onboarding gauges alone, when there is no new run to carry them.
pub fn onboarding_request(f: &Facts) -> Option<Value> {
    let m = onboarding_metrics(f);
    (!m.is_empty()).then(|| envelope(f, m))
}
