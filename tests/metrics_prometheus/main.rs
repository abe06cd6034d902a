//! contrib/ against the real thing: hires and CI jobs report through
//! `devenv report` to a private Pushgateway, a private Prometheus (Debian's
//! 2.42) scrapes it with contrib's recording rules loaded, and every rule
//! and every Grafana panel's query is evaluated through its HTTP API. The
//! numbers it answers must be the ones computed here from each clone's own
//! `devenv metrics --json`.

#[path = "../metrics_support/mod.rs"]
mod support;

mod expect;
mod server;

use std::collections::BTreeSet;
use std::process::Command;

use expect::{expectations, labels, Reporter, Vector};
use server::{contrib, evaluates_to, need, prometheus, pushgateway};
use support::*;

fn manifest(project: &str, endpoint: &str) -> String {
    format!(
        "[project]\nname = \"{project}\"\n[metrics]\nendpoint = \"{endpoint}\"\nauto_report = false\n"
    )
}

/// How an `up` of the test goes wrong, in a step of its own.
#[derive(Clone, Copy)]
enum Fails {
    Hooks,
    Tools,
}

/// Runs one `up` that fails in `step` (the manifest changed in the working
/// tree only), then puts devenv.toml back.
fn failed_up(env: &TestEnv, step: Fails) {
    let good = env.read("devenv.toml");
    let extra = match step {
        Fails::Hooks => "[hooks]\nsetup = [\"exit 3\"]\n".to_string(),
        Fails::Tools => format!(
            "[tools.broken]\nversion = \"1.0\"\nurl = \"http://127.0.0.1:{}/broken-{{version}}.tar.gz\"\n\
             sha256 = {{ \"linux-x86_64\" = \"{z}\", \"linux-aarch64\" = \"{z}\", \"macos-x86_64\" = \"{z}\", \"macos-aarch64\" = \"{z}\" }}\n",
            free_port(),
            z = "0".repeat(64)
        ),
    };
    env.write("devenv.toml", &format!("{good}{extra}"));
    env.run(["up", "--yes"]).code(1);
    env.write("devenv.toml", &good);
}

fn at(base: chrono::DateTime<chrono::Utc>, hours: i64) -> String {
    (base + chrono::Duration::hours(hours))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A hire of `project`: cloned at `clone` hours, and what they did after.
struct Hire {
    project: &'static str,
    clone: i64,
    fails: &'static [Fails],
    commit: Option<i64>,
    push: Option<i64>,
    merged: Option<(Merge, i64)>,
}

fn hire(h: &Hire, base: chrono::DateTime<chrono::Utc>, endpoint: &str) -> Reporter {
    let env = cloned_env(&manifest(h.project, endpoint), &at(base, h.clone), &[]);
    // The hire's own address, so hires are told apart by more than their salt.
    let email = format!("hire-{}-{}@corp.io", h.project, h.clone);
    env.git(&env.repo(), &["config", "user.email", &email]);
    env.run(["up"]).success();
    for step in h.fails {
        failed_up(&env, *step);
    }
    env.run(["up"]).success();
    if let Some(c) = h.commit {
        env.git(&env.repo(), &["checkout", "-q", "-b", "work"]);
        commit_as(&env, &env.repo(), &email, &at(base, c));
    }
    let hire_vars = |hours: i64| {
        [
            ("GIT_COMMITTER_EMAIL", email.clone()),
            ("GIT_COMMITTER_DATE", at(base, hours)),
        ]
    };
    if let Some(p) = h.push {
        // Straight to main when nothing is merged for them: that is production.
        let target = if h.merged.is_some() {
            "work"
        } else {
            "work:main"
        };
        let v = hire_vars(p);
        let v: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.git_with(&env.repo(), &["push", "-q", "origin", target], &v);
    }
    if let Some((how, m)) = h.merged {
        merge_on_origin(&env, "work", how, &at(base, m));
    }
    if h.push.is_some() {
        env.git(&env.repo(), &["fetch", "-q", "origin"]);
    }
    env.run(["report"]).success().stderr_has("sent");
    let doc = env.run(["metrics", "--json"]).success().json();
    Reporter {
        project: h.project,
        ci: false,
        doc,
    }
}

/// A CI job of `project`: one `up`, failing or not, reported.
fn ci_job(
    project: &'static str,
    vars: &[(&str, &str)],
    fails: Option<Fails>,
    endpoint: &str,
) -> Reporter {
    let mut env = cloned_env(&manifest(project, endpoint), "2026-01-05T00:00:00Z", &[]);
    for (k, v) in vars {
        env = env.env(k, v);
    }
    match fails {
        Some(step) => failed_up(&env, step),
        None => {
            env.run(["up"]).success();
        }
    }
    env.run(["report"]).success().stderr_has("sent");
    let doc = env.run(["metrics", "--json"]).success().json();
    assert!(
        doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] == "ci"),
        "{doc:#}"
    );
    Reporter {
        project,
        ci: true,
        doc,
    }
}

