//! The one HTTP/1.1 test server: on 127.0.0.1, one request per connection,
//! every request recorded. It serves files (with Range and HEAD), or answers
//! through a handler, and injects faults per path or everywhere.
//!
//! ```ignore
//! let server = Server::start();
//! server.file("/t-1.0.tar.gz", bytes);
//! server.fault("/t-1.0.tar.gz", Fault::FailFirst { gets: 2, status: 500 });
//! // ... devenv downloads server.url("/t-1.0.tar.gz") ...
//! assert_eq!(server.gets("/t-1.0.tar.gz"), 3);
//! ```

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::http_wire::{dechunk, is_chunked, reason, split_head, Headers};

/// What can go wrong with an answer, on purpose.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Always answer with this status.
    Status(u16),
    /// The first `gets` GET requests of the path (counted since the server
    /// started) answer `status`; later ones are served as usual.
    FailFirst { gets: usize, status: u16 },
    /// The first `gets` GET requests of the path get the headers (with the
    /// full Content-Length and `Accept-Ranges: bytes`) but only `at` bytes of
    /// the body, then the connection closes.
    Truncate { gets: usize, at: usize },
    /// Wait this long, then answer as usual.
    Delay(Duration),
    /// Read the request, then close the connection without answering.
    Drop,
    /// Send the headers and a few bytes of the body, then nothing until the
    /// server stops.
    Stall,
    /// Read the request and never answer, holding the connection open until
    /// the server stops.
    Hang,
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target as sent: a path with its query, or an absolute
    /// URL when the server is used as a proxy.
    pub target: String,
    pub headers: Headers,
    pub body: String,
    /// The status the server answered with (0: it never answered).
    pub answered: u16,
}

impl Request {
    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query of the target, without the `?` ("" when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {}", self.body))
    }
}

/// An answer from a handler.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A response with `Content-Type: application/json`.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status, body).header("Content-Type", "application/json")
    }

    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

struct State {
    files: HashMap<String, Vec<u8>>,
    handler: Option<Arc<Handler>>,
    faults: HashMap<String, Fault>,
    fault_everywhere: Option<Fault>,
    /// Statuses for the next requests, whatever they ask for.
    next_statuses: VecDeque<u16>,
    /// GET requests per target.
    gets: HashMap<String, usize>,
    requests: Vec<Request>,
    ranges: bool,
}

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
}

pub struct Server {
    pub port: u16,
    shared: Arc<Shared>,
    accepting: Mutex<Option<JoinHandle<()>>>,
}

impl Server {
    /// A server on a port the OS picks; it serves files, 404 for the rest.
    pub fn start() -> Server {
        Server::on(TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1"))
    }

    /// A server on this port (to come up where an endpoint was unreachable).
    pub fn on_port(port: u16) -> Server {
        Server::on(
            TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| panic!("bind {port}: {e}")),
        )
    }

