//! contrib/ against the real thing: hires and CI jobs report through
//! `devenv report` to a private Pushgateway, a private Prometheus (Debian's
//! 2.42) scrapes it with contrib's recording rules loaded, and every rule
//! and every Grafana panel's query is evaluated through its HTTP API. The
//! numbers it answers must be the ones computed here from each clone's own
//! `devenv metrics --json`.

#[path = "metrics_support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

type Labels = BTreeMap<String, String>;
/// What a query answers: one value per label set.
type Vector = BTreeMap<Labels, f64>;

fn contrib() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib")
}

/// A program the test needs, or a failure that says how to get it.
fn need(program: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{program} is not installed: run tests/support/setup.sh \
                 (it installs Debian's prometheus and prometheus-pushgateway)"
            )
        })
}

/// A daemon of this test, killed when the test ends however it ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Daemon {
    fn start(mut cmd: Command, what: &str, ready: impl FnMut() -> bool) -> Daemon {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let mut d = Daemon(child);
        wait_until_alive(&mut d.0, Duration::from_secs(60), what, ready);
        d
    }

    #[track_caller]
    fn alive(&mut self, what: &str) {
        if let Some(status) = self.0.try_wait().unwrap() {
            panic!("{what} exited ({status})");
        }
    }
}

fn answers(url: &str) -> bool {
    http_get(url).0 == 200
}

fn pushgateway(port: u16) -> Daemon {
    let mut cmd = Command::new(need("prometheus-pushgateway"));
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let url = format!("http://127.0.0.1:{port}/metrics");
    Daemon::start(cmd, "the private Pushgateway to answer", || answers(&url))
}

/// Prometheus scraping the Pushgateway every second with contrib's rules,
/// evaluated every second, keeping its data in `dir`.
fn prometheus(dir: &Path, port: u16, pushgateway: u16) -> Daemon {
    let rules = contrib().join("prometheus/devenv-rules.yml");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    \
             static_configs:\n      - targets: ['127.0.0.1:{pushgateway}']\n",
            rules = rules.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(need("prometheus"));
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let url = format!("http://127.0.0.1:{port}/-/ready");
    Daemon::start(cmd, "the private Prometheus to be ready", || answers(&url))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant query through `/api/v1/query`.
fn query(base: &str, expr: &str) -> Vector {
    let (status, _, body) = http_get(&format!(
        "{base}/api/v1/query?query={}",
        percent_encode(expr)
    ));
    assert_eq!(status, 200, "{expr}: {body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["status"], "success", "{expr}: {body}");
    doc["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels: Labels = s["metric"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let value: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
            (labels, value)
        })
        .collect()
}

fn same(a: &Vector, b: &Vector) -> bool {
    a.len() == b.len()
        && a.iter().all(|(l, v)| {
            b.get(l)
                .is_some_and(|w| (v - w).abs() <= 1e-9 * v.abs().max(w.abs()).max(1.0))
        })
}

/// Prometheus' `quantile`: linear interpolation between the closest ranks.
fn quantile(q: f64, values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = q * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (rank - lo as f64)
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// One clone that reported: a hire's laptop or a CI job.
struct Reporter {
    project: &'static str,
    ci: bool,
    doc: serde_json::Value,
}

impl Reporter {
    fn setup_runs(&self) -> Vec<&serde_json::Value> {
        self.doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == "up" || r["kind"] == "ci")
            .collect()
    }

    fn source(&self) -> &'static str {
        if self.ci {
            "ci"
        } else {
            "laptop"
        }
    }

    fn onboarding(&self, key: &str) -> Option<f64> {
        self.doc["onboarding"][key].as_f64()
    }
}

fn seconds(run: &serde_json::Value) -> f64 {
    let t = |k: &str| chrono::DateTime::parse_from_rfc3339(run[k].as_str().unwrap()).unwrap();
    (t("finished_at") - t("started_at")).num_milliseconds() as f64 / 1000.0
}

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

