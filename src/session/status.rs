//! `status`: services, mocks, jobs, processes and tools with state,
//! readiness and URLs, assembled from what each module reports.

use serde::Serialize;

use crate::error::Error;
use crate::mocks::MockStatus;
use crate::processes::ProcessStatus;
use crate::services::{PortEntry, StatusEntry};
use crate::tools::ToolStatus;

use super::{interruptible, Backend, Session};

/// The contract's `status --json` document.
#[derive(Debug, Serialize)]
pub struct StatusDoc {
    pub project: String,
    /// Services and jobs (from the engine), then mocks and processes (from
    /// their state).
    pub services: Vec<StatusEntry>,
    pub tools: Vec<ToolStatus>,
}

pub fn status<B: Backend>(s: &Session<'_>, backend: &B) -> Result<StatusDoc, Error> {
    let mut services = if s.manifest.services.is_empty() && !s.from_labels {
        Vec::new()
    } else {
        super::runtime()?.block_on(interruptible(backend.services_status(s)))?
    };
    services.extend(
        crate::mocks::status(s.manifest, &s.paths)
            .into_iter()
            .map(mock_entry),
    );
    if !s.manifest.processes.is_empty() {
        let processes = super::runtime()?.block_on(interruptible(async {
            Ok(crate::processes::status(s.manifest, &s.paths).await)
        }))?;
        services.extend(processes.into_iter().map(process_entry));
    }
    Ok(StatusDoc {
        project: s.manifest.project.name.clone(),
        services,
        tools: crate::tools::status(s.manifest, &s.paths),
    })
}

/// A mock as one more entry of the `services` list.
fn mock_entry(m: MockStatus) -> StatusEntry {
    StatusEntry {
        name: m.name,
        kind: m.kind.to_string(),
        state: m.state.to_string(),
        ready: m.ready,
        ports: m
            .ports
            .into_iter()
            .map(|p| PortEntry {
                host: p.host,
                container: p.container,
            })
            .collect(),
        url: m.url,
        pid: None,
    }
}

/// A process as one more entry, with its pid (null when not running).
fn process_entry(p: ProcessStatus) -> StatusEntry {
    StatusEntry {
        name: p.name,
        kind: "process".into(),
        state: p.state.into(),
        ready: p.ready,
        ports: Vec::new(),
        url: p.url,
        pid: Some(p.pid),
    }
}
