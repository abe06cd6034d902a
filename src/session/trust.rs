//! Trust: nothing in devenv.toml that runs code on this machine runs until
//! the user has trusted it (see `hooks::trust` for what counts as code).
//! Asked once, before any phase starts, so an untrusted file changes
//! nothing; when the code changed since it was last trusted, the question
//! shows what changed.

use crate::error::Error;
use crate::hooks::trust::{self as record, Code};
use crate::progress::{Level, Reporter};

use super::{PromptError, Session};

/// Records trust in this exact code; returns what the file runs.
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

/// `ensure_trusted` when the manifest holds code of these kinds; a no-op
/// otherwise (the command would run none of it).
pub fn ensure_trusted_for(s: &Session<'_>, kinds: &[Code], yes: bool) -> Result<(), Error> {
    if record::has_code(s.manifest, kinds) {
        ensure_trusted(s, yes)
    } else {
        Ok(())
    }
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
    let changes = record::changes_since_trusted(&s.paths, s.manifest);
    let refused = || {
        let what = if changes.is_empty() {
            "runs commands on this machine and is not trusted yet"
        } else {
            "changed what it runs since you trusted it"
        };
        Error::prerequisite(
            format!("{file} {what}"),
            "review them, then run `devenv trust` (or run this command again with --yes)",
        )
    };
    if changes.is_empty() {
        s.reporter
            .message(Level::Warn, &format!("{file} would run:"));
        for c in record::commands_that_run(s.manifest) {
            s.reporter.message(Level::Warn, &format!("  {c}"));
        }
    } else {
        s.reporter.message(
            Level::Warn,
            &format!("{file} changed what it runs since you trusted it:"),
        );
        for c in &changes {
            s.reporter.message(Level::Warn, &format!("  {c}"));
        }
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
