//! Processes for `up`, `down` and `status`: one detached supervisor per
//! process (`supervise.rs`), recorded in `processes.json` with the
//! definition hash that tells a re-`up` whether to leave it running.
//!
//! A re-`up` of a running, unchanged process is a liveness check and a hash
//! compare; a changed one, or one whose supervisor is gone, is stopped
//! (supervisor, then whatever its group left, even after the supervisor
//! was killed) and started again; one no longer declared is stopped.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use futures_util::future::join_all;
use sha2::{Digest, Sha256};

use super::group::{self, GRACE};
use super::ready::{self, Target};
use super::state::{self, Entry, RunState};
use super::ProcessError;
use crate::manifest::{Manifest, Probe, Process};
use crate::paths::Paths;
use crate::progress::{Level, Reporter, Task};

/// What `up` needs to start processes.
pub struct UpRequest<'a> {
    pub manifest: &'a Manifest,
    pub paths: &'a Paths,
    /// The devenv binary, which runs the supervisors.
    pub exe: PathBuf,
    /// The project environment (`Session::project_env`); each process's
    /// own `env` goes over it.
    pub env: &'a [(String, OsString)],
    pub reporter: &'a dyn Reporter,
}

/// What one process is doing, for `devenv status`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessStatus {
    pub name: String,
    /// running | restarting | exited | stopped | missing
    pub state: &'static str,
    pub ready: bool,
    /// The command's pid while it runs.
    pub pid: Option<u32>,
    /// Where its http probe answers.
    pub url: Option<String>,
}

/// One process about to be waited for.
struct Started<'a> {
    process: &'a Process,
    supervisor: u32,
    /// Shown while it gets ready; none when it was left running.
    task: Option<Box<dyn Task>>,
    /// Left running, and this run of its command was seen ready before:
    /// no probe needed (a no-op `up` stays a pid check and a hash compare).
    proven: bool,
}

