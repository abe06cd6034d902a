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
    /// Prefix each line with the engine's RFC 3339 time (for interleaving).
    pub timestamps: bool,
    /// Only lines since this Unix time.
    pub since: Option<i64>,
}

/// Streams a service's log to `sink` as the engine sends it, stdout and
/// stderr interleaved, until it ends (or, with `follow`, until the
/// container stops or the caller drops the future). The pieces are not
/// lines: the caller cuts them (after redacting, which must see a secret
/// a write cut in two whole).
pub async fn logs(
    engine: &Engine,
    opts: &LogsOptions<'_>,
    sink: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<()> {
    let name = container_name(opts.project_id, opts.service);
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .follow(opts.follow)
        .timestamps(opts.timestamps)
        .since(opts.since.unwrap_or(0).try_into().unwrap_or(i32::MAX))
        .tail(&opts.tail.map_or("all".to_string(), |n| n.to_string()))
        .build();
    let mut stream = engine.docker.logs(&name, Some(options));
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => sink(&chunk.into_bytes()),
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
    Ok(())
}
