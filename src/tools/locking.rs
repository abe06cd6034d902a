//! Sums from upstream checksum documents, and `devenv lock`: every tool
//! resolved for every platform.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use tokio::sync::Mutex;

use crate::manifest::{Manifest, Tool, ToolSource};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};

use super::download::{FetchError, Http};
use super::index::{self, SumFormat};
use super::lockfile::{LockedArtifact, LockedTool, Lockfile};
use super::spec::{self, fingerprint, Artifact};
use super::{Platform, Settings, ToolsError};

/// Fetches each checksum document once per run.
#[derive(Default)]
pub struct SumDocs {
    docs: Mutex<HashMap<String, String>>,
}

impl SumDocs {
    async fn get(&self, http: &Http, url: &str) -> Result<String, FetchError> {
        if let Some(d) = self.docs.lock().await.get(url) {
            return Ok(d.clone());
        }
        let text = http.text(url).await?;
        self.docs.lock().await.insert(url.to_string(), text.clone());
        Ok(text)
    }
}

fn sums_cache(paths: &Paths, url: &str) -> std::path::PathBuf {
    let key = crate::util::sha256_hex(url.as_bytes());
    paths.cache().join("sums").join(&key[..32])
}

/// A sum learned from upstream before, kept so later runs (and other
/// projects) need no network to know it.
pub fn cached_sum(paths: &Paths, url: &str) -> Option<String> {
    let s = std::fs::read_to_string(sums_cache(paths, url)).ok()?;
    let s = s.trim();
    (s.len() == 64).then(|| s.to_string())
}

pub fn remember_sum(paths: &Paths, url: &str, sum: &str) {
    let _ = crate::state::write_atomic(&sums_cache(paths, url), sum.as_bytes());
}

/// The sum upstream publishes for an index tool's artifact. `Ok(None)` when
/// the tool has no checksum source or its document does not list the file.
pub async fn upstream_sum(
    http: &Http,
    docs: &SumDocs,
    art: &Artifact,
    p: Platform,
    mirror: Option<&str>,
) -> Result<Option<String>, ToolsError> {
    let Some(entry) = index::get(&art.tool) else {
        return Ok(None);
    };
    let Some((url, format)) = entry.checksum_url(&art.version, p) else {
        return Ok(None);
    };
    let fail = |e: FetchError| ToolsError::Download {
        tool: art.tool.clone(),
        message: format!("cannot fetch its checksums: {e}"),
    };
    let doc = docs
        .get(http, &index::through_mirror(&url, mirror))
        .await
        .map_err(fail)?;
    let order = if format == SumFormat::YqMulti {
        let order_url = url
            .rsplit_once('/')
            .map(|(d, _)| format!("{d}/checksums_hashes_order"));
        match order_url {
            Some(u) => Some(
                docs.get(http, &index::through_mirror(&u, mirror))
                    .await
                    .map_err(fail)?,
            ),
            None => None,
        }
    } else {
        None
    };
    Ok(index::find_sum(
        format,
        &doc,
        art.file_name(),
        order.as_deref(),
    ))
}

/// Resolves every tool for every platform and writes devenv.lock.
pub async fn lock(
    manifest: &Manifest,
    paths: &Paths,
    reporter: &dyn Reporter,
    settings: &Settings,
) -> Result<Lockfile, ToolsError> {
    let http = Http::new(settings.timeout, settings.attempts)?;
    let docs = SumDocs::default();
    let mut lock = Lockfile {
        version: 1,
        tools: BTreeMap::new(),
    };
    let jobs = manifest
        .tools
        .iter()
        .flat_map(|t| Platform::all().map(move |p| (t, p)));
    let results: Vec<_> = futures_util::stream::iter(jobs)
        .map(|(t, p)| {
            let (http, docs) = (&http, &docs);
            async move { (t, p, lock_one(http, docs, t, p, settings, paths).await) }
        })
        .buffer_unordered(settings.jobs.max(1))
        .collect()
        .await;
    for (t, p, r) in results {
        let entry = lock
            .tools
            .entry(t.name.clone())
            .or_insert_with(|| LockedTool {
                version: t.version.clone(),
                spec: fingerprint(t),
                platforms: BTreeMap::new(),
            });
        match r? {
            Some(a) => {
                entry.platforms.insert(p.key(), a);
            }
            None => reporter.message(
                Level::Warn,
                &format!(
                    "`{}` {}: no checksum for {}, so it is not locked for that platform",
                    t.name,
                    t.version,
                    p.key()
                ),
            ),
        }
    }
    for (name, t) in &lock.tools {
        if t.platforms.is_empty() {
            return Err(ToolsError::NoChecksum {
                tool: name.clone(),
                platform: "any platform".into(),
            });
        }
    }
    lock.write(&paths.root)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", super::LOCKFILE))?;
    Ok(lock)
}

use futures_util::StreamExt;

/// One tool on one platform: `Ok(None)` when there is no sum for it there
/// (that platform is left out of the lock, with a warning).
async fn lock_one(
    http: &Http,
    docs: &SumDocs,
    t: &Tool,
    p: Platform,
    settings: &Settings,
    paths: &Paths,
) -> Result<Option<LockedArtifact>, ToolsError> {
    let mirror = settings.mirror.as_deref();
    let art = spec::resolve(t, p, mirror)?;
    let mut sum = art.sha256.clone();
    if sum.is_none() && t.source == ToolSource::Index {
        sum = upstream_sum(http, docs, &art, p, mirror).await?;
        if let Some(s) = &sum {
            remember_sum(paths, &art.url, s);
        }
    }
    let fail = |e: FetchError| ToolsError::Download {
        tool: t.name.clone(),
        message: e.to_string(),
    };
    match sum {
        Some(s) => {
            let size = http.size(&art.fetch_url).await.map_err(fail)?;
            Ok(Some(LockedArtifact {
                url: art.url,
                sha256: Some(s),
                size,
            }))
        }
        None if t.allow_unverified => {
            // Opted in: pin what the URL serves today (trust on first use).
            let tmp = tempfile::NamedTempFile::new_in(ensure(&paths.cache())?)
                .map_err(anyhow::Error::from)?;
            let task = crate::progress::Silent;
            let got = http
                .download(
                    &art.fetch_url,
                    tmp.path(),
                    &*crate::progress::Reporter::task(&task, "", None),
                )
                .await
                .map_err(fail)?;
            Ok(Some(LockedArtifact {
                url: art.url,
                sha256: Some(got.sha256),
                size: Some(got.bytes),
            }))
        }
        None => Ok(None),
    }
}

fn ensure(dir: &Path) -> Result<&Path, ToolsError> {
    std::fs::create_dir_all(dir).map_err(anyhow::Error::from)?;
    Ok(dir)
}