/// Stops processes no longer declared, then starts (or keeps) each level
/// of processes and waits until all of it is ready before the next.
pub async fn up(req: &UpRequest<'_>) -> Result<(), ProcessError> {
    let paths = req.paths;
    let state_path = state::state_path(paths);
    let recorded = state::read(&state_path).processes;
    if req.manifest.processes.is_empty() && recorded.is_empty() {
        return Ok(());
    }
    paths.ensure_state_dir().map_err(ProcessError::Io)?;
    std::fs::create_dir_all(paths.logs_dir()).map_err(ProcessError::Io)?;
    for (name, e) in recorded {
        if req.manifest.process(&name).is_none() {
            stop(&state_path, &name, &e).await;
            forget(&state_path, &name)?;
            req.reporter.message(
                Level::Info,
                &format!("process {name}: stopped (removed from devenv.toml)"),
            );
        }
    }
    for level in req.manifest.process_levels() {
        let mut started = Vec::new();
        for p in level {
            started.push(start(req, &state_path, p).await?);
        }
        let log_paths: Vec<PathBuf> = started
            .iter()
            .map(|s| state::log_path(paths, &s.process.name))
            .collect();
        let waits = started.iter().zip(&log_paths).map(|(s, log)| {
            let target = Target {
                name: &s.process.name,
                supervisor: s.supervisor,
                state: &state_path,
                log,
            };
            async move {
                if s.proven {
                    return Ok(());
                }
                ready::wait(&target, s.process.ready.as_ref()).await
            }
        });
        let results = join_all(waits).await;
        let mut failed = None;
        for ((s, log), result) in started.iter().zip(&log_paths).zip(results) {
            match result {
                Ok(()) => {
                    if let Some(task) = &s.task {
                        task.finish(true, &ready_text(s.process));
                    }
                    if !s.proven {
                        remember_ready(&state_path, &s.process.name)?;
                    }
                }
                Err(reason) => {
                    if let Some(task) = &s.task {
                        task.finish(false, "never became ready");
                    }
                    let e = state::read(&state_path).processes.remove(&s.process.name);
                    if let Some(e) = e {
                        stop(&state_path, &s.process.name, &e).await;
                    }
                    forget(&state_path, &s.process.name)?;
                    failed.get_or_insert(ProcessError::NotReady {
                        name: s.process.name.clone(),
                        reason,
                        log: ready::tail(log, 20),
                    });
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
    }
    Ok(())
}

/// Records that the command's current run was seen ready.
fn remember_ready(state_path: &Path, name: &str) -> Result<(), ProcessError> {
    state::update(state_path, |st| {
        if let Some(e) = st.processes.get_mut(name) {
            e.ready_pid = e.pid;
        }
    })
    .map_err(ProcessError::Io)
}

fn ready_text(p: &Process) -> String {
    match p.ready.as_ref().map(|r| &r.probe) {
        Some(Probe::Http { port, .. }) => format!("http://127.0.0.1:{port}"),
        Some(_) => "ready".into(),
        None => "running".into(),
    }
}

/// Leaves an unchanged, supervised process running; else stops what is
/// left of it and starts its supervisor.
async fn start<'a>(
    req: &UpRequest<'_>,
    state_path: &Path,
    p: &'a Process,
) -> Result<Started<'a>, ProcessError> {
    // Again just before it is used: a symlink swapped in since the
    // manifest loaded does not take the process out of the repository.
    let cwd = crate::confine::confine_joined(&req.manifest.root, &p.cwd).map_err(|e| {
        ProcessError::Cwd {
            name: p.name.clone(),
            escape: e,
        }
    })?;
    let env = environment(req.env, p);
    let h = hash(p, &cwd, &env);
    let current = state::read(state_path).processes.remove(&p.name);
    if let Some(e) = &current {
        if e.hash == h && group::is_supervisor(e.supervisor, &p.name) {
            req.reporter.message(
                Level::Detail,
                &format!("process {}: unchanged, left running", p.name),
            );
            return Ok(Started {
                process: p,
                supervisor: e.supervisor,
                task: None,
                proven: e.pid.is_some() && e.ready_pid == e.pid,
            });
        }
        stop(state_path, &p.name, e).await;
    }
    let task = req.reporter.task(&format!("process {}", p.name), None);
    let spawn = Spawn {
        req,
        process: p,
        cwd: &cwd,
        env: &env,
        hash: &h,
    };
    match spawn.supervisor(state_path) {
        Ok(supervisor) => Ok(Started {
            process: p,
            supervisor,
            task: Some(task),
            proven: false,
        }),
        Err(e) => {
            task.finish(false, "failed");
            Err(e)
        }
    }
}

/// The project environment with the process's own `env` over it.
fn environment(project: &[(String, OsString)], p: &Process) -> BTreeMap<String, OsString> {
    let mut env: BTreeMap<String, OsString> = project.iter().cloned().collect();
    for (k, v) in &p.env {
        env.insert(k.clone(), OsString::from(v));
    }
    env
}

/// What a re-`up` compares: the command, where it runs, its whole
/// environment as devenv sets it, and how it is restarted.
fn hash(p: &Process, cwd: &Path, env: &BTreeMap<String, OsString>) -> String {
    let text = format!(
        "{:?}\n{}\n{env:?}\n{}",
        p.command.argv(),
        cwd.display(),
        p.restart.name()
    );
    hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

/// The supervisor's command line, for one process.
struct Spawn<'a> {
    req: &'a UpRequest<'a>,
    process: &'a Process,
    cwd: &'a Path,
    env: &'a BTreeMap<String, OsString>,
    hash: &'a str,
}

impl Spawn<'_> {
    /// Starts `devenv process supervise NAME` detached, in a process group
    /// of its own, with the process's environment; its pid.
    fn supervisor(&self, state_path: &Path) -> Result<u32, ProcessError> {
        let p = self.process;
        let log = state::log_path(self.req.paths, &p.name);
        let spawn_error = |source| ProcessError::Spawn {
            name: p.name.clone(),
            source,
        };
        // The supervisor's own complaints (it cannot start) land in the log.
        let errors = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(spawn_error)?;
        let mut cmd = Command::new(&self.req.exe);
        cmd.args(["-q", "process", "supervise", &p.name, "--cwd"])
            .arg(self.cwd)
            .args(["--restart", p.restart.name(), "--hash", self.hash, "--log"])
            .arg(&log)
            .arg("--state")
            .arg(state_path)
            .arg("--")
            .args(p.command.argv())
            .current_dir(&self.req.manifest.root)
            .envs(self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(errors)
            .process_group(0);
        let child = cmd.spawn().map_err(spawn_error)?;
        Ok(child.id())
    }
}

/// Stops one recorded process: its supervisor (which stops its command's
/// group), then whatever is left of the group, which a killed supervisor
/// could not stop.
async fn stop(state_path: &Path, name: &str, e: &Entry) {
    group::stop_supervisor(e.supervisor, name).await;
    // The supervisor may have restarted the command since `e` was read.
    let now = state::read(state_path).processes.remove(name);
    let groups = [now.and_then(|n| n.pgid), e.pgid];
    for pgid in groups.into_iter().flatten() {
        group::stop_group(pgid, name, GRACE).await;
    }
}

fn forget(state_path: &Path, name: &str) -> Result<(), ProcessError> {
    state::update(state_path, |st| st.processes.remove(name))
        .map(|_| ())
        .map_err(ProcessError::Io)
}

/// Stops every process this clone started, declared or not (`down` works
/// from the state file, even when devenv.toml does not load); returns the
/// names of those that were running.
pub async fn down(paths: &Paths) -> Result<Vec<String>, ProcessError> {
    let state_path = state::state_path(paths);
    let recorded = state::read(&state_path).processes;
    if recorded.is_empty() {
        return Ok(Vec::new());
    }
    let running: Vec<String> = recorded
        .iter()
        .filter(|(n, e)| group::is_supervisor(e.supervisor, n) || running_pid(n, e).is_some())
        .map(|(n, _)| n.clone())
        .collect();
    join_all(recorded.iter().map(|(n, e)| stop(&state_path, n, e))).await;
    state::update(&state_path, |st| st.processes.clear()).map_err(ProcessError::Io)?;
    Ok(running)
}

/// The command's pid, when it still runs in its own group.
fn running_pid(name: &str, e: &Entry) -> Option<u32> {
    let pid = e.pid?;
    (group::alive(pid) && !group::members(e.pgid?, name).is_empty()).then_some(pid)
}

/// Every declared process's state, probed once when it runs.
pub async fn status(manifest: &Manifest, paths: &Paths) -> Vec<ProcessStatus> {
    let recorded = state::read(&state::state_path(paths)).processes;
    let each = manifest.processes.iter().map(|p| {
        let e = recorded.get(&p.name);
        async move {
            let url = match p.ready.as_ref().map(|r| &r.probe) {
                Some(Probe::Http { port, .. }) => Some(format!("http://127.0.0.1:{port}")),
                _ => None,
            };
            let mut out = ProcessStatus {
                name: p.name.clone(),
                state: "missing",
                ready: false,
                pid: None,
                url: None,
            };
            let Some(e) = e else { return out };
            let supervised = group::is_supervisor(e.supervisor, &p.name);
            out.pid = running_pid(&p.name, e);
            out.state = match (out.pid, e.state) {
                (Some(_), _) => "running",
                (None, RunState::Restarting) if supervised => "restarting",
                (None, RunState::Exited) => "exited",
                _ => "stopped",
            };
            if out.pid.is_some() {
                let log = state::log_path(paths, &p.name);
                out.ready = ready::once(e, p.ready.as_ref(), &log).await;
                out.url = url;
            }
            out
        }
    });
    join_all(each).await
}
