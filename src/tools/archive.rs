//! Unpacking tar.gz, tar.xz, zip and bare binaries into a fresh directory.
//!
//! Every entry is checked before it is written: a path with `..`, an
//! absolute path, or a link whose target leaves the directory is refused.
//! Every byte that comes out of a decompressor is counted against the
//! tool's limits (`limits::Meter`), so a bomb stops at the limit. The
//! caller unpacks into a temp dir and throws it away on any error, so
//! nothing of a refused archive is kept.

use std::fs;
use std::io::{self, Read, Seek};
use std::path::{Component, Path, PathBuf};

use super::limits::{Exceeded, Meter};
use super::spec::{ArchiveKind, Artifact};
use super::xz_scan;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("entry `{entry}` {reason}")]
    Unsafe { entry: String, reason: &'static str },
    /// Past `max_unpacked`, `max_ratio` or the entry limit.
    #[error("{0}")]
    Limit(Exceeded),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a valid archive: {0}")]
    Corrupt(String),
}

/// Unpacks `file`, the download of `art`, into `dest` (an existing empty
/// dir). A bare binary is written as `dest/<tool name>`, executable.
pub fn unpack(art: &Artifact, file: &Path, dest: &Path) -> Result<(), ArchiveError> {
    let meter = Meter::new(art.unpack, fs::metadata(file)?.len());
    let r = unpack_metered(art, file, dest, &meter);
    // Whatever error the archive reader wrapped it in, a limit is a limit.
    match (r, meter.tripped()) {
        (Err(_), Some(x)) => Err(ArchiveError::Limit(x)),
        (r, _) => r,
    }
}

fn unpack_metered(
    art: &Artifact,
    file: &Path,
    dest: &Path,
    meter: &Meter,
) -> Result<(), ArchiveError> {
    let strip = art.strip_components;
    let links = match art.kind {
        ArchiveKind::Bare => {
            // A bare file has no entries to check.
            meter.charge(fs::metadata(file)?.len())?;
            let target = dest.join(&art.tool);
            fs::copy(file, &target)?;
            set_mode(&target, 0o755)?;
            false
        }
        ArchiveKind::TarGz => {
            let f = io::BufReader::with_capacity(1 << 16, fs::File::open(file)?);
            let gz = meter.reader(flate2::bufread::GzDecoder::new(f));
            unpack_tar(gz, dest, strip, meter)?
        }
        ArchiveKind::TarXz => {
            let tar = decode_xz(file, dest, meter)?;
            unpack_tar(io::BufReader::new(tar), dest, strip, meter)?
        }
        ArchiveKind::Zip => unpack_zip(file, dest, strip, meter)?,
    };
    if links {
        check_tree(dest)?;
    }
    Ok(())
}

/// The tar inside an xz file, in an unnamed temp file beside `dest`.
/// lzma-rs holds a whole block in memory while decoding it, so the size is
/// found from the chunk headers first and refused before decoding when it
/// is over the limit; the decoded bytes are metered again as written.
fn decode_xz(file: &Path, dest: &Path, meter: &Meter) -> Result<fs::File, ArchiveError> {
    let corrupt = |e: String| ArchiveError::Corrupt(format!("xz: {e}"));
    let mut input = io::BufReader::new(fs::File::open(file)?);
    let total = xz_scan::unpacked_size(&mut input).map_err(corrupt)?;
    meter.foresee(total)?;
    input.rewind()?;
    let tmp = tempfile::tempfile_in(dest.parent().unwrap_or(dest))?;
    let mut out = meter.writer(io::BufWriter::new(tmp));
    lzma_rs::xz_decompress(&mut input, &mut out).map_err(|e| corrupt(e.to_string()))?;
    let mut tar = out.into_inner().into_inner().map_err(|e| e.into_error())?;
    tar.rewind()?;
    Ok(tar)
}

/// After unpacking: every link in the tree must resolve inside it. Catches
/// chains (a link to a directory link, then `..`) a lexical check misses.
fn check_tree(dest: &Path) -> Result<(), ArchiveError> {
    let root = fs::canonicalize(dest)?;
    let mut stack = vec![dest.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir)? {
            let e = e?;
            let ft = e.file_type()?;
            let p = e.path();
            if ft.is_symlink() {
                if let Ok(real) = fs::canonicalize(&p) {
                    if !real.starts_with(&root) {
                        return Err(ArchiveError::Unsafe {
                            entry: p.strip_prefix(dest).unwrap_or(&p).display().to_string(),
                            reason: "links outside the archive",
                        });
                    }
                }
            } else if ft.is_dir() {
                stack.push(p);
            }
        }
    }
    Ok(())
}

