//! Mocks as background processes for `up`/`down`/`status`: one detached
//! `devenv mock serve NAME` per mock (its own process group, so it outlives
//! `up` and Ctrl-C), recorded in `.devenv/state/mocks.json` with its pid,
//! port and definition hash.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::MockError;
use crate::manifest::{HostPort, Manifest, Mock};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::state::{self, Connections, MockEndpoint, PortBook};

/// What `up` needs to start mocks.
pub struct UpRequest<'a> {
    pub manifest: &'a Manifest,
    pub paths: &'a Paths,
    /// Addresses each mock listens on; 127.0.0.1 unless the caller adds the
    /// project network's gateway so containers can reach it.
    pub addresses: Vec<IpAddr>,
    /// The devenv binary to run (`std::env::current_exe()`).
    pub exe: PathBuf,
    pub reporter: &'a dyn Reporter,
    /// How long a mock may take to answer its health check.
    pub ready_timeout: Duration,
}

impl<'a> UpRequest<'a> {
    pub fn new(
        manifest: &'a Manifest,
        paths: &'a Paths,
        exe: PathBuf,
        reporter: &'a dyn Reporter,
    ) -> Self {
        UpRequest {
            manifest,
            paths,
            addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            exe,
            reporter,
            ready_timeout: Duration::from_secs(15),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct MockState {
    mocks: BTreeMap<String, Running>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Running {
    pid: u32,
    port: u16,
    hash: String,
    addresses: Vec<IpAddr>,
}

const STATE_FILE: &str = "mocks.json";

/// What one mock is doing, for `devenv status`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MockStatus {
    pub name: String,
    pub kind: &'static str,
    /// running | stopped | missing
    pub state: &'static str,
    pub ready: bool,
    pub ports: Vec<PortPair>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PortPair {
    pub host: u16,
    pub container: u16,
}

/// The request log of a mock (`devenv logs <mock>`).
pub fn log_path(paths: &Paths, name: &str) -> PathBuf {
    paths.logs_dir().join(format!("mock-{name}.log"))
}

fn hash(mock: &Mock, port: u16, addresses: &[IpAddr], manifest: &Path) -> String {
    let text = format!("{mock:?}\n{port}\n{addresses:?}\n{}", manifest.display());
    hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

/// The host port a mock uses: fixed, or the one kept for `auto`.
pub fn port_for(mock: &Mock, book: &mut PortBook, taken: &[u16]) -> Result<u16, MockError> {
    match mock.port {
        HostPort::Fixed(p) => Ok(p),
        HostPort::Auto => book
            .get_or_pick(&format!("mock/{}", mock.name), taken)
            .map_err(MockError::Io),
    }
}

/// Before any phase: every mock's host port is free, or held by this
/// clone's own running mock. A port held by anything else is bad input
/// (exit 2), found before anything starts, as for services. An `auto` port
/// not picked yet needs no check: it will be picked free.
pub fn check_ports(manifest: &Manifest, paths: &Paths) -> Result<(), MockError> {
    if manifest.mocks.is_empty() {
        return Ok(());
    }
    let st: MockState = state::read_json(&paths.state_file(STATE_FILE));
    let book = PortBook::load(paths);
    for mock in &manifest.mocks {
        let port = match mock.port {
            HostPort::Fixed(p) => p,
            HostPort::Auto => match book.ports.get(&format!("mock/{}", mock.name)) {
                Some(p) => *p,
                None => continue,
            },
        };
        let ours = st
            .mocks
            .get(&mock.name)
            .is_some_and(|r| r.port == port && is_our_mock(r.pid));
        if !ours && std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
            return Err(MockError::PortInUse {
                name: mock.name.clone(),
                port,
            });
        }
    }
    Ok(())
}

/// Starts (or keeps, or restarts) every mock, stops removed ones, waits for
/// each to answer, and records how to reach them. Returns the endpoints.
pub fn up(req: &UpRequest<'_>) -> Result<BTreeMap<String, MockEndpoint>, MockError> {
    let paths = req.paths;
    paths.ensure_state_dir().map_err(MockError::Io)?;
    std::fs::create_dir_all(paths.logs_dir()).map_err(MockError::Io)?;
    let state_path = paths.state_file(STATE_FILE);
    let mut st: MockState = state::read_json(&state_path);
    let mut conns = Connections::load(paths);

    // Mocks no longer declared go first, freeing their ports.
    let gone: Vec<String> = st
        .mocks
        .keys()
        .filter(|n| req.manifest.mock(n).is_none())
        .cloned()
        .collect();
    for name in gone {
        if let Some(r) = st.mocks.remove(&name) {
            stop_pid(r.pid);
            req.reporter.message(
                Level::Info,
                &format!("mock {name}: stopped (removed from devenv.toml)"),
            );
        }
        conns.mocks.remove(&name);
    }

    let mut book = PortBook::load(paths);
    let mut taken = Vec::new();
    let mut out = BTreeMap::new();
    for mock in &req.manifest.mocks {
        let port = port_for(mock, &mut book, &taken)?;
        taken.push(port);
        let h = hash(mock, port, &req.addresses, &req.manifest.path);
        let current = st.mocks.get(&mock.name).cloned();
        let alive = current.as_ref().filter(|r| is_our_mock(r.pid));
        match alive {
            Some(r) if r.hash == h && health(port, &mock.admin_prefix) => {
                req.reporter.message(
                    Level::Detail,
                    &format!("mock {}: unchanged, left running", mock.name),
                );
            }
            other => {
                if let Some(r) = other {
                    stop_pid(r.pid);
                }
                let task = req.reporter.task(&format!("mock {}", mock.name), None);
                let pid = match spawn(req, mock, port) {
                    Ok(pid) => pid,
                    Err(e) => {
                        task.finish(false, "failed");
                        return Err(e);
                    }
                };
                st.mocks.insert(
                    mock.name.clone(),
                    Running {
                        pid,
                        port,
                        hash: h,
                        addresses: req.addresses.clone(),
                    },
                );
                state::write_json(&state_path, &st).map_err(MockError::Io)?;
                if let Err(e) = wait_ready(req, mock, pid, port) {
                    task.finish(false, "never became ready");
                    st.mocks.remove(&mock.name);
                    let _ = state::write_json(&state_path, &st);
                    return Err(e);
                }
                task.finish(true, &format!("http://127.0.0.1:{port}"));
            }
        }
        let ep = MockEndpoint {
            host: "127.0.0.1".into(),
            port,
            url: format!("http://127.0.0.1:{port}"),
        };
        conns.mocks.insert(mock.name.clone(), ep.clone());
        out.insert(mock.name.clone(), ep);
    }
    book.save(paths).map_err(MockError::Io)?;
    state::write_json(&state_path, &st).map_err(MockError::Io)?;
    conns.save(paths).map_err(MockError::Io)?;
    Ok(out)
}

fn spawn(req: &UpRequest<'_>, mock: &Mock, port: u16) -> Result<u32, MockError> {
    if TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
    {
        return Err(MockError::PortInUse {
            name: mock.name.clone(),
            port,
        });
    }
    let log = log_path(req.paths, &mock.name);
    // A mock writes its own log through stdout; it is kept to a size at
    // each start (`log_trim`), as a process's is.
    let _ = crate::log_trim::trim(&log, crate::log_trim::LogLimit::default().bytes);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(MockError::Io)?;
    let err = file.try_clone().map_err(MockError::Io)?;
    let mut cmd = Command::new(&req.exe);
    cmd.arg("-f").arg(&req.manifest.path).args([
        "-q",
        "mock",
        "serve",
        &mock.name,
        "--port",
        &port.to_string(),
    ]);
    for a in &req.addresses {
        cmd.arg("--bind").arg(a.to_string());
    }
    cmd.current_dir(&req.manifest.root)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .process_group(0);
    let child = cmd.spawn().map_err(MockError::Io)?;
    Ok(child.id())
}

fn wait_ready(req: &UpRequest<'_>, mock: &Mock, pid: u32, port: u16) -> Result<(), MockError> {
    let deadline = Instant::now() + req.ready_timeout;
    loop {
        if health(port, &mock.admin_prefix) {
            return Ok(());
        }
        if !alive(pid) || Instant::now() > deadline {
            stop_pid(pid);
            let tail = std::fs::read_to_string(log_path(req.paths, &mock.name))
                .unwrap_or_default()
                .lines()
                .rev()
                .take(10)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            return Err(MockError::NotReady {
                name: mock.name.clone(),
                log: tail,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `GET <admin prefix>/health` answers 200.
pub fn health(port: u16, admin_prefix: &str) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let req = format!(
        "GET {admin_prefix}/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    let mut n = 0;
    while n < buf.len() {
        match s.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    buf[..n].starts_with(b"HTTP/1.1 200")
}

fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped) counts as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The pid is still a `devenv ... mock serve` (pids get reused).
fn is_our_mock(pid: u32) -> bool {
    let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
    alive(pid) && args.windows(2).any(|w| w[0] == b"mock" && w[1] == b"serve")
}

fn stop_pid(pid: u32) {
    if !is_our_mock(pid) {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The mocks this clone's state says are running (maybe no longer
/// declared): a cheap read, so `up` can stop the last one removed.
pub fn recorded(paths: &Paths) -> Vec<String> {
    let st: MockState = state::read_json(&paths.state_file(STATE_FILE));
    st.mocks.keys().cloned().collect()
}

/// Stops every mock this clone started; returns their names.
pub fn down(paths: &Paths) -> Result<Vec<String>, MockError> {
    let state_path = paths.state_file(STATE_FILE);
    let st: MockState = state::read_json(&state_path);
    let mut stopped = Vec::new();
    for (name, r) in &st.mocks {
        if is_our_mock(r.pid) {
            stop_pid(r.pid);
            stopped.push(name.clone());
        }
    }
    if state_path.exists() {
        state::write_json(&state_path, &MockState::default()).map_err(MockError::Io)?;
    }
    let conn_path = paths.state_file(Connections::FILE);
    if conn_path.exists() {
        let mut conns = Connections::load(paths);
        conns.mocks.clear();
        conns.save(paths).map_err(MockError::Io)?;
    }
    Ok(stopped)
}

/// Every declared mock's state, for `devenv status`.
pub fn status(manifest: &Manifest, paths: &Paths) -> Vec<MockStatus> {
    let st: MockState = state::read_json(&paths.state_file(STATE_FILE));
    manifest
        .mocks
        .iter()
        .map(|m| match st.mocks.get(&m.name) {
            Some(r) if is_our_mock(r.pid) => {
                let ready = health(r.port, &m.admin_prefix);
                MockStatus {
                    name: m.name.clone(),
                    kind: "mock",
                    state: "running",
                    ready,
                    ports: vec![PortPair {
                        host: r.port,
                        container: r.port,
                    }],
                    url: Some(format!("http://127.0.0.1:{}", r.port)),
                }
            }
            Some(_) => MockStatus {
                name: m.name.clone(),
                kind: "mock",
                state: "stopped",
                ready: false,
                ports: Vec::new(),
                url: None,
            },
            None => MockStatus {
                name: m.name.clone(),
                kind: "mock",
                state: "missing",
                ready: false,
                ports: Vec::new(),
                url: None,
            },
        })
        .collect()
}