/// What every recording rule must answer, computed from the reporters.
fn expectations(all: &[Reporter]) -> BTreeMap<String, Vector> {
    let mut out: BTreeMap<String, Vector> = BTreeMap::new();
    let projects: BTreeSet<&str> = all.iter().map(|r| r.project).collect();
    for project in &projects {
        let hires: Vec<&Reporter> = all
            .iter()
            .filter(|r| r.project == *project && !r.ci)
            .collect();
        for (rule, key) in [
            ("devenv_setup_seconds", "setup_seconds"),
            (
                "devenv_time_to_first_commit_seconds",
                "time_to_first_commit_seconds",
            ),
            (
                "devenv_time_to_first_push_seconds",
                "time_to_first_push_seconds",
            ),
            (
                "devenv_time_to_production_seconds",
                "time_to_production_seconds",
            ),
        ] {
            let values: Vec<f64> = hires.iter().filter_map(|h| h.onboarding(key)).collect();
            if values.is_empty() {
                continue;
            }
            let l = labels(&[("project", project)]);
            for (q, suffix) in [(0.5, "p50"), (0.9, "p90")] {
                let v = quantile(q, &values);
                out.entry(format!("project:{rule}:{suffix}"))
                    .or_default()
                    .insert(l.clone(), v);
                // Every milestone of this test is within the last week.
                let weekly = format!("project:{rule}:{suffix}_1w");
                let has_weekly = suffix == "p50"
                    || key == "setup_seconds"
                    || key == "time_to_first_commit_seconds";
                if has_weekly {
                    out.entry(weekly).or_default().insert(l.clone(), v);
                }
            }
            let count = match key {
                "setup_seconds" => Some("project:devenv_setup_hires:count_1w"),
                "time_to_first_commit_seconds" => {
                    Some("project:devenv_first_commit_hires:count_1w")
                }
                _ => None,
            };
            if let Some(c) = count {
                out.entry(c.into())
                    .or_default()
                    .insert(l.clone(), values.len() as f64);
            }
        }
        for source in ["laptop", "ci"] {
            let group: Vec<&Reporter> = all
                .iter()
                .filter(|r| r.project == *project && r.source() == source)
                .collect();
            if group.is_empty() {
                continue;
            }
            let l = labels(&[("project", project), ("source", source)]);
            let runs: Vec<&serde_json::Value> = group.iter().flat_map(|r| r.setup_runs()).collect();
            let ok = runs.iter().filter(|r| r["outcome"] == "ok").count();
            out.entry("project_source:devenv_setup_stability:ratio".into())
                .or_default()
                .insert(l.clone(), ok as f64 / runs.len() as f64);
            // Each group's last setup run.
            let lasts: Vec<&serde_json::Value> = group
                .iter()
                .filter_map(|r| r.setup_runs().last().copied())
                .collect();
            let secs: Vec<f64> = lasts.iter().map(|r| seconds(r)).collect();
            let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for r in &lasts {
                for p in r["phases"].as_array().unwrap() {
                    phases
                        .entry(p["name"].as_str().unwrap().to_string())
                        .or_default()
                        .push(p["seconds"].as_f64().unwrap());
                }
            }
            let mut steps: BTreeMap<String, f64> = BTreeMap::new();
            for r in &runs {
                if let Some(s) = r["failed_step"].as_str() {
                    *steps.entry(s.to_string()).or_default() += 1.0;
                }
            }
            for (q, suffix) in [(0.5, "p50"), (0.9, "p90")] {
                out.entry(format!("project_source:devenv_up_seconds:{suffix}"))
                    .or_default()
                    .insert(l.clone(), quantile(q, &secs));
                for (phase, values) in &phases {
                    let mut pl = l.clone();
                    pl.insert("phase".into(), phase.clone());
                    out.entry(format!(
                        "project_source_phase:devenv_up_phase_seconds:{suffix}"
                    ))
                    .or_default()
                    .insert(pl, quantile(q, values));
                }
            }
            for (step, n) in &steps {
                let mut sl = l.clone();
                sl.insert("step".into(), step.clone());
                out.entry("project_source_step:devenv_up_failed_step:sum".into())
                    .or_default()
                    .insert(sl, *n);
            }
            if let Some((step, n)) = steps.iter().max_by(|a, b| a.1.total_cmp(b.1)) {
                let mut sl = l.clone();
                sl.insert("step".into(), step.clone());
                out.entry("project_source:devenv_up_top_failed_step:sum".into())
                    .or_default()
                    .insert(sl, *n);
            }
        }
    }
    out
}

/// The query answered `want` before the deadline; a wrong answer waits
/// (the scrape or the rule evaluation may not have happened yet).
fn evaluates_to(prom: &mut Daemon, base: &str, expr: &str, want: &Vector) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        prom.alive("the private Prometheus");
        let got = query(base, expr);
        if same(&got, want) {
            return;
        }
        if Instant::now() > deadline {
            panic!("{expr}\n  got:  {got:?}\n  want: {want:?}");
        }
        std::thread::sleep(Duration::from_millis(250));
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
