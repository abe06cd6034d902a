use crate::cli::App;
use crate::error::Error;
use crate::hooks::{trust, HookError};
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::ui::prompt;

/// `devenv trust`: show what the file would run and record that the user
/// trusts this exact content.
pub fn run(app: &mut App) -> Result<i32, Error> {
    let m = app.manifest()?;
    let paths = Paths::new(&app.home, &m.root);
    let commands = trust::commands_that_run(&m);
    if commands.is_empty() {
        app.printer.message(
            Level::Success,
            &format!(
                "{} runs no commands; nothing to trust",
                app.display(&m.path)
            ),
        );
        return Ok(0);
    }
    app.printer
        .message(Level::Info, &format!("{} runs:", app.display(&m.path)));
    for c in &commands {
        app.printer.message(Level::Info, &format!("  {c}"));
    }
    trust::trust(&paths, &m, chrono::Utc::now()).map_err(|e| {
        Error::failed(format!(
            "cannot record trust under {}: {e}",
            paths.trust().display()
        ))
    })?;
    app.printer.message(
        Level::Success,
        "trusted; a change to the file will ask again",
    );
    Ok(0)
}

/// Trusted already, trusted now with `--yes`, trusted by the user at a
/// prompt, or refused (exit 3) with the command that trusts it.
pub fn ensure_trusted(app: &App, m: &Manifest, paths: &Paths, yes: bool) -> Result<(), Error> {
    if trust::is_trusted(paths, m) {
        return Ok(());
    }
    let record = || {
        trust::trust(paths, m, chrono::Utc::now()).map_err(|e| {
            Error::failed(format!(
                "cannot record trust under {}: {e}",
                paths.trust().display()
            ))
        })
    };
    if yes {
        return record();
    }
    let refused = || {
        Error::prerequisite(
            format!(
                "{} runs commands on this machine and is not trusted yet",
                app.display(&m.path)
            ),
            "review them, then run `devenv trust` (or `devenv up --yes`)",
        )
    };
    app.printer
        .message(Level::Warn, &format!("{} would run:", app.display(&m.path)));
    for c in trust::commands_that_run(m) {
        app.printer.message(Level::Warn, &format!("  {c}"));
    }
    match prompt::confirm("Trust this devenv.toml and run these commands?", false) {
        Ok(true) => record(),
        Ok(false) | Err(prompt::PromptError::NotInteractive) => Err(refused()),
        Err(e) => Err(Error::failed(e)),
    }
}

/// A failed hook as the user sees it: which one, how it ended, its last output.
pub fn hook_error(e: HookError) -> Error {
    let mut msg = e.to_string();
    if let HookError::Failed { tail, .. } = &e {
        if !tail.is_empty() {
            msg.push_str("; its last output:");
            for l in tail {
                msg.push_str("\n    ");
                msg.push_str(l);
            }
        }
    }
    Error::failed(msg)
}
