//! `devenv doctor`: each problem reported with the right exit code.

mod common;

use common::{engine_available, TestEnv, REGISTRY};

fn manifest() -> String {
    format!("[project]\nname = \"doctor-test\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n[services.cache]\nimage = \"redis:7\"\nports = [\"auto:6379\"]\n")
}

#[test]
fn engine_down_is_a_failure_with_exit_3() {
    let env = TestEnv::new()
        .manifest(&manifest())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let run = env.run(["doctor", "--json"]).code(3);
    let doc = run.json();
    let engine = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "engine")
        .unwrap();
    assert_eq!(engine["status"], "fail");
    assert!(engine["detail"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/docker.sock"));
    assert!(engine["hint"].as_str().unwrap().contains("DOCKER_HOST"));
    env.run(["doctor"]).code(3).stdout_has("FAIL  engine");
}

#[test]
fn a_healthy_machine_passes_with_exit_0() {
    if !engine_available("a_healthy_machine_passes_with_exit_0") {
        return;
    }
    let env = TestEnv::new().manifest(&manifest());
    let run = env.run(["doctor", "--json"]);
    let doc = run.json();
    for c in doc["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "pass", "{c}");
        // The engine's detail began with a space (an empty platform name).
        let detail = c["detail"].as_str().unwrap();
        assert_eq!(detail, detail.trim(), "{c}");
    }
    assert_eq!(run.code, 0);
}

#[test]
fn the_engine_check_names_the_engine_where_it_runs_and_its_round_trip() {
    if !engine_available("engine_named") {
        return;
    }
    let env = TestEnv::new()
        .manifest(&manifest())
        .env("DOCKER_HOST", "unix:///var/run/docker.sock");
    let doc = env.run(["doctor", "--json"]).json();
    let engine = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "engine")
        .cloned()
        .unwrap();
    let facts = &engine["engine"];
    // Debian's docker.io reports no platform name: its "Engine" component.
    assert_eq!(facts["kind"], "Docker Engine", "{engine}");
    assert_eq!(facts["via"], "local socket");
    assert_eq!(facts["address"], "unix:///var/run/docker.sock");
    assert_eq!(facts["context"], serde_json::Value::Null);
    assert!(facts["ping_ms"].as_f64().unwrap() > 0.0, "{engine}");
    let server = common::docker(&["version", "--format", "{{.Server.Version}}"]);
    assert_eq!(
        facts["version"],
        String::from_utf8_lossy(&server.stdout).trim(),
        "the version the docker CLI reports"
    );
    env.run(["doctor"])
        .stdout_has("Docker Engine ")
        .stdout_has("local socket at unix:///var/run/docker.sock; ping ");
}

/// Warnings alone exited 1, which stopped scripts that run doctor first.
#[test]
fn an_unreachable_mirror_is_a_warning_and_warnings_alone_exit_0() {
    if !engine_available("an_unreachable_mirror_is_a_warning_and_warnings_alone_exit_0") {
        return;
    }
    let env = TestEnv::new()
        .manifest(&manifest())
        .env("DEVENV_REGISTRY_MIRROR", "127.0.0.1:9");
    env.run(["doctor"])
        .code(0)
        .stdout_has("WARN  registry")
        .stdout_has("127.0.0.1:9");
}

#[test]
fn a_missing_required_tool_is_a_failure_with_exit_3() {
    let env = TestEnv::new()
        .manifest("[requires]\nno-such-tool-anywhere = \">=1\"\nsh = \"*\"\n")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let run = env.run(["doctor", "--json"]).code(3);
    let checks = run.json()["checks"].as_array().unwrap().clone();
    let missing = checks
        .iter()
        .find(|c| c["name"] == "requires no-such-tool-anywhere")
        .unwrap();
    assert_eq!(missing["status"], "fail");
    assert!(missing["detail"]
        .as_str()
        .unwrap()
        .contains("not found on PATH"));
}

#[test]
fn a_taken_port_is_a_failure_naming_the_holder() {
    if !engine_available("a_taken_port_is_a_failure_naming_the_holder") {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"doctor-port\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n[services.web]\nimage = \"busybox:latest\"\nports = [\"{port}:80\"]\n"
    ));
    let run = env.run(["doctor", "--json"]).code(3);
    let checks = run.json()["checks"].as_array().unwrap().clone();
    let check = checks
        .iter()
        .find(|c| c["name"] == format!("port {port}"))
        .unwrap();
    assert_eq!(check["status"], "fail");
    let detail = check["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("pid {}", std::process::id())),
        "{detail}"
    );
    drop(listener);
}
