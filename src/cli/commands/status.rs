//! `devenv status [--json]`: services, mocks, jobs, processes and tools
//! with state, readiness and URLs.

use crate::cli::App;
use crate::error::Error;
use crate::session::{self, Live, StatusDoc};
use crate::settings::Flags;

pub fn run(app: &mut App, json: bool) -> Result<i32, Error> {
    let (manifest, from_labels) = app.manifest_for_teardown()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let mut s = app.session(&manifest, &settings);
    s.from_labels = from_labels;
    let doc = session::status(&s, &Live::new())?;
    if json {
        app.printer.json(&doc);
    } else {
        print_table(app, &doc);
    }
    Ok(0)
}

fn print_table(app: &App, doc: &StatusDoc) {
    let p = &app.printer;
    p.data(&p.bold(&doc.project));
    if doc.services.is_empty() {
        p.data("  no services, mocks, jobs or processes");
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
        if let Some(Some(pid)) = s.pid {
            line.push_str(&format!("  pid {pid}"));
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
