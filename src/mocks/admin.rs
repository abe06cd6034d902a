//! The subset of WireMock's `/__admin` API that client libraries use:
//! mappings (list, get, add, edit, remove, reset, import), the request
//! journal (list, find, count, unmatched, clear), scenarios, health.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use super::engine::{Engine, Logged};
use super::request::Request;
use super::sources::{wiremock, BodyDir, Ctx};
use super::stub::RequestPattern;

pub struct AdminReply {
    pub status: u16,
    pub body: Value,
}

fn ok(body: Value) -> AdminReply {
    AdminReply { status: 200, body }
}

fn err(status: u16, message: impl Into<String>) -> AdminReply {
    AdminReply {
        status,
        body: json!({"errors": [{"code": status, "title": message.into()}]}),
    }
}

/// Whether `path` is the admin API's, under `prefix` (`/__admin` unless
/// the mock's `admin_prefix` moved it).
pub fn is_admin(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Answers `<prefix>/...`; `body_dir` is where `bodyFileName` looks.
pub fn handle(engine: &Engine, req: &Request, body_dir: &BodyDir, prefix: &str) -> AdminReply {
    let path = req
        .path
        .strip_prefix(prefix)
        .unwrap_or(&req.path)
        .trim_end_matches('/');
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let m = req.method.as_str();
    match (m, parts.as_slice()) {
        ("GET", ["health"]) => ok(json!({"status": "healthy", "message": "devenv mock is ok"})),
        ("GET", ["mappings"]) => {
            let list: Vec<Value> = engine
                .stubs()
                .sorted
                .iter()
                .map(|s| s.json.clone())
                .collect();
            ok(json!({"meta": {"total": list.len()}, "mappings": list}))
        }
        ("POST", ["mappings"]) => match parse_stub(req, body_dir) {
            Ok(stub) => {
                let s = engine.add(stub);
                AdminReply {
                    status: 201,
                    body: s.json.clone(),
                }
            }
            Err(e) => err(422, e),
        },
        ("DELETE", ["mappings"]) => {
            engine.remove_all();
            ok(json!({}))
        }
        ("POST", ["mappings", "reset"]) => {
            engine.reset_mappings();
            ok(json!({}))
        }
        ("POST", ["mappings", "save"]) => ok(json!({})),
        ("POST", ["mappings", "import"]) => {
            let v: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => return err(400, format!("invalid JSON: {e}")),
            };
            let Some(list) = v.get("mappings").and_then(Value::as_array) else {
                return err(422, "expected {\"mappings\": [...]}");
            };
            let mut stubs = Vec::new();
            for (i, x) in list.iter().enumerate() {
                match compile(x, &format!("import #{}", i + 1), body_dir) {
                    Ok(s) => stubs.push(s),
                    Err(e) => return err(422, e),
                }
            }
            for s in stubs {
                engine.add(s);
            }
            ok(json!({}))
        }
        ("GET", ["mappings", id]) => match engine.stubs().sorted.iter().find(|s| s.id == *id) {
            Some(s) => ok(s.json.clone()),
            None => err(404, format!("no stub with id {id}")),
        },
        ("PUT", ["mappings", id]) => {
            if !engine.stubs().sorted.iter().any(|s| s.id == *id) {
                return err(404, format!("no stub with id {id}"));
            }
            let mut v: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => return err(400, format!("invalid JSON: {e}")),
            };
            v["id"] = Value::String(id.to_string());
            match compile(&v, "admin API", body_dir) {
                Ok(s) => ok(engine.add(s).json.clone()),
                Err(e) => err(422, e),
            }
        }
        ("DELETE", ["mappings", id]) => {
            if engine.remove(id) {
                ok(json!({}))
            } else {
                err(404, format!("no stub with id {id}"))
            }
        }
        ("GET", ["requests"]) => {
            let list: Vec<Value> = engine.journal().iter().map(logged_json).collect();
            ok(
                json!({"requests": list, "meta": {"total": list.len()}, "requestJournalDisabled": false}),
            )
        }
        ("DELETE", ["requests"]) | ("POST", ["requests", "reset"]) => {
            engine.clear_journal();
            ok(json!({}))
        }
        ("GET", ["requests", "unmatched"]) => {
            let list: Vec<Value> = engine
                .journal()
                .iter()
                .filter(|l| l.stub.is_none())
                .map(request_json)
                .collect();
            ok(json!({"requests": list, "requestJournalDisabled": false}))
        }
        ("POST", ["requests", "count"]) => match pattern(req) {
            Ok(p) => ok(json!({"count": engine.find(&p).len(), "requestJournalDisabled": false})),
            Err(e) => err(422, e),
        },
        ("POST", ["requests", "find"]) => match pattern(req) {
            Ok(p) => {
                let list: Vec<Value> = engine.find(&p).iter().map(request_json).collect();
                ok(json!({"requests": list, "requestJournalDisabled": false}))
            }
            Err(e) => err(422, e),
        },
        ("GET", ["requests", id]) => {
            match engine.journal().iter().find(|l| l.id.to_string() == *id) {
                Some(l) => ok(logged_json(l)),
                None => err(404, format!("no request with id {id}")),
            }
        }
        ("GET", ["scenarios"]) => {
            let list: Vec<Value> = engine
                .scenarios()
                .into_iter()
                .map(|(name, state, possible)| {
                    json!({"id": name, "name": name, "state": state, "possibleStates": possible})
                })
                .collect();
            ok(json!({"scenarios": list}))
        }
        ("POST", ["scenarios", "reset"]) => {
            engine.reset_scenarios();
            ok(json!({}))
        }
        ("PUT", ["scenarios", name, "state"]) => {
            let state = serde_json::from_slice::<Value>(&req.body)
                .ok()
                .and_then(|v| v.get("state").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| super::engine::STARTED.to_string());
            if engine.set_scenario(name, &state) {
                ok(json!({}))
            } else {
                err(404, format!("no scenario named {name}"))
            }
        }
        ("POST", ["reset"]) => {
            engine.reset_mappings();
            engine.clear_journal();
            engine.reset_scenarios();
            ok(json!({}))
        }
        _ => err(404, format!("{m} {} is not an admin endpoint", req.path)),
    }
}

