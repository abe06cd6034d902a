use serde::Serialize;

use crate::cli::App;
use crate::error::Error;
use crate::stacks::{Origin, Stacks};

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    image: String,
    description: &'a str,
    ports: Vec<&'a str>,
    origin: Origin,
    exports: Vec<&'a str>,
}

pub fn run(app: &mut App, json: bool) -> Result<i32, Error> {
    // Outside a repository the built-in presets are still worth listing.
    let stacks = match app.manifest_path() {
        Ok(p) => Stacks::load(p.parent().unwrap_or(&app.cwd))?,
        Err(_) => Stacks::built_in(),
    };
    let rows: Vec<Row> = stacks
        .iter()
        .map(|s| Row {
            name: &s.name,
            image: format!("{}:{}", s.def.image, s.def.version),
            description: &s.def.description,
            ports: s.def.ports.iter().map(|p| p.0.as_str()).collect(),
            origin: s.origin,
            exports: s.def.exports.keys().map(String::as_str).collect(),
        })
        .collect();
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
    }
    Ok(0)
}
