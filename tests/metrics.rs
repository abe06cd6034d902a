//! The run journal and the onboarding timeline, against real git clones.

#[path = "metrics_support/mod.rs"]
mod support;

use support::*;

const MANIFEST: &str = "[project]\nname = \"onboard\"\n";

#[test]
fn timeline_of_a_real_clone_ignores_others_and_commits_before_the_clone() {
    let env = cloned_env(
        MANIFEST,
        "2026-03-01T09:00:00Z",
        // The hire's own commit from before this clone does not count.
        &[(USER, "2026-01-02T00:00:00Z")],
    );
    let repo = env.repo();
    commit_as(&env, &repo, "boss@corp.io", "2026-03-01T10:00:00Z");
    // Matches USER if the `.` in the email were a regex wildcard.
    commit_as(&env, &repo, "aXnn+dev@x.io", "2026-03-01T10:30:00Z");
    commit_as(&env, &repo, USER, "2026-03-01T12:00:00Z");
    commit_as(&env, &repo, USER, "2026-03-01T13:00:00Z");

    env.run(["up"]).success();
    let doc = env.run(["metrics", "--json"]).success().json();
    let o = &doc["onboarding"];
    assert_eq!(o["cloned_at"], "2026-03-01T09:00:00Z", "{doc:#}");
    assert_eq!(o["first_commit_at"], "2026-03-01T12:00:00Z", "{doc:#}");
    assert_eq!(o["time_to_first_commit_seconds"], 10800.0);
    assert!(o["first_up_started_at"].is_string());
    assert!(o["first_ready_at"].is_string());
    assert!(o["setup_seconds"].as_f64().unwrap() > 0.0);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let names: Vec<&str> = runs[0]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "preflight",
            "tools",
            "mocks",
            "services",
            "config",
            "hooks",
            "processes"
        ]
    );
    assert_eq!(runs[0]["outcome"], "ok");
    for key in ["id", "started_at", "finished_at"] {
        assert!(runs[0][key].is_string(), "{key} in {doc:#}");
    }
}

#[test]
fn first_commit_is_found_lazily_on_a_later_run() {
    let env = cloned_env(MANIFEST, "2026-03-01T09:00:00Z", &[]);
    env.run(["up"]).success();
    let before = env.run(["metrics", "--json"]).success().json();
    assert!(before["onboarding"]["first_commit_at"].is_null());
    commit_as(&env, &env.repo(), USER, "2026-03-02T09:00:00Z");
    env.run(["up"]).success();
    let after = env.run(["metrics", "--json"]).success().json();
    assert_eq!(
        after["onboarding"]["first_commit_at"],
        "2026-03-02T09:00:00Z"
    );
    assert_eq!(after["onboarding"]["time_to_first_commit_seconds"], 86400.0);
}

#[test]
fn without_a_reflog_the_first_devenv_run_stands_for_the_clone() {
    let env = cloned_env(MANIFEST, "2026-03-01T09:00:00Z", &[]);
    std::fs::remove_dir_all(env.repo().join(".git/logs")).unwrap();
    // Dated after the reflog's clone time but before the first run: ignored.
    commit_as(&env, &env.repo(), USER, "2026-03-01T12:00:00Z");
    env.run(["up"]).success();
    let doc = env.run(["metrics", "--json"]).success().json();
    let o = &doc["onboarding"];
    assert_eq!(o["cloned_at"], doc["runs"][0]["started_at"], "{doc:#}");
    assert_eq!(o["first_up_started_at"], o["cloned_at"]);
    assert!(o["first_commit_at"].is_null(), "{doc:#}");
    env.run(["metrics"])
        .success()
        .stdout_has("no clone entry in the reflog");

    // A commit after the first run counts.
    let later = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    commit_as(&env, &env.repo(), USER, &later);
    let doc = env.run(["metrics", "--json"]).success().json();
    assert_eq!(doc["onboarding"]["first_commit_at"], later.as_str());
}

