//! `logs NAME`: a container's log from the engine, or a mock's request log
//! or a process's output from `.devenv/logs/`, optionally followed until a
//! signal ends it.
//!
//! A log holds whatever the container or the mock's callers wrote, secrets
//! included, so every byte goes through the session's redactor (as a
//! stream: a value cut across two writes is still masked) before it is cut
//! into lines for `sink`; so do the errors.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use crate::error::Error;
use crate::redact::{LineRedactor, Redactor};
use crate::services::{self, LogsOptions};

use super::{interruptible, Live, Session};

pub struct LogsRequest<'a> {
    pub name: &'a str,
    pub follow: bool,
    pub tail: Option<usize>,
}

/// Sends each line, redacted, to `sink`.
pub fn logs(
    s: &Session<'_>,
    live: &Live,
    req: &LogsRequest<'_>,
    sink: &mut (dyn FnMut(&str) + Send),
) -> Result<(), Error> {
    s.learn_secret_commands();
    let mut lines = LineRedactor::new(s.redactor().clone());
    let result = log(s, live, req, &mut lines, sink);
    lines.finish(sink);
    result.map_err(|e| s.redact_error(e))
}

fn log(
    s: &Session<'_>,
    live: &Live,
    req: &LogsRequest<'_>,
    lines: &mut LineRedactor,
    sink: &mut (dyn FnMut(&str) + Send),
) -> Result<(), Error> {
    let m = s.manifest;
    if m.mock(req.name).is_some() {
        let path = crate::mocks::log_path(&s.paths, req.name);
        return file_log(&path, req, s.redactor(), &mut |b| lines.push_bytes(b, sink));
    }
    if m.process(req.name).is_some() {
        let path = crate::processes::log_path(&s.paths, req.name);
        return file_log(&path, req, s.redactor(), &mut |b| lines.push_bytes(b, sink));
    }
    if m.service(req.name).is_none() {
        let names: Vec<&str> = m.names().collect();
        let hint = if names.is_empty() {
            "devenv.toml declares no services".to_string()
        } else {
            format!("known: {}", names.join(", "))
        };
        return Err(Error::usage(
            format!("no service named `{}` in devenv.toml", req.name),
            Some(hint),
        ));
    }
    super::runtime()?.block_on(interruptible(async {
        let engine = live.engine(s).await?;
        let opts = LogsOptions {
            project_id: &m.project.id,
            service: req.name,
            follow: req.follow,
            tail: req.tail,
            timestamps: false,
            since: None,
        };
        Ok(services::logs(engine, &opts, &mut |b| lines.push_bytes(b, sink)).await?)
    }))
}

/// A mock's request log or a process's output: the last lines, then (with
/// `--follow`) whatever is appended, until a signal. Bytes go to `sink` as
/// read (the caller redacts and cuts lines).
fn file_log(
    path: &Path,
    req: &LogsRequest<'_>,
    redactor: &Redactor,
    sink: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::failed(format!("cannot read {}: {e}", path.display()));
    let open = || std::fs::File::open(path);
    let mut file = match open() {
        Ok(f) => f,
        Err(_) if !req.follow => {
            return Err(Error::usage(
                format!("`{}` has no log yet", req.name),
                Some("start it with `devenv up`".into()),
            ))
        }
        Err(_) => {
            std::fs::create_dir_all(path.parent().unwrap_or(path)).ok();
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|_| open())
                .map_err(io)?
        }
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io)?;
    sink(&last_lines(&bytes, req.tail, redactor));
    if !req.follow {
        return Ok(());
    }
    let mut pos = bytes.len() as u64;
    super::runtime()?.block_on(interruptible(async {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let chunk = read_new(path, &mut pos).map_err(io)?;
            if !chunk.is_empty() {
                sink(&chunk);
            }
        }
        #[allow(unreachable_code)]
        Ok::<(), Error>(())
    }))
}

/// What was appended to the log at `path` since `pos`, which moves past
/// it: only the new bytes are read (a followed log can be large). A file
/// shorter than `pos` was truncated (its mock restarted): read from the
/// start.
pub(super) fn read_new(path: &Path, pos: &mut u64) -> std::io::Result<Vec<u8>> {
    let len = std::fs::metadata(path)?.len();
    if len < *pos {
        *pos = 0;
    }
    if len == *pos {
        return Ok(Vec::new());
    }
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(*pos))?;
    let mut chunk = Vec::new();
    f.read_to_end(&mut chunk)?;
    *pos += chunk.len() as u64;
    Ok(chunk)
}

/// The last `n` lines of a log (all with `None`), each with its newline.
/// Counted after redaction, so a masked multi-line secret counts as one.
fn last_lines(bytes: &[u8], n: Option<usize>, redactor: &Redactor) -> Vec<u8> {
    let mut lines = Vec::new();
    let mut whole = LineRedactor::new(redactor.clone());
    let mut keep = |l: &str| lines.push(format!("{l}\n"));
    whole.push_bytes(bytes, &mut keep);
    whole.finish(&mut keep);
    let skip = n.map_or(0, |n| lines.len().saturating_sub(n));
    lines[skip..].concat().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::read_new;
    use std::io::Write;

    #[test]
    fn a_followed_log_gives_only_what_was_appended_and_starts_over_when_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mock-x.log");
        std::fs::write(&path, "one\n").unwrap();
        let mut pos = 4;
        assert!(read_new(&path, &mut pos).unwrap().is_empty());
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"two\n").unwrap();
        assert_eq!(read_new(&path, &mut pos).unwrap(), b"two\n");
        assert_eq!(pos, 8);
        std::fs::write(&path, "new\n").unwrap();
        assert_eq!(read_new(&path, &mut pos).unwrap(), b"new\n");
        assert_eq!(pos, 4);
    }
}
