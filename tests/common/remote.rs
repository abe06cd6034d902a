//! The second machine of tests/support/second_machine.sh: a network
//! namespace with its own engine and sshd, reached only over SSH.

use std::process::{Command, Output, Stdio};

/// `DOCKER_HOST` of the second machine's engine.
pub const REMOTE_ENGINE: &str = "ssh://root@10.77.0.2";

/// Fails the test when the second machine does not answer (run
/// tests/support/second_machine.sh); `DEVENV_SKIP_ENGINE_TESTS=1` skips.
pub fn remote_available(test: &str) -> bool {
    if std::env::var("DEVENV_SKIP_ENGINE_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: DEVENV_SKIP_ENGINE_TESTS=1");
        return false;
    }
    let ok = remote_docker(&["version", "--format", "{{.Server.Version}}"])
        .status
        .success();
    assert!(
        ok,
        "{test} needs the second machine at {REMOTE_ENGINE}. Run `tests/support/second_machine.sh` \
         (as root, after setup.sh) first."
    );
    true
}

/// The docker CLI against the second machine's engine (setup and checks).
pub fn remote_docker(args: &[&str]) -> Output {
    Command::new("docker")
        .env("DOCKER_HOST", REMOTE_ENGINE)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("docker CLI")
}

/// A shell command run on the second machine itself.
pub fn on_remote(script: &str) -> Output {
    Command::new("ssh")
        .args(["-o", "BatchMode=yes", "root@10.77.0.2", script])
        .stdin(Stdio::null())
        .output()
        .expect("ssh")
}

/// Removes a project's containers, networks, volumes and built images from
/// the second machine when dropped.
pub struct RemoteCleanup(pub String);

impl Drop for RemoteCleanup {
    fn drop(&mut self) {
        let label = format!("label=dev.devenv.project={}", self.0);
        for (list, rm) in [
            (&["ps", "-aq"][..], &["rm", "-f", "-v"][..]),
            (&["volume", "ls", "-q"][..], &["volume", "rm", "-f"][..]),
            (&["network", "ls", "-q"][..], &["network", "rm"][..]),
            (&["image", "ls", "-q"][..], &["rmi", "-f"][..]),
        ] {
            let mut args = list.to_vec();
            args.extend(["--filter", &label]);
            let out = remote_docker(&args);
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let mut args = rm.to_vec();
            args.extend(ids.iter().map(String::as_str));
            let _ = remote_docker(&args);
        }
    }
}
