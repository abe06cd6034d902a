//! `devenv.lock`: every tool resolved for every platform, with url, sha256
//! and size. TOML with sorted keys, so a diff shows exactly what changed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::manifest::Manifest;

use super::spec::fingerprint;

pub const LOCKFILE: &str = "devenv.lock";
const HEADER: &str =
    "# devenv.lock: written by `devenv lock`. Commit it; do not edit it by hand.\n";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Lockfile {
    pub version: u32,
    #[serde(default)]
    pub tools: BTreeMap<String, LockedTool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockedTool {
    pub version: String,
    /// Fingerprint of the tool's devenv.toml entry when it was locked.
    pub spec: String,
    #[serde(default)]
    pub platforms: BTreeMap<String, LockedArtifact>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockedArtifact {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl Lockfile {
    /// `Ok(None)` when there is no lockfile.
    pub fn read(root: &Path) -> anyhow::Result<Option<Lockfile>> {
        let path = root.join(LOCKFILE);
        let text = match crate::fsread::read_limited(&path) {
            Ok(t) => t,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        };
        let lock: Lockfile = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a valid lockfile: {}; run `devenv lock` to rewrite it",
                path.display(),
                e.message()
            )
        })?;
        Ok(Some(lock))
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a lockfile always serializes");
        format!("{HEADER}{body}")
    }

    pub fn write(&self, root: &Path) -> std::io::Result<()> {
        crate::state::write_atomic(&root.join(LOCKFILE), self.to_toml().as_bytes())
    }

    /// The locked entry for a tool, if it still matches devenv.toml.
    pub fn fresh(&self, tool: &crate::manifest::Tool) -> Option<&LockedTool> {
        self.tools
            .get(&tool.name)
            .filter(|l| l.version == tool.version && l.spec == fingerprint(tool))
    }

    /// Why this lockfile does not match the manifest (empty when it does).
    pub fn stale_reasons(&self, manifest: &Manifest) -> Vec<String> {
        let mut out = Vec::new();
        for t in &manifest.tools {
            match self.tools.get(&t.name) {
                None => out.push(format!("`{}` is not in devenv.lock", t.name)),
                Some(l) if l.version != t.version => out.push(format!(
                    "`{}` is {} in devenv.toml but {} in devenv.lock",
                    t.name, t.version, l.version
                )),
                Some(l) if l.spec != fingerprint(t) => out.push(format!(
                    "the definition of `{}` changed since devenv.lock was written",
                    t.name
                )),
                Some(_) => {}
            }
        }
        for name in self.tools.keys() {
            if !manifest.tools.iter().any(|t| &t.name == name) {
                out.push(format!("`{name}` is in devenv.lock but not in devenv.toml"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfile_round_trips_sorted_and_stable() {
        let mut lock = Lockfile {
            version: 1,
            tools: BTreeMap::new(),
        };
        for name in ["zeta", "alpha"] {
            let mut platforms = BTreeMap::new();
            for p in ["macos-aarch64", "linux-x86_64"] {
                platforms.insert(
                    p.to_string(),
                    LockedArtifact {
                        url: format!("https://e.com/{name}/{p}"),
                        sha256: Some("a".repeat(64)),
                        size: Some(10),
                    },
                );
            }
            lock.tools.insert(
                name.to_string(),
                LockedTool {
                    version: "1.0.0".into(),
                    spec: "x".into(),
                    platforms,
                },
            );
        }
        let text = lock.to_toml();
        assert!(text.find("[tools.alpha]").unwrap() < text.find("[tools.zeta]").unwrap());
        assert!(
            text.find("linux-x86_64").unwrap() < text.find("macos-aarch64").unwrap(),
            "{text}"
        );
        let back: Lockfile = toml::from_str(&text).unwrap();
        assert_eq!(back, lock);
        assert_eq!(back.to_toml(), text);
    }
}
