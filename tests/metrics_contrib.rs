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
    env.run(["up", "--yes"]).success();
    // And a failed one, so the failure metrics are there too.
    let text = env.read("devenv.toml");
    env.write(
        "devenv.toml",
        &format!("{text}[hooks]\nsetup = [\"exit 3\"]\n"),
    );
    env.run(["up", "--yes"]).code(1);
    let pushed: BTreeSet<String> = env
        .run(["report", "--dry-run"])
        .success()
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert!(pushed.contains("devenv_setup_seconds"), "{pushed:?}");

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib");
    let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(root.join("prometheus/devenv-rules.yml")).unwrap(),
    )
    .unwrap();
    let mut recorded = BTreeSet::new();
    for group in rules["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            recorded.insert(rule["record"].as_str().unwrap().to_string());
            for name in metric_names(rule["expr"].as_str().unwrap()) {
                assert!(
                    pushed.contains(&name),
                    "rule uses {name}, which devenv does not push"
                );
            }
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
