//! Signals during a hook (issue 12, part 7): SIGINT, SIGTERM and SIGHUP stop
//! the hook's whole process group, devenv exits 130, and the run is
//! recorded as interrupted. A hook that starts a child and waits for it is
//! the attack: before, the signal waited for the hook, and TERM left the
//! child running after devenv was gone.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{wait_for_exit, wait_until, wait_until_alive, TestEnv};

/// Generous hang guards, not speed checks.
const DEADLINE: Duration = Duration::from_secs(60);

const HOOKED: &str = r#"[project]
name = "signals"

[hooks]
setup = ["sleep 300 & echo $! > child.pid; wait"]
"#;

/// Running, not an exited process nobody reaped yet.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Starts `up`, waits for the hook's child, sends `signal` to devenv, and
/// checks the exit code, the child and the recorded run.
fn signal_during_a_hook(signal: &str) {
    let env = TestEnv::new().manifest(HOOKED);
    let mut up = env
        .command(["up", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start devenv up");
    let pid_file = env.repo().join("child.pid");
    let child_pid = || -> Option<u32> {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
    };
    wait_until_alive(&mut up, DEADLINE, "the hook's child to run", || {
        child_pid().is_some_and(alive)
    });
    let child = child_pid().unwrap();
    let _reap = Reap(child);
    let sent = Command::new("kill")
        .args([format!("-{signal}"), up.id().to_string()])
        .status()
        .expect("kill(1)");
    assert!(sent.success(), "kill -{signal} failed");
    let status = wait_for_exit(&mut up, DEADLINE, "devenv to exit after the signal");
    assert_eq!(status.code(), Some(130), "{status}");
    // A `sleep 300` gone within the deadline was stopped, not finished.
    wait_until(DEADLINE, "the hook's child to be stopped", || !alive(child));
    let doc = env.run(["metrics", "--json"]).success().json();
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{doc:#}");
    assert_eq!(runs[0]["outcome"], "interrupted", "{doc:#}");
}

/// Kills the hook's child if the test fails before devenv did, so a
/// failed run leaves no `sleep 300` behind.
struct Reap(u32);

impl Drop for Reap {
    fn drop(&mut self) {
        if alive(self.0) {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}

#[test]
fn sigint_during_a_hook_stops_its_children_and_exits_130() {
    signal_during_a_hook("INT");
}

#[test]
fn sigterm_during_a_hook_leaves_no_child_running() {
    signal_during_a_hook("TERM");
}

#[test]
fn sighup_during_a_hook_exits_130() {
    signal_during_a_hook("HUP");
}
