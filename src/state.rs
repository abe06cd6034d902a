//! Per-clone state shared between modules through `.devenv/state/`:
//! the host ports `auto` picked (stable across `up`s), and how to reach what
//! `up` started (for templates, `status`, hooks).
//!
//! Writes are atomic (temp file + rename) so an interrupted `up` never
//! leaves a torn file behind.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::paths::Paths;

/// Reads a JSON state file; a missing or unreadable file is the default.
pub fn read_json<T: DeserializeOwned + Default>(path: &Path) -> T {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Writes a JSON file atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    write_atomic(path, &bytes)
}

/// Writes `bytes` to `path` through a temp file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_mode(path, bytes, None)
}

/// Like `write_atomic`, with the file's permission bits set on the temp file
/// before it takes the final name, so a secret file is never readable by
/// others even for a moment. `None` leaves the temp file's 0600.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    write_atomic_inner(path, bytes, mode, true)
}

/// Like `write_atomic_mode` without waiting for the disk: still never torn
/// by a crash of the process, but not flushed before returning. For files
/// that are regenerated anyway (rendered config), where a hundred fsyncs
/// would cost more than the rendering.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    write_atomic_inner(path, bytes, mode, false)
}

fn write_atomic_inner(
    path: &Path,
    bytes: &[u8],
    mode: Option<u32>,
    sync: bool,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    if sync {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Host ports chosen for `auto:` specs, keyed like `"service/5432/tcp"` or
/// `"mock/payments"`. Kept so a service's port stays the same across `up`s.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PortBook {
    pub ports: BTreeMap<String, u16>,
}

impl PortBook {
    pub const FILE: &'static str = "ports.json";

    pub fn load(paths: &Paths) -> PortBook {
        read_json(&paths.state_file(Self::FILE))
    }

    pub fn save(&self, paths: &Paths) -> std::io::Result<()> {
        write_json(&paths.state_file(Self::FILE), self)
    }

    /// The port kept for `key`, or a newly picked free one (remembered).
    /// `taken` lists ports this run already assigned or saw in use.
    pub fn get_or_pick(&mut self, key: &str, taken: &[u16]) -> std::io::Result<u16> {
        if let Some(p) = self.ports.get(key) {
            return Ok(*p);
        }
        let kept: Vec<u16> = self.ports.values().copied().collect();
        for _ in 0..32 {
            let port = TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port();
            if !taken.contains(&port) && !kept.contains(&port) {
                self.ports.insert(key.to_string(), port);
                return Ok(port);
            }
        }
        Err(std::io::Error::other("no free port found"))
    }
}

/// How to reach what `up` started. Written by the services and mocks phases,
/// read by templates, `status`, `env` and hooks.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Connections {
    pub services: BTreeMap<String, ServiceEndpoint>,
    pub mocks: BTreeMap<String, MockEndpoint>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceEndpoint {
    /// Host to reach it from this machine (127.0.0.1 normally).
    pub host: String,
    /// The host port of its first published port, if any.
    pub port: Option<u16>,
    /// Container port (as text) -> host port.
    pub ports: BTreeMap<String, u16>,
    /// The stack's exports, rendered with the real host and ports.
    pub exports: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct MockEndpoint {
    pub host: String,
    pub port: u16,
    pub url: String,
}

impl Connections {
    pub const FILE: &'static str = "connections.json";

    pub fn load(paths: &Paths) -> Connections {
        read_json(&paths.state_file(Self::FILE))
    }

    pub fn save(&self, paths: &Paths) -> std::io::Result<()> {
        write_json(&paths.state_file(Self::FILE), self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_ports_are_kept_across_loads() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let mut book = PortBook::load(&paths);
        let p = book.get_or_pick("db/5432/tcp", &[]).unwrap();
        book.save(&paths).unwrap();
        let mut again = PortBook::load(&paths);
        assert_eq!(again.get_or_pick("db/5432/tcp", &[]).unwrap(), p);
        assert_ne!(again.get_or_pick("cache/6379/tcp", &[]).unwrap(), p);
    }
}
