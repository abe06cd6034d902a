//! One loaded imposter answering requests: the first stub whose predicates
//! all hold answers with its next response (cycling, `repeat` turns each);
//! no stub, the `defaultResponse` (else 200 with an empty body).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};

use super::js::{Js, Obj};
use super::predicates::{evaluate, Predicate};
use super::responses::{finish, resolve, Finish, Kind, StubResponse};
use crate::mocks::engine::Reply;
use crate::mocks::matching::redact_url;
use crate::mocks::request::{parse_query, Request};

#[derive(Debug)]
pub struct Stub {
    pub predicates: Vec<Predicate>,
    pub responses: Vec<StubResponse>,
    /// Turns taken so far, modulo the cycle.
    pub turn: Mutex<u64>,
}

#[derive(Debug)]
pub struct Imposter {
    pub name: String,
    pub stubs: Vec<Stub>,
    pub default_response: Js,
    pub allow_cors: bool,
}

impl Stub {
    /// `nextResponse()`: the responses in turn, each `repeat` times.
    fn next(&self) -> Option<&StubResponse> {
        let total: u64 = self.responses.iter().map(|r| r.repeat).sum();
        if total == 0 {
            return None;
        }
        let mut turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        let mut at = *turn % total;
        *turn = (*turn + 1) % total;
        drop(turn);
        self.responses.iter().find(|r| {
            if at < r.repeat {
                true
            } else {
                at -= r.repeat;
                false
            }
        })
    }
}

impl Imposter {
    pub fn handle(&self, req: &Request) -> Reply {
        let request = request_object(req);
        let url = redact_url(&req.url()).into_owned();
        let mut matched = None;
        for (i, s) in self.stubs.iter().enumerate() {
            let mut all = true;
            for p in &s.predicates {
                match evaluate(p, &request) {
                    Ok(true) => {}
                    Ok(false) => {
                        all = false;
                        break;
                    }
                    Err(e) => return error(&req.method, &url, &e),
                }
            }
            if all {
                matched = Some(i);
                break;
            }
        }
        let empty_is = StubResponse {
            kind: Kind::Is(Js::Obj(Obj::default())),
            behaviors: Vec::new(),
            repeat: 1,
        };
        let (resp, which) = match matched {
            Some(i) => (
                self.stubs[i].next().unwrap_or(&empty_is),
                format!("stub {} of {}", i + 1, self.name),
            ),
            None => (
                &empty_is,
                format!("no stub of {} (default response)", self.name),
            ),
        };
        let (response, wait) = resolve(resp, &request);
        let Some(response) = response else {
            let fault = match &resp.kind {
                Kind::Fault(f) => *f,
                Kind::Is(_) => None,
            };
            return Reply {
                status: 0,
                headers: Arc::new(Vec::new()),
                extra_headers: Vec::new(),
                body: Bytes::new(),
                delay: None,
                fault,
                reason: None,
                webhooks: Vec::new(),
                log: format!("{} {url} -> fault {which}", req.method),
            };
        };
        let fin = Finish {
            default: &self.default_response,
            allow_cors: self.allow_cors,
            request: &request,
        };
        match finish(&response, &fin) {
            Ok((status, headers, body)) => {
                let mut hs = Vec::new();
                for (k, v) in headers {
                    match (
                        HeaderName::from_bytes(k.as_bytes()),
                        HeaderValue::from_str(&v),
                    ) {
                        (Ok(k), Ok(v)) => hs.push((k, v)),
                        _ => {
                            return error(
                                &req.method,
                                &url,
                                &format!("TypeError: invalid header {k}"),
                            )
                        }
                    }
                }
                Reply {
                    status,
                    headers: Arc::new(hs),
                    extra_headers: Vec::new(),
                    body,
                    delay: (!wait.is_zero()).then_some(wait),
                    fault: None,
                    reason: None,
                    webhooks: Vec::new(),
                    log: format!("{} {url} -> {status} {which}", req.method),
                }
            }
            Err(e) => error(&req.method, &url, &e),
        }
    }
}

/// mountebank answers what JavaScript throws with a 500 and the error.
fn error(method: &str, url: &str, message: &str) -> Reply {
    // mountebank's error body, less Node's stack.
    let (name, text) = match message.split_once(": ") {
        Some((n, t)) if n.ends_with("Error") => (n, t),
        _ => ("Error", message),
    };
    let mut o = Obj::default();
    o.set("message".into(), Js::str(text));
    o.set("name".into(), Js::str(name));
    let body = format!(
        "{{\"errors\":[{}]}}",
        super::js::stable_stringify(&Js::Obj(o)).unwrap_or_default()
    );
    Reply {
        status: 500,
        headers: Arc::new(vec![(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )]),
        extra_headers: Vec::new(),
        body: Bytes::from(body),
        delay: None,
        fault: None,
        reason: None,
        webhooks: Vec::new(),
        log: format!("{method} {url} -> 500 {message}"),
    }
}

