//! Trust: a repository's devenv.toml may run code on the developer's machine
//! (setup and pre_down hooks, secret commands). None of it runs until the
//! user has trusted that exact file, as direnv does with `.envrc`.
//!
//! A trust record is keyed by the sha256 of the file's content, so any change
//! to the file (a new hook, an edited command) asks again.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::manifest::Manifest;
use crate::paths::Paths;

/// Everything in the manifest that would run as a command on this machine.
pub fn commands_that_run(m: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    for h in &m.hooks.setup {
        out.push(format!("setup hook:    {}", h.run));
    }
    for h in &m.hooks.pre_down {
        out.push(format!("pre_down hook: {}", h.run));
    }
    for s in &m.secrets {
        if let Some(cmd) = &s.command {
            out.push(format!("secret {}: {}", s.name, cmd.join(" ")));
        }
    }
    out
}

/// Whether anything in the manifest needs trust at all.
pub fn needs_trust(m: &Manifest) -> bool {
    !commands_that_run(m).is_empty()
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    manifest: PathBuf,
    content_hash: String,
    trusted_at: String,
    commands: Vec<String>,
}

fn record_path(paths: &Paths, m: &Manifest) -> PathBuf {
    paths.trust().join(format!("{}.json", m.content_hash))
}

pub fn is_trusted(paths: &Paths, m: &Manifest) -> bool {
    !needs_trust(m) || record_path(paths, m).is_file()
}

/// Records that the user trusts this exact content of the manifest.
pub fn trust(
    paths: &Paths,
    m: &Manifest,
    now: chrono::DateTime<chrono::Utc>,
) -> std::io::Result<()> {
    let rec = Record {
        manifest: m.path.clone(),
        content_hash: m.content_hash.clone(),
        trusted_at: now.to_rfc3339(),
        commands: commands_that_run(m),
    };
    crate::state::write_json(&record_path(paths, m), &rec)
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

    #[test]
    fn a_changed_file_is_no_longer_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let m = manifest(dir.path(), "[hooks]\nsetup = [\"echo one\"]\n");
        assert!(!is_trusted(&paths, &m));
        trust(&paths, &m, chrono::Utc::now()).unwrap();
        assert!(is_trusted(&paths, &m));
        let changed = manifest(dir.path(), "[hooks]\nsetup = [\"echo two\"]\n");
        assert!(!is_trusted(&paths, &changed));
    }

    #[test]
    fn a_file_without_commands_needs_no_trust() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("home"), dir.path());
        let m = manifest(dir.path(), "[project]\nname = \"x\"\n");
        assert!(is_trusted(&paths, &m));
    }

    #[test]
    fn secret_commands_count_as_code() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(
            dir.path(),
            "[secrets.KEY]\ncommand = [\"vault\", \"kv\", \"get\", \"x\"]\n",
        );
        assert_eq!(commands_that_run(&m), ["secret KEY: vault kv get x"]);
    }
}
