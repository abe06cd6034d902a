//! `devenv reset [--yes]`: back to a fresh clone (the flow is
//! `session::reset`). Asks first on a terminal; off a terminal it never
//! asks and needs `--yes`.

use crate::cli::args::ResetArgs;
use crate::cli::App;
use crate::clock::SystemClock;
use crate::error::Error;
use crate::metrics::Start;
use crate::progress::{Level, Reporter};
use crate::prompt::{PromptError, Prompter};
use crate::session::{self, Live, Wait};
use crate::settings::Flags;
use crate::ui::prompt::Terminal;

pub fn run(app: &mut App, args: ResetArgs) -> Result<i32, Error> {
    let start = Start::now(&SystemClock);
    let (manifest, from_labels) = app.manifest_for_teardown()?;
    let name = &manifest.project.name;
    if !args.yes {
        let question = format!(
            "Reset {name}? This deletes its containers, data volumes, built images and local state"
        );
        match Terminal.confirm(&question, false) {
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
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let mut s = app.session(&manifest, &settings);
    s.from_labels = from_labels;
    let wait = if args.no_wait { Wait::No } else { Wait::Yes };
    let done = session::reset(&s, &Live::new(), wait, start)?;
    for kept in &done.rendered.kept {
        app.printer.message(
            Level::Warn,
            &format!(
                "kept {}: edited by hand since devenv rendered it",
                app.display(kept)
            ),
        );
    }
    app.printer.message(
        Level::Success,
        &format!(
            "{name} is reset: removed {} container(s), {} volume(s), {} built image(s), {} rendered file(s) and .devenv/",
            done.removed.containers.len(),
            done.removed.volumes.len(),
            done.removed.images.len(),
            done.rendered.removed.len()
        ),
    );
    Ok(0)
}
