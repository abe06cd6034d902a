//! `[processes]` end to end: the real binary starting real commands
//! (`python3 -m http.server`, small `sh` scripts) under its detached
//! supervisor, and what `up`, `status`, `logs` and `down` make of them.
//! Liveness is read from `/proc`, so "stopped" means no process left, not
//! a state file that says so.

mod common;

use std::time::Duration;

use common::{free_port, http_get, wait_for, wait_until, TestEnv};

/// How long a process may take to come up, restart or go away.
const DEADLINE: Duration = Duration::from_secs(60);

/// Stops whatever a test started, even when it fails.
struct Down<'a>(&'a TestEnv);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(["down"]);
    }
}

/// A project with `[processes.web]` serving on `port`, probed by http.
fn server(port: u16, extra: &str) -> String {
    format!(
        "[project]\nname = \"procs\"\n\n[processes.web]\n\
         command = [\"python3\", \"-m\", \"http.server\", \"{port}\", \"--bind\", \"127.0.0.1\"]\n\
         ready = {{ http = \"/\", port = {port} }}\n{extra}"
    )
}

fn answers(port: u16) -> bool {
    http_get(&format!("http://127.0.0.1:{port}/")).0 == 200
}

/// The recorded entry of one process in `.devenv/state/processes.json`.
fn recorded(env: &TestEnv, name: &str) -> serde_json::Value {
    let doc: serde_json::Value =
        serde_json::from_str(&env.read(".devenv/state/processes.json")).unwrap();
    doc["processes"][name].clone()
}

fn pid_of(v: &serde_json::Value, key: &str) -> u32 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .try_into()
        .unwrap()
}

/// `(state, pgrp)` of a process from `/proc/<pid>/stat`.
/// A process whose command leaves a `sleep` in its group: what `down` and a
/// new `up` must stop along with it.
fn web_with_a_child(port: u16) -> TestEnv {
    TestEnv::new().manifest(&format!(
        "[processes.web]\n\
         command = \"sleep 300 & exec python3 -m http.server {port} --bind 127.0.0.1\"\n\
         ready = {{ http = \"/\", port = {port} }}\n"
    ))
}

/// The supervisor's pid, the command's and its group's, as recorded.
fn pids(env: &TestEnv, name: &str) -> (u32, u32, u32) {
    let e = recorded(env, name);
    (
        pid_of(&e, "supervisor"),
        pid_of(&e, "pid"),
        pid_of(&e, "pgid"),
    )
}

fn stat(pid: u32) -> Option<(String, u32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = s.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f[0].to_string(), f[2].parse().ok()?))
}

/// The process runs (an exited one nobody reaped yet does not).
fn running(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, _)| state != "Z" && state != "X")
}

/// Some process of group `pgid` runs.
fn group_running(pgid: u32) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .any(|pid| stat(pid).is_some_and(|(s, g)| g == pgid && s != "Z" && s != "X"))
}

fn log_text(env: &TestEnv, name: &str) -> String {
    env.read(&format!(".devenv/logs/{name}.log"))
}

#[test]
fn up_returns_only_once_the_http_probe_answers() {
    let port = free_port();
    let env = TestEnv::new().manifest(&format!(
        "[processes.web]\n\
         command = \"echo warming up; sleep 1; exec python3 -m http.server {port} --bind 127.0.0.1\"\n\
         ready = {{ http = \"/\", port = {port}, timeout = \"60s\" }}\n"
    ));
    let _down = Down(&env);
    env.run(["up", "--yes"]).success().stderr_has("process web");
    // No wait here: `up` returned, so it answers.
    assert!(answers(port), "up returned before the process answered");
    let s = common::status_entry(&env, "web");
    assert_eq!(
        (&s["kind"], &s["state"], &s["ready"]),
        (&"process".into(), &"running".into(), &true.into()),
        "{s}"
    );
    assert_eq!(s["pid"], recorded(&env, "web")["pid"], "{s}");
    assert_eq!(s["url"], format!("http://127.0.0.1:{port}"));
}

