//! What a stub answers, as mountebank 2.9.1 builds it: the `is` response
//! (or a `fault`), the `wait` and `copy` behaviours in their order
//! (behaviors.js), then baseHttpServer's `postProcess`: the imposter's
//! `defaultResponse` fills what the response leaves out, an object body
//! is `JSON.stringify(body, null, 4)`, `_mode: binary` bodies are base64,
//! and a `Content-Length` header is corrected to the body's length.

use std::time::Duration;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use bytes::Bytes;
use regex::Regex;

use super::js::{pretty, str_to_number, Js, Obj};
use super::json;
use super::jsonpath::JsonPath;
use super::xpath::{XPath, XValue};
use crate::mocks::stub::Fault;

#[derive(Debug)]
pub enum Kind {
    Is(Js),
    Fault(Option<Fault>),
}

#[derive(Debug)]
pub struct StubResponse {
    pub kind: Kind,
    pub behaviors: Vec<Behavior>,
    /// How many turns this response gets before the next (`repeat`).
    pub repeat: u64,
}

#[derive(Debug)]
pub enum Behavior {
    Wait(u64),
    Copy(Copy),
}

#[derive(Debug)]
pub struct Copy {
    /// A request field name, or `{ "query": "name" }` and deeper.
    pub from: Js,
    pub into: String,
    pub using: Using,
}

#[derive(Debug)]
pub enum Using {
    Regex(Regex),
    JsonPath(JsonPath),
    XPath(XPath),
}

/// `is` plus behaviours: the response object before `postProcess`, and
/// how long to wait. `None` is a fault.
pub fn resolve(r: &StubResponse, request: &Js) -> (Option<Js>, Duration) {
    let mut wait = Duration::ZERO;
    let mut response = match &r.kind {
        Kind::Is(v) => v.clone(),
        Kind::Fault(Some(_)) => return (None, wait),
        // An unknown fault is logged by mountebank, which then answers as usual.
        Kind::Fault(None) => return (Some(Js::Obj(Obj::default())), wait),
    };
    for b in &r.behaviors {
        match b {
            Behavior::Wait(ms) => wait += Duration::from_millis(*ms),
            Behavior::Copy(c) => copy(c, request, &mut response),
        }
    }
    (Some(response), wait)
}

fn get_from(obj: &Js, from: &Js) -> Js {
    if matches!(obj, Js::Undef) {
        return Js::Undef;
    }
    if let Js::Obj(f) = from {
        let Some((k, rest)) = f.iter().next() else {
            return Js::Undef;
        };
        return get_from(&obj.get(k), rest);
    }
    let want = from.to_js_string().to_lowercase();
    let key = match obj {
        Js::Obj(o) => o.keys().into_iter().find(|k| k.to_lowercase() == want),
        _ => None,
    };
    match key.map(|k| obj.get(&k)) {
        Some(Js::Arr(a)) => a.first().cloned().unwrap_or(Js::Undef),
        Some(v) => v,
        None => Js::Undef,
    }
}

fn copy(c: &Copy, request: &Js, response: &mut Js) {
    let from = get_from(request, &c.from);
    let values: Vec<Js> = match &c.using {
        Using::Regex(r) => match r.captures(&from.to_js_string()) {
            Some(caps) => caps
                .iter()
                .map(|m| m.map_or(Js::Undef, |m| Js::str(m.as_str())))
                .collect(),
            None => Vec::new(),
        },
        Using::JsonPath(p) => {
            let doc = match &from {
                v if v.is_object() => Some(v.clone()),
                Js::Undef => None,
                v => json::parse(&v.to_js_string()).ok(),
            };
            doc.filter(Js::truthy)
                .map(|d| p.select(&d))
                .unwrap_or_default()
        }
        Using::XPath(x) => match (&from, x.select(&from.to_js_string())) {
            (Js::Undef, _) => Vec::new(),
            (_, XValue::Nodes(n)) => n.into_iter().map(Js::Str).collect(),
            _ => Vec::new(),
        },
    };
    let replace = |field: &str| -> String {
        let mut f = field.to_string();
        for (i, v) in values.iter().enumerate() {
            f = global_replace(&f, &format!("{}[{i}]", c.into), v);
        }
        if let Some(first) = values.first() {
            f = global_replace(&f, &c.into, first);
        }
        f
    };
    object_replace(response, &replace);
}

