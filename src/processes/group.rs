//! Finding and stopping what a process left running, from `/proc` and with
//! kill(1) (the crate forbids `unsafe`, as for mocks and hooks).
//!
//! A pid or process group id in a state file may have been reused since it
//! was written, so nothing is signalled on the number alone: a supervisor
//! must still be a `devenv process supervise NAME`, and a group must still
//! hold a process carrying the supervisor's mark (`DEVENV_PROCESS=NAME` in
//! its environment, which everything the command starts inherits).

use std::process::Stdio;
use std::time::{Duration, Instant};

/// The variable a supervisor sets for its command (and so for everything
/// the command starts): how a group left behind is recognised.
pub const MARK: &str = "DEVENV_PROCESS";

/// How long a stopped process gets between TERM and KILL.
pub const GRACE: Duration = Duration::from_secs(5);

/// A process runs (a zombie, exited but not reaped, does not).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| stat_fields(&s).is_some_and(|f| !matches!(f.0, "Z" | "X")))
}

/// `pid` is still the supervisor of `name` (pids get reused).
pub fn is_supervisor(pid: u32, name: &str) -> bool {
    let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
    alive(pid)
        && args
            .windows(3)
            .any(|w| w[0] == b"process" && w[1] == b"supervise" && w[2] == name.as_bytes())
}

/// The live processes of group `pgid`, when the group is `name`'s (one of
/// them carries the mark); empty otherwise.
pub fn members(pgid: u32, name: &str) -> Vec<u32> {
    let in_group = in_group(pgid);
    let mark = format!("{MARK}={name}");
    let ours = in_group.iter().any(|pid| {
        std::fs::read(format!("/proc/{pid}/environ"))
            .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == mark.as_bytes()))
    });
    if ours {
        in_group
    } else {
        Vec::new()
    }
}

/// The live processes of group `pgid`, whoever they are.
fn in_group(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                stat_fields(&s)
                    .is_some_and(|(state, pgrp)| !matches!(state, "Z" | "X") && pgrp == pgid)
            })
        })
        .collect()
}

/// `(state, pgrp)` from `/proc/<pid>/stat` (`pid (comm) state ppid pgrp
/// ...`; comm may hold spaces and parentheses, so fields are counted after
/// the last `)`).
fn stat_fields(stat: &str) -> Option<(&str, u32)> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

/// Sends `signal` (`TERM`, `KILL`) to a process.
pub fn signal(pid: u32, signal: &str) {
    kill(&[format!("-{signal}"), pid.to_string()]);
}

/// Sends `signal` to every process of group `pgid`.
pub fn signal_group(pgid: u32, signal: &str) {
    kill(&[format!("-{signal}"), "--".into(), format!("-{pgid}")]);
}

fn kill(args: &[String]) {
    let _ = std::process::Command::new("kill")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Waits until `gone` holds or `within` passes; whether it holds.
pub async fn wait_until(within: Duration, mut gone: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if gone() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Stops `name`'s group `pgid`, if it still is one: TERM, then KILL to
/// what is left after the grace.
pub async fn stop_group(pgid: u32, name: &str, grace: Duration) {
    if members(pgid, name).is_empty() {
        return;
    }
    signal_group(pgid, "TERM");
    if !wait_until(grace, || members(pgid, name).is_empty()).await {
        signal_group(pgid, "KILL");
        wait_until(Duration::from_secs(2), || members(pgid, name).is_empty()).await;
    }
}

/// Stops the group of the supervisor's own command, mark or not (a command
/// may clear its environment): its leader is the supervisor's child, so
/// the id is still its group (a group id is not reused while a process of
/// the group lives).
pub async fn stop_own_group(pgid: u32, grace: Duration) {
    if in_group(pgid).is_empty() {
        return;
    }
    signal_group(pgid, "TERM");
    if !wait_until(grace, || in_group(pgid).is_empty()).await {
        signal_group(pgid, "KILL");
        wait_until(Duration::from_secs(2), || in_group(pgid).is_empty()).await;
    }
}

/// Stops `name`'s supervisor `pid`, if it still is one: TERM (it stops its
/// command's group within its own grace, then exits), then KILL.
pub async fn stop_supervisor(pid: u32, name: &str) {
    if !is_supervisor(pid, name) {
        return;
    }
    signal(pid, "TERM");
    let within = GRACE + Duration::from_secs(2);
    if !wait_until(within, || !is_supervisor(pid, name)).await {
        signal(pid, "KILL");
        wait_until(Duration::from_secs(2), || !is_supervisor(pid, name)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn stat_lines_are_read_after_the_command_name() {
        assert_eq!(stat_fields("12 (sh) S 1 12 12 0"), Some(("S", 12)));
        assert_eq!(stat_fields("13 (a) b (c) R 12 14 14 0"), Some(("R", 14)));
        assert_eq!(stat_fields("13 (sleep) Z 12 12 12 0"), Some(("Z", 12)));
        assert_eq!(stat_fields("garbage"), None);
    }

    #[test]
    fn a_group_without_the_mark_is_not_ours() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = child.id();
        assert!(alive(pgid));
        assert!(members(pgid, "web").is_empty());
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn a_marked_group_is_found_and_stopped_whole() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30"])
            .env(MARK, "web")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = child.id();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(rt.block_on(wait_until(Duration::from_secs(10), || {
            members(pgid, "web").len() >= 2
        })));
        assert!(members(pgid, "api").is_empty(), "another name's mark");
        let reaper = std::thread::spawn(move || child.wait());
        rt.block_on(stop_group(pgid, "web", Duration::from_secs(5)));
        assert!(members(pgid, "web").is_empty());
        reaper.join().unwrap().unwrap();
    }
}
