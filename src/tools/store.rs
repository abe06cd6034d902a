//! The content-addressed store under `DEVENV_HOME/store`, shared by every
//! project on the machine.
//!
//! An entry is `<tool>-<version>-<first 16 hex of the archive's sha256>`
//! (or of the URL's hash for an opted-in unverified tool). It appears by one
//! rename of a fully unpacked temp dir, with its marker already inside, so
//! an entry that exists is complete. A file lock per entry keeps two devenv
//! processes from installing it at once.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::paths::Paths;

/// Written inside an entry before it is renamed into place.
pub const MARKER: &str = ".devenv-entry.json";

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct EntryInfo {
    pub tool: String,
    pub version: String,
    pub url: String,
    pub sha256: Option<String>,
    /// Binaries, relative to the entry.
    pub bins: Vec<String>,
}

pub fn entry_name(tool: &str, version: &str, key: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "{}-{}-{}",
        clean(tool),
        clean(version),
        &key[..16.min(key.len())]
    )
}

pub fn entry_dir(paths: &Paths, entry: &str) -> PathBuf {
    paths.store().join(entry)
}

/// Cheap: one stat of the marker. No hashing, no archive reading.
pub fn is_installed(paths: &Paths, entry: &str) -> bool {
    !entry.is_empty() && entry_dir(paths, entry).join(MARKER).is_file()
}

pub fn read_info(paths: &Paths, entry: &str) -> Option<EntryInfo> {
    let bytes = fs::read(entry_dir(paths, entry).join(MARKER)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Holds the entry's file lock until dropped.
pub struct EntryLock(#[allow(dead_code)] fs::File);

/// The entry's lock file, created on first use.
fn lock_file(paths: &Paths, entry: &str) -> std::io::Result<fs::File> {
    let dir = paths.store().join(".locks");
    fs::create_dir_all(&dir)?;
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{entry}.lock")))
}

/// Blocks until this process holds the entry's lock.
pub fn lock_entry(paths: &Paths, entry: &str) -> std::io::Result<EntryLock> {
    let f = lock_file(paths, entry)?;
    f.lock()?;
    Ok(EntryLock(f))
}

/// A temp dir inside the store (same filesystem, so the final rename is
/// atomic). Dropped unrenamed, it is removed.
pub fn temp_dir(paths: &Paths) -> std::io::Result<tempfile::TempDir> {
    fs::create_dir_all(paths.store())?;
    tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(paths.store())
}

/// Writes the marker into `tmp` and renames it to the entry. Call with the
/// entry's lock held. A leftover entry without a marker is replaced.
pub fn commit(
    paths: &Paths,
    entry: &str,
    tmp: tempfile::TempDir,
    info: &EntryInfo,
) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(info).map_err(std::io::Error::other)?;
    fs::write(tmp.path().join(MARKER), bytes)?;
    let dest = entry_dir(paths, entry);
    if dest.exists() {
        fs::remove_dir_all(&dest)?;
    }
    let tmp = tmp.keep();
    if let Err(e) = fs::rename(&tmp, &dest) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok(())
}

/// A project that installed tools, so `gc` knows what is in use.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ProjectRecord {
    pub root: PathBuf,
    pub entries: BTreeSet<String>,
}

fn record_path(paths: &Paths, root: &Path) -> PathBuf {
    let key = crate::util::sha256_hex(root.to_string_lossy().as_bytes());
    paths.projects().join(format!("{}.json", &key[..16]))
}

pub fn record_project(paths: &Paths, entries: BTreeSet<String>) -> std::io::Result<()> {
    let path = record_path(paths, &paths.root);
    let rec = ProjectRecord {
        root: paths.root.clone(),
        entries,
    };
    let old: Option<ProjectRecord> = fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if old.is_some_and(|o| o.entries == rec.entries && o.root == rec.root) {
        return Ok(());
    }
    crate::state::write_json(&path, &rec)
}

#[derive(Debug, Default, Serialize)]
pub struct GcReport {
    /// Store entries removed.
    pub removed: Vec<String>,
    /// Store entries kept because a project uses them.
    pub kept: Vec<String>,
    /// Records of projects whose directory is gone, forgotten.
    pub forgotten_projects: Vec<PathBuf>,
    /// Unfinished downloads (`.part-*`) a killed `up` left in the cache.
    pub parts_removed: usize,
    pub freed_bytes: u64,
}

/// Removes the `.part-*` downloads no running devenv holds (a download
/// locks its part file while it runs; the kernel drops the lock when the
/// process dies, however it dies).
fn remove_dead_parts(dir: &Path, report: &mut GcReport) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        if !e.file_name().to_string_lossy().starts_with(".part-") {
            continue;
        }
        let Ok(f) = fs::OpenOptions::new().write(true).open(e.path()) else {
            continue;
        };
        if f.try_lock().is_ok() {
            report.freed_bytes += f.metadata().map_or(0, |m| m.len());
            if fs::remove_file(e.path()).is_ok() {
                report.parts_removed += 1;
            }
        }
    }
}

/// Removes store entries (and their cached downloads) no known project uses.
/// A project whose directory is gone is forgotten first. Entries being
/// installed right now are locked and skipped.
pub fn gc(paths: &Paths) -> std::io::Result<GcReport> {
    let mut report = GcReport::default();
    remove_dead_parts(&paths.cache().join("archives"), &mut report);
    let mut used = BTreeSet::new();
    if let Ok(rd) = fs::read_dir(paths.projects()) {
        for e in rd.flatten() {
            let p = e.path();
            let rec: Option<ProjectRecord> = fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            match rec {
                Some(r)
                    if r.root.join(".devenv").is_dir() || r.root.join("devenv.toml").is_file() =>
                {
                    used.extend(r.entries)
                }
                Some(r) => {
                    let _ = fs::remove_file(&p);
                    report.forgotten_projects.push(r.root);
                }
                None => {
                    let _ = fs::remove_file(&p);
                }
            }
        }
    }
    let Ok(rd) = fs::read_dir(paths.store()) else {
        return Ok(report);
    };
    let mut names: Vec<String> = rd
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        if used.contains(&name) {
            report.kept.push(name);
            continue;
        }
        let Ok(_lock) = try_lock_entry(paths, &name) else {
            report.kept.push(name);
            continue;
        };
        let info = read_info(paths, &name);
        let dir = entry_dir(paths, &name);
        report.freed_bytes += dir_size(&dir);
        fs::remove_dir_all(&dir)?;
        if let Some(sum) = info.and_then(|i| i.sha256) {
            let cached = paths.cache().join("archives").join(&sum);
            if let Ok(m) = fs::metadata(&cached) {
                report.freed_bytes += m.len();
                let _ = fs::remove_file(cached);
            }
        }
        let _ = fs::remove_file(paths.store().join(".locks").join(format!("{name}.lock")));
        report.removed.push(name);
    }
    // Temp dirs left by a killed install; a young one may be in use.
    if let Ok(rd) = fs::read_dir(paths.store()) {
        for e in rd.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if old && e.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(report)
}

fn try_lock_entry(paths: &Paths, entry: &str) -> std::io::Result<EntryLock> {
    let f = lock_file(paths, entry)?;
    f.try_lock().map_err(std::io::Error::other)?;
    Ok(EntryLock(f))
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}
