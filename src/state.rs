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
///
/// A port not kept yet is picked the same way by every command: the first
/// free one of a sequence seeded by the clone and the key. So `status`
/// before the first `up` shows the port `up` will use, without writing.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PortBook {
    pub ports: BTreeMap<String, u16>,
    /// The clone's root: the seed of its picks.
    #[serde(skip)]
    seed: String,
}

/// Picks come from below Linux's ephemeral range (32768-60999), where the
/// kernel hands out ports for outgoing connections at random.
const PICK_FROM: u16 = 20000;
const PICK_SPAN: u16 = 12768;

impl PortBook {
    pub const FILE: &'static str = "ports.json";

    pub fn load(paths: &Paths) -> PortBook {
        let mut book: PortBook = read_json(&paths.state_file(Self::FILE));
        book.seed = paths.root.display().to_string();
        book
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
        for attempt in 0..64 {
            let port = candidate(&self.seed, key, attempt);
            if taken.contains(&port) || kept.contains(&port) {
                continue;
            }
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                self.ports.insert(key.to_string(), port);
                return Ok(port);
            }
        }
        Err(std::io::Error::other("no free port found"))
    }
}

/// The `attempt`th port of the sequence for `key` in the clone `seed`.
fn candidate(seed: &str, key: &str, attempt: u32) -> u16 {
    let hex = crate::util::sha256_hex(format!("{seed}\0{key}\0{attempt}").as_bytes());
    let n = u16::from_str_radix(&hex[..4], 16).unwrap_or(0);
    PICK_FROM + n % PICK_SPAN
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

    /// `status` before the first `up` showed a new random port on each
    /// call, and `up` then used yet another.
    #[test]
    fn an_auto_port_not_kept_yet_is_the_same_from_every_look() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let look = || {
            PortBook::load(&paths)
                .get_or_pick("db/5432/tcp", &[])
                .unwrap()
        };
        let first = look();
        assert_eq!(look(), first);
        assert!((PICK_FROM..PICK_FROM + PICK_SPAN).contains(&first));
        // Held by something else: the next of the same sequence, every time.
        let _holder = TcpListener::bind(("127.0.0.1", first)).unwrap();
        let second = look();
        assert_ne!(second, first);
        assert_eq!(look(), second);
        // Another clone has its own sequence.
        let seq = |seed: &str| {
            (0..8)
                .map(|i| candidate(seed, "db/5432/tcp", i))
                .collect::<Vec<_>>()
        };
        assert_ne!(seq("/work/a"), seq("/work/b"));
    }
}
