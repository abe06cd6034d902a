//! A container's log: the tail shown when a service fails, and
//! `devenv logs SERVICE [--follow] [--tail N]`.

use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;

use super::{container_name, is_not_found, Engine, Result, ServicesError};

/// The last `n` lines (all with `None`), stdout and stderr interleaved.
pub async fn tail(engine: &Engine, container: &str, n: Option<usize>) -> Vec<String> {
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail(&n.map_or("all".to_string(), |n| n.to_string()))
        .build();
    let mut stream = engine.docker.logs(container, Some(options));
    let mut text = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
    }
    text.lines().map(str::to_string).collect()
}

pub struct LogsOptions<'a> {
    pub project_id: &'a str,
    pub service: &'a str,
    pub follow: bool,
    pub tail: Option<usize>,
}

/// Streams a service's log line by line to `sink` until it ends (or, with
/// `follow`, until the container stops or the caller drops the future).
pub async fn logs(
    engine: &Engine,
    opts: &LogsOptions<'_>,
    sink: &mut (dyn FnMut(&str) + Send),
) -> Result<()> {
    let name = container_name(opts.project_id, opts.service);
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .follow(opts.follow)
        .tail(&opts.tail.map_or("all".to_string(), |n| n.to_string()))
        .build();
    let mut stream = engine.docker.logs(&name, Some(options));
    let mut pending = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => {
                pending.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                while let Some(i) = pending.find('\n') {
                    let line: String = pending.drain(..=i).collect();
                    sink(line.trim_end_matches(['\n', '\r']));
                }
            }
            Err(e) if is_not_found(&e) => {
                return Err(ServicesError::Other(format!(
                    "service `{}` has no container (run `devenv up` first)",
                    opts.service
                )))
            }
            Err(e) => {
                return Err(ServicesError::engine(format!("reading the log of {name}"))(
                    e,
                ))
            }
        }
    }
    if !pending.is_empty() {
        sink(&pending);
    }
    Ok(())
}
