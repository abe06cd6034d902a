//! The mock engine: the current stub set (immutable, shared behind an `Arc`
//! and swapped whole on reload or admin change), scenario states and the
//! request journal. No sockets here, so it is tested directly.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};

use super::matching::{check, redact_url};
use super::request::{Request, View};
use super::stub::{Fault, Origin, RequestPattern, Stub, UrlMatch};
use super::webhook::Outgoing;

/// Picks a Pact provider state per request.
pub const PROVIDER_STATE_HEADER: &str = "x-pact-provider-state";
/// How many requests the journal keeps (oldest dropped first).
pub const JOURNAL_LIMIT: usize = 5000;
pub const STARTED: &str = "Started";

pub struct Engine {
    current: RwLock<Arc<StubSet>>,
    edit: Mutex<Stubs>,
    scenarios: Mutex<HashMap<String, String>>,
    journal: Mutex<VecDeque<Arc<Logged>>>,
    next_seq: AtomicU64,
    next_request: AtomicU64,
    default_state: Option<String>,
}

#[derive(Default)]
struct Stubs {
    /// As last loaded from files (for `mappings/reset`).
    loaded: Vec<Arc<Stub>>,
    file: Vec<Arc<Stub>>,
    admin: Vec<Arc<Stub>>,
}

/// Stubs in match order: priority, then specificity, then newest first.
pub struct StubSet {
    pub sorted: Vec<Arc<Stub>>,
    has_scenarios: bool,
}

/// One journal entry.
pub struct Logged {
    pub id: u64,
    pub request: Journaled,
    pub logged: chrono::DateTime<chrono::Utc>,
    pub stub: Option<Arc<Stub>>,
    pub status: u16,
}

/// A request as the journal keeps it: its own small copy, so it never pins
/// the connection's read buffers (which hyper would then reallocate).
pub struct Journaled {
    method: Box<str>,
    path: Box<str>,
    query: Option<Box<str>>,
    /// `name\0value\0` pairs.
    headers: Box<str>,
    body: Bytes,
}

impl Journaled {
    fn new(r: &Request) -> Journaled {
        let mut headers = String::with_capacity(r.headers.len() * 32);
        for (k, v) in &r.headers {
            headers.push_str(k.as_str());
            headers.push('\0');
            headers.push_str(v.to_str().unwrap_or(""));
            headers.push('\0');
        }
        Journaled {
            method: r.method.as_str().into(),
            path: r.path.as_str().into(),
            query: r.query.as_deref().map(Into::into),
            headers: headers.into(),
            body: if r.body.is_empty() {
                Bytes::new()
            } else {
                Bytes::copy_from_slice(&r.body)
            },
        }
    }

    /// The request again, for matching and the admin API.
    pub fn to_request(&self) -> Request {
        let mut headers = hyper::HeaderMap::new();
        let mut it = self.headers.split('\0');
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                headers.append(k, v);
            }
        }
        Request {
            method: self.method.to_string(),
            path: self.path.to_string(),
            query: self.query.as_deref().map(str::to_string),
            headers,
            body: self.body.clone(),
        }
    }
}

/// What to send back for one request.
pub struct Reply {
    pub status: u16,
    pub headers: Arc<Vec<(HeaderName, HeaderValue)>>,
    pub extra_headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    pub delay: Option<Duration>,
    pub fault: Option<Fault>,
    /// WireMock's `statusMessage`.
    pub reason: Option<String>,
    /// Webhooks to send once the answer is out.
    pub webhooks: Vec<Outgoing>,
    /// One line for the request log.
    pub log: String,
}

impl Engine {
    pub fn new(stubs: Vec<Stub>, default_state: Option<String>) -> Engine {
        let n = stubs.len() as u64;
        let loaded: Vec<Arc<Stub>> = stubs.into_iter().map(Arc::new).collect();
        let e = Engine {
            current: RwLock::new(Arc::new(StubSet {
                sorted: Vec::new(),
                has_scenarios: false,
            })),
            edit: Mutex::new(Stubs {
                file: loaded.clone(),
                loaded,
                admin: Vec::new(),
            }),
            scenarios: Mutex::new(HashMap::new()),
            journal: Mutex::new(VecDeque::new()),
            next_seq: AtomicU64::new(n),
            next_request: AtomicU64::new(1),
            default_state,
        };
        e.publish(&e.edit.lock().expect("lock"));
        e
    }

    fn publish(&self, s: &Stubs) {
        let mut sorted: Vec<Arc<Stub>> = s.file.iter().chain(&s.admin).cloned().collect();
        sorted.sort_by(|a, b| {
            (
                a.priority,
                std::cmp::Reverse(a.specificity),
                std::cmp::Reverse(a.seq),
            )
                .cmp(&(
                    b.priority,
                    std::cmp::Reverse(b.specificity),
                    std::cmp::Reverse(b.seq),
                ))
        });
        let has_scenarios = sorted.iter().any(|s| s.scenario.is_some());
        *self.current.write().expect("lock") = Arc::new(StubSet {
            sorted,
            has_scenarios,
        });
    }

