//! Keeping a log to a size: a dev server or a mock left running through a
//! day of edits logs every request and reload, and its log grew without
//! end. Used by the process supervisor (at each start and every half
//! minute) and by `up` when it starts a mock.
//!
//! Past the limit, the log is copied to `NAME.log.1` (replacing the last
//! one) and cut to nothing. The command writes through its own descriptor
//! in append mode, so it goes on at the new end; lines written between the
//! copy and the cut (a few milliseconds) are lost, as with logrotate's
//! `copytruncate`.

use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct LogLimit {
    pub bytes: u64,
    pub every: Duration,
}

impl Default for LogLimit {
    fn default() -> Self {
        LogLimit {
            bytes: 32 * 1024 * 1024,
            every: Duration::from_secs(30),
        }
    }
}

/// Where the earlier lines go.
pub fn previous(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// Copies `log` aside and empties it when it is over `limit` bytes; true
/// when it did.
pub fn trim(log: &Path, limit: u64) -> std::io::Result<bool> {
    let len = match std::fs::metadata(log) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if len <= limit {
        return Ok(false);
    }
    let aside = previous(log);
    // Whole or not at all: a crash mid-copy leaves the old `.1`.
    let mut tmp = aside.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::copy(log, &tmp)?;
    std::fs::rename(&tmp, &aside)?;
    std::fs::OpenOptions::new()
        .write(true)
        .open(log)?
        .set_len(0)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_over_the_limit_moves_aside_and_one_under_it_stays() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("web.log");
        assert!(!trim(&log, 10).unwrap(), "no log yet");
        std::fs::write(&log, "0123456789").unwrap();
        assert!(!trim(&log, 10).unwrap());
        std::fs::write(&log, "0123456789-over\n").unwrap();
        assert!(trim(&log, 10).unwrap());
        assert_eq!(
            std::fs::read_to_string(previous(&log)).unwrap(),
            "0123456789-over\n"
        );
        assert_eq!(std::fs::metadata(&log).unwrap().len(), 0);
    }
}
