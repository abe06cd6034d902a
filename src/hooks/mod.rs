//! Setup and pre_down hooks: the repository's own commands, run in its root
//! with the pinned tools first on PATH, output streamed line by line with a
//! prefix, every secret masked. A hook with `if_changed` runs again only
//! when those files change.
//!
//! Nothing here runs unless the manifest is trusted (see `trust`); the
//! caller checks that before calling `run`. Dropping `run`'s future (a
//! signal ended the phase) stops the running hook's whole process group
//! (`process`).

mod process;
pub mod trust;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::manifest::HookEntry;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::redact::Redactor;

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
    /// Masks every secret in what the hooks print, before it is shown or
    /// kept for the error.
    pub redactor: &'a Redactor,
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

/// What `if_changed` saw when each hook last succeeded, and which hooks
/// were told once that they are not cached.
#[derive(Debug, Default, Serialize, Deserialize)]
struct HookState {
    fingerprints: BTreeMap<String, String>,
    #[serde(default)]
    advised: BTreeSet<String>,
}

const STATE_FILE: &str = "hooks.json";

/// Runs the hooks in order; stops at the first failure.
pub async fn run(req: &RunRequest<'_>, reporter: &dyn Reporter) -> Result<Summary, HookError> {
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
        run_one(req, hook, reporter).await?;
        summary.ran += 1;
        if let Some(fp) = fingerprint {
            state.fingerprints.insert(key, fp);
            // Losing this only means the hook runs once more next time.
            let _ = crate::state::write_json(&state_path, &state);
        } else if req.kind == HookKind::Setup && state.advised.insert(key) {
            reporter.message(Level::Info, &not_cached(hook));
            // Losing this only means the advice is said once more.
            let _ = crate::state::write_json(&state_path, &state);
        }
    }
    Ok(summary)
}

