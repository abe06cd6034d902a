//! Engines other than the main one on /var/run/docker.sock: the TLS dockerd
//! of tests/support/engine_tls.sh and the Podman sockets of
//! tests/support/podman.sh. Each is the variables that point a docker
//! client at it; the docker CLI on PATH is run with them for setup and
//! checks (devenv itself never runs it), and `TestEnv::on` hands them to
//! devenv.

use std::process::{Command, Output, Stdio};

use super::TestEnv;

/// An engine, as the variables that reach it.
#[derive(Debug, Clone)]
pub struct OtherEngine {
    /// What to call it in a failure, and which script provides it.
    pub name: &'static str,
    pub script: &'static str,
    pub vars: Vec<(String, String)>,
}

/// The TLS engine's address and certificates (tests/support/engine_tls.sh).
pub const TLS_ADDRESS: &str = "tcp://127.0.0.1:23760";
pub const TLS_CERTS: &str = "/var/cache/devenv-ci/engine-tls";

impl OtherEngine {
    /// The TLS dockerd, with a `DOCKER_CERT_PATH` that works.
    pub fn tls() -> OtherEngine {
        OtherEngine {
            name: "the TLS engine",
            script: "tests/support/engine_tls.sh",
            vars: vec![
                ("DOCKER_HOST".into(), TLS_ADDRESS.into()),
                ("DOCKER_TLS_VERIFY".into(), "1".into()),
                ("DOCKER_CERT_PATH".into(), format!("{TLS_CERTS}/client")),
            ],
        }
    }

    /// Podman's Docker-compatible socket at `socket`.
    pub fn podman(name: &'static str, socket: &str) -> OtherEngine {
        OtherEngine {
            name,
            script: "tests/support/podman.sh",
            vars: vec![("DOCKER_HOST".into(), format!("unix://{socket}"))],
        }
    }

    /// The same engine with one variable changed (or added).
    pub fn with(mut self, key: &str, value: &str) -> OtherEngine {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.into(), value.into()));
        self
    }

    /// The docker CLI, pointed at this engine only.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("docker");
        for var in [
            "DOCKER_HOST",
            "DOCKER_CONTEXT",
            "DOCKER_TLS_VERIFY",
            "DOCKER_TLS",
            "DOCKER_CERT_PATH",
        ] {
            cmd.env_remove(var);
        }
        cmd.args(args).stdin(Stdio::null());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("docker CLI")
    }

    /// Whether it answers. Not answering FAILS the test (run the script
    /// first), unless engine tests are skipped on purpose.
    pub fn available(&self, test: &str) -> bool {
        if std::env::var("DEVENV_SKIP_ENGINE_TESTS").as_deref() == Ok("1") {
            eprintln!("SKIPPED {test}: DEVENV_SKIP_ENGINE_TESTS=1");
            return false;
        }
        let out = self.docker(&["version", "--format", "{{.Server.Version}}"]);
        assert!(
            out.status.success(),
            "{test} needs {} and it did not answer: {}\nRun `bash {}` first.",
            self.name,
            String::from_utf8_lossy(&out.stderr).trim(),
            self.script,
        );
        true
    }

    /// Ids (or the listed format) of the project's objects there.
    pub fn labelled(&self, list: &[&str], project: &str) -> Vec<String> {
        let label = format!("label=dev.devenv.project={project}");
        let mut args = list.to_vec();
        args.extend(["--filter", &label]);
        String::from_utf8_lossy(&self.docker(&args).stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// The project's container names there, sorted.
    pub fn containers(&self, project: &str) -> Vec<String> {
        let mut v = self.labelled(&["ps", "-a", "--format", "{{.Names}}"], project);
        v.sort();
        v
    }

    pub fn remove_project(&self, project: &str) {
        for (list, rm) in [
            (&["ps", "-aq"][..], &["rm", "-f", "-v"][..]),
            (&["volume", "ls", "-q"][..], &["volume", "rm", "-f"][..]),
            (&["network", "ls", "-q"][..], &["network", "rm"][..]),
        ] {
            let ids = self.labelled(list, project);
            if ids.is_empty() {
                continue;
            }
            let mut args = rm.to_vec();
            args.extend(ids.iter().map(String::as_str));
            let _ = self.docker(&args);
        }
    }
}

/// Removes a project's objects from an engine when dropped.
pub struct CleanupOn(pub OtherEngine, pub String);

impl Drop for CleanupOn {
    fn drop(&mut self) {
        self.0.remove_project(&self.1);
    }
}

impl TestEnv {
    /// Every command of this env talks to `engine`.
    pub fn on(self, engine: &OtherEngine) -> TestEnv {
        engine.vars.iter().fold(self, |env, (k, v)| env.env(k, v))
    }

    /// The docker CLI with this env's HOME (so its `~/.docker`, where
    /// `docker context create` writes), for setting up contexts.
    pub fn docker_cli(&self, args: &[&str]) -> Output {
        let out = Command::new("docker")
            .args(args)
            .env("HOME", self.home())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_CONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("docker CLI");
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}
