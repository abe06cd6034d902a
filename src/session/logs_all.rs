//! `logs [NAME…]` with several names or none: every service's, mock's (and
//! process's) log, interleaved by time, each line given to the sink with
//! its source's name, like `docker compose logs`. With `follow`, the
//! history first, then lines as they arrive from every source at once.
//!
//! Containers' lines carry the engine's timestamps; mocks' log lines begin
//! with their own. Every line is redacted (per source, as a stream).

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::error::Error;
use crate::progress::{Level, Reporter};
use crate::redact::LineRedactor;
use crate::services::{self, LogsOptions};

use super::{interruptible, Live, Session};

pub struct AllLogsRequest<'a> {
    /// The names asked for; all services and mocks when empty.
    pub names: &'a [String],
    pub follow: bool,
    /// The last N lines of each source.
    pub tail: Option<usize>,
    pub since: Option<DateTime<Utc>>,
}

#[derive(Clone)]
enum Source {
    Container(String),
    File { name: String, path: PathBuf },
}

impl Source {
    fn name(&self) -> &str {
        match self {
            Source::Container(n) | Source::File { name: n, .. } => n,
        }
    }
}

/// A line and when it was written (when known).
type Line = (Option<DateTime<Utc>>, String);

pub fn logs_all(
    s: &Session<'_>,
    live: &Live,
    req: &AllLogsRequest<'_>,
    sink: &mut (dyn FnMut(&str, &str) + Send),
) -> Result<(), Error> {
    s.learn_secret_commands();
    let sources = sources(s, req.names)?;
    let runtime = super::runtime()?;
    runtime
        .block_on(interruptible(async {
            let mut all: Vec<(Line, usize, &str)> = Vec::new();
            for (i, src) in sources.iter().enumerate() {
                for line in history(s, live, src, req).await? {
                    all.push((line, i, src.name()));
                }
            }
            // Stable: lines of one source keep their order.
            all.sort_by_key(|(line, _, _)| line.0);
            for ((_, text), _, name) in &all {
                sink(name, text);
            }
            if req.follow {
                follow(s, live, &sources, sink).await?;
            }
            Ok(())
        }))
        .map_err(|e| s.redact_error(e))
}

fn sources(s: &Session<'_>, names: &[String]) -> Result<Vec<Source>, Error> {
    let m = s.manifest;
    let source = |name: &str| {
        if m.service(name).is_some() {
            Some(Source::Container(name.to_string()))
        } else if m.mock(name).is_some() {
            Some(Source::File {
                name: name.to_string(),
                path: crate::mocks::log_path(&s.paths, name),
            })
        } else if m.processes.iter().any(|p| p.name == name) {
            Some(Source::File {
                name: name.to_string(),
                path: crate::processes::log_path(&s.paths, name),
            })
        } else {
            None
        }
    };
    if names.is_empty() {
        return Ok(m.names().filter_map(source).collect());
    }
    names
        .iter()
        .map(|n| {
            source(n).ok_or_else(|| {
                let known: Vec<&str> = m.names().collect();
                Error::usage(
                    format!("no service, mock or process named `{n}` in devenv.toml"),
                    Some(format!("known: {}", known.join(", "))),
                )
            })
        })
        .collect()
}

/// `2026-12-01T10:00:00.123Z rest` -> (time, rest); lines without a time
/// keep the time of the line before them. A process's log carries times
/// only on the supervisor's own lines (`[devenv] TIME started ...`): the
/// command's output takes the time of its start.
fn split_time(lines: Vec<String>) -> Vec<Line> {
    let mut last = None;
    let note = format!("{} ", crate::processes::NOTE);
    lines
        .into_iter()
        .map(|l| {
            if let Some(rest) = l.strip_prefix(&note) {
                if let Some(t) = rest
                    .split_once(' ')
                    .and_then(|(t, _)| DateTime::parse_from_rfc3339(t).ok())
                {
                    last = Some(t.with_timezone(&Utc));
                }
                return (last, l);
            }
            timed(&mut last, l)
        })
        .collect()
}

