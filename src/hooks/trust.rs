//! Trust: a repository's devenv.toml may run code on the developer's
//! machine. None of it runs until the user has trusted it, as direnv does
//! with `.envrc` and mise with `mise trust`.
//!
//! Code means exactly: `[hooks]` (setup and pre_down), secret `command`s,
//! `[requires]` entries that are paths (devenv runs them to ask their
//! version), `[config.sources]` (devenv fetches them, with tokens from
//! the environment), and `[processes]` (their command, and the cwd and env
//! it runs with, since `NODE_OPTIONS` or `LD_PRELOAD` change what runs). A trust record is keyed by this clone's devenv.toml
//! path and a hash of exactly those parts, so editing a service's env or a
//! mock route needs no new trust, while any change to what runs asks again;
//! the record keeps the list, so the question can show what changed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::manifest::Manifest;
use crate::paths::Paths;

/// The kinds of code a devenv.toml can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Hooks,
    SecretCommands,
    RequiresPaths,
    ConfigSources,
    Processes,
}

impl Code {
    /// In the order the question lists them; a new kind goes last, so the
    /// records of files without it keep their keys.
    pub const ALL: [Code; 5] = [
        Code::Hooks,
        Code::SecretCommands,
        Code::RequiresPaths,
        Code::ConfigSources,
        Code::Processes,
    ];
}

/// A `[requires]` name that is a path (`./scripts/check.sh`) rather than a
/// command looked up on PATH: devenv would run a file of the repository.
pub fn is_path_requirement(name: &str) -> bool {
    name.contains('/') || name.contains('\\')
}

/// The code of one kind, one line each, as the user is shown it.
pub fn code_of(m: &Manifest, kind: Code) -> Vec<String> {
    let mut out = Vec::new();
    match kind {
        Code::Hooks => {
            for h in &m.hooks.setup {
                out.push(format!("setup hook:    {}", h.run));
            }
            for h in &m.hooks.pre_down {
                out.push(format!("pre_down hook: {}", h.run));
            }
        }
        Code::SecretCommands => {
            for s in &m.secrets {
                if let Some(cmd) = &s.command {
                    out.push(format!("secret {}: {}", s.name, cmd.join(" ")));
                }
            }
        }
        Code::RequiresPaths => {
            for r in m.requires.iter().filter(|r| is_path_requirement(&r.name)) {
                out.push(format!("requires:      {} --version", r.name));
            }
        }
        Code::ConfigSources => {
            for s in &m.config.sources {
                out.push(format!("config source {}: fetch {}", s.name, s.url));
            }
        }
        Code::Processes => out.extend(m.processes.iter().map(|p| process_line(m, p))),
    }
    out
}

/// `process web:   npm run dev (cwd web, env PORT=3000)`.
fn process_line(m: &Manifest, p: &crate::manifest::Process) -> String {
    let mut with = Vec::new();
    if let Ok(rel) = p.cwd.strip_prefix(&m.root) {
        if !rel.as_os_str().is_empty() {
            with.push(format!("cwd {}", rel.display()));
        }
    }
    if !p.env.is_empty() {
        let vars: Vec<String> = p.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        with.push(format!("env {}", vars.join(" ")));
    }
    let mut line = format!("process {}: {}", p.name, p.command.display());
    if !with.is_empty() {
        line.push_str(&format!(" ({})", with.join(", ")));
    }
    line
}

/// Everything in the manifest that would run as code on this machine.
pub fn commands_that_run(m: &Manifest) -> Vec<String> {
    Code::ALL.iter().flat_map(|k| code_of(m, *k)).collect()
}

/// Whether any of these kinds of code is in the manifest.
pub fn has_code(m: &Manifest, kinds: &[Code]) -> bool {
    kinds.iter().any(|k| !code_of(m, *k).is_empty())
}

/// Whether anything in the manifest needs trust at all.
pub fn needs_trust(m: &Manifest) -> bool {
    !commands_that_run(m).is_empty()
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    manifest: PathBuf,
    /// The hash the record is keyed by (path and code).
    key: String,
    trusted_at: String,
    commands: Vec<String>,
}

fn key(m: &Manifest) -> String {
    let text = format!("{}\n{}", m.path.display(), commands_that_run(m).join("\n"));
    crate::util::sha256_hex(text.as_bytes())
}

fn record_path(paths: &Paths, m: &Manifest) -> PathBuf {
    paths.trust().join(format!("{}.json", &key(m)[..32]))
}

pub fn is_trusted(paths: &Paths, m: &Manifest) -> bool {
    !needs_trust(m) || record_path(paths, m).is_file()
}

/// Records that the user trusts exactly this code of this devenv.toml.
pub fn trust(
    paths: &Paths,
    m: &Manifest,
    now: chrono::DateTime<chrono::Utc>,
) -> std::io::Result<()> {
    let rec = Record {
        manifest: m.path.clone(),
        key: key(m),
        trusted_at: now.to_rfc3339(),
        commands: commands_that_run(m),
    };
    crate::state::write_json(&record_path(paths, m), &rec)
}