    pub fn stubs(&self) -> Arc<StubSet> {
        self.current.read().expect("lock").clone()
    }

    /// New file stubs (a reload): admin-added stubs stay.
    pub fn replace_file_stubs(&self, stubs: Vec<Stub>) {
        let base = self
            .next_seq
            .fetch_add(stubs.len() as u64, Ordering::Relaxed);
        let loaded: Vec<Arc<Stub>> = stubs
            .into_iter()
            .map(|mut s| {
                s.seq += base;
                Arc::new(s)
            })
            .collect();
        let mut e = self.edit.lock().expect("lock");
        e.file = loaded.clone();
        e.loaded = loaded;
        self.publish(&e);
    }

    pub fn add(&self, mut stub: Stub) -> Arc<Stub> {
        stub.seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        stub.origin = Origin::Admin;
        let stub = Arc::new(stub);
        let mut e = self.edit.lock().expect("lock");
        e.file.retain(|s| s.id != stub.id);
        e.admin.retain(|s| s.id != stub.id);
        e.admin.push(stub.clone());
        self.publish(&e);
        stub
    }

    pub fn remove(&self, id: &str) -> bool {
        let mut e = self.edit.lock().expect("lock");
        let before = e.file.len() + e.admin.len();
        e.file.retain(|s| s.id != id);
        e.admin.retain(|s| s.id != id);
        let removed = before != e.file.len() + e.admin.len();
        self.publish(&e);
        removed
    }

    pub fn remove_all(&self) {
        let mut e = self.edit.lock().expect("lock");
        e.file.clear();
        e.admin.clear();
        self.publish(&e);
    }

    /// Back to the stubs as loaded from files.
    pub fn reset_mappings(&self) {
        let mut e = self.edit.lock().expect("lock");
        e.file = e.loaded.clone();
        e.admin.clear();
        self.publish(&e);
    }

    pub fn reset_scenarios(&self) {
        self.scenarios.lock().expect("lock").clear();
    }

    pub fn set_scenario(&self, name: &str, state: &str) -> bool {
        let known = self
            .stubs()
            .sorted
            .iter()
            .any(|s| s.scenario.as_ref().is_some_and(|sc| sc.name == name));
        if known {
            self.scenarios
                .lock()
                .expect("lock")
                .insert(name.to_string(), state.to_string());
        }
        known
    }

    /// Scenario name -> (current state, states the stubs mention).
    pub fn scenarios(&self) -> Vec<(String, String, Vec<String>)> {
        let current = self.scenarios.lock().expect("lock").clone();
        let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
        for s in self.stubs().sorted.iter() {
            let Some(sc) = &s.scenario else { continue };
            let i = match out.iter().position(|(n, _, _)| *n == sc.name) {
                Some(i) => i,
                None => {
                    let state = current
                        .get(&sc.name)
                        .cloned()
                        .unwrap_or_else(|| STARTED.into());
                    out.push((sc.name.clone(), state, vec![STARTED.to_string()]));
                    out.len() - 1
                }
            };
            for st in sc.required.iter().chain(&sc.new_state) {
                if !out[i].2.contains(st) {
                    out[i].2.push(st.clone());
                }
            }
        }
        out.sort();
        out
    }

    pub fn journal(&self) -> Vec<Arc<Logged>> {
        self.journal
            .lock()
            .expect("lock")
            .iter()
            .rev()
            .cloned()
            .collect()
    }

    pub fn clear_journal(&self) {
        self.journal.lock().expect("lock").clear();
    }

    /// Journal entries whose request fits `pattern`.
    pub fn find(&self, pattern: &RequestPattern) -> Vec<Arc<Logged>> {
        self.journal()
            .into_iter()
            .filter(|l| {
                let r = l.request.to_request();
                check(pattern, &View::new(&r), None, false).failed == 0
            })
            .collect()
    }