fn timed(last: &mut Option<DateTime<Utc>>, l: String) -> Line {
    {
        match l.split_once(' ') {
            Some((t, rest)) => match DateTime::parse_from_rfc3339(t) {
                Ok(t) => {
                    *last = Some(t.with_timezone(&Utc));
                    (*last, rest.to_string())
                }
                Err(_) => (*last, l),
            },
            None => (*last, l),
        }
    }
}

fn redacted_lines(s: &Session<'_>, bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = LineRedactor::new(s.redactor().clone());
    lines.push_bytes(bytes, &mut |l| out.push(l.to_string()));
    lines.finish(&mut |l| out.push(l.to_string()));
    out
}

async fn history(
    s: &Session<'_>,
    live: &Live,
    src: &Source,
    req: &AllLogsRequest<'_>,
) -> Result<Vec<Line>, Error> {
    let mut lines = match src {
        Source::Container(name) => {
            let engine = live.engine(s).await?;
            let opts = LogsOptions {
                project_id: &s.manifest.project.id,
                service: name,
                follow: false,
                tail: req.tail,
                timestamps: true,
                since: req.since.map(|t| t.timestamp()),
            };
            let mut bytes = Vec::new();
            if let Err(e) = services::logs(engine, &opts, &mut |b| bytes.extend_from_slice(b)).await
            {
                s.reporter.message(Level::Warn, &e.to_string());
            }
            split_time(redacted_lines(s, &bytes))
        }
        Source::File { path, .. } => {
            let bytes = std::fs::read(path).unwrap_or_default();
            let mut lines = split_time(redacted_lines(s, &bytes));
            if let Some(n) = req.tail {
                lines.drain(..lines.len().saturating_sub(n));
            }
            lines
        }
    };
    if let Some(since) = req.since {
        lines.retain(|(t, _)| t.is_none_or(|t| t >= since));
    }
    Ok(lines)
}

/// Every source at once, until a signal: containers from the engine's
/// follow stream, files by polling their length.
async fn follow(
    s: &Session<'_>,
    live: &Live,
    sources: &[Source],
    sink: &mut (dyn FnMut(&str, &str) + Send),
) -> Result<(), Error> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, String)>();
    let now = Utc::now().timestamp();
    let mut tasks = Vec::new();
    for src in sources {
        let tx = tx.clone();
        let name = src.name().to_string();
        let redactor = s.redactor().clone();
        match src.clone() {
            Source::Container(service) => {
                let engine = live.engine(s).await?.clone();
                let project = s.manifest.project.id.clone();
                tasks.push(tokio::spawn(async move {
                    let opts = LogsOptions {
                        project_id: &project,
                        service: &service,
                        follow: true,
                        tail: Some(0),
                        timestamps: false,
                        since: Some(now),
                    };
                    let mut lines = LineRedactor::new(redactor);
                    let mut send = |l: &str| {
                        let _ = tx.send((name.clone(), l.to_string()));
                    };
                    let _ = services::logs(&engine, &opts, &mut |b| lines.push_bytes(b, &mut send))
                        .await;
                }));
            }
            Source::File { path, .. } => {
                tasks.push(tokio::spawn(async move {
                    let mut pos = std::fs::metadata(&path).map_or(0, |m| m.len());
                    let mut lines = LineRedactor::new(redactor);
                    loop {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        // It re-read the whole file ten times a second.
                        let Ok(new) = super::logs::read_new(&path, &mut pos) else {
                            continue;
                        };
                        let mut send = |l: &str| {
                            // Mock lines start with their time; followed
                            // lines show as they come.
                            let text = l
                                .split_once(' ')
                                .filter(|(t, _)| DateTime::parse_from_rfc3339(t).is_ok())
                                .map_or(l, |(_, r)| r);
                            let _ = tx.send((name.clone(), text.to_string()));
                        };
                        lines.push_bytes(&new, &mut send);
                    }
                }));
            }
        }
    }
    drop(tx);
    while let Some((name, line)) = rx.recv().await {
        sink(&name, &line);
    }
    for t in tasks {
        t.abort();
    }
    Ok(())
}
