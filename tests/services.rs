//! Services as containers on the real engine, images from the loopback
//! registry (tests/support/setup.sh). Every test uses its own project name
//! and removes what it created through `Cleanup`, even when it fails.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{
    docker, engine_available, labelled_ids, wait_for_exit, wait_until_alive, Cleanup, TestEnv,
    REGISTRY,
};

fn manifest(project: &str, services: &str) -> String {
    format!("[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\n{services}")
}

/// Container names of a project (docker ps -a), sorted.
fn containers(project: &str) -> Vec<String> {
    let mut v = labelled_ids(&["ps", "-a", "--format", "{{.Names}}"], project);
    v.sort();
    v
}

fn inspect(container: &str, format: &str) -> String {
    let out = docker(&["inspect", "--format", format, container]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// psql from the postgres image, on the host network, through the published port.
fn psql(port: u16, sql: &str) -> std::process::Output {
    docker(&[
        "run",
        "--rm",
        "--network",
        "host",
        "-e",
        "PGPASSWORD=devenv",
        &format!("{REGISTRY}/library/postgres:16"),
        "psql",
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        "devenv",
        "-d",
        "devenv",
        "-tAc",
        sql,
    ])
}

fn redis_ping(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).to_string()
}

/// A busybox service that exits promptly on SIGTERM.
const IDLE: &str = r#"image = "busybox:latest"
command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]"#;

#[test]
fn postgres_and_redis_from_stacks_are_ready_keep_data_across_down_and_lose_it_on_reset() {
    if !engine_available("postgres_and_redis_from_stacks") {
        return;
    }
    let project = "svc-pg-redis";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(
        project,
        "[services.db]\nstack = \"postgres\"\nports = [\"auto:5432\"]\n\n[services.cache]\nstack = \"redis\"\nports = [\"auto:6379\"]\n",
    ));
    env.run(["up"]).success();
    let pg = common::host_port(&env, "db");
    let redis = common::host_port(&env, "cache");
    assert!(redis_ping(redis).starts_with("+PONG"));
    let out = psql(
        pg,
        "create table kept(v text); insert into kept values ('hello')",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = psql(pg, "select v from kept");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hello");

    // connections.json carries the rendered exports with the real port.
    let conn: serde_json::Value =
        serde_json::from_str(&env.read(".devenv/state/connections.json")).unwrap();
    assert_eq!(
        conn["services"]["db"]["exports"]["url"],
        format!("postgres://devenv:devenv@127.0.0.1:{pg}/devenv")
    );

    env.run(["down"]).success().stderr_has("data volumes kept");
    assert!(containers(project).is_empty());
    env.run(["up"]).success();
    assert_eq!(
        common::host_port(&env, "db"),
        pg,
        "auto ports are stable across ups"
    );
    let out = psql(pg, "select v from kept");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello",
        "data survives down + up"
    );

    env.run(["reset"]).code(2).stderr_has("--yes");
    env.run(["reset", "--yes"]).success();
    assert!(containers(project).is_empty());
    assert!(!env.exists(".devenv"));
    assert_eq!(
        labelled_ids(&["volume", "ls", "-q"], project),
        Vec::<String>::new(),
        "volumes left after reset"
    );
    env.run(["up"]).success();
    let pg = common::host_port(&env, "db");
    let out = psql(
        pg,
        "select count(*) from pg_tables where tablename = 'kept'",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0",
        "data gone after reset"
    );
    env.run(["down", "--volumes"]).success();
}

