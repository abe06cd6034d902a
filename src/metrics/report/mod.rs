//! `devenv report`: send what the endpoint has not acknowledged yet.
//!
//! Requests are built from the journal and the endpoint's cursor, sent in
//! journal order, and the cursor advances after each acknowledged request,
//! so an endpoint that is down for a while receives everything later, in
//! order, and a request whose acknowledgement was lost is re-sent with the
//! same idempotency key.

mod otlp;
mod pushgateway;
mod webhook;

use std::time::Duration;

use crate::manifest::model::MetricsFormat;
use crate::metrics::git::Repo;
use crate::metrics::journal::Cursor;
use crate::metrics::run::Run;
use crate::metrics::timeline::{self, GitCalls, Timeline};
use crate::metrics::{identity, Context};

pub use pushgateway::exposition;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("metrics are turned off (DEVENV_NO_METRICS or DO_NOT_TRACK is set)")]
    Disabled,
    #[error("devenv.toml has no [metrics] endpoint")]
    NoEndpoint,
    /// `why` is one short phrase (`connection refused`), never reqwest's
    /// whole chain of layers.
    #[error("cannot reach the metrics endpoint {endpoint}: {why}")]
    Unreachable {
        endpoint: String,
        why: String,
        sent: usize,
        pending: usize,
    },
    #[error("{endpoint} refused the report with HTTP {status}{}", answer(.body))]
    Rejected {
        endpoint: String,
        status: u16,
        body: String,
        sent: usize,
        pending: usize,
    },
    #[error("cannot record what was sent: {0}")]
    Cursor(std::io::Error),
}

pub struct ReportOptions {
    /// Build the requests, send nothing, change nothing.
    pub dry_run: bool,
    /// Bound on each request.
    pub timeout: Duration,
    /// How much git the timeline refresh before sending may ask.
    pub git: GitCalls,
}

/// One HTTP request of a report.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    ack: Ack,
}

/// What the cursor records once a request is acknowledged.
#[derive(Debug, Clone)]
struct Ack {
    runs: Vec<String>,
    timeline: Option<String>,
}

#[derive(Debug, Default)]
pub struct ReportSummary {
    /// Runs acknowledged by this report.
    pub runs_sent: usize,
    pub timeline_sent: bool,
    /// The requests built (all of them on a dry run).
    pub requests: Vec<Request>,
}

/// What every format builds its payloads from.
pub struct Facts<'a> {
    pub project: &'a str,
    /// The hire's identity as configured (hash, email or none).
    pub hire: Option<&'a str>,
    /// Every run in the journal, oldest first.
    pub runs: &'a [Run],
    pub timeline: &'a Timeline,
}

/// The endpoint as it may be shown: credentials in the URL (`user:token@`)
/// are secrets and never reach output.
pub fn redact(endpoint: &str) -> String {
    match reqwest::Url::parse(endpoint) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("***");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => endpoint.to_string(),
    }
}

fn endpoint_key(format: MetricsFormat, endpoint: &str) -> String {
    let text = format!("{format:?}\n{}", endpoint.trim_end_matches('/'));
    crate::util::sha256_hex(text.as_bytes())[..12].to_string()
}

/// Identifies this timeline for this hire and project, so a changed
/// timeline is sent again and an unchanged one never is.
fn timeline_key(f: &Facts) -> String {
    let text = format!(
        "{}\n{}\n{}",
        f.project,
        f.hire.unwrap_or(""),
        f.timeline.fingerprint()
    );
    crate::util::sha256_hex(text.as_bytes())[..32].to_string()
}

