//! `devenv report` against real receivers: the Debian Pushgateway, a local
//! webhook receiver and an OTLP/HTTP receiver, across outages.

#[path = "metrics_support/mod.rs"]
mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::*;

fn manifest(project: &str, endpoint: &str, format: &str, extra: &str) -> String {
    format!(
        "[project]\nname = \"{project}\"\n[metrics]\nendpoint = \"{endpoint}\"\nformat = \"{format}\"\nauto_report = false\n{extra}"
    )
}

/// The lines of the Pushgateway's /metrics that belong to `project`.
fn group_lines(base: &str, project: &str) -> Vec<String> {
    http_get(&format!("{base}/metrics"))
        .2
        .lines()
        .filter(|l| l.contains(&format!("project=\"{project}\"")))
        .map(str::to_string)
        .collect()
}

fn sample(lines: &[String], name_and_labels: &[&str]) -> Option<f64> {
    lines
        .iter()
        .find(|l| {
            l.starts_with(&format!("{}{{", name_and_labels[0]))
                && name_and_labels[1..].iter().all(|p| l.contains(p))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn the_pushgateway_receives_the_runs_and_serves_them() {
    let project = unique("pgw");
    let pg = "http://127.0.0.1:9091";
    let env = cloned_env(
        &manifest(&project, pg, "pushgateway", ""),
        "2026-03-01T09:00:00Z",
        &[],
    );
    commit_as(&env, &env.repo(), USER, "2026-03-01T12:00:00Z");
    env.run(["up"]).success();
    env.run(["up", "--only", "tools"]).success();
    env.run(["report"]).success().stderr_has("sent 2 runs");

    let lines = group_lines(pg, &project);
    assert!(!lines.is_empty(), "no group for {project} on {pg}");
    assert_eq!(
        sample(&lines, &["devenv_up_total", "outcome=\"ok\""]),
        Some(2.0),
        "{lines:#?}"
    );
    assert_eq!(
        sample(&lines, &["devenv_up_total", "outcome=\"failed\""]),
        Some(0.0)
    );
    assert!(sample(&lines, &["devenv_up_phase_seconds", "phase=\"tools\""]).is_some());
    assert!(sample(&lines, &["devenv_setup_seconds"]).unwrap() > 0.0);
    assert_eq!(
        sample(&lines, &["devenv_time_to_first_commit_seconds"]),
        Some(10800.0)
    );
    // The hire is a salted hash, never the email.
    assert!(
        lines
            .iter()
            .all(|l| l.contains("hire=\"") && !l.contains("x.io")),
        "{lines:#?}"
    );

    // Nothing new: nothing sent. A new run: the group is replaced, not added to.
    env.run(["report"]).success().stderr_has("nothing to send");
    env.run(["up"]).success();
    env.run(["report"]).success().stderr_has("sent 1 run");
    let lines = group_lines(pg, &project);
    assert_eq!(
        sample(&lines, &["devenv_up_total", "outcome=\"ok\""]),
        Some(3.0),
        "{lines:#?}"
    );

    let hire = lines[0]
        .split("hire=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let (status, _, body) = http_request(
        "DELETE",
        &format!("{pg}/metrics/job/devenv/project/{project}/hire/{hire}"),
        &[],
        "",
    );
    assert!((200..300).contains(&status), "{status} {body}");
}

struct Pushgateway(Child);

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn private_pushgateway(port: u16) -> Pushgateway {
    let child = Command::new("prometheus-pushgateway")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-pushgateway (tests/support/setup.sh installs it)");
    let mut pg = Pushgateway(child);
    wait_until_alive(
        &mut pg.0,
        Duration::from_secs(30),
        &format!("the private pushgateway on {port} to answer"),
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
    );
    pg
}

#[test]
fn runs_stay_in_the_spool_while_the_pushgateway_is_down() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let project = unique("pgw-outage");
    let env = TestEnv::new().manifest(&manifest(&project, &base, "pushgateway", ""));
    env.run(["up"]).success();
    env.run(["up"]).success();
    env.run(["report"])
        .code(1)
        .stderr_has("cannot reach")
        .stderr_has("2 runs kept in the spool");
    let _pg = private_pushgateway(port);
    env.run(["report"]).success().stderr_has("sent 2 runs");
    let lines = group_lines(&base, &project);
    assert_eq!(
        sample(&lines, &["devenv_up_total", "outcome=\"ok\""]),
        Some(2.0),
        "{lines:#?}"
    );
}

fn ids(env: &TestEnv) -> Vec<String> {
    journal_lines(env)
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_webhook_gets_each_run_exactly_once_across_an_outage() {
    let port = free_port();
    let env = TestEnv::new().manifest(&manifest(
        "hooked",
        &format!("http://127.0.0.1:{port}/ingest"),
        "webhook",
        "",
    ));
    env.run(["up"]).success();
    env.run(["up", "--only", "tools"]).success();
    // The receiver is down for the first report.
    env.run(["report"])
        .code(1)
        .stderr_has("2 runs kept in the spool");
    let rx = receiver_on(port);
    env.run(["report"]).success().stderr_has("sent 2 runs");
    env.run(["up"]).success();
    env.run(["report"]).success().stderr_has("sent 1 run");
    env.run(["report"]).success().stderr_has("nothing to send");

    let got = rx.accepted();
    let sent: Vec<String> = got
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, ids(&env), "each run once, in journal order");
    for r in &got {
        assert_eq!(r.method, "POST");
        assert_eq!(r.target, "/ingest");
        let doc = r.json();
        assert_eq!(r.header("Idempotency-Key"), doc["id"].as_str());
        assert_eq!(doc["type"], "run");
        assert_eq!(doc["project"], "hooked");
        assert!(doc["phases"].is_array());
        assert!(doc["onboarding"].is_object());
    }
}

#[test]
fn a_rejected_request_is_retried_next_time_without_resending_the_ones_before_it() {
    let rx = receiver();
    let env = TestEnv::new().manifest(&manifest("partial", &rx.base(), "webhook", ""));
    for _ in 0..3 {
        env.run(["up"]).success();
    }
    // The first run is accepted, the second refused: the report stops there.
    rx.answer_next([200, 503]);
    env.run(["report"])
        .code(1)
        .stderr_has("HTTP 503")
        .stderr_has("2 runs kept in the spool");
    env.run(["report"]).success().stderr_has("sent 2 runs");
    let sent: Vec<String> = rx
        .accepted()
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, ids(&env));
}

#[test]
fn otlp_export_carries_stable_run_ids() {
    let rx = receiver();
    let env = TestEnv::new().manifest(&manifest("traced", &rx.base(), "otlp", ""));
    env.run(["up"]).success();
    let dry = env.run(["report", "--dry-run"]).success();
    env.run(["report"]).success().stderr_has("sent 1 run");
    let got = rx.accepted();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].target, "/v1/metrics");
    assert_eq!(got[0].header("Content-Type"), Some("application/json"));
    // What --dry-run printed is exactly what was sent.
    assert!(dry.stdout.contains(&got[0].body), "{}", dry.stdout);
    let doc = got[0].json();
    let rm = &doc["resourceMetrics"][0];
    let attrs = rm["resource"]["attributes"].to_string();
    assert!(
        attrs.contains("\"devenv.project\"") && attrs.contains("traced"),
        "{attrs}"
    );
    let metrics = rm["scopeMetrics"][0]["metrics"].as_array().unwrap();
    let names: Vec<&str> = metrics
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for want in ["devenv.up", "devenv.up.phase", "devenv.setup"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let id = &ids(&env)[0];
    let phase_points = metrics
        .iter()
        .find(|m| m["name"] == "devenv.up.phase")
        .unwrap()["gauge"]["dataPoints"]
        .as_array()
        .unwrap();
    // Pre-flight and the six phases (tools, mocks, services, config, hooks, processes).
    assert_eq!(phase_points.len(), 7);
    for p in phase_points {
        assert!(p["attributes"].to_string().contains(id.as_str()));
        assert!(p["timeUnixNano"].as_str().unwrap().parse::<u128>().is_ok());
    }
}

