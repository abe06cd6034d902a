//! One build through the engine's `/build` endpoint: with BuildKit where
//! the engine is on a socket this crate can reach (see `buildkit`), else
//! with the classic builder through bollard. Either way the context is
//! streamed as a tar from a blocking thread and the engine's output read as
//! it comes. The task shows the running step; the last lines of its output
//! are kept, so a failure says which step and what it printed.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bollard::query_parameters::{BuildImageOptionsBuilder, TagImageOptionsBuilder};
use bytes::Bytes;
use futures_util::StreamExt;

use super::{buildkit, BuildError, Prepared};
use crate::progress::{Reporter, Task};
use crate::services::{Engine, LABEL_PROJECT};

/// Lines of a failing step's output kept for the error.
const TAIL: usize = 30;
/// Bytes per chunk of the context on its way to the engine.
const CHUNK: usize = 256 * 1024;

/// What one build needs.
pub struct Job<'a> {
    pub engine: &'a Engine,
    pub reporter: &'a dyn Reporter,
    pub prepared: &'a Prepared,
    pub project: &'a str,
    /// `up --build`: without the builder's cache.
    pub nocache: bool,
}

/// Builds and tags the image; returns its id.
pub async fn run(job: &Job<'_>) -> Result<String, BuildError> {
    let p = job.prepared;
    let service = p.service.clone();
    let started = Instant::now();
    let task = job.reporter.task(&format!("build {service}"), None);
    task.set_message("sending the context");
    let socket = job.engine.socket.clone().filter(|_| !p.classic_only);
    let built = match socket {
        Some(socket) => match with_buildkit(job, &socket, &*task).await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(buildkit::Unsupported(why))) => {
                task.set_message(&format!(
                    "BuildKit unavailable ({why}); the classic builder"
                ));
                classic(job, &*task).await
            }
            Err(e) => Err(e),
        },
        None => classic(job, &*task).await,
    };
    let id = match built.map_err(|e| e.for_service(&service)) {
        Ok(id) => id,
        Err(failure) => {
            task.finish(false, &failure.summary());
            return Err(failure);
        }
    };
    let id = match id {
        Some(id) => id,
        None => image_id(job.engine, &p.tag).await.ok_or_else(|| {
            let failure = Log::default().failure(&service, "the engine built no image".into());
            task.finish(false, &failure.summary());
            failure
        })?,
    };
    if let Some(extra) = &p.extra_tag {
        tag(job.engine, &p.tag, extra)
            .await
            .inspect_err(|e| task.finish(false, &e.to_string()))?;
    }
    task.finish(
        true,
        &format!("built {} in {:.1}s", p.tag, started.elapsed().as_secs_f64()),
    );
    Ok(id)
}

/// One label: the tag already names the service (and the classic builder
/// adds a step per label).
fn labels(job: &Job<'_>) -> HashMap<String, String> {
    HashMap::from([(LABEL_PROJECT.to_string(), job.project.to_string())])
}

async fn with_buildkit(
    job: &Job<'_>,
    socket: &crate::services::socket::Socket,
    task: &dyn Task,
) -> Result<Result<Option<String>, buildkit::Unsupported>, BuildError> {
    let p = job.prepared;
    let labels = labels(job);
    let query = buildkit::Query {
        dockerfile: &p.dockerfile,
        tag: &p.tag,
        args: &p.args,
        labels: &labels,
        target: p.target.as_deref(),
        platform: p.platform.as_deref(),
        nocache: job.nocache,
    };
    let progress = Steps(task);
    buildkit::build(job.engine, socket, &query, tar_stream(p), &progress).await
}

/// BuildKit's steps on the build's task line.
struct Steps<'a>(&'a dyn Task);

impl buildkit::Progress for Steps<'_> {
    fn step(&self, name: &str) {
        self.0.set_message(name);
    }
}

