//! Setup and pre_down hooks: the repository's own commands, run in its root
//! with the pinned tools first on PATH, output streamed line by line with a
//! prefix. A hook with `if_changed` runs again only when those files change.
//!
//! Nothing here runs unless the manifest is trusted (see `trust`); the
//! caller checks that before calling `run`.

pub mod trust;

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};

use crate::manifest::HookEntry;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};

/// How many lines of a failed hook's output are kept for the error.
const TAIL: usize = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    Setup,
    PreDown,
}

impl HookKind {
    fn label(self) -> &'static str {
        match self {
            HookKind::Setup => "setup",
            HookKind::PreDown => "pre_down",
        }
    }
}

pub struct RunRequest<'a> {
    pub paths: &'a Paths,
    pub hooks: &'a [HookEntry],
    pub kind: HookKind,
    /// Variables set for every hook (PATH with the pinned tools first, the
    /// project env); the rest of the environment is inherited.
    pub env: &'a [(String, std::ffi::OsString)],
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{kind} hook `{command}` failed ({status})")]
    Failed {
        kind: &'static str,
        command: String,
        status: String,
        /// The last lines it printed.
        tail: Vec<String>,
    },
    #[error("could not start {kind} hook `{command}`: {source}")]
    Spawn {
        kind: &'static str,
        command: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub ran: usize,
    /// Hooks with `if_changed` whose files had not changed.
    pub skipped: usize,
}

/// What `if_changed` saw when each hook last succeeded.
#[derive(Debug, Default, Serialize, Deserialize)]
struct HookState {
    fingerprints: BTreeMap<String, String>,
}

const STATE_FILE: &str = "hooks.json";

/// Runs the hooks in order; stops at the first failure.
pub fn run(req: &RunRequest<'_>, reporter: &dyn Reporter) -> Result<Summary, HookError> {
    let state_path = req.paths.state_file(STATE_FILE);
    let mut state: HookState = crate::state::read_json(&state_path);
    let mut summary = Summary::default();
    for hook in req.hooks {
        let key = format!("{}:{}", req.kind.label(), hook.run);
        let fingerprint =
            (!hook.if_changed.is_empty()).then(|| fingerprint(&req.paths.root, &hook.if_changed));
        if let Some(fp) = &fingerprint {
            if state.fingerprints.get(&key) == Some(fp) {
                reporter.message(
                    Level::Detail,
                    &format!(
                        "{} hook `{}` skipped: {} unchanged",
                        req.kind.label(),
                        hook.run,
                        hook.if_changed.join(", ")
                    ),
                );
                summary.skipped += 1;
                continue;
            }
        }
        run_one(req, hook, reporter)?;
        summary.ran += 1;
        if let Some(fp) = fingerprint {
            state.fingerprints.insert(key, fp);
            // Losing this only means the hook runs once more next time.
            let _ = crate::state::write_json(&state_path, &state);
        }
    }
    Ok(summary)
}

