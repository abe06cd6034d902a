//! End to end, as a new hire meets it: the example service from a fresh
//! `git clone`, brought up, used, taken down, brought up again, reset to a
//! fresh clone and brought up once more. Real engine, images from the
//! loopback registry, the real mock server, real templates, a real hook.

mod common;

use std::path::Path;

use common::{
    copy_dir, docker, engine_available, free_port, git, http_get, http_request, labelled_ids,
    Cleanup, TestEnv, REGISTRY,
};

/// The example committed to an "origin" repository and cloned from it, with
/// a project name and a port of its own so parallel runs never share
/// containers or the service's port.
fn fresh_clone_of_the_example(project: &str, port: u16) -> (tempfile::TempDir, TestEnv) {
    let origin = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/checkout"),
        origin.path(),
    );
    let manifest = origin.path().join("devenv.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "name = \"checkout-example\"",
            &format!("name = \"{project}\""),
        )
        .replace("8000", &port.to_string()),
    )
    .unwrap();
    git(origin.path(), &["init", "-q", "-b", "main"]);
    git(origin.path(), &["add", "."]);
    git(origin.path(), &["commit", "-q", "-m", "checkout"]);
    let env = TestEnv::new().env("DEVENV_REGISTRY_MIRROR", REGISTRY);
    git(
        origin.path(),
        &[
            "clone",
            "-q",
            origin.path().to_str().unwrap(),
            env.repo().to_str().unwrap(),
        ],
    );
    (origin, env)
}