#[test]
fn a_process_that_exits_non_zero_is_restarted_and_the_log_marks_it() {
    let port = free_port();
    // The first run serves until told to crash, then exits 3; the next
    // serves for good.
    let serve = format!("python3 -m http.server {port} --bind 127.0.0.1");
    let env = TestEnv::new().manifest(&format!(
        "[processes.web]
\
         command = \"if [ -e ran ]; then exec {serve}; fi; touch ran; {serve} & \
         while [ ! -e crash-now ]; do sleep 0.1; done; kill $!; echo crashing; exit 3\"\n\
         ready = {{ http = \"/\", port = {port} }}\nrestart = \"on-failure\"\n"
    ));
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    let first = pid_of(&recorded(&env, "web"), "pid");
    env.write("crash-now", "");
    wait_until(DEADLINE, "a new run after the crash", || {
        recorded(&env, "web")["pid"]
            .as_u64()
            .is_some_and(|p| p != u64::from(first))
    });
    wait_until(DEADLINE, "the new run to answer", || answers(port));
    assert!(!running(first));
    let log = log_text(&env, "web");
    assert!(log.contains("crashing\n"), "{log}");
    assert!(
        log.contains("web exited with code 3; restarting in 0.5s (restart 1)"),
        "{log}"
    );
    assert_eq!(recorded(&env, "web")["restarts"], 1);
}

#[test]
fn a_killed_process_comes_back_with_on_failure_and_the_log_says_so() {
    let port = free_port();
    let env = TestEnv::new().manifest(&server(port, "restart = \"on-failure\"\n"));
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    let first = pid_of(&recorded(&env, "web"), "pid");
    common::wait_until(DEADLINE, "the first run to be killed", || {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &first.to_string()])
            .status();
        !running(first)
    });
    let second = wait_for(DEADLINE, "the restarted process", || {
        let e = recorded(&env, "web");
        e["pid"].as_u64().filter(|p| *p != u64::from(first))
    });
    wait_until(DEADLINE, "the restarted process to answer", || {
        answers(port)
    });
    let log = log_text(&env, "web");
    assert!(
        log.contains("web exited with code 137; restarting in 0.5s (restart 1)"),
        "{log}"
    );
    assert_eq!(log.matches("[devenv]").count(), 3, "{log}");
    let s = common::status_entry(&env, "web");
    assert_eq!(
        (s["state"].as_str(), s["pid"].as_u64()),
        (Some("running"), Some(second))
    );
}

#[test]
fn with_restart_never_a_process_that_exits_stays_down_and_status_says_exited() {
    let env = TestEnv::new().manifest(
        "[processes.once]\ncommand = \"echo up and running; sleep 1; exit 4\"\n\
         ready = { log = \"up and running\" }\nrestart = \"never\"\n",
    );
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    wait_until(DEADLINE, "the process to exit", || {
        common::status_entry(&env, "once")["state"] == "exited"
    });
    let s = common::status_entry(&env, "once");
    assert_eq!(
        (&s["pid"], &s["ready"]),
        (&serde_json::Value::Null, &false.into()),
        "{s}"
    );
    assert_eq!(recorded(&env, "once")["exit_code"], 4);
    // Given time to come back, it does not.
    std::thread::sleep(Duration::from_secs(2));
    let log = log_text(&env, "once");
    assert_eq!(log.matches("starting once").count(), 1, "{log}");
    assert!(log.contains("once exited with code 4"), "{log}");
    assert_eq!(common::status_entry(&env, "once")["state"], "exited");
}

#[test]
fn down_leaves_no_process_of_the_supervisor_the_command_or_its_group() {
    let port = free_port();
    let env = web_with_a_child(port);
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    let (supervisor, pid, pgid) = pids(&env, "web");
    assert!(running(supervisor) && running(pid) && group_running(pgid));
    env.run(["down"])
        .success()
        .stderr_has("stopped process(es): web");
    assert!(!running(supervisor), "the supervisor is left");
    assert!(!running(pid), "the command is left");
    assert!(!group_running(pgid), "its `sleep 300` is left");
    assert!(!answers(port));
    let s = common::status_entry(&env, "web");
    assert_eq!(
        (&s["state"], &s["pid"]),
        (&"missing".into(), &serde_json::Value::Null)
    );
}

