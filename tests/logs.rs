//! `devenv logs` with several names or none interleaves every service's
//! and mock's log by time, each line prefixed with its name, like
//! `docker compose logs`; `--tail`, `--since` and `--follow` apply to all.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{
    engine_available, http_get, wait_for_exit, wait_until, wait_until_alive, Cleanup, Downed,
    TestEnv, REGISTRY,
};

fn project(name: &str) -> TestEnv {
    TestEnv::new().manifest(&format!(
        "[project]\nname = \"{name}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\
         [services.a]\nimage = \"busybox:latest\"\n\
         command = [\"sh\", \"-c\", \"echo a1; sleep 1; echo a2; exec sleep 3600\"]\n\
         [services.b]\nimage = \"busybox:latest\"\n\
         command = [\"sh\", \"-c\", \"sleep 0.5; echo b1; sleep 1; echo b2; exec sleep 3600\"]\n\
         [mocks.pay]\nport = \"auto\"\n[[mocks.pay.routes]]\npath = \"/v\"\n"
    ))
}

/// The lines of `devenv logs ARGS` that come from services a and b.
fn ab_lines(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let mut cmd = vec!["logs"];
    cmd.extend_from_slice(args);
    env.run(&cmd)
        .success()
        .stdout
        .lines()
        .filter(|l| l.starts_with("a ") || l.starts_with("b "))
        .map(str::to_string)
        .collect()
}

#[test]
fn logs_of_every_source_are_interleaved_by_time_and_prefixed() {
    if !engine_available("logs_of_every_source_are_interleaved") {
        return;
    }
    let name = "logs-all";
    let _c = Cleanup(name.into());
    let env = project(name);
    let _down = Downed(&env);
    env.run(["up"]).success();
    wait_until(
        Duration::from_secs(60),
        "both services to write their second line",
        || ab_lines(&env, &[]).len() == 4,
    );
    assert_eq!(
        ab_lines(&env, &[]),
        ["a   | a1", "b   | b1", "a   | a2", "b   | b2"]
    );

    let url = common::mock_url(&env, "pay");
    assert_eq!(http_get(&format!("{url}/v")).0, 200);
    wait_until(
        Duration::from_secs(60),
        "the mock's request to be logged",
        || {
            env.run(["logs"])
                .stdout
                .lines()
                .any(|l| l.starts_with("pay | ") && l.contains("/v"))
        },
    );

    // The prefix is as wide as the longest name asked for.
    assert_eq!(
        ab_lines(&env, &["a", "b", "--tail", "1"]),
        ["a | a2", "b | b2"]
    );
    assert_eq!(ab_lines(&env, &["--since", "1h"]).len(), 4);
    assert!(ab_lines(&env, &["--since", "2999-01-01T00:00:00Z"]).is_empty());
    env.run(["logs", "a", "--since", "1h"])
        .success()
        .stdout_has("a1\na2\n");
    env.run(["logs", "nope", "a"])
        .code(2)
        .stderr_has("no service, mock or process named `nope`");
    env.run(["logs", "a", "--since", "soon"])
        .code(2)
        .stderr_has("--since `soon`");
}

#[test]
fn logs_follow_shows_new_lines_of_every_source_until_interrupted() {
    if !engine_available("logs_follow_shows_new_lines") {
        return;
    }
    let name = "logs-follow";
    let _c = Cleanup(name.into());
    let env = project(name);
    let _down = Downed(&env);
    env.run(["up"]).success();
    let url = common::mock_url(&env, "pay");
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut follow = env
        .command(["logs", "--follow"])
        .stdout(Stdio::from(out.reopen().unwrap()))
        .spawn()
        .unwrap();
    wait_until_alive(
        &mut follow,
        Duration::from_secs(60),
        "history to be printed",
        || {
            std::fs::read_to_string(out.path())
                .unwrap()
                .contains("a   | a1")
        },
    );
    // A request after `--follow` started shows up as it happens.
    wait_until_alive(
        &mut follow,
        Duration::from_secs(60),
        "a followed mock line",
        || {
            let _ = http_get(&format!("{url}/v?late=1"));
            std::fs::read_to_string(out.path())
                .unwrap()
                .contains("late=1")
        },
    );
    std::process::Command::new("kill")
        .args(["-INT", &follow.id().to_string()])
        .status()
        .unwrap();
    let status = wait_for_exit(
        &mut follow,
        Duration::from_secs(60),
        "logs --follow to stop",
    );
    assert_eq!(status.code(), Some(130));
}
