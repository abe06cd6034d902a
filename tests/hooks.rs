//! Setup hooks and trust: nothing from the repository runs until its
//! devenv.toml is trusted, and a change to it asks again.

mod common;

use common::TestEnv;

const HOOKED: &str = r#"[project]
name = "hooked"

[hooks]
setup = ["echo ran >> hook-ran.txt", { run = "echo installing; echo done", name = "install deps", if_changed = ["package-lock.json"] }]
"#;

#[test]
fn untrusted_hooks_do_not_run_and_say_how_to_trust() {
    let env = TestEnv::new().manifest(HOOKED);
    env.run(["up"])
        .code(3)
        .stderr_has("not trusted")
        .stderr_has("devenv trust")
        .stderr_has("echo ran >> hook-ran.txt");
    assert!(!env.exists("hook-ran.txt"));
    assert!(
        !env.exists(".devenv"),
        "an untrusted up changed the repository"
    );
}

#[test]
fn yes_trusts_and_runs_hooks_with_prefixed_output() {
    let env = TestEnv::new().manifest(HOOKED);
    env.run(["up", "--yes"])
        .success()
        .stderr_has("install deps")
        .stderr_has("│ installing");
    assert_eq!(env.read("hook-ran.txt"), "ran\n");
    // Trusted now: a plain `up` runs without asking.
    env.run(["up"]).success();
    assert_eq!(env.read("hook-ran.txt"), "ran\nran\n");
}

#[test]
fn changing_a_hook_asks_again() {
    let env = TestEnv::new().manifest(HOOKED);
    env.run(["trust"])
        .success()
        .stderr_has("echo ran >> hook-ran.txt");
    env.run(["up"]).success();
    env.write("devenv.toml", &HOOKED.replace("echo ran", "echo changed"));
    env.run(["up"])
        .code(3)
        .stderr_has("echo changed >> hook-ran.txt");
}

#[test]
fn if_changed_hooks_rerun_only_when_the_file_changes() {
    let env = TestEnv::new()
        .manifest(HOOKED)
        .file("package-lock.json", "{}");
    env.run(["up", "--yes"])
        .success()
        .stderr_has("│ installing");
    env.run(["up"]).success().stderr_lacks("│ installing");
    env.write("package-lock.json", "{\"changed\": true}");
    env.run(["up"]).success().stderr_has("│ installing");
}

/// A hook without `if_changed` ran on every `up`, silently: the first
/// `up` of a clone that runs it says so and how to cache it; later ones
/// do not repeat it, and a hook with `if_changed` never hears it.
#[test]
fn a_hook_without_if_changed_is_told_once_per_clone_how_to_cache_it() {
    let env = TestEnv::new()
        .manifest(HOOKED)
        .file("package-lock.json", "{}");
    let advice: Vec<String> = env
        .run(["up", "--yes"])
        .success()
        .stderr
        .lines()
        .filter(|l| l.contains("if_changed"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        advice,
        [
            "setup hook `echo ran >> hook-ran.txt` has no `if_changed`, so it runs on every `up`; \
          to run it only when the files it depends on change, write it as \
          { run = \"echo ran >> hook-ran.txt\", if_changed = [\"FILE\"] } (said once per clone)"
        ]
    );
    env.run(["up"])
        .success()
        .stderr_lacks("has no `if_changed`");
    assert_eq!(env.read("hook-ran.txt"), "ran\nran\n");
}

#[test]
fn a_failing_hook_stops_up_with_its_name_and_last_output() {
    let env = TestEnv::new().manifest(
        "[hooks]\nsetup = [\"echo preparing; echo 'npm ERR! missing script' >&2; exit 7\", \"touch never.txt\"]\n",
    );
    env.run(["up", "--yes"])
        .code(1)
        .stderr_has("setup hook `echo preparing")
        .stderr_has("exit code 7")
        .stderr_has("npm ERR! missing script");
    assert!(!env.exists("never.txt"));
}

#[test]
fn hooks_see_the_pinned_tools_first_on_path_and_the_project_env() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"envcheck\"\n[hooks]\nsetup = [\"echo \\\"$PATH\\\" > path.txt; echo $DEVENV_PROJECT > project.txt\"]\n",
    );
    env.run(["up", "--yes"]).success();
    let path = env.read("path.txt");
    let first = path.trim().split(':').next().unwrap();
    assert!(first.ends_with(".devenv/bin"), "{path}");
    assert_eq!(env.read("project.txt").trim(), "envcheck");
}

#[test]
fn only_services_needs_no_trust() {
    let env = TestEnv::new().manifest(HOOKED);
    env.run(["up", "--only", "services"]).success();
    assert!(!env.exists("hook-ran.txt"));
}

#[test]
fn the_trust_prompt_on_a_terminal() {
    let env = TestEnv::new().manifest(HOOKED);
    let run = |answer: &str| {
        env.on_a_terminal(
            env.command(["up"]),
            &[("Trust this devenv.toml", &[answer])],
        )
    };
    let (code, screen) = run("n");
    assert_eq!(code, 3, "{screen}");
    assert!(!env.exists("hook-ran.txt"));
    let (code, screen) = run("y");
    assert_eq!(code, 0, "{screen}");
    assert_eq!(env.read("hook-ran.txt"), "ran\n");
}

#[test]
fn the_reset_confirmation_on_a_terminal() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"reset-prompt\"\n[[config.files]]\ntemplate = \"t.j2\"\noutput = \"out.txt\"\n[config.values]\nx = 1\n")
        .file("t.j2", "x={{ x }}\n");
    env.run(["up"]).success();
    assert!(env.exists("out.txt") && env.exists(".devenv"));
    let reset = |answer: &str| {
        env.on_a_terminal(
            env.command(["reset"]),
            &[("Reset reset-prompt?", &[answer])],
        )
    };
    let (code, screen) = reset("n");
    assert_eq!(code, 1, "{screen}");
    assert!(
        env.exists("out.txt") && env.exists(".devenv"),
        "declining changed something"
    );
    let (code, screen) = reset("y");
    assert_eq!(code, 0, "{screen}");
    assert!(!env.exists("out.txt") && !env.exists(".devenv"));
}