/// What one unpack has written so far: the links (so no later entry is
/// written through one) and the directories (so each is created once).
#[derive(Default)]
struct Written {
    links: Vec<PathBuf>,
    dirs: std::collections::HashSet<PathBuf>,
}

impl Written {
    /// Refuses to write through a link that an earlier entry created.
    fn check(&self, rel: &Path, raw: &Path) -> Result<(), ArchiveError> {
        if self
            .links
            .iter()
            .any(|l| rel.starts_with(l) && rel != l.as_path())
        {
            return Err(ArchiveError::Unsafe {
                entry: raw.display().to_string(),
                reason: "is written through a link",
            });
        }
        Ok(())
    }

    fn parent_of(&mut self, target: &Path) -> io::Result<()> {
        if let Some(parent) = target.parent() {
            if !self.dirs.contains(parent) {
                fs::create_dir_all(parent)?;
                self.dirs.insert(parent.to_path_buf());
            }
        }
        Ok(())
    }
}

/// Creates a new file (never following a link an earlier entry put there).
fn create_file(target: &Path, mode: u32) -> io::Result<fs::File> {
    let open = || {
        let mut o = fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, mode);
        o.open(target)
    };
    match open() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(target)?;
            open()
        }
        r => r,
    }
}

/// The entry's path with `strip` leading components dropped, checked to be
/// relative and free of `..`. `None` when nothing is left after stripping.
fn safe_path(raw: &Path, strip: u32) -> Result<Option<PathBuf>, ArchiveError> {
    let unsafe_entry = |reason| ArchiveError::Unsafe {
        entry: raw.display().to_string(),
        reason,
    };
    let mut out = PathBuf::new();
    let mut skipped = 0;
    for c in raw.components() {
        match c {
            Component::Normal(part) => {
                if skipped < strip {
                    skipped += 1;
                } else {
                    out.push(part);
                }
            }
            Component::CurDir => {}
            Component::ParentDir => return Err(unsafe_entry("climbs out with `..`")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_entry("is an absolute path"))
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Checks that a link at `at` (relative to the root) pointing to `target`
/// stays inside the root.
fn check_link(entry: &Path, at: &Path, target: &Path) -> Result<(), ArchiveError> {
    let refuse = |reason| {
        Err(ArchiveError::Unsafe {
            entry: entry.display().to_string(),
            reason,
        })
    };
    if target.is_absolute() {
        return refuse("links to an absolute path outside the archive");
    }
    let mut depth: i64 = at.components().count() as i64 - 1;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return refuse("links to an absolute path outside the archive"),
        }
        if depth < 0 {
            return refuse("links outside the archive");
        }
    }
    Ok(())
}

fn unpack_tar(
    reader: impl Read,
    dest: &Path,
    strip: u32,
    meter: &Meter,
) -> Result<bool, ArchiveError> {
    let mut written = Written::default();
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
        meter.entry()?;
        let raw = entry
            .path()
            .map_err(|e| ArchiveError::Corrupt(e.to_string()))?
            .into_owned();
        let Some(rel) = safe_path(&raw, strip)? else {
            continue;
        };
        written.check(&rel, &raw)?;
        let target = dest.join(&rel);
        written.parent_of(&target)?;
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Directory => fs::create_dir_all(&target)?,
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(|e| ArchiveError::Corrupt(e.to_string()))?
                    .ok_or_else(|| ArchiveError::Corrupt("symlink without target".into()))?
                    .into_owned();
                check_link(&raw, &rel, &link)?;
                let _ = fs::remove_file(&target);
                symlink(&link, &target)?;
                written.links.push(rel);
            }
            tar::EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(|e| ArchiveError::Corrupt(e.to_string()))?
                    .ok_or_else(|| ArchiveError::Corrupt("hard link without target".into()))?
                    .into_owned();
                // Hard link targets name another entry of the archive.
                let Some(src) = safe_path(&link, strip)? else {
                    return Err(ArchiveError::Unsafe {
                        entry: raw.display().to_string(),
                        reason: "is a hard link to nothing",
                    });
                };
                let _ = fs::remove_file(&target);
                fs::hard_link(dest.join(src), &target)?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mode = entry.header().mode().unwrap_or(0o644) & 0o777;
                let mut out = create_file(&target, mode | 0o400)?;
                io::copy(&mut entry, &mut out)?;
            }
            // pax headers, fifos, devices: nothing a tool needs.
            _ => {}
        }
    }
    Ok(!written.links.is_empty())
}

