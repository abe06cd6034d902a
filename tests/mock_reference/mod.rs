//! The differential harness for mocks: a real reference server (WireMock,
//! pact-stub-server; Prism and mountebank use the same shape) runs beside
//! `devenv mock serve` on the same files, both get the same requests, and
//! their answers are compared: status, reason phrase, the headers that
//! carry meaning (everything but transport headers) and the body, byte
//! for byte.
//!
//! The references are installed once by `tests/support/mock_refs.sh` under
//! `$DEVENV_MOCK_REFS` (default /var/cache/devenv-ci/mock-refs). A missing
//! reference fails the test and says how to install it;
//! `DEVENV_SKIP_REFERENCE_TESTS=1` skips these tests, visibly.
//!
//! A set of real files lives in `tests/fixtures/mocks/real/<kind>/<set>/`
//! with a SOURCE file (repo, path, commit) and `cases.json`:
//!
//! ```json
//! {"refused": [{"file": "mappings/x.json", "line": 7, "column": 9, "reason": "RANDOM_DATA"}],
//!  "cases": [{"method": "GET", "path": "/a?b=1", "headers": {"Accept": "text/plain"},
//!             "body": "...", "state": "a provider state", "webhooks": 1}]}
//! ```
//!
//! `refused` files are ones devenv refuses (with that place and reason in
//! `devenv validate`); the comparison runs on the rest. `{{receiver}}` in a
//! case is the URL of a server that records the webhooks both sides send.
// Each test binary uses a different part of the harness.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use crate::common::{
    free_port, try_http_bytes, wait_until, wait_until_alive, Answer, Server, TestEnv,
};

pub const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mocks/real");
pub const WIREMOCK_JAR: &str = "node_modules/wiremock/build/wiremock-standalone-3.13.2.jar";
pub const PACT_STUB_SERVER: &str = "node_modules/.bin/pact-stub-server";
/// The header that picks a Pact provider state, on both sides.
pub const STATE_HEADER: &str = "X-Pact-Provider-State";
/// How long a reference may take to come up (a JVM on a busy machine).
const STARTUP: Duration = Duration::from_secs(180);

/// True (and says so) when reference tests are skipped on purpose.
pub fn skipped(test: &str) -> bool {
    let skip = std::env::var("DEVENV_SKIP_REFERENCE_TESTS").as_deref() == Ok("1");
    if skip {
        eprintln!("SKIPPED {test}: DEVENV_SKIP_REFERENCE_TESTS=1");
    }
    skip
}

/// A file of the installed references; fails the test, saying how to
/// install them, when it is not there.
#[track_caller]
pub fn reference(rel: &str) -> PathBuf {
    let dir = std::env::var("DEVENV_MOCK_REFS")
        .unwrap_or_else(|_| "/var/cache/devenv-ci/mock-refs".to_string());
    let p = Path::new(&dir).join(rel);
    assert!(
        p.exists(),
        "the mock reference {rel} is missing under {dir}: run `bash tests/support/mock_refs.sh` \
         (DEVENV_MOCK_REFS names another install; DEVENV_SKIP_REFERENCE_TESTS=1 skips these tests)"
    );
    p
}

/// A server process, killed when dropped.
pub struct Running {
    child: Child,
    pub port: u16,
    pub name: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts `cmd` and waits until `GET ready` on `port` answers at all.
    #[track_caller]
    pub fn start(name: &str, mut cmd: Command, port: u16, ready: &str) -> Running {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut r = Running {
            child,
            port,
            name: name.to_string(),
        };
        let url = r.url(ready);
        wait_until_alive(
            &mut r.child,
            STARTUP,
            &format!("{name} to answer {url}"),
            || try_http_bytes("GET", &url, &[], b"").is_ok(),
        );
        r
    }

    pub fn url(&self, target: &str) -> String {
        format!("http://127.0.0.1:{}{target}", self.port)
    }

    /// One request; `None` when the connection ended without an answer.
    pub fn ask(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Option<Answer> {
        try_http_bytes(method, &self.url(target), headers, body).ok()
    }
}

/// The real WireMock 3.13.2 on a WireMock root (`mappings/`, `__files/`).
#[track_caller]
pub fn wiremock(root: &Path) -> Running {
    let jar = reference(WIREMOCK_JAR);
    let port = free_port();
    let mut cmd = Command::new("java");
    cmd.arg("-jar").arg(jar).args([
        "--port",
        &port.to_string(),
        "--bind-address",
        "127.0.0.1",
        "--disable-banner",
        "--root-dir",
    ]);
    cmd.arg(root);
    Running::start("WireMock", cmd, port, "/__admin/health")
}

/// pact-stub-server on one pact file, picking states from `STATE_HEADER`,
/// or only the state `fixed` (as devenv.toml's `provider_state`).
#[track_caller]
pub fn pact_stub_server(file: &Path, fixed: Option<&str>) -> Running {
    let bin = reference(PACT_STUB_SERVER);
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string(), "--loglevel", "error", "--file"])
        .arg(file);
    match fixed {
        Some(state) => cmd.args(["--provider-state", &format!("^{}$", regex_escape(state))]),
        None => cmd.args(["--provider-state-header-name", STATE_HEADER]),
    };
    Running::start("pact-stub-server", cmd, port, "/")
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// `devenv mock serve NAME` in `env`, ready when its admin API answers.
#[track_caller]
pub fn devenv_mock(env: &TestEnv, name: &str) -> Running {
    let port = free_port();
    let cmd = env.command(["mock", "serve", name, "--port", &port.to_string()]);
    Running::start("devenv mock serve", cmd, port, "/__admin/health")
}

