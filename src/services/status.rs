//! `status` entries for services and jobs, in the contract's shape. The
//! command appends mocks and tools and prints the document.

use std::net::IpAddr;

use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use futures_util::future::join_all;
use serde::Serialize;

use crate::manifest::model::{Manifest, Probe};
use crate::paths::Paths;
use crate::state::{Connections, PortBook};

use super::network::network_name;
use super::ports::{self, Published};
use super::ready::{self, Target};
use super::{container_name, Engine, Result};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PortEntry {
    pub host: u16,
    pub container: u16,
}

/// One entry of `status --json`'s `services` list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatusEntry {
    pub name: String,
    /// "service", "mock", "job" or "process".
    pub kind: String,
    /// "running", "stopped", "exited" or "missing" (and, for a process
    /// waiting out its backoff, "restarting").
    pub state: String,
    pub ready: bool,
    pub ports: Vec<PortEntry>,
    pub url: Option<String>,
    /// Only on processes, where it is the command's pid or null: `None`
    /// leaves the key out, so the other entries read as they always did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<Option<u32>>,
}

/// Every service and job of the manifest, in declaration order. Running
/// services are probed once each (in parallel) for `ready`.
pub async fn status(
    engine: &Engine,
    manifest: &Manifest,
    paths: &Paths,
) -> Result<Vec<StatusEntry>> {
    let project = manifest.project.id.as_str();
    let list = super::project_containers(engine, project).await?;
    let by_service = super::by_service(&list);
    let mut book = PortBook::load(paths);
    let declared = ports::resolve(manifest, &mut book).unwrap_or_default();
    let connections = Connections::load(paths);
    let net = network_name(project);

    let entries = manifest.services.iter().map(|s| {
        let c = by_service.get(s.name.as_str()).copied();
        let declared: Vec<Published> = declared.get(&s.name).cloned().unwrap_or_default();
        let connections = &connections;
        let net = &net;
        async move {
            let state = state_of(c);
            let ready = match (state, s.is_job()) {
                ("exited", true) => c
                    .and_then(|c| c.status.as_deref())
                    .is_some_and(|st| st.starts_with("Exited (0)")),
                ("running", false) => {
                    let ip = super::route::probe_address(engine, c.and_then(|c| ip_on(c, net)));
                    let name = container_name(project, &s.name);
                    let image = c.and_then(|c| c.image.clone()).unwrap_or_default();
                    let t = Target {
                        engine,
                        container: &name,
                        image: &image,
                        ip,
                        ports: &declared,
                    };
                    ready::once(&t, s.ready.as_ref()).await
                }
                _ => false,
            };
            let mut ports = published(engine, c);
            if ports.is_empty() {
                ports = declared
                    .iter()
                    .map(|p| PortEntry {
                        host: engine.port_here(p.host),
                        container: p.container,
                    })
                    .collect();
            }
            ports.sort_by_key(|p| (p.container, p.host));
            ports.dedup();
            let url = connections
                .services
                .get(&s.name)
                .and_then(|e| e.exports.get("url").cloned())
                .or_else(|| match &s.ready.as_ref()?.probe {
                    Probe::Http { port, .. } => {
                        let host = declared.iter().find(|p| p.container == *port)?.host;
                        let host = engine.port_here(host);
                        Some(format!("http://127.0.0.1:{host}"))
                    }
                    _ => None,
                });
            StatusEntry {
                name: s.name.clone(),
                kind: if s.is_job() { "job" } else { "service" }.into(),
                state: state.into(),
                ready,
                ports,
                url,
                pid: None,
            }
        }
    });
    Ok(join_all(entries).await)
}

fn ip_on(c: &ContainerSummary, network: &str) -> Option<IpAddr> {
    c.network_settings
        .as_ref()?
        .networks
        .as_ref()?
        .get(network)?
        .ip_address
        .as_deref()?
        .parse()
        .ok()
}

/// The host ports a container publishes, as status shows them: where they
/// are reached from this machine (forwarded, for a remote engine).
fn published(engine: &Engine, c: Option<&bollard::models::ContainerSummary>) -> Vec<PortEntry> {
    c.and_then(|c| c.ports.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            Some(PortEntry {
                host: engine.port_here(p.public_port?),
                container: p.private_port,
            })
        })
        .collect()
}

/// The contract's state of a service's container (`missing` without one).
fn state_of(c: Option<&bollard::models::ContainerSummary>) -> &'static str {
    match c.map(|c| c.state) {
        None => "missing",
        Some(Some(ContainerSummaryStateEnum::RUNNING))
        | Some(Some(ContainerSummaryStateEnum::RESTARTING)) => "running",
        Some(Some(ContainerSummaryStateEnum::EXITED))
        | Some(Some(ContainerSummaryStateEnum::DEAD)) => "exited",
        Some(_) => "stopped",
    }
}

/// Every container carrying the project's label, when there is no
/// devenv.toml to say what should exist (see `session::standin`). Readiness
/// is not probed (the probes live in the file): a job that exited 0 counts
/// as done, nothing else as ready.
pub async fn from_labels(engine: &Engine, project_id: &str) -> Result<Vec<StatusEntry>> {
    let list = super::project_containers(engine, project_id).await?;
    let mut out: Vec<StatusEntry> = super::by_service(&list)
        .into_iter()
        .map(|(name, c)| {
            let kind = c
                .labels
                .as_ref()
                .and_then(|l| l.get(super::LABEL_KIND))
                .cloned()
                .unwrap_or_else(|| "service".into());
            let state = state_of(Some(c));
            let done = kind == "job"
                && c.status
                    .as_deref()
                    .is_some_and(|st| st.starts_with("Exited (0)"));
            let mut ports = published(engine, Some(c));
            ports.sort_by_key(|p| (p.container, p.host));
            ports.dedup();
            StatusEntry {
                name: name.to_string(),
                kind,
                state: state.to_string(),
                ready: done,
                ports,
                url: None,
                pid: None,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
