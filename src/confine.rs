//! A repository is untrusted input. A clone can hold an absolute path, a
//! `..` or a symlink meant to make devenv read, serve, mount or overwrite a
//! file elsewhere on the machine (`~/.ssh/id_ed25519`, `/etc/passwd`). So
//! every path devenv.toml (or a file it names) gives goes through this one
//! rule: resolved with symlinks followed, it stays under the repository
//! root, the directory of devenv.toml.
//!
//! `confine` is the check, run before any phase so bad input is exit 2 with
//! a span. The same rule is applied again where a file is used (`open`,
//! `read`, `write_target`): the path is resolved again, the resolved path is
//! opened, and the opened file is compared with what the path resolves to
//! afterwards, so a symlink swapped in between the check and the use does
//! not get through.

use std::fs::File;
use std::path::{Component, Path, PathBuf};

/// How a path leaves the repository.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Escape {
    #[error("`{path}` is an absolute path, outside the repository")]
    Absolute { path: String },
    #[error("`{path}` leaves the repository with `..`: it points to {}, outside the repository", .target.display())]
    ParentDir { path: String, target: PathBuf },
    /// `link` (relative to the repository root) is the symlink that leaves;
    /// `target` is where the whole path really points, every symlink followed.
    #[error("{}", symlink_message(.path, .link, .target))]
    Symlink {
        path: String,
        link: PathBuf,
        target: PathBuf,
    },
    /// Checked fine, but what was opened is another file: a symlink was
    /// swapped in between.
    #[error("`{path}` changed while devenv opened it: it now points to {}", .target.display())]
    Swapped { path: String, target: PathBuf },
}

fn symlink_message(path: &str, link: &Path, target: &Path) -> String {
    let link = link.display().to_string();
    if link == path.trim_start_matches("./") {
        format!(
            "`{path}` is a symlink to {}, outside the repository",
            target.display()
        )
    } else {
        format!(
            "`{path}` goes through the symlink `{link}` and points to {}, outside the repository",
            target.display()
        )
    }
}

impl Escape {
    /// Where the path really points, when that is known.
    pub fn target(&self) -> Option<&Path> {
        match self {
            Escape::Absolute { .. } => None,
            Escape::ParentDir { target, .. }
            | Escape::Symlink { target, .. }
            | Escape::Swapped { target, .. } => Some(target),
        }
    }
}

/// Opening or reading a confined file: the rule refused it, or the file
/// system did.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Escape(#[from] Escape),
    /// Not a regular file, or over `fsread::LIMIT`.
    #[error(transparent)]
    Limit(#[from] crate::fsread::ReadError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl OpenError {
    pub fn is_not_found(&self) -> bool {
        match self {
            OpenError::Io(e) => e.kind() == std::io::ErrorKind::NotFound,
            OpenError::Limit(e) => e.is_not_found(),
            OpenError::Escape(_) => false,
        }
    }
}

/// Symlinks followed at most this often in one path, as the kernel does.
const MAX_HOPS: u32 = 40;

/// `rel` resolved below `root` with every symlink followed, or how it
/// escapes. A part that does not exist yet is kept as written (an output
/// about to be created); `..` is followed after the symlink before it, as
/// the kernel does.
pub fn confine(root: &Path, rel: &Path) -> Result<PathBuf, Escape> {
    let shown = rel.display().to_string();
    if rel.has_root() || rel.is_absolute() {
        return Err(Escape::Absolute { path: shown });
    }
    let base = real(&std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()));
    let mut cur = base.clone();
    let mut missing = false;
    for c in rel.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => {
                return Err(Escape::Absolute { path: shown });
            }
            Component::CurDir => {}
            Component::ParentDir => {
                if cur == base {
                    return Err(Escape::ParentDir {
                        target: real(&base.join(rel)),
                        path: shown,
                    });
                }
                cur.pop();
            }
            Component::Normal(name) => {
                let next = cur.join(name);
                if !missing {
                    match std::fs::symlink_metadata(&next) {
                        Ok(m) if m.file_type().is_symlink() => {
                            let target = real(&next);
                            if !target.starts_with(&base) {
                                return Err(Escape::Symlink {
                                    link: next.strip_prefix(&base).unwrap_or(&next).to_path_buf(),
                                    target: real(&base.join(rel)),
                                    path: shown,
                                });
                            }
                            cur = target;
                            continue;
                        }
                        Ok(_) => {}
                        Err(_) => missing = true,
                    }
                }
                cur = next;
            }
        }
    }
    Ok(cur)
}

/// Like `confine` for a path the manifest already joined to the root
/// (`root/templates/app.j2`): the part below the root is checked.
pub fn confine_joined(root: &Path, path: &Path) -> Result<PathBuf, Escape> {
    match path.strip_prefix(root) {
        Ok(rel) => confine(root, rel),
        Err(_) if path.is_relative() => confine(root, path),
        Err(_) => Err(Escape::Absolute {
            path: path.display().to_string(),
        }),
    }
}

