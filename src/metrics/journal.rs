//! The per-clone journal under the spool: `runs.jsonl` (one JSON line per
//! run, appended with O_APPEND and fsync'd: the source of truth), the
//! timeline cache and one cursor per endpoint recording what was sent.
//!
//! Layout: `<spool>/<project-id>/<clone>/` where `<clone>` is a short hash of
//! the clone's path, so two clones of one project keep separate timelines.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::run::Run;
use crate::paths::Paths;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot write the metrics journal {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub const RUNS: &'static str = "runs.jsonl";
    pub const TIMELINE: &'static str = "timeline.json";

    pub fn new(paths: &Paths, project_id: &str) -> Journal {
        let clone = crate::util::sha256_hex(paths.root.to_string_lossy().as_bytes());
        Journal {
            dir: paths.spool().join(project_id).join(&clone[..12]),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn runs_path(&self) -> PathBuf {
        self.dir.join(Self::RUNS)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Appends one run as one line. A line torn by a crash is closed first
    /// so it cannot swallow this one.
    pub fn append(&self, run: &Run) -> Result<(), JournalError> {
        let path = self.runs_path();
        let err = |source| JournalError::Write {
            path: path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(run).map_err(|e| err(std::io::Error::other(e)))?;
        line.push(b'\n');
        let open = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .read(true)
                .open(&path)
        };
        let mut f = match open() {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.dir).map_err(err)?;
                open().map_err(err)?
            }
            Err(e) => return Err(err(e)),
        };
        let len = f.metadata().map_err(err)?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1)).map_err(err)?;
            f.read_exact(&mut last).map_err(err)?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        // One write call, so concurrent appenders never interleave a line.
        // No fsync: once write returns, the line outlives this process
        // (Ctrl-C, SIGKILL, a crash of devenv); only the machine losing
        // power could drop it, and an fsync cost a no-op `up` 0.2-4 ms.
        f.write_all(&line).map_err(err)?;
        Ok(())
    }

    /// Every readable run, in the order they were recorded. Torn or foreign
    /// lines are skipped rather than failing the whole journal.
    pub fn runs(&self) -> Vec<Run> {
        let Ok(text) = std::fs::read_to_string(self.runs_path()) else {
            return Vec::new();
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn cursor_path(&self, endpoint_key: &str) -> PathBuf {
        self.dir.join(format!("sent-{endpoint_key}.json"))
    }

    /// Held while runs are sent and the cursor moves on; waits while
    /// another devenv holds it (callers bound the wait with their timeout).
    pub async fn lock_reports(&self) -> std::io::Result<std::fs::File> {
        std::fs::create_dir_all(&self.dir)?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.file("report.lock"))?;
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(f),
                Err(std::fs::TryLockError::WouldBlock) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        }
    }

    pub fn cursor(&self, endpoint_key: &str) -> Cursor {
        crate::state::read_json(&self.cursor_path(endpoint_key))
    }

    pub fn save_cursor(&self, endpoint_key: &str, cursor: &Cursor) -> std::io::Result<()> {
        crate::state::write_json(&self.cursor_path(endpoint_key), cursor)
    }
}

/// What one endpoint has acknowledged: the runs sent so far (by id, in
/// journal order) and the last timeline it received.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(default)]
    pub sent: Vec<String>,
    /// A hash of the last onboarding timeline the endpoint acknowledged.
    #[serde(default)]
    pub timeline: Option<String>,
}

impl Cursor {
    /// The runs not yet acknowledged, in journal order.
    pub fn unsent<'a>(&self, runs: &'a [Run]) -> Vec<&'a Run> {
        let sent: std::collections::HashSet<&str> = self.sent.iter().map(String::as_str).collect();
        runs.iter()
            .filter(|r| !sent.contains(r.id.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::run::{Fetches, Outcome, RunKind};

    fn run(id: &str) -> Run {
        Run {
            v: 1,
            id: id.into(),
            kind: RunKind::Up,
            started_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            finished_at: "2026-01-01T00:00:01Z".parse().unwrap(),
            outcome: Outcome::Ok,
            failed_step: None,
            phases: vec![],
            complete: true,
            fetches: Fetches::default(),
            devenv_version: "0".into(),
            ci: None,
        }
    }

    #[test]
    fn a_torn_last_line_does_not_swallow_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path().join("repo"));
        let j = Journal::new(&paths, "p");
        j.append(&run("a")).unwrap();
        // A crash in the middle of a write.
        let mut f = OpenOptions::new().append(true).open(j.runs_path()).unwrap();
        f.write_all(b"{\"id\":\"torn").unwrap();
        j.append(&run("b")).unwrap();
        let ids: Vec<String> = j.runs().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn unsent_keeps_journal_order() {
        let runs = vec![run("a"), run("b"), run("c")];
        let c = Cursor {
            sent: vec!["b".into()],
            timeline: None,
        };
        let ids: Vec<&str> = c.unsent(&runs).iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);
    }
}
