//! The integration-test harness: run the real `devenv` binary in a temp
//! repository with an isolated `DEVENV_HOME`, `HOME` and `XDG_CONFIG_HOME`,
//! and the helpers tests share: one HTTP test server and client, waiting
//! with a deadline, git, and copying fixtures.
//!
//! ```ignore
//! TestEnv::new().manifest("[project]\nname = \"x\"\n").run(["validate"]).success();
//! ```
// Each test binary uses a different part of the harness.
#![allow(dead_code, unused_imports)]

mod engines;
mod files;
mod git;
mod http_client;
mod http_server;
mod http_wire;
pub mod mock_serve;
mod remote;
mod toml_doc;
mod wait;

pub use engines::{CleanupOn, OtherEngine, TLS_ADDRESS, TLS_CERTS};
pub use files::copy_dir;
pub use git::git;
pub use http_client::{http_get, http_request, try_http, try_http_bytes, Answer};
pub use http_server::{Fault, Request, Response, Server};
pub use http_wire::Headers;
pub use remote::{on_remote, remote_available, remote_docker, RemoteCleanup, REMOTE_ENGINE};
pub use toml_doc::{strs, svc};
pub use wait::{wait_for, wait_for_exit, wait_until, wait_until_alive};

use std::ffi::OsStr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[must_use = "a TestEnv's builder methods return the env; keep it"]
pub struct TestEnv {
    dir: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("devenv-test-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(dir.path().join("repo")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        TestEnv {
            dir,
            envs: Vec::new(),
        }
    }

    /// The repository root (where devenv.toml goes and commands run).
    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// The isolated `DEVENV_HOME`.
    pub fn devenv_home(&self) -> PathBuf {
        self.dir.path().join("home/devenv")
    }

    /// The isolated `HOME`.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The isolated `XDG_CONFIG_HOME`.
    pub fn config_home(&self) -> PathBuf {
        self.home().join(".config")
    }

    /// Writes the user-level config file,
    /// `$XDG_CONFIG_HOME/devenv/config.toml`.
    pub fn user_config(self, text: &str) -> Self {
        let p = self.config_home().join("devenv/config.toml");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    pub fn manifest(self, text: &str) -> Self {
        self.file("devenv.toml", text)
    }

    /// Writes a file below the repository, creating parent directories.
    pub fn file(self, rel: &str, text: &str) -> Self {
        self.write(rel, text);
        self
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.repo().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.repo().join(rel).exists()
    }

    /// An environment variable for every command of this env.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_string(), value.to_string()));
        self
    }

    /// The command, ready to run, for tests that need more control.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_devenv"));
        cmd.args(args).current_dir(self.repo()).stdin(Stdio::null());
        self.isolate(&mut cmd);
        cmd
    }

    /// The environment of every process this env runs: its own homes, none
    /// of the developer's `DEVENV_*` settings, and the test's variables.
    /// The CI machine runs the suite with `CI=true`: its variables are
    /// removed too, so a test is a laptop run unless it sets them itself.
    fn isolate(&self, cmd: &mut Command) {
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("DEVENV_") {
                cmd.env_remove(k);
            }
        }
        for var in devenv::settings::ci::VARIABLES {
            cmd.env_remove(var);
        }
        cmd.env("DEVENV_HOME", self.devenv_home())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("NO_COLOR", "1")
            .env_remove("DO_NOT_TRACK");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
    }

    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.as_ref().to_string_lossy().to_string())
            .collect();
        let out = self.command(&args).output().expect("run devenv");
        Run::new(args, out)
    }

    /// Runs `cmd` (from `self.command(..)`) on a pseudo-terminal: for each
    /// step, waits until the screen shows the text, then types the keys.
    /// Returns the exit code (death by signal N as 128 + N) and everything
    /// the terminal showed.
    pub fn on_a_terminal(&self, cmd: Command, steps: &[(&str, &[&str])]) -> (i32, String) {
        let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
        let steps: Vec<(&str, &[&str])> = steps.to_vec();
        let repo = self.repo();
        let mut py = Command::new("python3");
        py.arg(driver)
            .arg("--steps")
            .arg(serde_json::to_string(&steps).unwrap())
            .arg("--")
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .current_dir(cmd.get_current_dir().unwrap_or(&repo))
            .env("TERM", "xterm");
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => py.env(k, v),
                None => py.env_remove(k),
            };
        }
        let out = py
            .output()
            .expect("python3 runs the pseudo-terminal driver");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }

    /// Every file below the repository, relative, sorted.
    pub fn repo_files(&self) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    out.push(format!("{}/", p.strip_prefix(base).unwrap().display()));
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.repo(), &self.repo(), &mut out);
        out.sort();
        out
    }
}

