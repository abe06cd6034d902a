//! A repository is untrusted input: one test per attack on "paths stay
//! inside the repository". Each bad repository is exit 2 before any phase,
//! names the path and where it really points, and leaves nothing behind;
//! the one thing allowed, a mount from outside declared by the user in
//! devenv.local.toml, reaches the container.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{docker, engine_available, free_port, Cleanup, TestEnv, REGISTRY};

const SECRET: &str = "TOP-SECRET-outside-the-repository";

/// A directory beside the repository (not inside it), with a secret file.
fn outside(env: &TestEnv) -> PathBuf {
    let dir = env.repo().parent().unwrap().join("outside");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("secret.txt"), SECRET).unwrap();
    dir.canonicalize().unwrap()
}

/// The checks every refused repository passes: exit 2, the message names
/// the path and where it points, no secret shown, nothing created.
#[track_caller]
fn refused(env: &TestEnv, args: &[&str], path: &str, points_to: &str) -> common::Checked {
    let r = env
        .run(args)
        .code(2)
        .stderr_has(path)
        .stderr_has(points_to)
        .stderr_lacks(SECRET)
        .stderr_lacks("root:x:0");
    assert!(!env.exists(".devenv"), "nothing is created\n{}", r.stderr);
    r
}

const CONFIG: &str = r#"[[config.files]]
template = "templates/app.j2"
output = "app.env"
"#;

#[test]
fn a_template_symlinked_to_etc_passwd_is_refused_before_any_phase() {
    let env = TestEnv::new().manifest(CONFIG);
    std::fs::create_dir_all(env.repo().join("templates")).unwrap();
    symlink("/etc/passwd", env.repo().join("templates/app.j2")).unwrap();
    for cmd in [&["up"][..], &["validate"], &["render"]] {
        let r = refused(&env, cmd, "templates/app.j2", "/etc/passwd");
        assert!(r.stderr.contains("devenv.toml:2:12"), "{}", r.stderr);
    }
    assert!(!env.exists("app.env"));
}

#[test]
fn a_template_in_a_directory_symlinked_outside_is_refused() {
    let env = TestEnv::new().manifest(CONFIG);
    let out = outside(&env);
    std::fs::write(out.join("app.j2"), SECRET).unwrap();
    symlink(&out, env.repo().join("templates")).unwrap();
    refused(
        &env,
        &["up"],
        "goes through the symlink `templates`",
        &out.join("app.j2").display().to_string(),
    );
}

#[test]
fn an_include_that_climbs_out_with_dotdot_is_refused() {
    let env = TestEnv::new().manifest(CONFIG).file(
        "templates/app.j2",
        "A=1\n{% include '../outside/secret.txt' %}\n",
    );
    let out = outside(&env);
    let target = out.join("secret.txt").display().to_string();
    for cmd in [&["up"][..], &["validate"], &["render"]] {
        let r = refused(&env, cmd, "templates/app.j2:2:13", &target);
        assert!(r.stderr.contains("leaves the repository"), "{}", r.stderr);
    }
    // A name only known at render time goes through the same rule.
    env.write(
        "devenv.toml",
        &format!("{CONFIG}[config.values]\ninc = \"../outside/secret.txt\"\n"),
    );
    env.write("templates/app.j2", "{% include inc %}\n");
    env.run(["render"])
        .code(2)
        .stderr_has("leaves the repository")
        .stderr_has(&target)
        .stderr_lacks(SECRET);
    assert!(!env.exists("app.env"));
}

#[test]
fn an_include_symlinked_outside_is_refused() {
    let env = TestEnv::new()
        .manifest(CONFIG)
        .file("templates/app.j2", "{% include 'templates/_common.j2' %}\n");
    let out = outside(&env);
    symlink(
        out.join("secret.txt"),
        env.repo().join("templates/_common.j2"),
    )
    .unwrap();
    refused(
        &env,
        &["up"],
        "templates/_common.j2",
        &out.join("secret.txt").display().to_string(),
    );
}

#[test]
fn an_output_dir_symlinked_outside_is_refused_and_nothing_is_written() {
    let env = TestEnv::new()
        .manifest("[[config.files]]\ntemplate = \"templates/app.j2\"\noutput = \"conf/app.env\"\n")
        .file("templates/app.j2", "A=1\n");
    let out = outside(&env);
    symlink(&out, env.repo().join("conf")).unwrap();
    for cmd in [&["up"][..], &["validate"], &["render"]] {
        let r = refused(
            &env,
            cmd,
            "conf/app.env",
            &out.join("app.env").display().to_string(),
        );
        assert!(r.stderr.contains("devenv.toml:3:10"), "{}", r.stderr);
    }
    assert!(!out.join("app.env").exists(), "nothing written outside");
    // An output file that is itself a symlink out is refused the same way.
    std::fs::remove_file(env.repo().join("conf")).unwrap();
    std::fs::create_dir(env.repo().join("conf")).unwrap();
    symlink(out.join("secret.txt"), env.repo().join("conf/app.env")).unwrap();
    refused(&env, &["up"], "conf/app.env", "secret.txt");
    assert_eq!(
        std::fs::read_to_string(out.join("secret.txt")).unwrap(),
        SECRET
    );
}

