//! Activation: `.devenv/bin` links to the pinned binaries, the clone's
//! record of what is installed, and the project environment that `exec`,
//! `env`, `shell` and hooks share.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::manifest::Manifest;
use crate::paths::Paths;

/// `.devenv/state/tools.json`: what the last `up` installed, so a no-op `up`
/// only compares this with devenv.toml and stats a few files.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ToolState {
    pub tools: BTreeMap<String, InstalledTool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstalledTool {
    pub version: String,
    /// The tool's spec fingerprint plus the sum it was installed with.
    pub key: String,
    pub entry: String,
    /// Link names in `.devenv/bin`.
    pub bins: Vec<String>,
    /// Link targets, relative to the store entry.
    pub targets: Vec<String>,
}

impl ToolState {
    pub const FILE: &'static str = "tools.json";

    pub fn load(paths: &Paths) -> ToolState {
        crate::state::read_json(&paths.state_file(Self::FILE))
    }

    pub fn save(&self, paths: &Paths) -> std::io::Result<()> {
        crate::state::write_json(&paths.state_file(Self::FILE), self)
    }
}

/// True when every link of `t` exists in `.devenv/bin` and points into its
/// store entry. One `readlink` per binary.
pub fn link_bins_current(paths: &Paths, t: &InstalledTool) -> bool {
    let entry = super::store::entry_dir(paths, &t.entry);
    t.bins.iter().zip(&t.targets).all(|(b, target)| {
        fs::read_link(paths.bin_dir().join(b)).is_ok_and(|l| l == entry.join(target))
    })
}

/// Makes `.devenv/bin` hold exactly `links` (name -> target): missing or
/// wrong links are replaced, others removed.
pub fn sync_bin_dir(paths: &Paths, links: &BTreeMap<String, PathBuf>) -> std::io::Result<()> {
    let dir = paths.bin_dir();
    fs::create_dir_all(&dir)?;
    for e in fs::read_dir(&dir)?.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !links.contains_key(&name) {
            remove_any(&e.path())?;
        }
    }
    for (name, target) in links {
        let link = dir.join(name);
        if fs::read_link(&link).is_ok_and(|l| &l == target) {
            continue;
        }
        // Build the new link beside the old one and rename over it, so a
        // running `exec` never sees the binary missing.
        let tmp = dir.join(format!(".{name}.new"));
        let _ = fs::remove_file(&tmp);
        super::archive::symlink(target, &tmp)?;
        fs::rename(&tmp, &link)?;
    }
    Ok(())
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(_) => Ok(()),
    }
}

/// The project environment: `PATH` with `.devenv/bin` first (and not twice),
/// `DEVENV_PROJECT` and `DEVENV_ROOT`. `base_path` is the caller's PATH.
/// Every consumer (exec, env, shell, hooks) goes through here, so new
/// variables are added in one place.
pub fn project_env(
    manifest: &Manifest,
    paths: &Paths,
    base_path: Option<&OsString>,
) -> Vec<(String, OsString)> {
    let bin = paths.bin_dir();
    let mut entries = vec![bin.clone()];
    if let Some(base) = base_path {
        entries.extend(std::env::split_paths(base).filter(|p| *p != bin));
    }
    let path = std::env::join_paths(entries).unwrap_or_else(|_| bin.clone().into_os_string());
    vec![
        ("PATH".to_string(), path),
        (
            "DEVENV_PROJECT".to_string(),
            OsString::from(&manifest.project.name),
        ),
        (
            "DEVENV_ROOT".to_string(),
            manifest.root.clone().into_os_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_env_puts_the_bin_dir_first_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("devenv.toml"),
            "[project]\nname = \"envy\"\n",
        )
        .unwrap();
        let m = crate::manifest::load(&dir.path().join("devenv.toml")).unwrap();
        let paths = Paths::new(dir.path().join("home"), &m.root);
        let bin = paths.bin_dir();
        let base = std::env::join_paths([PathBuf::from("/usr/bin"), bin.clone()]).unwrap();
        let env = project_env(&m, &paths, Some(&base));
        let path: Vec<PathBuf> = std::env::split_paths(&env[0].1).collect();
        assert_eq!(path, vec![bin, PathBuf::from("/usr/bin")]);
        assert_eq!(env[1], ("DEVENV_PROJECT".into(), OsString::from("envy")));
        assert_eq!(env[2].0, "DEVENV_ROOT");
    }
}
