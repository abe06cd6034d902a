//! The HTTP side: hyper HTTP/1.1 with keep-alive on each bind address, the
//! admin API under `/__admin` (or the mock's `admin_prefix`), faults and delays, the request log, and hot
//! reload of the stub files (polled, no watcher crate).

use std::future::Future;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use super::admin;
use super::engine::Engine;
use super::request::Request;
use super::sources;
use super::sources::mountebank::{self, Imposter};
use super::stub::Fault;
use super::MockError;
use crate::manifest::Mock;

pub struct ServeOptions {
    pub mock: Mock,
    pub addresses: Vec<IpAddr>,
    pub port: u16,
    /// How often the stub files are checked for changes.
    pub reload_every: Duration,
}

/// The request log. Unbuffered on our side: each line is one `write` (and
/// a flush of stdout's line buffer), done before the response is sent, so
/// whoever got an answer can already read its line. It was buffered and
/// flushed on a timer, and lagged behind the requests it logged.
type Log = Arc<Mutex<LogWriter>>;

struct LogWriter {
    out: Box<dyn Write + Send>,
    /// The line being written, kept for its capacity.
    line: Vec<u8>,
    /// The last timestamp written and its millisecond: under load a
    /// hundred requests share one, and formatting it was a tenth of the
    /// time a request spends in devenv's own code.
    stamp: (i64, String),
}

impl LogWriter {
    fn new(out: Box<dyn Write + Send>) -> LogWriter {
        LogWriter {
            out,
            line: Vec::with_capacity(256),
            stamp: (i64::MIN, String::new()),
        }
    }

    fn write(&mut self, now: chrono::DateTime<chrono::Utc>, text: &str) {
        let ms = now.timestamp_millis();
        if self.stamp.0 != ms {
            self.stamp = (ms, now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
        // One buffer, one `write`: `writeln!` on the writer would be one
        // write per piece, a syscall storm and lines torn by a concurrent
        // request.
        self.line.clear();
        self.line.extend_from_slice(self.stamp.1.as_bytes());
        self.line.push(b' ');
        self.line.extend_from_slice(text.as_bytes());
        self.line.push(b'\n');
        let _ = self.out.write_all(&self.line);
        let _ = self.out.flush();
    }
}

struct Shared {
    engine: Engine,
    /// A mountebank imposter answers every request but the admin API's.
    imposter: RwLock<Option<Arc<Imposter>>>,
    log: Log,
    body_dir: sources::BodyDir,
    /// For webhooks; made on the first one.
    client: std::sync::OnceLock<reqwest::Client>,
    admin_prefix: String,
}

impl Shared {
    fn log(&self, line: &str) {
        let now = chrono::Utc::now();
        if let Ok(mut w) = self.log.lock() {
            w.write(now, line);
        }
    }
}

/// A fault ends the connection without an answer.
#[derive(Debug)]
struct FaultClose;
impl std::fmt::Display for FaultClose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault injected")
    }
}
impl std::error::Error for FaultClose {}

/// Binds every address, then serves until `shutdown` resolves. The request
/// log goes to `log`, one line per request.
pub async fn serve(
    opts: ServeOptions,
    log: Box<dyn Write + Send>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), MockError> {
    let started = std::time::Instant::now();
    let stubs = sources::load(&opts.mock).map_err(MockError::Invalid)?;
    let imposter = mountebank::load_for(&opts.mock).map_err(MockError::Invalid)?;
    let loaded = started.elapsed();
    let count = stubs.len() + imposter.as_ref().map_or(0, |i| i.stubs.len());
    let mut listeners = Vec::new();
    for ip in &opts.addresses {
        let addr = SocketAddr::new(*ip, opts.port);
        let l = TcpListener::bind(addr)
            .await
            .map_err(|source| MockError::Bind { addr, source })?;
        listeners.push(l);
    }
    let body_dir = sources::BodyDir {
        root: opts.mock.root.clone(),
        dir: opts
            .mock
            .wiremock
            .as_ref()
            .map(|p| {
                if p.is_dir() {
                    p.join("__files")
                } else {
                    p.parent().unwrap_or(p).join("__files")
                }
            })
            .unwrap_or_default(),
    };
    let shared = Arc::new(Shared {
        engine: Engine::new(stubs, opts.mock.provider_state.clone()),
        imposter: RwLock::new(imposter.map(Arc::new)),
        log: Arc::new(Mutex::new(LogWriter::new(log))),
        body_dir,
        client: std::sync::OnceLock::new(),
        admin_prefix: opts.mock.admin_prefix.clone(),
    });
    let addrs: Vec<String> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| format!("http://{a}"))
        .collect();
    shared.log(&format!(
        "mock {} serving {count} stub(s) on {} (files read and compiled in {:.1} ms)",
        opts.mock.name,
        addrs.join(", "),
        loaded.as_secs_f64() * 1000.0
    ));
    let mut tasks = Vec::new();
    for l in listeners {
        tasks.push(tokio::spawn(accept_loop(l, shared.clone())));
    }
    tasks.push(tokio::spawn(reload_loop(
        opts.mock.clone(),
        opts.reload_every,
        shared.clone(),
    )));
    shutdown.await;
    shared.log(&format!("mock {} stopping", opts.mock.name));
    for t in tasks {
        t.abort();
    }
    Ok(())
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of file descriptors and the like: back off, keep serving.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = connection(stream, shared).await;
        });
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    // A second handle on the socket, so a CONNECTION_RESET_BY_PEER fault can
    // set SO_LINGER 0 (close = RST) on a stream hyper owns.
    let std_stream = stream.into_std()?;
    let handle = Arc::new(Mutex::new(Some(std_stream.try_clone()?)));
    let stream = TcpStream::from_std(std_stream)?;
    let svc = service_fn(move |req| {
        let shared = shared.clone();
        let handle = handle.clone();
        async move { answer(req, &shared, &handle).await }
    });
    http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc)
        .await
        .map_err(std::io::Error::other)
}

