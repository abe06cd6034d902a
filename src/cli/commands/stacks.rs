//! `devenv stacks [--json]`: the presets this repository can use, with the
//! versions each one supports.

use serde::Serialize;

use crate::cli::App;
use crate::error::Error;
use crate::stacks::{Origin, Stack, Stacks, VersionRow};

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    image: String,
    description: &'a str,
    ports: Vec<&'a str>,
    origin: Origin,
    exports: Vec<&'a str>,
    /// The tag used when a service names no `version`.
    version: &'a str,
    /// The ranges of the supported rows, newest first; empty when the
    /// preset has no version table (every version is taken as it is).
    supported_versions: Vec<&'a str>,
    /// The whole table, newest first.
    versions: Vec<VersionView<'a>>,
}

#[derive(Serialize)]
struct VersionView<'a> {
    range: &'a str,
    supported: bool,
    /// Why the range is not supported.
    reason: Option<&'a str>,
    /// What the row changes: `volumes.data`, `ready`, `env.NAME`.
    changes: Vec<String>,
    source: Option<&'a str>,
}

fn version_view(r: &VersionRow) -> VersionView<'_> {
    VersionView {
        range: r.range.get_ref(),
        supported: r.is_supported(),
        reason: r.unsupported.as_deref(),
        changes: r.changes(),
        source: r.source.as_deref(),
    }
}

fn row(s: &Stack) -> Row<'_> {
    Row {
        name: &s.name,
        image: format!("{}:{}", s.def.image, s.def.version),
        description: &s.def.description,
        ports: s.def.ports.iter().map(|p| p.0.as_str()).collect(),
        origin: s.origin,
        exports: s.def.exports.keys().map(String::as_str).collect(),
        version: &s.def.version,
        supported_versions: s.def.supported_versions(),
        versions: s.def.versions.iter().map(version_view).collect(),
    }
}

pub fn run(app: &mut App, json: bool) -> Result<i32, Error> {
    // Outside a repository the built-in presets are still worth listing.
    let stacks = match app.manifest_path() {
        Ok(p) => Stacks::load(p.parent().unwrap_or(&app.cwd))?,
        Err(_) => Stacks::built_in(),
    };
    let rows: Vec<Row> = stacks.iter().map(row).collect();
    if json {
        app.printer.json(&rows);
        return Ok(0);
    }
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4);
    let wi = rows.iter().map(|r| r.image.len()).max().unwrap_or(5);
    for r in &rows {
        let origin = if r.origin == Origin::Repository {
            " (this repository)"
        } else {
            ""
        };
        app.printer.data(&format!(
            "{:<w$}  {:<wi$}  {}{origin}",
            r.name, r.image, r.description
        ));
        if !r.supported_versions.is_empty() {
            app.printer.data(&format!(
                "{:<w$}  versions {}",
                "",
                r.supported_versions.join(" | ")
            ));
        }
    }
    Ok(0)
}
