//! The real mountebank (2.9.1, from npm, installed by
//! tests/support/mock_refs.sh under $DEVENV_MOCK_REFS) as the reference:
//! each imposter file is served by mountebank and by `devenv mock serve`,
//! the same requests go to both, and every answer must have the same
//! status, the same headers (those mountebank sends, less the connection
//! bookkeeping Node adds) and the same body, byte for byte.
//!
//! The files are real public imposters (tests/fixtures/mocks/real/mountebank,
//! each with its SOURCE) and our own covering every supported predicate and
//! behaviour (tests/fixtures/mocks/mountebank/features.json).
//! `DEVENV_SKIP_REFERENCE_TESTS=1` skips it, visibly.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_port, try_http, wait_until_alive, Headers, TestEnv};

const REAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/mocks/real/mountebank"
);
const OWN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/mocks/mountebank"
);

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mb_bin() -> PathBuf {
    let dir = std::env::var("DEVENV_MOCK_REFS")
        .unwrap_or_else(|_| "/var/cache/devenv-ci/mock-refs".to_string());
    let bin = Path::new(&dir).join("node_modules/.bin/mb");
    assert!(
        bin.exists(),
        "the reference mountebank is missing at {}: run `bash tests/support/mock_refs.sh` \
         (or set DEVENV_MOCK_REFS, or DEVENV_SKIP_REFERENCE_TESTS=1 to skip)",
        bin.display()
    );
    bin
}

/// method, path and query, headers, body.
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);

/// What an answer is compared on: status, the headers mountebank chose,
/// body. No answer at all (a fault) is status 0.
fn ask(port: u16, (m, p, h, b): &Case<'_>) -> (u16, Headers, String) {
    try_http(m, &format!("http://127.0.0.1:{port}{p}"), h, b)
        .unwrap_or_else(|_| (0, Headers::default(), String::new()))
}

/// Headers Node's http server adds or manages itself.
const NODE_OWN: [&str; 4] = ["date", "connection", "transfer-encoding", "keep-alive"];

fn compared(h: &Headers, like: &Headers) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        h.0.iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .filter(|(k, _)| !NODE_OWN.contains(&k.as_str()))
            // Hyper always sends a length; Node only when the imposter set one.
            .filter(|(k, _)| k != "content-length" || like.get("content-length").is_some())
            .collect();
    v.sort();
    v
}

/// Every `"port": N` in the file, each moved to a free port, for the
/// reference's copy; returns the text and the port the mock's imposter
/// (declared on `mock_port`) got.
fn with_free_ports(text: &str, mock_port: u16) -> (String, u16) {
    let re = regex::Regex::new(r#""port"\s*:\s*(\d+)"#).unwrap();
    let mut moved = std::collections::HashMap::new();
    let out = re
        .replace_all(text, |c: &regex::Captures<'_>| {
            let old: u16 = c[1].parse().unwrap();
            let new = *moved.entry(old).or_insert_with(free_port);
            format!("\"port\": {new}")
        })
        .into_owned();
    let port = moved.get(&mock_port).copied().unwrap_or_else(free_port);
    (out, port)
}

struct Reference {
    api: u16,
    _mb: Killed,
    _dir: tempfile::TempDir,
}

