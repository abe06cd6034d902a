//! The secrets one devenv command knows, learnt before anything streams.
//!
//! Everything the session relays (hook output, a failing hook's tail, `-v`
//! detail, `devenv logs`, errors) passes the session's one `Redactor`, so
//! it must know every secret value before the first byte arrives:
//!
//! - when the session is made, without running anything or asking: the
//!   values of the variables `[secrets.X] env` names (a hook inherits them,
//!   so its `echo $TOKEN` is masked) and the values kept under DEVENV_HOME;
//! - before hooks run or logs are shown, what the secrets' commands print,
//!   but only for a trusted manifest (a command is repository code). Each
//!   command runs at most once per devenv command: the config phase of
//!   `up` reuses the outputs (`CommandOutputs`), and so does this.
//!
//! The config phase teaches the same redactor anything it finds later (a
//! prompted value), so the phases after it know it too.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::hooks;
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::render::secrets::Resolver;
use crate::render::{self, CommandOutputs, NoPrompt, Redactor};
use crate::settings::ProcessEnv;

use super::Session;

/// The environment variables a render may read (those secrets and sources
/// name), and only those.
pub(super) fn referenced_vars(m: &Manifest, env: &ProcessEnv) -> BTreeMap<String, String> {
    render::referenced_vars(m)
        .into_iter()
        .filter_map(|name| env.var(&name).map(|v| (name, v.to_string())))
        .collect()
}

/// A redactor that knows every secret value available without running a
/// command or asking.
pub(super) fn known(m: &Manifest, paths: &Paths, env: &ProcessEnv) -> Redactor {
    let redactor = Redactor::new();
    let vars = referenced_vars(m, env);
    let commands = CommandOutputs::default();
    resolver(m, paths, &vars, &redactor, &commands).learn_known();
    redactor
}

fn resolver<'a>(
    m: &'a Manifest,
    paths: &'a Paths,
    vars: &'a BTreeMap<String, String>,
    redactor: &'a Redactor,
    commands: &'a CommandOutputs,
) -> Resolver<'a> {
    Resolver {
        secrets: &m.secrets,
        vars,
        paths,
        project_id: &m.project.id,
        prompter: &NoPrompt,
        redactor,
        commands,
    }
}

impl Session<'_> {
    /// This command's redactor: everything shown to the user passes it.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Teaches the redactor what the secrets' commands print, when the
    /// manifest is trusted (else nothing runs, and only the values known
    /// without running code are masked).
    pub fn learn_secret_commands(&self) {
        if !self.manifest.secrets.iter().any(|s| s.command.is_some())
            || !hooks::trust::is_trusted(&self.paths, self.manifest)
        {
            return;
        }
        let vars = referenced_vars(self.manifest, self.env);
        let commands = &self.secret_commands;
        resolver(self.manifest, &self.paths, &vars, &self.redactor, commands).learn_commands();
    }

    /// The error with every secret masked: errors quote what they were
    /// given (a hook's last lines, a template, a command's stderr).
    pub fn redact_error(&self, e: Error) -> Error {
        match e {
            Error::Invalid(d) => Error::Invalid(self.redactor.redact_diagnostics(d)),
            other => other.map_text(|t| self.redactor.redact(&t).into_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ProcessEnv;

    fn manifest(dir: &std::path::Path, text: &str) -> Manifest {
        std::fs::write(dir.join("devenv.toml"), text).unwrap();
        crate::manifest::load(&dir.join("devenv.toml")).unwrap()
    }

    #[test]
    fn known_values_come_from_the_named_variables_and_the_kept_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(
            dir.path(),
            "[secrets.TOKEN]\nenv = \"TOKEN\"\n[secrets.KEPT]\nprompt = \"Kept\"\n",
        );
        let paths = Paths::new(dir.path().join("home"), &m.root);
        let store = render::secrets::store_path(&paths, &m.project.id);
        std::fs::create_dir_all(store.parent().unwrap()).unwrap();
        std::fs::write(&store, r#"{"KEPT": "kept-value-1"}"#).unwrap();
        let env = ProcessEnv::from_pairs([("TOKEN", "env-value-1"), ("OTHER", "not-a-secret")]);
        let r = known(&m, &paths, &env);
        assert_eq!(
            r.redact("env-value-1 kept-value-1 not-a-secret"),
            format!("{0} {0} not-a-secret", crate::redact::MASK)
        );
    }
}
