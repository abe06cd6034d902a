//! Readiness, probed by devenv itself rather than through the engine's
//! healthcheck (whose 30 s default interval would dominate start-up).
//!
//! Polling starts at 50 ms and backs off by 1.5x up to 250 ms, until the
//! service's timeout (`crate::probe`, shared with processes). Between failed probes the container's state is checked,
//! so a container that exits stops the wait at once, with its exit code.
//! Between exec probes the container's own TCP ports are watched, and the
//! exec runs as soon as one opens (`ready_watch`).
//!
//! TCP probes: Docker's userland proxy accepts connections on a published
//! host port even when nothing listens inside the container. So when the
//! container has an address on the project network (Linux: the host routes to
//! bridge networks) the probe connects to that address and the container
//! port directly. Otherwise it connects through the host port and requires
//! that the connection is not closed by the other side within 200 ms (the
//! proxy closes at once when the backend refuses).
//!
//! On an engine on another machine (`ssh://`), TCP and HTTP probes go to
//! the container's own address from that machine's side, through the SSH
//! connection's SOCKS forward (`ssh::Tunnel::connect`), so a probe needs no
//! published port and never sees a proxy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures_util::StreamExt;
use tokio::io::AsyncReadExt;

use crate::manifest::model::{Probe, Readiness};
use crate::probe::{describe, next_delay, postgres, FIRST_DELAY};

use super::ports::Published;
use super::ready_watch::PortWatch;
use super::Engine;

const POSTGRES_FIRST_DELAY: Duration = Duration::from_millis(10);

/// What a probe needs to know about one started container.
pub struct Target<'a> {
    pub engine: &'a Engine,
    pub container: &'a str,
    pub image: &'a str,
    /// The container's address on the project network, when routable.
    pub ip: Option<IpAddr>,
    pub ports: &'a [Published],
}

/// Why a service is not ready.
#[derive(Debug, Clone)]
pub struct NotReady {
    pub reason: String,
    /// Set when the container exited.
    pub exit_code: Option<i64>,
}

/// Waits until `ready` passes, the container exits, or the timeout ends.
/// Without a probe, a running container is ready.
pub async fn wait(t: &Target<'_>, ready: Option<&Readiness>) -> Result<(), NotReady> {
    let Some(ready) = ready else {
        return match exited(t).await {
            Some(code) => Err(exited_error(code)),
            None => Ok(()),
        };
    };
    if let Probe::Log(re) = &ready.probe {
        return wait_for_log(t, re, ready.timeout).await;
    }
    let probe = resolve(t, &ready.probe).await?;
    let deadline = Instant::now() + ready.timeout;
    // A PostgreSQL server that just opened its port answers "starting up"
    // for a few ms: asked again soon, it is seen ready within that, not a
    // whole first delay later. Each answer is a forked backend, so the
    // pace still backs off.
    let first = match probe {
        Resolved::Postgres { .. } => POSTGRES_FIRST_DELAY,
        _ => FIRST_DELAY,
    };
    let mut delay = first;
    // For execs, which are dear (`ready_watch`), and for PostgreSQL,
    // whose every answered attempt forks a backend: a refused connect costs
    // neither. On a remote engine the container's address is not reachable
    // from here.
    let mut watch = match (&probe, &t.engine.remote) {
        (Resolved::Exec(_), None) => PortWatch::new(t.ip, t.ports),
        (Resolved::Postgres { port, .. }, None) => {
            let ours: Vec<Published> = t
                .ports
                .iter()
                .filter(|p| p.container == *port)
                .copied()
                .collect();
            PortWatch::new(t.ip, &ours)
        }
        _ => None,
    };
    loop {
        if check(t, &probe).await {
            return Ok(());
        }
        if let Some(code) = exited(t).await {
            return Err(exited_error(code));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(NotReady {
                reason: format!(
                    "not ready after {}s ({})",
                    ready.timeout.as_secs(),
                    describe(&ready.probe)
                ),
                exit_code: None,
            });
        }
        let pause = delay.min(deadline - now);
        let opened = match watch.as_mut() {
            Some(w) => w.pause(pause).await,
            None => {
                tokio::time::sleep(pause).await;
                false
            }
        };
        // A port that just opened: readiness is close, probe at the
        // first pace again.
        delay = if opened { first } else { next_delay(delay) };
    }
}