fn build(cx: &Context, f: &Facts, cursor: &Cursor, endpoint: &str) -> Vec<Request> {
    let m = &cx.manifest.metrics;
    // A report made in a CI job sends CI runs only: a laptop's runs and
    // timeline in the same journal wait for a report that knows the hire.
    let in_ci = cx.ci.is_some();
    let mut unsent = cursor.unsent(f.runs);
    unsent.retain(|r| r.ci.is_some() || !in_ci);
    let tkey = timeline_key(f);
    // An empty timeline is not news, even to an endpoint that never heard of us.
    let timeline_new =
        cursor.timeline.as_deref() != Some(tkey.as_str()) && !f.timeline.is_empty() && !in_ci;
    let json = |url: String, key: String, body: serde_json::Value, ack: Ack| Request {
        method: "POST",
        url,
        headers: vec![
            ("Content-Type", "application/json".to_string()),
            ("Idempotency-Key", key),
        ],
        body: serde_json::to_string(&body).unwrap_or_default(),
        ack,
    };
    let base = endpoint.trim_end_matches('/');
    let mut out = Vec::new();
    match m.format {
        MetricsFormat::Pushgateway => {
            for group in pushgateway::groups(f.runs) {
                let laptop = group.ci.is_none();
                let runs: Vec<String> = group
                    .runs
                    .iter()
                    .filter(|r| unsent.iter().any(|u| u.id == r.id))
                    .map(|r| r.id.clone())
                    .collect();
                if runs.is_empty() && !(laptop && timeline_new) {
                    continue;
                }
                let mut labels = vec![("job", m.job.as_str())];
                labels.extend(group.labels(f));
                out.push(Request {
                    method: "PUT",
                    url: pushgateway::url(endpoint, &labels),
                    headers: vec![("Content-Type", "text/plain; version=0.0.4".to_string())],
                    body: pushgateway::exposition(f, &group),
                    ack: Ack {
                        runs,
                        // Only the hire's group carries the timeline.
                        timeline: laptop.then(|| tkey.clone()),
                    },
                });
            }
        }
        MetricsFormat::Webhook => {
            for r in &unsent {
                let ack = Ack {
                    runs: vec![r.id.clone()],
                    timeline: r.ci.is_none().then(|| tkey.clone()),
                };
                out.push(json(
                    base.to_string(),
                    r.id.clone(),
                    webhook::run_document(f, r),
                    ack,
                ));
            }
            // CI runs do not carry the timeline: a hire's changed one goes alone.
            if unsent.iter().all(|r| r.ci.is_some()) && timeline_new {
                let key = format!("onboarding-{tkey}");
                let body = webhook::onboarding_document(f, &key);
                let ack = Ack {
                    runs: vec![],
                    timeline: Some(tkey.clone()),
                };
                out.push(json(base.to_string(), key, body, ack));
            }
        }
        MetricsFormat::Otlp => {
            let url = format!("{base}/v1/metrics");
            for r in &unsent {
                let ack = Ack {
                    runs: vec![r.id.clone()],
                    timeline: r.ci.is_none().then(|| tkey.clone()),
                };
                out.push(json(
                    url.clone(),
                    r.id.clone(),
                    otlp::run_request(f, r),
                    ack,
                ));
            }
            // CI runs do not carry the timeline: a hire's changed one goes alone.
            if unsent.iter().all(|r| r.ci.is_some()) && timeline_new {
                let ack = Ack {
                    runs: vec![],
                    timeline: Some(tkey.clone()),
                };
                if let Some(body) = otlp::onboarding_request(f) {
                    out.push(json(url.clone(), format!("onboarding-{tkey}"), body, ack));
                }
            }
        }
    }
    out
}

/// Sends unsent runs and a changed timeline to the configured endpoint.
pub async fn report(cx: &Context<'_>, opts: &ReportOptions) -> Result<ReportSummary, ReportError> {
    if !cx.enabled {
        return Err(ReportError::Disabled);
    }
    let m = &cx.manifest.metrics;
    let endpoint = m.endpoint.as_deref().ok_or(ReportError::NoEndpoint)?;
    let journal = cx.journal();
    let runs = journal.runs();
    // A CI job leaves the timeline alone and is nobody: no identity.
    let (timeline, hire) = match cx.ci {
        Some(_) => (timeline::cached(&journal), None),
        None => {
            let timeline = timeline::refresh(&journal, &cx.manifest.root, None, opts.git);
            // The timeline keeps the email it asked git for; ask only without it.
            let email = timeline
                .seen
                .email
                .clone()
                .or_else(|| Repo::find(&cx.manifest.root).and_then(|r| r.user_email()));
            let hire = identity::hire_id(&cx.paths.home, m.identity, email.as_deref());
            (timeline, hire)
        }
    };
    let facts = Facts {
        project: &cx.manifest.project.name,
        hire: hire.as_deref(),
        runs: &runs,
        timeline: &timeline,
    };
    let key = endpoint_key(m.format, endpoint);
    // One sender at a time per journal: a second `report` (or the
    // post-commit hook's) waits, then reads the cursor the first one
    // advanced, so no run is sent twice.
    let _sending = match opts.dry_run {
        true => None,
        false => Some(
            journal
                .lock_reports()
                .await
                .map_err(|e| ReportError::Unreachable {
                    endpoint: redact(endpoint),
                    why: format!("cannot lock the metrics spool: {e}"),
                    sent: 0,
                    pending: 0,
                })?,
        ),
    };
    let mut cursor = journal.cursor(&key);
    let requests = build(cx, &facts, &cursor, endpoint);
    let mut summary = ReportSummary::default();
    if opts.dry_run {
        summary.requests = requests;
        return Ok(summary);
    }
    let client = reqwest::Client::builder()
        .timeout(opts.timeout)
        .connect_timeout(opts.timeout)
        .user_agent(concat!("devenv/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ReportError::Unreachable {
            endpoint: redact(endpoint),
            why: e.to_string(),
            sent: 0,
            pending: cursor.unsent(&runs).len(),
        })?;
    let unsent: usize = requests.iter().map(|r| r.ack.runs.len()).sum();
    for req in &requests {
        let mut rb = match req.method {
            "PUT" => client.put(&req.url),
            _ => client.post(&req.url),
        };
        for (k, v) in &req.headers {
            rb = rb.header(*k, v);
        }
        let resp = rb.body(req.body.clone()).send().await;
        let resp = resp.map_err(|e| ReportError::Unreachable {
            endpoint: redact(endpoint),
            why: why_unreachable(&e, opts.timeout),
            sent: summary.runs_sent,
            pending: unsent - summary.runs_sent,
        })?;
        let status = resp.status();
        // 409: the receiver already has this idempotency key.
        if !(status.is_success() || status == reqwest::StatusCode::CONFLICT) {
            let body = resp.text().await.unwrap_or_default();
            return Err(ReportError::Rejected {
                endpoint: redact(endpoint),
                status: status.as_u16(),
                body: body.trim().chars().take(300).collect(),
                sent: summary.runs_sent,
                pending: unsent - summary.runs_sent,
            });
        }
        for id in &req.ack.runs {
            if !cursor.sent.contains(id) {
                cursor.sent.push(id.clone());
            }
        }
        if let Some(t) = &req.ack.timeline {
            summary.timeline_sent |= cursor.timeline.as_ref() != Some(t);
            cursor.timeline = Some(t.clone());
        }
        summary.runs_sent += req.ack.runs.len();
        journal
            .save_cursor(&key, &cursor)
            .map_err(ReportError::Cursor)?;
    }
    summary.requests = requests;
    Ok(summary)
}