#[test]
fn prometheus_answers_every_rule_and_panel_with_the_numbers_the_hires_and_ci_jobs_reported() {
    // The rules are valid for promtool, and their own unit test passes.
    let promtool = need("promtool");
    for args in [
        vec!["check", "rules", "devenv-rules.yml"],
        vec!["test", "rules", "devenv-rules.test.yml"],
    ] {
        let out = Command::new(&promtool)
            .args(&args)
            .current_dir(contrib().join("prometheus"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let pg_port = free_port();
    let _pg = pushgateway(pg_port);
    let endpoint = format!("http://127.0.0.1:{pg_port}");
    // Every milestone falls within the week before now, for the weekly rules.
    let base = chrono::Utc::now() - chrono::Duration::days(3);
    let base = chrono::SubsecRound::trunc_subsecs(base, 0);
    let hires = [
        Hire {
            project: "shop",
            clone: 0,
            fails: &[Fails::Hooks, Fails::Hooks],
            commit: Some(1),
            push: Some(2),
            merged: Some((Merge::Commit, 5)),
        },
        Hire {
            project: "shop",
            clone: 1,
            fails: &[Fails::Tools],
            commit: Some(3),
            push: Some(4),
            merged: Some((Merge::Squash, 9)),
        },
        Hire {
            project: "shop",
            clone: 2,
            fails: &[],
            commit: Some(8),
            push: None,
            merged: None,
        },
        Hire {
            project: "billing",
            clone: 0,
            fails: &[],
            commit: Some(2),
            push: Some(3),
            merged: None,
        },
    ];
    let mut all: Vec<Reporter> = hires.iter().map(|h| hire(h, base, &endpoint)).collect();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let github = |run: &'static str| {
        vec![
            ("CI", "true"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", run),
            ("GITHUB_JOB", "build"),
            ("GITHUB_SHA", sha),
        ]
    };
    all.push(ci_job("shop", &github("101"), None, &endpoint));
    all.push(ci_job(
        "shop",
        &github("102"),
        Some(Fails::Hooks),
        &endpoint,
    ));
    let gitlab = [
        ("GITLAB_CI", "true"),
        ("CI_PIPELINE_ID", "7"),
        ("CI_JOB_ID", "70"),
        ("CI_COMMIT_SHA", sha),
    ];
    all.push(ci_job("shop", &gitlab, None, &endpoint));
    let buildkite = [
        ("BUILDKITE", "true"),
        ("BUILDKITE_BUILD_ID", "b-1"),
        ("BUILDKITE_JOB_ID", "j-1"),
    ];
    all.push(ci_job("billing", &buildkite, Some(Fails::Tools), &endpoint));

    // The scenario is what it says: merged and squashed hires in production,
    // one hire not pushed yet, failures where they were made.
    let shop_a = &all[0].doc["onboarding"];
    assert_eq!(shop_a["time_to_production_seconds"], 3600.0, "{shop_a:#}");
    assert_eq!(
        all[1].doc["onboarding"]["time_to_production_seconds"],
        8.0 * 3600.0
    );
    assert!(all[2].doc["onboarding"]["first_push_at"].is_null());
    assert_eq!(
        all[3].doc["onboarding"]["time_to_production_seconds"],
        2.0 * 3600.0
    );

    let want = expectations(&all);
    // Spot checks of the computed numbers against the scenario itself.
    let l = |pairs: &[(&str, &str)]| labels(pairs);
    let stability = &want["project_source:devenv_setup_stability:ratio"];
    // Hires: ok, failed, failed, ok; ok, failed, ok; ok, ok.
    assert_eq!(
        stability[&l(&[("project", "shop"), ("source", "laptop")])],
        6.0 / 9.0
    );
    assert_eq!(
        stability[&l(&[("project", "shop"), ("source", "ci")])],
        2.0 / 3.0
    );
    assert_eq!(
        stability[&l(&[("project", "billing"), ("source", "ci")])],
        0.0
    );
    let top = &want["project_source:devenv_up_top_failed_step:sum"];
    assert_eq!(
        top[&l(&[("project", "shop"), ("source", "laptop"), ("step", "hooks")])],
        2.0
    );
    assert_eq!(
        top[&l(&[("project", "billing"), ("source", "ci"), ("step", "tools")])],
        1.0
    );
    assert_eq!(
        want["project:devenv_time_to_production_seconds:p50"][&l(&[("project", "shop")])],
        (3600.0 + 8.0 * 3600.0) / 2.0
    );

    // Every recording rule of the file is checked, none forgotten.
    let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(contrib().join("prometheus/devenv-rules.yml")).unwrap(),
    )
    .unwrap();
    let recorded: BTreeSet<String> = rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_sequence().unwrap().iter())
        .map(|r| r["record"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = want.keys().cloned().collect();
    assert_eq!(
        recorded, expected,
        "rules without an expectation, or the reverse"
    );

    let dir = tempfile::tempdir().unwrap();
    let prom_port = free_port();
    let mut prom = prometheus(dir.path(), prom_port, pg_port);
    let api = format!("http://127.0.0.1:{prom_port}");
    let mut evaluated: BTreeSet<String> = BTreeSet::new();
    for (rule, vector) in &want {
        evaluates_to(&mut prom, &api, rule, vector);
        evaluated.insert(rule.clone());
    }
    // The one panel query that reads devenv's series directly.
    let hires_per_project: Vector = [("shop", 3.0), ("billing", 1.0)]
        .iter()
        .map(|(p, n)| (l(&[("project", p)]), *n))
        .collect();
    let count = "count by (project) (devenv_setup_seconds{project=~\"$project\"})";
    evaluates_to(
        &mut prom,
        &api,
        &count.replace("$project", ".*"),
        &hires_per_project,
    );

    // Every panel of the dashboard queries one of those, and (with every
    // project selected) answers the same numbers.
    let dash: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(contrib().join("grafana/devenv-onboarding.json")).unwrap(),
    )
    .unwrap();
    let selector = "{project=~\"$project\"}";
    let mut panels = 0;
    for panel in dash["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let all_projects = expr.replace("$project", ".*");
            let vector = match expr.strip_suffix(selector) {
                Some(rule) => {
                    assert!(
                        evaluated.contains(rule),
                        "panel {} queries {expr}, which no rule records",
                        panel["title"]
                    );
                    &want[rule]
                }
                None => {
                    assert_eq!(
                        expr, count,
                        "panel {} queries something this test did not evaluate",
                        panel["title"]
                    );
                    &hires_per_project
                }
            };
            evaluates_to(&mut prom, &api, &all_projects, vector);
            panels += 1;
        }
    }
    assert!(panels >= 20, "{panels} panel queries");
}
