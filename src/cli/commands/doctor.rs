//! `devenv doctor [--json]`: a pass/warn/fail table of everything `up`
//! needs. Exit 0 when nothing failed (warnings included), 3 on a failure.

use crate::cli::App;
use crate::clock::{Clock, SystemClock};
use crate::doctor::{self, Check, Inputs, Status};
use crate::error::Error;
use crate::paths::Paths;
use crate::settings::Flags;

pub fn run(app: &mut App, json: bool) -> Result<i32, Error> {
    let m = app.manifest()?;
    let settings = app.settings(Some(&m), &Flags::default())?;
    let paths = Paths::new(&settings.home.value, &m.root);
    let inputs = Inputs {
        manifest: &m,
        paths: &paths,
        engine: &settings.engine,
        mirror: settings.registry_mirror.value.clone(),
        path_var: app.env.var("PATH").unwrap_or_default().to_string(),
        trusted: crate::hooks::trust::is_trusted(&paths, &m),
        now: SystemClock.now(),
    };
    let runtime = crate::session::runtime()?;
    let checks = runtime.block_on(async {
        let (mut checks, engine) = doctor::engine(&inputs).await;
        checks.extend(doctor::ports(&inputs, engine.as_ref()).await);
        if !m.services.is_empty() {
            checks.push(doctor::registry(&inputs).await);
        }
        checks.push(doctor::disk_free(&settings.home.value));
        checks.push(doctor::store_writable(&paths));
        checks.push(doctor::activation(&inputs));
        checks.extend(doctor::requirements(&inputs));
        checks
    });
    if json {
        app.printer.json(
            &serde_json::json!({ "checks": checks, "exit_code": doctor::exit_code(&checks) }),
        );
    } else {
        print_table(app, &checks);
    }
    Ok(doctor::exit_code(&checks))
}

fn print_table(app: &App, checks: &[Check]) {
    let w = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in checks {
        let mark = match c.status {
            Status::Pass => "pass",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        app.printer
            .data(&format!("{mark}  {:<w$}  {}", c.name, c.detail));
        if let Some(h) = &c.hint {
            app.printer.data(&format!("      {:<w$}  → {h}", ""));
        }
    }
}