/// Opens `path` (below `root`, or relative to it) for reading, confined:
/// the resolved path is opened if it is a regular file within
/// `fsread::LIMIT` (never blocking on a FIFO), then checked again against
/// what was opened.
pub fn open(root: &Path, path: &Path) -> Result<File, OpenError> {
    let real = confine_joined(root, path)?;
    let file = crate::fsread::open_checked(&real)?;
    verify(root, path, &real, &file)?;
    Ok(file)
}

/// The whole file, confined and within the limit.
pub fn read(root: &Path, path: &Path) -> Result<Vec<u8>, OpenError> {
    Ok(crate::fsread::read_all(open(root, path)?)?)
}

/// The whole file as UTF-8 text, confined and within the limit.
pub fn read_to_string(root: &Path, path: &Path) -> Result<String, OpenError> {
    String::from_utf8(read(root, path)?)
        .map_err(|_| OpenError::Limit(crate::fsread::ReadError::NotUtf8))
}

/// After opening: the path still resolves to `real` inside the repository,
/// and the open file is the one there (same device and inode; on Linux, its
/// own path is inside too). Catches a symlink swapped in after the check.
fn verify(root: &Path, path: &Path, real: &Path, file: &File) -> Result<(), OpenError> {
    let again = confine_joined(root, path)?;
    let shown = || {
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    if again != real {
        return Err(Escape::Swapped {
            path: shown(),
            target: again,
        }
        .into());
    }
    if let Some(opened) = opened_path(file) {
        let base = real_root(root);
        if !opened.starts_with(&base) {
            return Err(Escape::Swapped {
                path: shown(),
                target: opened,
            }
            .into());
        }
    }
    if !same_file(file, real)? {
        return Err(Escape::Swapped {
            path: shown(),
            target: real.to_path_buf(),
        }
        .into());
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (file.metadata()?, std::fs::metadata(path)?);
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

#[cfg(not(unix))]
fn same_file(_: &File, _: &Path) -> std::io::Result<bool> {
    Ok(true)
}

/// The kernel's name for an open file, where it keeps one.
#[cfg(target_os = "linux")]
fn opened_path(file: &File) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}

#[cfg(not(target_os = "linux"))]
fn opened_path(_: &File) -> Option<PathBuf> {
    None
}

/// Where a file about to be written below `root` goes: its parent
/// directories are created one at a time, each checked after it exists, and
/// the returned path is the resolved parent plus the file name (an existing
/// file there is replaced, not written through, so only a symlink pointing
/// inside is tolerated, and then replaced).
pub fn write_target(root: &Path, path: &Path) -> Result<PathBuf, OpenError> {
    let real = confine_joined(root, path)?;
    let rel = path.strip_prefix(root).unwrap_or(path);
    let Some(name) = rel.file_name() else {
        return Err(Escape::Absolute {
            path: rel.display().to_string(),
        }
        .into());
    };
    let parent_rel = rel.parent().unwrap_or(Path::new(""));
    let mut dir_rel = PathBuf::new();
    for c in parent_rel.components() {
        dir_rel.push(c);
        let dir = confine(root, &dir_rel)?;
        if !dir.exists() {
            match std::fs::create_dir(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e.into()),
                _ => {}
            }
            if confine(root, &dir_rel)? != dir {
                return Err(Escape::Swapped {
                    path: dir_rel.display().to_string(),
                    target: real_root(&dir),
                }
                .into());
            }
        }
    }
    let parent = confine(root, parent_rel)?;
    debug_assert!(real.parent().is_some());
    Ok(parent.join(name))
}

fn real_root(root: &Path) -> PathBuf {
    real(&std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()))
}

/// `path` (absolute) with every symlink followed, like realpath(3), except
/// that a part that does not exist is kept as written.
fn real(path: &Path) -> PathBuf {
    real_hops(path, 0)
}

fn real_hops(path: &Path, hops: u32) -> PathBuf {
    let mut cur = PathBuf::new();
    let mut missing = false;
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => cur.push(c.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                cur.pop();
            }
            Component::Normal(name) => {
                let next = cur.join(name);
                if !missing && hops < MAX_HOPS {
                    match std::fs::symlink_metadata(&next) {
                        Ok(m) if m.file_type().is_symlink() => {
                            if let Ok(to) = std::fs::read_link(&next) {
                                cur = real_hops(&cur.join(to), hops + 1);
                                continue;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => missing = true,
                    }
                }
                cur = next;
            }
        }
    }
    cur
}

/// The lexical half of the rule, for paths that do not exist yet anywhere
/// (a tool's `bin` inside an archive not downloaded): not absolute, and no
/// `..` above the start.
pub fn lexical(rel: &Path) -> Result<(), Escape> {
    let shown = rel.display().to_string();
    let mut depth: usize = 0;
    for c in rel.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => {
                return Err(Escape::Absolute { path: shown });
            }
            Component::CurDir => {}
            Component::ParentDir if depth == 0 => {
                return Err(Escape::ParentDir {
                    target: PathBuf::from(&shown),
                    path: shown,
                });
            }
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
