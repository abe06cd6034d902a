//! Port forwards to and from an engine on another machine, carried by the
//! one multiplexed SSH connection of that engine (its ControlMaster, which
//! `services::ssh` starts): every published port of the project to
//! 127.0.0.1 here (`ssh -O forward -L`), on the same port number when it is
//! free here, and every mock to the project network's gateway there
//! (`ssh -O forward -R`), where the containers' `/etc/hosts` entries point.
//!
//! What is in place is kept in `.devenv/state/forwards.json` with the
//! master's pid: while that master runs, an `up` that wants the same
//! forwards starts no process at all; a new master (the old one died) gets
//! them all again. `close` cancels them, and stops the master once no clone
//! uses it (one marker file per clone beside its ControlPath).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::paths::Paths;

/// One master connection, as the forwards see it.
pub struct Master {
    /// `ssh` and its arguments up to the destination (`-S CONTROL -o ...`).
    pub ssh: Vec<String>,
    /// The destination arguments, last (`-l user -p port -- host`).
    pub destination: Vec<String>,
    pub pid: u32,
    /// The engine's address, recorded with the forwards.
    pub address: String,
    /// One marker file per clone using this master.
    pub users: PathBuf,
}

/// The forwards one project needs.
#[derive(Debug, Default, Clone)]
pub struct Want {
    /// Published TCP host ports on the remote machine.
    pub ports: Vec<u16>,
    /// (address there, port): a mock listening on 127.0.0.1:port here.
    pub mocks: Vec<(IpAddr, u16)>,
}

/// What is in place.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub address: String,
    pub master_pid: u32,
    /// Remote host port -> port here.
    pub ports: BTreeMap<u16, u16>,
    pub mocks: Vec<(IpAddr, u16)>,
}

impl Record {
    pub const FILE: &'static str = "forwards.json";

    pub fn load(paths: &Paths) -> Record {
        crate::fsread::read_limited_bytes(&paths.state_file(Self::FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("forwarding {what} over ssh failed: {stderr}")]
    Ssh { what: String, stderr: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ForwardError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ForwardError::Ssh { stderr, .. } if stderr.contains("remote port forwarding failed") => Some(
                "the mocks are forwarded to the engine's network gateway: the remote sshd needs `GatewayPorts clientspecified` (sshd_config), and the port free there".into(),
            ),
            ForwardError::Ssh { .. } => {
                Some("run `devenv up` again: a dropped connection is made again".into())
            }
            ForwardError::Io { .. } => None,
        }
    }
}

/// What `ensure` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub added: usize,
    pub cancelled: usize,
    /// Remote port -> the other port it got here, because its own was taken.
    pub moved: BTreeMap<u16, u16>,
    /// The mock forwards put in place by this call, for the caller to try
    /// from the other side (`GatewayPorts`: see `forget_mock`).
    pub new_mocks: Vec<(IpAddr, u16)>,
}

/// Puts exactly the wanted forwards in place; returns the port map and
/// what changed. No ssh process runs when nothing changed.
pub fn ensure(
    master: &Master,
    want: &Want,
    paths: &Paths,
) -> Result<(BTreeMap<u16, u16>, Outcome), ForwardError> {
    let old = Record::load(paths);
    let same = old.master_pid == master.pid && old.address == master.address;
    let mut out = Outcome::default();
    let mut ports = BTreeMap::new();
    let mut add = Vec::new();
    let mut cancel = Vec::new();
    for &h in &want.ports {
        if let Some(&l) = old.ports.get(&h).filter(|_| same) {
            ports.insert(h, l);
            continue;
        }
        let l = if free(h) { h } else { any_free().unwrap_or(h) };
        if l != h {
            out.moved.insert(h, l);
        }
        ports.insert(h, l);
        add.extend(["-L".to_string(), local_spec(l, h)]);
    }
    let mut mocks = want.mocks.clone();
    mocks.sort();
    mocks.dedup();
    for m in &mocks {
        if !(same && old.mocks.contains(m)) {
            add.extend(["-R".to_string(), remote_spec(*m)]);
            out.new_mocks.push(*m);
        }
    }
    if same {
        for (&h, &l) in &old.ports {
            if !ports.contains_key(&h) {
                cancel.extend(["-L".to_string(), local_spec(l, h)]);
            }
        }
        for m in &old.mocks {
            if !mocks.contains(m) {
                cancel.extend(["-R".to_string(), remote_spec(*m)]);
            }
        }
    }
    if !cancel.is_empty() {
        out.cancelled = cancel.len() / 2;
        // A forward already gone is no reason to fail.
        let _ = control(master, "cancel", &cancel);
    }
    if !add.is_empty() {
        out.added = add.len() / 2;
        control(master, "forward", &add).map_err(|stderr| ForwardError::Ssh {
            what: describe(&add),
            stderr,
        })?;
    }
    let record = Record {
        address: master.address.clone(),
        master_pid: master.pid,
        ports: ports.clone(),
        mocks,
    };
    if record != old {
        save(paths, &record)?;
    }
    let _ = std::fs::create_dir_all(&master.users);
    let marker = master.users.join(clone_key(paths));
    if !marker.exists() {
        let _ = std::fs::write(&marker, paths.root.to_string_lossy().as_bytes());
    }
    Ok((ports, out))
}

