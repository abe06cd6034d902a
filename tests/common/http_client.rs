//! The one HTTP/1.1 test client: a request over a fresh connection, the
//! answer read to the end (Content-Length or chunked).
//!
//! ```ignore
//! let (status, headers, body) = http_get(&format!("http://127.0.0.1:{port}/v1/health"));
//! assert_eq!((status, body.as_str()), (200, r#"{"ok":true}"#), "{headers}");
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::http_wire::{dechunk, is_chunked, split_head, Headers};

/// How long a request may take before the client gives up.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `GET url`: (status, headers, body). Status 0 when nothing answered.
pub fn http_get(url: &str) -> (u16, Headers, String) {
    http_request("GET", url, &[], "")
}

/// One request: (status, headers, body). Status 0 when the connection could
/// not be made or ended without an answer.
pub fn http_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Headers, String) {
    try_http(method, url, headers, body).unwrap_or_else(|_| (0, Headers::default(), String::new()))
}

/// One request, with the reason when there was no answer: the connection
/// was refused or reset, or closed before anything came back
/// (`UnexpectedEof`).
pub fn try_http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, Headers, String)> {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http:// URL: {url}"));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(authority)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.set_write_timeout(Some(TIMEOUT))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    if let Err(e) = s.read_to_end(&mut raw) {
        // An answer followed by a reset is still an answer.
        if raw.is_empty() {
            return Err(e);
        }
    }
    if raw.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the connection closed without an answer",
        ));
    }
    Ok(parse_response(&raw))
}

/// An answer as it came: status, reason phrase, headers, body bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// One request with a byte body; the answer with its reason phrase and
/// body bytes (for comparing servers byte for byte).
pub fn try_http_bytes(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http:// URL: {url}"));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(authority)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.set_write_timeout(Some(TIMEOUT))?;
    // A `Host` among `headers` replaces the authority's.
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {authority}\r\n"));
    }
    req.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    ));
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    s.write_all(&bytes)?;
    let mut raw = Vec::new();
    if let Err(e) = s.read_to_end(&mut raw) {
        if raw.is_empty() {
            return Err(e);
        }
    }
    let Some((first, headers, body_start)) = split_head(&raw) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the connection closed without a complete answer",
        ));
    };
    let mut parts = first.splitn(3, ' ');
    let status = parts.nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let reason = parts.next().unwrap_or("").to_string();
    let rest = &raw[body_start..];
    let body = if is_chunked(&headers) {
        dechunk(rest).unwrap_or_else(|| rest.to_vec())
    } else {
        rest.to_vec()
    };
    Ok(Answer {
        status,
        reason,
        headers,
        body,
    })
}

fn parse_response(raw: &[u8]) -> (u16, Headers, String) {
    let Some((first, headers, body_start)) = split_head(raw) else {
        return (
            0,
            Headers::default(),
            String::from_utf8_lossy(raw).to_string(),
        );
    };
    let status = first
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let rest = &raw[body_start..];
    let body = if is_chunked(&headers) {
        dechunk(rest).unwrap_or_else(|| rest.to_vec())
    } else {
        rest.to_vec()
    };
    (status, headers, String::from_utf8_lossy(&body).to_string())
}
