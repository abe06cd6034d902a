//! An engine on another machine, `DOCKER_HOST=ssh://root@10.77.0.2`: the
//! second machine of tests/support/second_machine.sh (a network namespace
//! with its own dockerd, sshd and registry). Its published ports bind to its
//! own 127.0.0.1, which this machine cannot reach: they answer here only
//! because devenv forwards them, and a mock running here answers its
//! containers only through devenv's reverse forward.
//!
//! The ssh client finds the machine's key and host key through
//! /etc/ssh/ssh_config.d/devenv-remote.conf, as the user's own ssh config
//! would. Every test has its own project and its own DEVENV_HOME (so its
//! own ssh master), and cleans the machine up however it ends.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{
    free_port, http_get, on_remote, remote_available, remote_docker, status_entry, try_http,
    Downed, RemoteCleanup, TestEnv, REGISTRY, REMOTE_ENGINE,
};

fn remote_env(manifest: &str) -> TestEnv {
    TestEnv::new()
        .env("DOCKER_HOST", REMOTE_ENGINE)
        .manifest(manifest)
}

/// A web server and a Redis on the remote engine, and a mock here.
fn stack(project: &str, web_port: u16, mock_port: u16) -> String {
    format!(
        r#"[project]
name = "{project}"
[settings]
registry_mirror = "{REGISTRY}"

[services.web]
image = "busybox:latest"
command = ["sh", "-c", "mkdir -p /www && echo remote-web > /www/index.html && exec httpd -f -p 8080 -h /www"]
ports = ["{web_port}:8080"]
ready = {{ http = "/index.html", port = 8080 }}

[services.cache]
image = "redis:7"
ports = ["auto:6379"]
ready = {{ tcp = 6379 }}

[mocks.payments]
port = {mock_port}
[[mocks.payments.routes]]
method = "GET"
path = "/v1/health"
status = 200
json = {{ ok = true }}

[env]
CACHE_ADDR = "{{{{ services.cache.host }}}}:{{{{ services.cache.port }}}}"
"#
    )
}

fn answers(port: u16) -> bool {
    try_http(
        "GET",
        &format!("http://127.0.0.1:{port}/index.html"),
        &[],
        "",
    )
    .is_ok_and(|(status, _, _)| status == 200)
}

fn redis_ping(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the forwarded redis");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).trim().to_string()
}

/// The ssh processes that hold a ControlPath under this env's DEVENV_HOME.
fn our_ssh(env: &TestEnv) -> Vec<u32> {
    let home = env.devenv_home().to_string_lossy().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd);
        if cmd.starts_with("ssh\0") && cmd.contains(&home) {
            out.push(pid);
        }
    }
    out
}