#[test]
fn dry_run_prints_the_payload_and_changes_nothing() {
    let rx = receiver();
    let env = TestEnv::new().manifest(&manifest("dry", &rx.base(), "webhook", ""));
    env.run(["up"]).success();
    let dry = env.run(["report", "--dry-run"]).success();
    assert!(
        dry.stdout.starts_with(&format!("POST {}", rx.base())),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("Idempotency-Key: "));
    assert!(rx.accepted().is_empty());
    env.run(["report"]).success().stderr_has("sent 1 run");
    assert_eq!(rx.accepted().len(), 1);
}

#[test]
fn nothing_sent_names_a_path_a_hostname_or_the_email() {
    let rx = receiver();
    let env = cloned_env(
        &manifest("privy", &rx.base(), "webhook", ""),
        "2026-03-01T09:00:00Z",
        &[],
    );
    env.run(["up"]).success();
    env.run(["report"]).success();
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let body = &rx.accepted()[0].body;
    let repo = env.repo();
    for secret in [repo.to_str().unwrap(), "/tmp/", USER, "x.io", host.trim()] {
        if !secret.is_empty() {
            assert!(!body.contains(secret), "{secret:?} sent in {body}");
        }
    }
    let hire = rx.accepted()[0].json()["hire"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(hire.len(), 16);

    // identity = "email" and "none" are honoured.
    for (identity, want) in [
        ("email", serde_json::json!(USER)),
        ("none", serde_json::Value::Null),
    ] {
        let rx = receiver();
        let env = cloned_env(
            &manifest(
                "privy",
                &rx.base(),
                "webhook",
                &format!("identity = \"{identity}\"\n"),
            ),
            "2026-03-01T09:00:00Z",
            &[],
        );
        env.run(["up"]).success();
        env.run(["report"]).success();
        assert_eq!(
            rx.accepted()[0].json()["hire"],
            want,
            "identity = {identity}"
        );
    }
}

#[test]
fn auto_report_sends_at_the_end_of_up() {
    let rx = receiver();
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"auto\"\n[metrics]\nendpoint = \"{}\"\nformat = \"webhook\"\n",
        rx.base()
    ));
    env.run(["up"]).success();
    assert_eq!(rx.accepted().len(), 1);
    env.run(["up"]).success();
    let sent: Vec<String> = rx
        .accepted()
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, ids(&env));
}

