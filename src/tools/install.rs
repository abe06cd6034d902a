//! The `up` phase: make exactly the pinned tools available in `.devenv/bin`.
//!
//! Order: check the lockfile (`--frozen`), take the no-op path for every
//! tool whose install record, store marker and links are current, resolve
//! every remaining artifact and its sum (all before any download), then
//! download and unpack in parallel, and finally swap the links.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use futures_util::StreamExt;

use crate::manifest::{Manifest, Tool, ToolSource};
use crate::paths::Paths;
use crate::progress::{Event, Level, Reporter};

use super::activate::{link_bins_current, sync_bin_dir, InstalledTool, ToolState};
use super::archive::{self, ArchiveError};
use super::download::Http;
use super::index;
use super::lockfile::Lockfile;
use super::locking::{cached_sum, remember_sum, upstream_sum, SumDocs};
use super::spec::{self, fingerprint, Artifact};
use super::store::{self, EntryInfo};
use super::{Settings, ToolsError};

struct Job<'a> {
    tool: &'a Tool,
    art: Artifact,
    key: String,
    entry: String,
}

pub async fn install(
    manifest: &Manifest,
    paths: &Paths,
    reporter: &dyn Reporter,
    settings: &Settings,
) -> Result<(), ToolsError> {
    // An unreadable lock is bad input (exit 2), like a broken devenv.toml.
    let lock = Lockfile::read(&paths.root).map_err(|e| ToolsError::Frozen(format!("{e:#}")))?;
    if settings.frozen {
        match &lock {
            None => {
                return Err(ToolsError::Frozen(format!(
                    "--frozen: {} is missing",
                    super::LOCKFILE
                )))
            }
            Some(l) => {
                let reasons = l.stale_reasons(manifest);
                if !reasons.is_empty() {
                    return Err(ToolsError::Frozen(format!(
                        "--frozen: {} does not match devenv.toml: {}",
                        super::LOCKFILE,
                        reasons.join("; ")
                    )));
                }
            }
        }
    }
    let p = settings.platform;
    let state = ToolState::load(paths);
    let mut done: BTreeMap<String, InstalledTool> = BTreeMap::new();
    let mut todo: Vec<(&Tool, Option<super::lockfile::LockedArtifact>, String)> = Vec::new();
    for tool in &manifest.tools {
        let locked = lock
            .as_ref()
            .and_then(|l| l.fresh(tool))
            .and_then(|l| l.platforms.get(&p.key()))
            .cloned();
        if lock.as_ref().is_some_and(|l| l.fresh(tool).is_none()) {
            reporter.message(
                Level::Warn,
                &format!(
                    "devenv.lock is out of date for `{}`; run `devenv lock`",
                    tool.name
                ),
            );
        }
        let key = format!(
            "{}:{}",
            fingerprint(tool),
            locked
                .as_ref()
                .and_then(|a| a.sha256.as_deref())
                .unwrap_or("-")
        );
        match state.tools.get(&tool.name) {
            Some(rec)
                if rec.key == key
                    && store::is_installed(paths, &rec.entry)
                    && link_bins_current(paths, rec) =>
            {
                reporter.event(&Event::Tool {
                    name: tool.name.clone(),
                    version: tool.version.clone(),
                    downloaded: false,
                    bytes: 0,
                    seconds: 0.0,
                });
                done.insert(tool.name.clone(), rec.clone());
            }
            _ => todo.push((tool, locked, key)),
        }
    }
    if todo.is_empty() && state.tools.len() == done.len() {
        return Ok(());
    }

    let http = Http::new(settings.timeout, settings.attempts)?;
    let docs = SumDocs::default();
    let mut jobs = Vec::new();
    for (tool, locked, key) in todo {
        let art = resolve_sum(tool, locked, paths, settings, (&http, &docs)).await?;
        let id = art
            .sha256
            .clone()
            .unwrap_or_else(|| format!("u{}", crate::util::sha256_hex(art.url.as_bytes())));
        jobs.push(Job {
            entry: store::entry_name(&tool.name, &tool.version, &id),
            tool,
            art,
            key,
        });
    }

    // Claim the entries for this project before using them, so a `gc`
    // running meanwhile keeps them.
    let claimed: BTreeSet<String> = done
        .values()
        .map(|t| t.entry.clone())
        .chain(jobs.iter().map(|j| j.entry.clone()))
        .collect();
    store::record_project(paths, claimed)
        .map_err(|e| anyhow::anyhow!("cannot record this project for gc: {e}"))?;

    let results: Vec<Result<(String, InstalledTool), ToolsError>> =
        futures_util::stream::iter(jobs)
            .map(|job| {
                let http = &http;
                async move { install_one(job, paths, reporter, settings, http).await }
            })
            .buffer_unordered(settings.jobs.max(1))
            .collect()
            .await;
    let mut first_err = None;
    for r in results {
        match r {
            Ok((name, t)) => {
                done.insert(name, t);
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    // Links and state reflect what is installed, even when one tool failed,
    // so the next run only repeats the failure.
    let mut links = BTreeMap::new();
    for t in done.values() {
        let dir = store::entry_dir(paths, &t.entry);
        for (b, target) in t.bins.iter().zip(&t.targets) {
            links.insert(b.clone(), dir.join(target));
        }
    }
    paths
        .ensure_state_dir()
        .map_err(|e| anyhow::anyhow!("cannot create .devenv: {e}"))?;
    sync_bin_dir(paths, &links).map_err(|e| anyhow::anyhow!("cannot link .devenv/bin: {e}"))?;
    let entries: BTreeSet<String> = done.values().map(|t| t.entry.clone()).collect();
    ToolState { tools: done }
        .save(paths)
        .map_err(|e| anyhow::anyhow!("cannot save tool state: {e}"))?;
    store::record_project(paths, entries)
        .map_err(|e| anyhow::anyhow!("cannot record this project for gc: {e}"))?;
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The artifact with its sum: from devenv.lock, devenv.toml, the sums cache
/// or upstream's checksum document, in that order.
async fn resolve_sum(
    tool: &Tool,
    locked: Option<super::lockfile::LockedArtifact>,
    paths: &Paths,
    settings: &Settings,
    (http, docs): (&Http, &SumDocs),
) -> Result<Artifact, ToolsError> {
    let p = settings.platform;
    let mirror = settings.mirror.as_deref();
    let mut art = spec::resolve(tool, p, mirror)?;
    if let Some(l) = locked {
        art.fetch_url = match tool.source {
            ToolSource::Index => index::through_mirror(&l.url, mirror),
            ToolSource::Url(_) => l.url.clone(),
        };
        art.url = l.url;
        art.sha256 = l.sha256;
        art.size = l.size;
    }
    if art.sha256.is_none() && tool.source == ToolSource::Index {
        art.sha256 = cached_sum(paths, &art.url);
        if art.sha256.is_none() {
            if settings.offline {
                return Err(ToolsError::Offline {
                    tool: tool.name.clone(),
                    version: tool.version.clone(),
                });
            }
            art.sha256 = upstream_sum(http, docs, &art, p, mirror).await?;
            if let Some(s) = &art.sha256 {
                remember_sum(paths, &art.url, s);
            }
        }
    }
    if art.sha256.is_none() && !tool.allow_unverified {
        return Err(ToolsError::NoChecksum {
            tool: tool.name.clone(),
            platform: p.key(),
        });
    }
    Ok(art)
}

async fn install_one(
    job: Job<'_>,
    paths: &Paths,
    reporter: &dyn Reporter,
    settings: &Settings,
    http: &Http,
) -> Result<(String, InstalledTool), ToolsError> {
    let started = Instant::now();
    let Job {
        tool,
        art,
        key,
        entry,
    } = job;
    let other = |e: std::io::Error| ToolsError::Other(anyhow::anyhow!("tool `{}`: {e}", tool.name));
    let mut bytes = 0;
    if !store::is_installed(paths, &entry) {
        let (p2, e2) = (paths.clone(), entry.clone());
        let _lock = tokio::task::spawn_blocking(move || store::lock_entry(&p2, &e2))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .map_err(other)?;
        // Another process may have installed it while we waited.
        if !store::is_installed(paths, &entry) {
            let archive = fetch(&art, paths, reporter, settings, http, &mut bytes).await?;
            unpack_into_store(&art, &archive, &entry, paths).await?;
        }
    }
    let info = store::read_info(paths, &entry).unwrap_or_default();
    let names: Vec<String> = info
        .bins
        .iter()
        .map(|b| {
            Path::new(b)
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| b.clone())
        })
        .collect();
    reporter.event(&Event::Tool {
        name: tool.name.clone(),
        version: tool.version.clone(),
        downloaded: bytes > 0,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    });
    if bytes == 0 {
        reporter.message(
            Level::Detail,
            &format!("{} {} (already in the store)", tool.name, tool.version),
        );
    }
    Ok((
        tool.name.clone(),
        InstalledTool {
            version: tool.version.clone(),
            key,
            entry,
            bins: names,
            targets: info.bins,
        },
    ))
}

/// The verified archive in the download cache, downloading it if needed.
async fn fetch(
    art: &Artifact,
    paths: &Paths,
    reporter: &dyn Reporter,
    settings: &Settings,
    http: &Http,
    bytes: &mut u64,
) -> Result<PathBuf, ToolsError> {
    let dir = paths.cache().join("archives");
    std::fs::create_dir_all(&dir).map_err(anyhow::Error::from)?;
    let name = art
        .sha256
        .clone()
        .unwrap_or_else(|| format!("u{}", crate::util::sha256_hex(art.url.as_bytes())));
    let path = dir.join(&name);
    if path.is_file() {
        match &art.sha256 {
            None => return Ok(path),
            Some(want) => {
                let p2 = path.clone();
                let got = tokio::task::spawn_blocking(move || hash_file(&p2))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if got.as_deref().ok() == Some(want.as_str()) {
                    return Ok(path);
                }
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    if settings.offline {
        return Err(ToolsError::Offline {
            tool: art.tool.clone(),
            version: art.version.clone(),
        });
    }
    let part = tempfile::Builder::new()
        .prefix(".part-")
        .tempfile_in(&dir)
        .map_err(anyhow::Error::from)?;
    // Held while the download runs, so `gc` can tell a live download from
    // one a killed `up` left behind (which it removes).
    let _ = part.as_file().try_lock();
    let task = reporter.task(&format!("{} {}", art.tool, art.version), art.size);
    let got = match http.download(&art.fetch_url, part.path(), &*task).await {
        Ok(g) => g,
        Err(e) => {
            task.finish(false, "download failed");
            return Err(ToolsError::Download {
                tool: art.tool.clone(),
                message: format!("download failed: {e}"),
            });
        }
    };
    if let Some(want) = &art.sha256 {
        if &got.sha256 != want {
            task.finish(false, "checksum mismatch");
            return Err(ToolsError::Checksum {
                tool: art.tool.clone(),
                url: art.fetch_url.clone(),
                expected: want.clone(),
                actual: got.sha256,
            });
        }
    }
    part.persist(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    task.finish(true, &format!("{} downloaded", human(got.bytes)));
    *bytes = got.bytes;
    Ok(path)
}

async fn unpack_into_store(
    art: &Artifact,
    archive: &Path,
    entry: &str,
    paths: &Paths,
) -> Result<(), ToolsError> {
    let (art2, archive2, entry2, paths2) = (
        art.clone(),
        archive.to_path_buf(),
        entry.to_string(),
        paths.clone(),
    );
    let r = tokio::task::spawn_blocking(move || -> Result<(), ToolsError> {
        let tmp = store::temp_dir(&paths2).map_err(anyhow::Error::from)?;
        match archive::unpack(&art2, &archive2, tmp.path()) {
            Ok(()) => {}
            // The download is what devenv.toml pinned: keep it for when the limit is raised.
            Err(ArchiveError::Limit(x)) => {
                return Err(ToolsError::UnpackLimit {
                    tool: art2.tool.clone(),
                    url: art2.fetch_url.clone(),
                    exceeded: x,
                })
            }
            Err(ArchiveError::Unsafe { entry, reason }) => {
                // The archive is dangerous: keep none of it, not even the download.
                let _ = std::fs::remove_file(&archive2);
                return Err(ToolsError::UnsafeArchive {
                    tool: art2.tool.clone(),
                    url: art2.fetch_url.clone(),
                    reason: format!("entry `{entry}` {reason}"),
                });
            }
            Err(e) => {
                let _ = std::fs::remove_file(&archive2);
                return Err(ToolsError::Download {
                    tool: art2.tool.clone(),
                    message: format!("cannot unpack {}: {e}", art2.fetch_url),
                });
            }
        }
        let bins = super::bins::find_bins(&art2, tmp.path())?;
        let info = EntryInfo {
            tool: art2.tool.clone(),
            version: art2.version.clone(),
            url: art2.url.clone(),
            sha256: art2.sha256.clone(),
            bins,
        };
        store::commit(&paths2, &entry2, tmp, &info).map_err(anyhow::Error::from)?;
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    r
}

fn hash_file(p: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(p)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::UrlTool;
    use crate::progress::Recorder;

    fn manifest(root: &Path, tools: Vec<Tool>) -> Manifest {
        let text = "[project]\nname = \"unit\"\n";
        std::fs::write(root.join("devenv.toml"), text).unwrap();
        let mut m = crate::manifest::load(&root.join("devenv.toml")).unwrap();
        m.tools = tools;
        m
    }

    #[test]
    fn events_report_downloads_then_cache_hits() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        let bin = dir.path().join("hello");
        std::fs::write(&bin, b"#!/bin/sh\necho hello\n").unwrap();
        let tool = Tool {
            name: "hello".into(),
            version: "1.0".into(),
            source: ToolSource::Url(UrlTool {
                url: format!("file://{}", bin.display()),
                bin: vec![],
                sha256: [(
                    "linux-x86_64".to_string(),
                    crate::util::sha256_hex(b"#!/bin/sh\necho hello\n"),
                )]
                .into(),
                strip_components: 0,
                platforms: Default::default(),
            }),
            allow_unverified: false,
            unpack: Default::default(),
        };
        let m = manifest(&root, vec![tool]);
        let paths = Paths::new(dir.path().join("home"), &root);
        let settings = Settings::new(super::super::Platform::parse("linux-x86_64").unwrap());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let rec = Recorder::default();
        rt.block_on(install(&m, &paths, &rec, &settings)).unwrap();
        rt.block_on(install(&m, &paths, &rec, &settings)).unwrap();
        let events = rec.events.lock().unwrap().clone();
        assert_eq!(events.len(), 2);
        match (&events[0], &events[1]) {
            (
                Event::Tool {
                    downloaded: true,
                    bytes: 21,
                    ..
                },
                Event::Tool {
                    downloaded: false,
                    bytes: 0,
                    ..
                },
            ) => {}
            other => panic!("{other:?}"),
        }
        let status = super::super::status(&m, &paths);
        assert!(status[0].installed);
        assert_eq!(status[0].path, Some(paths.bin_dir().join("hello")));
    }
}