/// One set's `cases.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cases {
    #[serde(default)]
    pub refused: Vec<Refused>,
    /// devenv.toml's `provider_state` for this set (Pact).
    #[serde(default)]
    pub provider_state: Option<String>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refused {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
    /// A Pact provider state, sent as `STATE_HEADER`.
    #[serde(default)]
    pub state: Option<String>,
    /// How many webhooks the answer triggers.
    #[serde(default)]
    pub webhooks: usize,
    /// What the case is about, for the failure message.
    #[serde(default)]
    pub why: Option<String>,
    /// Why the bodies may differ (a Pact generator fills in random values
    /// there); status and headers are still compared.
    #[serde(default)]
    pub body_differs: Option<String>,
}

impl Case {
    fn fill(&self, receiver: &str) -> Case {
        let f = |s: &str| s.replace("{{receiver}}", receiver);
        Case {
            path: f(&self.path),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), f(v)))
                .collect(),
            body: f(&self.body),
            ..self.clone()
        }
    }

    fn header_list(&self) -> Vec<(&str, &str)> {
        let mut h: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(s) = &self.state {
            h.push((STATE_HEADER, s));
        }
        h
    }

    pub fn title(&self) -> String {
        let why = self
            .why
            .as_deref()
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        format!("{} {}{why}", self.method, self.path)
    }
}

#[track_caller]
pub fn load_cases(set: &Path) -> Cases {
    let f = set.join("cases.json");
    let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()))
}

/// Headers that say how the bytes travelled, not what the stub answers:
/// left out of the comparison. `Matched-Stub-*` is WireMock's own.
const TRANSPORT: &[&str] = &[
    "date",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "server",
    "matched-stub-id",
    "matched-stub-name",
];

/// What an answer says, for comparing: status, reason, headers that carry
/// meaning (names in lower case, values in order), body.
#[derive(Debug, PartialEq, Eq)]
pub struct Said {
    pub status: u16,
    pub reason: String,
    pub headers: BTreeMap<String, Vec<String>>,
    pub body: Vec<u8>,
}

impl Said {
    pub fn of(a: &Answer) -> Said {
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &a.headers.0 {
            let k = k.to_ascii_lowercase();
            if !TRANSPORT.contains(&k.as_str()) {
                headers.entry(k).or_default().push(v.clone());
            }
        }
        Said {
            status: a.status,
            reason: a.reason.clone(),
            headers,
            body: a.body.clone(),
        }
    }

    fn show(&self) -> String {
        format!(
            "{} {:?} {:?} {:?}",
            self.status,
            self.reason,
            self.headers,
            String::from_utf8_lossy(&self.body)
        )
    }
}

/// Whether an answer is "no stub matched": each server words it its own
/// way, so two such answers are equal whatever their bodies say.
pub type Unmatched = fn(&Answer) -> bool;

pub fn devenv_unmatched(a: &Answer) -> bool {
    // A HEAD request gets the diagnostic's headers without its body.
    a.status == 404
        && (a.body.starts_with(b"No stub matched")
            || a.body.is_empty()
                && a.headers.get("content-type") == Some("text/plain; charset=utf-8"))
}

pub fn wiremock_unmatched(a: &Answer) -> bool {
    a.status == 404 && a.headers.get("Matched-Stub-Id").is_none()
}

pub fn pact_unmatched(a: &Answer) -> bool {
    // pact-stub-server answers a request no interaction fits with a bare 404.
    a.status == 404 && a.headers.get("content-type").is_none() && a.body.is_empty()
}

/// The two servers under comparison and how each says "unmatched".
pub struct Pair<'a> {
    pub ours: &'a Running,
    pub theirs: &'a Running,
    pub theirs_unmatched: Unmatched,
    /// Headers the reference adds to every answer by itself, whatever the
    /// file says (lower case): not part of what a stub answers.
    pub theirs_adds: &'a [&'a str],
}

