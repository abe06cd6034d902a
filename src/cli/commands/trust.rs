//! `devenv trust`: show what the file would run and record that the user
//! trusts this exact content.

use crate::cli::App;
use crate::error::Error;
use crate::hooks::trust::commands_that_run;
use crate::progress::{Level, Reporter};
use crate::session;
use crate::settings::Flags;

pub fn run(app: &mut App) -> Result<i32, Error> {
    let m = app.manifest()?;
    let file = app.display(&m.path).into_owned();
    if commands_that_run(&m).is_empty() {
        app.printer.message(
            Level::Success,
            &format!("{file} runs no commands; nothing to trust"),
        );
        return Ok(0);
    }
    let settings = app.settings(Some(&m), &Flags::default())?;
    let s = app.session(&m, &settings);
    app.printer.message(Level::Info, &format!("{file} runs:"));
    for c in commands_that_run(&m) {
        app.printer.message(Level::Info, &format!("  {c}"));
    }
    session::trust(&s)?;
    app.printer.message(
        Level::Success,
        "trusted; a change to the file will ask again",
    );
    Ok(0)
}
