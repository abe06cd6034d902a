//! The supervisor: `devenv process supervise NAME ...`, which `up` starts
//! detached in its own process group, so it outlives `up`, Ctrl-C and the
//! terminal (SIGHUP is ignored), as the mocks do.
//!
//! It runs the command in a process group of its own, with its output
//! appended to `.devenv/logs/NAME.log` between lines of its own (`[devenv]
//! ...`: started, exited, restarting), and records every start in
//! `processes.json`. When the command exits, whatever it left in its group
//! is stopped too; then, with `restart = "on-failure"` and a non-zero exit,
//! it starts it again after a backoff (0.5 s, doubling to 30 s, back to 0.5 s
//! after a run of 10 s or more). On SIGTERM or SIGINT it stops the group
//! (TERM, KILL after the grace) and exits.

use std::fs::File;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, Signal, SignalKind};

use super::group::{self, GRACE, MARK};
use super::state::{self, Entry, RunState};
use super::ProcessError;
use crate::clock::Clock;
use crate::log_trim::{self, LogLimit};
use crate::manifest::RestartPolicy;

/// The first wait before a restart; doubled after each quick failure.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run at least this long was healthy: the next failure waits
/// `FIRST_BACKOFF` again.
pub const STEADY: Duration = Duration::from_secs(10);

/// What one supervisor runs, from its command line (written by `up`). The
/// command's environment is the supervisor's own: `up` gives it the
/// project environment and the process's `env`.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub argv: Vec<String>,
    /// Absolute, confined to the repository by `up` just before.
    pub cwd: PathBuf,
    pub restart: RestartPolicy,
    /// The definition hash `up` compares on the next run.
    pub hash: String,
    pub log: PathBuf,
    /// How large the log may grow before it is moved aside (`log_trim`).
    pub log_limit: LogLimit,
    /// `processes.json`.
    pub state: PathBuf,
}

/// The backoff after a run of `ran` that followed a wait of `last`.
pub fn next_backoff(last: Duration, ran: Duration) -> Duration {
    if ran >= STEADY {
        FIRST_BACKOFF
    } else {
        (last * 2).min(MAX_BACKOFF)
    }
}

/// Supervises until the command is left down or a signal stops it.
pub async fn supervise(spec: &Spec, clock: &dyn Clock) -> Result<(), ProcessError> {
    let mut stop = Stop::new().map_err(ProcessError::Io)?;
    let sup = Supervisor { spec, clock };
    let mut wait = FIRST_BACKOFF;
    let mut restarts = 0;
    loop {
        let _ = log_trim::trim(&spec.log, spec.log_limit.bytes);
        let offset = std::fs::metadata(&spec.log).map_or(0, |m| m.len());
        let log = sup.open_log()?;
        sup.note(
            &log,
            &format!("starting {}: {}", spec.name, spec.argv.join(" ")),
        );
        let started = Instant::now();
        let status = match sup.spawn(&log) {
            Ok(mut child) => {
                let pgid = child.id().unwrap_or_default();
                sup.record_start(pgid, restarts, offset);
                let mut check = tokio::time::interval(spec.log_limit.every);
                check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        status = child.wait() => {
                            // What the command left in its group goes with it.
                            group::stop_own_group(pgid, GRACE).await;
                            break status.ok();
                        }
                        _ = stop.recv() => {
                            // Before the leader is reaped: the id is surely ours.
                            group::stop_own_group(pgid, GRACE).await;
                            let _ = child.wait().await;
                            sup.finish(&log, RunState::Stopped, None, "stopped");
                            return Ok(());
                        }
                        _ = check.tick() => sup.trim_log(&log),
                    }
                }
            }
            Err(e) => {
                sup.note(&log, &format!("cannot start {}: {e}", spec.name));
                None
            }
        };
        let code = status.map_or(127, exit_code);
        let failed = code != 0;
        let ended = format!("{} exited with code {code}", spec.name);
        if !failed || spec.restart == RestartPolicy::Never {
            sup.finish(&log, RunState::Exited, Some(code), &ended);
            return Ok(());
        }
        wait = if restarts == 0 {
            FIRST_BACKOFF
        } else {
            next_backoff(wait, started.elapsed())
        };
        restarts += 1;
        sup.note(
            &log,
            &format!(
                "{ended}; restarting in {:.1}s (restart {restarts})",
                wait.as_secs_f64()
            ),
        );
        sup.record(|e| {
            e.state = RunState::Restarting;
            e.pid = None;
            e.exit_code = Some(code);
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.recv() => {
                sup.finish(&log, RunState::Stopped, Some(code), "stopped");
                return Ok(());
            }
        }
    }
}

/// 128 + N for death by signal N, as a shell reports it.
fn exit_code(s: ExitStatus) -> i32 {
    s.code()
        .or_else(|| s.signal().map(|n| 128 + n))
        .unwrap_or(-1)
}

struct Supervisor<'a> {
    spec: &'a Spec,
    clock: &'a dyn Clock,
}

