//! `[secrets]`: values from an environment variable, a command's stdout
//! (`vault kv get ...`, `op read ...`), or asked once on a terminal and kept
//! in a 0600 file under DEVENV_HOME (one per project), never in the repo.
//!
//! Tried in that order: the environment, the command, the kept value, the
//! prompt. The core never talks to the terminal: asking is a
//! `SecretPrompter` the command layer provides.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::manifest::Secret;
use crate::paths::Paths;
use crate::redact::Redactor;

/// Asks the user for a secret without echoing it.
pub trait SecretPrompter {
    /// `None` when nobody can be asked (not on a terminal).
    fn ask(&self, name: &str, prompt: &str) -> anyhow::Result<Option<String>>;
}

/// For non-interactive runs: never asks.
pub struct NoPrompt;

impl SecretPrompter for NoPrompt {
    fn ask(&self, _: &str, _: &str) -> anyhow::Result<Option<String>> {
        Ok(None)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The environment variable of that name.
    Env(String),
    Command,
    /// Asked on an earlier run and kept.
    Kept,
    /// Asked just now (and kept).
    Prompt,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Env(v) => write!(f, "environment variable {v}"),
            Origin::Command => f.write_str("its command"),
            Origin::Kept => f.write_str("the value kept under DEVENV_HOME"),
            Origin::Prompt => f.write_str("the prompt"),
        }
    }
}

#[derive(Debug, Default)]
pub struct Resolved {
    pub values: BTreeMap<String, String>,
    pub origins: BTreeMap<String, Origin>,
}

/// One secret that could not be found, with what was tried.
#[derive(Debug, Clone)]
pub struct Missing {
    pub name: String,
    pub tried: Vec<String>,
    pub how: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{}", missing_message(.0))]
    Missing(Vec<Missing>),
    #[error("cannot keep secrets in {path}: {error}")]
    Store { path: PathBuf, error: String },
}

fn missing_message(m: &[Missing]) -> String {
    let names: Vec<String> = m.iter().map(|m| format!("`{}`", m.name)).collect();
    let mut s = if m.len() == 1 {
        format!("secret {} is not available", names[0])
    } else {
        format!("secrets {} are not available", names.join(", "))
    };
    for one in m {
        if !one.tried.is_empty() {
            s.push_str(&format!("\n  {}: {}", one.name, one.tried.join("; ")));
        }
    }
    s
}

impl SecretError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SecretError::Missing(m) => Some(
                m.iter()
                    .map(|m| format!("{}: {}", m.name, m.how))
                    .collect::<Vec<_>>()
                    .join("\n  "),
            ),
            SecretError::Store { .. } => None,
        }
    }
}

/// What each secret's command printed (or why it failed), by secret name:
/// one command of devenv runs each at most once, however many flows need
/// the value (the session learns it before hooks run, the config phase
/// renders with it).
#[derive(Debug, Default)]
pub struct CommandOutputs(Mutex<BTreeMap<String, Result<String, String>>>);

/// What resolving needs; built by the command layer.
pub struct Resolver<'a> {
    pub secrets: &'a [Secret],
    /// The environment variables the secrets name (and only those).
    pub vars: &'a BTreeMap<String, String>,
    pub paths: &'a Paths,
    pub project_id: &'a str,
    pub prompter: &'a dyn SecretPrompter,
    /// Learns every value found, before anything else can print it.
    pub redactor: &'a Redactor,
    /// Commands already run during this devenv command.
    pub commands: &'a CommandOutputs,
}

/// The 0600 file holding the secrets kept for one project.
pub fn store_path(paths: &Paths, project_id: &str) -> PathBuf {
    paths.secrets().join(format!("{project_id}.json"))
}