fn master_pid(env: &TestEnv) -> u32 {
    let dir = env.devenv_home().join("ssh");
    let pid_file: PathBuf = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pid"))
        .expect("a master pid file");
    std::fs::read_to_string(pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn forwards(env: &TestEnv) -> serde_json::Value {
    let text = env.read(".devenv/state/forwards.json");
    serde_json::from_str(&text).unwrap()
}

fn gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_remote_engines_ports_and_mocks_work_here_and_a_dropped_connection_heals() {
    if !remote_available("remote_stack") {
        return;
    }
    let project = "remote-stack";
    let _clean = RemoteCleanup(project.into());
    let (web, mock) = (free_port(), free_port());
    let env = remote_env(&stack(project, web, mock));
    let _down = Downed(&env);
    assert!(!answers(web), "nothing answers on {web} before up");

    env.run(["up"])
        .success()
        .stderr_has("web ready (created)")
        .stderr_lacks("GatewayPorts");

    // The containers run there, not here.
    let there = remote_docker(&["ps", "--format", "{{.Names}}"]);
    assert!(String::from_utf8_lossy(&there.stdout).contains(&format!("devenv_{project}_web")));
    assert!(common::labelled_ids(&["ps", "-aq"], project).is_empty());
    // Its published port binds to the machine's own loopback ...
    let inside = on_remote(&format!("curl -fsS http://127.0.0.1:{web}/index.html"));
    assert_eq!(String::from_utf8_lossy(&inside.stdout).trim(), "remote-web");
    // ... and answers here, on the same port, through the forward.
    let (status, _, body) = http_get(&format!("http://127.0.0.1:{web}/index.html"));
    assert_eq!((status, body.trim()), (200, "remote-web"));
    let web_entry = status_entry(&env, "web");
    assert_eq!(web_entry["ready"], true, "{web_entry}");
    assert_eq!(web_entry["ports"][0]["host"], web);
    let cache = common::host_port(&env, "cache");
    assert_eq!(redis_ping(cache), "+PONG");
    let shown = env.run(["env", "--shell", "json"]).success().json();
    assert_eq!(shown["CACHE_ADDR"], format!("127.0.0.1:{cache}"), "{shown}");

    // A remote container reaches the mock, which runs here.
    env.run([
        "exec",
        "web",
        "--",
        "wget",
        "-qO-",
        &format!("http://payments:{mock}/v1/health"),
    ])
    .success()
    .stdout_has(r#""ok":true"#);

    // A second up changes nothing and starts no ssh.
    let master = master_pid(&env);
    let before = forwards(&env);
    env.run(["up", "-v"])
        .success()
        .stderr_lacks("forwards over ssh")
        .stderr_has("services: all running and unchanged");
    assert_eq!(forwards(&env), before);
    assert_eq!(our_ssh(&env), vec![master], "only the master runs");

    // The connection drops: the ports stop answering here, the next up
    // makes it again with every forward.
    assert!(std::process::Command::new("kill")
        .args(["-KILL", &master.to_string()])
        .status()
        .unwrap()
        .success());
    common::wait_until(Duration::from_secs(10), "the master to die", || {
        gone(master)
    });
    assert!(!answers(web), "no forward without the connection");
    env.run(["up", "-v"])
        .success()
        .stderr_has("forwards over ssh");
    assert_ne!(master_pid(&env), master);
    let (status, _, _) = http_get(&format!("http://127.0.0.1:{web}/index.html"));
    assert_eq!(status, 200);
    assert_eq!(redis_ping(cache), "+PONG");
    env.run([
        "exec",
        "web",
        "--",
        "wget",
        "-qO-",
        &format!("http://payments:{mock}/v1/health"),
    ])
    .success()
    .stdout_has(r#""ok":true"#);

    // down: no forward, no ssh, no container left.
    env.run(["down"]).success();
    assert!(!answers(web), "the forward is closed");
    assert!(TcpStream::connect(("127.0.0.1", cache)).is_err());
    assert!(!env.exists(".devenv/state/forwards.json"));
    common::wait_until(Duration::from_secs(10), "no ssh process left", || {
        our_ssh(&env).is_empty()
    });
    let left = remote_docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=dev.devenv.project={project}"),
    ]);
    assert!(String::from_utf8_lossy(&left.stdout).trim().is_empty());
}

/// Through an sshd at GatewayPorts' default, a mock's reverse forward was
/// bound to that machine's loopback whatever address was asked for, and
/// `up` said nothing: the containers could not reach the mock, and nothing
/// said why. (second_machine.sh runs that sshd on :2222.)
#[test]
fn an_sshd_without_gateway_ports_gets_a_warning_naming_the_setting() {
    if !remote_available("remote_nogw") {
        return;
    }
    let project = "remote-nogw";
    let _clean = RemoteCleanup(project.into());
    let (web, mock) = (free_port(), free_port());
    let env = TestEnv::new()
        .env("DOCKER_HOST", "ssh://root@10.77.0.2:2222")
        .manifest(&stack(project, web, mock));
    let _down = Downed(&env);
    env.run(["up"])
        .success()
        .stderr_has("mock `payments` is not reachable from the containers")
        .stderr_has("`GatewayPorts clientspecified`");
    // Taken back: the next `up` tries again, and says so again.
    env.run(["up"])
        .success()
        .stderr_has("`GatewayPorts clientspecified`");
}

#[test]
fn a_port_taken_here_is_forwarded_from_another_and_shown_as_such() {
    if !remote_available("remote_taken") {
        return;
    }
    let project = "remote-taken";
    let _clean = RemoteCleanup(project.into());
    // Something of this machine holds the service's port.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let env = remote_env(&format!(
        r#"[project]
name = "{project}"
[settings]
registry_mirror = "{REGISTRY}"
[services.web]
image = "busybox:latest"
command = ["sh", "-c", "mkdir -p /www && echo moved > /www/index.html && exec httpd -f -p 80 -h /www"]
ports = ["{port}:80"]
ready = {{ http = "/index.html", port = 80 }}
[env]
WEB = "{{{{ services.web.port }}}}"
"#
    ));
    let _down = Downed(&env);
    env.run(["up"])
        .success()
        .stderr_has(&format!("port {port} is taken on this machine"));
    let here = common::host_port(&env, "web");
    assert_ne!(here, port);
    let (status, _, body) = http_get(&format!("http://127.0.0.1:{here}/index.html"));
    assert_eq!((status, body.trim()), (200, "moved"));
    let shown = env.run(["env", "--shell", "json"]).success().json();
    assert_eq!(shown["WEB"], here.to_string());
    drop(holder);
}

