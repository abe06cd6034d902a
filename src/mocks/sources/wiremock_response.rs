//! A WireMock stub's `response`: status, headers, the body in its four
//! forms, delays, faults and response templating.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::wiremock_keys::{key, unknown_keys, RESPONSE_KEYS};
use super::{BodyDir, Ctx};
use crate::manifest::schema::MAX_DELAY_MS;
use crate::mocks::json_pos::Seg;
use crate::mocks::stub::{Fault, ResponseDef, ResponseTemplate};
use crate::mocks::template::Template;

pub(super) fn response(
    r: &Map<String, Value>,
    at: &[Seg],
    ctx: &mut Ctx<'_>,
    body_dir: &BodyDir,
) -> Option<ResponseDef> {
    let mut ok = unknown_keys(ctx, at, r, RESPONSE_KEYS, "response");
    let mut out = ResponseDef::plain(200);
    if let Some(s) = r.get("status") {
        match s.as_u64().filter(|s| (100..=599).contains(s)) {
            Some(s) => out.status = s as u16,
            None => {
                ctx.err(
                    &key(at, "status"),
                    "`status` must be an HTTP status (100-599)",
                );
                ok = false;
            }
        }
    }
    let mut templated = false;
    if let Some(t) = r.get("transformers") {
        let tat = key(at, "transformers");
        match t.as_array() {
            None => {
                ctx.err(&tat, "`transformers` must be an array of names");
                ok = false;
            }
            Some(list) => {
                for (i, x) in list.iter().enumerate() {
                    let mut iat = tat.clone();
                    iat.push(Seg::Index(i));
                    match x.as_str() {
                        Some("response-template") => templated = true,
                        other => {
                            ctx.err_hint(
                                &iat,
                                format!(
                                    "transformer {} is not supported by devenv's mock server",
                                    other.map_or(x.to_string(), |s| format!("`{s}`"))
                                ),
                                "only `response-template` is built in; remove the others, or run the real WireMock with that extension",
                            );
                            ok = false;
                        }
                    }
                }
            }
        }
    }
    let mut reason = None;
    if let Some(m) = r.get("statusMessage") {
        match m.as_str() {
            Some(text) if hyper::ext::ReasonPhrase::try_from(text.as_bytes().to_vec()).is_ok() => {
                reason = Some(text.to_string())
            }
            _ => {
                ctx.err(
                    &key(at, "statusMessage"),
                    "`statusMessage` must be a one-line string of printable characters",
                );
                ok = false;
            }
        }
    }
    let mut headers = Vec::new();
    let mut header_templates = Vec::new();
    if let Some(h) = r.get("headers") {
        let hat = key(at, "headers");
        match h.as_object() {
            None => {
                ctx.err(&hat, "`headers` must be an object");
                ok = false;
            }
            Some(o) => {
                for (name, v) in o {
                    let values: Vec<&str> = match v {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                        _ => Vec::new(),
                    };
                    let n = HeaderName::from_bytes(name.as_bytes());
                    for val in values {
                        match (&n, HeaderValue::from_str(val)) {
                            (Ok(n), _) if templated && val.contains("{{") => {
                                match Template::compile(val) {
                                    Ok(t) => header_templates.push((n.clone(), t)),
                                    Err(e) => {
                                        ctx.err(&key(&hat, name), e);
                                        ok = false;
                                    }
                                }
                            }
                            (Ok(n), Ok(v)) => headers.push((n.clone(), v)),
                            _ => {
                                ctx.err(&key(&hat, name), "not a valid header name and value");
                                ok = false;
                            }
                        }
                    }
                }
            }
        }
    }
    let bodies: Vec<&str> = ["body", "jsonBody", "base64Body", "bodyFileName"]
        .into_iter()
        .filter(|k| r.contains_key(*k))
        .collect();
    if bodies.len() > 1 {
        ctx.err_hint(
            &key(at, bodies[1]),
            format!("`{}` and `{}` both set the body", bodies[0], bodies[1]),
            "keep one of them",
        );
        ok = false;
    }
    let mut text_body: Option<String> = None;
    match bodies.first().copied() {
        Some("body") => match &r["body"] {
            Value::String(s) => text_body = Some(s.clone()),
            other => text_body = Some(other.to_string()),
        },
        // Written back as in the file (key order, numbers), as WireMock does.
        Some("jsonBody") => {
            text_body = Some(
                ctx.raw_value(&key(at, "jsonBody"))
                    .and_then(crate::mocks::json_pos::compact)
                    .unwrap_or_else(|| r["jsonBody"].to_string()),
            )
        }
        Some("base64Body") => {
            use base64::Engine as _;
            match r["base64Body"]
                .as_str()
                .map(|s| base64::engine::general_purpose::STANDARD.decode(s))
            {
                Some(Ok(b)) => out.body = Bytes::from(b),
                _ => {
                    ctx.err(&key(at, "base64Body"), "`base64Body` is not valid base64");
                    ok = false;
                }
            }
        }
        Some(_) => {
            let kat = key(at, "bodyFileName");
            match r["bodyFileName"].as_str() {
                None => {
                    ctx.err(&kat, "`bodyFileName` must be a string");
                    ok = false;
                }
                Some(name)
                    if Path::new(name)
                        .components()
                        .any(|c| matches!(c, std::path::Component::ParentDir))
                        || Path::new(name).is_absolute() =>
                {
                    ctx.err(&kat, format!("`{name}` must stay inside __files"));
                    ok = false;
                }
                // Read through `confine`, here and on every reload or admin
                // call: a body file symlinked out is never served.
                Some(name) => match body_dir.read(name) {
                    Ok(b) if templated => {
                        text_body = Some(String::from_utf8_lossy(&b).into_owned())
                    }
                    Ok(b) => out.body = Bytes::from(b),
                    Err(message) => {
                        ctx.err_hint(
                            &kat,
                            message,
                            "put the file itself under __files next to the mappings",
                        );
                        ok = false;
                    }
                },
            }
        }
        None => {}
    }
    let mut body_template = None;
    if let Some(t) = text_body {
        if templated && t.contains("{{") {
            match Template::compile(&t) {
                Ok(c) => body_template = Some(c),
                Err(e) => {
                    ctx.err(&key(at, bodies[0]), e);
                    ok = false;
                }
            }
        }
        out.body = Bytes::from(t);
    }
    if let Some(d) = r.get("fixedDelayMilliseconds") {
        match d.as_u64().filter(|ms| *ms <= MAX_DELAY_MS) {
            Some(ms) => out.delay = Some(Duration::from_millis(ms)),
            None => {
                ctx.err(
                    &key(at, "fixedDelayMilliseconds"),
                    format!(
                        "must be a whole number of milliseconds, at most {MAX_DELAY_MS} (a day)"
                    ),
                );
                ok = false;
            }
        }
    }
    if let Some(f) = r.get("fault") {
        out.fault = match f.as_str() {
            Some("CONNECTION_RESET_BY_PEER") => Some(Fault::ConnectionReset),
            Some("EMPTY_RESPONSE") => Some(Fault::EmptyResponse),
            _ => {
                ctx.err_hint(
                    &key(at, "fault"),
                    format!("fault {f} is not supported"),
                    "use CONNECTION_RESET_BY_PEER or EMPTY_RESPONSE",
                );
                ok = false;
                None
            }
        };
    }
    out.headers = Arc::new(headers);
    if body_template.is_some() || !header_templates.is_empty() || reason.is_some() {
        out.template = Some(ResponseTemplate {
            body: body_template,
            headers: header_templates,
            reason,
            webhooks: Vec::new(),
        });
    }
    ok.then_some(out)
}
