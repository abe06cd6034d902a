//! Host ports: `auto:` ports picked once and kept per clone, and the check
//! that every wanted port is free before anything is created, naming who
//! holds a port when it is not.

use std::collections::BTreeMap;
use std::net::{IpAddr, TcpListener, UdpSocket};

use bollard::models::ContainerSummary;

use crate::manifest::model::{HostPort, Manifest, Protocol};
use crate::state::PortBook;

use super::{LABEL_PROJECT, LABEL_SERVICE};

/// One published port with its host side decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    pub host: u16,
    pub container: u16,
    pub protocol: Protocol,
    pub bind: IpAddr,
}

/// The `PortBook` key of an `auto:` port.
pub fn auto_key(service: &str, container: u16, protocol: Protocol) -> String {
    let proto = match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    };
    format!("{service}/{container}/{proto}")
}

/// Every service's published ports, with `auto:` ports taken from (or added
/// to) the book. The caller saves the book once the run succeeds.
pub fn resolve(
    manifest: &Manifest,
    book: &mut PortBook,
) -> std::io::Result<BTreeMap<String, Vec<Published>>> {
    let fixed: Vec<u16> = manifest
        .services
        .iter()
        .flat_map(|s| s.ports.iter())
        .filter_map(|p| match p.host {
            HostPort::Fixed(h) => Some(h),
            HostPort::Auto => None,
        })
        .collect();
    let mut out = BTreeMap::new();
    for s in &manifest.services {
        let mut list = Vec::new();
        for p in &s.ports {
            let host = match p.host {
                HostPort::Fixed(h) => h,
                HostPort::Auto => {
                    book.get_or_pick(&auto_key(&s.name, p.container, p.protocol), &fixed)?
                }
            };
            list.push(Published {
                host,
                container: p.container,
                protocol: p.protocol,
                bind: s.bind,
            });
        }
        out.insert(s.name.clone(), list);
    }
    Ok(out)
}

/// Before any phase: the wanted host ports that something already holds,
/// except those this clone's last `up` published (its own containers hold
/// them; recorded in `connections.json`). No engine call: `foreign` asks
/// the engine only when this finds something.
pub fn busy(manifest: &Manifest, paths: &crate::paths::Paths) -> Vec<(String, Published)> {
    let mut book = PortBook::load(paths);
    let Ok(wanted) = resolve(manifest, &mut book) else {
        return Vec::new();
    };
    let conns = crate::state::Connections::load(paths);
    let mut out = Vec::new();
    for (service, list) in wanted {
        let ours: Vec<u16> = conns
            .services
            .get(&service)
            .map(|e| e.ports.values().copied().collect())
            .unwrap_or_default();
        for p in list {
            if !ours.contains(&p.host) && !is_free(&p) {
                out.push((service.clone(), p));
            }
        }
    }
    out
}

/// Of the busy ports, those held by anything but one of this project's
/// own containers, each with its holder named.
pub async fn foreign(
    engine: &super::Engine,
    project_id: &str,
    busy: Vec<(String, Published)>,
) -> Vec<PortConflict> {
    let all = engine
        .docker
        .list_containers(Some(
            bollard::query_parameters::ListContainersOptionsBuilder::default()
                .all(true)
                .build(),
        ))
        .await
        .unwrap_or_default();
    busy.into_iter()
        .map(|(service, port)| PortConflict {
            service,
            port,
            holder: holder(&port, &all),
        })
        .filter(|c| !matches!(&c.holder, Holder::DevenvContainer { project, .. } if project == project_id))
        .collect()
}

/// Who holds a port we want.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A container of a devenv project (this one or another clone's).
    DevenvContainer {
        container: String,
        project: String,
        service: String,
    },
    OtherContainer {
        container: String,
        image: String,
    },
    Process {
        pid: u32,
        name: String,
    },
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConflict {
    pub service: String,
    pub port: Published,
    pub holder: Holder,
}

pub fn describe_conflicts(list: &[PortConflict]) -> String {
    let mut s = String::from("host ports needed by services are already in use:");
    for c in list {
        s.push_str(&format!(
            "\n  - {}:{} for service `{}` is held by {}",
            c.port.bind,
            c.port.host,
            c.service,
            describe_holder(&c.holder)
        ));
    }
    s
}