/// Why a request got no answer, in a few words. reqwest's chain ("error
/// sending request for url (...): client error (Connect): tcp connect
/// error: Connection refused (os error 111)") names layers nobody can act
/// on and may carry the URL's credentials; its innermost cause is what
/// happened.
fn why_unreachable(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {:.1} s", timeout.as_secs_f64());
    }
    let mut chain = String::new();
    let mut inner: &dyn std::error::Error = e;
    while let Some(source) = inner.source() {
        chain.push_str(&source.to_string());
        inner = source;
    }
    if let Some(io) = inner.downcast_ref::<std::io::Error>() {
        match io.kind() {
            std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
            std::io::ErrorKind::TimedOut => {
                return format!("no answer within {:.1} s", timeout.as_secs_f64())
            }
            _ => {}
        }
    }
    let text = inner.to_string();
    // `(os error 111)`: the errno adds nothing to its own description.
    let text = match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    if chain.contains("dns error") {
        format!("its host name does not resolve ({text})")
    } else {
        text
    }
}

/// `: body` after a refusal, when the endpoint said anything.
fn answer(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

impl ReportError {
    /// Where the endpoint is configured, for a message about it.
    pub const SETTING: &'static str = "`[metrics] endpoint` in devenv.toml";

    /// What to do next: where the endpoint is set, and what was kept.
    pub fn hint(&self) -> Option<String> {
        let pending = self.pending()?;
        let kept = format!(
            "{pending} run{} kept in the spool, sent by the next `devenv report`",
            if pending == 1 { "" } else { "s" }
        );
        Some(match self {
            ReportError::Unreachable { .. } => {
                format!("is it running? It is set by {}; {kept}", Self::SETTING)
            }
            _ => kept,
        })
    }

    /// Runs still waiting in the spool after this failure.
    pub fn pending(&self) -> Option<usize> {
        match self {
            ReportError::Unreachable { pending, .. } | ReportError::Rejected { pending, .. } => {
                Some(*pending)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_endpoint_are_never_shown() {
        assert_eq!(
            redact("https://ci:s3cret@hooks.internal/devenv"),
            "https://***@hooks.internal/devenv"
        );
        assert_eq!(redact("http://pg:9091"), "http://pg:9091");
    }

    /// The raw chain "error sending request for url (...): client error
    /// (Connect): tcp connect error: Connection refused (os error 111)"
    /// became one phrase.
    #[test]
    fn a_refused_connection_is_said_in_two_words() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let e = runtime
            .block_on(reqwest::get(format!("http://127.0.0.1:{port}/")))
            .unwrap_err();
        assert_eq!(
            why_unreachable(&e, Duration::from_secs(2)),
            "connection refused"
        );
    }
}
