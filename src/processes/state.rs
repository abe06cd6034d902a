//! `.devenv/state/processes.json`: per process, its supervisor's pid, the
//! running command's pid and process group, the definition hash `up`
//! compares, and where in the log the current run starts.
//!
//! Each supervisor writes its own entry (on every start and restart) and
//! `up`/`down` remove entries, so several writers share the file: every
//! change is a read-modify-write under an advisory lock on a file beside
//! it, and every write is atomic, so a reader without the lock (`status`)
//! always sees a whole file.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::paths::Paths;

pub const FILE: &str = "processes.json";

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProcessState {
    pub processes: BTreeMap<String, Entry>,
}

/// One supervised process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// The `devenv process supervise` process.
    pub supervisor: u32,
    /// The command's pid while it runs.
    pub pid: Option<u32>,
    /// The command's process group (its pid: it leads its own group). Kept
    /// after it exits, so a group left behind can still be found.
    pub pgid: Option<u32>,
    /// Of the command, cwd, env and project env (`lifecycle::hash`).
    pub hash: String,
    pub state: RunState,
    /// The last exit code (128 + N for death by signal N).
    pub exit_code: Option<i32>,
    pub restarts: u32,
    /// Where the current run's output starts in its log (the `log` probe
    /// reads from here).
    pub log_offset: u64,
    /// The command pid an `up` last saw get ready: while that same run
    /// goes on, a re-`up` need not probe it again (as for containers).
    #[serde(default)]
    pub ready_pid: Option<u32>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Running,
    /// Exited, waiting out the backoff before the next start.
    Restarting,
    /// Exited and left down (`restart = "never"`, or exit 0).
    Exited,
    /// Stopped by `down` or a changed definition.
    Stopped,
}

/// Where a process's output goes (`devenv logs NAME`).
pub fn log_path(paths: &Paths, name: &str) -> PathBuf {
    paths.logs_dir().join(format!("{name}.log"))
}

pub fn state_path(paths: &Paths) -> PathBuf {
    paths.state_file(FILE)
}

/// The state as last written; missing or unreadable is empty.
pub fn read(path: &Path) -> ProcessState {
    crate::state::read_json(path)
}

/// Applies `change` to the state under the lock and writes it back.
pub fn update<T>(path: &Path, change: impl FnOnce(&mut ProcessState) -> T) -> std::io::Result<T> {
    let _lock = lock(path)?;
    let mut st = read(path);
    let out = change(&mut st);
    crate::state::write_json(path, &st)?;
    Ok(out)
}

/// Held until dropped; the kernel drops it when the holder dies.
fn lock(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))?;
    file.lock()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(supervisor: u32) -> Entry {
        Entry {
            supervisor,
            pid: Some(supervisor + 1),
            pgid: Some(supervisor + 1),
            hash: "h".into(),
            state: RunState::Running,
            exit_code: None,
            restarts: 0,
            log_offset: 0,
            ready_pid: None,
        }
    }

    #[test]
    fn updates_from_several_writers_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join(FILE);
        let writers: Vec<_> = (0..8u32)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    update(&path, |st| {
                        st.processes.insert(format!("p{i}"), entry(100 + i));
                    })
                    .unwrap()
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let st = read(&path);
        assert_eq!(st.processes.len(), 8);
        assert_eq!(st.processes["p3"].supervisor, 103);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"state\": \"running\""), "{text}");
    }
}