/// What changed since this devenv.toml was last trusted: lines added
/// (`+ `) and removed (`- `). Empty when it was never trusted.
pub fn changes_since_trusted(paths: &Paths, m: &Manifest) -> Vec<String> {
    let Some(last) = last_record(paths, &m.path) else {
        return Vec::new();
    };
    let now = commands_that_run(m);
    let mut out: Vec<String> = last
        .commands
        .iter()
        .filter(|c| !now.contains(c))
        .map(|c| format!("- {c}"))
        .collect();
    out.extend(
        now.iter()
            .filter(|c| !last.commands.contains(c))
            .map(|c| format!("+ {c}")),
    );
    out
}

/// The newest record for this devenv.toml path, if any.
fn last_record(paths: &Paths, manifest: &Path) -> Option<Record> {
    std::fs::read_dir(paths.trust())
        .ok()?
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| serde_json::from_slice::<Record>(&std::fs::read(e.path()).ok()?).ok())
        .filter(|r| r.manifest == manifest)
        .max_by(|a, b| a.trusted_at.cmp(&b.trusted_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::Stacks;

    fn manifest(dir: &std::path::Path, text: &str) -> Manifest {
        let path = dir.join("devenv.toml");
        std::fs::write(&path, text).unwrap();
        crate::manifest::parse(&path, text, &Stacks::built_in()).unwrap()
    }

    fn paths(dir: &std::path::Path) -> Paths {
        Paths::new(dir.join("home"), dir)
    }

    #[test]
    fn a_changed_hook_is_no_longer_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let m = manifest(dir.path(), "[hooks]\nsetup = [\"echo one\"]\n");
        assert!(!is_trusted(&paths, &m));
        trust(&paths, &m, chrono::Utc::now()).unwrap();
        assert!(is_trusted(&paths, &m));
        let changed = manifest(dir.path(), "[hooks]\nsetup = [\"echo two\"]\n");
        assert!(!is_trusted(&paths, &changed));
        assert_eq!(
            changes_since_trusted(&paths, &changed),
            ["- setup hook:    echo one", "+ setup hook:    echo two"]
        );
    }

    #[test]
    fn editing_a_services_env_needs_no_new_trust() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let hook = "[hooks]\nsetup = [\"echo one\"]\n";
        let m = manifest(
            dir.path(),
            &format!("{hook}[services.db]\nimage = \"redis:7\"\nenv = {{ A = \"1\" }}\n"),
        );
        trust(&paths, &m, chrono::Utc::now()).unwrap();
        let edited = manifest(
            dir.path(),
            &format!("{hook}[services.db]\nimage = \"redis:7\"\nenv = {{ A = \"2\" }}\n"),
        );
        assert!(is_trusted(&paths, &edited));
    }

    #[test]
    fn a_file_without_commands_needs_no_trust() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(dir.path(), "[project]\nname = \"x\"\n");
        assert!(is_trusted(&paths(dir.path()), &m));
    }

    #[test]
    fn every_kind_of_code_counts() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(
            dir.path(),
            "[requires]\ngit = \"*\"\n\"./evil.sh\" = \">=0.1\"\n\
             [secrets.KEY]\ncommand = [\"vault\", \"kv\", \"get\", \"x\"]\n\
             [config.sources.team]\nkind = \"http\"\nurl = \"http://127.0.0.1:1/v.json\"\n",
        );
        assert_eq!(
            commands_that_run(&m),
            [
                "secret KEY: vault kv get x",
                "requires:      ./evil.sh --version",
                "config source team: fetch http://127.0.0.1:1/v.json",
            ]
        );
        assert!(has_code(&m, &[Code::RequiresPaths]));
        assert!(!has_code(&m, &[Code::Hooks]));
    }

    #[test]
    fn a_process_is_code_with_its_cwd_and_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("web")).unwrap();
        let paths = paths(dir.path());
        let text = "[processes.web]\ncommand = [\"npm\", \"run\", \"dev\"]\ncwd = \"web\"\nenv = { PORT = 3000 }\n";
        let m = manifest(dir.path(), text);
        assert_eq!(
            commands_that_run(&m),
            ["process web: npm run dev (cwd web, env PORT=3000)"]
        );
        assert!(has_code(&m, &[Code::Processes]) && !is_trusted(&paths, &m));
        trust(&paths, &m, chrono::Utc::now()).unwrap();
        let preloaded = manifest(
            dir.path(),
            &text.replace("PORT = 3000", "PORT = 3000, LD_PRELOAD = \"./x.so\""),
        );
        assert!(!is_trusted(&paths, &preloaded), "a new variable asks again");
    }
}
