//! `devenv status [--json]`: services, mocks, jobs and tools with state,
//! readiness and URLs, assembled from what each module reports.

use serde::Serialize;

use crate::cli::App;
use crate::error::Error;
use crate::mocks::MockStatus;
use crate::paths::Paths;
use crate::services::{self, PortEntry, StatusEntry};
use crate::tools::ToolStatus;

/// The contract's `status --json` document.
#[derive(Debug, Serialize)]
pub struct StatusDoc {
    pub project: String,
    /// Services and jobs (from the engine), then mocks (from their state).
    pub services: Vec<StatusEntry>,
    pub tools: Vec<ToolStatus>,
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
    }
}

pub fn run(app: &mut App, json: bool) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let paths = Paths::new(&app.home, &manifest.root);
    let runtime = super::runtime()?;
    let services = if manifest.services.is_empty() {
        Vec::new()
    } else {
        runtime.block_on(super::up::interruptible(async {
            let engine = super::down::connect_engine().await?;
            services::status(&engine, &manifest, &paths)
                .await
                .map_err(super::down::services_error)
        }))?
    };
    let mut services = services;
    services.extend(
        crate::mocks::status(&manifest, &paths)
            .into_iter()
            .map(mock_entry),
    );
    let doc = StatusDoc {
        project: manifest.project.name.clone(),
        services,
        tools: crate::tools::status(&manifest, &paths),
    };
    if json {
        app.printer.json(&doc);
        return Ok(0);
    }
    print_table(app, &doc);
    Ok(0)
}

fn print_table(app: &App, doc: &StatusDoc) {
    let p = &app.printer;
    p.data(&p.bold(&doc.project));
    if doc.services.is_empty() {
        p.data("  no services, mocks or jobs");
    }
    let width = doc.services.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in &doc.services {
        let ready = match (s.state.as_str(), s.ready) {
            (_, true) if s.kind == "job" => "done",
            (_, true) => "ready",
            ("running", false) => "not ready",
            _ => "",
        };
        let ports: Vec<String> = s
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{}->{}", p.host, p.container))
            .collect();
        let mut line = format!(
            "  {:<width$}  {:<7}  {:<8}  {:<9}",
            s.name, s.kind, s.state, ready
        );
        if !ports.is_empty() {
            line.push_str(&format!("  {}", ports.join(", ")));
        }
        if let Some(u) = &s.url {
            line.push_str(&format!("  {}", p.dim(u)));
        }
        p.data(line.trim_end());
    }
    for t in &doc.tools {
        p.data(&format!(
            "  {} {} {}",
            t.name,
            t.version,
            if t.installed { "installed" } else { "missing" }
        ));
    }
}
