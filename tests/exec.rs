//! `devenv exec SERVICE -- CMD…` runs inside the service's running
//! container like `docker compose exec`: the command's exit code, stdout
//! and stderr apart, stdin forwarded, `-e`/`-w`/`-u`, a pseudo-terminal on
//! a terminal. `devenv exec -- CMD` still runs on this machine.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use common::{engine_available, wait_for_exit, Cleanup, TestEnv, REGISTRY};

fn running(project: &str) -> TestEnv {
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\
         [services.web]\nimage = \"busybox:latest\"\ncommand = [\"sleep\", \"3600\"]\n"
    ));
    env.run(["up"]).success();
    env
}

#[test]
fn exec_into_a_service_keeps_exit_code_stdout_and_stderr() {
    if !engine_available("exec_into_a_service_keeps_exit_code") {
        return;
    }
    let project = "exec-codes";
    let _c = Cleanup(project.into());
    let env = running(project);
    env.run(["exec", "web", "--", "sh", "-c", "exit 7"]).code(7);
    let r = env
        .run(["exec", "web", "--", "sh", "-c", "echo out; echo err >&2"])
        .success();
    assert_eq!(r.stdout, "out\n");
    assert!(r.stderr.contains("err\n"), "{}", r.stderr);
    let r = env
        .run([
            "exec",
            "-e",
            "A=1",
            "-w",
            "/tmp",
            "-u",
            "nobody",
            "web",
            "--",
            "sh",
            "-c",
            "echo $A; pwd; id -un",
        ])
        .success();
    assert_eq!(r.stdout, "1\n/tmp\nnobody\n");
}

#[test]
fn exec_into_a_service_forwards_stdin() {
    if !engine_available("exec_into_a_service_forwards_stdin") {
        return;
    }
    let project = "exec-stdin";
    let _c = Cleanup(project.into());
    let env = running(project);
    let mut child = env
        .command(["exec", "-T", "web", "--", "sh", "-c", "tr a-z A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let status = wait_for_exit(&mut child, Duration::from_secs(120), "exec with stdin");
    assert!(status.success());
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert_eq!(out, "HELLO\n");
}

#[test]
fn exec_on_a_terminal_gives_the_command_a_terminal() {
    if !engine_available("exec_on_a_terminal_gives_the_command_a_terminal") {
        return;
    }
    let project = "exec-tty";
    let _c = Cleanup(project.into());
    let env = running(project);
    let cmd = env.command(["exec", "web", "--", "sh", "-c", "tty; exit 3"]);
    let (code, screen) = env.on_a_terminal(cmd, &[]);
    assert_eq!(code, 3, "{screen}");
    assert!(screen.contains("/dev/pts/"), "{screen}");
}

#[test]
fn exec_names_the_services_when_there_is_no_such_one() {
    let env =
        TestEnv::new().manifest("[project]\nname = \"x\"\n[services.db]\nimage = \"redis:7\"\n");
    env.run(["exec", "dbb", "--", "true"])
        .code(2)
        .stderr_has("no service named `dbb` in devenv.toml")
        .stderr_has("services: db");
}

#[test]
fn exec_into_a_service_that_is_not_running_says_how_to_start_it() {
    if !engine_available("exec_into_a_service_that_is_not_running") {
        return;
    }
    let project = "exec-down";
    let _c = Cleanup(project.into());
    let env = running(project);
    env.run(["down"]).success();
    env.run(["exec", "web", "--", "true"])
        .code(1)
        .stderr_has("service `web` is not running; `devenv up` starts it");
}
