//! Tear-down must always work: `down`, `reset` and `status` work from the
//! labels and the clone's state files even when devenv.toml does not load
//! (a bad edit, a merge conflict) or is gone.
//!
//! They get a stand-in manifest: the project name recovered from whatever
//! of the file still parses (else the clone's default, from its directory),
//! with no services, mocks, hooks or code. Everything they remove is found
//! by the project label and the clone's state, so nothing a broken file
//! says is trusted or run.

use std::path::{Path, PathBuf};

use crate::manifest::{self, Manifest};
use crate::stacks::Stacks;

/// The clone's state file naming its project id, written by `up`.
const PROJECT_FILE: &str = "project-id";

/// Remembers the project id for a later stand-in (written only when it
/// changes, so a no-op `up` writes nothing).
pub fn remember_project(paths: &crate::paths::Paths, id: &str) -> std::io::Result<()> {
    let file = paths.state_file(PROJECT_FILE);
    if std::fs::read_to_string(&file).is_ok_and(|old| old == id) {
        return Ok(());
    }
    paths.ensure_state_dir()?;
    crate::state::write_atomic(&file, id.as_bytes())
}

/// A manifest for `root` that names only the project.
pub fn stand_in(manifest_path: &Path) -> Manifest {
    let root = manifest_path.parent().unwrap_or(Path::new("."));
    let text = std::fs::read_to_string(manifest_path).unwrap_or_default();
    let remembered = || {
        let p = root.join(".devenv/state").join(PROJECT_FILE);
        std::fs::read_to_string(p)
            .ok()
            .filter(|id| manifest::valid_name(id))
    };
    let source = match recovered_name(&text).or_else(remembered) {
        Some(name) => format!("[project]\nname = \"{name}\"\n"),
        None => String::new(),
    };
    let path = root.join(manifest::FILE_NAME);
    manifest::parse(&path, &source, &Stacks::built_in())
        // A recovered name that is not valid: fall back to the default id.
        .or_else(|_| manifest::parse(&path, "", &Stacks::built_in()))
        .expect("an empty manifest is valid")
}

/// `[project] name`, from as much of the file as parses.
fn recovered_name(text: &str) -> Option<String> {
    let (doc, _errors) = toml::de::DeTable::parse_recoverable(text);
    let project = doc.get_ref().get("project")?;
    let toml::de::DeValue::Table(t) = project.get_ref() else {
        return None;
    };
    match t.get("name")?.get_ref() {
        toml::de::DeValue::String(s) if manifest::valid_name(s) => Some(s.to_string()),
        _ => None,
    }
}

/// Where a clone without a devenv.toml is: the nearest directory upwards
/// holding `.devenv/` (state only `up` writes).
pub fn clone_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(".devenv").is_dir())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_survives_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("devenv.toml");
        std::fs::write(&p, "[project]\nname = \"shop\"\n[services.db\nimage = ").unwrap();
        assert_eq!(stand_in(&p).project.id, "shop");
    }

    #[test]
    fn a_deleted_file_leaves_the_name_up_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::paths::Paths::new(dir.path().join("home"), dir.path());
        remember_project(&paths, "shop").unwrap();
        assert_eq!(stand_in(&dir.path().join("devenv.toml")).project.id, "shop");
    }

    #[test]
    fn without_a_name_the_clone_default_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("devenv.toml");
        std::fs::write(&p, "this is = = not toml").unwrap();
        let m = stand_in(&p);
        let default = manifest::parse(&p, "", &Stacks::built_in()).unwrap();
        assert_eq!(m.project.id, default.project.id);
        assert!(m.services.is_empty() && m.hooks.setup.is_empty());
    }
}
