//! A repository is untrusted input, and git keeps symlinks: each file devenv
//! reads (devenv.toml, devenv.local.toml, the user config, templates, mock
//! files) may be a FIFO, a device or huge. Each must be refused at once, exit
//! 2, naming the file: no hang, no memory eaten, nothing created.

#![cfg(unix)]

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Run, TestEnv};

/// Runs `cmd` and fails the test if it has not finished within `limit`
/// (the child is killed first, so a hang cannot outlive the test).
fn run_within(mut cmd: Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn devenv");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("devenv did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    Run {
        args: Vec::new(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// The deadline of every run: a hang guard, far beyond how long a refusal takes.
const QUICK: Duration = Duration::from_secs(60);

fn assert_untouched(env: &TestEnv) {
    assert!(!env.exists(".devenv"), "{:?}", env.repo_files());
}

#[test]
fn validate_of_dev_zero_is_refused_at_once() {
    let env = TestEnv::new();
    run_within(env.command(["-f", "/dev/zero", "validate"]), QUICK)
        .code(2)
        .stderr_has("/dev/zero")
        .stderr_has("character device");
}

#[test]
fn a_fifo_as_devenv_toml_does_not_hang() {
    let env = TestEnv::new();
    mkfifo(&env.repo().join("devenv.toml"));
    run_within(env.command(["validate"]), QUICK)
        .code(2)
        .stderr_has("devenv.toml")
        .stderr_has("FIFO");
    run_within(env.command(["up", "--only", "config"]), QUICK).code(2);
    assert_untouched(&env);
}

#[test]
fn a_devenv_toml_over_4_mib_is_refused_not_read() {
    let env = TestEnv::new();
    let f = std::fs::File::create(env.repo().join("devenv.toml")).unwrap();
    f.set_len(64 << 20).unwrap();
    run_within(env.command(["validate"]), QUICK)
        .code(2)
        .stderr_has("larger than 4 MiB");
}

#[test]
fn a_directory_as_a_template_is_refused_naming_it() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"x\"\n[[config.files]]\ntemplate = \"tpl\"\noutput = \"out.txt\"\n",
    );
    std::fs::create_dir(env.repo().join("tpl")).unwrap();
    run_within(env.command(["validate"]), QUICK)
        .code(2)
        .stderr_has("tpl")
        .stderr_has("a directory");
}

#[test]
fn a_template_that_is_a_fifo_does_not_hang_validate_or_up() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"x\"\n[[config.files]]\ntemplate = \"app.conf.j2\"\noutput = \"app.conf\"\n",
    );
    mkfifo(&env.repo().join("app.conf.j2"));
    run_within(env.command(["validate"]), QUICK)
        .code(2)
        .stderr_has("app.conf.j2")
        .stderr_has("FIFO");
    run_within(env.command(["up", "--only", "config"]), QUICK).code(2);
    assert!(!env.exists("app.conf"));
    assert_untouched(&env);
}

#[test]
fn an_included_template_linked_to_dev_zero_is_an_error_not_a_read() {
    let env = TestEnv::new()
        .manifest(
            "[project]\nname = \"x\"\n[[config.files]]\ntemplate = \"main.j2\"\noutput = \"out.txt\"\n",
        )
        .file("main.j2", "{% include \"zero.j2\" %}\n");
    symlink("/dev/zero", env.repo().join("zero.j2")).unwrap();
    let r = run_within(env.command(["up", "--only", "config"]), QUICK);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("zero.j2"), "{}", r.stderr);
    assert!(!env.exists("out.txt"));
}

#[test]
fn a_mock_file_linked_to_dev_zero_is_refused() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"x\"\n[mocks.pay]\nport = \"auto\"\nwiremock = \"stubs.json\"\n",
    );
    symlink("/dev/zero", env.repo().join("stubs.json")).unwrap();
    // Refused by where it points before what it is is even looked at.
    run_within(env.command(["validate"]), QUICK)
        .code(2)
        .stderr_has("`stubs.json` is a symlink to /dev/zero, outside the repository");
    // A FIFO inside the repository is refused for what it is.
    std::fs::remove_file(env.repo().join("stubs.json")).unwrap();
    mkfifo(&env.repo().join("stubs.json"));
    run_within(env.command(["validate"]), QUICK)
        .code(2)
        .stderr_has("stubs.json")
        .stderr_has("FIFO");
}

#[test]
fn a_mock_directory_with_a_symlink_loop_is_walked_once() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"x\"\n[mocks.pay]\nport = \"auto\"\nwiremock = \"wm\"\n")
        .file(
            "wm/mappings/a.json",
            "{\"request\": {\"url\": \"/a\"}, \"response\": {\"status\": 200}}",
        );
    symlink("..", env.repo().join("wm/mappings/loop")).unwrap();
    run_within(env.command(["validate"]), QUICK).success();
}

#[test]
fn a_wiremock_body_file_that_is_a_fifo_is_refused() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"x\"\n[mocks.pay]\nport = \"auto\"\nwiremock = \"wm\"\n")
        .file(
            "wm/mappings/a.json",
            "{\"request\": {\"url\": \"/a\"}, \"response\": {\"bodyFileName\": \"b.json\"}}",
        );
    std::fs::create_dir_all(env.repo().join("wm/__files")).unwrap();
    mkfifo(&env.repo().join("wm/__files/b.json"));
    run_within(env.command(["validate"]), QUICK)
        .code(2)
        .stderr_has("b.json")
        .stderr_has("FIFO");
}

#[test]
fn a_devenv_local_toml_linked_to_dev_zero_is_refused() {
    let env = TestEnv::new().manifest("[project]\nname = \"x\"\n");
    symlink("/dev/zero", env.repo().join("devenv.local.toml")).unwrap();
    run_within(env.command(["validate"]), QUICK)
        .code(2)
        .stderr_has("devenv.local.toml")
        .stderr_has("outside the repository");
}

#[test]
fn a_user_config_that_is_a_fifo_does_not_hang() {
    let env = TestEnv::new().manifest("[project]\nname = \"x\"\n");
    let dir = env.home().join("xdg/devenv");
    std::fs::create_dir_all(&dir).unwrap();
    mkfifo(&dir.join("config.toml"));
    let xdg = env.home().join("xdg");
    let env = env.env("XDG_CONFIG_HOME", xdg.to_str().unwrap());
    run_within(env.command(["config"]), QUICK)
        .code(2)
        .stderr_has("config.toml")
        .stderr_has("FIFO");
    run_within(env.command(["up", "--only", "config"]), QUICK)
        .code(2)
        .stderr_has("config.toml")
        .stderr_has("FIFO");
}

#[test]
fn an_output_linked_to_dev_zero_is_not_read_when_rendering() {
    let env = TestEnv::new()
        .manifest(
            "[project]\nname = \"x\"\n[config.values]\nlevel = \"info\"\n[[config.files]]\ntemplate = \"app.j2\"\noutput = \"app.conf\"\n",
        )
        .file("app.j2", "level={{ level }}\n");
    symlink("/dev/zero", env.repo().join("app.conf")).unwrap();
    // An output that points out of the repository is refused, even with
    // --force, and never read or written through.
    for args in [&["up", "--only", "config"][..], &["render", "--force"]] {
        let r = run_within(env.command(args), QUICK);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("app.conf"), "{}", r.stderr);
    }
    let link = std::fs::symlink_metadata(env.repo().join("app.conf")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
}
