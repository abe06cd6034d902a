//! Trust: nothing in devenv.toml that runs code on this machine runs until
//! the user has trusted that exact file (see `hooks::trust`). Asked here,
//! once, before any phase starts, so an untrusted file changes nothing.

use crate::error::Error;
use crate::hooks::trust as record;
use crate::progress::{Level, Reporter};

use super::{PromptError, Session};

/// Records trust in this exact content; returns what the file runs.
pub fn trust(s: &Session<'_>) -> Result<Vec<String>, Error> {
    let commands = record::commands_that_run(s.manifest);
    if commands.is_empty() {
        return Ok(commands);
    }
    record::trust(&s.paths, s.manifest, s.clock.now()).map_err(|e| {
        Error::failed(format!(
            "cannot record trust under {}: {e}",
            s.paths.trust().display()
        ))
    })?;
    Ok(commands)
}

/// Trusted already, trusted now with `--yes`, trusted by the user at a
/// prompt, or refused (exit 3) with the command that trusts it.
pub fn ensure_trusted(s: &Session<'_>, yes: bool) -> Result<(), Error> {
    if record::is_trusted(&s.paths, s.manifest) {
        return Ok(());
    }
    if yes {
        return trust(s).map(|_| ());
    }
    let file = s.paths.relative(&s.manifest.path).display().to_string();
    let refused = || {
        Error::prerequisite(
            format!("{file} runs commands on this machine and is not trusted yet"),
            "review them, then run `devenv trust` (or `devenv up --yes`)",
        )
    };
    s.reporter
        .message(Level::Warn, &format!("{file} would run:"));
    for c in record::commands_that_run(s.manifest) {
        s.reporter.message(Level::Warn, &format!("  {c}"));
    }
    match s
        .prompter
        .confirm("Trust this devenv.toml and run these commands?", false)
    {
        Ok(true) => trust(s).map(|_| ()),
        Ok(false) | Err(PromptError::NotInteractive) => Err(refused()),
        Err(e) => Err(Error::failed(e)),
    }
}