/// `str.split(sub).join(new)`, skipped when `new === sub`.
fn global_replace(s: &str, sub: &str, new: &Js) -> String {
    if new.as_str() == Some(sub) {
        return s.to_string();
    }
    let sep = match new {
        Js::Undef => ",".to_string(),
        v => v.to_js_string(),
    };
    if sub.is_empty() {
        let parts: Vec<String> = s.chars().map(String::from).collect();
        return parts.join(&sep);
    }
    s.split(sub).collect::<Vec<_>>().join(&sep)
}

/// `globalObjectReplace`: every string value and key, recursively.
fn object_replace(v: &mut Js, replace: &dyn Fn(&str) -> String) {
    match v {
        Js::Obj(o) => {
            let mut renames = Vec::new();
            for (k, x) in o.iter_mut() {
                match x {
                    Js::Str(s) => *s = replace(s),
                    x if x.is_object() => object_replace(x, replace),
                    _ => {}
                }
                let nk = replace(k);
                if nk != *k {
                    renames.push((k.clone(), nk));
                }
            }
            for (old, new) in renames {
                if let Some(x) = o.remove(&old) {
                    o.set(new, x);
                }
            }
        }
        Js::Arr(a) => {
            for x in a.iter_mut() {
                match x {
                    Js::Str(s) => *s = replace(s),
                    x if x.is_object() => object_replace(x, replace),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// What `postProcess` and `writeHead` make of a response.
pub struct Finish<'a> {
    pub default: &'a Js,
    pub allow_cors: bool,
    pub request: &'a Js,
}

/// Status, headers in order, body.
pub type Finished = (u16, Vec<(String, String)>, Bytes);

pub fn finish(response: &Js, f: &Finish<'_>) -> Result<Finished, String> {
    let pick = |k: &str| -> Js {
        let v = response.get(k);
        if v.truthy() {
            v
        } else {
            f.default.get(k)
        }
    };
    let status = pick("statusCode");
    let status = if status.truthy() {
        let n = status.to_number();
        if n.is_finite() {
            n.trunc() as i64
        } else {
            0
        }
    } else {
        200
    };
    if !(100..=999).contains(&status) {
        return Err(format!("RangeError: Invalid status code: {status}"));
    }
    let headers = match response.get("headers") {
        h if h.truthy() => h,
        _ => match f.default.get("headers") {
            h if h.truthy() => h,
            _ => Js::Obj(Obj::default()),
        },
    };
    let mut headers = match headers {
        Js::Obj(o) => o,
        _ => Obj::default(),
    };
    let mut body = pick("body");
    if !body.truthy() {
        body = Js::str("");
    }
    let binary = pick("_mode").as_str() == Some("binary");
    let mut text = if body.is_object() {
        pretty(&body)
    } else {
        body.to_js_string()
    };
    if f.allow_cors {
        cors(f.request, &mut headers);
    }
    let bytes = if binary {
        if !matches!(body, Js::Str(_)) {
            return Err("TypeError: response.body.replace is not a function".into());
        }
        text.retain(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '+' | '/'));
        decode_base64(&text)
    } else {
        text.into_bytes()
    };
    let mut out = Vec::new();
    for (k, v) in headers.iter() {
        let value = if k.eq_ignore_ascii_case("content-length") {
            Js::Num(bytes.len() as f64)
        } else {
            v.clone()
        };
        match value {
            Js::Arr(vs) => {
                for x in vs {
                    out.push((k.clone(), header_text(&x)?));
                }
            }
            x => out.push((k.clone(), header_text(&x)?)),
        }
    }
    Ok((status as u16, out, Bytes::from(bytes)))
}

fn header_text(v: &Js) -> Result<String, String> {
    match v {
        Js::Undef | Js::Null => Err("TypeError: invalid header value".into()),
        v => Ok(v.to_js_string()),
    }
}

fn set_ci(h: &mut Obj, name: &str, v: Js) {
    let key = h
        .keys()
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| name.to_string());
    h.set(key, v);
}

fn cors(request: &Js, headers: &mut Obj) {
    let req = request.get("headers");
    let get = |name: &str| -> Js {
        match req.as_obj() {
            Some(o) => o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or(Js::Undef),
            None => Js::Undef,
        }
    };
    let (h, m, o) = (
        get("Access-Control-Request-Headers"),
        get("Access-Control-Request-Method"),
        get("Origin"),
    );
    if request.get("method").as_str() == Some("OPTIONS") && h.truthy() && m.truthy() && o.truthy() {
        set_ci(headers, "Access-Control-Allow-Headers", h);
        set_ci(headers, "Access-Control-Allow-Methods", m);
        set_ci(headers, "Access-Control-Allow-Origin", o);
    }
}

/// Node's lenient `Buffer.from(text, 'base64')`: stops at padding, drops
/// a dangling last character.
fn decode_base64(text: &str) -> Vec<u8> {
    let core = text.split('=').next().unwrap_or("");
    let keep = core.len() - usize::from(core.len() % 4 == 1);
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(&core[..keep]).unwrap_or_default()
}

/// `parseInt(value)` for `wait` and `repeat`: the leading integer, if any.
pub fn parse_int(v: &Js) -> Option<f64> {
    let s = match v {
        Js::Num(n) => return n.is_finite().then(|| n.trunc()),
        other => other.to_js_string(),
    };
    let t = s.trim_start();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    let n: String = digits.chars().take_while(char::is_ascii_digit).collect();
    if n.is_empty() {
        return None;
    }
    Some(sign * str_to_number(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_replaces_tokens_like_mountebank() {
        let request =
            json::parse(r#"{"path": "/orders/42", "query": {"id": ["7", "8"]}}"#).unwrap();
        let c = Copy {
            from: Js::str("PATH"),
            into: "${id}".into(),
            using: Using::Regex(Regex::new(r"/orders/(\d+)").unwrap()),
        };
        let mut resp =
            json::parse(r#"{"body": "order ${id}[1] of ${id}", "headers": {"X-${id}[1]": "y"}}"#)
                .unwrap();
        copy(&c, &request, &mut resp);
        assert_eq!(resp.get("body"), Js::str("order 42 of /orders/42"));
        assert_eq!(resp.get("headers").get("X-42"), Js::str("y"));
        let q = Copy {
            from: json::parse(r#"{"query": "ID"}"#).unwrap(),
            into: "$Q".into(),
            using: Using::Regex(Regex::new(".*").unwrap()),
        };
        let mut r2 = json::parse(r#"{"body": "q=$Q"}"#).unwrap();
        copy(&q, &request, &mut r2);
        assert_eq!(r2.get("body"), Js::str("q=7"));
    }

    #[test]
    fn post_process_fills_from_the_default_response() {
        let def =
            json::parse(r#"{"statusCode": 404, "headers": {"X-D": "1"}, "body": "none"}"#).unwrap();
        let req = Js::Obj(Obj::default());
        let f = Finish {
            default: &def,
            allow_cors: false,
            request: &req,
        };
        let (s, h, b) = finish(&json::parse("{}").unwrap(), &f).unwrap();
        assert_eq!(
            (s, h, &b[..]),
            (404, vec![("X-D".into(), "1".into())], &b"none"[..])
        );
        let r = json::parse(
            r#"{"statusCode": "201", "body": {"a": [1]}, "headers": {"Content-Length": 1}}"#,
        )
        .unwrap();
        let (s, h, b) = finish(&r, &f).unwrap();
        assert_eq!(s, 201);
        assert_eq!(&b[..], b"{\n    \"a\": [\n        1\n    ]\n}");
        assert_eq!(h, vec![("Content-Length".into(), b.len().to_string())]);
        let bin = json::parse(r#"{"body": "aGVs\nbG8=", "_mode": "binary"}"#).unwrap();
        assert_eq!(&finish(&bin, &f).unwrap().2[..], b"hello");
        assert_eq!(parse_int(&Js::str("250ms")), Some(250.0));
        assert_eq!(parse_int(&Js::str("function () {}")), None);
    }
}
