//! The optional post-commit hook: records the first commit right away and
//! never blocks or fails a commit.

#[path = "metrics_support/mod.rs"]
mod support;

use std::time::Duration;

use support::*;

/// How long the hook's background devenv may take.
const HOOK: Duration = Duration::from_secs(60);

/// The first commit in the timeline the hook's background devenv wrote.
/// Polls because the hook runs devenv in the background on purpose.
fn wait_for_first_commit(env: &TestEnv) -> String {
    wait_for(HOOK, "the hook to record the first commit", || {
        let text = std::fs::read_to_string(spool_dir(env)?.join("timeline.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        Some(v["first_commit_at"].as_str()?.to_string())
    })
}

#[test]
fn the_post_commit_hook_records_the_first_commit() {
    let env = cloned_env("[project]\nname = \"hooky\"\n", "2026-03-01T09:00:00Z", &[]);
    env.run(["up"]).success();
    env.run(["metrics", "--install-hook"])
        .success()
        .stderr_has("installed the post-commit hook");
    let hook = env.repo().join(".git/hooks/post-commit");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.contains("devenv-metrics-hook"), "{text}");
    // Reinstalling refreshes it in place.
    env.run(["metrics", "--install-hook"])
        .success()
        .stderr_has("updated the post-commit hook");

    commit_as(&env, &env.repo(), USER, "2026-03-01T15:00:00Z");
    // No devenv command between the commit and this check: the hook did it.
    assert_eq!(wait_for_first_commit(&env), "2026-03-01T15:00:00Z");
}

#[test]
fn a_failing_endpoint_never_blocks_a_commit_and_an_existing_hook_still_runs() {
    let silent = blackhole();
    let port = silent.port;
    let env = cloned_env(
        &format!(
            "[project]\nname = \"hooky2\"\n[metrics]\nendpoint = \"http://127.0.0.1:{port}\"\nformat = \"webhook\"\nauto_report = true\ntimeout = \"30s\"\n"
        ),
        "2026-03-01T09:00:00Z",
        &[],
    );
    // The user's own hook, which even fails: it keeps running, first.
    let hooks = env.repo().join(".git/hooks");
    let marker = env.repo().join(".git/own-hook-ran");
    std::fs::write(
        hooks.join("post-commit"),
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            hooks.join("post-commit"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    env.run(["metrics", "--install-hook"])
        .success()
        .stderr_has("previous hook was kept");
    // With a silent endpoint and a 30 s timeout, a blocking hook would hang
    // here; the commit returns as soon as git is done.
    commit_as(&env, &env.repo(), USER, "2026-03-01T15:00:00Z");
    assert!(marker.exists(), "the existing hook did not run");
    assert_eq!(wait_for_first_commit(&env), "2026-03-01T15:00:00Z");
    let log = env.git(&env.repo(), &["log", "--format=%aE", "-1"]);
    assert_eq!(log.trim(), USER);
}

#[test]
fn the_hook_sends_the_first_commit_when_auto_report_is_on() {
    let rx = receiver();
    let env = cloned_env(
        &format!(
            "[project]\nname = \"hooky3\"\n[metrics]\nendpoint = \"{}\"\nformat = \"webhook\"\n",
            rx.base()
        ),
        "2026-03-01T09:00:00Z",
        &[],
    );
    env.run(["up"]).success();
    assert_eq!(rx.accepted().len(), 1, "auto_report after up");
    env.run(["metrics", "--install-hook"]).success();
    commit_as(&env, &env.repo(), USER, "2026-03-01T15:00:00Z");
    let doc = wait_for(HOOK, "the hook to send the new timeline", || {
        rx.accepted().get(1).map(|r| r.json())
    });
    assert_eq!(doc["type"], "onboarding");
    assert_eq!(doc["onboarding"]["first_commit_at"], "2026-03-01T15:00:00Z");
    assert_eq!(doc["onboarding"]["time_to_first_commit_seconds"], 21600.0);
    // The hook records the acknowledgement just after the receiver answers.
    wait_until(HOOK, "the hook to record the acknowledgement", || {
        env.run(["report", "--dry-run"]).success().stdout.is_empty()
    });
    // Acknowledged: not sent again.
    env.run(["report"]).success().stderr_has("nothing to send");
    assert_eq!(rx.accepted().len(), 2);
}

#[test]
fn a_hooks_path_inside_the_repository_is_left_alone() {
    let env = cloned_env("[project]\nname = \"husky\"\n", "2026-03-01T09:00:00Z", &[]);
    std::fs::create_dir_all(env.repo().join(".husky")).unwrap();
    env.git(&env.repo(), &["config", "core.hooksPath", ".husky"]);
    env.run(["metrics", "--install-hook"])
        .code(2)
        .stderr_has("inside the repository")
        .stderr_has("hint:");
    assert!(!env.repo().join(".husky/post-commit").exists());
}