impl Resolver<'_> {
    /// Teaches the redactor every secret value available without running a
    /// command or asking (the environment, the kept file), so a value that
    /// also turns up elsewhere (a `--set`, a remote source) is masked too.
    pub fn learn_known(&self) {
        for s in self.secrets {
            if let Some(v) = s.env.as_ref().and_then(|var| self.vars.get(var)) {
                self.redactor.add(v);
            }
        }
        let kept: BTreeMap<String, String> =
            crate::state::read_json(&store_path(self.paths, self.project_id));
        for v in kept.values() {
            self.redactor.add(v);
        }
    }

    /// Teaches the redactor what each secret's command prints, for the
    /// secrets whose variable is not set (as `resolve` would). Runs
    /// repository code: only for a trusted manifest. A command that fails
    /// teaches nothing; `resolve` reports it if the value is needed.
    pub fn learn_commands(&self) {
        for s in self.secrets {
            if s.env
                .as_ref()
                .and_then(|var| self.vars.get(var))
                .is_some_and(|v| !v.is_empty())
            {
                continue;
            }
            if let Some(argv) = &s.command {
                if let Ok(v) = self.command_output(&s.name, argv) {
                    self.redactor.add(&v);
                }
            }
        }
    }

    fn command_output(&self, name: &str, argv: &[String]) -> Result<String, String> {
        let mut done = self.commands.0.lock().expect("command outputs lock");
        done.entry(name.to_string())
            .or_insert_with(|| run_command(argv, &self.paths.root))
            .clone()
    }

    /// Finds the named secrets (unknown names are ignored: the template's
    /// undefined-variable error names them). Optional ones may be absent.
    pub fn resolve(&self, names: &[&str]) -> Result<Resolved, SecretError> {
        let store = store_path(self.paths, self.project_id);
        let mut kept: BTreeMap<String, String> = crate::state::read_json(&store);
        for v in kept.values() {
            self.redactor.add(v);
        }
        let mut out = Resolved::default();
        let mut missing = Vec::new();
        let mut kept_changed = false;
        for s in self
            .secrets
            .iter()
            .filter(|s| names.contains(&s.name.as_str()))
        {
            let mut tried = Vec::new();
            let found = self.find(s, &kept, &mut tried);
            let found = match found {
                Some(f) => Some(f),
                None => match &s.prompt {
                    Some(p) => match self.prompter.ask(&s.name, p) {
                        Ok(Some(v)) if !v.is_empty() => {
                            self.redactor.add(&v);
                            kept.insert(s.name.clone(), v.clone());
                            kept_changed = true;
                            Some((v, Origin::Prompt))
                        }
                        Ok(_) => {
                            tried.push("not asked: not running on a terminal".into());
                            None
                        }
                        Err(e) => {
                            tried.push(
                                self.redactor
                                    .redact(&format!("prompt failed: {e:#}"))
                                    .into_owned(),
                            );
                            None
                        }
                    },
                    None => None,
                },
            };
            match found {
                Some((v, origin)) => {
                    out.values.insert(s.name.clone(), v);
                    out.origins.insert(s.name.clone(), origin);
                }
                None if s.optional => {}
                None => missing.push(Missing {
                    name: s.name.clone(),
                    tried,
                    how: how_to_provide(s),
                }),
            }
        }
        if kept_changed {
            save_store(&store, &kept)?;
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(SecretError::Missing(missing))
        }
    }

    fn find(
        &self,
        s: &Secret,
        kept: &BTreeMap<String, String>,
        tried: &mut Vec<String>,
    ) -> Option<(String, Origin)> {
        if let Some(var) = &s.env {
            match self.vars.get(var).filter(|v| !v.is_empty()) {
                Some(v) => {
                    self.redactor.add(v);
                    return Some((v.clone(), Origin::Env(var.clone())));
                }
                None => tried.push(format!("${var} is not set")),
            }
        }
        if let Some(argv) = &s.command {
            match self.command_output(&s.name, argv) {
                Ok(v) => {
                    self.redactor.add(&v);
                    return Some((v, Origin::Command));
                }
                Err(e) => tried.push(self.redactor.redact(&e).into_owned()),
            }
        }
        if let Some(v) = kept.get(&s.name).filter(|v| !v.is_empty()) {
            return Some((v.clone(), Origin::Kept));
        }
        None
    }
}

/// What to tell a user whose secret is missing.
fn how_to_provide(s: &Secret) -> String {
    let mut ways = Vec::new();
    if let Some(var) = &s.env {
        ways.push(format!("export {var}=..."));
    }
    if let Some(argv) = &s.command {
        ways.push(format!("make `{}` print it", argv.join(" ")));
    }
    if s.prompt.is_some() {
        ways.push(
            "run `devenv up` (or `devenv render`) once on a terminal to be asked; it is kept outside the repository".to_string(),
        );
    }
    ways.join(", or ")
}

/// Runs a secret's command and returns its stdout without the trailing
/// newline. Errors carry the command's last line of stderr (the caller
/// redacts them).
fn run_command(argv: &[String], cwd: &Path) -> Result<String, String> {
    let shown = argv.join(" ");
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "the command is empty".to_string())?;
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("`{program}` was not found on PATH"),
            _ => format!("`{shown}` could not start: {e}"),
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!(
            "`{shown}` failed ({}){}",
            out.status,
            if last.is_empty() {
                String::new()
            } else {
                format!(": {}", last.trim())
            }
        ));
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| format!("`{shown}` printed bytes that are not UTF-8 text"))?;
    let value = text.trim_end_matches(['\n', '\r']).to_string();
    if value.is_empty() {
        return Err(format!("`{shown}` printed nothing"));
    }
    Ok(value)
}

fn save_store(path: &Path, kept: &BTreeMap<String, String>) -> Result<(), SecretError> {
    let err = |e: std::io::Error| SecretError::Store {
        path: path.to_path_buf(),
        error: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
        }
    }
    let bytes = serde_json::to_vec_pretty(kept).map_err(|e| err(std::io::Error::other(e)))?;
    crate::state::write_atomic_mode(path, &bytes, Some(0o600)).map_err(err)
}

