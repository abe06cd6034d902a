//! `devenv config [--json]`: every resolved setting and the file, variable
//! or flag it came from, like `git config --show-origin`. Works outside a
//! repository too (then without the devenv.toml layers).

use serde_json::{json, Map, Value};

use crate::cli::App;
use crate::error::Error;
use crate::settings::{Flags, Settings};

pub fn run(app: &mut App, json: bool) -> Result<i32, Error> {
    // A broken devenv.toml is still an error: its [settings] is a layer.
    let manifest = match app.manifest() {
        Ok(m) => Some(m),
        Err(Error::Usage { .. }) if app.file.is_none() => None,
        Err(e) => return Err(e),
    };
    let settings = app.settings(manifest.as_ref(), &Flags::default())?;
    if json {
        app.printer.json(&document(&settings, manifest.is_some()));
        return Ok(0);
    }
    let p = &app.printer;
    let rows = settings.entries();
    let width = rows.iter().map(|(k, _, _)| k.len()).max().unwrap_or(0);
    let vwidth = rows
        .iter()
        .map(|(_, v, _)| v.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let from = |origin: &crate::settings::Origin| match origin.source() {
        Some(src) => format!("{}: {src}", origin.layer()),
        None => origin.layer().to_string(),
    };
    for (key, value, origin) in &rows {
        let value = if value.is_empty() { "-" } else { value };
        p.data(&format!(
            "{key:<width$}  {value:<vwidth$}  {}",
            p.dim(&from(origin))
        ));
    }
    // Extra mounts (from outside the repository) are listed one a line.
    for m in &settings.mounts {
        let value = format!("{}: {}", m.service, m.written);
        p.data(&format!(
            "{:<width$}  {value:<vwidth$}  {}",
            "mount",
            p.dim(&from(&m.origin))
        ));
    }
    p.data("");
    let exists = if settings.user_config.is_file() {
        ""
    } else {
        " (not present)"
    };
    p.data(&p.dim(&format!(
        "user config: {}{exists}",
        settings.user_config.display()
    )));
    Ok(0)
}

fn document(s: &Settings, in_repo: bool) -> Value {
    let mut settings = Map::new();
    for (key, value, origin) in s.entries() {
        let value = if value.is_empty() {
            Value::Null
        } else {
            Value::String(value)
        };
        settings.insert(
            key.to_string(),
            json!({ "value": value, "origin": origin.layer(), "source": origin.source() }),
        );
    }
    let mounts: Vec<Value> = s
        .mounts
        .iter()
        .map(|m| {
            json!({
                "service": m.service,
                "source": m.mount.source.display().to_string(),
                "target": m.mount.target,
                "read_only": m.mount.read_only,
                "written": m.written,
                "origin": m.origin.layer(),
                "file": m.origin.source(),
            })
        })
        .collect();
    json!({
        "user_config": s.user_config.display().to_string(),
        "user_config_exists": s.user_config.is_file(),
        "in_repository": in_repo,
        "settings": settings,
        "mounts": mounts,
    })
}