/// A foreground `devenv mock serve`, killed on drop.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request: (status, body).
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

const MOCK: &str = "[mocks.pay]\nwiremock = \"mocks/pay\"\n";

fn mapping(env: &TestEnv) {
    env.write(
        "mocks/pay/mappings/a.json",
        r#"{"request": {"url": "/a"}, "response": {"bodyFileName": "body.json"}}"#,
    );
}

#[test]
fn a_wiremock_body_file_symlinked_outside_is_never_served() {
    let env = TestEnv::new().manifest(MOCK);
    let out = outside(&env);
    let secret = out.join("secret.txt").display().to_string();
    mapping(&env);
    std::fs::create_dir_all(env.repo().join("mocks/pay/__files")).unwrap();
    symlink(&secret, env.repo().join("mocks/pay/__files/body.json")).unwrap();
    let body = "mocks/pay/__files/body.json";
    refused(&env, &["up", "--only", "mocks"], body, &secret);
    refused(&env, &["mock", "serve", "pay"], body, &secret);

    // At serve time too: a body file swapped for a symlink after the mock
    // started is not reloaded, and the admin API cannot name one.
    std::fs::remove_file(env.repo().join(body)).unwrap();
    env.write(body, "{\"ok\": true}");
    let port = free_port();
    let child = env
        .command(["mock", "serve", "pay", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _served = Served(child);
    let start = Instant::now();
    while http(port, "GET", "/__admin/health", "").0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the mock never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(http(port, "GET", "/a", "").1.contains("\"ok\": true"));
    std::fs::remove_file(env.repo().join(body)).unwrap();
    symlink(&secret, env.repo().join(body)).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let (_, got) = http(port, "GET", "/a", "");
    assert!(!got.contains(SECRET), "served the outside file: {got}");
    let posted = http(
        port,
        "POST",
        "/__admin/mappings",
        r#"{"request": {"url": "/b"}, "response": {"bodyFileName": "body.json"}}"#,
    );
    assert!(posted.0 >= 400, "the admin API took it: {posted:?}");
    assert!(posted.1.contains("outside the repository"), "{posted:?}");
    let (status, got) = http(port, "GET", "/b", "");
    assert!(status == 404 && !got.contains(SECRET), "{status} {got}");
}

#[test]
fn a_mapping_dir_or_pact_file_symlinked_outside_is_refused() {
    let env = TestEnv::new().manifest(MOCK);
    let out = outside(&env);
    std::fs::create_dir_all(env.repo().join("mocks")).unwrap();
    symlink(&out, env.repo().join("mocks/pay")).unwrap();
    refused(&env, &["validate"], "mocks/pay", &out.display().to_string());
    env.write("devenv.toml", "[mocks.pay]\npact = \"pact.json\"\n");
    symlink(out.join("secret.txt"), env.repo().join("pact.json")).unwrap();
    let r = refused(&env, &["up"], "pact.json", "secret.txt");
    assert!(r.stderr.contains("devenv.toml:2:8"), "{}", r.stderr);
}

fn service(mounts: &str) -> String {
    format!(
        "[project]\nname = \"confine-mounts\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\n\
         [services.app]\nimage = \"busybox:latest\"\n\
         command = [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 0.2; done\"]\n\
         mounts = [{mounts}]\n"
    )
}

#[test]
fn a_mount_from_outside_the_repo_in_devenv_toml_is_exit_2() {
    let env = TestEnv::new();
    let out = outside(&env);
    let abs = out.display().to_string();
    env.write("devenv.toml", &service(&format!("\"{abs}:/data\"")));
    let r = refused(&env, &["up"], &abs, "absolute path");
    assert!(r.stderr.contains("devenv.toml:9:11"), "{}", r.stderr);
    assert!(
        r.stderr.contains("devenv.local.toml"),
        "the hint names it\n{}",
        r.stderr
    );
    env.write("devenv.toml", &service("\"../outside:/data\""));
    refused(&env, &["validate"], "../outside", "leaves the repository");
    symlink(&out, env.repo().join("cache")).unwrap();
    env.write("devenv.toml", &service("\"./cache:/data:ro\""));
    let r = refused(&env, &["up"], "./cache", &abs);
    assert!(r.stderr.contains("devenv.local.toml"), "{}", r.stderr);
    // Nor may devenv.toml declare the user-only table.
    env.write(
        "devenv.toml",
        &format!(
            "{}[settings.mounts]\napp = [\"{abs}:/data\"]\n",
            service("")
        ),
    );
    env.run(["validate"])
        .code(2)
        .stderr_has("never from devenv.toml");
}

#[test]
fn a_mount_of_root_is_refused_from_every_layer() {
    let env = TestEnv::new();
    env.write("devenv.toml", &service("\"/:/host\""));
    refused(
        &env,
        &["up"],
        "`/` is the whole file system",
        "devenv.toml:9:11",
    );
    env.write("devenv.toml", &service(""));
    env.write(
        "devenv.local.toml",
        "[settings.mounts]\napp = [\"/:/host\"]\n",
    );
    refused(
        &env,
        &["up"],
        "`/` is the whole file system",
        "devenv.local.toml:2:8",
    );
    std::fs::remove_file(env.repo().join("devenv.local.toml")).unwrap();
    symlink("/", env.repo().join("everything")).unwrap();
    env.write(
        "devenv.local.toml",
        "[settings.mounts]\napp = [\"./everything:/host\"]\n",
    );
    refused(
        &env,
        &["up"],
        "`/` is the whole file system",
        "devenv.local.toml:2:8",
    );
    std::fs::remove_file(env.repo().join("devenv.local.toml")).unwrap();
    let xdg = env.home().join(".config");
    std::fs::create_dir_all(xdg.join("devenv")).unwrap();
    std::fs::write(
        xdg.join("devenv/config.toml"),
        "[settings.mounts]\napp = [\"/:/host:ro\"]\n",
    )
    .unwrap();
    let env = env.env("XDG_CONFIG_HOME", xdg.to_str().unwrap());
    refused(
        &env,
        &["up"],
        "`/` is the whole file system",
        "config.toml:2:8",
    );
}

#[test]
fn an_outside_mount_from_devenv_local_toml_is_allowed() {
    if !engine_available("an_outside_mount_from_devenv_local_toml_is_allowed") {
        return;
    }
    let project = "confine-mounts";
    let _c = Cleanup(project.into());
    let env = TestEnv::new();
    let out = outside(&env);
    env.write("devenv.toml", &service(""));
    env.write(
        "devenv.local.toml",
        &format!(
            "[settings.mounts]\napp = [\"{}:/data:ro\"]\n",
            out.display()
        ),
    );
    env.run(["config"]).success().stdout_has("app: ");
    env.run(["up", "--only", "services"]).success();
    let container = format!("devenv_{project}_app");
    let inspect = |format: &str| {
        let o = docker(&["inspect", "--format", format, &container]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let mounts = inspect("{{range .Mounts}}{{.Source}}:{{.Destination}}:{{.RW}} {{end}}");
    assert!(
        mounts.contains(&format!("{}:/data:false", out.display())),
        "{mounts}"
    );
    let o = docker(&["exec", &container, "cat", "/data/secret.txt"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), SECRET);
    // The mount is part of the definition: changing it recreates the container.
    let first = inspect("{{.Id}}");
    env.write(
        "devenv.local.toml",
        &format!("[settings.mounts]\napp = [\"{}:/data\"]\n", out.display()),
    );
    env.run(["up", "--only", "services"]).success();
    assert_ne!(inspect("{{.Id}}"), first, "recreated");
    assert!(inspect("{{range .Mounts}}{{.RW}}{{end}}").contains("true"));
}

#[test]
fn a_stacks_file_symlinked_outside_is_refused() {
    let env = TestEnv::new().manifest("[services.db]\nstack = \"evil\"\n");
    let out = outside(&env);
    std::fs::write(out.join("evil.toml"), "image = \"x\"\nversion = \"1\"\n").unwrap();
    std::fs::create_dir_all(env.repo().join("stacks")).unwrap();
    symlink(out.join("evil.toml"), env.repo().join("stacks/evil.toml")).unwrap();
    refused(
        &env,
        &["up"],
        "stacks/evil.toml",
        &out.join("evil.toml").display().to_string(),
    );
    std::fs::remove_dir_all(env.repo().join("stacks")).unwrap();
    symlink(&out, env.repo().join("stacks")).unwrap();
    refused(&env, &["validate"], "stacks", &out.display().to_string());
}

#[test]
fn a_tool_bin_path_escaping_the_archive_is_refused() {
    let env = TestEnv::new().manifest(
        "[tools.evil]\nversion = \"1\"\nurl = \"https://example.invalid/evil-{version}.tar.gz\"\n\
         bin = [\"bin/evil\", \"../../../bin/sh\", \"/usr/bin/python3\"]\nallow_unverified = true\n",
    );
    let r = env
        .run(["up"])
        .code(2)
        .stderr_has("bin `../../../bin/sh` climbs out of the archive")
        .stderr_has("bin `/usr/bin/python3` is an absolute path")
        .stderr_has("devenv.toml:4:");
    assert!(!env.exists(".devenv"), "{}", r.stderr);
}

#[test]
fn a_state_dir_symlinked_outside_is_refused() {
    let env = TestEnv::new().manifest("[project]\nname = \"confine-state\"\n");
    let out = outside(&env);
    symlink(&out, env.repo().join(".devenv")).unwrap();
    env.run(["up"])
        .code(2)
        .stderr_has("state directory `.devenv` is a symlink to")
        .stderr_has(&out.display().to_string());
    env.run(["validate"]).code(2);
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "nothing written outside"
    );
}