#[test]
fn auto_report_to_a_dead_or_silent_endpoint_never_fails_up() {
    let closed = free_port();
    let silent = blackhole();
    for port in [closed, silent.port] {
        let env = TestEnv::new().manifest(&format!(
            "[project]\nname = \"auto\"\n[metrics]\nendpoint = \"http://127.0.0.1:{port}\"\nformat = \"webhook\"\nauto_report = true\ntimeout = \"300ms\"\n"
        ));
        env.run(["up"])
            .success()
            .stderr_has("metrics not sent")
            .stderr_has("kept for the next `devenv report`");
        assert_eq!(journal_lines(&env).len(), 1);
    }
}

/// An unreachable endpoint printed reqwest's raw chain ("error sending
/// request for url (...): client error (Connect): tcp connect error:
/// Connection refused (os error 111)"): now one line naming the endpoint,
/// and where it is set, for `report` and for the auto-report after `up`.
#[test]
fn an_unreachable_endpoint_is_one_line_that_names_it_and_its_setting() {
    let port = free_port();
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"refused\"\n[metrics]\nendpoint = \"http://127.0.0.1:{port}\"\nformat = \"webhook\"\n"
    ));
    let up = env.run(["up"]).success();
    let warning: Vec<&str> = up
        .stderr
        .lines()
        .filter(|l| l.contains("metrics"))
        .collect();
    assert_eq!(
        warning,
        [format!(
            "warning: metrics not sent: cannot reach the metrics endpoint http://127.0.0.1:{port}: connection refused; kept for the next `devenv report` (the endpoint is set by `[metrics] endpoint` in devenv.toml)"
        )],
        "{}",
        up.stderr
    );
    let report = env.run(["report"]).code(1);
    assert_eq!(
        report.stderr,
        format!(
            "error: cannot reach the metrics endpoint http://127.0.0.1:{port}: connection refused\n  \
             hint: is it running? It is set by `[metrics] endpoint` in devenv.toml; 1 run kept in the spool, sent by the next `devenv report`\n"
        )
    );
}

#[test]
fn a_clone_without_runs_sends_nothing() {
    let rx = receiver();
    let env = TestEnv::new().manifest(&manifest("empty", &rx.base(), "pushgateway", ""));
    env.run(["report"]).success().stderr_has("nothing to send");
    assert!(rx.accepted().is_empty());
}