/// One probe attempt, for `status`.
pub async fn once(t: &Target<'_>, ready: Option<&Readiness>) -> bool {
    let Some(ready) = ready else { return true };
    match &ready.probe {
        // A log line that matched once stays matched.
        Probe::Log(re) => log_matches(t, re).await,
        p => match resolve(t, p).await {
            Ok(probe) => check(t, &probe).await,
            Err(_) => false,
        },
    }
}

fn exited_error(code: i64) -> NotReady {
    NotReady {
        reason: format!("the container exited with code {code}"),
        exit_code: Some(code),
    }
}

/// A probe with the image's HEALTHCHECK turned into an exec.
enum Resolved {
    Tcp(u16),
    Http(String, u16),
    Exec(Vec<String>),
    Postgres {
        port: u16,
        user: String,
        database: String,
    },
}

async fn resolve(t: &Target<'_>, p: &Probe) -> Result<Resolved, NotReady> {
    Ok(match p {
        Probe::Tcp(port) => Resolved::Tcp(*port),
        Probe::Http { path, port } => Resolved::Http(path.clone(), *port),
        Probe::Exec(cmd) => Resolved::Exec(cmd.clone()),
        Probe::Postgres {
            port,
            user,
            database,
        } => Resolved::Postgres {
            port: *port,
            user: user.clone(),
            database: database.clone(),
        },
        Probe::Log(_) => unreachable!("log probes stream"),
        Probe::Healthcheck => {
            // The container's own config first: it is what runs, and
            // Podman's image inspect leaves the HEALTHCHECK out (4.3) while
            // its container inspect carries it. The image's as a fallback.
            let container = t
                .engine
                .docker
                .inspect_container(
                    t.container,
                    None::<bollard::query_parameters::InspectContainerOptions>,
                )
                .await
                .ok()
                .and_then(|c| c.config)
                .and_then(|c| c.healthcheck)
                .and_then(|h| h.test);
            let test = match container {
                Some(test) if !test.is_empty() => test,
                _ => t
                    .engine
                    .docker
                    .inspect_image(t.image)
                    .await
                    .ok()
                    .and_then(|i| i.config)
                    .and_then(|c| c.healthcheck)
                    .and_then(|h| h.test)
                    .unwrap_or_default(),
            };
            match test.first().map(String::as_str) {
                Some("CMD") => Resolved::Exec(test[1..].to_vec()),
                Some("CMD-SHELL") => {
                    Resolved::Exec(vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")])
                }
                _ => {
                    return Err(NotReady {
                        reason: format!(
                            "`ready = {{ healthcheck = true }}` but image {} has no HEALTHCHECK",
                            t.image
                        ),
                        exit_code: None,
                    })
                }
            }
        }
    })
}

async fn check(t: &Target<'_>, p: &Resolved) -> bool {
    match p {
        Resolved::Tcp(port) => tcp(t, *port).await,
        Resolved::Http(path, port) => http(t, path, *port).await,
        Resolved::Exec(cmd) => exec(t, cmd).await,
        Resolved::Postgres {
            port,
            user,
            database,
        } => {
            let login = postgres::Login { user, database };
            postgres_ready(t, *port, login).await
        }
    }
}

/// Where to reach container port `port`: the container itself when it has
/// an address, else its published host port.
fn address(t: &Target<'_>, port: u16) -> Option<(SocketAddr, bool)> {
    if let Some(ip) = t.ip {
        return Some((SocketAddr::new(ip, port), true));
    }
    let p = t.ports.iter().find(|p| p.container == port)?;
    let ip = if p.bind.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        p.bind
    };
    Some((SocketAddr::new(ip, t.engine.port_here(p.host)), false))
}

async fn tcp(t: &Target<'_>, port: u16) -> bool {
    if let (Some(ip), Some(remote)) = (t.ip, &t.engine.remote) {
        return remote.connect(SocketAddr::new(ip, port)).await.is_some();
    }
    let Some((addr, direct)) = address(t, port) else {
        return false;
    };
    let Some(mut stream) = crate::probe::tcp_connect(addr).await else {
        return false;
    };
    if direct {
        return true;
    }
    // Through the proxy: a refused backend shows as an immediate close.
    let mut buf = [0u8; 1];
    match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
        Err(_) => true,
        Ok(Ok(n)) => n > 0,
        Ok(Err(_)) => false,
    }
}