#[test]
fn drift_recreates_only_the_changed_service_removes_dropped_ones_and_starts_stopped_ones() {
    if !engine_available("drift") {
        return;
    }
    let project = "svc-drift";
    let _c = Cleanup(project.into());
    let two = |x: &str| {
        manifest(
            project,
            &format!("[services.a]\n{IDLE}\nenv = {{ X = \"{x}\" }}\n\n[services.b]\n{IDLE}\n"),
        )
    };
    let env = TestEnv::new().manifest(&two("1"));
    env.run(["up"]).success();
    let id = |s: &str| inspect(&format!("devenv_{project}_{s}"), "{{.Id}}");
    let (a1, b1) = (id("a"), id("b"));

    // No-op: nothing recreated.
    env.run(["up"]).success().stderr_has("unchanged");
    assert_eq!((id("a"), id("b")), (a1.clone(), b1.clone()));

    // Change one env value: only `a` is recreated, and `up` says why.
    env.write("devenv.toml", &two("2"));
    env.run(["up"])
        .success()
        .stderr_has("a ready (recreated: env changed)");
    assert_ne!(id("a"), a1);
    assert_eq!(id("b"), b1);
    assert!(inspect(&format!("devenv_{project}_a"), "{{json .Config.Env}}").contains("X=2"));

    // Stopped by hand: started again, same container.
    docker(&["stop", "-t", "1", &format!("devenv_{project}_b")]);
    env.run(["up"]).success();
    assert_eq!(id("b"), b1);
    assert_eq!(
        inspect(&format!("devenv_{project}_b"), "{{.State.Running}}"),
        "true"
    );

    // Removed from devenv.toml: its container goes.
    env.write(
        "devenv.toml",
        &manifest(
            project,
            &format!("[services.a]\n{IDLE}\nenv = {{ X = \"2\" }}\n"),
        ),
    );
    env.run(["up"]).success();
    assert_eq!(containers(project), vec![format!("devenv_{project}_a")]);
    env.run(["down"]).success();
}

#[test]
fn a_service_that_never_becomes_ready_fails_with_its_log_and_blocks_dependants() {
    if !engine_available("never_ready") {
        return;
    }
    let project = "svc-never-ready";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(
        project,
        r#"[services.stuck]
image = "busybox:latest"
command = ["sh", "-c", "echo warming up; echo still warming; trap 'exit 0' TERM; while true; do sleep 0.2; done"]
ports = ["auto:9000"]
ready = { tcp = 9000, timeout = "2s" }

[services.app]
image = "busybox:latest"
command = ["sleep", "60"]
depends_on = ["stuck"]
"#,
    ));
    env.run(["up"])
        .code(1)
        .stderr_has("service `stuck` did not become ready")
        .stderr_has("still warming")
        .stderr_has("`app` was not started");
    assert_eq!(containers(project), vec![format!("devenv_{project}_stuck")]);
}

#[test]
fn a_container_that_exits_reports_its_exit_code() {
    if !engine_available("exit_code") {
        return;
    }
    let project = "svc-exit-code";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(
        project,
        r#"[services.broken]
image = "busybox:latest"
command = ["sh", "-c", "echo cannot start; exit 7"]
ready = { exec = ["true"], timeout = "30s" }
"#,
    ));
    env.run(["up"])
        .code(1)
        .stderr_has("exit code: 7")
        .stderr_has("cannot start");
}

#[test]
fn a_taken_host_port_exits_2_before_anything_is_created_and_names_the_holder() {
    if !engine_available("port_taken") {
        return;
    }
    let project = "svc-port-taken";
    let _c = Cleanup(project.into());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let env = TestEnv::new().manifest(&manifest(
        project,
        &format!("[services.web]\n{IDLE}\nports = [\"{port}:80\"]\n\n[services.other]\n{IDLE}\n"),
    ));
    env.run(["up"])
        .code(2)
        .stderr_has(&format!("127.0.0.1:{port}"))
        .stderr_has(&format!("pid {}", std::process::id()));
    assert!(containers(project).is_empty(), "nothing may be created");
    assert_eq!(
        labelled_ids(&["network", "ls", "-q"], project),
        Vec::<String>::new(),
        "nothing may be created"
    );
    drop(listener);
}

/// `status` before the first `up` showed a different random port on each
/// call, and `up` then used yet another.
#[test]
fn an_auto_port_is_the_same_from_the_first_status_to_the_up() {
    if !engine_available("auto_port_before_up") {
        return;
    }
    let project = "svc-port-first-look";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(
        project,
        &format!("[services.web]\n{IDLE}\nports = [\"auto:80\"]\n"),
    ));
    let before = common::host_port(&env, "web");
    assert_eq!(common::host_port(&env, "web"), before);
    assert!(
        !env.exists(".devenv/state/ports.json"),
        "status wrote nothing"
    );
    env.run(["up"]).success();
    assert_eq!(common::host_port(&env, "web"), before);
    let published = docker(&["port", &format!("devenv_{project}_web"), "80"]);
    assert!(
        String::from_utf8_lossy(&published.stdout).contains(&format!(":{before}")),
        "{published:?}"
    );
}

