//! Reading an input file that someone else wrote: devenv.toml,
//! devenv.local.toml, the user config, templates, mock files, stack presets,
//! devenv.lock.
//!
//! A repository is untrusted input, and git keeps symlinks: `devenv.toml`
//! can point at `/dev/zero` (which `read_to_string` would read until memory
//! runs out) or at a FIFO (which `open` would wait on forever). So every
//! such read goes through `read_limited`: only a regular file, only up to
//! [`LIMIT`] bytes. The kind is checked before opening (a clear message for
//! the usual case), the file is opened without blocking and checked again
//! through its handle (in case it was swapped meanwhile), and it is read
//! through `take(LIMIT + 1)` so a file that grows after the check still
//! cannot exceed the limit.

use std::fs::{File, FileType, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// The largest input file devenv reads: far beyond any real manifest,
/// template or mock file, small enough that reading it is instant.
pub const LIMIT: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("there is no such file")]
    NotFound,
    #[error("it is {0}, not a regular file")]
    NotAFile(&'static str),
    #[error("it is larger than {} MiB, the limit for files devenv reads", LIMIT >> 20)]
    TooLarge,
    #[error("it is not UTF-8 text")]
    NotUtf8,
    #[error("{0}")]
    Io(#[source] io::Error),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::NotFound)
    }

    fn from_io(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::NotFound {
            ReadError::NotFound
        } else {
            ReadError::Io(e)
        }
    }
}

/// The text of the regular file at `path`, at most [`LIMIT`] bytes.
pub fn read_limited(path: &Path) -> Result<String, ReadError> {
    String::from_utf8(read_limited_bytes(path)?).map_err(|_| ReadError::NotUtf8)
}

/// The bytes of the regular file at `path`, at most [`LIMIT`] of them.
pub fn read_limited_bytes(path: &Path) -> Result<Vec<u8>, ReadError> {
    read_all(open_checked(path)?)
}

/// Opens `path` for reading if it is a regular file within the limit,
/// checked before opening and again through the handle. `confine` opens
/// through this too, then checks the handle is the confined file.
pub fn open_checked(path: &Path) -> Result<File, ReadError> {
    check(&std::fs::metadata(path).map_err(ReadError::from_io)?)?;
    let file = open_without_blocking(path).map_err(ReadError::from_io)?;
    check(&file.metadata().map_err(ReadError::from_io)?)?;
    Ok(file)
}

/// Everything in `file`, at most [`LIMIT`] bytes (it may grow meanwhile).
pub fn read_all(file: File) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    file.take(LIMIT + 1)
        .read_to_end(&mut out)
        .map_err(ReadError::from_io)?;
    if out.len() as u64 > LIMIT {
        return Err(ReadError::TooLarge);
    }
    Ok(out)
}

fn check(meta: &Metadata) -> Result<(), ReadError> {
    let ft = meta.file_type();
    if !ft.is_file() {
        return Err(ReadError::NotAFile(kind(&ft)));
    }
    if meta.len() > LIMIT {
        return Err(ReadError::TooLarge);
    }
    Ok(())
}

fn kind(ft: &FileType) -> &'static str {
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    "a special file"
}

/// Opens for reading with `O_NONBLOCK`, so a FIFO swapped in after the
/// check does not wait for a writer (the handle's check then refuses it).
/// On regular files the flag changes nothing.
#[cfg(unix)]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// `O_NONBLOCK`, which std does not name. Where it is not known here the
/// check before opening is the only guard.
#[cfg(unix)]
const O_NONBLOCK: i32 = if cfg!(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)) {
    0x0004
} else if cfg!(all(
    any(target_os = "linux", target_os = "android"),
    not(any(
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "sparc",
        target_arch = "sparc64"
    ))
)) {
    0o4000
} else {
    0
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.toml");
        std::fs::write(&p, "x = 1\n").unwrap();
        assert_eq!(read_limited(&p).unwrap(), "x = 1\n");
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_limited(&dir.path().join("nope"))
            .unwrap_err()
            .is_not_found());
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_limited(dir.path()).unwrap_err();
        assert!(matches!(e, ReadError::NotAFile("a directory")), "{e:?}");
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        let f = File::create(&p).unwrap();
        f.set_len(LIMIT + 1).unwrap();
        assert!(matches!(read_limited(&p), Err(ReadError::TooLarge)));
        f.set_len(LIMIT).unwrap();
        assert_eq!(read_limited_bytes(&p).unwrap().len() as u64, LIMIT);
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_is_refused_at_once() {
        let e = read_limited(Path::new("/dev/zero")).unwrap_err();
        assert!(
            matches!(e, ReadError::NotAFile("a character device")),
            "{e:?}"
        );
    }

    #[test]
    fn invalid_utf8_is_not_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bin");
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        assert!(matches!(read_limited(&p), Err(ReadError::NotUtf8)));
    }
}