/// Forgets the secrets kept for a project (for `reset`).
pub fn forget(paths: &Paths, project_id: &str) -> std::io::Result<()> {
    match std::fs::remove_file(store_path(paths, project_id)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Typed(RefCell<Vec<String>>);
    impl SecretPrompter for Typed {
        fn ask(&self, name: &str, _: &str) -> anyhow::Result<Option<String>> {
            self.0.borrow_mut().push(name.to_string());
            Ok(Some(format!("typed-{name}")))
        }
    }

    fn secret(name: &str) -> Secret {
        Secret {
            name: name.into(),
            env: None,
            command: None,
            prompt: None,
            optional: false,
        }
    }

    fn setup() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path().to_path_buf());
        (dir, paths)
    }

    #[test]
    fn the_environment_wins_then_the_command_then_the_kept_value() {
        let (_d, paths) = setup();
        let mut s = secret("A");
        s.env = Some("A_VAR".into());
        s.command = Some(vec!["echo".into(), "from-command".into()]);
        let secrets = vec![s];
        let redactor = Redactor::new();
        let mut vars = BTreeMap::new();
        vars.insert("A_VAR".to_string(), "from-env".to_string());
        let r = Resolver {
            secrets: &secrets,
            vars: &vars,
            paths: &paths,
            project_id: "p",
            prompter: &NoPrompt,
            redactor: &redactor,
            commands: &CommandOutputs::default(),
        };
        let got = r.resolve(&["A"]).unwrap();
        assert_eq!(got.values["A"], "from-env");
        assert_eq!(redactor.redact("from-env"), crate::redact::MASK);
        let empty = BTreeMap::new();
        let r = Resolver { vars: &empty, ..r };
        let got = r.resolve(&["A"]).unwrap();
        assert_eq!(got.values["A"], "from-command");
        assert_eq!(got.origins["A"], Origin::Command);
    }

    #[test]
    fn asked_once_then_kept_in_a_private_file() {
        let (_d, paths) = setup();
        let mut s = secret("TOKEN");
        s.prompt = Some("Token".into());
        let secrets = vec![s];
        let typed = Typed(RefCell::new(Vec::new()));
        let redactor = Redactor::new();
        let vars = BTreeMap::new();
        let r = Resolver {
            secrets: &secrets,
            vars: &vars,
            paths: &paths,
            project_id: "p",
            prompter: &typed,
            redactor: &redactor,
            commands: &CommandOutputs::default(),
        };
        assert_eq!(
            r.resolve(&["TOKEN"]).unwrap().values["TOKEN"],
            "typed-TOKEN"
        );
        let again = r.resolve(&["TOKEN"]).unwrap();
        assert_eq!(again.origins["TOKEN"], Origin::Kept);
        assert_eq!(typed.0.borrow().len(), 1, "asked once");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = store_path(&paths, "p");
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dir_mode = std::fs::metadata(file.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dir_mode, 0o700);
        }
        forget(&paths, "p").unwrap();
        assert!(!store_path(&paths, "p").exists());
    }

    #[test]
    fn missing_secrets_are_named_with_how_to_provide_them() {
        let (_d, paths) = setup();
        let mut a = secret("STRIPE_KEY");
        a.env = Some("STRIPE_KEY".into());
        a.prompt = Some("Stripe key".into());
        let mut b = secret("VAULT_ONE");
        b.command = Some(vec![
            "sh".into(),
            "-c".into(),
            "echo denied >&2; exit 3".into(),
        ]);
        let mut c = secret("OPTIONAL");
        c.env = Some("OPT".into());
        c.optional = true;
        let secrets = vec![a, b, c];
        let redactor = Redactor::new();
        let vars = BTreeMap::new();
        let r = Resolver {
            secrets: &secrets,
            vars: &vars,
            paths: &paths,
            project_id: "p",
            prompter: &NoPrompt,
            redactor: &redactor,
            commands: &CommandOutputs::default(),
        };
        let e = r
            .resolve(&["STRIPE_KEY", "VAULT_ONE", "OPTIONAL"])
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`STRIPE_KEY`, `VAULT_ONE`"), "{msg}");
        assert!(msg.contains("denied"), "{msg}");
        assert!(!msg.contains("OPTIONAL"), "{msg}");
        let hint = e.hint().unwrap();
        assert!(hint.contains("export STRIPE_KEY=..."), "{hint}");
        assert!(hint.contains("on a terminal"), "{hint}");
    }

    #[test]
    fn command_output_loses_only_its_trailing_newline() {
        let v = run_command(&["printf".into(), " a b \\n\\n".into()], Path::new(".")).unwrap();
        assert_eq!(v, " a b ");
        assert!(run_command(&["true".into()], Path::new("."))
            .unwrap_err()
            .contains("printed nothing"));
        assert!(run_command(&["no-such-cmd-xyz".into()], Path::new("."))
            .unwrap_err()
            .contains("not found"));
    }
}