fn compile(v: &Value, source: &str, body_dir: &BodyDir) -> Result<super::stub::Stub, String> {
    let text = v.to_string();
    let file = Path::new("(admin request)");
    let mut ctx = Ctx::new(file, &text);
    match wiremock::compile(v, &[], &mut ctx, body_dir, source.to_string()) {
        Some(s) if ctx.problems.is_empty() => Ok(s),
        _ => Err(ctx
            .problems
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

fn parse_stub(req: &Request, body_dir: &BodyDir) -> Result<super::stub::Stub, String> {
    let v: Value = serde_json::from_slice(&req.body).map_err(|e| format!("invalid JSON: {e}"))?;
    compile(&v, "admin API", body_dir)
}

/// A request pattern (the `request` part of a stub) from the body.
fn pattern(req: &Request) -> Result<RequestPattern, String> {
    let v: Value = serde_json::from_slice(&req.body).map_err(|e| format!("invalid JSON: {e}"))?;
    let stub = json!({"request": v, "response": {}});
    let text = stub.to_string();
    let mut ctx = Ctx::new(Path::new("(admin request)"), &text);
    match wiremock::compile(&stub, &[], &mut ctx, &BodyDir::default(), "count".into()) {
        Some(s) => Ok(s.request),
        None => Err(ctx
            .problems
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

fn request_json(l: &Arc<Logged>) -> Value {
    let r = &l.request.to_request();
    let mut headers = serde_json::Map::new();
    for (k, v) in &r.headers {
        headers.insert(
            k.to_string(),
            Value::String(v.to_str().unwrap_or("").to_string()),
        );
    }
    let host = r
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    json!({
        "url": r.url(),
        "absoluteUrl": format!("http://{host}{}", r.url()),
        "method": r.method,
        "headers": headers,
        "body": String::from_utf8_lossy(&r.body),
        "loggedDate": l.logged.timestamp_millis(),
        "loggedDateString": l.logged.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

fn logged_json(l: &Arc<Logged>) -> Value {
    let mut v = json!({
        "id": l.id.to_string(),
        "request": request_json(l),
        "responseDefinition": {"status": l.status},
        "wasMatched": l.stub.is_some(),
    });
    if let Some(s) = &l.stub {
        v["stubMapping"] = s.json.clone();
    }
    v
}
