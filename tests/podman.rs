//! The services suite's core cases against Podman's Docker-compatible API
//! (Debian's podman 4.3), rootful and rootless, each reached the way users
//! reach it: `DOCKER_HOST=unix://…podman.sock` (tests/support/podman.sh).
//! Images come from `docker save | podman load` and the loopback registry.

mod common;

use std::process::Command;

use common::{http_get, CleanupOn, OtherEngine, TestEnv, REGISTRY};

fn rootful() -> OtherEngine {
    OtherEngine::podman("rootful Podman", "/var/run/devenv-test/podman.sock")
}

/// The rootless service of user `devpodman`, at its XDG_RUNTIME_DIR.
fn rootless() -> OtherEngine {
    let out = Command::new("id")
        .args(["-u", "devpodman"])
        .output()
        .expect("id");
    let uid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && !uid.is_empty(),
        "no user devpodman: run `bash tests/support/podman.sh` first"
    );
    OtherEngine::podman(
        "rootless Podman",
        &format!("/run/user/{uid}/podman/podman.sock"),
    )
}

/// A web server that becomes ready a moment after it starts, a service
/// gated on its image's HEALTHCHECK, one with an exec probe that waits for
/// both, and a one-shot job that records each run in its volume.
fn manifest(project: &str) -> String {
    format!(
        r#"[project]
name = "{project}"
[settings]
registry_mirror = "{REGISTRY}"

[services.web]
image = "busybox:latest"
command = ["sh", "-c", "sleep 1; mkdir -p /www; echo from podman > /www/index.html; exec httpd -f -p 8080 -h /www"]
ports = ["auto:8080"]
ready = {{ http = "/index.html", port = 8080 }}

[services.db]
image = "busybox-healthy:latest"
command = ["sh", "-c", "trap 'exit 0' TERM; sleep 1; touch /tmp/healthy; while true; do sleep 0.2; done"]
ready = {{ healthcheck = true }}
volumes = {{ data = "/data" }}

[services.app]
image = "busybox:latest"
command = ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ready; while true; do sleep 0.2; done"]
ready = {{ exec = ["test", "-f", "/tmp/ready"] }}
depends_on = ["db", "web"]

[services.migrate]
image = "busybox:latest"
run = "once"
command = ["sh", "-c", "echo migrated >> /out/runs; cat /out/runs"]
volumes = {{ out = "/out" }}
depends_on = ["db"]
"#
    )
}

fn core_cases(engine: OtherEngine, project: &str) {
    let _c = CleanupOn(engine.clone(), project.into());
    let env = TestEnv::new().manifest(&manifest(project)).on(&engine);

    let up = env.run(["up"]).success();
    for line in [
        "web ready (created)",
        "db ready (created)",
        "app ready (created)",
    ] {
        assert!(up.stderr.contains(line), "{line}\n{}", up.stderr);
    }
    let names = engine.containers(project);
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        common::labelled_ids(&["ps", "-a", "-q"], project).is_empty(),
        "nothing on the main engine"
    );

    let port = common::host_port(&env, "web");
    let (status, _, body) = http_get(&format!("http://127.0.0.1:{port}/index.html"));
    assert_eq!((status, body.as_str()), (200, "from podman\n"));
    let s = env.run(["status", "--json"]).success().json();
    for entry in s["services"].as_array().unwrap() {
        assert_eq!(entry["ready"], true, "{entry}");
        let state = if entry["name"] == "migrate" {
            "exited"
        } else {
            "running"
        };
        assert_eq!(entry["state"], state, "{entry}");
    }

    // A second up changes nothing and runs the job not again.
    let again = env.run(["up"]).success();
    for line in [
        "web ready (unchanged)",
        "db ready (unchanged)",
        "app ready (unchanged)",
    ] {
        assert!(again.stderr.contains(line), "{line}\n{}", again.stderr);
    }
    env.run(["logs", "migrate"])
        .success()
        .stdout_has("migrated");
    let runs = engine.docker(&[
        "run",
        "--rm",
        "-v",
        &format!("devenv_{project}_migrate_out:/out"),
        &format!("{REGISTRY}/library/busybox:latest"),
        "cat",
        "/out/runs",
    ]);
    assert_eq!(String::from_utf8_lossy(&runs.stdout), "migrated\n");

    let doctor = env.run(["doctor"]);
    assert!(
        doctor.stdout.contains("pass  engine") && doctor.stdout.contains("Podman 4."),
        "{}",
        doctor.stdout
    );

    env.run(["down"]).success().stderr_has("data volumes kept");
    assert!(engine.containers(project).is_empty());
    assert_eq!(
        engine.labelled(&["volume", "ls", "-q"], project).len(),
        2,
        "down keeps the volumes"
    );
    env.run(["reset", "--yes"]).success();
    assert!(engine.labelled(&["volume", "ls", "-q"], project).is_empty());
    assert!(engine
        .labelled(&["network", "ls", "-q"], project)
        .is_empty());
}

#[test]
fn rootful_podman_runs_the_core_cases() {
    let engine = rootful();
    if !engine.available("rootful_podman") {
        return;
    }
    core_cases(engine, "podman-rootful");
}

#[test]
fn rootless_podman_runs_the_core_cases() {
    let engine = rootless();
    if !engine.available("rootless_podman") {
        return;
    }
    core_cases(engine, "podman-rootless");
}