type Handle = Mutex<Option<std::net::TcpStream>>;

async fn answer(
    req: hyper::Request<Incoming>,
    shared: &Arc<Shared>,
    handle: &Handle,
) -> Result<hyper::Response<Full<Bytes>>, FaultClose> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let req = Request {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
    };
    if admin::is_admin(&req.path, &shared.admin_prefix) {
        let r = admin::handle(&shared.engine, &req, &shared.body_dir, &shared.admin_prefix);
        let mut resp = hyper::Response::new(Full::new(Bytes::from(r.body.to_string())));
        *resp.status_mut() = hyper::StatusCode::from_u16(r.status).unwrap_or_default();
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Ok(resp);
    }
    let imposter = shared.imposter.read().ok().and_then(|i| i.clone());
    let mut reply = match imposter {
        Some(i) => i.handle(&req),
        None => shared.engine.handle(req),
    };
    shared.log(&reply.log);
    for w in std::mem::take(&mut reply.webhooks) {
        let shared = shared.clone();
        tokio::spawn(async move {
            let client = shared.client.get_or_init(reqwest::Client::new);
            let line = super::webhook::send(client, w).await;
            shared.log(&line);
        });
    }
    if let Some(d) = reply.delay {
        tokio::time::sleep(d).await;
    }
    match reply.fault {
        Some(Fault::ConnectionReset) => {
            if let Some(s) = handle.lock().ok().and_then(|mut h| h.take()) {
                if let Ok(t) = TcpStream::from_std(s) {
                    #[allow(deprecated)] // zero linger never blocks the thread
                    let _ = t.set_linger(Some(Duration::ZERO));
                }
            }
            return Err(FaultClose);
        }
        Some(Fault::EmptyResponse) => return Err(FaultClose),
        None => {}
    }
    let mut resp = hyper::Response::new(Full::new(reply.body));
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap_or_default();
    if let Some(r) = reply
        .reason
        .and_then(|r| hyper::ext::ReasonPhrase::try_from(r).ok())
    {
        resp.extensions_mut().insert(r);
    }
    let h = resp.headers_mut();
    for (k, v) in reply.headers.iter().chain(&reply.extra_headers) {
        h.append(k.clone(), v.clone());
    }
    Ok(resp)
}

async fn reload_loop(mock: Mock, every: Duration, shared: Arc<Shared>) {
    let mut seen = sources::fingerprint(&mock);
    loop {
        tokio::time::sleep(every).await;
        let now = sources::fingerprint(&mock);
        if now == seen {
            continue;
        }
        seen = now;
        match sources::load(&mock).and_then(|s| Ok((s, mountebank::load_for(&mock)?))) {
            Ok((stubs, imposter)) => {
                let n = stubs.len() + imposter.as_ref().map_or(0, |i| i.stubs.len());
                shared.engine.replace_file_stubs(stubs);
                if let Ok(mut slot) = shared.imposter.write() {
                    *slot = imposter.map(Arc::new);
                }
                shared.log(&format!("reloaded {n} stub(s)"));
            }
            Err(problems) => {
                shared.log(&format!(
                    "reload failed, still serving the previous stubs: {} problem(s)",
                    problems.len()
                ));
                for d in &problems.0 {
                    shared.log(&format!(
                        "  {}: {}",
                        d.location(Some(&mock_root(&mock))),
                        d.message
                    ));
                }
            }
        }
    }
}

fn mock_root(mock: &Mock) -> PathBuf {
    [&mock.wiremock, &mock.pact, &mock.openapi, &mock.mountebank]
        .into_iter()
        .flatten()
        .next()
        .and_then(|p| p.parent().map(|x| x.to_path_buf()))
        .unwrap_or_default()
}
