//! Finding and connecting to the user's container engine.
//!
//! Chosen as docker's own CLI chooses: `DOCKER_HOST` (with TLS from
//! `DOCKER_TLS_VERIFY`/`DOCKER_TLS`/`DOCKER_CERT_PATH`, see `tls.rs`), else
//! the docker context named by `DOCKER_CONTEXT` or the config file (see
//! `context.rs`); either is the user's choice and has no fallback. Only
//! without both are the usual sockets tried: Docker Engine, Docker Desktop,
//! Colima, Rancher Desktop, OrbStack and rootful/rootless Podman. The API
//! version is negotiated, since engines in the field range from 20.10 up.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::{ClientVersion, Docker};

use super::context::{self, ContextError};
use super::socket::Socket;
use super::tls::{self, TlsError, TlsMaterial};

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
    /// `DOCKER_TLS_VERIFY` set (to anything, as in the docker CLI): TLS to
    /// a `tcp://` `DOCKER_HOST`, verifying the engine against `ca.pem`.
    pub tls_verify: bool,
    /// `DOCKER_TLS` set: TLS without verifying the engine.
    pub tls: bool,
    /// `DOCKER_CERT_PATH`, else the docker config directory.
    pub cert_path: Option<PathBuf>,
    /// `DEVENV_HOME/ssh`: the masters of `ssh://` engines (see `ssh`).
    /// None: ssh:// engines are refused.
    pub ssh_dir: Option<PathBuf>,
    /// `DEVENV_HOME/engines.json`: the API versions of engines on local
    /// sockets (see `engine_cache`). None: always ask.
    pub version_cache: Option<PathBuf>,
}

/// One address to try, with how to speak to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub address: String,
    /// TLS for a `tcp://` engine.
    pub tls: Option<TlsMaterial>,
    /// The docker context that named it.
    pub context: Option<String>,
}

impl Candidate {
    fn plain(address: String) -> Candidate {
        Candidate {
            address,
            tls: None,
            context: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no container engine answered{}", tried_list(.tried))]
    Unreachable { tried: Vec<(String, String)> },
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("{address}: {source}")]
    Tls { address: String, source: TlsError },
    /// The TLS handshake failed: a certificate the engine or we refused.
    #[error("the engine at {address} refused TLS: {why}; used {files}")]
    TlsRefused {
        address: String,
        why: String,
        files: String,
    },
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
        match self {
            EngineError::Unreachable { .. } => "start Docker (Docker Desktop, `colima start`, `sudo systemctl start docker`, or `sudo dockerd &`), or set DOCKER_HOST to the engine's address",
            EngineError::Context(e) => e.hint(),
            EngineError::Tls { source, .. } => source.hint(),
            EngineError::TlsRefused { .. } => "the engine's certificate must be signed by ca.pem, and cert.pem by a CA the engine trusts: check DOCKER_CERT_PATH (default ~/.docker) or the context's TLS files",
        }
    }
}

/// How devenv speaks to the engine, for `doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A unix socket on this machine.
    Socket,
    /// Plain HTTP over TCP.
    Tcp,
    /// TLS over TCP; `verify` false when any certificate is accepted.
    TcpTls { verify: bool },
    /// `ssh://`: the engine's socket forwarded over one SSH connection.
    Ssh,
    /// Another scheme, which bollard speaks itself.
    Other,
}

impl Via {
    pub fn describe(&self) -> &'static str {
        match self {
            Via::Socket => "local socket",
            Via::Tcp => "tcp, unencrypted",
            Via::TcpTls { verify: true } => "tcp with TLS, verified",
            Via::TcpTls { verify: false } => "tcp with TLS, not verified",
            Via::Ssh => "ssh, socket forwarded",
            Via::Other => "remote",
        }
    }
}

/// An engine that answered, and where it was found.
#[derive(Clone)]
pub struct Engine {
    pub docker: Docker,
    pub address: String,
    /// From `EngineConfig::lock_dir`.
    pub lock_dir: Option<PathBuf>,
    /// Where `socket.rs` reaches the engine itself (`/_ping`, BuildKit);
    /// None where only bollard can. For an `ssh://` engine, the socket
    /// forwarded here.
    pub socket: Option<Socket>,
    pub via: Via,
    /// The docker context that named the engine.
    pub context: Option<String>,
    /// An engine on another machine (`ssh://`): the master connection its
    /// socket, published ports and mocks are forwarded through.
    pub remote: Option<super::ssh::Tunnel>,
    /// Remote host port -> the port that leads to it here (`crate::forward`
    /// fills it in before services start; unset ports are the same here).
    pub ports_here: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<u16, u16>>>,
}