#[test]
fn credentials_in_the_endpoint_url_are_used_but_never_printed() {
    let rx = receiver();
    let with_creds = format!("http://ci:s3cret@127.0.0.1:{}/in", rx.port);
    let env = TestEnv::new().manifest(&manifest("creds", &with_creds, "webhook", ""));
    env.run(["up"]).success();
    let dry = env.run(["report", "--dry-run"]).success();
    assert!(!dry.stdout.contains("s3cret"), "{}", dry.stdout);
    env.run(["report"]).success().stderr_lacks("s3cret");
    assert_eq!(
        rx.accepted()[0].header("Authorization"),
        Some("Basic Y2k6czNjcmV0")
    );
    // Unreachable: the error names the endpoint without the secret.
    let closed = format!("http://ci:s3cret@127.0.0.1:{}/in", free_port());
    let env = TestEnv::new().manifest(&manifest("creds", &closed, "webhook", ""));
    env.run(["up"]).success();
    env.run(["report"])
        .code(1)
        .stderr_has("cannot reach the metrics endpoint http://***@127.0.0.1")
        .stderr_lacks("s3cret");
}

/// Two `devenv report`s at once (a user's and the post-commit hook's, say)
/// sent the same runs twice: now the second waits for the first and sends
/// only what is left.
#[test]
fn two_reports_at_once_send_each_run_once() {
    let rx = receiver();
    // Slow enough that the two reports overlap.
    rx.fault_everywhere(Fault::Delay(Duration::from_millis(150)));
    let env = TestEnv::new().manifest(&manifest("twice", &rx.base(), "webhook", ""));
    for _ in 0..3 {
        env.run(["up"]).success();
    }
    let started: Vec<_> = (0..2)
        .map(|_| {
            env.command(["report"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in started {
        let status = wait_for_exit(
            &mut child,
            std::time::Duration::from_secs(120),
            "a concurrent `devenv report`",
        );
        assert!(status.success());
    }
    let sent: Vec<String> = rx
        .accepted()
        .iter()
        .filter(|r| r.json()["type"] == "run")
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, ids(&env), "each run exactly once, in journal order");
}

/// The run journal and the Pushgateway always said 0 images present and 0
/// pulled. One image is pulled (with a layer of its own, so bytes move) and
/// one is already there; a no-op `up` after it finds both present.
#[test]
fn image_counters_reach_the_journal_and_the_pushgateway() {
    if !engine_available("image_counters") {
        return;
    }
    let project = unique("imgcount");
    let _c = Cleanup(project.clone());
    let image = format!("{REGISTRY}/library/{project}:1");
    let build = Command::new("docker")
        .args(["build", "-q", "-t", &image, "-"])
        .env("DOCKER_BUILDKIT", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let dockerfile = format!(
                "FROM {REGISTRY}/library/busybox:latest\nRUN head -c 300000 /dev/urandom > /blob\n"
            );
            child
                .stdin
                .take()
                .unwrap()
                .write_all(dockerfile.as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert!(build.success(), "docker build");
    assert!(docker(&["push", "-q", &image]).status.success(), "push");
    assert!(docker(&["rmi", "-f", &image]).status.success(), "rmi");

    let pg = "http://127.0.0.1:9091";
    let services = format!(
        "[settings]\nregistry_mirror = \"{REGISTRY}\"\n\
         [services.fresh]\nimage = \"{project}:1\"\ncommand = [\"sleep\", \"600\"]\n\
         [services.old]\nimage = \"busybox:latest\"\ncommand = [\"sleep\", \"600\"]\n"
    );
    let env = TestEnv::new().manifest(&manifest(&project, pg, "pushgateway", &services));
    env.run(["up"]).success();
    let cache = |env: &TestEnv| {
        let doc = env.run(["metrics", "--json"]).success().json();
        let runs = doc["runs"].as_array().unwrap().clone();
        runs.last().unwrap()["cache"].clone()
    };
    let first = cache(&env);
    assert_eq!(first["images_pulled"], 1, "{first}");
    assert_eq!(first["images_present"], 1, "{first}");
    assert!(first["image_bytes"].as_u64().unwrap() > 200_000, "{first}");

    env.run(["report"]).success();
    let lines = group_lines(pg, &project);
    let item = |state: &str| {
        sample(
            &lines,
            &[
                "devenv_up_cache_items",
                "kind=\"image\"",
                &format!("state=\"{state}\""),
            ],
        )
    };
    assert_eq!(item("pulled"), Some(1.0), "{lines:#?}");
    assert_eq!(item("present"), Some(1.0), "{lines:#?}");
    assert!(sample(&lines, &["devenv_up_download_bytes", "kind=\"image\""]).unwrap() > 200_000.0);

    env.run(["up"]).success();
    let again = cache(&env);
    assert_eq!(again["images_pulled"], 0, "{again}");
    assert_eq!(again["images_present"], 2, "{again}");
    env.run(["down"]).success();
    let _ = docker(&["rmi", "-f", &image]);
}