#[test]
fn an_image_is_built_and_pulled_on_the_remote_engine() {
    if !remote_available("remote_build") {
        return;
    }
    let project = "remote-build";
    let _clean = RemoteCleanup(project.into());
    let env = remote_env(&format!(
        r#"[project]
name = "{project}"
[settings]
registry_mirror = "{REGISTRY}"
[services.web]
build = "web"
ports = ["auto:8080"]
command = ["httpd", "-f", "-p", "8080", "-h", "/www"]
ready = {{ http = "/index.html", port = 8080 }}
"#
    ))
    .file(
        "web/Dockerfile",
        &format!("FROM {REGISTRY}/library/busybox:latest\nCOPY index.html /www/index.html\n"),
    )
    .file("web/index.html", "built there\n");
    let _down = Downed(&env);
    env.run(["up"])
        .success()
        .stderr_has(&format!("built devenv_{project}_web:"));
    let there = remote_docker(&[
        "image",
        "ls",
        "-q",
        "--filter",
        &format!("label=dev.devenv.project={project}"),
    ]);
    assert!(
        !String::from_utf8_lossy(&there.stdout).trim().is_empty(),
        "built on the remote engine"
    );
    assert!(
        common::labelled_ids(&["image", "ls", "-q"], project).is_empty(),
        "not here"
    );
    let port = common::host_port(&env, "web");
    let (status, _, body) = http_get(&format!("http://127.0.0.1:{port}/index.html"));
    assert_eq!((status, body.as_str()), (200, "built there\n"));
}

#[test]
fn probes_reach_the_remote_container_not_the_proxy_in_front_of_it() {
    if !remote_available("remote_probes") {
        return;
    }
    let project = "remote-probes";
    let _clean = RemoteCleanup(project.into());
    // `late` listens only 2 s after it starts; the remote proxy in front
    // of its published port accepts at once, the container does not.
    let env = remote_env(&format!(
        r#"[project]
name = "{project}"
[settings]
registry_mirror = "{REGISTRY}"
[services.page]
image = "busybox:latest"
command = ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
ports = ["auto:8080"]
ready = {{ http = "/index.html", port = 8080 }}
[services.late]
image = "busybox:latest"
command = ["sh", "-c", "sleep 2 && touch /tmp/up && exec httpd -f -p 7000"]
ports = ["auto:7000"]
ready = {{ tcp = 7000 }}
"#
    ));
    let _down = Downed(&env);
    env.run(["up"])
        .success()
        .stderr_has("page ready (created)")
        .stderr_has("late ready (created)");
    // Ready means listening inside: the file was made before the listener.
    let made = remote_docker(&[
        "exec",
        &format!("devenv_{project}_late"),
        "test",
        "-f",
        "/tmp/up",
    ]);
    assert!(
        made.status.success(),
        "`late` was called ready before it listened"
    );
    assert_eq!(status_entry(&env, "page")["ready"], true);

    // A service that never listens is not ready, though its port is published.
    env.write(
        "devenv.toml",
        &format!(
            r#"[project]
name = "{project}"
[settings]
registry_mirror = "{REGISTRY}"
[services.mute]
image = "busybox:latest"
command = ["sleep", "600"]
ports = ["auto:9000"]
ready = {{ tcp = 9000, timeout = "2s" }}
"#
        ),
    );
    env.run(["up"]).code(1).stderr_has("mute");
}
