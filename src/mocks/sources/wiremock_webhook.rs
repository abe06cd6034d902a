//! A stub's webhooks: `postServeActions` (`[{"name": "webhook",
//! "parameters": {...}}]`, or the older `{"webhook": {...}}`) and
//! `serveEventListeners` (`[{"name": "webhook", "parameters": {...}}]`).
//! Other actions and listeners, and parameters devenv does not know, are
//! refused with their place in the file.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::wiremock_keys::key;
use super::Ctx;
use crate::manifest::schema::MAX_DELAY_MS;
use crate::mocks::json_pos::Seg;
use crate::mocks::template::Template;
use crate::mocks::webhook::{Delay, Webhook, WebhookBody};

const PARAMETERS: &[&str] = &[
    "method",
    "url",
    "headers",
    "body",
    "jsonBody",
    "base64Body",
    "delay",
];

/// The webhooks of one stub object; `None` when one of them is wrong
/// (reported to `ctx`).
pub(super) fn webhooks(
    stub: &Map<String, Value>,
    at: &[Seg],
    ctx: &mut Ctx<'_>,
) -> Option<Vec<Webhook>> {
    let mut out = Vec::new();
    let mut ok = true;
    for field in ["postServeActions", "serveEventListeners"] {
        let Some(v) = stub.get(field) else { continue };
        let fat = key(at, field);
        let entries: Vec<(Vec<Seg>, &str, Option<&Value>)> = match v {
            Value::Array(list) => list
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let mut iat = fat.clone();
                    iat.push(Seg::Index(i));
                    let name = e.get("name").and_then(Value::as_str).unwrap_or("");
                    (iat, name, e.get("parameters"))
                })
                .collect(),
            // WireMock 2's form: {"webhook": {...parameters}}.
            Value::Object(o) if field == "postServeActions" => o
                .iter()
                .map(|(name, p)| (key(&fat, name), name.as_str(), Some(p)))
                .collect(),
            _ => {
                ctx.err(&fat, format!("`{field}` must be an array of actions"));
                ok = false;
                Vec::new()
            }
        };
        for (eat, name, params) in entries {
            if name != "webhook" {
                ctx.err_hint(
                    &eat,
                    format!("{field} action `{name}` is not supported by devenv's mock server"),
                    "only `webhook` is built in; remove the others, or run the real WireMock with that extension",
                );
                ok = false;
                continue;
            }
            match params {
                Some(Value::Object(p)) => match webhook(p, &key(&eat, "parameters"), ctx) {
                    Some(w) => out.push(w),
                    None => ok = false,
                },
                _ => {
                    ctx.err(&eat, "a webhook needs a `parameters` object");
                    ok = false;
                }
            }
        }
    }
    ok.then_some(out)
}

fn template(v: &Value, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<Template> {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Template::compile_with_root(&text, "originalRequest")
        .map_err(|e| ctx.err(at, e))
        .ok()
}

fn webhook(p: &Map<String, Value>, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<Webhook> {
    let mut ok = true;
    for k in p.keys() {
        if !PARAMETERS.contains(&k.as_str()) {
            ctx.err_hint(
                &key(at, k),
                format!("webhook parameter `{k}` is not supported by devenv's mock server"),
                format!("webhook parameters are: {}", PARAMETERS.join(", ")),
            );
            ok = false;
        }
    }
    let Some(url) = p.get("url") else {
        ctx.err(at, "a webhook needs a `url`");
        return None;
    };
    let url = template(url, &key(at, "url"), ctx);
    let method = match p.get("method") {
        Some(m) => template(m, &key(at, "method"), ctx),
        None => Template::compile("GET").ok(),
    };
    let mut headers = Vec::new();
    if let Some(h) = p.get("headers") {
        let hat = key(at, "headers");
        match h.as_object() {
            Some(o) => {
                for (name, v) in o {
                    let values: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        one => vec![one],
                    };
                    for v in values {
                        match template(v, &key(&hat, name), ctx) {
                            Some(t) => headers.push((name.clone(), t)),
                            None => ok = false,
                        }
                    }
                }
            }
            None => {
                ctx.err(&hat, "webhook `headers` must be an object");
                ok = false;
            }
        }
    }
    let bodies: Vec<&str> = ["body", "jsonBody", "base64Body"]
        .into_iter()
        .filter(|k| p.contains_key(*k))
        .collect();
    if bodies.len() > 1 {
        ctx.err_hint(
            &key(at, bodies[1]),
            format!("`{}` and `{}` both set the body", bodies[0], bodies[1]),
            "keep one of them",
        );
        ok = false;
    }
    let body = match bodies.first().copied() {
        None => WebhookBody::None,
        Some("base64Body") => {
            use base64::Engine as _;
            match p["base64Body"]
                .as_str()
                .map(|s| base64::engine::general_purpose::STANDARD.decode(s))
            {
                Some(Ok(b)) => WebhookBody::Bytes(Bytes::from(b)),
                _ => {
                    ctx.err(&key(at, "base64Body"), "`base64Body` is not valid base64");
                    ok = false;
                    WebhookBody::None
                }
            }
        }
        Some(k) => match template(&p[k], &key(at, k), ctx) {
            Some(t) => WebhookBody::Text(t),
            None => {
                ok = false;
                WebhookBody::None
            }
        },
    };
    let delay = match p.get("delay") {
        None => Some(Delay::None),
        Some(d) => delay(d, &key(at, "delay"), ctx),
    };
    let (url, method, delay) = (url?, method?, delay?);
    ok.then_some(Webhook {
        method,
        url,
        headers,
        body,
        delay,
    })
}

fn delay(d: &Value, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<Delay> {
    let ms = |k: &str, ctx: &mut Ctx<'_>| -> Option<u64> {
        let v = d
            .get(k)
            .and_then(Value::as_u64)
            .filter(|v| *v <= MAX_DELAY_MS);
        if v.is_none() {
            ctx.err(
                &key(at, k),
                format!("`{k}` must be a whole number of milliseconds, at most {MAX_DELAY_MS}"),
            );
        }
        v
    };
    match d.get("type").and_then(Value::as_str) {
        Some("fixed") => ms("milliseconds", ctx).map(Delay::Fixed),
        Some("uniform") => {
            let (lower, upper) = (ms("lower", ctx)?, ms("upper", ctx)?);
            if lower > upper {
                ctx.err(&key(at, "lower"), "`lower` is above `upper`");
                return None;
            }
            Some(Delay::Uniform { lower, upper })
        }
        Some("lognormal") => {
            let median = ms("median", ctx)?;
            match d.get("sigma").and_then(Value::as_f64) {
                Some(sigma) if (0.0..=10.0).contains(&sigma) => Some(Delay::LogNormal {
                    median: median as f64,
                    sigma,
                }),
                _ => {
                    ctx.err(&key(at, "sigma"), "`sigma` must be a number from 0 to 10");
                    None
                }
            }
        }
        _ => {
            ctx.err_hint(
                &key(at, "type"),
                "a webhook delay needs a `type`",
                "use fixed (milliseconds), uniform (lower, upper) or lognormal (median, sigma)",
            );
            None
        }
    }
}