fn unpack_zip(file: &Path, dest: &Path, strip: u32, meter: &Meter) -> Result<bool, ArchiveError> {
    let mut written = Written::default();
    let mut zip = zip::ZipArchive::new(io::BufReader::new(fs::File::open(file)?))
        .map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
    for i in 0..zip.len() {
        meter.entry()?;
        let f = zip
            .by_index(i)
            .map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
        let (is_dir, mode, name) = (f.is_dir(), f.unix_mode(), f.name().to_string());
        let mut f = meter.reader(f);
        let raw = PathBuf::from(name);
        let Some(rel) = safe_path(&raw, strip)? else {
            continue;
        };
        written.check(&rel, &raw)?;
        let target = dest.join(&rel);
        written.parent_of(&target)?;
        if is_dir {
            fs::create_dir_all(&target)?;
        } else if mode.is_some_and(|m| m & 0o170000 == 0o120000) {
            let mut link = String::new();
            (&mut f).take(4096).read_to_string(&mut link)?;
            check_link(&raw, &rel, Path::new(&link))?;
            let _ = fs::remove_file(&target);
            symlink(Path::new(&link), &target)?;
            written.links.push(rel);
        } else {
            let mode = mode.map(|m| m & 0o777).unwrap_or(0o644) | 0o400;
            let mut out = create_file(&target, mode)?;
            io::copy(&mut f, &mut out)?;
        }
    }
    Ok(!written.links.is_empty())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    fs::copy(target, link).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_stripped_and_checked() {
        let p = |s: &str, n| safe_path(Path::new(s), n);
        assert_eq!(p("a/b/c", 1).unwrap(), Some(PathBuf::from("b/c")));
        assert_eq!(p("./a/b", 0).unwrap(), Some(PathBuf::from("a/b")));
        assert_eq!(p("a/", 1).unwrap(), None);
        assert!(p("a/../../etc/passwd", 0).is_err());
        assert!(p("/etc/passwd", 0).is_err());
    }

    fn tar_with(entries: &[(&str, Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, link) in entries {
            let mut h = tar::Header::new_gnu();
            match link {
                Some(l) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    b.append_link(&mut h, path, l).unwrap();
                }
                None => {
                    h.set_size(2);
                    h.set_mode(0o755);
                    b.append_data(&mut h, path, &b"x\n"[..]).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    fn unpack_tar_bytes(bytes: Vec<u8>) -> (tempfile::TempDir, Result<(), ArchiveError>) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.tar");
        fs::write(&file, bytes).unwrap();
        let dest = dir.path().join("out");
        fs::create_dir(&dest).unwrap();
        let meter = Meter::new(Default::default(), 1 << 20);
        let r = unpack_tar(fs::File::open(&file).unwrap(), &dest, 0, &meter).and_then(|links| {
            if links {
                check_tree(&dest)
            } else {
                Ok(())
            }
        });
        (dir, r)
    }

    #[test]
    fn writing_through_a_link_is_refused() {
        let (dir, r) = unpack_tar_bytes(tar_with(&[
            ("sub/a", None),
            ("d", Some("sub")),
            ("d/f", None),
        ]));
        assert!(
            matches!(
                r,
                Err(ArchiveError::Unsafe {
                    reason: "is written through a link",
                    ..
                })
            ),
            "{r:?}"
        );
        assert!(!dir.path().join("out/sub/f").exists());
    }

    #[test]
    fn chained_links_that_escape_are_refused() {
        // Each link is inside lexically; together they leave the tree.
        let (_dir, r) = unpack_tar_bytes(tar_with(&[
            ("sub/a", None),
            ("sub/up", Some("..")),
            ("esc", Some("sub/up/..")),
        ]));
        assert!(matches!(r, Err(ArchiveError::Unsafe { .. })), "{r:?}");
    }

    #[test]
    fn links_inside_and_modes_are_kept() {
        let (dir, r) = unpack_tar_bytes(tar_with(&[
            ("lib/npm.js", None),
            ("bin/npm", Some("../lib/npm.js")),
        ]));
        r.unwrap();
        let out = dir.path().join("out");
        assert_eq!(fs::read(out.join("bin/npm")).unwrap(), b"x\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(out.join("lib/npm.js"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o100, 0o100, "{mode:o}");
        }
    }

    #[test]
    fn links_must_stay_inside() {
        let e = Path::new("x");
        assert!(check_link(e, Path::new("bin/npm"), Path::new("../lib/npm.js")).is_ok());
        assert!(check_link(e, Path::new("bin/npm"), Path::new("../../x")).is_err());
        assert!(check_link(e, Path::new("a"), Path::new("/etc/passwd")).is_err());
        assert!(check_link(e, Path::new("a"), Path::new("b/../../c")).is_err());
    }
}