/// Takes back a mock forward that does not reach the mock: an sshd without
/// `GatewayPorts clientspecified` binds a reverse forward to its own
/// loopback, whatever address was asked for, and says nothing. Out of the
/// record, the next `up` puts it in place and tries it again.
pub fn forget_mock(master: &Master, paths: &Paths, mock: (IpAddr, u16)) {
    let _ = control(master, "cancel", &["-R".to_string(), remote_spec(mock)]);
    let mut record = Record::load(paths);
    record.mocks.retain(|m| *m != mock);
    let _ = save(paths, &record);
}

/// Cancels this clone's forwards; stops the master when no clone uses it
/// any more. With no master (it died), only the records go.
pub fn close(master: Option<&Master>, users: Option<&PathBuf>, paths: &Paths) -> usize {
    let old = Record::load(paths);
    let mut n = 0;
    if let Some(m) = master.filter(|m| m.pid == old.master_pid) {
        let mut cancel = Vec::new();
        for (&h, &l) in &old.ports {
            cancel.extend(["-L".to_string(), local_spec(l, h)]);
        }
        for mk in &old.mocks {
            cancel.extend(["-R".to_string(), remote_spec(*mk)]);
        }
        if !cancel.is_empty() {
            n = cancel.len() / 2;
            let _ = control(m, "cancel", &cancel);
        }
    }
    let _ = std::fs::remove_file(paths.state_file(Record::FILE));
    if let Some(users) = users.or(master.map(|m| &m.users)) {
        let _ = std::fs::remove_file(users.join(clone_key(paths)));
        let _ = std::fs::remove_dir(users); // only when empty
    }
    n
}

/// True when no clone uses the master any more (its users dir is gone).
pub fn unused(users: &std::path::Path) -> bool {
    !users.exists()
}

fn control(master: &Master, op: &str, specs: &[String]) -> Result<(), String> {
    let (prog, args) = master.ssh.split_first().ok_or("no ssh")?;
    let out = Command::new(prog)
        .args(args)
        .args(["-O", op])
        .args(specs)
        .args(&master.destination)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn local_spec(here: u16, there: u16) -> String {
    format!("127.0.0.1:{here}:127.0.0.1:{there}")
}

fn remote_spec((addr, port): (IpAddr, u16)) -> String {
    format!("{addr}:{port}:127.0.0.1:{port}")
}

fn describe(specs: &[String]) -> String {
    specs
        .chunks(2)
        .map(|c| c.join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn free(port: u16) -> bool {
    TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)).is_ok()
}

fn any_free() -> Option<u16> {
    let l = TcpListener::bind("127.0.0.1:0").ok()?;
    Some(l.local_addr().ok()?.port())
}

fn clone_key(paths: &Paths) -> String {
    crate::util::sha256_hex(paths.root.to_string_lossy().as_bytes())[..16].to_string()
}

fn save(paths: &Paths, r: &Record) -> Result<(), ForwardError> {
    let io = |source| ForwardError::Io {
        path: paths.state_file(Record::FILE).display().to_string(),
        source,
    };
    paths.ensure_state_dir().map_err(io)?;
    let text = serde_json::to_vec_pretty(r).unwrap_or_default();
    crate::state::write_atomic(&paths.state_file(Record::FILE), &text).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_are_spelled_as_ssh_wants_them() {
        assert_eq!(local_spec(6379, 6379), "127.0.0.1:6379:127.0.0.1:6379");
        assert_eq!(
            remote_spec(("172.31.0.1".parse().unwrap(), 8081)),
            "172.31.0.1:8081:127.0.0.1:8081"
        );
        let specs: Vec<String> = ["-L", "a", "-R", "b"].map(String::from).to_vec();
        assert_eq!(describe(&specs), "-L a, -R b");
    }

    #[test]
    fn a_record_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path().join("repo"));
        std::fs::create_dir_all(&paths.root).unwrap();
        let r = Record {
            address: "ssh://root@10.77.0.2".into(),
            master_pid: 42,
            ports: [(6379, 6379), (8080, 40001)].into_iter().collect(),
            mocks: vec![("172.31.0.1".parse().unwrap(), 8081)],
        };
        save(&paths, &r).unwrap();
        assert_eq!(Record::load(&paths), r);
        assert_eq!(close(None, None, &paths), 0);
        assert_eq!(Record::load(&paths), Record::default());
    }
}
