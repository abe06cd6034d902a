//! Builds with BuildKit, as Compose v2 does by default, through the same
//! `/build` endpoint: `version=2` with the context as the request's tar
//! body. The engine's BuildKit reads an uploaded context without a client
//! session, so no gRPC is needed; what bollard lacks without its `buildkit`
//! feature is reading the answer (its `aux` lines are protobuf), so this
//! one request is made here, on the engine's own socket, with hyper.
//!
//! BuildKit commits no container per step and runs independent stages in
//! parallel: a cold build of a small context takes about half as long as
//! with the classic builder.

use std::collections::{HashMap, VecDeque};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde::Deserialize;

use super::trace::{self, Status};
use super::BuildError;
use crate::services::socket::{self, Socket};
use crate::services::Engine;

/// Lines of a failing step's output kept for the error.
const TAIL: usize = 30;
/// The most of an error answer read.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The build's query: what `docker build` sends.
pub struct Query<'a> {
    pub dockerfile: &'a str,
    pub tag: &'a str,
    pub args: &'a HashMap<String, String>,
    pub labels: &'a HashMap<String, String>,
    pub target: Option<&'a str>,
    pub platform: Option<&'a str>,
    pub nocache: bool,
}

impl Query<'_> {
    fn encode(&self) -> String {
        let json = |m: &HashMap<String, String>| serde_json::to_string(m).unwrap_or_default();
        let mut pairs = vec![
            ("version", "2".to_string()),
            ("dockerfile", self.dockerfile.to_string()),
            ("t", self.tag.to_string()),
            ("buildargs", json(self.args)),
            ("labels", json(self.labels)),
            ("rm", "1".into()),
            ("forcerm", "1".into()),
        ];
        if self.nocache {
            pairs.push(("nocache", "1".into()));
        }
        if let Some(t) = self.target {
            pairs.push(("target", t.to_string()));
        }
        if let Some(p) = self.platform {
            pairs.push(("platform", p.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// What one build reports as it goes.
pub trait Progress {
    /// A step started: `[3/4] COPY src/ ./src/`.
    fn step(&self, name: &str);
}

/// The answer when the engine cannot build with BuildKit at all (an engine
/// on Windows, or one built without it): the caller builds the classic way.
#[derive(Debug)]
pub struct Unsupported(pub String);

/// Runs the build; returns the image id, if the engine said it.
pub async fn build(
    engine: &Engine,
    socket: &Socket,
    query: &Query<'_>,
    context: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    progress: &dyn Progress,
) -> Result<Result<Option<String>, Unsupported>, BuildError> {
    let version = engine.docker.client_version();
    let uri = format!(
        "/v{}.{}/build?{}",
        version.major_version,
        version.minor_version,
        query.encode()
    );
    let body = StreamBody::new(context.map(|chunk| chunk.map(Frame::data)));
    let request = hyper::Request::post(uri)
        .header(hyper::header::HOST, "docker")
        .header(hyper::header::CONTENT_TYPE, "application/x-tar")
        .body(body)
        .map_err(|e| transport(query, e))?;
    let response = socket::send(socket, request)
        .await
        .map_err(|e| transport(query, e))?;
    let status = response.status();
    let mut body = response.into_body();
    if !status.is_success() {
        let message = error_message(&mut body).await;
        if message.to_ascii_lowercase().contains("buildkit") {
            return Ok(Err(Unsupported(message)));
        }
        return Err(BuildError::Failed {
            service: String::new(),
            step: None,
            log: Vec::new(),
            message: format!("the engine answered {status}: {message}"),
        });
    }
    let mut steps = Steps::default();
    let mut id = None;
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| transport(query, e))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buf.extend_from_slice(&data);
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line = buf.split_to(end + 1);
            let Ok(line) = serde_json::from_slice::<Line>(&line) else {
                continue;
            };
            if let Some(error) = line.error {
                return Err(steps.failure(error));
            }
            match line.aux {
                Some(Aux::Trace(text)) => {
                    if let Ok(status) = trace::decode_aux(&text) {
                        steps.absorb(status, progress);
                    }
                }
                Some(Aux::Image { id: image }) => id = Some(image),
                None => {}
            }
        }
    }
    Ok(Ok(id))
}

/// One line of the answer: BuildKit's trace and image id, a classic
/// builder's `stream` (an engine that ignores `version=2`, like Podman's),
/// or the error that ends a failed build.
#[derive(Deserialize)]
struct Line {
    error: Option<String>,
    aux: Option<Aux>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Aux {
    Trace(String),
    Image {
        #[serde(rename = "ID")]
        id: String,
    },
}

async fn error_message(body: &mut hyper::body::Incoming) -> String {
    let mut bytes = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
        }
        if bytes.len() > MAX_ERROR_BODY {
            break;
        }
    }
    #[derive(Deserialize)]
    struct Answer {
        message: String,
    }
    match serde_json::from_slice::<Answer>(&bytes) {
        Ok(a) => a.message,
        Err(_) => String::from_utf8_lossy(&bytes).trim().to_string(),
    }
}