/// Through the proxy of a published port the exchange fails while the
/// server is down (the proxy closes), so every path gives the server's
/// own answer.
async fn postgres_ready(t: &Target<'_>, port: u16, login: postgres::Login<'_>) -> bool {
    let stream = match (t.ip, &t.engine.remote) {
        (Some(ip), Some(remote)) => remote.connect(SocketAddr::new(ip, port)).await,
        _ => match address(t, port) {
            Some((addr, _)) => crate::probe::tcp_connect(addr).await,
            None => None,
        },
    };
    match stream {
        Some(s) => postgres::ping(s, login).await == postgres::Ping::Ready,
        None => false,
    }
}

async fn http(t: &Target<'_>, path: &str, port: u16) -> bool {
    if let (Some(ip), Some(remote)) = (t.ip, &t.engine.remote) {
        let addr = SocketAddr::new(ip, port);
        return match remote.connect(addr).await {
            Some(stream) => http_on(stream, addr, path).await,
            None => false,
        };
    }
    let Some((addr, _)) = address(t, port) else {
        return false;
    };
    crate::probe::http_ok(addr, path).await
}

/// `GET path` over a connection already made (to a container on a remote
/// engine) answers 2xx.
async fn http_on(mut stream: tokio::net::TcpStream, addr: SocketAddr, path: &str) -> bool {
    use tokio::io::AsyncWriteExt;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let exchange = async {
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = Vec::new();
        let mut buf = [0u8; 256];
        while !head.contains(&b'\n') && head.len() < 4096 {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&head).lines().next()?.to_string();
        let code: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some((200..300).contains(&code))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), exchange).await,
        Ok(Some(true))
    )
}

async fn exec(t: &Target<'_>, cmd: &[String]) -> bool {
    let attempt = async {
        let created = t
            .engine
            .docker
            .create_exec(
                t.container,
                CreateExecOptions {
                    cmd: Some(cmd.to_vec()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .ok()?;
        if let StartExecResults::Attached { mut output, .. } = t
            .engine
            .docker
            .start_exec(&created.id, None::<StartExecOptions>)
            .await
            .ok()?
        {
            while output.next().await.is_some() {}
        }
        let info = t.engine.docker.inspect_exec(&created.id).await.ok()?;
        Some(info.exit_code == Some(0))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(10), attempt).await,
        Ok(Some(true))
    )
}

/// The exit code when the container is no longer running.
async fn exited(t: &Target<'_>) -> Option<i64> {
    let info = t
        .engine
        .docker
        .inspect_container(
            t.container,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .ok()?;
    let state = info.state?;
    if state.running == Some(true) {
        None
    } else {
        Some(state.exit_code.unwrap_or(-1))
    }
}

async fn wait_for_log(t: &Target<'_>, re: &str, timeout: Duration) -> Result<(), NotReady> {
    let regex = regex::Regex::new(re).map_err(|e| NotReady {
        reason: e.to_string(),
        exit_code: None,
    })?;
    let options = bollard::query_parameters::LogsOptionsBuilder::default()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut stream = t.engine.docker.logs(t.container, Some(options));
    let mut pending = String::new();
    let scan = async {
        while let Some(Ok(chunk)) = stream.next().await {
            pending.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
            let mut lines: Vec<&str> = pending.split('\n').collect();
            let rest = lines.pop().unwrap_or_default().to_string();
            if lines.iter().any(|l| regex.is_match(l)) {
                return true;
            }
            pending = rest;
        }
        // The stream ends when the container stops.
        regex.is_match(&pending)
    };
    match tokio::time::timeout(timeout, scan).await {
        Ok(true) => Ok(()),
        Ok(false) => match exited(t).await {
            Some(code) => Err(exited_error(code)),
            None => Err(NotReady {
                reason: format!("its log ended without a line matching `{re}`"),
                exit_code: None,
            }),
        },
        Err(_) => Err(NotReady {
            reason: format!(
                "not ready after {}s (no log line matching `{re}`)",
                timeout.as_secs()
            ),
            exit_code: None,
        }),
    }
}

async fn log_matches(t: &Target<'_>, re: &str) -> bool {
    let Ok(regex) = regex::Regex::new(re) else {
        return false;
    };
    super::logs::tail(t.engine, t.container, None)
        .await
        .iter()
        .any(|l| regex.is_match(l))
}
