//! Finding and connecting to the user's container engine.
//!
//! Tried in the order docker's own CLI uses: `DOCKER_HOST`, then the current
//! docker context, then the usual sockets of Docker Engine, Docker Desktop,
//! Colima, Rancher Desktop, OrbStack and rootful/rootless Podman. The API
//! version is negotiated, since engines in the field range from 20.10 up.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::{ClientVersion, Docker};

/// Where to look; resolved from the process environment by `settings`.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// `DOCKER_CONTEXT`, overriding the config file's current context.
    pub docker_context: Option<String>,
    /// `DOCKER_CONFIG` or `~/.docker`.
    pub docker_config_dir: Option<PathBuf>,
    /// The user's home, for Desktop/Colima/Podman sockets.
    pub home: Option<PathBuf>,
    /// `XDG_RUNTIME_DIR`, for rootless engines.
    pub runtime_dir: Option<PathBuf>,
    /// `DEVENV_HOME/locks`: where the per-project network lock lives
    /// (see `network::ensure`). None: no lock (tests of addresses only).
    pub lock_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no container engine answered{}", tried_list(.tried))]
    Unreachable { tried: Vec<(String, String)> },
}

fn tried_list(tried: &[(String, String)]) -> String {
    let mut s = String::from("; tried:");
    for (addr, why) in tried {
        s.push_str(&format!("\n  - {addr}: {why}"));
    }
    s
}

impl EngineError {
    pub fn hint(&self) -> &'static str {
        "start Docker (Docker Desktop, `colima start`, `sudo systemctl start docker`, or `sudo dockerd &`), or set DOCKER_HOST to the engine's address"
    }
}

/// An engine that answered, and where it was found.
#[derive(Clone)]
pub struct Engine {
    pub docker: Docker,
    pub address: String,
    /// From `EngineConfig::lock_dir`.
    pub lock_dir: Option<PathBuf>,
}

const TIMEOUT_SECS: u64 = 120;

/// The addresses to try, most specific first.
pub fn candidates(cfg: &EngineConfig) -> Vec<String> {
    if let Some(h) = &cfg.docker_host {
        // An explicit DOCKER_HOST is the user's choice: no fallbacks.
        return vec![h.clone()];
    }
    let mut out = Vec::new();
    if let Some(host) = context_host(cfg) {
        out.push(host);
    }
    let mut sock = |p: PathBuf| out.push(format!("unix://{}", p.display()));
    sock(PathBuf::from("/var/run/docker.sock"));
    if let Some(h) = &cfg.home {
        sock(h.join(".docker/run/docker.sock"));
        sock(h.join(".colima/default/docker.sock"));
        sock(h.join(".colima/docker.sock"));
        sock(h.join(".rd/docker.sock"));
        sock(h.join(".orbstack/run/docker.sock"));
    }
    if let Some(r) = &cfg.runtime_dir {
        sock(r.join("docker.sock"));
        sock(r.join("podman/podman.sock"));
    }
    sock(PathBuf::from("/run/podman/podman.sock"));
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|a| seen.insert(a.clone()));
    out
}

/// The Docker host of the current context, from the CLI's own files.
fn context_host(cfg: &EngineConfig) -> Option<String> {
    let dir = cfg.docker_config_dir.as_ref()?;
    let name = match &cfg.docker_context {
        Some(n) => n.clone(),
        None => {
            let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            v.get("currentContext")?.as_str()?.to_string()
        }
    };
    if name == "default" {
        return None;
    }
    let id = crate::util::sha256_hex(name.as_bytes());
    let meta =
        std::fs::read_to_string(dir.join("contexts/meta").join(id).join("meta.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&meta).ok()?;
    Some(v.pointer("/Endpoints/docker/Host")?.as_str()?.to_string())
}

fn open(address: &str, version: &ClientVersion) -> Result<Docker, String> {
    if let Some(path) = address.strip_prefix("unix://") {
        if !Path::new(path).exists() {
            return Err("no socket there".into());
        }
        Docker::connect_with_unix(path, TIMEOUT_SECS, version).map_err(|e| e.to_string())
    } else if address.starts_with("tcp://") || address.starts_with("http://") {
        Docker::connect_with_http(address, TIMEOUT_SECS, version).map_err(|e| e.to_string())
    } else if address.starts_with("ssh://") {
        Err("ssh:// engines are not supported; forward the socket and use unix:// or tcp://".into())
    } else {
        Err("unknown scheme; use unix:// or tcp://".into())
    }
}

/// Connects to the first engine that answers, speaking the API version it
/// speaks (bollard's own version at most).
///
/// Engines on a socket or plain TCP are asked `/_ping`, whose `Api-Version`
/// header says the version in one cheap round trip; bollard's negotiation
/// asks `/version`, for which the daemon runs `runc --version` and which
/// cost a no-op `up` most of its time. Others negotiate through bollard.
pub async fn connect(cfg: &EngineConfig) -> Result<Engine, EngineError> {
    let mut tried = Vec::new();
    for address in candidates(cfg) {
        match tokio::time::timeout(Duration::from_secs(3), answer(&address)).await {
            Ok(Ok(docker)) => {
                return Ok(Engine {
                    docker,
                    address,
                    lock_dir: cfg.lock_dir.clone(),
                })
            }
            Ok(Err(why)) => tried.push((address, why)),
            Err(_) => tried.push((address, "no answer within 3 s".into())),
        }
    }
    Err(EngineError::Unreachable { tried })
}

/// A client for the engine at `address`, once it has answered.
async fn answer(address: &str) -> Result<Docker, String> {
    let newest = bollard::API_DEFAULT_VERSION;
    if let Some(socket) = super::socket::Socket::of(address) {
        let path = address.strip_prefix("unix://").map(Path::new);
        if path.is_some_and(|p| !p.exists()) {
            return Err("no socket there".into());
        }
        let (major, minor) = super::socket::ping(&socket).await?;
        let version = if (major, minor) < (newest.major_version, newest.minor_version) {
            ClientVersion {
                major_version: major,
                minor_version: minor,
            }
        } else {
            *newest
        };
        return open(address, &version);
    }
    // `/version` both proves the engine answers and negotiates.
    let docker = open(address, newest)?;
    docker.negotiate_version().await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_wins_alone() {
        let cfg = EngineConfig {
            docker_host: Some("tcp://10.0.0.1:2375".into()),
            home: Some("/home/u".into()),
            ..Default::default()
        };
        assert_eq!(candidates(&cfg), ["tcp://10.0.0.1:2375"]);
    }

    #[test]
    fn the_current_context_comes_before_sockets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"colima"}"#,
        )
        .unwrap();
        let id = crate::util::sha256_hex(b"colima");
        let meta = dir.path().join("contexts/meta").join(id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"colima","Endpoints":{"docker":{"Host":"unix:///x/colima.sock"}}}"#,
        )
        .unwrap();
        let cfg = EngineConfig {
            docker_config_dir: Some(dir.path().to_path_buf()),
            home: Some("/home/u".into()),
            ..Default::default()
        };
        let c = candidates(&cfg);
        assert_eq!(c[0], "unix:///x/colima.sock");
        assert!(c.contains(&"unix:///var/run/docker.sock".to_string()));
        assert!(c.contains(&"unix:///home/u/.docker/run/docker.sock".to_string()));
    }
}