/// Who holds a port, in words.
pub fn describe_holder(holder: &Holder) -> String {
    match holder {
        Holder::DevenvContainer {
            container,
            project,
            service,
        } => format!("container {container} (service `{service}` of devenv project `{project}`)"),
        Holder::OtherContainer { container, image } => {
            format!("container {container} (image {image}), not managed by devenv")
        }
        Holder::Process { pid, name } => format!("process {name} (pid {pid})"),
        Holder::Unknown => "another process (could not tell which)".into(),
    }
}

/// True when nothing holds `port` on its bind address.
pub fn is_free(port: &Published) -> bool {
    match port.protocol {
        Protocol::Tcp => TcpListener::bind((port.bind, port.host)).is_ok(),
        Protocol::Udp => UdpSocket::bind((port.bind, port.host)).is_ok(),
    }
}

/// Who holds `port`: a container publishing it (from `containers`, the
/// engine's list of all containers), else a host process found through
/// /proc on Linux.
pub fn holder(port: &Published, containers: &[ContainerSummary]) -> Holder {
    for c in containers {
        let publishes = c
            .ports
            .iter()
            .flatten()
            .any(|p| p.public_port == Some(port.host));
        if !publishes {
            continue;
        }
        let name = c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_string())
            .or_else(|| c.id.clone())
            .unwrap_or_default();
        let labels = c.labels.clone().unwrap_or_default();
        return match (labels.get(LABEL_PROJECT), labels.get(LABEL_SERVICE)) {
            (Some(p), Some(s)) => Holder::DevenvContainer {
                container: name,
                project: p.clone(),
                service: s.clone(),
            },
            _ => Holder::OtherContainer {
                container: name,
                image: c.image.clone().unwrap_or_default(),
            },
        };
    }
    match process_holding(port.host, port.protocol) {
        Some((pid, name)) => Holder::Process { pid, name },
        None => Holder::Unknown,
    }
}

/// The pid and command name of the process with a socket bound to `port`,
/// from /proc/net/{tcp,tcp6,udp,udp6} (socket inode) and /proc/*/fd.
#[cfg(target_os = "linux")]
fn process_holding(port: u16, protocol: Protocol) -> Option<(u32, String)> {
    let files: &[&str] = match protocol {
        Protocol::Tcp => &["/proc/net/tcp", "/proc/net/tcp6"],
        Protocol::Udp => &["/proc/net/udp", "/proc/net/udp6"],
    };
    let mut inodes = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        inodes.extend(socket_inodes(&text, port, protocol == Protocol::Tcp));
    }
    if inodes.is_empty() {
        return None;
    }
    let targets: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path()) {
                if targets.iter().any(|t| link.as_os_str() == t.as_str()) {
                    let name = std::fs::read_to_string(entry.path().join("comm"))
                        .map(|s| s.trim().to_string())
                        .unwrap_or_default();
                    return Some((pid, name));
                }
            }
        }
    }
    None
}

#[cfg(not(target_os = "linux"))]
fn process_holding(_: u16, _: Protocol) -> Option<(u32, String)> {
    None
}

/// Inodes of sockets bound to `port` in a /proc/net table; for TCP only
/// listening sockets (state 0A) count.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn socket_inodes(table: &str, port: u16, listening_only: bool) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local = cols.get(1)?;
            let (_, hex_port) = local.rsplit_once(':')?;
            if u16::from_str_radix(hex_port, 16).ok()? != port {
                return None;
            }
            if listening_only && *cols.get(3)? != "0A" {
                return None;
            }
            cols.get(9)?.parse::<u64>().ok().filter(|i| *i != 0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_tcp_lines_give_the_listening_inode() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:1538 0100007F:9999 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 100 0 0 10 0\n";
        assert_eq!(socket_inodes(table, 5432, true), vec![4242]);
        assert!(socket_inodes(table, 5433, true).is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_listener_of_this_process_is_found() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let (pid, _) = process_holding(port, Protocol::Tcp).expect("found");
        assert_eq!(pid, std::process::id());
    }
}
