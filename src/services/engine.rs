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
    /// `DEVENV_HOME/ssh`: the masters of `ssh://` engines (see `ssh`).
    /// None: ssh:// engines are refused.
    pub ssh_dir: Option<PathBuf>,
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
    /// An engine on another machine (`ssh://`): the master connection its
    /// socket, published ports and mocks are forwarded through.
    pub remote: Option<super::ssh::Tunnel>,
    /// Remote host port -> the port that leads to it here (`crate::forward`
    /// fills it in before services start; unset ports are the same here).
    pub ports_here: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<u16, u16>>>,
}

impl Engine {
    /// The socket `/_ping` and BuildKit speak to directly, when there is one.
    pub fn socket(&self) -> Option<super::socket::Socket> {
        match &self.remote {
            Some(t) => Some(super::socket::Socket::Unix(t.socket.clone())),
            None => super::socket::Socket::of(&self.address),
        }
    }

    /// Where remote host port `port` is reached from this machine.
    pub fn port_here(&self, port: u16) -> u16 {
        let map = self.ports_here.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&port).copied().unwrap_or(port)
    }
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
        if address.starts_with("ssh://") {
            match remote(&address, cfg).await {
                Ok(engine) => return Ok(engine),
                Err(why) => tried.push((address, why)),
            }
            continue;
        }
        match tokio::time::timeout(Duration::from_secs(3), answer(&address)).await {
            Ok(Ok(docker)) => {
                return Ok(Engine {
                    docker,
                    address,
                    lock_dir: cfg.lock_dir.clone(),
                    remote: None,
                    ports_here: Default::default(),
                })
            }
            Ok(Err(why)) => tried.push((address, why)),
            Err(_) => tried.push((address, "no answer within 3 s".into())),
        }
    }
    Err(EngineError::Unreachable { tried })
}

/// An engine over SSH: its socket forwarded here (see `ssh`), then spoken
/// to like a local one. With the master alive and its engine's version
/// known, nothing is sent here: the first real request is the first
/// round trip.
async fn remote(address: &str, cfg: &EngineConfig) -> Result<Engine, String> {
    let dir = cfg
        .ssh_dir
        .as_ref()
        .ok_or("ssh:// engines need DEVENV_HOME")?;
    let tunnel = super::ssh::open(address, dir).await?;
    let version = match tunnel.api_version() {
        Some(v) => v,
        None => tokio::time::timeout(Duration::from_secs(10), tunnel.ping())
            .await
            .map_err(|_| "no answer through ssh within 10 s".to_string())??,
    };
    let local = format!("unix://{}", tunnel.socket.display());
    let docker = open(&local, &spoken(version))?;
    Ok(Engine {
        docker,
        address: address.to_string(),
        lock_dir: cfg.lock_dir.clone(),
        remote: Some(tunnel),
        ports_here: Default::default(),
    })
}

/// The version to speak to an engine that answered `(major, minor)`:
/// its own, or bollard's newest.
fn spoken((major, minor): (usize, usize)) -> ClientVersion {
    let newest = bollard::API_DEFAULT_VERSION;
    if (major, minor) < (newest.major_version, newest.minor_version) {
        ClientVersion {
            major_version: major,
            minor_version: minor,
        }
    } else {
        *newest
    }
}

/// A client for the engine at `address`, once it has answered.
async fn answer(address: &str) -> Result<Docker, String> {
    let newest = bollard::API_DEFAULT_VERSION;
    if let Some(socket) = super::socket::Socket::of(address) {
        let path = address.strip_prefix("unix://").map(Path::new);
        if path.is_some_and(|p| !p.exists()) {
            return Err("no socket there".into());
        }
        let version = spoken(super::socket::ping(&socket).await?);
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