#[test]
fn after_kill_9_of_the_supervisor_a_new_up_leaves_no_orphan() {
    let port = free_port();
    let env = web_with_a_child(port);
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    let (supervisor, pid, pgid) = pids(&env, "web");
    std::process::Command::new("kill")
        .args(["-KILL", &supervisor.to_string()])
        .status()
        .unwrap();
    wait_until(DEADLINE, "the supervisor to die", || !running(supervisor));
    assert!(running(pid), "the command outlives its killed supervisor");
    env.run(["up"]).success();
    assert!(!group_running(pgid), "the old group is left running");
    let now = recorded(&env, "web");
    assert_ne!(pid_of(&now, "pid"), pid);
    assert!(running(pid_of(&now, "supervisor")));
    assert!(answers(port), "the new run serves");
}

#[test]
fn a_re_up_unchanged_is_a_no_op_and_a_changed_command_restarts() {
    let port = free_port();
    let env = TestEnv::new().manifest(&server(port, ""));
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    let first = recorded(&env, "web");
    env.run(["up", "-v"])
        .success()
        .stderr_has("process web: unchanged, left running");
    let again = recorded(&env, "web");
    assert_eq!(again["pid"], first["pid"]);
    assert_eq!(again["supervisor"], first["supervisor"]);
    // A changed command (and so changed code: trusted again) restarts it.
    env.write(
        "devenv.toml",
        &server(port, "").replace("\"127.0.0.1\"]", "\"127.0.0.1\", \"--directory\", \".\"]"),
    );
    env.run(["up", "--yes"]).success();
    let changed = recorded(&env, "web");
    assert_ne!(changed["pid"], first["pid"]);
    assert!(!running(pid_of(&first, "pid")), "the old run is left");
    assert!(answers(port));
    // So does a changed env, and a process removed from devenv.toml stops.
    env.write("devenv.toml", "[project]\nname = \"procs\"\n");
    env.run(["up", "--yes"])
        .success()
        .stderr_has("process web: stopped (removed from devenv.toml)");
    assert!(!running(pid_of(&changed, "pid")));
    assert!(!answers(port));
}

#[test]
fn a_changed_env_restarts_the_process_and_the_env_reaches_it() {
    let env = TestEnv::new().manifest(
        "[processes.env]\ncommand = \"echo greeting=$GREETING tools=$PATH; sleep 300\"\n\
         env = { GREETING = \"hello\" }\nready = { log = \"greeting=hello\" }\n",
    );
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    let first = recorded(&env, "env")["pid"].clone();
    let bin = env.repo().join(".devenv/bin");
    assert!(
        log_text(&env, "env").contains(&format!("tools={}", bin.display())),
        "the pinned tools come first on PATH"
    );
    env.write(
        "devenv.toml",
        &env.read("devenv.toml").replace("hello", "bonjour"),
    );
    env.run(["up", "--yes"]).success();
    assert_ne!(recorded(&env, "env")["pid"], first);
    assert!(
        !running(first.as_u64().unwrap() as u32),
        "the old run is left"
    );
    assert!(log_text(&env, "env").contains("greeting=bonjour"));
}

#[test]
fn logs_reads_the_process_log_with_tail() {
    let env = TestEnv::new().manifest(
        "[processes.talker]\ncommand = \"echo one; echo two; echo three; sleep 300\"\n\
         ready = { log = \"three\" }\n",
    );
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    let all = env.run(["logs", "talker"]).success();
    assert!(all.stdout.contains("one\ntwo\nthree\n"), "{}", all.stdout);
    assert!(all.stdout.contains("[devenv]"), "the start is marked");
    env.run(["logs", "talker", "--tail", "1"])
        .success()
        .stdout_has("three");
    let tail = env.run(["logs", "talker", "--tail", "1"]).success();
    assert_eq!(tail.stdout, "three\n");
}

