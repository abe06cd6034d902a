//! `logs NAME`: a container's log from the engine, or a mock's request log
//! from `.devenv/logs/`, optionally followed until a signal ends it.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use crate::error::Error;
use crate::services::{self, LogsOptions};

use super::{interruptible, Live, Session};

pub struct LogsRequest<'a> {
    pub name: &'a str,
    pub follow: bool,
    pub tail: Option<usize>,
}

/// Sends each line to `sink`.
pub fn logs(
    s: &Session<'_>,
    live: &Live,
    req: &LogsRequest<'_>,
    sink: &mut (dyn FnMut(&str) + Send),
) -> Result<(), Error> {
    let m = s.manifest;
    if m.mock(req.name).is_some() {
        return mock_log(&crate::mocks::log_path(&s.paths, req.name), req, sink);
    }
    if m.service(req.name).is_none() {
        let names: Vec<&str> = m
            .services
            .iter()
            .map(|s| s.name.as_str())
            .chain(m.mocks.iter().map(|m| m.name.as_str()))
            .collect();
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
        };
        Ok(services::logs(engine, &opts, sink).await?)
    }))
}

/// A mock's request log: the last lines, then (with `--follow`) whatever is
/// appended, until a signal.
fn mock_log(
    path: &Path,
    req: &LogsRequest<'_>,
    sink: &mut (dyn FnMut(&str) + Send),
) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::failed(format!("cannot read {}: {e}", path.display()));
    let open = || std::fs::File::open(path);
    let mut file = match open() {
        Ok(f) => f,
        Err(_) if !req.follow => {
            return Err(Error::usage(
                format!("mock `{}` has no log yet", req.name),
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
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io)?;
    let lines: Vec<&str> = text.lines().collect();
    let skip = req.tail.map_or(0, |n| lines.len().saturating_sub(n));
    for line in &lines[skip..] {
        sink(line);
    }
    if !req.follow {
        return Ok(());
    }
    let mut pos = text.len() as u64;
    super::runtime()?.block_on(interruptible(async {
        let mut pending = String::new();
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if len < pos {
                pos = 0; // the mock restarted and truncated its log
            }
            if len == pos {
                continue;
            }
            let mut f = open().map_err(io)?;
            f.seek(SeekFrom::Start(pos)).map_err(io)?;
            let mut chunk = String::new();
            f.read_to_string(&mut chunk).map_err(io)?;
            pos += chunk.len() as u64;
            pending.push_str(&chunk);
            while let Some(i) = pending.find('\n') {
                sink(&pending[..i]);
                pending.drain(..=i);
            }
        }
        #[allow(unreachable_code)]
        Ok::<(), Error>(())
    }))
}
