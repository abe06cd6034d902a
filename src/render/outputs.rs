//! Rendered files on disk: what devenv last wrote (a sha256 per output in
//! `.devenv/state/rendered.json`), whether a file was edited by hand since,
//! and writing them all atomically with the right mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::sha256_hex;
use serde::{Deserialize, Serialize};

use super::diff;
use crate::confine::OpenError;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::fsread::ReadError;
use crate::paths::Paths;

/// `.devenv/state/rendered.json`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct RenderState {
    /// Output path relative to the repository -> what devenv wrote there.
    #[serde(default)]
    pub outputs: BTreeMap<String, Record>,
    /// Directories render created for outputs (removed by reset when empty).
    #[serde(default)]
    pub created_dirs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub sha256: String,
    pub template: String,
    pub environment: String,
    /// The render read a secret: the file is 0600 and its diff is not shown.
    pub secret: bool,
    /// What a run that was interrupted while writing was about to write:
    /// a file holding it is devenv's own, not a hand edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

impl Record {
    /// Whether `bytes` are what devenv wrote (or was writing) here.
    pub fn wrote(&self, bytes: &[u8]) -> bool {
        let h = sha256_hex(bytes);
        self.sha256 == h || self.pending.as_ref() == Some(&h)
    }
}

impl RenderState {
    pub const FILE: &'static str = "rendered.json";

    pub fn load(paths: &Paths) -> Self {
        crate::state::read_json(&paths.state_file(Self::FILE))
    }

    pub fn save(&self, paths: &Paths) -> std::io::Result<()> {
        crate::state::write_json(&paths.state_file(Self::FILE), self)
    }
}

/// One output rendered in memory.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The repository root, which the output must stay inside.
    pub root: PathBuf,
    /// Relative to the repository root, `/`-separated.
    pub rel: String,
    pub path: PathBuf,
    pub template: String,
    pub text: String,
    pub secret: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Missing,
    UpToDate,
    /// Same content, but a file holding a secret is readable by others.
    Mode,
    /// devenv wrote it and nobody touched it since; the new render differs.
    Stale,
    /// devenv wrote it, then someone changed it.
    HandEdited,
    /// A file devenv never wrote is in the way.
    Foreign,
}

impl Status {
    pub fn needs_write(self) -> bool {
        self != Status::UpToDate
    }
    /// Writing would lose someone's work.
    pub fn needs_force(self) -> bool {
        matches!(self, Status::HandEdited | Status::Foreign)
    }
}

#[derive(Debug, Clone)]
pub struct Assessed {
    pub planned: Planned,
    pub status: Status,
    /// What is on disk now, for diffs.
    pub on_disk: Option<String>,
    /// Whether the file on disk held a secret when devenv last wrote it.
    pub had_secret: bool,
}

impl Assessed {
    /// A diff from the file on disk to the new render, or a note when
    /// either side holds secrets (a diff would print them).
    pub fn diff(&self) -> String {
        let old = self.on_disk.as_deref().unwrap_or("");
        if self.planned.secret || self.had_secret {
            let counts = diff::Counts::between(old, &self.planned.text);
            return format!(
                "(the diff is not shown because the file holds secrets; {})\n",
                counts.describe()
            );
        }
        diff::unified(
            old,
            &self.planned.text,
            &format!("{} (on disk)", self.planned.rel),
            &format!("{} (rendered now)", self.planned.rel),
        )
    }
}

/// Outputs that, symlinks followed, would land outside the repository:
/// checked when devenv.toml was loaded, checked again just before writing
/// (a container with a repository mount may have made a symlink since).
pub fn escapes(planned: &[Planned]) -> Diagnostics {
    let mut problems = Diagnostics::default();
    for p in planned {
        if let Err(e) = crate::confine::confine_joined(&p.root, &p.path) {
            problems.push(
                Diagnostic::file(&p.path, format!("output {e}")).with_hint(
                    "outputs are written only inside the repository; remove the symlink",
                ),
            );
        }
    }
    problems
}

