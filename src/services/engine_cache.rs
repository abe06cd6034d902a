//! The API version of an engine on a local socket, remembered between
//! runs, so that a no-op `up` makes one round trip (its list call) and not
//! two.
//!
//! An entry holds for one engine process: it is keyed by the socket's
//! inode and the pid of the process listening on it (`SO_PEERCRED`), so a
//! restarted or upgraded daemon, or a new socket, is asked `/_ping` again.
//! Finding the pid takes a connect, which also proves that something
//! listens: a socket file left by a dead daemon is refused at once, as the
//! ping would have been. A socket handed over by systemd answers with pid
//! 1 whatever runs behind it, so such engines are always pinged.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    engines: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    inode: u64,
    pid: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    identity: Identity,
    api: (usize, usize),
}

/// Who listens on `socket` now; Err when nothing does.
pub async fn identify(socket: &Path) -> Result<Option<Identity>, String> {
    let inode = match std::fs::metadata(socket) {
        Ok(m) => m.ino(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("no socket there".into()),
        Err(e) => return Err(e.to_string()),
    };
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| e.to_string())?;
    let pid = stream.peer_cred().ok().and_then(|c| c.pid());
    Ok(pid.filter(|p| *p > 1).map(|pid| Identity { inode, pid }))
}

/// The version `who` answered when it was last asked.
pub fn known(cache: &Path, socket: &Path, who: Identity) -> Option<(usize, usize)> {
    let file: File = crate::state::read_json(cache);
    let e = file.engines.get(&socket.to_string_lossy().to_string())?;
    (e.identity == who).then_some(e.api)
}

/// Remembers what `who` answered. Best effort: a cache that cannot be
/// written only costs the next run a ping.
pub fn remember(cache: &Path, socket: &Path, who: Identity, api: (usize, usize)) {
    let mut file: File = crate::state::read_json(cache);
    file.engines.insert(
        socket.to_string_lossy().to_string(),
        Entry { identity: who, api },
    );
    let _ = crate::state::write_json(cache, &file);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_entry_holds_for_the_same_listener_and_not_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("engine.sock");
        let cache = dir.path().join("engines.json");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        let me = identify(&socket)
            .await
            .unwrap()
            .expect("our own pid is not 1");
        assert_eq!(known(&cache, &socket, me), None);
        remember(&cache, &socket, me, (1, 43));
        assert_eq!(known(&cache, &socket, me), Some((1, 43)));
        // A new socket (a restarted daemon binds afresh): asked again.
        drop(listener);
        std::fs::remove_file(&socket).unwrap();
        let _again = tokio::net::UnixListener::bind(&socket).unwrap();
        let now = identify(&socket).await.unwrap().unwrap();
        let moved = std::fs::metadata(&socket).unwrap().ino() != me.inode;
        assert_eq!(known(&cache, &socket, now).is_none(), moved);
    }

    #[tokio::test]
    async fn a_socket_nobody_listens_on_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("dead.sock");
        drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
        assert!(identify(&socket).await.is_err());
    }
}
