//! One hook as a process: `sh -c` in a process group of its own, its
//! output read as it comes (both pipes at once, so neither fills and stalls
//! the hook), redacted and cut into lines.
//!
//! The hook runs as an async child so that the session's signal handling
//! can win while it runs: when SIGINT, SIGTERM or SIGHUP end the phase, the
//! future running the hook is dropped, and dropping it stops the hook's
//! whole group (TERM, then KILL after a short grace), so no `sleep 300 &`
//! or dev server it started outlives devenv. Its own group also keeps a
//! terminal's Ctrl-C from reaching the hook directly: devenv decides.
//!
//! A hook that ends by itself is left alone, as is anything it started in
//! the background on purpose.

use std::ffi::OsString;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

use crate::redact::{LineRedactor, Redactor};

/// How long a stopped hook's group gets between TERM and KILL.
const GRACE: Duration = Duration::from_secs(2);

/// What one hook needs.
pub(super) struct Spec<'a> {
    pub run: &'a str,
    pub root: &'a Path,
    pub env: &'a [(String, OsString)],
    pub redactor: &'a Redactor,
}

/// Runs the hook to its end, calling `on_line` with each redacted line of
/// its stdout and stderr, in the order they are read.
pub(super) async fn run(
    spec: &Spec<'_>,
    on_line: &mut (dyn FnMut(&str) + Send),
) -> std::io::Result<ExitStatus> {
    let child = Command::new("sh")
        .arg("-c")
        .arg(spec.run)
        .current_dir(spec.root)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let mut group = Group::new(child);
    let stdout = group.child.stdout.take();
    let stderr = group.child.stderr.take();
    let on_line = Mutex::new(on_line);
    tokio::join!(
        pump(stdout, spec.redactor, &on_line),
        pump(stderr, spec.redactor, &on_line)
    );
    group.wait().await
}

/// Reads one pipe to its end.
async fn pump(
    stream: Option<impl AsyncRead + Unpin>,
    redactor: &Redactor,
    on_line: &Mutex<&mut (dyn FnMut(&str) + Send)>,
) {
    let Some(mut stream) = stream else { return };
    let mut lines = LineRedactor::new(redactor.clone());
    let mut emit = |line: &str| (on_line.lock().expect("hook output lock"))(line);
    let mut buf = vec![0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => lines.push_bytes(&buf[..n], &mut emit),
        }
    }
    lines.finish(&mut emit);
}

/// The hook's process group; stopped when dropped before the hook ended.
struct Group {
    child: Child,
    pgid: Option<u32>,
    ended: bool,
}

impl Group {
    fn new(child: Child) -> Self {
        // The leader's pid is the group's id (`process_group(0)`).
        let pgid = child.id();
        Group {
            child,
            pgid,
            ended: false,
        }
    }

    async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait().await;
        self.ended = true;
        status
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if let Some(pgid) = self.pgid {
            stop_group(pgid, &mut self.child);
        }
    }
}

/// TERM to the whole group; KILL to what is left after the grace.
fn stop_group(pgid: u32, leader: &mut Child) {
    signal_group(pgid, "TERM");
    let deadline = Instant::now() + GRACE;
    loop {
        // Reaps the leader once it exits, so it stops counting as alive.
        let _ = leader.try_wait();
        if !group_alive(pgid) {
            return;
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_group(pgid, "KILL");
    let _ = leader.try_wait();
}

/// Through kill(1), as for the mocks: the crate forbids `unsafe`, and a
/// process group needs no more than this.
fn signal_group(pgid: u32, signal: &str) {
    let _ = std::process::Command::new("kill")
        .args([format!("-{signal}"), "--".into(), format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether a process of the group still runs. On Linux, from /proc, where
/// an exited child nobody reaped yet (a zombie) can be told apart; kill -0
/// would count it.
fn group_alive(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return std::process::Command::new("kill")
            .args(["-0".to_string(), "--".into(), format!("-{pgid}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .any(|stat| running_in_group(&stat, pgid))
}

/// `/proc/<pid>/stat` is `pid (comm) state ppid pgrp ...`; comm may hold
/// spaces and parentheses, so fields are counted after the last `)`.
fn running_in_group(stat: &str, pgid: u32) -> bool {
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    matches!(fields.as_slice(), [state, _ppid, pgrp, ..]
        if *state != "Z" && *state != "X" && pgrp.parse() == Ok(pgid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_after_the_command_name() {
        assert!(running_in_group("12 (sh) S 1 12 12 0", 12));
        assert!(running_in_group("13 (a) b (c) S 12 12 12 0", 12));
        assert!(!running_in_group("13 (sleep) Z 12 12 12 0", 12));
        assert!(!running_in_group("13 (sleep) S 12 14 14 0", 12));
    }
}