/// A pull that failed because Docker Hub was out of reach got no hint.
#[test]
fn a_registry_out_of_reach_names_registry_mirror_and_the_user_config() {
    if !engine_available("registry_out_of_reach") {
        return;
    }
    // No mirror: the hint says where to set one, once for every clone.
    let env = TestEnv::new().manifest(
        "[project]\nname = \"svc-no-registry\"\n[services.db]\nimage = \"127.0.0.1:1/library/nothing:1\"\n",
    );
    let run = env.run(["up"]).code(1);
    let config = env.config_home().join("devenv/config.toml");
    run.stderr_has("its registry could not be reached")
        .stderr_has(&format!(
            "hint: if this machine cannot reach Docker Hub, set a mirror once for every clone in {}",
            config.display()
        ))
        .stderr_has("registry_mirror = \"HOST:PORT\"");

    // A mirror that does not answer: the hint names it and where it is set.
    let env = TestEnv::new().manifest(
        "[project]\nname = \"svc-dead-mirror\"\n[settings]\nregistry_mirror = \"127.0.0.1:1\"\n\
         [services.db]\nimage = \"nothing:1\"\n",
    );
    env.run(["up"])
        .code(1)
        .stderr_has("hint: the registry mirror `127.0.0.1:1` (set in ")
        .stderr_has("devenv.toml) did not answer");
}

#[test]
fn a_port_held_by_another_projects_container_names_that_container() {
    if !engine_available("port_held_by_container") {
        return;
    }
    let (p1, p2) = ("svc-port-holder-a", "svc-port-holder-b");
    let _c1 = Cleanup(p1.into());
    let _c2 = Cleanup(p2.into());
    let first = TestEnv::new().manifest(&manifest(
        p1,
        &format!("[services.web]\n{IDLE}\nports = [\"auto:80\"]\n"),
    ));
    first.run(["up"]).success();
    let port = common::host_port(&first, "web");
    let second = TestEnv::new().manifest(&manifest(
        p2,
        &format!("[services.web]\n{IDLE}\nports = [\"{port}:80\"]\n"),
    ));
    second
        .run(["up"])
        .code(2)
        .stderr_has(&format!("devenv_{p1}_web"))
        .stderr_has(&format!("devenv project `{p1}`"));
}

#[test]
fn an_unreachable_docker_host_exits_3_with_what_was_tried() {
    let env = TestEnv::new()
        .manifest(&manifest(
            "svc-no-engine",
            &format!("[services.a]\n{IDLE}\n"),
        ))
        .env("DOCKER_HOST", "unix:///nonexistent");
    env.run(["up"])
        .code(3)
        .stderr_has("unix:///nonexistent")
        .stderr_has("hint:");
    env.run(["status"]).code(3);
    env.run(["down"]).code(3);
}

