//! `devenv reset [--yes]`: back to a fresh clone. Runs `pre_down` hooks,
//! stops the mocks, removes the project's containers, network and volumes,
//! the rendered config files (unless edited by hand) and the clone's
//! `.devenv/` state. Asks first on a terminal; off a terminal it never asks
//! and needs `--yes`.

use crate::cli::args::YesArgs;
use crate::cli::App;
use crate::error::Error;
use crate::manifest::Manifest;
use crate::metrics::{RunKind, Start};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::ui::prompt::{self, PromptError};

pub fn run(app: &mut App, args: YesArgs) -> Result<i32, Error> {
    let start = Start::now(&super::metrics::CLOCK);
    let manifest = app.manifest()?;
    if !args.yes {
        let question = format!(
            "Reset {}? This deletes its containers, data volumes and local state",
            manifest.project.name
        );
        match prompt::confirm(&question, false) {
            Ok(true) => {}
            Ok(false) => {
                app.printer.message(Level::Info, "nothing was changed");
                return Ok(1);
            }
            Err(PromptError::NotInteractive) => return Err(Error::usage(
                "`devenv reset` deletes data and needs confirmation, but this is not a terminal",
                Some("run `devenv reset --yes` to confirm".into()),
            )),
            Err(PromptError::Io(e)) => return Err(Error::usage(e, None)),
        }
    }
    let result = reset(app, &manifest);
    super::metrics::record_run(app, &manifest, RunKind::Reset, start, &result);
    result
}

fn reset(app: &App, manifest: &Manifest) -> Result<i32, Error> {
    let paths = Paths::new(&app.home, &manifest.root);
    super::down::run_pre_down(app, manifest, &paths);
    super::down::stop_mocks(app, &paths);
    let report = super::down::remove_containers(manifest, true)?;
    // Before `.devenv/` goes: it records which files devenv wrote.
    let rendered = crate::render::remove_outputs(manifest, &paths)
        .map_err(|e| Error::failed(format!("cannot remove rendered files: {e}")))?;
    for kept in &rendered.kept {
        app.printer.message(
            Level::Warn,
            &format!(
                "kept {}: edited by hand since devenv rendered it",
                app.display(kept)
            ),
        );
    }
    let state = paths.state_dir();
    if state.exists() {
        std::fs::remove_dir_all(&state)
            .map_err(|e| Error::failed(format!("cannot remove {}: {e}", state.display())))?;
    }
    app.printer.message(
        Level::Success,
        &format!(
            "{} is reset: removed {} container(s), {} volume(s), {} rendered file(s) and .devenv/",
            manifest.project.name,
            report.containers.len(),
            report.volumes.len(),
            rendered.removed.len()
        ),
    );
    Ok(0)
}