/// A finished command, with assertions that print everything on failure.
/// It must be checked (`success`, `code`, ...) or read: an unchecked run is
/// a test that forgot its assertion.
#[must_use = "check the run (success, code, ...) or read its output"]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn new(args: Vec<String>, out: Output) -> Self {
        Run {
            args,
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    }

    fn describe(&self) -> String {
        format!(
            "devenv {}\n--- exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    #[track_caller]
    pub fn success(self) -> Checked {
        assert_eq!(self.code, 0, "expected success\n{}", self.describe());
        Checked(self)
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Checked {
        assert_eq!(self.code, code, "expected exit {code}\n{}", self.describe());
        Checked(self)
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Checked {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.describe()
        );
        Checked(self)
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Checked {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
        Checked(self)
    }

    #[track_caller]
    pub fn stderr_lacks(self, needle: &str) -> Checked {
        assert!(
            !self.stderr.contains(needle),
            "stderr has {needle:?}\n{}",
            self.describe()
        );
        Checked(self)
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.describe()))
    }
}

/// A run that passed at least one check: more checks may follow, and it may
/// be dropped. Reads like a [`Run`] (`.stdout`, `.json()`).
pub struct Checked(Run);

impl Checked {
    #[track_caller]
    pub fn success(self) -> Checked {
        self.0.success()
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Checked {
        self.0.code(code)
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Checked {
        self.0.stdout_has(needle)
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Checked {
        self.0.stderr_has(needle)
    }

    #[track_caller]
    pub fn stderr_lacks(self, needle: &str) -> Checked {
        self.0.stderr_lacks(needle)
    }
}

impl Deref for Checked {
    type Target = Run;

    fn deref(&self) -> &Run {
        &self.0
    }
}

/// The loopback registry the support script runs (tests/support/setup.sh).
pub const REGISTRY: &str = "127.0.0.1:5000";

/// Fails the test when the engine is not reachable: engine tests are never
/// skipped silently. `DEVENV_SKIP_ENGINE_TESTS=1` skips them on purpose, with
/// a line in the output saying so.
pub fn engine_available(test: &str) -> bool {
    if std::env::var("DEVENV_SKIP_ENGINE_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: DEVENV_SKIP_ENGINE_TESTS=1");
        return false;
    }
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{test} needs a Docker engine and none answered. Run `tests/support/setup.sh` first \
         (or set DEVENV_SKIP_ENGINE_TESTS=1 to skip engine tests on purpose)."
    );
    true
}

/// Runs the docker CLI (for test setup and checks only; devenv itself never does).
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI")
}

/// Removes a project's containers, network and volumes when dropped.
pub struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        remove_project(&self.0);
    }
}

/// Runs `devenv down` in the env when dropped, however the test ends: the
/// mocks and processes `up` started are host processes, which `Cleanup`
/// (containers, volumes, networks) does not see.
#[must_use = "dropped at once, it takes the env down at once"]
pub struct Downed<'a>(pub &'a TestEnv);

impl Drop for Downed<'_> {
    fn drop(&mut self) {
        let _ = self.0.command(["down", "-q"]).output();
    }
}

/// Ids of a project's containers (`["ps", "-aq"]`), volumes
/// (`["volume", "ls", "-q"]`) or networks (`["network", "ls", "-q"]`),
/// found by devenv's project label.
pub fn labelled_ids(list: &[&str], project: &str) -> Vec<String> {
    let label = format!("label=dev.devenv.project={project}");
    let mut args = list.to_vec();
    args.extend(["--filter", &label]);
    String::from_utf8_lossy(&docker(&args).stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

pub fn remove_project(project: &str) {
    for (list, rm) in [
        (&["ps", "-aq"][..], &["rm", "-f", "-v"][..]),
        (&["volume", "ls", "-q"][..], &["volume", "rm", "-f"][..]),
        (&["network", "ls", "-q"][..], &["network", "rm"][..]),
    ] {
        let ids = labelled_ids(list, project);
        if ids.is_empty() {
            continue;
        }
        let mut args = rm.to_vec();
        args.extend(ids.iter().map(String::as_str));
        let _ = docker(&args);
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `status --json` entry of the service, mock or job called `name`.
#[track_caller]
pub fn status_entry(env: &TestEnv, name: &str) -> serde_json::Value {
    let doc = env.run(["status", "--json"]).success().json();
    doc["services"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no `{name}` in status --json: {doc}"))
}

/// The URL `status --json` gives the mock called `name`.
#[track_caller]
pub fn mock_url(env: &TestEnv, name: &str) -> String {
    status_entry(env, name)["url"]
        .as_str()
        .unwrap_or_else(|| panic!("mock `{name}` has no url"))
        .to_string()
}

/// The first host port `status --json` gives the service called `name`.
#[track_caller]
pub fn host_port(env: &TestEnv, name: &str) -> u16 {
    let entry = status_entry(env, name);
    entry["ports"][0]["host"]
        .as_u64()
        .unwrap_or_else(|| panic!("`{name}` publishes no port: {entry}")) as u16
}