#[test]
fn a_job_runs_once_not_again_and_again_after_its_definition_changes() {
    if !engine_available("job_once") {
        return;
    }
    let project = "svc-job-once";
    let _c = Cleanup(project.into());
    let job = |tag: &str| {
        manifest(
            project,
            &format!(
                "[services.migrate]\nimage = \"busybox:latest\"\nrun = \"once\"\ncommand = [\"sh\", \"-c\", \"echo {tag} >> /out/runs\"]\nvolumes = {{ out = \"/out\" }}\n"
            ),
        )
    };
    let env = TestEnv::new().manifest(&job("one"));
    let runs = || {
        let out = docker(&[
            "run",
            "--rm",
            "-v",
            &format!("devenv_{project}_migrate_out:/out"),
            &format!("{REGISTRY}/library/busybox:latest"),
            "cat",
            "/out/runs",
        ]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    env.run(["up"]).success();
    assert_eq!(runs(), ["one"]);
    env.run(["up"]).success();
    assert_eq!(runs(), ["one"], "an unchanged job does not run again");
    let status = env.run(["status", "--json"]).success().json();
    assert_eq!(status["services"][0]["kind"], "job");
    assert_eq!(status["services"][0]["state"], "exited");
    assert_eq!(status["services"][0]["ready"], true);
    env.write("devenv.toml", &job("two"));
    env.run(["up"]).success();
    assert_eq!(runs(), ["one", "two"]);

    // A failing job fails up with its log tail.
    env.write(
        "devenv.toml",
        &manifest(project, "[services.migrate]\nimage = \"busybox:latest\"\nrun = \"once\"\ncommand = [\"sh\", \"-c\", \"echo migration 42 failed; exit 5\"]\n"),
    );
    env.run(["up"])
        .code(1)
        .stderr_has("job `migrate` failed")
        .stderr_has("migration 42 failed");
}

#[test]
fn two_clones_of_one_repo_do_not_see_each_others_containers() {
    if !engine_available("two_clones") {
        return;
    }
    // No [project] name: the identity includes a hash of the clone path.
    let text = format!("[settings]\nregistry_mirror = \"{REGISTRY}\"\n[services.a]\n{IDLE}\n");
    let one = TestEnv::new().manifest(&text);
    let two = TestEnv::new().manifest(&text);
    let id = |env: &TestEnv| {
        let hash = devenv_project_id(env);
        Cleanup(hash)
    };
    let c1 = id(&one);
    let c2 = id(&two);
    assert_ne!(c1.0, c2.0);
    one.run(["up"]).success();
    two.run(["up"]).success();
    assert_eq!(containers(&c1.0).len(), 1);
    assert_eq!(containers(&c2.0).len(), 1);
    one.run(["down"]).success();
    assert!(containers(&c1.0).is_empty());
    assert_eq!(
        containers(&c2.0).len(),
        1,
        "down of one clone left the other alone"
    );
    let s = two.run(["status", "--json"]).success().json();
    assert_eq!(s["services"][0]["state"], "running");
    assert_eq!(s["project"], "repo");
    two.run(["down"]).success();
}

/// The project id devenv derives for a clone: up creates the container,
/// whose project label we read back through the name pattern.
fn devenv_project_id(env: &TestEnv) -> String {
    let root = env.repo().canonicalize().unwrap_or_else(|_| env.repo());
    let hash = devenv::util::sha256_hex(root.to_string_lossy().as_bytes());
    format!("repo-{}", &hash[..6])
}

#[test]
fn interrupting_up_mid_start_leaves_nothing_the_next_up_cannot_repair() {
    if !engine_available("interrupt") {
        return;
    }
    let project = "svc-interrupt";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(
        project,
        r#"[services.slow]
image = "busybox:latest"
command = ["sh", "-c", "trap 'exit 0' TERM; sleep 3; touch /tmp/ready; while true; do sleep 0.2; done"]
ready = { exec = ["test", "-f", "/tmp/ready"], timeout = "60s" }

[services.after]
image = "busybox:latest"
command = ["sleep", "60"]
depends_on = ["slow"]
"#,
    ));
    let mut child = env.command(["up"]).spawn().unwrap();
    // Wait until the first container exists, then interrupt.
    let name = format!("devenv_{project}_slow");
    wait_until_alive(
        &mut child,
        Duration::from_secs(120),
        "up to create the first container",
        || !containers(project).is_empty(),
    );
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = wait_for_exit(&mut child, Duration::from_secs(60), "up to stop on SIGINT");
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        containers(project),
        vec![name.clone()],
        "dependant not started"
    );
    env.run(["up"]).success();
    assert_eq!(containers(project).len(), 2);
    assert_eq!(inspect(&name, "{{.State.Running}}"), "true");
}

