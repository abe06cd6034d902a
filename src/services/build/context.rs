//! The build context: the files `.dockerignore` lets through, walked once
//! per `up`, hashed, and later streamed to the engine as a tar.
//!
//! Hashing every file on every `up` would make a no-op `up` cost as much
//! as reading the whole context. So each file's digest is kept in the
//! clone's state with what `lstat` said about it (size, mtime, inode,
//! mode); a file whose stat is unchanged is not read again, and a no-op
//! `up` is one `readdir` per directory and one `lstat` per entry. A file
//! modified less than [`RACY`] before it was hashed is not cached, so a
//! change within the file system's mtime granularity is never missed.
//!
//! Symlinks are sent as symlinks, never followed: the engine resolves them
//! inside the context, so nothing outside the repository is read or sent.

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ignore::Ignore;

/// How recent an mtime is too recent to trust for the cache.
pub const RACY: Duration = Duration::from_secs(2);

/// One file, directory or symlink of the context.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative to the context.
    pub path: PathBuf,
    /// `path`, `/`-separated, as `.dockerignore` and the hash see it.
    pub rel: String,
    pub kind: Kind,
    /// Permission bits (and setuid/setgid/sticky).
    pub mode: u32,
    pub mtime: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// With the hex sha256 of its contents.
    File(String),
    Symlink(PathBuf),
}

/// What the cache remembers of a file: its stat, and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cached {
    pub size: u64,
    pub mtime: i64,
    pub mtime_ns: i64,
    pub ino: u64,
    pub mode: u32,
    pub sha256: String,
}

/// Digests of one context's files by relative path.
pub type FileCache = BTreeMap<String, Cached>;

/// A walked context: its entries in a stable order and their digest.
#[derive(Debug, Clone)]
pub struct Context {
    /// The real (symlinks resolved) context directory.
    pub root: PathBuf,
    pub entries: Vec<Entry>,
    /// Over every entry's path, type, mode and contents (or link target).
    pub digest: String,
}

/// Walks `root` with `ignore` applied, hashing what the cache does not
/// know. Returns the context and the cache as it should now be.
pub fn walk(root: &Path, ignore: &Ignore, cache: &FileCache) -> io::Result<(Context, FileCache)> {
    let mut w = Walker {
        root,
        ignore,
        old: cache,
        new: FileCache::new(),
        entries: Vec::new(),
        trust_before: SystemTime::now().checked_sub(RACY).unwrap_or(UNIX_EPOCH),
    };
    w.dir(root, "")?;
    let mut h = Sha256::new();
    for e in &w.entries {
        let (kind, data) = match &e.kind {
            Kind::Dir => ("d", String::new()),
            Kind::File(sha) => ("f", sha.clone()),
            Kind::Symlink(target) => ("l", target.to_string_lossy().to_string()),
        };
        h.update(format!("{kind} {:o} {}\0{data}\n", e.mode, e.rel).as_bytes());
    }
    let context = Context {
        root: root.to_path_buf(),
        entries: w.entries,
        digest: hex::encode(h.finalize()),
    };
    Ok((context, w.new))
}

struct Walker<'a> {
    root: &'a Path,
    ignore: &'a Ignore,
    old: &'a FileCache,
    new: FileCache,
    entries: Vec<Entry>,
    trust_before: SystemTime,
}