    /// Answers one (non-admin) request and journals it.
    pub fn handle(&self, req: Request) -> Reply {
        let set = self.stubs();
        let view = View::new(&req);
        let state_header = req
            .headers
            .get(PROVIDER_STATE_HEADER)
            .and_then(|h| h.to_str().ok());
        let state = state_header.or(self.default_state.as_deref());
        let mut scenarios = set
            .has_scenarios
            .then(|| self.scenarios.lock().expect("lock"));
        // A picked provider state is checked with the request (`check`):
        // only the Pact interactions declaring it answer. Among matches, the
        // first in match order wins (Pact interactions keep file order).
        // A Pact interaction whose headers differ answers only when nothing
        // fits fully (the first such one), as pact-stub-server does.
        let mut chosen: Option<&Arc<Stub>> = None;
        let mut near: Option<&Arc<Stub>> = None;
        for stub in &set.sorted {
            if let (Some(sc), Some(map)) = (&stub.scenario, &scenarios) {
                if let Some(want) = &sc.required {
                    let now = map.get(&sc.name).map_or(STARTED, String::as_str);
                    if now != want {
                        continue;
                    }
                }
            }
            let v = check(&stub.request, &view, state, false);
            if v.failed == 0 && v.soft_failed == 0 {
                chosen = Some(stub);
                break;
            }
            if v.failed == 0 && near.is_none() {
                near = Some(stub);
            }
        }
        let chosen = chosen.or(near).cloned();
        let reply = match &chosen {
            Some(stub) => {
                if let (Some(sc), Some(map)) = (&stub.scenario, scenarios.as_mut()) {
                    if let Some(next) = &sc.new_state {
                        map.insert(sc.name.clone(), next.clone());
                    }
                }
                drop(scenarios);
                respond(stub, &view)
            }
            None => {
                let current = scenarios.as_deref().cloned().unwrap_or_default();
                drop(scenarios);
                unmatched(&set, &view, state, &current)
            }
        };
        let status = reply.status;
        drop(view);
        let logged = Logged {
            id: self.next_request.fetch_add(1, Ordering::Relaxed),
            request: Journaled::new(&req),
            logged: chrono::Utc::now(),
            stub: chosen,
            status,
        };
        let mut j = self.journal.lock().expect("lock");
        if j.len() >= JOURNAL_LIMIT {
            j.pop_front();
        }
        j.push_back(Arc::new(logged));
        reply
    }
}

fn respond(stub: &Stub, view: &View<'_>) -> Reply {
    let r = &stub.response;
    let (mut body, mut extra) = (r.body.clone(), Vec::new());
    let (mut reason, mut webhooks) = (None, Vec::new());
    if let Some(t) = &r.template {
        reason = t.reason.clone();
        webhooks = t.webhooks.iter().map(|w| w.render(view)).collect();
        let params = match &stub.request.url {
            UrlMatch::Template(t) => Some(t),
            _ => None,
        };
        if let Some(b) = &t.body {
            body = Bytes::from(b.render(view, params));
        }
        for (n, h) in &t.headers {
            if let Ok(v) = HeaderValue::from_str(&h.render(view, params)) {
                extra.push((n.clone(), v));
            }
        }
    }
    let what = match r.fault {
        Some(Fault::ConnectionReset) => "fault CONNECTION_RESET_BY_PEER".to_string(),
        Some(Fault::EmptyResponse) => "fault EMPTY_RESPONSE".to_string(),
        None => r.status.to_string(),
    };
    Reply {
        status: r.status,
        headers: r.headers.clone(),
        extra_headers: extra,
        body,
        delay: r.delay,
        fault: r.fault,
        reason,
        webhooks,
        log: format!(
            "{} {} -> {what} {}",
            view.req.method,
            redact_url(view.url()),
            stub.label()
        ),
    }
}

/// How many near misses an unmatched request's diagnostic names.
const NEAREST: usize = 3;

fn unmatched(
    set: &StubSet,
    view: &View<'_>,
    state: Option<&str>,
    scenarios: &HashMap<String, String>,
) -> Reply {
    let mut ranked: Vec<(bool, f64, &Arc<Stub>, Vec<String>)> = set
        .sorted
        .iter()
        .map(|s| {
            let mut v = check(&s.request, view, state, true);
            if let Some(sc) = &s.scenario {
                if let Some(want) = &sc.required {
                    let now = scenarios.get(&sc.name).map_or(STARTED, String::as_str);
                    if now != want {
                        v.checks += 1;
                        v.failed += 1;
                        v.reasons.push(format!(
                            "scenario {:?} is in state {now:?}, the stub needs {want:?}",
                            sc.name
                        ));
                    }
                }
            }
            let score = f64::from(v.failed) / f64::from(v.checks.max(1));
            (v.url_failed, score, s, v.reasons)
        })
        .collect();
    ranked.sort_by(|a, b| {
        (a.0, a.1)
            .partial_cmp(&(b.0, b.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let url = redact_url(view.url());
    let mut body = format!("No stub matched {} {url}\n", view.req.method);
    let mut log = format!("{} {url} -> 404 unmatched", view.req.method);
    if ranked.is_empty() {
        body.push_str("This mock has no stubs.\n");
        log.push_str(" (no stubs)");
    } else {
        body.push_str("\nNearest stubs:\n");
        log.push_str("; nearest:");
        for (i, (_, _, s, reasons)) in ranked.iter().take(NEAREST).enumerate() {
            let _ = writeln!(body, "  {}. {}", i + 1, s.label());
            for r in reasons {
                let _ = writeln!(body, "     - {r}");
            }
            let _ = write!(log, " [{}: {}]", s.label(), reasons.join("; "));
        }
    }
    Reply {
        status: 404,
        headers: Arc::new(vec![(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )]),
        extra_headers: Vec::new(),
        body: Bytes::from(body),
        delay: None,
        fault: None,
        reason: None,
        webhooks: Vec::new(),
        log,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod state_tests;