impl Engine {
    /// Where remote host port `port` is reached from this machine.
    pub fn port_here(&self, port: u16) -> u16 {
        let map = self.ports_here.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&port).copied().unwrap_or(port)
    }
}

const TIMEOUT_SECS: u64 = 120;

/// The addresses to try, most specific first. A context that is named
/// but missing or unreadable is an error.
pub fn candidates(cfg: &EngineConfig) -> Result<Vec<Candidate>, EngineError> {
    if let Some(h) = &cfg.docker_host {
        // An explicit DOCKER_HOST is the user's choice: no fallbacks.
        return Ok(vec![Candidate {
            address: h.clone(),
            tls: env_tls(cfg, h),
            context: None,
        }]);
    }
    if let Some(dir) = &cfg.docker_config_dir {
        if let Some(chosen) = context::chosen(dir, cfg.docker_context.as_deref()) {
            // So is a context: the engine it names, or an error.
            let endpoint = context::load(dir, &chosen)?;
            return Ok(vec![Candidate {
                address: endpoint.host,
                tls: endpoint.tls,
                context: Some(endpoint.name),
            }]);
        }
    }
    let mut out = Vec::new();
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
    Ok(out.into_iter().map(Candidate::plain).collect())
}

/// TLS for `DOCKER_HOST` from the variables, as the docker CLI: on with
/// `DOCKER_TLS_VERIFY` or `DOCKER_TLS`, for `tcp://` hosts only.
fn env_tls(cfg: &EngineConfig, host: &str) -> Option<TlsMaterial> {
    let tcp = host.starts_with("tcp://") || host.starts_with("https://");
    if !(cfg.tls_verify || cfg.tls) || !tcp {
        return None;
    }
    let dir = cfg
        .cert_path
        .clone()
        .or_else(|| cfg.docker_config_dir.clone())
        .unwrap_or_else(|| PathBuf::from(".docker"));
    Some(TlsMaterial::in_dir(
        &dir,
        cfg.tls_verify,
        "$DOCKER_CERT_PATH, default ~/.docker",
    ))
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
    for c in candidates(cfg)? {
        if c.address.starts_with("ssh://") {
            match remote(&c, cfg).await {
                Ok(engine) => return Ok(engine),
                Err(why) => tried.push((c.address, why)),
            }
            continue;
        }
        let target = match &c.tls {
            Some(m) => Some(
                tls::target(&c.address, m).map_err(|source| EngineError::Tls {
                    address: c.address.clone(),
                    source,
                })?,
            ),
            None => None,
        };
        let socket = match &target {
            Some(t) => Some(Socket::Tls(t.clone())),
            None => Socket::of(&c.address),
        };
        let via = match (&socket, &target) {
            (_, Some(t)) => Via::TcpTls { verify: t.verify },
            (Some(Socket::Unix(_)), _) => Via::Socket,
            (Some(_), _) => Via::Tcp,
            (None, _) => Via::Other,
        };
        let wait = Duration::from_secs(3);
        let asked = answer(&c.address, socket.as_ref(), cfg.version_cache.as_deref());
        match tokio::time::timeout(wait, asked).await {
            Ok(Ok(docker)) => {
                return Ok(Engine {
                    docker,
                    address: c.address,
                    lock_dir: cfg.lock_dir.clone(),
                    socket,
                    via,
                    context: c.context,
                    remote: None,
                    ports_here: Default::default(),
                })
            }
            Ok(Err(why)) if target.is_some() && why.contains("TLS handshake") => {
                return Err(EngineError::TlsRefused {
                    address: c.address,
                    why,
                    files: c.tls.as_ref().map(files_used).unwrap_or_default(),
                })
            }
            Ok(Err(why)) => tried.push((c.address, why)),
            Err(_) => tried.push((c.address, "no answer within 3 s".into())),
        }
    }
    Err(EngineError::Unreachable { tried })
}

/// The files a TLS connection used, for an error.
fn files_used(m: &TlsMaterial) -> String {
    let mut parts = Vec::new();
    for (what, p) in [("CA", &m.ca), ("certificate", &m.cert), ("key", &m.key)] {
        if let Some(p) = p {
            parts.push(format!("{what} {}", p.display()));
        }
    }
    if parts.is_empty() {
        parts.push("no certificates".into());
    }
    format!("{} (from {})", parts.join(", "), m.named_by)
}

