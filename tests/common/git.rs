//! Running git for test setup and checks: never the developer's own
//! configuration, always a fixed identity unless a test gives its own, and a
//! failure is a test failure.

use std::path::Path;
use std::process::Command;

use super::TestEnv;

/// The identity of every commit a test does not author itself.
const IDENTITY: [(&str, &str); 4] = [
    ("GIT_AUTHOR_NAME", "Devenv Test"),
    ("GIT_AUTHOR_EMAIL", "test@devenv.invalid"),
    ("GIT_COMMITTER_NAME", "Devenv Test"),
    ("GIT_COMMITTER_EMAIL", "test@devenv.invalid"),
];

/// Runs `git ARGS` in `dir` with no system or global configuration; panics
/// on failure; returns stdout.
#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null");
    run(cmd, dir, args, &[])
}

impl TestEnv {
    /// Runs `git ARGS` in `dir` as this env's user: its HOME, DEVENV_HOME
    /// and the rest of the isolation, so that a hook that runs devenv sees
    /// what `devenv` commands of this env see. Panics on failure; returns
    /// stdout.
    #[track_caller]
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        self.git_with(dir, args, &[])
    }

    /// [`TestEnv::git`] with extra environment variables (an author, a date).
    #[track_caller]
    pub fn git_with(&self, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> String {
        let mut cmd = Command::new("git");
        self.isolate(&mut cmd);
        run(cmd, dir, args, vars)
    }
}

impl TestEnv {
    /// [`TestEnv::git_with`] for a git command that may fail (a push the
    /// remote refuses): whether it succeeded.
    pub fn git_may_fail(&self, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> bool {
        let mut cmd = Command::new("git");
        self.isolate(&mut cmd);
        cmd.args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .envs(IDENTITY)
            .envs(vars.iter().copied())
            .output()
            .expect("git runs")
            .status
            .success()
    }
}

#[track_caller]
fn run(mut cmd: Command, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> String {
    let out = cmd
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .envs(IDENTITY)
        .envs(vars.iter().copied())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {} failed\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}