async fn run_one(
    req: &RunRequest<'_>,
    hook: &HookEntry,
    reporter: &dyn Reporter,
) -> Result<(), HookError> {
    let kind = req.kind.label();
    let label = hook.name.clone().unwrap_or_else(|| hook.run.clone());
    reporter.message(Level::Info, &format!("▸ {kind}: {label}"));
    let spec = process::Spec {
        run: &hook.run,
        root: &req.paths.root,
        env: req.env,
        redactor: req.redactor,
    };
    let prefix = short_label(&label);
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL);
    let mut on_line = |line: &str| {
        reporter.message(Level::Info, &format!("  {prefix} │ {line}"));
        if tail.len() == TAIL {
            tail.pop_front();
        }
        tail.push_back(line.to_string());
    };
    let status = process::run(&spec, &mut on_line)
        .await
        .map_err(|source| HookError::Spawn {
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

/// Said once per clone (remembered in `.devenv/state/hooks.json`) after a
/// setup hook without `if_changed` ran: it runs on every `up`, and how to
/// cache it. Once, not on every `up`: some hooks (migrations) should run
/// every time, and a line repeated on every `up` soon goes unread; each
/// new clone, which is where slow setup is felt, hears it once.
fn not_cached(hook: &HookEntry) -> String {
    use crate::manifest::hook_inputs::{entry_with_inputs, inputs_of};
    let (when, inputs) = match inputs_of(&hook.run) {
        Some(files) => (format!("{} changes", files.join(" or ")), files),
        None => ("the files it depends on change".into(), vec!["FILE".into()]),
    };
    format!(
        "setup hook `{}` has no `if_changed`, so it runs on every `up`; to run it only when {when}, write it as {} (said once per clone)",
        hook.run,
        entry_with_inputs(&hook.run, &inputs)
    )
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

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn request<'a>(
        paths: &'a Paths,
        hooks: &'a [HookEntry],
        env: &'a [(String, std::ffi::OsString)],
        redactor: &'a Redactor,
    ) -> RunRequest<'a> {
        RunRequest {
            paths,
            hooks,
            kind: HookKind::Setup,
            env,
            redactor,
        }
    }

    fn said(rec: &Recorder) -> Vec<String> {
        rec.messages
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.1.clone())
            .collect()
    }

    #[test]
    fn output_is_streamed_with_a_prefix_and_env_is_passed() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let rec = Recorder::default();
        let hooks = [hook("echo hello $GREETING_TARGET; echo oops >&2", &[])];
        let env = [("GREETING_TARGET".to_string(), "world".into())];
        let redactor = Redactor::new();
        let req = request(&paths, &hooks, &env, &redactor);
        assert_eq!(
            block(run(&req, &rec)).unwrap(),
            Summary { ran: 1, skipped: 0 }
        );
        let msgs = said(&rec);
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
        let redactor = Redactor::new();
        let req = request(&paths, &hooks, &[], &redactor);
        match block(run(&req, &Recorder::default())).unwrap_err() {
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
    fn secrets_are_masked_in_the_output_and_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let hooks = [hook(
            "echo token=$T; printf 'split=hunt'; sleep 0.2; printf 'er2-x\\n'; exit 1",
            &[],
        )];
        let env = [("T".to_string(), "hunter2-x".into())];
        let redactor = Redactor::new();
        redactor.add("hunter2-x");
        let rec = Recorder::default();
        let req = request(&paths, &hooks, &env, &redactor);
        let HookError::Failed { tail, .. } = block(run(&req, &rec)).unwrap_err() else {
            panic!("the hook fails")
        };
        // The first message names the hook, whose text is not secret.
        let all = format!("{:?} {tail:?}", &said(&rec)[1..]);
        assert!(!all.contains("hunter2") && !all.contains("er2-x"), "{all}");
        assert!(
            all.contains("token=***") && all.contains("split=***"),
            "{all}"
        );
    }

    #[test]
    fn dropping_a_running_hook_stops_its_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let hooks = [hook("sleep 300 & echo $! > child.pid; wait", &[])];
        let redactor = Redactor::new();
        let req = request(&paths, &hooks, &[], &redactor);
        let pid_file = dir.path().join("child.pid");
        let rec = Recorder::default();
        let pid: u32 = block(async {
            tokio::select! {
                r = run(&req, &rec) => panic!("the hook ended: {r:?}"),
                pid = async {
                    loop {
                        let text = std::fs::read_to_string(&pid_file).unwrap_or_default();
                        if let Ok(pid) = text.trim().parse() {
                            return pid;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                } => pid,
            }
        });
        // The select dropped the hook's future, which stopped the group.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(
            stat.is_empty()
                || stat
                    .rsplit_once(')')
                    .unwrap()
                    .1
                    .trim_start()
                    .starts_with('Z'),
            "the hook's child {pid} still runs: {stat}"
        );
    }

    /// A hook without `if_changed` ran on every `up` and nothing said so:
    /// the first run in a clone says how to cache it, later runs do not.
    #[test]
    fn an_uncached_setup_hook_is_pointed_at_if_changed_once_per_clone() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let hooks = [hook("true", &[])];
        let redactor = Redactor::new();
        let req = request(&paths, &hooks, &[], &redactor);
        let rec = Recorder::default();
        block(run(&req, &rec)).unwrap();
        let advice: Vec<String> = said(&rec)
            .into_iter()
            .filter(|m| m.contains("if_changed"))
            .collect();
        assert_eq!(
            advice,
            ["setup hook `true` has no `if_changed`, so it runs on every `up`; to run it only when the files it depends on change, write it as { run = \"true\", if_changed = [\"FILE\"] } (said once per clone)"]
        );
        let again = Recorder::default();
        block(run(&req, &again)).unwrap();
        assert!(said(&again).iter().all(|m| !m.contains("if_changed")));
        // A command devenv knows gets its lock file named.
        let npm = not_cached(&hook("npm ci", &[]));
        assert!(
            npm.contains("only when package-lock.json changes, write it as { run = \"npm ci\", if_changed = [\"package-lock.json\"] }"),
            "{npm}"
        );
    }

    #[test]
    fn if_changed_hooks_rerun_only_when_their_files_change() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        std::fs::write(dir.path().join("package-lock.json"), "v1").unwrap();
        let hooks = [hook("echo x >> count", &["package-lock.json"])];
        let redactor = Redactor::new();
        let req = request(&paths, &hooks, &[], &redactor);
        let rec = Recorder::default();
        assert_eq!(block(run(&req, &rec)).unwrap().ran, 1);
        assert_eq!(
            block(run(&req, &rec)).unwrap(),
            Summary { ran: 0, skipped: 1 }
        );
        std::fs::write(dir.path().join("package-lock.json"), "v2").unwrap();
        assert_eq!(block(run(&req, &rec)).unwrap().ran, 1);
        let count = std::fs::read_to_string(dir.path().join("count")).unwrap();
        assert_eq!(count.lines().count(), 2);
    }
}
