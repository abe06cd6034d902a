//! The flow side of an engine on another machine: which forwards a project
//! needs (its published TCP ports, its running mocks), when they are put in
//! place (at the start of the services phase, so readiness probes, exports
//! and templates already see the ports that work here), and when they go
//! (`down`). The mechanism is `crate::forward`, over the master connection
//! `services::ssh` keeps.

use std::net::IpAddr;

use crate::error::Error;
use crate::forward::{self, Master, Record, Want};
use crate::manifest::model::Protocol;
use crate::progress::{Level, Reporter};
use crate::services::{self, Engine};
use crate::state::{Connections, PortBook};

use super::Session;

/// Whether the configured engine is on another machine, without asking it.
pub(super) fn remote_configured(s: &Session<'_>) -> bool {
    services::engine::candidates(&s.settings.engine)
        .ok()
        .and_then(|c| c.into_iter().next())
        .is_some_and(|c| c.address.starts_with("ssh://"))
}

/// The forwards' view of the engine's master, while it runs.
fn master(engine: &Engine) -> Option<Master> {
    let t = engine.remote.as_ref()?;
    let pid = t.master_pid()?;
    let probe = t.command(&[]);
    let mut ssh = vec![probe.get_program().to_string_lossy().to_string()];
    let all: Vec<String> = probe
        .get_args()
        .map(|a| a.to_string_lossy().to_string())
        .collect();
    // `command` ends with the destination: `[-l user] [-p port] -- host`.
    let dest_at = all
        .iter()
        .position(|a| a == "-l" || a == "-p" || a == "--")
        .unwrap_or(all.len());
    ssh.extend(all[..dest_at].iter().cloned());
    Some(Master {
        ssh,
        destination: all[dest_at..].to_vec(),
        pid,
        address: engine.address.clone(),
        users: t.control.with_extension("users"),
    })
}

/// Teaches the engine where its ports are reached from here, from what
/// the last `up` forwarded (for status, exec, and the probes).
pub(super) fn learn_ports(engine: &Engine, s: &Session<'_>) {
    if engine.remote.is_none() {
        return;
    }
    let record = Record::load(&s.paths);
    let mut map = engine.ports_here.lock().unwrap_or_else(|e| e.into_inner());
    *map = record.ports;
}

/// Before the services start: every published TCP port forwarded here, and
/// every running mock to the gateway there. A no-op (no process started)
/// when the same master already carries the same forwards. Returns the
/// mock forwards it added, for `check_mocks`.
pub(super) fn ensure(
    engine: &Engine,
    s: &Session<'_>,
    gateway: Option<IpAddr>,
    reporter: &dyn Reporter,
) -> Result<Vec<(IpAddr, u16)>, Error> {
    let Some(t) = engine.remote.as_ref() else {
        return Ok(Vec::new());
    };
    let Some(master) = master(engine) else {
        return Err(Error::failed_with(
            format!("the ssh connection to {} is gone", t.destination.host),
            Some("run `devenv up` again: the connection is made again".into()),
        ));
    };
    let mut book = PortBook::load(&s.paths);
    let published = services::ports::resolve(s.manifest, &mut book)
        .map_err(|e| Error::failed(format!("cannot pick a free port: {e}")))?;
    // The same `auto:` picks for the services phase (the forwards now hold
    // those ports here, so a second pick would choose others).
    s.paths
        .ensure_state_dir()
        .and_then(|_| book.save(&s.paths))
        .map_err(|e| Error::failed(format!("cannot write .devenv/state: {e}")))?;
    let mut want = Want::default();
    for p in published.values().flatten() {
        if p.protocol == Protocol::Tcp && !want.ports.contains(&p.host) {
            want.ports.push(p.host);
        }
    }
    if let Some(gw) = gateway {
        let conns = Connections::load(&s.paths);
        want.mocks = s
            .manifest
            .mocks
            .iter()
            .filter_map(|m| conns.mocks.get(&m.name))
            .map(|e| (gw, e.port))
            .collect();
    }
    let (map, outcome) = forward::ensure(&master, &want, &s.paths).map_err(|e| {
        let hint = e.hint();
        Error::failed_with(e, hint)
    })?;
    for (there, here) in &outcome.moved {
        reporter.message(
            Level::Warn,
            &format!(
                "port {there} is taken on this machine: forwarded to 127.0.0.1:{here} instead"
            ),
        );
    }
    if outcome.added + outcome.cancelled > 0 {
        reporter.message(
            Level::Detail,
            &format!(
                "forwards over ssh to {}: {} added, {} cancelled",
                t.destination.host, outcome.added, outcome.cancelled
            ),
        );
    }
    *engine.ports_here.lock().unwrap_or_else(|e| e.into_inner()) = map;
    Ok(outcome.new_mocks)
}

/// Tries each new mock forward from the remote side, as a container would
/// reach it (the SOCKS forward connects from there). One that does not
/// answer is a warning naming the sshd setting, and is taken back so the
/// next `up` tries again. Only new forwards: a no-op `up` sends nothing.
pub(super) async fn check_mocks(
    engine: &Engine,
    s: &Session<'_>,
    added: &[(IpAddr, u16)],
    reporter: &dyn Reporter,
) {
    // Before anything else: on a no-op `up` nothing was added, and the
    // master's command line and connections.json are not needed.
    if added.is_empty() {
        return;
    }
    let (Some(t), Some(master)) = (engine.remote.as_ref(), master(engine)) else {
        return;
    };
    let conns = Connections::load(&s.paths);
    for &(gw, port) in added {
        if t.connect(std::net::SocketAddr::new(gw, port))
            .await
            .is_some()
        {
            continue;
        }
        let name = conns
            .mocks
            .iter()
            .find(|(_, e)| e.port == port)
            .map_or("a mock".to_string(), |(n, _)| format!("mock `{n}`"));
        reporter.message(
            Level::Warn,
            &format!(
                "{name} is not reachable from the containers on {}: its sshd did not bind the \
                 reverse forward to {gw}:{port}. Set `GatewayPorts clientspecified` in that \
                 machine's sshd_config, restart sshd, then run `devenv down` and `devenv up`",
                t.destination.host
            ),
        );
        forward::forget_mock(&master, &s.paths, (gw, port));
    }
}

/// `down`: this clone's forwards cancelled; the master stopped when no
/// other clone uses it. Without an engine (it did not answer), only the
/// records go; a dead master took its forwards with it.
pub(super) fn close(engine: Option<&Engine>, s: &Session<'_>) {
    let tunnel = engine.and_then(|e| e.remote.as_ref());
    let master = engine.and_then(master);
    let users = tunnel.map(|t| t.control.with_extension("users"));
    let n = forward::close(master.as_ref(), users.as_ref(), &s.paths);
    if n > 0 {
        s.reporter
            .message(Level::Detail, &format!("{n} ssh forwards closed"));
    }
    if let (Some(t), Some(users)) = (tunnel, users) {
        if forward::unused(&users) {
            t.exit();
        }
    }
}