    fn on(listener: TcpListener) -> Server {
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                files: HashMap::new(),
                handler: None,
                faults: HashMap::new(),
                fault_everywhere: None,
                next_statuses: VecDeque::new(),
                gets: HashMap::new(),
                requests: Vec::new(),
                ranges: true,
            }),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let accepting = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        Server {
            port,
            shared,
            accepting: Mutex::new(Some(accepting)),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    /// Serves `body` at exactly this request target.
    pub fn file(&self, target: &str, body: impl Into<Vec<u8>>) -> &Self {
        self.state().files.insert(target.to_string(), body.into());
        self
    }

    /// Answers every request that is not a file through `handler`.
    pub fn respond_with(
        &self,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> &Self {
        self.state().handler = Some(Arc::new(handler));
        self
    }

    /// A fault for this request target (replacing the one it had).
    pub fn fault(&self, target: &str, fault: Fault) -> &Self {
        self.state().faults.insert(target.to_string(), fault);
        self
    }

    /// A fault for every request target without a fault of its own.
    pub fn fault_everywhere(&self, fault: Fault) -> &Self {
        self.state().fault_everywhere = Some(fault);
        self
    }

    /// The next requests, whatever they ask for, are answered with these
    /// statuses in turn (the body stays what it would have been).
    pub fn answer_next(&self, statuses: impl IntoIterator<Item = u16>) -> &Self {
        self.state().next_statuses.extend(statuses);
        self
    }

    /// Honour Range requests for files (on by default).
    pub fn ranges(&self, on: bool) -> &Self {
        self.state().ranges = on;
        self
    }

    /// GET requests of this request target so far.
    pub fn gets(&self, target: &str) -> usize {
        self.state().gets.get(target).copied().unwrap_or(0)
    }

    pub fn total_gets(&self) -> usize {
        self.state().gets.values().sum()
    }

    /// Every request so far as "METHOD target".
    pub fn log(&self) -> Vec<String> {
        self.state()
            .requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    }

    /// Every request so far, in the order they arrived.
    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    /// The requests that were answered with a 2xx status.
    pub fn accepted(&self) -> Vec<Request> {
        self.state()
            .requests
            .iter()
            .filter(|r| (200..300).contains(&r.answered))
            .cloned()
            .collect()
    }

    /// Stops accepting and closes the port; held connections are let go.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(accepting) = self.accepting.lock().unwrap().take() {
            // Wake the accept loop so it sees the flag, and wait until it
            // has dropped the listener.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            let _ = accepting.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the connection will get.
enum Answer {
    Full(Response),
    Truncated(Response, usize),
    Stalled(Response),
    Dropped,
    Hung,
}

fn serve(mut conn: TcpStream, shared: &Shared) {
    let Some((method, target, headers, body)) = read_request(&mut conn, &shared.stop) else {
        return;
    };
    let mut request = Request {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
        answered: 0,
    };
    let (answer, delay) = answer(shared, &request);
    request.answered = match &answer {
        Answer::Full(r) | Answer::Truncated(r, _) | Answer::Stalled(r) => r.status,
        Answer::Dropped | Answer::Hung => 0,
    };
    let head_only = request.method == "HEAD";
    shared.state.lock().unwrap().requests.push(request);
    if let Some(d) = delay {
        std::thread::sleep(d);
    }
    let _ = match answer {
        Answer::Full(r) => write_response(&mut conn, &r, head_only, r.body.len()),
        Answer::Truncated(r, at) => write_response(&mut conn, &r, false, at.min(r.body.len()))
            .and_then(|()| conn.shutdown(Shutdown::Both)),
        Answer::Stalled(r) => {
            let _ = write_response(&mut conn, &r, false, r.body.len().min(16));
            hold_until_stopped(&shared.stop);
            Ok(())
        }
        Answer::Dropped => conn.shutdown(Shutdown::Both),
        Answer::Hung => {
            hold_until_stopped(&shared.stop);
            Ok(())
        }
    };
}

fn hold_until_stopped(stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Decides the answer (and a delay before it) from the files, the handler,
/// the faults and the queued statuses.
fn answer(shared: &Shared, request: &Request) -> (Answer, Option<Duration>) {
    let (method, target) = (request.method.as_str(), request.target.as_str());
    let (file, handler, fault, queued, ranges, attempt) = {
        let mut g = shared.state.lock().unwrap();
        let attempt = if method == "GET" {
            let n = g.gets.entry(target.to_string()).or_insert(0);
            *n += 1;
            *n
        } else {
            0
        };
        let fault = g
            .faults
            .get(target)
            .or(g.fault_everywhere.as_ref())
            .cloned();
        (
            g.files.get(target).cloned(),
            g.handler.clone(),
            fault,
            g.next_statuses.pop_front(),
            g.ranges,
            attempt,
        )
    };
    let whole_file = file.clone();
    let mut response = match (file, handler) {
        (Some(body), _) => file_response(body, request.header("range"), ranges),
        (None, Some(handler)) => handler(request),
        (None, None) => Response::new(404, "not found"),
    };
    if let Some(status) = queued {
        response.status = status;
    }
    let first_gets = |gets: usize| method == "GET" && attempt <= gets;
    match fault {
        Some(Fault::Status(status)) => (Answer::Full(Response::new(status, "fault")), None),
        Some(Fault::FailFirst { gets, status }) if first_gets(gets) => {
            (Answer::Full(Response::new(status, "fault")), None)
        }
        Some(Fault::Truncate { gets, at }) if first_gets(gets) => {
            let body = whole_file.unwrap_or(response.body);
            let whole = Response::new(200, body).header("Accept-Ranges", "bytes");
            (Answer::Truncated(whole, at), None)
        }
        Some(Fault::Delay(d)) => (Answer::Full(response), Some(d)),
        Some(Fault::Drop) => (Answer::Dropped, None),
        Some(Fault::Stall) => (Answer::Stalled(response), None),
        Some(Fault::Hang) => (Answer::Hung, None),
        Some(Fault::FailFirst { .. } | Fault::Truncate { .. }) | None => {
            (Answer::Full(response), None)
        }
    }
}

/// A file, whole or from the start of a `Range: bytes=N-` / `bytes=N-M`.
fn file_response(body: Vec<u8>, range: Option<&str>, ranges: bool) -> Response {
    let len = body.len();
    let wanted = range
        .filter(|_| ranges)
        .and_then(|r| r.trim().strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(from, to)| {
            let from: usize = from.trim().parse().ok()?;
            let to = match to.trim() {
                "" => len.checked_sub(1)?,
                t => t.parse::<usize>().ok()?.min(len.checked_sub(1)?),
            };
            (from <= to).then_some((from, to))
        });
    match wanted {
        Some((from, to)) => Response::new(206, body[from..=to].to_vec())
            .header("Content-Range", &format!("bytes {from}-{to}/{len}"))
            .header("Accept-Ranges", "bytes"),
        None if ranges => Response::new(200, body).header("Accept-Ranges", "bytes"),
        None => Response::new(200, body),
    }
}

/// Reads one request (head and Content-Length or chunked body). `None` when
/// the client goes away, sends garbage, or the server stops first.
fn read_request(
    conn: &mut TcpStream,
    stop: &AtomicBool,
) -> Option<(String, String, Headers, Vec<u8>)> {
    conn.set_read_timeout(Some(Duration::from_millis(100)))
        .ok()?;
    let give_up = Instant::now() + Duration::from_secs(60);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut read_more = |buf: &mut Vec<u8>| -> Option<()> {
        loop {
            if stop.load(Ordering::SeqCst) || Instant::now() > give_up {
                return None;
            }
            match conn.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    return Some(());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return None,
            }
        }
    };
    let (first, headers, body_start) = loop {
        if let Some(head) = split_head(&buf) {
            break head;
        }
        read_more(&mut buf)?;
    };
    let mut first = first.split_whitespace();
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let mut body = buf[body_start..].to_vec();
    if is_chunked(&headers) {
        loop {
            if let Some(decoded) = dechunk(&body) {
                return Some((method, target, headers, decoded));
            }
            read_more(&mut body)?;
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while body.len() < len {
        read_more(&mut body)?;
    }
    body.truncate(len);
    Some((method, target, headers, body))
}

/// Writes the head (Content-Length: the whole body) and `send` bytes of it.
fn write_response(
    out: &mut TcpStream,
    r: &Response,
    head_only: bool,
    send: usize,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\n",
        r.status,
        reason(r.status),
        r.body.len()
    );
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    out.write_all(head.as_bytes())?;
    if !head_only {
        out.write_all(&r.body[..send])?;
    }
    out.flush()
}