#[test]
fn mailmap_maps_an_old_address_to_the_local_user() {
    let env = cloned_env(MANIFEST, "2026-03-01T09:00:00Z", &[]);
    env.write(".mailmap", &format!("Ann New <{USER}> <ann.old@x.io>\n"));
    commit_as(&env, &env.repo(), "ann.old@x.io", "2026-03-01T11:00:00Z");
    env.run(["up"]).success();
    let doc = env.run(["metrics", "--json"]).success().json();
    assert_eq!(doc["onboarding"]["first_commit_at"], "2026-03-01T11:00:00Z");
}

#[test]
fn a_failed_up_is_recorded_with_its_failing_step() {
    // Today the hooks phase fails because it is not built yet; once it is,
    // `exit 3` fails it for real. Either way the step is `hooks`.
    let env =
        TestEnv::new().manifest("[project]\nname = \"failing\"\n[hooks]\nsetup = [\"exit 3\"]\n");
    env.run(["up", "--yes"]).code(1);
    let lines = journal_lines(&env);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "failed");
    assert_eq!(lines[0]["failed_step"], "hooks");
    let doc = env.run(["metrics", "--json"]).success().json();
    assert_eq!(doc["runs"][0]["outcome"], "failed");
    assert_eq!(doc["runs"][0]["failed_step"], "hooks");
    assert!(doc["onboarding"]["first_ready_at"].is_null());
    // A partial up that succeeds does not make the environment fully ready.
    env.run(["up", "--only", "tools"]).success();
    let doc = env.run(["metrics", "--json"]).success().json();
    assert_eq!(doc["runs"].as_array().unwrap().len(), 2);
    assert!(doc["onboarding"]["first_ready_at"].is_null(), "{doc:#}");
    env.run(["metrics"])
        .success()
        .stdout_has("failed")
        .stdout_has("hooks");
}

#[test]
fn journal_keeps_one_line_per_run_and_survives_a_torn_line() {
    let env = TestEnv::new().manifest(MANIFEST);
    env.run(["up"]).success();
    let dir = spool_dir(&env).expect("spool dir");
    // A crash in the middle of an append.
    let mut text = std::fs::read_to_string(dir.join("runs.jsonl")).unwrap();
    text.push_str("{\"id\":\"torn");
    std::fs::write(dir.join("runs.jsonl"), text).unwrap();
    env.run(["up"]).success();
    let doc = env.run(["metrics", "--json"]).success().json();
    assert_eq!(doc["runs"].as_array().unwrap().len(), 2, "{doc:#}");
}

#[test]
fn metrics_shows_the_phase_chart_and_the_trend() {
    let env = TestEnv::new().manifest(MANIFEST);
    env.run(["metrics"])
        .success()
        .stdout_has("No runs recorded yet");
    env.run(["up"]).success();
    env.run(["up"]).success();
    env.run(["metrics"])
        .success()
        .stdout_has("Onboarding of this clone")
        .stdout_has("Last up: ok")
        .stdout_has("preflight")
        .stdout_has("hooks")
        .stdout_has("Up time trend (last 2 successful)");
}

#[test]
fn opting_out_records_and_sends_nothing() {
    for var in ["DEVENV_NO_METRICS", "DO_NOT_TRACK"] {
        let env = TestEnv::new()
            .manifest(
                "[project]\nname = \"private\"\n[metrics]\nendpoint = \"http://127.0.0.1:9\"\n",
            )
            .env(var, "1");
        env.run(["up"]).success();
        assert!(
            !env.devenv_home().join("spool").exists(),
            "{var}: something was recorded"
        );
        env.run(["report"]).success().stderr_has("turned off");
        env.run(["metrics"]).success().stderr_has("turned off");
    }
}

#[test]
fn report_without_an_endpoint_says_how_to_configure_one() {
    let env = TestEnv::new().manifest(MANIFEST);
    env.run(["up"]).success();
    env.run(["report"])
        .code(2)
        .stderr_has("no [metrics] endpoint")
        .stderr_has("hint:");
}

#[test]
fn install_hook_outside_a_clone_is_a_missing_prerequisite() {
    let env = TestEnv::new().manifest(MANIFEST);
    env.run(["metrics", "--install-hook"])
        .code(3)
        .stderr_has("not inside a git clone");
}