/// `Content-Type` from `content-type`: the case most clients send, since
/// the server sees header names lower-cased.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Removes `.` and `..` segments, as `new URL()` does to the path.
fn normal_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segs: Vec<&str> = p.split('/').skip(1).collect();
    let n = segs.len();
    for (i, s) in segs.into_iter().enumerate() {
        let last = i + 1 == n;
        match s.to_ascii_lowercase().as_str() {
            "." | "%2e" => {
                if last {
                    out.push("");
                }
            }
            ".." | ".%2e" | "%2e." | "%2e%2e" => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            _ => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// `querystring.parse`, which reads the first 1,000 pairs only.
fn query_object(q: &str) -> Js {
    let mut o = Obj::default();
    let first: Vec<&str> = q.split('&').take(1000).collect();
    for (k, v) in parse_query(&first.join("&")) {
        match o.get_mut(&k) {
            Some(Js::Arr(a)) => a.push(Js::Str(v)),
            Some(prev) => {
                let first = std::mem::replace(prev, Js::Undef);
                *prev = Js::Arr(vec![first, Js::Str(v)]);
            }
            None => o.set(k, Js::Str(v)),
        }
    }
    Js::Obj(o)
}

/// How far a gzip request body is inflated (the rest is not seen).
const MAX_INFLATED: u64 = 16 << 20;

/// The request as mountebank's httpRequest.js shows it to predicates.
pub fn request_object(req: &Request) -> Js {
    let mut headers = Obj::default();
    for (k, v) in &req.headers {
        let name = title_case(k.as_str());
        let value = Js::Str(v.as_bytes().iter().map(|b| char::from(*b)).collect());
        match headers.get_mut(&name) {
            Some(Js::Arr(a)) => a.push(value),
            Some(prev) => {
                let first = std::mem::replace(prev, Js::Undef);
                *prev = Js::Arr(vec![first, value]);
            }
            None => headers.set(name, value),
        }
    }
    let gzip = req
        .headers
        .get("content-encoding")
        .is_some_and(|v| v.as_bytes() == b"gzip");
    let body = if gzip {
        let mut out = Vec::new();
        let d = flate2::read::GzDecoder::new(&req.body[..]);
        // A few bytes of gzip can stand for gigabytes: stop at a limit.
        let mut limited = std::io::Read::take(d, MAX_INFLATED);
        match std::io::Read::read_to_end(&mut limited, &mut out) {
            Ok(_) => String::from_utf8_lossy(&out).into_owned(),
            Err(_) => String::from_utf8_lossy(&req.body).into_owned(),
        }
    } else {
        String::from_utf8_lossy(&req.body).into_owned()
    };
    let form = req
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| ct.split(';').next().unwrap_or("").trim() == "application/x-www-form-urlencoded")
        .unwrap_or(false)
        && !body.is_empty();
    let mut o = Obj::default();
    o.set("method".into(), Js::str(req.method.as_str()));
    o.set("path".into(), Js::Str(normal_path(&req.path)));
    o.set(
        "query".into(),
        query_object(req.query.as_deref().unwrap_or("")),
    );
    o.set("headers".into(), Js::Obj(headers));
    if form {
        o.set("body".into(), Js::str(body.as_str()));
        o.set("form".into(), query_object(&body));
    } else {
        o.set("body".into(), Js::Str(body));
    }
    Js::Obj(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_dot_segments_as_new_url_does() {
        assert_eq!(normal_path("/a/./b/../c"), "/a/c");
        assert_eq!(normal_path("/a/.."), "/");
        assert_eq!(normal_path("/a/%2E%2E/b"), "/b");
        assert_eq!(normal_path("/x%20y"), "/x%20y");
        assert_eq!(title_case("x-request-id"), "X-Request-Id");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &vec![b'0'; 20 << 20]).unwrap();
        let mut bomb = Request {
            method: "POST".into(),
            path: "/".into(),
            body: gz.finish().unwrap().into(),
            ..Default::default()
        };
        bomb.headers
            .insert("content-encoding", "gzip".parse().unwrap());
        let seen = request_object(&bomb).get("body");
        assert_eq!(seen.as_str().map(str::len), Some(MAX_INFLATED as usize));
        let q = query_object("a=1&a=2&b=x+y&c");
        assert_eq!(
            super::super::js::stable_stringify(&q).unwrap(),
            r#"{"a":["1","2"],"b":"x y","c":""}"#
        );
    }
}