fn transport(query: &Query<'_>, e: impl std::fmt::Display) -> BuildError {
    BuildError::Failed {
        service: String::new(),
        step: None,
        log: Vec::new(),
        message: format!("building {}: {e}", query.tag),
    }
}

/// The steps seen so far, and each one's last output lines.
#[derive(Default)]
struct Steps {
    names: HashMap<String, String>,
    logs: HashMap<String, VecDeque<String>>,
    /// The step that started last, and the one that failed.
    current: Option<String>,
    failed: Option<String>,
}

impl Steps {
    fn absorb(&mut self, status: Status, progress: &dyn Progress) {
        for v in status.vertexes {
            if !v.error.is_empty() {
                self.failed = Some(v.digest.clone());
            }
            let new = self
                .names
                .insert(v.digest.clone(), v.name.clone())
                .is_none();
            if v.started && !v.completed && !v.cached && self.current.as_ref() != Some(&v.digest) {
                progress.step(&v.name);
                self.current = Some(v.digest);
            } else if new && v.cached {
                progress.step(&format!("{} (cached)", v.name));
            }
        }
        for log in status.logs {
            let lines = self.logs.entry(log.vertex).or_default();
            let text = String::from_utf8_lossy(&log.msg);
            for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
                if lines.len() == TAIL {
                    lines.pop_front();
                }
                lines.push_back(line.to_string());
            }
        }
    }

    fn failure(&self, message: String) -> BuildError {
        let digest = self.failed.as_ref().or(self.current.as_ref());
        BuildError::Failed {
            service: String::new(),
            step: digest.and_then(|d| self.names.get(d)).cloned(),
            log: digest
                .and_then(|d| self.logs.get(d))
                .map(|l| l.iter().cloned().collect())
                .unwrap_or_default(),
            message: message.trim().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::build::trace::{Vertex, VertexLog};

    #[test]
    fn the_query_says_buildkit_and_encodes_args_and_labels_as_json() {
        let args = HashMap::from([("A".to_string(), "1 2".to_string())]);
        let labels = HashMap::new();
        let q = Query {
            dockerfile: "Dockerfile",
            tag: "devenv_p_web:abc",
            args: &args,
            labels: &labels,
            target: Some("dev"),
            platform: None,
            nocache: true,
        };
        let s = q.encode();
        assert!(s.starts_with("version=2&dockerfile=Dockerfile&t=devenv_p_web%3Aabc"));
        assert!(s.contains("buildargs=%7B%22A%22%3A%221+2%22%7D"), "{s}");
        assert!(s.contains("nocache=1") && s.contains("target=dev"));
        assert!(!s.contains("platform"));
    }

    struct Seen(std::cell::RefCell<Vec<String>>);
    impl Progress for Seen {
        fn step(&self, name: &str) {
            self.0.borrow_mut().push(name.to_string());
        }
    }

    fn vertex(digest: &str, name: &str, started: bool, error: &str) -> Vertex {
        Vertex {
            digest: digest.into(),
            name: name.into(),
            started,
            error: error.into(),
            ..Vertex::default()
        }
    }

    #[test]
    fn a_failed_step_is_named_with_its_own_output() {
        let seen = Seen(Default::default());
        let mut steps = Steps::default();
        steps.absorb(
            Status {
                vertexes: vec![vertex("a", "[1/2] FROM busybox", true, "")],
                logs: vec![],
            },
            &seen,
        );
        steps.absorb(
            Status {
                vertexes: vec![vertex("b", "[2/2] RUN make", true, "")],
                logs: vec![
                    VertexLog {
                        vertex: "b".into(),
                        msg: b"cc main.c\nmain.c:1: error\n".to_vec(),
                    },
                    VertexLog {
                        vertex: "a".into(),
                        msg: b"unrelated\n".to_vec(),
                    },
                ],
            },
            &seen,
        );
        steps.absorb(
            Status {
                vertexes: vec![vertex("b", "[2/2] RUN make", true, "exit code: 2")],
                logs: vec![],
            },
            &seen,
        );
        assert_eq!(*seen.0.borrow(), ["[1/2] FROM busybox", "[2/2] RUN make"]);
        let BuildError::Failed { step, log, .. } = steps.failure("exit code: 2\n".into()) else {
            panic!("a failure");
        };
        assert_eq!(step.as_deref(), Some("[2/2] RUN make"));
        assert_eq!(log, ["cc main.c", "main.c:1: error"]);
    }
}