impl Walker<'_> {
    /// An ignored directory is walked only when an exception may bring
    /// back something below it, and gets no entry of its own.
    fn dir(&mut self, dir: &Path, prefix: &str) -> io::Result<()> {
        let mut names: Vec<_> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort();
        for name in names {
            let rel = format!("{prefix}{}", name.to_string_lossy());
            let full = dir.join(&name);
            let meta = std::fs::symlink_metadata(&full)?;
            let skip = self.ignore.excludes(&rel);
            if meta.is_dir() {
                if !skip {
                    self.push(&full, rel.clone(), &meta, Kind::Dir);
                }
                if !skip || self.ignore.may_include_below(&rel) {
                    self.dir(&full, &format!("{rel}/"))?;
                }
                continue;
            }
            if skip {
                continue;
            }
            let kind = if meta.file_type().is_symlink() {
                Kind::Symlink(std::fs::read_link(&full)?)
            } else if meta.is_file() {
                Kind::File(self.digest(&full, &rel, &meta)?)
            } else {
                // Sockets, fifos and devices are not part of a context.
                continue;
            };
            self.push(&full, rel, &meta, kind);
        }
        Ok(())
    }

    fn push(&mut self, full: &Path, rel: String, meta: &Metadata, kind: Kind) {
        let path = full.strip_prefix(self.root).unwrap_or(full).to_path_buf();
        self.entries.push(Entry {
            path,
            rel,
            kind,
            mode: meta.mode() & 0o7777,
            mtime: meta.mtime(),
        });
    }

    /// The file's sha256: from the cache when its stat is unchanged.
    fn digest(&mut self, full: &Path, rel: &str, meta: &Metadata) -> io::Result<String> {
        let stat = |sha256: String| Cached {
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_ns: meta.mtime_nsec(),
            ino: meta.ino(),
            mode: meta.mode(),
            sha256,
        };
        if let Some(c) = self.old.get(rel) {
            if *c == stat(c.sha256.clone()) {
                self.new.insert(rel.to_string(), c.clone());
                return Ok(c.sha256.clone());
            }
        }
        let mut h = Sha256::new();
        io::copy(&mut std::fs::File::open(full)?, &mut h)?;
        let sha = hex::encode(h.finalize());
        let settled = meta.modified().is_ok_and(|m| m < self.trust_before);
        if settled {
            self.new.insert(rel.to_string(), stat(sha.clone()));
        }
        Ok(sha)
    }
}