impl Supervisor<'_> {
    fn open_log(&self) -> Result<File, ProcessError> {
        if let Some(dir) = self.spec.log.parent() {
            std::fs::create_dir_all(dir).map_err(ProcessError::Io)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.spec.log)
            .map_err(ProcessError::Io)
    }

    /// One line of the supervisor's own in the log.
    fn note(&self, mut log: &File, text: &str) {
        let now = self.clock.now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let _ = writeln!(log, "{} {now} {text}", super::NOTE);
    }

    fn spawn(&self, log: &File) -> std::io::Result<tokio::process::Child> {
        let (program, args) = self
            .spec
            .argv
            .split_first()
            .ok_or_else(|| std::io::Error::other("empty command"))?;
        tokio::process::Command::new(program)
            .args(args)
            .current_dir(&self.spec.cwd)
            .env(MARK, &self.spec.name)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?)
            .process_group(0)
            .spawn()
    }

    /// A new run: this supervisor's entry, whoever held the name before
    /// (`up` stopped them first).
    fn record_start(&self, pgid: u32, restarts: u32, log_offset: u64) {
        let entry = Entry {
            supervisor: std::process::id(),
            pid: Some(pgid),
            pgid: Some(pgid),
            hash: self.spec.hash.clone(),
            state: RunState::Running,
            exit_code: None,
            restarts,
            log_offset,
            // A new run is not proven ready until an `up` sees it so.
            ready_pid: None,
        };
        let name = self.spec.name.clone();
        let _ = state::update(&self.spec.state, |st| st.processes.insert(name, entry));
    }

    /// Changes this supervisor's entry, if it is still its own.
    /// Moves a log past its limit aside, says so at the top of the new
    /// one, and resets where this run's output starts.
    fn trim_log(&self, log: &File) {
        if let Ok(true) = log_trim::trim(&self.spec.log, self.spec.log_limit.bytes) {
            let aside = log_trim::previous(&self.spec.log);
            let name = aside.file_name().map(|n| n.to_string_lossy().to_string());
            self.note(
                log,
                &format!(
                    "log over its limit: earlier lines are in {}",
                    name.unwrap_or_default()
                ),
            );
            self.record(|e| e.log_offset = 0);
        }
    }

    fn record(&self, change: impl FnOnce(&mut Entry)) {
        let me = std::process::id();
        let _ = state::update(&self.spec.state, |st| {
            if let Some(e) = st.processes.get_mut(&self.spec.name) {
                if e.supervisor == me {
                    change(e);
                }
            }
        });
    }

    fn finish(&self, log: &File, how: RunState, code: Option<i32>, text: &str) {
        self.note(log, text);
        self.record(|e| {
            e.state = how;
            e.pid = None;
            if code.is_some() {
                e.exit_code = code;
            }
        });
    }
}

/// SIGTERM and SIGINT stop the supervisor; SIGHUP (a closed terminal) is
/// ignored, so the process outlives the shell that ran `up`.
struct Stop {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Stop {
    fn new() -> std::io::Result<Self> {
        Ok(Stop {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn recv(&mut self) {
        loop {
            tokio::select! {
                _ = self.term.recv() => return,
                _ = self.int.recv() => return,
                _ = self.hup.recv() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_chatty_command_has_its_log_moved_aside_while_it_runs() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("chatty.log");
        let spec = Spec {
            name: "chatty".into(),
            argv: [
                "sh",
                "-c",
                "for i in $(seq 1 400); do echo line-$i-of-a-chatty-server; done; sleep 1",
            ]
            .map(String::from)
            .to_vec(),
            cwd: dir.path().to_path_buf(),
            restart: RestartPolicy::Never,
            hash: "h".into(),
            log: log.clone(),
            log_limit: LogLimit {
                bytes: 1000,
                every: Duration::from_millis(100),
            },
            state: dir.path().join("processes.json"),
        };
        supervise(&spec, &crate::clock::SystemClock).await.unwrap();
        let aside = std::fs::read_to_string(log_trim::previous(&log)).unwrap();
        assert!(aside.contains("line-400-of-a-chatty-server"), "{aside}");
        let now = std::fs::read_to_string(&log).unwrap();
        assert!(now.contains("earlier lines are in chatty.log.1"), "{now}");
        assert!(now.contains("chatty exited with code 0"), "{now}");
        assert!(now.len() < 1000, "{now}");
    }

    #[test]
    fn the_backoff_doubles_to_its_cap_and_resets_after_a_steady_run() {
        let quick = Duration::from_millis(100);
        let mut w = FIRST_BACKOFF;
        let mut seen = vec![w];
        for _ in 0..8 {
            w = next_backoff(w, quick);
            seen.push(w);
        }
        assert_eq!(seen[1], Duration::from_secs(1));
        assert_eq!(seen[2], Duration::from_secs(2));
        assert_eq!(*seen.last().unwrap(), MAX_BACKOFF);
        assert_eq!(next_backoff(MAX_BACKOFF, STEADY), FIRST_BACKOFF);
    }
}