#[test]
fn a_created_but_never_started_container_is_started_by_the_next_up() {
    if !engine_available("created_not_started") {
        return;
    }
    let project = "svc-created";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(project, &format!("[services.a]\n{IDLE}\n")));
    env.run(["up"]).success();
    let name = format!("devenv_{project}_a");
    // Make the state an interrupted run leaves between create and start:
    // a container with our labels (and current hash) that never started.
    let labels: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&inspect(&name, "{{json .Config.Labels}}")).unwrap();
    assert!(labels.contains_key("dev.devenv.config-hash"));
    docker(&["rm", "-f", &name]);
    let mut args = vec!["create".to_string(), "--name".into(), name.clone()];
    for (k, v) in &labels {
        args.push("--label".into());
        args.push(format!("{k}={v}"));
    }
    args.extend([
        format!("{REGISTRY}/library/busybox:latest"),
        "sleep".into(),
        "60".into(),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(docker(&argv).status.success());
    assert_eq!(inspect(&name, "{{.State.Status}}"), "created");
    env.run(["up"]).success();
    assert_eq!(inspect(&name, "{{.State.Running}}"), "true");
}

#[test]
fn status_json_has_the_contract_shape_and_logs_print_a_services_output() {
    if !engine_available("status_shape") {
        return;
    }
    let project = "svc-status";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(
        project,
        r#"[services.web]
image = "busybox:latest"
command = ["sh", "-c", "echo hello from web; mkdir -p /www; echo ok > /www/health; exec httpd -f -p 8080 -h /www"]
ports = ["auto:8080"]
ready = { http = "/health", port = 8080 }
"#,
    ));
    let before = env.run(["status", "--json"]).success().json();
    assert_eq!(before["services"][0]["state"], "missing");
    assert_eq!(before["services"][0]["ready"], false);
    env.run(["up"]).success();
    let s = env.run(["status", "--json"]).success().json();
    assert_eq!(s["project"], project);
    assert_eq!(s["tools"], serde_json::json!([]));
    let web = &s["services"][0];
    assert_eq!(web["name"], "web");
    assert_eq!(web["kind"], "service");
    assert_eq!(web["state"], "running");
    assert_eq!(web["ready"], true);
    let port = web["ports"][0]["host"].as_u64().unwrap();
    assert_eq!(web["ports"][0]["container"], 8080);
    assert_eq!(web["url"], format!("http://127.0.0.1:{port}"));
    env.run(["logs", "web"])
        .success()
        .stdout_has("hello from web");
    env.run(["logs", "web", "--tail", "1"]).success();
    env.run(["logs", "nope"]).code(2).stderr_has("known: web");
    env.run(["status"]).success().stdout_has("web");
}

#[test]
fn a_missing_tag_fails_naming_the_reference_tried_and_creates_nothing() {
    if !engine_available("missing_tag") {
        return;
    }
    let project = "svc-missing-tag";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(
        project,
        "[services.a]\nimage = \"busybox:no-such-tag\"\n",
    ));
    env.run(["up"])
        .code(1)
        .stderr_has(&format!("{REGISTRY}/library/busybox:no-such-tag"));
    assert!(containers(project).is_empty());

    // pull = "never": a missing image is named, nothing is pulled.
    env.write(
        "devenv.toml",
        &format!(
            "[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\npull = \"never\"\n[services.a]\nimage = \"busybox:never-pulled\"\n"
        ),
    );
    env.run(["up"])
        .code(1)
        .stderr_has("pull policy is `never`")
        .stderr_has("busybox:never-pulled");
}

/// The `postgres:16` test image ran PostgreSQL 15 and said nothing about
/// it. Each test image's labels say what it holds, and the server agrees.
#[test]
fn the_test_images_labels_say_which_server_they_really_hold() {
    if !engine_available("test_image_labels") {
        return;
    }
    for (tag, version_cmd, expect) in [
        ("postgres:16", "postgres --version", "(PostgreSQL) 15."),
        ("postgres:15", "postgres --version", "(PostgreSQL) 15."),
        ("redis:7", "redis-server --version", "v=7.0."),
    ] {
        let image = format!("{REGISTRY}/library/{tag}");
        let label = docker(&[
            "image",
            "inspect",
            "--format",
            "{{ index .Config.Labels \"org.opencontainers.image.version\" }}",
            &image,
        ]);
        let label = String::from_utf8_lossy(&label.stdout).trim().to_string();
        let out = docker(&[
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            &image,
            "-c",
            version_cmd,
        ]);
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(said.contains(expect), "{tag}: {said}");
        assert!(
            said.contains(&format!(" {label}.")) || said.contains(&format!("={label}.")),
            "{tag} is labelled {label} but says {said}"
        );
    }
}
