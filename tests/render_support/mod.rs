//! Local HTTP servers for the render tests: a JSON document server and a
//! Consul KV server following Consul's documented HTTP API
//! (https://developer.hashicorp.com/consul/api-docs/kv): `GET /v1/kv/<key>`
//! with `?recurse=true`, entries `{"LockIndex","Key","Flags","Value","CreateIndex","ModifyIndex"}`
//! with base64 values, 404 when nothing matches, `X-Consul-Token` checked
//! against an ACL token (403 "Permission denied" otherwise).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: BTreeMap<String, String>,
}

type Handler = dyn Fn(&Seen) -> (u16, String) + Send + Sync;

pub struct Server {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<Mutex<bool>>,
}

impl Server {
    pub fn start(handler: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(Mutex::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if *stop2.lock().unwrap() {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (h, s) = (handler.clone(), seen2.clone());
                std::thread::spawn(move || serve(stream, &*h, &s));
            }
        });
        Server { port, seen, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops accepting; the port is then closed.
    pub fn stop(&self) {
        *self.stop.lock().unwrap() = true;
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let req = Seen {
        method,
        target,
        headers,
    };
    seen.lock().unwrap().push(req.clone());
    let (status, body) = handler(&req);
    let reason = match status {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Error",
    };
    let mut s = stream;
    let _ = write!(
        s,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Serves one JSON document at any path; checks a bearer token if given.
pub fn json_server(doc: serde_json::Value, token: Option<&str>) -> Server {
    let token = token.map(str::to_string);
    Server::start(move |req| {
        if let Some(t) = &token {
            if req.headers.get("authorization") != Some(&format!("Bearer {t}")) {
                return (403, "{\"error\":\"forbidden\"}".into());
            }
        }
        (200, doc.to_string())
    })
}

/// A Consul agent's KV endpoint over `kv` (key -> raw value).
pub fn consul_server(kv: BTreeMap<String, String>, acl_token: Option<&str>) -> Server {
    let token = acl_token.map(str::to_string);
    Server::start(move |req| {
        if let Some(t) = &token {
            if req.headers.get("x-consul-token") != Some(t) {
                return (403, "Permission denied".into());
            }
        }
        let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
        let Some(key) = path.strip_prefix("/v1/kv/") else {
            return (404, String::new());
        };
        let key = key.replace("%20", " ");
        let recurse = query
            .split('&')
            .any(|q| q == "recurse" || q == "recurse=true");
        let entries: Vec<serde_json::Value> = kv
            .iter()
            .filter(|(k, _)| {
                if recurse {
                    k.starts_with(&key)
                } else {
                    **k == key
                }
            })
            .enumerate()
            .map(|(i, (k, v))| {
                serde_json::json!({
                    "LockIndex": 0,
                    "Key": k,
                    "Flags": 0,
                    "Value": if k.ends_with('/') { serde_json::Value::Null } else {
                        base64::engine::general_purpose::STANDARD.encode(v).into()
                    },
                    "CreateIndex": 100 + i,
                    "ModifyIndex": 200 + i,
                })
            })
            .collect();
        if entries.is_empty() {
            return (404, String::new());
        }
        (200, serde_json::Value::Array(entries).to_string())
    })
}