/// What each output's file holds now, and so what writing it would do. A
/// file read through `confine`: one leading out reads as missing, never as
/// content for a diff (`write_all` then refuses it).
pub fn assess(planned: Vec<Planned>, state: &RenderState) -> Vec<Assessed> {
    planned
        .into_iter()
        .map(|p| {
            let record = state.outputs.get(&p.rel);
            let had_secret = record.is_some_and(|r| r.secret);
            let status = match crate::confine::read(&p.root, &p.path) {
                Ok(bytes) => Ok(bytes),
                // A FIFO, a device or a huge file (an output path can be a
                // symlink in the repository): not devenv's, and not read.
                Err(OpenError::Limit(ReadError::NotAFile(_) | ReadError::TooLarge)) => {
                    Err(Status::Foreign)
                }
                Err(_) => Err(Status::Missing),
            };
            let bytes = match status {
                Ok(bytes) => bytes,
                Err(status) => {
                    return Assessed {
                        planned: p,
                        status,
                        on_disk: None,
                        had_secret,
                    }
                }
            };
            let status = if bytes == p.text.as_bytes() {
                if p.secret && too_open(&p.path) {
                    Status::Mode
                } else {
                    Status::UpToDate
                }
            } else {
                match record {
                    Some(r) if r.wrote(&bytes) => Status::Stale,
                    Some(_) => Status::HandEdited,
                    None => Status::Foreign,
                }
            };
            Assessed {
                planned: p,
                status,
                on_disk: Some(String::from_utf8_lossy(&bytes).into_owned()),
                had_secret,
            }
        })
        .collect()
}

#[cfg(unix)]
fn too_open(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn too_open(_: &Path) -> bool {
    false
}

#[cfg(unix)]
fn mode_for(a: &Assessed) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    if a.planned.secret {
        return Some(0o600);
    }
    match std::fs::metadata(&a.planned.path) {
        Ok(m) => Some(m.permissions().mode() & 0o7777),
        Err(_) => Some(0o644),
    }
}

#[cfg(not(unix))]
fn mode_for(_: &Assessed) -> Option<u32> {
    None
}

/// Writes every output that needs it (callers have already refused
/// hand-edited ones unless forced) and records what was written. Returns
/// the outputs written.
///
/// What is about to be written is recorded first, so if the run is
/// interrupted half-way the next one recognises those files as its own.
pub fn write_all(
    assessed: &[Assessed],
    environment: &str,
    paths: &Paths,
    state: &mut RenderState,
) -> std::io::Result<Vec<String>> {
    let mut pending = false;
    for a in assessed.iter().filter(|a| a.status.needs_write()) {
        let p = &a.planned;
        let entry = state
            .outputs
            .entry(p.rel.clone())
            .or_insert_with(|| Record {
                sha256: String::new(),
                template: p.template.clone(),
                environment: environment.to_string(),
                secret: p.secret,
                pending: None,
            });
        entry.pending = Some(sha256_hex(p.text.as_bytes()));
        entry.secret |= p.secret;
        pending = true;
    }
    if pending {
        state.save(paths)?;
    }
    let mut written = Vec::new();
    for a in assessed {
        let p = &a.planned;
        if a.status.needs_write() {
            if let Some(created) = first_missing_dir(&p.path, &paths.root) {
                let rel = rel_path(&created, &paths.root);
                if !state.created_dirs.contains(&rel) {
                    state.created_dirs.push(rel);
                }
            }
            let target = crate::confine::write_target(&p.root, &p.path).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::PermissionDenied, format!("{e}"))
            })?;
            crate::state::write_atomic_unsynced(&target, p.text.as_bytes(), mode_for(a)).map_err(
                |e| std::io::Error::new(e.kind(), format!("cannot write {}: {e}", p.rel)),
            )?;
            written.push(p.rel.clone());
        }
        state.outputs.insert(
            p.rel.clone(),
            Record {
                sha256: sha256_hex(p.text.as_bytes()),
                template: p.template.clone(),
                environment: environment.to_string(),
                secret: p.secret,
                pending: None,
            },
        );
    }
    Ok(written)
}

/// The outermost directory of `file`'s parents that does not exist yet.
fn first_missing_dir(file: &Path, root: &Path) -> Option<PathBuf> {
    let mut missing = None;
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || d.exists() || !d.starts_with(root) {
            break;
        }
        missing = Some(d.to_path_buf());
        dir = d.parent();
    }
    missing
}

pub fn rel_path(p: &Path, root: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// What `remove` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removed {
    pub removed: Vec<PathBuf>,
    /// Edited by hand since devenv wrote them: left in place.
    pub kept: Vec<PathBuf>,
}

