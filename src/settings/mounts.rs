//! Bind mounts from outside the repository (`~/.m2`, `~/.aws`), which a
//! team may really need but a repository must never impose: devenv.toml's
//! own `mounts` stay inside the clone (`crate::confine`), and these come
//! only from the user's own files, the user config and devenv.local.toml,
//! as `[settings.mounts] SERVICE = ["SOURCE:TARGET[:ro]"]`, like a compose
//! override file.
//!
//! Both files apply; for one service and container path devenv.local.toml
//! wins, and either replaces a devenv.toml mount at that path. A mount of
//! `/` is refused here as everywhere.

use std::path::{Path, PathBuf};

use super::file::{FileSettings, MountEntry};
use super::Origin;
use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics};
use crate::manifest::mounts::{self, ROOT_HINT, ROOT_REFUSED};
use crate::manifest::{Manifest, Mount};

/// One extra mount for one service, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraMount {
    pub service: String,
    /// The source resolved (home expanded, symlinks followed).
    pub mount: Mount,
    /// As written, for `devenv config`.
    pub written: String,
    pub origin: Origin,
}

/// What resolving the extra mounts reads.
pub struct Inputs<'a> {
    /// The settings files, lowest layer first.
    pub files: &'a [(FileSettings, Origin)],
    /// None outside a repository: then there are no services to mount into.
    pub manifest: Option<&'a Manifest>,
    pub home: Option<&'a Path>,
}

/// Every extra mount of the layers, or each problem at its line.
pub fn resolve(i: &Inputs<'_>) -> Result<Vec<ExtraMount>, Diagnostics> {
    let Some(m) = i.manifest else {
        return Ok(Vec::new());
    };
    let mut out: Vec<ExtraMount> = Vec::new();
    let mut problems = Diagnostics::default();
    for (f, origin) in i.files {
        for e in &f.mounts {
            let at = |message: String, hint: &str| {
                Diagnostic::at(&f.path, &f.text, e.span.clone(), message).with_hint(hint)
            };
            if m.service(&e.service).is_none() {
                // The user config is for every repository: a service this
                // one lacks is not a mistake there.
                if matches!(origin, Origin::Local(_)) {
                    let names = m.services.iter().map(|s| s.name.as_str());
                    let hint = match did_you_mean(&e.service, names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "name a service of devenv.toml".into(),
                    };
                    problems.push(at(
                        format!(
                            "mounts for `{}`, which is not a service of devenv.toml",
                            e.service
                        ),
                        &hint,
                    ));
                }
                continue;
            }
            match one(e, m, i.home) {
                Ok(mount) => {
                    out.retain(|x| !(x.service == e.service && x.mount.target == mount.target));
                    out.push(ExtraMount {
                        service: e.service.clone(),
                        mount,
                        written: e.spec.clone(),
                        origin: origin.clone(),
                    });
                }
                Err((message, hint)) => problems.push(at(message, &hint)),
            }
        }
    }
    problems.into_result(out)
}

fn one(e: &MountEntry, m: &Manifest, home: Option<&Path>) -> Result<Mount, (String, String)> {
    let spec = mounts::parse(&e.spec)?;
    let source = expand(&spec.source, home, &m.root)?;
    if mounts::is_fs_root(&source, None) {
        return Err((ROOT_REFUSED.into(), ROOT_HINT.into()));
    }
    let real = std::fs::canonicalize(&source).map_err(|_| {
        (
            format!(
                "mount source `{}` ({}) does not exist",
                spec.source,
                source.display()
            ),
            "create it, or remove the mount".to_string(),
        )
    })?;
    if mounts::is_fs_root(&source, Some(&real)) {
        return Err((ROOT_REFUSED.into(), ROOT_HINT.into()));
    }
    Ok(Mount {
        source: real,
        target: spec.target,
        read_only: spec.read_only,
    })
}

/// `~` and `~/x` from the home directory, absolute as is, relative from the
/// repository root (as compose resolves from the project directory).
fn expand(source: &str, home: Option<&Path>, root: &Path) -> Result<PathBuf, (String, String)> {
    let Some(rest) = source.strip_prefix('~') else {
        return Ok(root.join(source));
    };
    let no_home = || {
        (
            format!("mount source `{source}`: HOME is not set"),
            "write the source as an absolute path".to_string(),
        )
    };
    match rest.strip_prefix('/') {
        Some(below) => Ok(home.ok_or_else(no_home)?.join(below)),
        None if rest.is_empty() => Ok(home.ok_or_else(no_home)?.to_path_buf()),
        None => Err((
            format!("mount source `{source}`: `~user` is not supported"),
            "write `~/...` for your home, or an absolute path".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_and_relative_sources_expand() {
        let home = Path::new("/home/u");
        let root = Path::new("/r");
        assert_eq!(expand("~/.m2", Some(home), root).unwrap(), home.join(".m2"));
        assert_eq!(expand("~", Some(home), root).unwrap(), home);
        assert_eq!(
            expand("/opt/x", Some(home), root).unwrap(),
            Path::new("/opt/x")
        );
        assert_eq!(expand("./d", Some(home), root).unwrap(), root.join("./d"));
        assert!(expand("~bob/x", Some(home), root).is_err());
        assert!(expand("~/x", None, root).is_err());
    }
}
