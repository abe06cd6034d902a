//! `devenv gc`: remove store entries no known project uses.

use crate::cli::App;
use crate::error::Error;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::settings::Flags;
use crate::tools;

pub fn run(app: &mut App) -> Result<i32, Error> {
    // gc works on the machine's store; it needs no devenv.toml.
    let settings = app.settings(None, &Flags::default())?;
    let paths = Paths::new(&settings.home.value, &app.cwd);
    let report = tools::gc(&paths)
        .map_err(|e| Error::failed(format!("cannot clean the tool store: {e}")))?;
    for p in &report.forgotten_projects {
        app.printer.message(
            Level::Detail,
            &format!("forgot {} (the directory is gone)", p.display()),
        );
    }
    if report.parts_removed > 0 {
        app.printer.message(
            Level::Info,
            &format!(
                "removed {} unfinished download(s) left by an interrupted run",
                report.parts_removed
            ),
        );
    }
    for name in &report.removed {
        app.printer.message(Level::Info, &format!("removed {name}"));
    }
    app.printer.message(
        Level::Success,
        &format!(
            "removed {} store entries ({:.1} MiB), kept {} in use",
            report.removed.len(),
            report.freed_bytes as f64 / (1u64 << 20) as f64,
            report.kept.len()
        ),
    );
    Ok(0)
}