/// Writes the context as a tar, the way the docker CLI sends it: owner
/// 0:0, modes and mtimes kept, symlinks as links.
pub fn write_tar<W: Write>(ctx: &Context, out: W) -> io::Result<W> {
    let mut tar = tar::Builder::new(out);
    for e in &ctx.entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(e.mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(u64::try_from(e.mtime).unwrap_or(0));
        match &e.kind {
            Kind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                tar.append_data(&mut h, &e.path, io::empty())?;
            }
            Kind::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                tar.append_link(&mut h, &e.path, target)?;
            }
            Kind::File(_) => {
                let file = std::fs::File::open(ctx.root.join(&e.path))?;
                let len = file.metadata()?.len();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(len);
                // Exactly `len` bytes even if the file changes meanwhile: a
                // short read is padded rather than tearing the archive.
                let data = file.chain(io::repeat(0)).take(len);
                tar.append_data(&mut h, &e.path, data)?;
            }
        }
    }
    tar.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("src/deep")).unwrap();
        std::fs::create_dir_all(p.join("node_modules/x")).unwrap();
        std::fs::write(p.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(p.join("src/app.txt"), "hello").unwrap();
        std::fs::write(p.join("src/deep/b.txt"), "b").unwrap();
        std::fs::write(p.join("node_modules/x/i.js"), "1").unwrap();
        std::os::unix::fs::symlink("app.txt", p.join("src/link")).unwrap();
        dir
    }

    fn walked(root: &Path, ignore: &str, cache: &FileCache) -> (Context, FileCache) {
        walk(root, &Ignore::parse(ignore).unwrap(), cache).unwrap()
    }

    fn rels(c: &Context) -> Vec<&str> {
        c.entries.iter().map(|e| e.rel.as_str()).collect()
    }

    /// Back-dates every file so the cache trusts it.
    fn settle(root: &Path) {
        let old = SystemTime::now() - Duration::from_secs(60);
        for rel in [
            "Dockerfile",
            "src/app.txt",
            "src/deep/b.txt",
            "node_modules/x/i.js",
        ] {
            let f = std::fs::File::options()
                .write(true)
                .open(root.join(rel))
                .unwrap();
            f.set_modified(old).unwrap();
        }
    }

    #[test]
    fn ignored_files_are_neither_sent_nor_hashed() {
        let dir = tree();
        let (all, _) = walked(dir.path(), "", &FileCache::new());
        let (some, _) = walked(dir.path(), "node_modules\n", &FileCache::new());
        assert!(rels(&all).contains(&"node_modules/x/i.js"));
        assert_eq!(
            rels(&some),
            [
                "Dockerfile",
                "src",
                "src/app.txt",
                "src/deep",
                "src/deep/b.txt",
                "src/link"
            ]
        );
        assert_ne!(all.digest, some.digest);
        std::fs::write(dir.path().join("node_modules/x/i.js"), "2").unwrap();
        let (again, _) = walked(dir.path(), "node_modules\n", &FileCache::new());
        assert_eq!(again.digest, some.digest, "an ignored change is no change");
    }

    #[test]
    fn the_digest_follows_contents_paths_modes_and_link_targets() {
        let dir = tree();
        let p = dir.path();
        let base = walked(p, "", &FileCache::new()).0.digest;
        assert_eq!(walked(p, "", &FileCache::new()).0.digest, base, "stable");
        std::fs::write(p.join("src/app.txt"), "hellO").unwrap();
        let content = walked(p, "", &FileCache::new()).0.digest;
        assert_ne!(content, base);
        std::fs::set_permissions(
            p.join("src/app.txt"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let mode = walked(p, "", &FileCache::new()).0.digest;
        assert_ne!(mode, content);
        std::fs::rename(p.join("src/deep/b.txt"), p.join("src/deep/c.txt")).unwrap();
        let renamed = walked(p, "", &FileCache::new()).0.digest;
        assert_ne!(renamed, mode);
        std::fs::remove_file(p.join("src/link")).unwrap();
        std::os::unix::fs::symlink("deep", p.join("src/link")).unwrap();
        assert_ne!(walked(p, "", &FileCache::new()).0.digest, renamed);
    }

    #[test]
    fn unchanged_files_come_from_the_cache_and_changed_ones_are_read_again() {
        let dir = tree();
        let p = dir.path();
        settle(p);
        let (first, cache) = walked(p, "", &FileCache::new());
        assert_eq!(cache.len(), 4, "every settled file is cached: {cache:?}");
        // A cached digest is believed while the stat matches: poison it to
        // prove the file was not read.
        let mut poisoned = cache.clone();
        poisoned.get_mut("src/app.txt").unwrap().sha256 = "0".repeat(64);
        let (from_cache, kept) = walked(p, "", &poisoned);
        assert_ne!(
            from_cache.digest, first.digest,
            "the cached digest was used"
        );
        assert_eq!(kept, poisoned);
        // A change of size or mtime is seen by stat alone.
        std::fs::write(p.join("src/app.txt"), "changed!").unwrap();
        let (changed, fresh) = walked(p, "", &poisoned);
        assert_ne!(changed.digest, first.digest);
        assert!(
            !fresh.contains_key("src/app.txt"),
            "a file modified just now is not cached"
        );
        std::fs::write(p.join("src/app.txt"), "hello").unwrap();
        settle(p);
        let (back, _) = walked(p, "", &fresh);
        assert_eq!(back.digest, first.digest);
    }

    #[test]
    fn the_tar_holds_what_was_walked() {
        let dir = tree();
        let (ctx, _) = walked(dir.path(), "node_modules\n", &FileCache::new());
        let bytes = write_tar(&ctx, Vec::new()).unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut seen = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e
                .path()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches('/')
                .to_string();
            assert_eq!(e.header().uid().unwrap(), 0);
            if path == "src/app.txt" {
                let mut s = String::new();
                e.read_to_string(&mut s).unwrap();
                assert_eq!(s, "hello");
            }
            if path == "src/link" {
                assert_eq!(e.header().entry_type(), tar::EntryType::Symlink);
                assert_eq!(e.link_name().unwrap().unwrap().to_str(), Some("app.txt"));
            }
            seen.push(path);
        }
        assert_eq!(seen, rels(&ctx));
    }
}
