//! Readiness of a process, probed on this machine: `tcp` and `http` on
//! 127.0.0.1 (and ::1, where a dev server on `localhost` may listen
//! instead), `log` in the lines its current run wrote to its log file.
//! The polling and the words are those of services (`crate::probe`).
//!
//! While `up` waits, the state file says how the run goes: a command that
//! exited for good, or a supervisor that is gone, ends the wait at once.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use super::group;
use super::state::{self, Entry, RunState};
use crate::manifest::model::{Probe, Readiness};
use crate::probe::{describe, http_ok, next_delay, tcp_connect, FIRST_DELAY};

/// How long a process without a probe may take to be started.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One supervised run `up` waits for.
pub struct Target<'a> {
    pub name: &'a str,
    /// The supervisor `up` started or left running.
    pub supervisor: u32,
    /// `processes.json`.
    pub state: &'a Path,
    pub log: &'a Path,
}

/// Waits until the probe passes (without one: until the command runs),
/// the command is down for good, or the timeout ends; `Err` says why not.
pub async fn wait(t: &Target<'_>, ready: Option<&Readiness>) -> Result<(), String> {
    let timeout = ready.map_or(START_TIMEOUT, |r| r.timeout);
    let deadline = Instant::now() + timeout;
    let mut delay = FIRST_DELAY;
    loop {
        let entry = state::read(t.state)
            .processes
            .remove(t.name)
            .filter(|e| e.supervisor == t.supervisor);
        let running = entry.as_ref().filter(|e| e.state == RunState::Running);
        if let Some(e) = running {
            if check(e, ready, t.log).await {
                return Ok(());
            }
        }
        match &entry {
            Some(e) if e.state == RunState::Exited => {
                return Err(format!("it exited with code {}", e.exit_code.unwrap_or(-1)))
            }
            Some(e) if e.state == RunState::Stopped => return Err("it was stopped".into()),
            _ => {}
        }
        // Not `is_supervisor`: one just started may not have exec'd yet.
        // Its pid cannot be reused while `up`, its parent, has not reaped
        // it, and one left running was checked by `up` already.
        if !group::alive(t.supervisor) {
            return Err("its supervisor exited".into());
        }
        let now = Instant::now();
        if now >= deadline {
            let what = ready.map_or("started".to_string(), |r| describe(&r.probe));
            return Err(format!("not ready after {}s ({what})", timeout.as_secs()));
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = next_delay(delay);
    }
}

/// One probe of a running process, for `status`.
pub async fn once(e: &Entry, ready: Option<&Readiness>, log: &Path) -> bool {
    check(e, ready, log).await
}

async fn check(e: &Entry, ready: Option<&Readiness>, log: &Path) -> bool {
    let Some(ready) = ready else { return true };
    match &ready.probe {
        Probe::Tcp(port) => {
            for addr in local(*port) {
                if tcp_connect(addr).await.is_some() {
                    return true;
                }
            }
            false
        }
        Probe::Http { path, port } => {
            for addr in local(*port) {
                if http_ok(addr, path).await {
                    return true;
                }
            }
            false
        }
        Probe::Log(re) => log_matches(log, e.log_offset, re),
        // Refused when the manifest loads: they need a container.
        Probe::Exec(_) | Probe::Healthcheck | Probe::Postgres { .. } => false,
    }
}

fn local(port: u16) -> [SocketAddr; 2] {
    [
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    ]
}

/// A line the current run wrote (from `offset`; the supervisor's own lines
/// do not count) matches `re`.
fn log_matches(log: &Path, offset: u64, re: &str) -> bool {
    let Ok(regex) = regex::Regex::new(re) else {
        return false;
    };
    let Ok(bytes) = std::fs::read(log) else {
        return false;
    };
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    String::from_utf8_lossy(&bytes[start..])
        .lines()
        .filter(|l| !l.starts_with(super::NOTE))
        .any(|l| regex.is_match(l))
}

/// The last `n` lines of a log, for a "never became ready" message.
pub fn tail(log: &Path, n: usize) -> String {
    let text = std::fs::read(log)
        .map(|b| String::from_utf8_lossy(&b).to_string())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_probe_reads_only_the_current_run_and_skips_notes() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("web.log");
        let first = "listening on 3000\n";
        let second = format!(
            "{} starting web: listening on\nbooting\n",
            super::super::NOTE
        );
        std::fs::write(&log, format!("{first}{second}")).unwrap();
        assert!(log_matches(&log, 0, "listening on \\d+"));
        assert!(!log_matches(&log, first.len() as u64, "listening on"));
        assert!(log_matches(&log, first.len() as u64, "^boot"));
        assert!(
            !log_matches(&log, 1 << 40, "boot"),
            "an offset past the end"
        );
    }

    #[test]
    fn the_tail_is_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("web.log");
        std::fs::write(&log, "a\nb\nc\n").unwrap();
        assert_eq!(tail(&log, 2), "b\nc");
        assert_eq!(tail(&dir.path().join("none.log"), 2), "");
    }
}
