//! Checks that run before any phase, so that bad input (exit 2) and a
//! missing prerequisite (exit 3) change nothing.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::error::Error;
use crate::manifest::Manifest;

use super::Session;

/// Problems in the files devenv.toml points at: mock mappings, Pact and
/// OpenAPI files, templates, `.dockerignore`s and devenv.local.toml. Bad input like the
/// manifest itself, so `validate` and `up` both refuse them (exit 2).
pub fn file_problems(m: &Manifest) -> Diagnostics {
    let mut problems = crate::mocks::check(m);
    problems.extend(crate::render::check(m));
    problems.extend(crate::services::build::check(m));
    // `.devenv` is where `up` writes: a clone may not point it elsewhere.
    let state = std::path::Path::new(".devenv");
    if let Err(e) = crate::confine::confine(&m.root, state) {
        problems.push(
            Diagnostic::file(&m.root.join(state), format!("state directory {e}"))
                .with_hint("remove it: devenv creates .devenv/ inside the repository itself"),
        );
    }
    problems.sorted()
}

/// `[requires]`: every unmet requirement named, with what was found and
/// the range wanted. Exit 3.
pub fn requires(s: &Session<'_>) -> Result<(), Error> {
    let m = s.manifest;
    if m.requires.is_empty() {
        return Ok(());
    }
    let unmet = crate::tools::requires::check_cached(
        &m.requires,
        s.env.path(),
        &m.root,
        Some(&s.paths.cache().join("versions.json")),
    );
    if unmet.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = unmet.iter().map(|u| u.to_string()).collect();
    Err(Error::prerequisite(
        lines.join("\n"),
        "install or upgrade it, then run `devenv up` again",
    ))
}

/// Undefined template variables, checked against everything that will
/// exist when the config phase runs (see `render::check_variables`). Runs
/// no code: no secret command, no source fetch, no prompt.
pub fn template_problems(s: &Session<'_>) -> Result<Diagnostics, Error> {
    if s.manifest.config.files.is_empty() && s.manifest.env.is_empty() {
        return Ok(Diagnostics::default());
    }
    let prompts = super::prompt::SecretPrompts(&crate::prompt::NoPrompt);
    let req = super::render::request(s, Vec::new(), true, &prompts);
    let runtime = super::runtime()?;
    Ok(runtime.block_on(crate::render::check_variables(&req)))
}
