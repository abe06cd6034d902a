//! Engines reached over `tcp://` with TLS, and through docker contexts: a
//! real second dockerd that serves only TLS with client certificates
//! (tests/support/engine_tls.sh). The docker CLI on PATH is the reference:
//! where devenv connects or refuses, it does the same with the same
//! variables and files.

mod common;

use common::{http_get, CleanupOn, OtherEngine, TestEnv, REGISTRY, TLS_ADDRESS, TLS_CERTS};

fn manifest(project: &str) -> String {
    format!(
        r#"[project]
name = "{project}"
[settings]
registry_mirror = "{REGISTRY}"

[services.web]
image = "busybox:latest"
command = ["sh", "-c", "mkdir -p /www; echo over tls > /www/index.html; echo serving; exec httpd -f -p 8080 -h /www"]
ports = ["auto:8080"]
ready = {{ http = "/index.html", port = 8080 }}

[services.worker]
image = "busybox:latest"
command = ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ready; while true; do sleep 0.2; done"]
ready = {{ exec = ["test", "-f", "/tmp/ready"] }}
depends_on = ["web"]
"#
    )
}

/// The docker CLI's verdict on the engine with these variables.
fn docker_cli_connects(engine: &OtherEngine) -> bool {
    engine.docker(&["version"]).status.success()
}

#[test]
fn a_service_comes_up_reports_status_and_goes_down_over_tls() {
    let tls = OtherEngine::tls();
    if !tls.available("up_over_tls") {
        return;
    }
    let project = "tls-up";
    let _c = CleanupOn(tls.clone(), project.into());
    let env = TestEnv::new().manifest(&manifest(project)).on(&tls);

    // The exec probe streams over an upgraded TLS connection.
    env.run(["up"])
        .success()
        .stderr_has("web ready (created)")
        .stderr_has("worker ready (created)");
    assert_eq!(
        tls.containers(project),
        [
            format!("devenv_{project}_web"),
            format!("devenv_{project}_worker")
        ],
        "the containers are on the TLS engine"
    );
    assert!(
        common::labelled_ids(&["ps", "-a", "-q"], project).is_empty(),
        "and not on the main engine"
    );
    let port = common::host_port(&env, "web");
    let (status, _, body) = http_get(&format!("http://127.0.0.1:{port}/index.html"));
    assert_eq!((status, body.as_str()), (200, "over tls\n"));
    let s = env.run(["status", "--json"]).success().json();
    assert_eq!(s["services"][0]["state"], "running");
    assert_eq!(s["services"][0]["ready"], true);

    env.run(["up"])
        .success()
        .stderr_has("web ready (unchanged)");

    let doctor = env.run(["doctor", "--json"]).json();
    let engine = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "engine")
        .cloned()
        .unwrap();
    assert_eq!(engine["status"], "pass", "{engine}");
    assert_eq!(engine["engine"]["via"], "tcp with TLS, verified");
    assert_eq!(engine["engine"]["address"], TLS_ADDRESS);
    assert!(engine["engine"]["ping_ms"].as_f64().unwrap() > 0.0);

    env.run(["down"]).success();
    assert!(tls.labelled(&["ps", "-a", "-q"], project).is_empty());
}

#[test]
fn a_built_service_is_built_by_buildkit_over_tls() {
    let tls = OtherEngine::tls();
    if !tls.available("build_over_tls") {
        return;
    }
    let project = "tls-build";
    // What an earlier run left, then what this one makes.
    drop(WithImages(CleanupOn(tls.clone(), project.into())));
    let _c = WithImages(CleanupOn(tls.clone(), project.into()));
    let dockerfile = |copy: &str| {
        format!("FROM {REGISTRY}/library/busybox:latest\nCOPY {copy} /www/index.html\n")
    };
    let env = TestEnv::new()
        .manifest(&format!(
            "[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\n[services.web]\nbuild = \"web\"\nports = [\"auto:8080\"]\ncommand = [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\nready = {{ http = \"/index.html\", port = 8080 }}\n"
        ))
        .file("web/Dockerfile", &dockerfile("index.html"))
        .file("web/index.html", "built over tls\n")
        .on(&tls);
    env.run(["up"])
        .success()
        .stderr_has(&format!("built devenv_{project}_web:"));
    let port = common::host_port(&env, "web");
    let (status, _, body) = http_get(&format!("http://127.0.0.1:{port}/index.html"));
    assert_eq!((status, body.as_str()), (200, "built over tls\n"));
    // BuildKit's step names (`[2/2] COPY`), not the classic builder's
    // (`Step 2/2 :`): the build went through socket.rs over TLS. (A RUN
    // step would need the default bridge, which this engine has not.)
    env.write("web/Dockerfile", &dockerfile("not-there.html"));
    env.run(["up"])
        .code(1)
        .stderr_has("failed at `[2/2] COPY not-there.html /www/index.html`");
}

