//! The command-line surface: help, version, completions, exit codes.

mod common;

use common::TestEnv;

#[test]
fn version_and_help() {
    let env = TestEnv::new();
    env.run(["--version"])
        .success()
        .stdout_has(env!("CARGO_PKG_VERSION"));
    env.run(["--help"])
        .success()
        .stdout_has("Examples:")
        .stdout_has("devenv up");
}

#[test]
fn every_contract_command_has_help_with_examples() {
    let env = TestEnv::new();
    for cmd in [
        "up",
        "down",
        "reset",
        "status",
        "logs",
        "validate",
        "doctor",
        "render",
        "env",
        "mock",
        "metrics",
        "report",
        "init",
        "completions",
        "stacks",
    ] {
        env.run([cmd, "--help"])
            .success()
            .stdout_has("Usage: devenv");
    }
    env.run(["up", "--help"])
        .success()
        .stdout_has("--only")
        .stdout_has("--frozen")
        .stdout_has("--offline");
    env.run(["render", "--help"])
        .success()
        .stdout_has("--explain")
        .stdout_has("--set");
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    env.run(["up", "--bogus"]).code(2).stderr_has("--bogus");
    env.run(["nonsense"]).code(2);
    env.run(["up", "--only", "everything"]).code(2);
}

#[test]
fn completions_are_generated_for_each_shell() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        env.run(["completions", shell])
            .success()
            .stdout_has("devenv");
    }
}

/// `devenv completions bash | head` panicked: "failed to write completion
/// file: Broken pipe".
#[test]
fn completions_into_a_pipe_closed_early_exit_0_without_a_panic() {
    let env = TestEnv::new();
    let mut child = env
        .command(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before devenv writes: every write fails with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn stacks_lists_built_in_and_repository_presets() {
    let env = TestEnv::new().manifest("[project]\nname = \"x\"\n").file(
        "stacks/valkey.toml",
        "description = \"Valkey\"\nimage = \"valkey/valkey\"\nversion = \"8\"\nports = [\"6379\"]\nready = { exec = [\"valkey-cli\", \"ping\"] }\n[exports]\nhost = \"{{ host }}\"\nport = \"{{ port }}\"\nurl = \"redis://{{ host }}:{{ port }}\"\n",
    );
    let run = env.run(["stacks", "--json"]).success();
    let names: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "postgres",
        "mysql",
        "redis",
        "mongodb",
        "rabbitmq",
        "kafka",
        "localstack",
        "minio",
        "opensearch",
        "mailpit",
        "valkey",
    ] {
        assert!(
            names.contains(&want.to_string()),
            "{want} missing from {names:?}"
        );
    }
    env.run(["stacks"])
        .success()
        .stdout_has("valkey/valkey:8")
        .stdout_has("(this repository)");
}

#[test]
fn no_color_means_no_escape_codes() {
    let env = TestEnv::new().manifest("[services.x]\nimgae = 1\n");
    let run = env.run(["validate"]).code(2);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
}

#[test]
fn quiet_validate_prints_nothing_on_success() {
    let env = TestEnv::new().manifest("[project]\nname = \"x\"\n");
    let run = env.run(["-q", "validate"]).success();
    assert_eq!(run.stderr, "");
}

/// After `devenv -f svc/devenv.toml ...`, hints suggested `devenv trust`
/// and the like without `-f`: run as told, they acted on another file, or
/// found none. Every suggested command now carries the same `-f`, in
/// errors' hints and in diagnostics' help alike.
#[test]
fn hints_after_f_suggest_commands_for_the_same_file() {
    let env = TestEnv::new()
        .file(
            "svc/devenv.toml",
            "[project]\nname = \"ff\"\n[hooks]\nsetup = [\"echo hi\"]\n",
        )
        .file(
            "typo/devenv.toml",
            "[project]\nname = \"ft\"\n[services.db]\nstack = \"postgress\"\n",
        );
    env.run(["-f", "svc/devenv.toml", "up"])
        .code(3)
        .stderr_has("run `devenv -f svc/devenv.toml trust`");
    env.run(["-f", "typo/devenv.toml", "validate"])
        .code(2)
        .stderr_has("(`devenv -f typo/devenv.toml stacks` lists them)");
    // Without -f, hints stay as they were.
    let plain =
        TestEnv::new().manifest("[project]\nname = \"fp\"\n[hooks]\nsetup = [\"echo hi\"]\n");
    plain.run(["up"]).code(3).stderr_has("run `devenv trust`");
}