/// Removes the files devenv rendered and nobody edited since, the
/// directories it created for them (when empty), its render state and the
/// source caches.
pub fn remove(paths: &Paths) -> std::io::Result<Removed> {
    let state = RenderState::load(paths);
    let mut out = Removed::default();
    for (rel, record) in &state.outputs {
        let path = paths.root.join(rel);
        match crate::confine::read(&paths.root, &path) {
            Ok(bytes) if record.wrote(&bytes) => {
                std::fs::remove_file(&path)?;
                out.removed.push(path);
            }
            Ok(_) => out.kept.push(path),
            Err(_) => {}
        }
    }
    // Deepest first, so nested created directories go before their parents.
    let mut dirs = state.created_dirs.clone();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in dirs {
        let dir = paths.root.join(&d);
        remove_empty_dirs(&dir, &paths.root);
    }
    for f in [paths.state_file(RenderState::FILE)] {
        match std::fs::remove_file(f) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    match std::fs::remove_dir_all(paths.state_file("sources")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    Ok(out)
}

/// Removes `dir` and the empty directories below it; stops at anything that
/// holds a file.
fn remove_empty_dirs(dir: &Path, root: &Path) {
    if !dir.starts_with(root) || dir == root {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_dirs(&e.path(), root);
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(root: &Path, rel: &str, text: &str, secret: bool) -> Planned {
        Planned {
            root: root.to_path_buf(),
            rel: rel.into(),
            path: root.join(rel),
            template: "t.j2".into(),
            text: text.into(),
            secret,
        }
    }

    #[test]
    fn statuses_follow_what_devenv_last_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let paths = Paths::new(root.join("home"), root);
        let mut state = RenderState::default();
        let first = assess(vec![planned(root, "conf/a.env", "A=1\n", false)], &state);
        assert_eq!(first[0].status, Status::Missing);
        write_all(&first, "local", &paths, &mut state).unwrap();
        assert_eq!(state.created_dirs, ["conf"]);

        let same = assess(vec![planned(root, "conf/a.env", "A=1\n", false)], &state);
        assert_eq!(same[0].status, Status::UpToDate);
        let newer = assess(vec![planned(root, "conf/a.env", "A=2\n", false)], &state);
        assert_eq!(newer[0].status, Status::Stale);

        std::fs::write(root.join("conf/a.env"), "A=1\n# mine\n").unwrap();
        let edited = assess(vec![planned(root, "conf/a.env", "A=2\n", false)], &state);
        assert_eq!(edited[0].status, Status::HandEdited);
        assert!(edited[0].diff().contains("-# mine"), "{}", edited[0].diff());

        std::fs::write(root.join("b.env"), "theirs\n").unwrap();
        let foreign = assess(vec![planned(root, "b.env", "ours\n", false)], &state);
        assert_eq!(foreign[0].status, Status::Foreign);
    }

    #[cfg(unix)]
    #[test]
    fn secret_outputs_are_private_and_others_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let paths = Paths::new(root.join("home"), root);
        let mut state = RenderState::default();
        std::fs::write(root.join("run.sh"), "old\n").unwrap();
        std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        state.outputs.insert(
            "run.sh".into(),
            Record {
                sha256: sha256_hex(b"old\n"),
                template: "t".into(),
                environment: "local".into(),
                secret: false,
                pending: None,
            },
        );
        let a = assess(
            vec![
                planned(root, "s.env", "K=v\n", true),
                planned(root, "p.env", "P=1\n", false),
                planned(root, "run.sh", "new\n", false),
            ],
            &state,
        );
        write_all(&a, "local", &paths, &mut state).unwrap();
        let mode = |f: &str| {
            std::fs::metadata(root.join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("s.env"), 0o600);
        assert_eq!(mode("p.env"), 0o644);
        assert_eq!(mode("run.sh"), 0o755);
        std::fs::set_permissions(root.join("s.env"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let again = assess(vec![planned(root, "s.env", "K=v\n", true)], &state);
        assert_eq!(again[0].status, Status::Mode);
        assert!(!again[0].diff().contains("K=v"));
    }

    #[test]
    fn a_file_written_by_an_interrupted_run_is_still_devenvs_own() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let paths = Paths::new(root.join("home"), root);
        let mut state = RenderState::default();
        let a = assess(vec![planned(root, "a.env", "A=1\n", false)], &state);
        write_all(&a, "local", &paths, &mut state).unwrap();
        // A run that recorded its intent, wrote the file, then died.
        state.outputs.get_mut("a.env").unwrap().pending = Some(sha256_hex(b"A=2\n"));
        std::fs::write(root.join("a.env"), "A=2\n").unwrap();
        let next = assess(vec![planned(root, "a.env", "A=3\n", false)], &state);
        assert_eq!(next[0].status, Status::Stale);
    }

    #[test]
    fn remove_keeps_hand_edits_and_cleans_created_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let paths = Paths::new(root.join("home"), root);
        let mut state = RenderState::default();
        let a = assess(
            vec![
                planned(root, "deep/er/a.env", "A\n", false),
                planned(root, "b.env", "B\n", false),
            ],
            &state,
        );
        write_all(&a, "local", &paths, &mut state).unwrap();
        state.save(&paths).unwrap();
        std::fs::write(root.join("b.env"), "edited\n").unwrap();
        let r = remove(&paths).unwrap();
        assert_eq!(r.removed, [root.join("deep/er/a.env")]);
        assert_eq!(r.kept, [root.join("b.env")]);
        assert!(!root.join("deep").exists());
        assert!(root.join("b.env").exists());
        assert!(!paths.state_file(RenderState::FILE).exists());
    }
}
