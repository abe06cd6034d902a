//! Whether this machine reaches a container's address directly.
//!
//! Rootful Docker and Podman put their bridges on the host, so probes can
//! go to the container itself. Rootless Podman (and rootless Docker, and
//! engines in a VM behind a local socket: Docker Desktop, Colima) keep
//! them in a namespace of their own: the address looks the same, but only
//! the published port reaches it. Two cheap facts tell them apart without
//! asking the engine: a rootful engine's socket belongs to root, and a
//! route without a gateway (a bridge on this host) covers the address.
//! Both are needed: rootful and rootless Podman allocate from the same
//! 10.89.0.0/16, so a rootful bridge may cover a rootless container's
//! address.

use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// `ip` (a container's address on its project network) when probes can go
/// to it: Linux, the engine on a unix socket root owns, and a bridge on
/// this host covering `ip`. None: probe through the published port.
pub fn probe_address(engine: &super::Engine, ip: Option<IpAddr>) -> Option<IpAddr> {
    // A remote engine's containers are probed from its side, through the
    // SSH connection's SOCKS forward (see `ssh`).
    if engine.remote.is_some() {
        return ip;
    }
    let socket = engine.address.strip_prefix("unix://")?;
    let ip = ip.filter(|_| cfg!(target_os = "linux"))?;
    reachable(Path::new(socket), ip).then_some(ip)
}

fn reachable(socket: &Path, ip: IpAddr) -> bool {
    let rootful = std::fs::metadata(socket).is_ok_and(|m| m.uid() == 0);
    rootful && direct(ip)
}

/// True when a directly connected route (not the default one) covers `ip`.
fn direct(ip: IpAddr) -> bool {
    let IpAddr::V4(v4) = ip else {
        // The probes' container addresses are IPv4 (bridge networks).
        return false;
    };
    match std::fs::read_to_string("/proc/net/route") {
        Ok(table) => covered(&table, v4),
        Err(_) => false,
    }
}

/// Parses `/proc/net/route`: `Iface Destination Gateway Flags ... Mask`,
/// addresses as the kernel's in-memory bytes in hex.
fn covered(table: &str, ip: Ipv4Addr) -> bool {
    const RTF_UP: u32 = 0x1;
    let addr = |hex: &str| {
        u32::from_str_radix(hex, 16)
            .ok()
            .map(|v| Ipv4Addr::from(v.to_ne_bytes()))
    };
    table.lines().skip(1).any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            return false;
        }
        let (Some(dest), Some(gw), Some(mask)) = (addr(f[1]), addr(f[2]), addr(f[7])) else {
            return false;
        };
        let flags = u32::from_str_radix(f[3], 16).unwrap_or(0);
        let mask = u32::from(mask);
        flags & RTF_UP != 0
            && mask != 0
            && gw.is_unspecified()
            && u32::from(ip) & mask == u32::from(dest) & mask
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host with a default route, docker0, a user bridge and a VPN route
    /// through a gateway (little-endian hex, as on x86-64).
    const TABLE: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
br-1\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
tun0\t0000000A\t0100080A\t0003\t0\t0\t0\t000000FF\t0\t0\t0
";

    #[test]
    fn only_bridges_on_this_host_count_not_the_default_route_or_a_gateway() {
        if cfg!(target_endian = "big") {
            return;
        }
        assert!(covered(TABLE, Ipv4Addr::new(172, 17, 0, 2)));
        assert!(covered(TABLE, Ipv4Addr::new(172, 18, 0, 5)));
        // Rootless Podman's 10.89.x.x: only the VPN's gateway route, or
        // the default route, would reach "it", so it is not direct.
        assert!(!covered(TABLE, Ipv4Addr::new(10, 89, 1, 2)));
        assert!(!covered(TABLE, Ipv4Addr::new(192, 168, 7, 7)));
        assert!(!covered("", Ipv4Addr::new(172, 17, 0, 2)));
    }
}