/// The classic builder through bollard: for engines this crate cannot
/// reach directly, and those without BuildKit.
async fn classic(job: &Job<'_>, task: &dyn Task) -> Result<Option<String>, BuildError> {
    let p = job.prepared;
    let labels = labels(job);
    let mut options = BuildImageOptionsBuilder::default()
        .dockerfile(&p.dockerfile)
        .t(&p.tag)
        .buildargs(&p.args)
        .labels(&labels)
        .nocache(job.nocache)
        .rm(true)
        .forcerm(true);
    if let Some(t) = &p.target {
        options = options.target(t);
    }
    if let Some(pl) = &p.platform {
        options = options.platform(pl);
    }
    let body = bollard::body_try_stream(tar_stream(p));
    let mut stream = job
        .engine
        .docker
        .build_image(options.build(), None, Some(body));
    let mut log = Log::default();
    let mut id = None;
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(e) => {
                let message = match e {
                    bollard::errors::Error::DockerStreamError { error } => error,
                    other => other.to_string(),
                };
                return Err(log.failure(&p.service, message));
            }
        };
        if let Some(text) = info.stream {
            for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
                if log.push(line) {
                    task.set_message(line);
                }
            }
        }
        if let Some(status) = info.status {
            task.set_message(&status);
        }
        if let Some(aux) = info.aux.and_then(|a| a.id) {
            id = Some(aux);
        }
    }
    Ok(id)
}

/// The image's id, when the engine has it.
pub async fn image_id(engine: &Engine, reference: &str) -> Option<String> {
    engine.docker.inspect_image(reference).await.ok()?.id
}

/// `image = "..."` next to `build`: the build is tagged with that name too.
pub(super) async fn tag(engine: &Engine, built: &str, extra: &str) -> Result<(), BuildError> {
    // As written (`app:dev`), not as `ImageRef` spells it for pulls.
    let slash = extra.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match extra[slash..].rfind(':') {
        Some(i) => (&extra[..slash + i], &extra[slash + i + 1..]),
        None => (extra, "latest"),
    };
    let opts = TagImageOptionsBuilder::default()
        .repo(repo)
        .tag(tag)
        .build();
    engine
        .docker
        .tag_image(built, Some(opts))
        .await
        .map_err(|e| BuildError::Engine {
            context: format!("tagging {built} as {extra}"),
            source: e,
        })
}

/// The context as a stream of tar chunks, written on a blocking thread so
/// a large context never holds up the runtime or sits whole in memory.
fn tar_stream(
    p: &Prepared,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let context = p.context.clone();
    tokio::task::spawn_blocking(move || {
        let writer = Chunks {
            buf: Vec::with_capacity(CHUNK),
            tx: tx.clone(),
        };
        let result = super::context::write_tar(&context, writer).and_then(|mut w| w.send());
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item, rx))
    })
}

/// A `Write` that hands full chunks to the request body.
struct Chunks {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
}

impl Chunks {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the engine stopped reading the context"))
    }
}

impl std::io::Write for Chunks {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The build's output since the step running now.
#[derive(Default)]
struct Log {
    step: Option<String>,
    lines: VecDeque<String>,
}

impl Log {
    /// Keeps a line; true when it starts a step.
    fn push(&mut self, line: &str) -> bool {
        let step = line.starts_with("Step ");
        if step {
            self.step = Some(line.to_string());
            self.lines.clear();
        }
        if self.lines.len() == TAIL {
            self.lines.pop_front();
        }
        self.lines.push_back(line.to_string());
        step
    }

    fn failure(&self, service: &str, message: String) -> BuildError {
        BuildError::Failed {
            service: service.to_string(),
            step: self.step.clone(),
            log: self.lines.iter().cloned().collect(),
            message: message.trim().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_running_step_and_its_last_lines() {
        let mut log = Log::default();
        assert!(log.push("Step 1/2 : FROM busybox"));
        assert!(!log.push(" ---> abc"));
        assert!(log.push("Step 2/2 : RUN false"));
        for i in 0..40 {
            log.push(&format!("out {i}"));
        }
        let BuildError::Failed {
            step, log: lines, ..
        } = log.failure("web", "returned a non-zero code: 1\n".into())
        else {
            panic!("a failure");
        };
        assert_eq!(step.as_deref(), Some("Step 2/2 : RUN false"));
        assert_eq!(lines.len(), TAIL);
        assert_eq!(lines.last().map(String::as_str), Some("out 39"));
    }
}