fn dotenv(env: &TestEnv) -> std::collections::BTreeMap<String, String> {
    env.read(".env")
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn the_example_from_a_fresh_clone_up_down_up_reset_up() {
    if !engine_available("the_example_from_a_fresh_clone_up_down_up_reset_up") {
        return;
    }
    let project = format!("e2e-checkout-{}", std::process::id());
    let _cleanup = Cleanup(project.clone());
    let port = free_port();
    let (_origin, env) = fresh_clone_of_the_example(&project, port);

    // First up: every phase, the smoke-check hook proving each dependency answers.
    env.run(["up", "--yes"])
        .success()
        .stderr_has("postgres: ok")
        .stderr_has("redis: ok")
        .stderr_has("payments mock: ok");

    // The rendered files carry the ports the containers really got.
    let vars = dotenv(&env);
    let cache_port = String::from_utf8_lossy(
        &docker(&["port", &format!("devenv_{project}_cache"), "6379/tcp"]).stdout,
    )
    .trim()
    .rsplit(':')
    .next()
    .unwrap()
    .to_string();
    assert_eq!(
        vars["REDIS_URL"],
        format!("redis://127.0.0.1:{cache_port}/0")
    );
    assert!(env
        .read("config/app.yaml")
        .contains(&format!("url: redis://127.0.0.1:{cache_port}/0")));

    // status: services ready, the migration job done, the mock running.
    let status = env.run(["status", "--json"]).success().json();
    let entry = |name: &str| {
        status["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(entry("db")["ready"], true);
    assert_eq!(entry("cache")["ready"], true);
    assert_eq!(entry("migrate")["kind"], "job");
    assert_eq!(entry("payments")["kind"], "mock");
    assert_eq!(entry("payments")["state"], "running");
    assert_eq!(entry("web")["kind"], "process");
    assert_eq!(entry("web")["ready"], true);
    assert!(entry("web")["pid"].as_u64().is_some());

    // The service itself, started by `up` with [env], works against all
    // of it: mock charge, row in PostgreSQL (migrated by the job), counter
    // in Redis.
    let checkout = |body: &str| {
        http_request(
            "POST",
            &format!("http://127.0.0.1:{port}/checkout"),
            &[("Content-Type", "application/json")],
            body,
        )
    };
    let (status, _, reply) = checkout(r#"{"amount": 1200}"#);
    assert_eq!(status, 201, "{reply}");
    assert!(reply.contains("\"charge\": \"ch_test_123\""), "{reply}");
    let (status, _, reply) = checkout(r#"{"amount": 1200, "card": "4000000000000002"}"#);
    assert_eq!(status, 402, "{reply}");
    let (_, _, health) = http_request("GET", &format!("http://127.0.0.1:{port}/health"), &[], "");
    assert!(
        health.contains(&vars["PAYMENTS_URL"]),
        "[env] reached the process: {health}"
    );

    // A second up changes nothing.
    env.run(["-v", "up"])
        .success()
        .stderr_has("all running and unchanged");

    // down keeps data; up brings it all back.
    env.run(["down"]).success();
    assert!(labelled_ids(&["ps", "-q"], &project).is_empty());
    env.run(["up"]).success();
    let count = docker(&[
        "exec",
        &format!("devenv_{project}_db"),
        "psql",
        "-U",
        "devenv",
        "-d",
        "checkout",
        "-tAc",
        "select count(*) from orders",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&count.stdout).trim(),
        "1",
        "{}",
        String::from_utf8_lossy(&count.stderr)
    );

    // reset: back to a fresh clone, nothing left but what git tracks.
    env.run(["reset", "--yes"]).success();
    assert_eq!(
        git(&env.repo(), &["status", "--porcelain", "--ignored"]).trim(),
        "",
        "reset left files behind"
    );
    assert!(labelled_ids(&["volume", "ls", "-q"], &project).is_empty());

    // And up again from there, as on the first day (trust is kept).
    env.run(["up"]).success().stderr_has("payments mock: ok");
    env.run(["down", "--volumes"]).success();
}

#[test]
fn a_container_reaches_a_mock_by_its_name() {
    if !engine_available("a_container_reaches_a_mock_by_its_name") {
        return;
    }
    let project = format!("e2e-mock-by-name-{}", std::process::id());
    let _cleanup = Cleanup(project.clone());
    let port = free_port();
    // The client is only ready once it has fetched the stub through the
    // mock's name, so a successful up is the proof.
    let env = TestEnv::new().manifest(&format!(
        r#"[project]
name = "{project}"
[settings]
registry_mirror = "{REGISTRY}"
[mocks.payments]
port = {port}
[[mocks.payments.routes]]
path = "/v1/health"
json = {{ ok = true }}
[services.client]
image = "busybox:latest"
command = ["sleep", "3600"]
depends_on = ["payments"]
ready = {{ exec = ["sh", "-c", "wget -qO- http://payments:{port}/v1/health | grep -q ok"], timeout = "20s" }}
"#
    ));
    env.run(["up"]).success();
    let (status, _, reply) = http_get(&format!("http://127.0.0.1:{port}/v1/health"));
    assert_eq!(status, 200, "{reply}");
    assert!(reply.contains("\"ok\":true"), "{reply}");
    env.run(["down"]).success();
}

/// Adding a mock recreated every service ("definition changed"), so the
/// database restarted. Only a service that can use the mock is recreated,
/// `up` says which key changed, and removing the mock again works the same.
#[test]
fn adding_a_mock_recreates_only_the_services_that_name_it() {
    if !engine_available("adding_a_mock_recreates_only") {
        return;
    }
    let project = format!("e2e-mock-add-{}", std::process::id());
    let _cleanup = Cleanup(project.clone());
    let port = free_port();
    let services = format!(
        r#"[project]
name = "{project}"
[settings]
registry_mirror = "{REGISTRY}"
[services.db]
image = "busybox:latest"
command = ["sleep", "3600"]
[services.app]
image = "busybox:latest"
command = ["sleep", "3600"]
env = {{ PAYMENTS_URL = "http://payments:{port}" }}
"#
    );
    let mock = format!(
        "[mocks.payments]\nport = {port}\n[[mocks.payments.routes]]\npath = \"/v1/health\"\njson = {{ ok = true }}\n"
    );
    let env = TestEnv::new().manifest(&services);
    env.run(["up"]).success();
    let id = |s: &str| {
        let out = docker(&["inspect", "-f", "{{.Id}}", &format!("devenv_{project}_{s}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let (db, app) = (id("db"), id("app"));

    env.write("devenv.toml", &format!("{services}{mock}"));
    env.run(["up"])
        .success()
        .stderr_has("app ready (recreated: mocks changed)")
        .stderr_lacks("db ready (recreated");
    assert_eq!(id("db"), db, "the database kept running");
    let app2 = id("app");
    assert_ne!(app2, app);
    let hosts = docker(&[
        "exec",
        &format!("devenv_{project}_app"),
        "cat",
        "/etc/hosts",
    ]);
    assert!(String::from_utf8_lossy(&hosts.stdout).contains("payments"));

    env.write("devenv.toml", &services);
    env.run(["up"])
        .success()
        .stderr_has("app ready (recreated: mocks changed)")
        .stderr_lacks("db ready (recreated");
    assert_eq!(id("db"), db);
    env.run(["down"]).success();
}

#[test]
fn a_service_that_never_becomes_ready_is_recorded_as_a_failed_up_at_services() {
    if !engine_available("a_service_that_never_becomes_ready_is_recorded") {
        return;
    }
    let project = format!("e2e-never-ready-{}", std::process::id());
    let _cleanup = Cleanup(project.clone());
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n[services.never]\nimage = \"busybox:latest\"\ncommand = [\"sleep\", \"3600\"]\nready = {{ exec = [\"false\"], timeout = \"1s\" }}\n"
    ));
    env.run(["up"]).code(1).stderr_has("never");
    let metrics = env.run(["metrics", "--json"]).success().json();
    let last = metrics["runs"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["outcome"], "failed", "{last}");
    assert_eq!(last["failed_step"], "services", "{last}");
    env.run(["down"]).success();
}
