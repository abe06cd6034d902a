//! Which files of an unpacked tool become `.devenv/bin` links: the
//! declared `bin` paths, each confined to the archive (`crate::confine`) so
//! a tool can never expose a file from elsewhere on the machine, or the
//! default rule when none are declared.

use std::path::Path;

use super::spec::Artifact;
use super::ToolsError;

/// The binaries to expose, relative to the unpacked tree: the declared ones,
/// or `bin/*`, or a file named like the tool, or every executable at the top.
pub(super) fn find_bins(art: &Artifact, root: &Path) -> Result<Vec<String>, ToolsError> {
    if !art.bins.is_empty() {
        let mut out = Vec::new();
        for b in &art.bins {
            // A `bin` names a file in the archive: never one elsewhere on
            // the machine through an absolute path, `..` or a symlink.
            let real = crate::confine::confine(root, Path::new(b)).map_err(|e| {
                ToolsError::BinOutside {
                    tool: art.tool.clone(),
                    bin: b.clone(),
                    reason: bin_escape(&e),
                }
            })?;
            if real.exists() {
                out.push(b.clone());
            } else if !art.bins_optional {
                return Err(ToolsError::Download {
                    tool: art.tool.clone(),
                    message: format!(
                        "`{b}` is not in the archive; fix `bin` in [tools.{}]",
                        art.tool
                    ),
                });
            }
        }
        if !out.is_empty() {
            return Ok(out);
        }
    }
    let bin_dir = root.join("bin");
    let mut out: Vec<String> = Vec::new();
    if bin_dir.is_dir() {
        for e in std::fs::read_dir(&bin_dir)
            .map_err(anyhow::Error::from)?
            .flatten()
        {
            if !e.path().is_dir() {
                out.push(format!("bin/{}", e.file_name().to_string_lossy()));
            }
        }
    } else if root.join(&art.tool).is_file() {
        out.push(art.tool.clone());
    } else {
        for e in std::fs::read_dir(root)
            .map_err(anyhow::Error::from)?
            .flatten()
        {
            if is_executable(&e.path()) {
                out.push(e.file_name().to_string_lossy().to_string());
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(ToolsError::Download {
            tool: art.tool.clone(),
            message: format!(
                "found no binary in {}; list them with `bin = [...]` in [tools.{}]",
                art.fetch_url, art.tool
            ),
        });
    }
    Ok(out)
}

/// How a `bin` entry leaves the archive, in words.
fn bin_escape(e: &crate::confine::Escape) -> String {
    use crate::confine::Escape;
    match e {
        Escape::Absolute { .. } => "is an absolute path".into(),
        Escape::ParentDir { .. } => "climbs out with `..`".into(),
        Escape::Symlink { target, .. } | Escape::Swapped { target, .. } => {
            format!("points to {}", target.display())
        }
    }
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(bins: &[&str]) -> Artifact {
        Artifact {
            tool: "evil".into(),
            version: "1".into(),
            url: "file:///evil".into(),
            fetch_url: "file:///evil".into(),
            sha256: None,
            size: None,
            kind: super::super::spec::ArchiveKind::Bare,
            strip_components: 0,
            bins: bins.iter().map(|b| b.to_string()).collect(),
            bins_optional: false,
            allow_unverified: false,
            unpack: Default::default(),
        }
    }

    #[test]
    fn a_tool_bin_path_escaping_the_archive_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("unpacked");
        std::fs::create_dir_all(tree.join("bin")).unwrap();
        std::fs::write(tree.join("bin/evil"), b"x").unwrap();
        std::os::unix::fs::symlink("/bin", tree.join("sys")).unwrap();
        for (bin, says) in [
            ("/bin/sh", "is an absolute path"),
            ("../../../../bin/sh", "climbs out with `..`"),
            ("bin/../../x", "climbs out with `..`"),
            ("sys/sh", "points to /"),
        ] {
            let e = find_bins(&artifact(&[bin]), &tree).unwrap_err();
            assert!(matches!(e, ToolsError::BinOutside { .. }), "{bin}: {e:?}");
            assert!(e.is_bad_input());
            let text = e.to_string();
            assert!(text.contains(bin) && text.contains(says), "{text}");
        }
        assert_eq!(
            find_bins(&artifact(&["bin/evil"]), &tree).unwrap(),
            ["bin/evil"]
        );
    }
}
