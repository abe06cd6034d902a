//! A small HTTP/1.1 file server on 127.0.0.1 for the tool tests: it counts
//! requests per path, honours Range and HEAD, and injects faults (a status,
//! failures before success, a truncated body, a stall).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Fault {
    /// Always answer with this status.
    Status(u16),
    /// The first `times` GETs answer `status`, then the file is served.
    FailTimes { times: usize, status: u16 },
    /// The first `times` GETs send only `at` bytes of the body, then close.
    TruncateTimes { times: usize, at: usize },
    /// Send the headers and a few bytes, then nothing, forever.
    Stall,
}

#[derive(Default)]
struct Inner {
    files: HashMap<String, Vec<u8>>,
    faults: HashMap<String, Fault>,
    /// GET requests per path.
    gets: HashMap<String, usize>,
    /// Every request as "METHOD /path".
    log: Vec<String>,
    /// Honour Range requests (resume).
    ranges: bool,
}

pub struct Server {
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let inner = Arc::new(Mutex::new(Inner {
            ranges: true,
            ..Inner::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (i2, s2) = (inner.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (i3, s3) = (i2.clone(), s2.clone());
                std::thread::spawn(move || {
                    let _ = handle(conn, &i3, &s3);
                });
            }
        });
        Server { port, inner, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn file(&self, path: &str, body: impl Into<Vec<u8>>) -> &Self {
        self.inner
            .lock()
            .unwrap()
            .files
            .insert(path.to_string(), body.into());
        self
    }

    pub fn fault(&self, path: &str, fault: Fault) -> &Self {
        self.inner
            .lock()
            .unwrap()
            .faults
            .insert(path.to_string(), fault);
        self
    }

    pub fn ranges(&self, on: bool) -> &Self {
        self.inner.lock().unwrap().ranges = on;
        self
    }

    pub fn gets(&self, path: &str) -> usize {
        self.inner
            .lock()
            .unwrap()
            .gets
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_gets(&self) -> usize {
        self.inner.lock().unwrap().gets.values().sum()
    }

    pub fn log(&self) -> Vec<String> {
        self.inner.lock().unwrap().log.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(conn: TcpStream, inner: &Mutex<Inner>, stop: &AtomicBool) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut range_from: Option<usize> = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range: bytes=") {
            range_from = v.trim().trim_end_matches('-').parse().ok();
        }
    }
    let mut out = conn;
    let (body, fault, ranges) = {
        let mut g = inner.lock().unwrap();
        g.log.push(format!("{method} {path}"));
        let attempt = if method == "GET" {
            let n = g.gets.entry(path.clone()).or_insert(0);
            *n += 1;
            *n
        } else {
            0
        };
        let fault = match g.faults.get(&path).cloned() {
            Some(Fault::FailTimes { times, status }) if method == "GET" && attempt <= times => {
                Some(Fault::Status(status))
            }
            Some(Fault::TruncateTimes { times, at }) if method == "GET" && attempt <= times => {
                Some(Fault::TruncateTimes { times, at })
            }
            Some(f @ (Fault::Status(_) | Fault::Stall)) => Some(f),
            _ => None,
        };
        (g.files.get(&path).cloned(), fault, g.ranges)
    };
    let Some(body) = body else {
        return respond(&mut out, 404, &[], b"not found", true);
    };
    match fault {
        Some(Fault::Status(code)) => return respond(&mut out, code, &[], b"fault", true),
        Some(Fault::Stall) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            out.write_all(head.as_bytes())?;
            out.write_all(&body[..body.len().min(16)])?;
            out.flush()?;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
            return Ok(());
        }
        Some(Fault::TruncateTimes { at, .. }) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
                body.len()
            );
            out.write_all(head.as_bytes())?;
            out.write_all(&body[..at.min(body.len())])?;
            out.flush()?;
            return out.shutdown(std::net::Shutdown::Both);
        }
        _ => {}
    }
    let head_only = method == "HEAD";
    match range_from {
        Some(from) if ranges && from < body.len() => {
            let extra = format!(
                "Content-Range: bytes {from}-{}/{}\r\nAccept-Ranges: bytes\r\n",
                body.len() - 1,
                body.len()
            );
            let slice = if head_only { &[][..] } else { &body[from..] };
            respond_len(&mut out, 206, &extra, slice, body.len() - from)
        }
        _ => {
            let slice = if head_only { &[][..] } else { &body[..] };
            let extra = if ranges {
                "Accept-Ranges: bytes\r\n"
            } else {
                ""
            };
            respond_len(&mut out, 200, extra, slice, body.len())
        }
    }
}

fn respond(
    out: &mut TcpStream,
    code: u16,
    _h: &[&str],
    body: &[u8],
    _c: bool,
) -> std::io::Result<()> {
    respond_len(out, code, "", body, body.len())
}

fn respond_len(
    out: &mut TcpStream,
    code: u16,
    extra: &str,
    body: &[u8],
    len: usize,
) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        206 => "Partial Content",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Length: {len}\r\n{extra}Connection: close\r\n\r\n"
    );
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

/// Archives built in the test, each holding shell-script "tools".
pub mod archives {
    use std::io::Write;

    pub fn script(name: &str, version: &str) -> Vec<u8> {
        format!("#!/bin/sh\necho \"{name} {version} $*\"\n").into_bytes()
    }

    /// (path, body, mode) entries -> tar bytes.
    pub fn tar(entries: &[(&str, Vec<u8>, u32)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, body, mode) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(*mode);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, path, &body[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    /// A tar with a raw entry name (bypassing the builder's own `..` checks).
    pub fn tar_raw(name: &str, body: &[u8], link: Option<&str>) -> Vec<u8> {
        let mut h = tar::Header::new_old();
        {
            let raw = h.as_old_mut();
            raw.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(l) = link {
                raw.linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
        }
        h.set_size(if link.is_some() { 0 } else { body.len() as u64 });
        h.set_mode(0o755);
        h.set_entry_type(if link.is_some() {
            tar::EntryType::Symlink
        } else {
            tar::EntryType::Regular
        });
        h.set_cksum();
        let mut out = h.as_bytes().to_vec();
        if link.is_none() {
            out.extend_from_slice(body);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    pub fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    pub fn xz(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        lzma_rs::xz_compress(&mut std::io::Cursor::new(bytes), &mut out).unwrap();
        out
    }

    pub fn zip(entries: &[(&str, Vec<u8>, u32)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (path, body, mode) in entries {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(*mode);
            w.start_file(*path, opts).unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    pub fn sha256(bytes: &[u8]) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    }
}
