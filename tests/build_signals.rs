//! Ctrl-C during a build (issue 12, part 7): devenv exits 130 and the
//! engine stops the build, for BuildKit and for the classic builder. The
//! build's `RUN sleep` runs on this machine (the engine is local), so a
//! step still running after devenv is gone is the bug: an interrupted
//! `up` must not leave a build working on in the engine.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{
    docker, engine_available, labelled_ids, remove_project, wait_for_exit, wait_until,
    wait_until_alive, TestEnv, REGISTRY,
};

/// Hang guards, not speed checks.
const DEADLINE: Duration = Duration::from_secs(90);

/// Removes the project and any image it left, even when the test fails.
struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        remove_project(self.0);
        for image in labelled_ids(&["image", "ls", "-q"], self.0) {
            let _ = docker(&["rmi", "-f", &image]);
        }
    }
}

/// Processes on this machine whose command line is exactly `argv`.
fn running(argv: &[&str]) -> Vec<u32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want))
        .collect()
}

/// A build whose second step sleeps for `seconds` (unique per test, so
/// tests running at once never see each other's step).
fn sleeping_build(project: &str, seconds: &str, dockerignore: Option<&str>) -> TestEnv {
    let env = TestEnv::new()
        .manifest(&format!(
            "[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\n\
             [services.app]\nbuild = \".\"\n"
        ))
        .file(
            "Dockerfile",
            &format!("FROM {REGISTRY}/library/busybox:latest\nRUN sleep {seconds}\n"),
        );
    match dockerignore {
        Some(text) => env.file(".dockerignore", text),
        None => env,
    }
}

fn ctrl_c_during_a_build(project: &'static str, seconds: &str, dockerignore: Option<&str>) {
    if !engine_available(project) {
        return;
    }
    let _c = Cleanup(project);
    let env = sleeping_build(project, seconds, dockerignore);
    let mut up = env
        .command(["up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start devenv up");
    let step = ["sleep", seconds];
    wait_until_alive(&mut up, DEADLINE, "the build's RUN step to start", || {
        !running(&step).is_empty()
    });
    let sent = std::process::Command::new("kill")
        .args(["-INT", &up.id().to_string()])
        .status()
        .expect("kill(1)");
    assert!(sent.success());
    let status = wait_for_exit(&mut up, DEADLINE, "devenv to exit after Ctrl-C");
    assert_eq!(status.code(), Some(130), "{status}");
    // A `sleep` of many minutes gone within the deadline was stopped.
    wait_until(DEADLINE, "the engine to stop the build step", || {
        running(&step).is_empty()
    });
    assert!(
        labelled_ids(&["ps", "-aq"], project).is_empty(),
        "no container"
    );
    let doc = env.run(["metrics", "--json"]).success().json();
    assert_eq!(doc["runs"][0]["outcome"], "interrupted", "{doc:#}");
}

#[test]
fn ctrl_c_during_a_buildkit_build_stops_the_step_and_exits_130() {
    ctrl_c_during_a_build("build-sigint", "3171", None);
}

#[test]
fn ctrl_c_during_a_classic_build_stops_the_step_and_exits_130() {
    // A .dockerignore naming the Dockerfile sends it to the classic builder.
    ctrl_c_during_a_build("build-sigint-classic", "3172", Some("Dockerfile\n"));
}
