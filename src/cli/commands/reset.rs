//! `devenv reset [--yes]`: back to a fresh clone. Removes the project's
//! containers, network and volumes, (mocks and rendered files,) and the
//! clone's `.devenv/` state. Asks first on a terminal; off a terminal it
//! never asks and needs `--yes`.

use crate::cli::args::YesArgs;
use crate::cli::App;
use crate::error::Error;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::ui::prompt::{self, PromptError};

pub fn run(app: &mut App, args: YesArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let paths = Paths::new(&app.home, &manifest.root);
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
    let runtime = super::runtime()?;
    let report = runtime.block_on(super::up::interruptible(async {
        let engine = super::down::connect_engine().await?;
        // The lead adds: stop this project's mocks here.
        super::down::down_services(&engine, &manifest, true).await
    }))?;
    // The lead adds: remove the rendered config files here (before the
    // state that records them goes).
    let state = paths.state_dir();
    if state.exists() {
        std::fs::remove_dir_all(&state).map_err(|e| {
            Error::Failed(anyhow::anyhow!("cannot remove {}: {e}", state.display()))
        })?;
    }
    app.printer.message(
        Level::Success,
        &format!(
            "{} is reset: removed {} container(s), {} volume(s) and .devenv/",
            manifest.project.name,
            report.containers.len(),
            report.volumes.len()
        ),
    );
    Ok(0)
}