#[test]
fn a_process_starts_after_the_mock_and_the_process_it_depends_on() {
    let (mock, api) = (free_port(), free_port());
    let fetch = |port: u16, what: &str| {
        format!(
            "python3 -c 'import urllib.request; urllib.request.urlopen(\\\"http://127.0.0.1:{port}/\\\")' \
             && echo {what} answered"
        )
    };
    let env = TestEnv::new().manifest(&format!(
        "[mocks.pay]\nport = {mock}\nroutes = [{{ path = \"/\", json = {{ ok = true }} }}]\n\n\
         [processes.web]\ncommand = \"{} && sleep 300\"\nready = {{ log = \"api answered\" }}\n\
         depends_on = [\"api\"]\nrestart = \"never\"\n\n\
         [processes.api]\n\
         command = \"{} && sleep 1 && exec python3 -m http.server {api} --bind 127.0.0.1\"\n\
         ready = {{ http = \"/\", port = {api} }}\ndepends_on = [\"pay\"]\nrestart = \"never\"\n",
        fetch(api, "api"),
        fetch(mock, "mock"),
    ));
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    assert!(log_text(&env, "api").contains("mock answered"));
    assert!(log_text(&env, "web").contains("api answered"));
}

#[test]
fn untrusted_processes_are_refused_and_run_nothing() {
    let env = TestEnv::new()
        .manifest("[processes.web]\ncommand = \"touch ran.txt; sleep 300\"\ncwd = \"web\"\n");
    std::fs::create_dir(env.repo().join("web")).unwrap();
    env.run(["up"])
        .code(3)
        .stderr_has("process web: touch ran.txt; sleep 300 (cwd web)")
        .stderr_has("devenv trust");
    assert!(!env.exists("web/ran.txt"));
    assert!(!env.exists(".devenv"), "an untrusted up changed the clone");
}

#[test]
fn only_processes_runs_just_that_phase() {
    let port = free_port();
    let env = TestEnv::new().manifest(&format!(
        "{}\n[mocks.pay]\nroutes = [{{ path = \"/\" }}]\n",
        server(port, "")
    ));
    let _down = Down(&env);
    env.run(["up", "--yes", "--only", "processes"]).success();
    assert!(answers(port));
    assert_eq!(
        common::status_entry(&env, "pay")["state"],
        "missing",
        "the mocks phase ran"
    );
}

#[test]
fn a_process_that_never_gets_ready_fails_up_with_its_log_tail_and_is_stopped() {
    let port = free_port();
    let env = TestEnv::new().manifest(&format!(
        "[processes.web]\ncommand = \"echo listening on the wrong port; sleep 300\"\n\
         ready = {{ tcp = {port}, timeout = \"1s\" }}\n"
    ));
    let _down = Down(&env);
    env.run(["up", "--yes"])
        .code(1)
        .stderr_has("process web never became ready: not ready after 1s")
        .stderr_has("listening on the wrong port")
        .stderr_has("devenv logs web");
    let s = common::status_entry(&env, "web");
    assert_eq!(s["state"], "missing", "{s}");
    let log = log_text(&env, "web");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn bad_process_definitions_are_exit_2_with_their_position() {
    let env = TestEnv::new().manifest(
        "[processes.web]\ncommand = \"x\"\ncwd = \"../outside\"\ndepends_on = [\"db\"]\n",
    );
    env.run(["validate"])
        .code(2)
        .stderr_has("devenv.toml:3:7")
        .stderr_has("outside the repository")
        .stderr_has("devenv.toml:4:15")
        .stderr_has("process `web` depends on `db`, which does not exist");
    env.run(["up", "--yes"]).code(2);
    assert!(!env.exists(".devenv"));
}

#[test]
fn down_stops_processes_from_the_state_even_when_devenv_toml_is_broken() {
    let port = free_port();
    let env = TestEnv::new().manifest(&server(port, ""));
    let _down = Down(&env);
    env.run(["up", "--yes"]).success();
    let pid = pid_of(&recorded(&env, "web"), "pid");
    env.write("devenv.toml", "[processes.web\nthis is not toml");
    env.run(["down"])
        .success()
        .stderr_has("does not load")
        .stderr_has("stopped process(es): web");
    assert!(!running(pid));
    assert!(!answers(port));
}