/// Removes the project's containers first, then the images built for it.
struct WithImages(CleanupOn);

impl Drop for WithImages {
    fn drop(&mut self) {
        let (engine, project) = (&self.0 .0, &self.0 .1);
        engine.remove_project(project);
        let images = engine.labelled(&["image", "ls", "-q"], project);
        if !images.is_empty() {
            let mut args = vec!["rmi", "-f"];
            args.extend(images.iter().map(String::as_str));
            let _ = engine.docker(&args);
        }
    }
}

#[test]
fn certificates_from_another_ca_are_refused_naming_the_files_as_the_docker_cli_refuses() {
    let tls = OtherEngine::tls();
    if !tls.available("wrong_certs") {
        return;
    }
    let wrong = tls
        .clone()
        .with("DOCKER_CERT_PATH", &format!("{TLS_CERTS}/wrong"));
    assert!(!docker_cli_connects(&wrong), "the reference refuses too");
    TestEnv::new()
        .manifest(&manifest("tls-wrong"))
        .on(&wrong)
        .run(["up"])
        .code(3)
        .stderr_has("refused TLS")
        .stderr_has(&format!("{TLS_CERTS}/wrong/ca.pem"))
        .stderr_has("DOCKER_CERT_PATH");
}

#[test]
fn a_cert_path_without_the_files_is_an_error_naming_the_missing_file() {
    let tls = OtherEngine::tls();
    if !tls.available("missing_certs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = tls
        .clone()
        .with("DOCKER_CERT_PATH", dir.path().to_str().unwrap());
    assert!(!docker_cli_connects(&missing), "the reference refuses too");
    TestEnv::new()
        .manifest(&manifest("tls-missing"))
        .on(&missing)
        .run(["up"])
        .code(3)
        .stderr_has(&format!("{}/ca.pem", dir.path().display()))
        .stderr_has("hint: point DOCKER_CERT_PATH");
}

#[test]
fn plain_http_to_the_tls_port_says_to_turn_tls_on() {
    let tls = OtherEngine::tls();
    if !tls.available("plain_to_tls") {
        return;
    }
    let plain = tls.clone().with("DOCKER_TLS_VERIFY", "");
    assert!(!docker_cli_connects(&plain), "the reference refuses too");
    TestEnv::new()
        .manifest(&manifest("tls-plain"))
        .on(&plain)
        .run(["up"])
        .code(3)
        .stderr_has("set DOCKER_TLS_VERIFY=1");
}

#[test]
fn tls_variables_mean_what_they_mean_to_the_docker_cli() {
    let tls = OtherEngine::tls();
    if !tls.available("tls_variables") {
        return;
    }
    // DOCKER_TLS_VERIFY=0 still verifies (set at all is on), and
    // DOCKER_TLS alone is TLS without verifying the engine: the CA of
    // another authority is then no obstacle, but the client certificate
    // the engine asks for still must be right.
    let cases = [
        (tls.clone().with("DOCKER_TLS_VERIFY", "0"), true),
        (
            tls.clone()
                .with("DOCKER_TLS_VERIFY", "")
                .with("DOCKER_TLS", "1"),
            true,
        ),
    ];
    for (engine, connects) in cases {
        assert_eq!(docker_cli_connects(&engine), connects, "{:?}", engine.vars);
        let env = TestEnv::new().manifest(&manifest("tls-vars")).on(&engine);
        let doctor = env.run(["doctor", "--json"]).json();
        let check = doctor["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "engine")
            .cloned()
            .unwrap();
        assert_eq!(
            check["status"] == "pass",
            connects,
            "{:?}: {check}",
            engine.vars
        );
    }
    // `devenv config` shows where each came from.
    let env = TestEnv::new()
        .manifest(&manifest("tls-vars"))
        .on(&tls.clone().with("DOCKER_TLS", "1"));
    let config = env.run(["config", "--json"]).success().json();
    let s = &config["settings"];
    assert_eq!(s["docker_host"]["value"], TLS_ADDRESS);
    assert_eq!(s["docker_host"]["source"], "$DOCKER_HOST");
    assert_eq!(s["docker_tls"]["value"], "verify");
    assert_eq!(s["docker_tls"]["source"], "$DOCKER_TLS_VERIFY");
    assert_eq!(s["docker_cert_path"]["source"], "$DOCKER_CERT_PATH");
}

/// `docker context create NAME --docker ...` in the env's own ~/.docker.
fn create_context(env: &TestEnv, name: &str, docker: &str) {
    env.docker_cli(&["context", "create", name, "--docker", docker]);
}

#[test]
fn the_current_docker_context_with_its_tls_files_is_the_engine() {
    let tls = OtherEngine::tls();
    if !tls.available("context_tls") {
        return;
    }
    let project = "tls-context";
    let _c = CleanupOn(tls.clone(), project.into());
    // No DOCKER_HOST: the context decides.
    let env = TestEnv::new()
        .manifest(&manifest(project))
        .env("DOCKER_HOST", "");
    let certs = format!("{TLS_CERTS}/client");
    create_context(
        &env,
        "tlsbox",
        &format!("host={TLS_ADDRESS},ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem"),
    );
    env.docker_cli(&["context", "use", "tlsbox"]);
    // The reference, through the same files.
    env.docker_cli(&["version"]);

    env.run(["up"]).success().stderr_has("web ready (created)");
    assert_eq!(tls.containers(project).len(), 2);
    let doctor = env.run(["doctor", "--json"]).json();
    let check = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "engine")
        .cloned()
        .unwrap();
    assert_eq!(check["engine"]["context"], "tlsbox", "{check}");
    assert_eq!(check["engine"]["via"], "tcp with TLS, verified");
    env.run(["doctor"])
        .stdout_has("context \"tlsbox\", tcp with TLS, verified at tcp://127.0.0.1:23760");
    let config = env.run(["config", "--json"]).success().json();
    assert_eq!(config["settings"]["docker_context"]["value"], "tlsbox");

    // DOCKER_HOST beats the context, as in the docker CLI: the main
    // engine, where the project has nothing.
    let on_main = TestEnv::new()
        .manifest(&manifest(project))
        .env("DOCKER_HOST", "unix:///var/run/docker.sock");
    create_context(&on_main, "tlsbox", &format!("host={TLS_ADDRESS}"));
    on_main.docker_cli(&["context", "use", "tlsbox"]);
    assert_eq!(common::status_entry(&on_main, "web")["state"], "missing");
    assert_eq!(common::status_entry(&env, "web")["state"], "running");

    env.run(["down"]).success();
    assert!(tls.labelled(&["ps", "-a", "-q"], project).is_empty());
}

#[test]
fn a_context_that_skips_verification_needs_no_ca_but_still_its_client_certificate() {
    let tls = OtherEngine::tls();
    if !tls.available("context_skip_verify") {
        return;
    }
    let env = TestEnv::new()
        .manifest(&manifest("tls-context-skip"))
        .env("DOCKER_HOST", "");
    let certs = format!("{TLS_CERTS}/client");
    create_context(
        &env,
        "skipper",
        &format!(
            "host={TLS_ADDRESS},skip-tls-verify=true,cert={certs}/cert.pem,key={certs}/key.pem"
        ),
    );
    let env = env.env("DOCKER_CONTEXT", "skipper");
    let out = std::process::Command::new("docker")
        .args(["version"])
        .env("HOME", env.home())
        .env("DOCKER_CONTEXT", "skipper")
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap();
    assert!(out.status.success(), "the reference connects");
    env.run(["doctor"])
        .stdout_has("context \"skipper\", tcp with TLS, not verified");
}

#[test]
fn a_named_context_that_does_not_exist_is_an_error_not_another_engine() {
    let env = TestEnv::new()
        .manifest(&manifest("tls-no-context"))
        .env("DOCKER_HOST", "")
        .env("DOCKER_CONTEXT", "nosuchcontext");
    let out = std::process::Command::new("docker")
        .args(["version"])
        .env("HOME", env.home())
        .env("DOCKER_CONTEXT", "nosuchcontext")
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the reference refuses too");
    env.run(["up"])
        .code(3)
        .stderr_has("docker context \"nosuchcontext\" (from $DOCKER_CONTEXT) does not exist")
        .stderr_has("docker context ls");
    env.run(["doctor"])
        .code(3)
        .stdout_has("FAIL  engine")
        .stdout_has("nosuchcontext");

    // DOCKER_HOST beats even a context that is not there, as in the CLI.
    if !common::engine_available("docker_host_beats_a_missing_context") {
        return;
    }
    let out = std::process::Command::new("docker")
        .args(["version"])
        .env("HOME", env.home())
        .env("DOCKER_CONTEXT", "nosuchcontext")
        .env("DOCKER_HOST", "unix:///var/run/docker.sock")
        .output()
        .unwrap();
    assert!(out.status.success(), "the reference connects");
    let env = env.env("DOCKER_HOST", "unix:///var/run/docker.sock");
    assert_eq!(common::status_entry(&env, "web")["state"], "missing");
}
