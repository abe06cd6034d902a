//! `devenv mock record NAME --upstream URL`: a proxy on the mock's port to
//! the real upstream that remembers what it saw, and on shutdown writes one
//! WireMock mapping per distinct request (method, path, query, body) into
//! the mock's `wiremock` directory (`mappings/`, large or binary bodies in
//! `__files/`), in WireMock's own format, so the real WireMock serves them
//! too.
//!
//! Credentials never reach the files: request headers are not recorded at
//! all (only method, path, query and body are matched), response headers
//! that carry cookies or credential-like names are dropped, query values
//! with such names match any value, and the values of the manifest's
//! secrets are masked wherever they appear.

mod write;

use std::future::Future;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub use write::Exchange;

use super::MockError;
use crate::redact::Redactor;

pub struct RecordOptions {
    pub name: String,
    /// `http://host:port[/base]` (or https): what every request is sent to.
    pub upstream: String,
    pub addresses: Vec<IpAddr>,
    pub port: u16,
    /// The repository: every file written stays inside it.
    pub root: PathBuf,
    /// The mock's `wiremock` directory (default `mocks/NAME`).
    pub dir: PathBuf,
    /// The secrets' values, masked wherever they appear.
    pub redactor: Redactor,
}

/// What a recording wrote.
#[derive(Debug)]
pub struct Recorded {
    pub requests: usize,
    pub mappings: usize,
    pub body_files: usize,
    /// Things recorded with less than was seen (e.g. a binary request body
    /// that cannot be matched): said, not hidden.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("`--upstream {0}` is not an http:// or https:// URL")]
    BadUpstream(String),
    #[error("{0}")]
    Mock(#[from] MockError),
    #[error("cannot write the recording: {0}")]
    Write(String),
}

impl RecordError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RecordError::BadUpstream(_) => {
                Some("write the upstream as a URL, like --upstream https://api.example.com".into())
            }
            RecordError::Mock(m) => m.hint(),
            RecordError::Write(_) => None,
        }
    }
}

struct Shared {
    client: reqwest::Client,
    upstream: reqwest::Url,
    seen: Mutex<Vec<Exchange>>,
    log: Mutex<Box<dyn Write + Send>>,
}

impl Shared {
    fn log(&self, line: &str) {
        if let Ok(mut w) = self.log.lock() {
            let _ = w.write_all(format!("{line}\n").as_bytes());
            let _ = w.flush();
        }
    }
}

/// Proxies until `shutdown` resolves, then writes the recording.
pub async fn record(
    opts: RecordOptions,
    log: Box<dyn Write + Send>,
    shutdown: impl Future<Output = ()>,
) -> Result<Recorded, RecordError> {
    let upstream = reqwest::Url::parse(&opts.upstream)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| RecordError::BadUpstream(opts.upstream.clone()))?;
    let client = reqwest::Client::builder()
        // Redirects are answers to record, not to follow.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| RecordError::Write(format!("cannot make an HTTP client: {e}")))?;
    let mut listeners = Vec::new();
    for ip in &opts.addresses {
        let addr = SocketAddr::new(*ip, opts.port);
        let l = TcpListener::bind(addr)
            .await
            .map_err(|source| MockError::Bind { addr, source })?;
        listeners.push(l);
    }
    let shared = Arc::new(Shared {
        client,
        upstream,
        seen: Mutex::new(Vec::new()),
        log: Mutex::new(log),
    });
    shared.log(&format!(
        "mock {} recording: http://{}:{} -> {}",
        opts.name,
        opts.addresses
            .first()
            .map_or("127.0.0.1".into(), |a| a.to_string()),
        opts.port,
        opts.redactor.redact(shared.upstream.as_str())
    ));
    let tasks: Vec<_> = listeners
        .into_iter()
        .map(|l| tokio::spawn(accept_loop(l, shared.clone())))
        .collect();
    shutdown.await;
    for t in tasks {
        t.abort();
    }
    let seen = std::mem::take(&mut *shared.seen.lock().expect("lock"));
    let out = write::write(&opts, seen).map_err(RecordError::Write)?;
    shared.log(&format!(
        "mock {} recorded {} request(s) as {} mapping(s) in {}",
        opts.name,
        out.requests,
        out.mappings,
        opts.dir.display()
    ));
    Ok(out)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(proxy(req, &shared).await) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// Headers that belong to one connection, not to the message.
const HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
];

async fn proxy(req: hyper::Request<Incoming>, shared: &Shared) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let mut url = shared.upstream.clone();
    let base = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{base}{}", parts.uri.path()));
    url.set_query(parts.uri.query());
    let mut fwd = shared
        .client
        .request(parts.method.clone(), url)
        .body(body.clone());
    for (k, v) in &parts.headers {
        if !HOP.contains(&k.as_str()) {
            fwd = fwd.header(k, v);
        }
    }
    let answer = match fwd.send().await {
        Ok(r) => r,
        Err(e) => {
            // The URL may carry credentials in its query: not in the log.
            let e = e.without_url();
            let line = format!(
                "{} {} -> 502 (upstream: {e})",
                parts.method,
                parts.uri.path()
            );
            shared.log(&line);
            let mut resp = hyper::Response::new(Full::new(Bytes::from(format!(
                "devenv mock record: the upstream did not answer: {e}\n"
            ))));
            *resp.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            return resp;
        }
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let rbody = answer.bytes().await.unwrap_or_default();
    shared.log(&format!(
        "{} {} -> {}",
        parts.method,
        parts.uri.path(),
        status.as_u16()
    ));
    let mut resp = hyper::Response::new(Full::new(rbody.clone()));
    *resp.status_mut() = status;
    for (k, v) in &headers {
        if !HOP.contains(&k.as_str()) {
            resp.headers_mut().append(k.clone(), v.clone());
        }
    }
    if let Ok(mut seen) = shared.seen.lock() {
        seen.push(Exchange {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            request_body: body,
            status: status.as_u16(),
            headers: headers
                .iter()
                .filter(|(k, _)| !HOP.contains(&k.as_str()))
                .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect(),
            body: rbody,
        });
    }
    resp
}
