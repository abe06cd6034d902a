//! One `up`, `down`, `reset` or `render` per clone at a time.
//!
//! The lock is an advisory file lock (`flock`) under `DEVENV_HOME/locks`,
//! keyed by the clone's path, so `reset` removing `.devenv/` never removes
//! a lock someone waits on. The kernel drops it when the holder exits, even
//! on SIGKILL, so a crashed run never leaves the clone locked. The holder
//! writes its pid into the file, so a waiter can say whom it waits for.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};

/// Held until dropped.
#[derive(Debug)]
pub struct CloneLock {
    _file: File,
}

/// What to do when another devenv holds the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait for it, saying so once.
    Yes,
    /// Fail at once (exit 1).
    No,
}

pub fn lock_path(paths: &Paths) -> PathBuf {
    let key = crate::util::sha256_hex(paths.root.as_os_str().as_encoded_bytes());
    paths
        .home
        .join("locks")
        .join(format!("{}.lock", &key[..24]))
}

/// Takes the clone's lock; waits (interruptibly: the caller wraps this in
/// `interruptible`) while another devenv holds it.
pub async fn acquire(
    paths: &Paths,
    reporter: &dyn Reporter,
    wait: Wait,
) -> Result<CloneLock, Error> {
    let path = lock_path(paths);
    let mut file = open(&path)?;
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = holder_pid(&mut file);
                let who = holder.map_or_else(
                    || "another devenv".to_string(),
                    |p| format!("devenv (pid {p})"),
                );
                if wait == Wait::No {
                    return Err(Error::failed_with(
                        format!("{who} is already working on this clone"),
                        Some(
                            "wait for it to finish, or run without --no-wait to wait for it".into(),
                        ),
                    ));
                }
                if !told {
                    reporter.message(
                        Level::Info,
                        &format!("waiting for {who}, which is working on this clone"),
                    );
                    told = true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::failed(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )))
            }
        }
    }
    // Ours now: say who holds it. The pid is padded to a fixed width and
    // written over the old one, so no truncate is needed (an ftruncate is
    // a metadata write: up to milliseconds on a busy disk, every `up`).
    let _ = file.seek(SeekFrom::Start(0));
    // Formatted first: `writeln!` on the file wrote the padding one space
    // per syscall.
    let _ = file.write_all(format!("{:<10}\n", std::process::id()).as_bytes());
    Ok(CloneLock { _file: file })
}

fn open(path: &Path) -> Result<File, Error> {
    let fail = |e: std::io::Error| {
        Error::failed(format!(
            "cannot open the clone lock {}: {e}",
            path.display()
        ))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(fail)
}

fn holder_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Recorder;

    fn paths() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().unwrap();
        let p = Paths::new(dir.path().join("home"), dir.path().join("repo"));
        (dir, p)
    }

    #[tokio::test]
    async fn a_second_holder_is_refused_without_waiting_and_named() {
        let (_d, p) = paths();
        let first = acquire(&p, &Recorder::default(), Wait::No).await.unwrap();
        let e = acquire(&p, &Recorder::default(), Wait::No)
            .await
            .unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(
            e.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{e}"
        );
        drop(first);
        acquire(&p, &Recorder::default(), Wait::No).await.unwrap();
    }

    #[tokio::test]
    async fn a_waiter_gets_the_lock_when_the_holder_lets_go() {
        let (_d, p) = paths();
        let first = acquire(&p, &Recorder::default(), Wait::No).await.unwrap();
        let released = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(first);
        });
        let rec = Recorder::default();
        acquire(&p, &rec, Wait::Yes).await.unwrap();
        released.join().unwrap();
        let said = rec.messages.lock().unwrap();
        assert!(
            said.iter()
                .any(|(_, m)| m.starts_with("waiting for devenv (pid")),
            "{said:?}"
        );
    }

    #[test]
    fn two_clones_have_two_locks() {
        let a = Paths::new("/h", "/src/a");
        let b = Paths::new("/h", "/src/b");
        assert_ne!(lock_path(&a), lock_path(&b));
    }
}