fn start_mountebank() -> Reference {
    let dir = tempfile::tempdir().unwrap();
    let api = free_port();
    let mut mb = Killed(
        Command::new(mb_bin())
            .args([
                "start",
                "--port",
                &api.to_string(),
                "--allowInjection",
                "false",
            ])
            .args(["--logfile", "mb.log", "--pidfile", "mb.pid", "--localOnly"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node is needed for the reference mountebank"),
    );
    wait_until_alive(
        &mut mb.0,
        Duration::from_secs(60),
        "mountebank's API to answer",
        || {
            try_http("GET", &format!("http://127.0.0.1:{api}/imposters"), &[], "")
                .is_ok_and(|r| r.0 == 200)
        },
    );
    Reference {
        api,
        _mb: mb,
        _dir: dir,
    }
}

impl Reference {
    /// Loads the file (one imposter, or `{"imposters": [...]}`) as
    /// `mb --configfile` would, on free ports.
    fn load(&self, text: &str, mock_port: u16) -> u16 {
        let (text, port) = with_free_ports(text, mock_port);
        let wrapped = text.trim_start().starts_with('{') && text.contains("\"imposters\"");
        let (method, body) = if wrapped {
            ("PUT", text)
        } else {
            ("POST", text)
        };
        let url = format!("http://127.0.0.1:{}/imposters", self.api);
        let r = try_http(method, &url, &[("Content-Type", "application/json")], &body).unwrap();
        assert!(
            r.0 == 200 || r.0 == 201,
            "mountebank refused the imposter: {} {}",
            r.0,
            r.2
        );
        port
    }
}

/// Serves `file` with devenv (on the mock port the file's imposter
/// declares) and mountebank, sends `cases` to both in order, and returns
/// every difference.
fn differences(mb: &Reference, file: &Path, mock_port: u16, cases: &[Case<'_>]) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let env = TestEnv::new()
        .manifest(&format!(
            "[project]\nname = \"mbref\"\n[mocks.m]\nport = {mock_port}\nmountebank = \"imposter.json\"\n"
        ))
        .file("imposter.json", &text);
    let theirs = mb.load(&text, mock_port);
    let ours = free_port();
    let mut child = Killed(
        env.command(["mock", "serve", "m", "--port", &ours.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until_alive(
        &mut child.0,
        Duration::from_secs(60),
        "devenv's mock to answer",
        || {
            try_http(
                "GET",
                &format!("http://127.0.0.1:{ours}/__admin/health"),
                &[],
                "",
            )
            .is_ok_and(|r| r.0 == 200)
        },
    );
    let mut diffs = Vec::new();
    for case in cases {
        let (a, b) = (ask(ours, case), ask(theirs, case));
        if std::env::var_os("MB_REFERENCE_SHOW").is_some() {
            eprintln!(
                "{} {} -> {} {:?} {:?}",
                case.0,
                case.1,
                b.0,
                compared(&b.1, &b.1),
                b.2
            );
        }
        // Only a fault goes unanswered: anything else means a server failed.
        if b.0 == 0 && !case.1.contains("fault") {
            diffs.push(format!(
                "{}: mountebank did not answer {} {}",
                file.display(),
                case.0,
                case.1
            ));
        }
        let (ha, hb) = (compared(&a.1, &b.1), compared(&b.1, &b.1));
        // What JavaScript throws is a 500 with Node's stack in mountebank's
        // body: only the status can be the same.
        let thrown = a.0 == 500 && b.0 == 500;
        if a.0 != b.0 || (!thrown && (ha != hb || a.2 != b.2)) {
            diffs.push(format!(
                "{}: {} {} {:?}\n  devenv:     {} {ha:?} {:?}\n  mountebank: {} {hb:?} {:?}",
                file.display(),
                case.0,
                case.1,
                case.2,
                a.0,
                a.2,
                b.0,
                b.2
            ));
        }
    }
    diffs
}

fn skip(test: &str) -> bool {
    let skip = std::env::var("DEVENV_SKIP_REFERENCE_TESTS").as_deref() == Ok("1");
    if skip {
        eprintln!("SKIPPED {test}: DEVENV_SKIP_REFERENCE_TESTS=1");
    }
    skip
}

fn get<'a>(p: &'a str) -> Case<'a> {
    ("GET", p, vec![], "")
}

#[test]
fn devenv_answers_like_mountebank_on_real_public_imposters() {
    if skip("devenv_answers_like_mountebank_on_real_public_imposters") {
        return;
    }
    let mb = start_mountebank();
    let json = ("Content-Type", "application/json");
    let xml = ("Content-Type", "application/xml");
    let real = |name: &str| Path::new(REAL).join(name).join("imposter.json");
    let mut diffs = Vec::new();
    let sets: Vec<(&str, u16, Vec<Case>)> = vec![
        (
            "in-action-complex",
            3000,
            vec![
                get("/identities"),
                get("/identities?q=Frank"),
                get("/identities?q=frank&page=2"),
                get("/identities?q=Bob"),
                get("/identities?page="),
                get("/other"),
            ],
        ),
        (
            "in-action-xpath-ns",
            3000,
            vec![
                (
                    "PUT",
                    "/identities",
                    vec![xml],
                    r#"<i:identity xmlns:i="https://www.abagnale-spec.com/identity" xmlns:n="https://www.abagnale-spec.com/name"><n:name>Frank</n:name></i:identity>"#,
                ),
                (
                    "PUT",
                    "/identities",
                    vec![xml],
                    r#"<i:identity xmlns:i="https://www.abagnale-spec.com/identity" xmlns:n="https://www.abagnale-spec.com/name" n:name="Frank"/>"#,
                ),
                (
                    "PUT",
                    "/identities",
                    vec![xml],
                    r#"<identity><name>Frank</name></identity>"#,
                ),
                ("PUT", "/identities", vec![], "not xml"),
                ("POST", "/identities", vec![xml], "<a/>"),
            ],
        ),
        (
            "in-action-jsonpath",
            3000,
            vec![
                (
                    "PUT",
                    "/identities",
                    vec![json],
                    r#"{"identities": [{"career": "Doctor"}, {"career": "Teacher"}]}"#,
                ),
                (
                    "PUT",
                    "/identities",
                    vec![json],
                    r#"{"identities": [{"career": "Teacher"}, {"career": "Doctor"}]}"#,
                ),
                (
                    "PUT",
                    "/identities",
                    vec![json],
                    r#"{"identities": [{"CAREER": "TEACHER"}]}"#,
                ),
                ("PUT", "/identities", vec![], "Teacher"),
            ],
        ),
        (
            "in-action-abagnale",
            3000,
            vec![
                ("POST", "/", vec![], "Which route are you flying?"),
                ("POST", "/", vec![], "WHERE DID YOU GET YOUR DEGREE?"),
                ("POST", "/", vec![], "Who are you?"),
                get("/"),
            ],
        ),
        (
            "in-action-matches-query",
            3000,
            vec![
                get("/identities?q=Frank"),
                get("/identities?q=frankie"),
                get("/identities?q=Bob"),
                get("/identities"),
            ],
        ),
        (
            "mb-orders",
            4545,
            vec![
                ("POST", "/orders", vec![], ""),
                ("POST", "/orders", vec![], ""),
                ("POST", "/orders", vec![], ""),
                get("/orders/123"),
                get("/orders/234"),
                get("/orders/345"),
                get("/orders"),
            ],
        ),
        (
            "mb-gzip",
            4542,
            vec![
                ("POST", "/", vec![json], r#"{"title": "Harry Potter"}"#),
                ("POST", "/", vec![json], r#"{"title": "harry potter"}"#),
                ("POST", "/", vec![json], r#"{"Title": "Harry Potter"}"#),
                ("POST", "/", vec![], "title=Harry Potter"),
            ],
        ),
        ("mb-noparse-imposters", 4545, vec![get("/"), get("/x?y=1")]),
        (
            "zeze-recycling",
            3232,
            vec![
                get("/inventory/6b7ee2d9-f7c0-4fb8-a913-8eccbf87bf9a"),
                get("/inventory/6b7ee2d9-f7c0-4fb8-a913-8eccbf87bf9a"),
                get("/inventory/25d7382f-89bd-4479-85f4-2ddce93a5e03"),
                get("/inventory/6b7ee2d9-f7c0-4fb8-a913-8eccbf87bf9a"),
                get("/inventory/6B7EE2D9-F7C0-4FB8-A913-8ECCBF87BF9A"),
                get("/inventory/25d7382f-89bd-4479-85f4-2ddce93a5e03"),
                get("/inventory/25d7382f-89bd-4479-85f4-2ddce93a5e03"),
                get("/inventory/unknown"),
            ],
        ),
        (
            "zeze-cors",
            3002,
            vec![
                (
                    "OPTIONS",
                    "/ducks",
                    vec![
                        ("Origin", "http://localhost:3000"),
                        ("Access-Control-Request-Method", "GET"),
                        ("Access-Control-Request-Headers", "content-type"),
                    ],
                    "",
                ),
                ("OPTIONS", "/ducks", vec![], ""),
                get("/ducks"),
                ("POST", "/ducks", vec![], "{}"),
            ],
        ),
    ];
    for (name, port, cases) in &sets {
        diffs.extend(differences(&mb, &real(name), *port, cases));
    }
    assert!(
        diffs.is_empty(),
        "devenv and mountebank differ:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn devenv_answers_like_mountebank_for_every_predicate_and_behaviour() {
    if skip("devenv_answers_like_mountebank_for_every_predicate_and_behaviour") {
        return;
    }
    let mb = start_mountebank();
    let json = ("Content-Type", "application/json");
    let xml_order =
        r#"<p:order xmlns:p="urn:po"><p:id>42</p:id><p:customer name="Ann"/></p:order>"#;
    let cases: Vec<Case> = vec![
        ("GET", "/equals?q=hello", vec![("X-Mode", "live")], ""),
        ("GET", "/EQUALS?Q=HELLO", vec![("x-mode", "LIVE")], ""),
        (
            "GET",
            "/equals?q=hello&extra=1",
            vec![("X-Mode", "live")],
            "",
        ),
        ("GET", "/equals?q=bye", vec![("X-Mode", "live")], ""),
        ("POST", "/equals?q=hello", vec![("X-Mode", "live")], ""),
        ("POST", "/cs", vec![json], r#"{"Name": "Frank", "age": 3}"#),
        ("POST", "/cs", vec![json], r#"{"name": "Frank"}"#),
        ("POST", "/CS", vec![json], r#"{"Name": "Frank"}"#),
        ("GET", "/deep?a=1&b=x&b=y", vec![], ""),
        ("GET", "/deep?b=y&a=1&b=x", vec![], ""),
        ("GET", "/deep?a=1&b=x", vec![], ""),
        ("GET", "/deep?a=1&b=x&b=y&c=2", vec![], ""),
        (
            "POST",
            "/deepbody",
            vec![json],
            r#"{"tags": ["a", "b"], "id": 5}"#,
        ),
        (
            "POST",
            "/deepbody",
            vec![json],
            r#"{"tags": ["a", "b"], "id": "5"}"#,
        ),
        (
            "POST",
            "/deepbody",
            vec![json],
            r#"{"tags": ["a", "b"], "id": 5, "x": 1}"#,
        ),
        ("POST", "/strings/to/the/end", vec![], "a needle in hay"),
        ("POST", "/STRINGS/END", vec![], "NEEDLE"),
        ("POST", "/strings/end", vec![], "hay"),
        ("POST", "/str/ends", vec![], "needle"),
        (
            "GET",
            "/orders/42",
            vec![("Accept", "application/json")],
            "",
        ),
        ("GET", "/ORDERS/7", vec![("Accept", "APPLICATION/JSON")], ""),
        ("GET", "/orders/42", vec![("Accept", "text/html")], ""),
        (
            "GET",
            "/orders/x42",
            vec![("Accept", "application/json")],
            "",
        ),
        ("GET", "/exists?token=t", vec![("X-Api-Key", "k")], ""),
        (
            "GET",
            "/exists?token=t&debug=1",
            vec![("X-Api-Key", "k")],
            "",
        ),
        ("GET", "/exists?token=", vec![("X-Api-Key", "k")], ""),
        ("GET", "/exists?token=t", vec![], ""),
        get("/logic"),
        get("/logic?v=1"),
        get("/logic?v=2"),
        get("/except/123"),
        get("/except/"),
        get("/except/12a"),
        (
            "POST",
            "/jsonpath",
            vec![json],
            r#"{"customer": {"name": "Ann", "tier": "GOLD"}, "lines": [{"sku": "B-2"}, {"sku": "A-1"}]}"#,
        ),
        (
            "POST",
            "/jsonpath",
            vec![json],
            r#"{"customer": {"tier": "silver"}}"#,
        ),
        ("POST", "/jsonpath", vec![], "not json"),
        (
            "POST",
            "/xpath",
            vec![("Content-Type", "application/xml")],
            xml_order,
        ),
        (
            "POST",
            "/xpath",
            vec![],
            r#"<order xmlns="urn:other"><id>42</id></order>"#,
        ),
        ("POST", "/count", vec![], "<list><item/><item/></list>"),
        ("POST", "/count", vec![], "<list><item/></list>"),
        get("/cycle"),
        get("/cycle"),
        get("/cycle"),
        get("/cycle"),
        get("/cycle"),
        get("/copy?name=Zoe"),
        (
            "GET",
            "/copy?name=Zoe&name=Max",
            vec![("X-Trace", "ABC-123")],
            "",
        ),
        get("/copy"),
        get("/binary"),
        get("/cookies"),
        get("/legacy"),
        (
            "POST",
            "/anything",
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            "user=ann&x=1",
        ),
        (
            "POST",
            "/anything",
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            "user=bob",
        ),
        ("POST", "/mjson", vec![json], r#"{"code": "A123"}"#),
        ("POST", "/mjson", vec![json], r#"{"code": "a123"}"#),
        get("/fault"),
        get("/nothing/here"),
    ];
    let diffs = differences(&mb, &Path::new(OWN).join("features.json"), 4600, &cases);
    assert!(
        diffs.is_empty(),
        "devenv and mountebank differ:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn devenv_answers_like_mountebank_in_the_corners_of_its_semantics() {
    if skip("devenv_answers_like_mountebank_in_the_corners_of_its_semantics") {
        return;
    }
    let mb = start_mountebank();
    let (json, j) = (("Content-Type", "application/json"), "application/json");
    let cases: Vec<Case> = vec![
        ("GET", "/hdr", vec![("Content-Type", j)], ""),
        (
            "GET",
            "/hdr",
            vec![("Content-Type", "Application/JSON")],
            "",
        ),
        (
            "POST",
            "/num",
            vec![json],
            r#"{"count": 5, "ok": true, "none": null}"#,
        ),
        (
            "POST",
            "/num",
            vec![json],
            r#"{"count": "5", "ok": "true", "none": "null"}"#,
        ),
        ("POST", "/num", vec![json], r#"{"count": 5.0, "ok": true}"#),
        ("POST", "/num", vec![json], "null"),
        ("POST", "/other", vec![json], "null"),
        ("POST", "/arr", vec![json], r#"{"tags": ["a", "B"]}"#),
        ("POST", "/arr", vec![json], r#"{"tags": ["a", "c"]}"#),
        (
            "POST",
            "/objs",
            vec![json],
            r#"[{"key": "first"}, {"other": 1}, {"key": "third"}]"#,
        ),
        ("POST", "/objs", vec![json], r#"[{"key": "first"}]"#),
        ("GET", "/qarr?a=1&a=2", vec![], ""),
        ("GET", "/qarr?a=1&a=2&a=3", vec![], ""),
        ("GET", "/qarr?a=1", vec![], ""),
        ("POST", "/ex", vec![json], r#"{"user": {"id": 7}}"#),
        (
            "POST",
            "/ex",
            vec![json],
            r#"{"user": {"id": 7}, "debug": 1}"#,
        ),
        ("POST", "/ex", vec![json], r#"{"user": {}}"#),
        ("POST", "/ex", vec![], ""),
        ("POST", "/m/", vec![], "ID-42-X"),
        ("POST", "/m/", vec![], "id-42"),
        ("POST", "/m/", vec![], "ID-42-Y"),
        (
            "POST",
            "/d",
            vec![json],
            r#"{"x": [{"name": "b"}, {"name": "a"}]}"#,
        ),
        (
            "POST",
            "/d",
            vec![json],
            r#"{"x": [{"name": "A"}, {"name": "B"}]}"#,
        ),
        ("POST", "/d", vec![json], r#"{"x": [{"name": "a"}]}"#),
        ("POST", "/xp", vec![], r#"<Customer Name="ANN"/>"#),
        ("POST", "/xp", vec![], r#"<customer name="ann"/>"#),
        ("POST", "/xp", vec![], r#"<Customer Name="Bob"/>"#),
        ("POST", "/xpcs", vec![], r#"<Customer Name="Ann"/>"#),
        ("POST", "/xpcs", vec![], r#"<customer name="Ann"/>"#),
        ("POST", "/xpcs", vec![], r#"<Customer Name="ANN"/>"#),
        get("/x%20y"),
        get("/json"),
        ("POST", "/t", vec![], "Hello world"),
        get("/file?f=notes.txt"),
        get("/file?f=notes.md"),
        get("/not"),
        ("DELETE", "/not", vec![], ""),
    ];
    let diffs = differences(&mb, &Path::new(OWN).join("quirks.json"), 4601, &cases);
    assert!(
        diffs.is_empty(),
        "devenv and mountebank differ:\n{}",
        diffs.join("\n")
    );
}
