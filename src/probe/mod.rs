//! The readiness probes that need no engine, shared by services (through
//! their published ports or container address) and processes (on
//! 127.0.0.1 of this machine), so both poll the same way and say the same
//! thing when something never gets ready.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::manifest::model::Probe;

pub mod postgres;

/// Polling starts here and backs off by 1.5x up to `MAX_DELAY`.
pub const FIRST_DELAY: Duration = Duration::from_millis(50);
/// Low cap: a probe costs a few ms, a late one costs the user up to the cap.
pub const MAX_DELAY: Duration = Duration::from_millis(250);

/// The delay after `d`.
pub fn next_delay(d: Duration) -> Duration {
    d.mul_f32(1.5).min(MAX_DELAY)
}

/// A TCP connection to `addr`, within a second.
pub async fn tcp_connect(addr: SocketAddr) -> Option<TcpStream> {
    tcp_connect_within(addr, Duration::from_secs(1)).await
}

/// A TCP connection to `addr`, within `wait`.
pub async fn tcp_connect_within(addr: SocketAddr, wait: Duration) -> Option<TcpStream> {
    match tokio::time::timeout(wait, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => Some(s),
        _ => None,
    }
}

/// `GET path` on `addr` answers 2xx (no proxy: the target is local).
pub async fn http_ok(addr: SocketAddr, path: &str) -> bool {
    let Ok(client) = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
    else {
        return false;
    };
    match client.get(format!("http://{addr}{path}")).send().await {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    }
}

/// A probe in words, for "not ready" messages.
pub fn describe(p: &Probe) -> String {
    match p {
        Probe::Tcp(port) => format!("tcp {port}"),
        Probe::Http { path, port } => format!("http GET {path} on port {port}"),
        Probe::Exec(cmd) => format!("exec {}", cmd.join(" ")),
        Probe::Log(re) => format!("log line matching `{re}`"),
        Probe::Healthcheck => "the image's HEALTHCHECK".into(),
        Probe::Postgres { port, user, .. } => {
            format!("PostgreSQL accepting connections on port {port} as {user}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_backs_off_to_its_cap() {
        let mut d = FIRST_DELAY;
        for _ in 0..20 {
            d = next_delay(d);
        }
        assert_eq!(d, MAX_DELAY);
        assert!(next_delay(FIRST_DELAY) > FIRST_DELAY);
    }
}
