//! The platform-side files in contrib/ fit what devenv actually pushes.

#[path = "metrics_support/mod.rs"]
mod support;

use std::collections::BTreeSet;

use support::*;

fn metric_names(expr: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"[a-z_][a-z0-9_:]*").unwrap();
    re.find_iter(expr)
        .map(|m| m.as_str().to_string())
        .filter(|n| n.starts_with("devenv_") || n.contains(":devenv_"))
        .collect()
}

#[test]
fn recording_rules_and_dashboard_use_only_metrics_devenv_pushes() {
    // What devenv pushes, from a real journal with a complete timeline.
    let env = cloned_env(
        "[project]\nname = \"contrib\"\n[metrics]\nendpoint = \"http://127.0.0.1:9\"\nauto_report = false\n",
        "2026-03-01T09:00:00Z",
        &[],
    );
    commit_as(&env, &env.repo(), USER, "2026-03-01T12:00:00Z");
    // Pushed straight to main: every onboarding step is known.
    push(&env, &["origin", "main"], "2026-03-01T13:00:00Z");
    env.run(["up", "--yes"]).success();
    // And a failed one, so the failure metrics are there too.
    let text = env.read("devenv.toml");
    env.write(
        "devenv.toml",
        &format!("{text}[hooks]\nsetup = [\"exit 3\"]\n"),
    );
    env.run(["up", "--yes"]).code(1);
    let pushed = type_lines(&env.run(["report", "--dry-run"]).success().stdout);
    assert!(pushed.contains("devenv_setup_seconds"), "{pushed:?}");

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib");
    let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(root.join("prometheus/devenv-rules.yml")).unwrap(),
    )
    .unwrap();
    let mut recorded = BTreeSet::new();
    for group in rules["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            // A rule may build on one recorded before it (the top failing step).
            for name in metric_names(rule["expr"].as_str().unwrap()) {
                assert!(
                    pushed.contains(&name) || recorded.contains(&name),
                    "rule uses {name}, which devenv does not push and no rule before it records"
                );
            }
            recorded.insert(rule["record"].as_str().unwrap().to_string());
        }
    }

    let dash: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("grafana/devenv-onboarding.json")).unwrap(),
    )
    .unwrap();
    let mut exprs = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().into_iter().flatten() {
            exprs.push(t["expr"].as_str().unwrap().to_string());
        }
    }
    assert!(exprs.len() >= 8);
    for expr in &exprs {
        for name in metric_names(expr) {
            assert!(
                recorded.contains(&name) || pushed.contains(&name),
                "the dashboard queries {name}, which is neither recorded nor pushed"
            );
        }
    }
    for want in [
        "project:devenv_setup_seconds:p90_1w",
        "project:devenv_time_to_first_commit_seconds:p90_1w",
    ] {
        assert!(
            exprs.iter().any(|e| e.contains(want)),
            "no panel shows {want}"
        );
    }
}

/// Pushgateway series the OTLP export has no gauge for, by design: counts
/// over the whole journal (OTLP sends each run, with its outcome and step,
/// so a backend counts them), and moments that OTLP points carry as their
/// time, or (the CI commit) as an attribute.
const PUSHGATEWAY_ONLY: [&str; 11] = [
    "devenv_up_total",
    "devenv_up_failed_step_total",
    "devenv_runs_total",
    "devenv_up_last_success",
    "devenv_up_last_timestamp_seconds",
    "devenv_cloned_timestamp_seconds",
    "devenv_first_ready_timestamp_seconds",
    "devenv_first_commit_timestamp_seconds",
    "devenv_first_push_timestamp_seconds",
    "devenv_first_merged_timestamp_seconds",
    "devenv_ci_info",
];

/// What an OpenTelemetry collector's Prometheus exporter calls a metric:
/// dots become underscores and the unit becomes a suffix (`s` seconds,
/// `By` bytes; annotations in braces are dropped).
fn prometheus_name(name: &str, unit: &str) -> String {
    let base = name.replace('.', "_");
    match unit {
        "s" => format!("{base}_seconds"),
        "By" => format!("{base}_bytes"),
        _ => base,
    }
}

fn type_lines(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn otlp_carries_the_pushgateways_figures_under_the_same_names() {
    let manifest = |format: &str| {
        format!(
            "[project]\nname = \"names\"\n[metrics]\nendpoint = \"http://127.0.0.1:9\"\nformat = \"{format}\"\nauto_report = false\n"
        )
    };
    let env = cloned_env(&manifest("pushgateway"), "2026-03-01T09:00:00Z", &[]);
    commit_as(&env, &env.repo(), USER, "2026-03-01T12:00:00Z");
    push(&env, &["origin", "main"], "2026-03-01T13:00:00Z");
    env.run(["up"]).success();
    env.run(["down"]).success();
    env.run(["reset", "--yes"]).success();
    let pushed = type_lines(&env.run(["report", "--dry-run"]).success().stdout);

    env.write("devenv.toml", &manifest("otlp"));
    let dry = env.run(["report", "--dry-run"]).success().stdout.clone();
    let mut exported = BTreeSet::new();
    for body in dry.lines().filter(|l| l.starts_with('{')) {
        let doc: serde_json::Value = serde_json::from_str(body).unwrap();
        for m in doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
            .as_array()
            .unwrap()
        {
            let name = m["name"].as_str().unwrap();
            exported.insert(prometheus_name(name, m["unit"].as_str().unwrap()));
        }
    }
    let shared: BTreeSet<String> = pushed
        .iter()
        .filter(|n| !PUSHGATEWAY_ONLY.contains(&n.as_str()))
        .cloned()
        .collect();
    assert_eq!(exported, shared, "OTLP (translated) vs Pushgateway");
    for figure in [
        "devenv_setup_seconds",
        "devenv_time_to_first_commit_seconds",
        "devenv_time_to_first_push_seconds",
        "devenv_time_to_production_seconds",
    ] {
        assert!(exported.contains(figure), "{figure} not in {exported:?}");
    }
}