/// pact-stub-server answers every request with
/// `Access-Control-Allow-Origin: *`, with or without `--cors`.
pub const PACT_STUB_SERVER_ADDS: &[&str] = &["access-control-allow-origin"];

/// Every case against both servers; the differences, one per line.
pub fn compare_all(pair: &Pair<'_>, cases: &[Case]) -> Vec<String> {
    let receiver = Server::start();
    let mut diffs = Vec::new();
    let mut matched = 0;
    for case in cases {
        let case = case.fill(&receiver.base());
        let ours = exchange(pair.ours, &case, &receiver);
        let theirs = exchange(pair.theirs, &case, &receiver);
        let (o, mut t) = (ours.0.clone(), theirs.0.clone());
        if let Some(t) = t.as_mut() {
            t.headers
                .0
                .retain(|(k, _)| !pair.theirs_adds.contains(&k.to_ascii_lowercase().as_str()));
        }
        let (o, t) = (&o, &t);
        matched += usize::from(t.as_ref().is_some_and(|t| !(pair.theirs_unmatched)(t)));
        let same = match (o, t) {
            (None, None) => true,
            (Some(o), Some(t)) if devenv_unmatched(o) && (pair.theirs_unmatched)(t) => true,
            (Some(o), Some(t)) if case.body_differs.is_some() => {
                let (mut o, mut t) = (Said::of(o), Said::of(t));
                o.body.clear();
                t.body.clear();
                o == t
            }
            (Some(o), Some(t)) => Said::of(o) == Said::of(t),
            _ => false,
        };
        if !same {
            let show = |a: &Option<Answer>| {
                a.as_ref()
                    .map_or("no answer".into(), |a| Said::of(a).show())
            };
            diffs.push(format!(
                "{}:\n    devenv:    {}\n    {}: {}",
                case.title(),
                show(o),
                pair.theirs.name,
                show(t)
            ));
        }
        if ours.1 != theirs.1 {
            diffs.push(format!(
                "{}: webhooks differ:\n    devenv:    {:?}\n    {}: {:?}",
                case.title(),
                ours.1,
                pair.theirs.name,
                theirs.1
            ));
        }
    }
    if matched == 0 && !cases.is_empty() {
        diffs.push(format!(
            "{} matched none of the cases: did it load the files at all?",
            pair.theirs.name
        ));
    }
    diffs
}

/// One case against one server: its answer and the webhooks it sent
/// (method, target, content type, body).
fn exchange(server: &Running, case: &Case, receiver: &Server) -> (Option<Answer>, Vec<String>) {
    let before = receiver.requests().len();
    let answer = server.ask(
        &case.method,
        &case.path,
        &case.header_list(),
        case.body.as_bytes(),
    );
    if case.webhooks == 0 {
        return (answer, Vec::new());
    }
    let what = format!(
        "{} webhook(s) from {} for {}",
        case.webhooks,
        server.name,
        case.title()
    );
    wait_until(Duration::from_secs(30), &what, || {
        receiver.requests().len() >= before + case.webhooks
    });
    let hooks = receiver.requests()[before..]
        .iter()
        .map(|r| {
            format!(
                "{} {} content-type={:?} {:?}",
                r.method,
                r.target,
                r.header("content-type"),
                r.body
            )
        })
        .collect();
    (answer, hooks)
}

/// Checks that `devenv validate` refuses each `refused` file at its place
/// with its reason; the differences, one per line.
pub fn check_refusals(env: &TestEnv, dir: &str, refused: &[Refused]) -> Vec<String> {
    if refused.is_empty() {
        return Vec::new();
    }
    let out = env
        .command(["validate"])
        .output()
        .expect("devenv validate runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut diffs = Vec::new();
    if out.status.code() != Some(2) {
        diffs.push(format!(
            "devenv validate exited {:?}, not 2:\n{text}",
            out.status.code()
        ));
    }
    for r in refused {
        let place = format!("{dir}/{}:{}:{}", r.file, r.line, r.column);
        let found = text
            .split("error:")
            .any(|d| d.contains(&place) && d.contains(&r.reason));
        if !found {
            diffs.push(format!(
                "not refused at {place} with {:?}:\n{text}",
                r.reason
            ));
        }
    }
    diffs
}

/// Copies `from` into `to`, leaving out the files named in `except`
/// (relative paths).
pub fn copy_except(from: &Path, to: &Path, except: &[&str]) {
    copy_tree(from, to, from, except);
}

fn copy_tree(dir: &Path, to: &Path, top: &Path, except: &[&str]) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let rel = p.strip_prefix(top).unwrap().to_string_lossy().to_string();
        if except.contains(&rel.as_str()) || rel == "SOURCE" || rel == "cases.json" {
            continue;
        }
        let dest = to.join(&rel);
        if p.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&p, to, top, except);
        } else {
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}
