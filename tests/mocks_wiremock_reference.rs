//! The real WireMock (3.13.2, from the npm package `wiremock`, run with the
//! machine's Java) as the reference: the same mappings, the same requests,
//! the same statuses and bodies from both servers.
//!
//! Needs `java` and either WIREMOCK_JAR or `npm` (the jar is installed once
//! into the target dir). `DEVENV_SKIP_REFERENCE_TESTS=1` skips it, visibly.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_port, http_request, wait_until_alive, TestEnv};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mocks/wiremock");

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn jar() -> PathBuf {
    if let Ok(j) = std::env::var("WIREMOCK_JAR") {
        return PathBuf::from(j);
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wiremock-ref");
    let jar = dir.join("node_modules/wiremock/build/wiremock-standalone-3.13.2.jar");
    if !jar.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let st = Command::new("npm")
            .args(["install", "--no-save", "--prefix"])
            .arg(&dir)
            .arg("wiremock@3.13.2")
            .stdout(Stdio::null())
            .status()
            .expect("npm is needed to fetch the reference WireMock (or set WIREMOCK_JAR)");
        assert!(st.success(), "npm install wiremock@3.13.2 failed");
    }
    jar
}

/// One request to the server on `port`: (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let (status, _, body) = http_request(
        method,
        &format!("http://127.0.0.1:{port}{path}"),
        headers,
        body,
    );
    (status, body)
}

/// method, path and query, headers, body.
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);

fn normalised(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| body.to_string())
}

#[test]
fn devenv_answers_like_the_real_wiremock_on_the_same_mappings() {
    if std::env::var("DEVENV_SKIP_REFERENCE_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED devenv_answers_like_the_real_wiremock_on_the_same_mappings: DEVENV_SKIP_REFERENCE_TESTS=1");
        return;
    }
    // WireMock refuses bare-array files, so the reference root has only the wrapped one.
    let env = TestEnv::new().manifest(
        "[project]\nname = \"ref\"\n[mocks.payments]\nport = \"auto\"\nwiremock = \"wm\"\n",
    );
    let root = env.repo().join("wm");
    std::fs::create_dir_all(root.join("mappings")).unwrap();
    std::fs::create_dir_all(root.join("__files")).unwrap();
    std::fs::copy(
        Path::new(FIXTURES).join("mappings/payments.json"),
        root.join("mappings/payments.json"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(FIXTURES).join("__files/payment.json"),
        root.join("__files/payment.json"),
    )
    .unwrap();

    let wm_port = free_port();
    let mut wm = Killed(
        Command::new("java")
            .arg("-jar")
            .arg(jar())
            .args([
                "--port",
                &wm_port.to_string(),
                "--bind-address",
                "127.0.0.1",
                "--disable-banner",
                "--root-dir",
            ])
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("java is needed for the reference WireMock"),
    );
    let our_port = free_port();
    let mut ours = Killed(
        env.command(["mock", "serve", "payments", "--port", &our_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for (server, port) in [(&mut ours, our_port), (&mut wm, wm_port)] {
        wait_until_alive(
            &mut server.0,
            Duration::from_secs(120),
            &format!("the mock server on {port} to answer"),
            || http(port, "GET", "/__admin/mappings", &[], "").0 == 200,
        );
    }

    let json = ("Content-Type", "application/json");
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/v1/payments/42?expand=items",
            vec![("Accept", "application/json"), ("X-Trace", "t")],
            "",
        ),
        ("GET", "/v1/payments/42", vec![("Accept", "text/html")], ""),
        (
            "GET",
            "/v1/payments/p-1?source=file",
            vec![("Accept", "application/json")],
            "",
        ),
        ("GET", "/v1/payments/p-1?source=file&x=1", vec![], ""),
        (
            "GET",
            "/v1/search?q=abc",
            vec![("Cookie", "session=s1")],
            "",
        ),
        (
            "GET",
            "/v1/search?q=abc&debug=1",
            vec![("Cookie", "session=s1")],
            "",
        ),
        (
            "GET",
            "/v1/search?q=ABC",
            vec![("Cookie", "session=s1")],
            "",
        ),
        (
            "GET",
            "/v1/search?q=abc",
            vec![("Cookie", "session=s2")],
            "",
        ),
        (
            "POST",
            "/v1/payments",
            vec![json],
            r#"{"amount": 500, "items": [2, 1], "currency": "EUR", "x": 1}"#,
        ),
        (
            "POST",
            "/v1/payments",
            vec![json],
            r#"{"amount": 500, "items": [1], "currency": "EUR"}"#,
        ),
        (
            "POST",
            "/v1/payments",
            vec![json],
            r#"{"amount": 500, "items": [2, 1], "currency": "USD"}"#,
        ),
        (
            "POST",
            "/v1/payments",
            vec![("Content-Type", "text/plain")],
            r#"{"amount": 500, "items": [2, 1], "currency": "EUR"}"#,
        ),
        ("PUT", "/v1/notes/12", vec![("X-Mode", "live")], "hello"),
        ("PUT", "/v1/notes/12", vec![("X-Mode", "dry")], "hello"),
        (
            "PUT",
            "/v1/notes/12",
            vec![("X-Mode", "live")],
            "hello secret",
        ),
        ("PUT", "/v1/notes/abc", vec![("X-Mode", "live")], "hello"),
        ("PATCH", "/v1/logo", vec![], ""),
        ("GET", "/v1/logo?x=1", vec![], ""),
        ("GET", "/nowhere", vec![], ""),
    ];
    let mut diffs = Vec::new();
    for (m, p, h, b) in &cases {
        let ours = http(our_port, m, p, h, b);
        let theirs = http(wm_port, m, p, h, b);
        let same =
            ours.0 == theirs.0 && (ours.0 >= 400 || normalised(&ours.1) == normalised(&theirs.1));
        if !same {
            diffs.push(format!(
                "{m} {p} {h:?}: devenv {} {:?} / WireMock {} {:?}",
                ours.0, ours.1, theirs.0, theirs.1
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "devenv and WireMock differ:\n{}",
        diffs.join("\n")
    );
}