fn run_one(
    req: &RunRequest<'_>,
    hook: &HookEntry,
    reporter: &dyn Reporter,
) -> Result<(), HookError> {
    let kind = req.kind.label();
    let label = hook.name.clone().unwrap_or_else(|| hook.run.clone());
    reporter.message(Level::Info, &format!("▸ {kind}: {label}"));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&hook.run)
        .current_dir(&req.paths.root)
        .envs(req.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| HookError::Spawn {
            kind,
            command: hook.run.clone(),
            source,
        })?;
    // Both streams are read on their own threads so neither can fill its
    // pipe and stall the hook; lines arrive here in the order they are read.
    let (tx, rx) = mpsc::channel::<String>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(tx);
    let prefix = short_label(&label);
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL);
    for line in rx {
        reporter.message(Level::Info, &format!("  {prefix} │ {line}"));
        if tail.len() == TAIL {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait().map_err(|source| HookError::Spawn {
        kind,
        command: hook.run.clone(),
        source,
    })?;
    if status.success() {
        return Ok(());
    }
    let status = match status.code() {
        Some(c) => format!("exit code {c}"),
        None => "killed by a signal".to_string(),
    };
    Err(HookError::Failed {
        kind,
        command: hook.run.clone(),
        status,
        tail: tail.into(),
    })
}

/// A prefix short enough to keep output readable: the hook's first word(s).
fn short_label(label: &str) -> String {
    let words: Vec<&str> = label.split_whitespace().take(2).collect();
    let s = words.join(" ");
    if s.chars().count() > 20 {
        s.chars().take(19).collect::<String>() + "…"
    } else {
        s
    }
}

/// A digest of the listed files' paths and contents (a missing file counts
/// as its own state, so creating it triggers the hook). Contents are hashed
/// as a stream, and only of regular files: `if_changed` comes from the
/// repository and may name `/dev/zero` or a FIFO.
fn fingerprint(root: &Path, files: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for f in files {
        h.update(f.as_bytes());
        h.update([0]);
        let p = root.join(f);
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() => {
                let mut one = Sha256::new();
                let hashed =
                    std::fs::File::open(&p).and_then(|mut file| std::io::copy(&mut file, &mut one));
                match hashed {
                    Ok(_) => {
                        h.update(b"present");
                        h.update(one.finalize());
                    }
                    Err(_) => h.update(b"unreadable"),
                }
            }
            Ok(_) => h.update(b"special"),
            Err(_) => h.update(b"missing"),
        }
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Recorder;

    fn hook(run: &str, if_changed: &[&str]) -> HookEntry {
        HookEntry {
            run: run.to_string(),
            name: None,
            if_changed: if_changed.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn output_is_streamed_with_a_prefix_and_env_is_passed() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let rec = Recorder::default();
        let hooks = [hook("echo hello $GREETING_TARGET; echo oops >&2", &[])];
        let env = [("GREETING_TARGET".to_string(), "world".into())];
        let req = RunRequest {
            paths: &paths,
            hooks: &hooks,
            kind: HookKind::Setup,
            env: &env,
        };
        assert_eq!(run(&req, &rec).unwrap(), Summary { ran: 1, skipped: 0 });
        let msgs: Vec<String> = rec
            .messages
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.1.clone())
            .collect();
        assert!(msgs.iter().any(|m| m.contains("│ hello world")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("│ oops")), "{msgs:?}");
    }

    #[test]
    fn a_failing_hook_stops_the_rest_and_keeps_its_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let hooks = [
            hook("for i in $(seq 1 40); do echo line $i; done; exit 3", &[]),
            hook("touch ran", &[]),
        ];
        let req = RunRequest {
            paths: &paths,
            hooks: &hooks,
            kind: HookKind::Setup,
            env: &[],
        };
        match run(&req, &Recorder::default()).unwrap_err() {
            HookError::Failed { status, tail, .. } => {
                assert_eq!(status, "exit code 3");
                assert_eq!(tail.len(), TAIL);
                assert_eq!(tail.last().unwrap(), "line 40");
            }
            other => panic!("{other:?}"),
        }
        assert!(!dir.path().join("ran").exists());
    }

    #[test]
    fn if_changed_hooks_rerun_only_when_their_files_change() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        std::fs::write(dir.path().join("package-lock.json"), "v1").unwrap();
        let hooks = [hook("echo x >> count", &["package-lock.json"])];
        let req = RunRequest {
            paths: &paths,
            hooks: &hooks,
            kind: HookKind::Setup,
            env: &[],
        };
        let rec = Recorder::default();
        assert_eq!(run(&req, &rec).unwrap().ran, 1);
        assert_eq!(run(&req, &rec).unwrap(), Summary { ran: 0, skipped: 1 });
        std::fs::write(dir.path().join("package-lock.json"), "v2").unwrap();
        assert_eq!(run(&req, &rec).unwrap().ran, 1);
        let count = std::fs::read_to_string(dir.path().join("count")).unwrap();
        assert_eq!(count.lines().count(), 2);
    }
}
