//! What an exec probe waits on between its runs: the container's own TCP
//! ports.
//!
//! An exec probe costs the engine a process in the container (about 50 ms
//! of runc on 2 cores), so it backs off to one every 250 ms, and readiness
//! was seen up to 250 ms late. A refused connect to the container's own
//! address costs next to nothing, so between execs the service's ports are
//! tried every 10 ms, and the exec runs as soon as one starts accepting: a
//! server opening its port is what most exec probes wait for.
//! (PostgreSQL's first-start temporary server listens on no TCP port, so
//! the port opens with the real server.) Only the change from refused to
//! accepting cuts a pause short; after that the backoff decides again.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::manifest::model::Protocol;
use crate::probe::tcp_connect_within;

use super::ports::Published;

const EVERY: Duration = Duration::from_millis(10);
/// A SYN that is not refused at once is not an open port yet.
const CONNECT_WAIT: Duration = Duration::from_millis(50);

pub struct PortWatch {
    addrs: Vec<SocketAddr>,
    /// Seen accepting: the watch has done its work.
    open: bool,
}

impl PortWatch {
    /// A watch on the container's TCP ports at its own address; None when
    /// the container has no routable address or no TCP port.
    pub fn new(ip: Option<IpAddr>, ports: &[Published]) -> Option<PortWatch> {
        let ip = ip?;
        let mut addrs: Vec<SocketAddr> = ports
            .iter()
            .filter(|p| p.protocol == Protocol::Tcp)
            .map(|p| SocketAddr::new(ip, p.container))
            .collect();
        addrs.dedup();
        (!addrs.is_empty()).then_some(PortWatch { addrs, open: false })
    }

    /// Waits `wait`, or less: true when a port started accepting.
    pub async fn pause(&mut self, wait: Duration) -> bool {
        if self.open {
            tokio::time::sleep(wait).await;
            return false;
        }
        let until = Instant::now() + wait;
        loop {
            if self.any_accepts().await {
                self.open = true;
                return true;
            }
            let now = Instant::now();
            if now >= until {
                return false;
            }
            tokio::time::sleep(EVERY.min(until - now)).await;
        }
    }

    async fn any_accepts(&self) -> bool {
        for a in &self.addrs {
            if tcp_connect_within(*a, CONNECT_WAIT).await.is_some() {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn published(container: u16, protocol: Protocol) -> Published {
        Published {
            host: 0,
            container,
            protocol,
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }

    #[test]
    fn no_address_or_no_tcp_port_means_no_watch() {
        let lo = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert!(PortWatch::new(None, &[published(5432, Protocol::Tcp)]).is_none());
        assert!(PortWatch::new(lo, &[published(53, Protocol::Udp)]).is_none());
        assert!(PortWatch::new(lo, &[]).is_none());
    }

    #[tokio::test]
    async fn a_pause_ends_when_the_port_opens_and_only_the_first_time() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let lo = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let mut watch = PortWatch::new(lo, &[published(port, Protocol::Tcp)]).unwrap();
        // Nothing listens: the whole pause is waited.
        assert!(!watch.pause(Duration::from_millis(30)).await);
        let opener = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap()
        });
        let started = Instant::now();
        assert!(
            watch.pause(Duration::from_secs(60)).await,
            "the port opened"
        );
        assert!(started.elapsed() < Duration::from_secs(60));
        let _listener = opener.await.unwrap();
        // Open from now on: a pause is a plain wait again.
        assert!(!watch.pause(Duration::from_millis(20)).await);
    }
}