/// An engine over SSH: its socket forwarded here (see `ssh`), then spoken
/// to like a local one. With the master alive and its engine's version
/// known, nothing is sent here: the first real request is the first
/// round trip.
async fn remote(c: &Candidate, cfg: &EngineConfig) -> Result<Engine, String> {
    let dir = cfg
        .ssh_dir
        .as_ref()
        .ok_or("ssh:// engines need DEVENV_HOME")?;
    let tunnel = super::ssh::open(&c.address, dir).await?;
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
        address: c.address.clone(),
        lock_dir: cfg.lock_dir.clone(),
        socket: Some(Socket::Unix(tunnel.socket.clone())),
        via: Via::Ssh,
        context: c.context.clone(),
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
async fn answer(
    address: &str,
    socket: Option<&Socket>,
    cache: Option<&Path>,
) -> Result<Docker, String> {
    let Some(socket) = socket else {
        // `/version` both proves the engine answers and negotiates.
        let docker = open(address, bollard::API_DEFAULT_VERSION)?;
        return docker.negotiate_version().await.map_err(|e| e.to_string());
    };
    let path = address.strip_prefix("unix://").map(Path::new);
    let version = match (path, cache) {
        // `identify` stats the socket itself: no second stat here.
        (Some(path), Some(cache)) => local_version(socket, path, cache).await?,
        _ if path.is_some_and(|p| !p.exists()) => return Err("no socket there".into()),
        _ => super::socket::ping(socket).await?,
    };
    let version = spoken(version);
    if let Socket::Tls(t) = socket {
        return tls::docker(t, TIMEOUT_SECS, &version);
    }
    open(address, &version)
}

/// The version of the engine on a local socket: remembered for the
/// process listening there, else asked (`engine_cache`).
async fn local_version(
    socket: &Socket,
    path: &Path,
    cache: &Path,
) -> Result<(usize, usize), String> {
    let who = super::engine_cache::identify(path).await?;
    if let Some(v) = who.and_then(|w| super::engine_cache::known(cache, path, w)) {
        return Ok(v);
    }
    let v = super::socket::ping(socket).await?;
    if let Some(w) = who {
        super::engine_cache::remember(cache, path, w, v);
    }
    Ok(v)
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
        let c = candidates(&cfg).unwrap();
        assert_eq!(c, [Candidate::plain("tcp://10.0.0.1:2375".into())]);
    }

    #[test]
    fn tls_variables_apply_to_a_tcp_docker_host_only() {
        let cfg = EngineConfig {
            docker_host: Some("tcp://10.0.0.1:2376".into()),
            tls_verify: true,
            cert_path: Some("/certs".into()),
            ..Default::default()
        };
        let c = candidates(&cfg).unwrap();
        let m = c[0].tls.clone().expect("TLS");
        assert!(m.verify);
        assert_eq!(m.ca, Some(PathBuf::from("/certs/ca.pem")));
        let cfg = EngineConfig {
            docker_host: Some("unix:///x.sock".into()),
            ..cfg
        };
        assert_eq!(candidates(&cfg).unwrap()[0].tls, None);
    }

    #[test]
    fn docker_host_beats_a_context_and_a_missing_context_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = EngineConfig {
            docker_host: Some("tcp://10.0.0.1:2375".into()),
            docker_context: Some("gone".into()),
            docker_config_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        assert_eq!(candidates(&cfg).unwrap()[0].address, "tcp://10.0.0.1:2375");
        let cfg = EngineConfig {
            docker_host: None,
            ..cfg
        };
        assert!(matches!(
            candidates(&cfg),
            Err(EngineError::Context(ContextError::NotFound { .. }))
        ));
    }

    #[test]
    fn the_current_context_replaces_the_sockets() {
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
        let c = candidates(&cfg).unwrap();
        assert_eq!(c[0].address, "unix:///x/colima.sock");
        assert_eq!(c[0].context.as_deref(), Some("colima"));
        assert_eq!(c.len(), 1, "a context is the user's choice: no fallbacks");

        let cfg = EngineConfig {
            docker_context: Some("default".into()),
            ..cfg
        };
        let c: Vec<String> = candidates(&cfg)
            .unwrap()
            .into_iter()
            .map(|c| c.address)
            .collect();
        assert!(c.contains(&"unix:///var/run/docker.sock".to_string()));
        assert!(c.contains(&"unix:///home/u/.docker/run/docker.sock".to_string()));
    }
}
