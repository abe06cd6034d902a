//! Prism (5.16, `@stoplight/prism-cli`, static mode) as the reference for
//! OpenAPI mocks: the same spec, the same requests, the same status,
//! content type and body from both servers.
//!
//! The specs are real public ones (`tests/fixtures/mocks/real/openapi/*/`,
//! each with its SOURCE and a `requests.json`), plus one written to pin
//! Prism's choices (`tests/fixtures/mocks/openapi/prism-rules/`).
//!
//! Prism is installed by `tests/support/mock_refs.sh` into
//! `$DEVENV_MOCK_REFS` (default `/var/cache/devenv-ci/mock-refs`); missing,
//! it fails the test. `DEVENV_SKIP_REFERENCE_TESTS=1` skips it, visibly.
//!
//! Where Prism answers with its own error (`application/problem+json`),
//! the status and content type are compared, not the wording. A request no
//! operation declares gets devenv's own 404 (a diagnostic in plain text):
//! only its status is compared.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_port, http_request, wait_until_alive, TestEnv};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mocks");

/// The reference runner: a `prism mock` process on a port of its own,
/// killed when dropped.
struct Prism {
    child: Child,
    port: u16,
}

impl Prism {
    fn bin() -> PathBuf {
        let dir = std::env::var("DEVENV_MOCK_REFS")
            .unwrap_or_else(|_| "/var/cache/devenv-ci/mock-refs".into());
        let bin = Path::new(&dir).join("node_modules/.bin/prism");
        assert!(
            bin.exists(),
            "the reference Prism is missing at {}: run `bash tests/support/mock_refs.sh` \
             (or set DEVENV_SKIP_REFERENCE_TESTS=1 to skip reference tests)",
            bin.display()
        );
        bin
    }

    /// Static mode (no `-d`): examples, else bodies from the schema.
    fn start(spec: &Path) -> Prism {
        let port = free_port();
        let mut child = Command::new(Self::bin())
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(spec)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prism runs");
        wait_until_alive(
            &mut child,
            Duration::from_secs(120),
            &format!("Prism on {port} to answer"),
            || common::try_http("GET", &format!("http://127.0.0.1:{port}/"), &[], "").is_ok(),
        );
        Prism { child, port }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn skipped(test: &str) -> bool {
    let skip = std::env::var("DEVENV_SKIP_REFERENCE_TESTS").as_deref() == Ok("1");
    if skip {
        eprintln!("SKIPPED {test}: DEVENV_SKIP_REFERENCE_TESTS=1");
    }
    skip
}

/// One answer as compared: status, content type without parameters, body.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    ctype: Option<String>,
    body: String,
}

fn ask(port: u16, req: &serde_json::Value) -> Answer {
    let method = req["method"].as_str().unwrap();
    let path = req["path"].as_str().unwrap();
    let headers: Vec<(String, String)> = req["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = req["body"].as_str().unwrap_or("");
    let (status, h, body) = http_request(
        method,
        &format!("http://127.0.0.1:{port}{path}"),
        &headers,
        body,
    );
    Answer {
        status,
        ctype: h
            .get("content-type")
            .map(|c| c.split(';').next().unwrap().trim().to_ascii_lowercase()),
        // JSON is compared as JSON text in its own order (keys as written).
        body: serde_json::from_str::<serde_json::Value>(&body)
            .map(|v| v.to_string())
            .unwrap_or(body),
    }
}

/// Serves `dir`'s spec from devenv and from Prism, asks both every request
/// of its `requests.json`, and lists where they differ.
fn compare(dir: &Path, mock_extra: &str) {
    let spec = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "yaml" || x == "json")
                && p.file_name().is_some_and(|n| n != "requests.json")
        })
        .expect("a spec");
    let requests: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("requests.json")).unwrap()).unwrap();
    let file = spec.file_name().unwrap().to_string_lossy().to_string();
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"oaref\"\n[mocks.api]\nport = \"auto\"\nopenapi = \"spec/{file}\"\n{mock_extra}"
    ));
    std::fs::create_dir_all(env.repo().join("spec")).unwrap();
    std::fs::copy(&spec, env.repo().join("spec").join(&file)).unwrap();

    let prism = Prism::start(&spec);
    let our_port = free_port();
    let mut ours = Killed(
        env.command(["mock", "serve", "api", "--port", &our_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let health = if mock_extra.contains("/__devenv") {
        "/__devenv/health"
    } else {
        "/__admin/health"
    };
    wait_until_alive(
        &mut ours.0,
        Duration::from_secs(60),
        "devenv's mock to answer",
        || common::http_get(&format!("http://127.0.0.1:{our_port}{health}")).0 == 200,
    );

    let mut diffs = Vec::new();
    for req in &requests {
        let theirs = ask(prism.port, req);
        let mine = ask(our_port, req);
        let prism_error = theirs.ctype.as_deref() == Some("application/problem+json");
        let unmatched = mine.status == 404
            && mine.ctype.as_deref() != Some("application/problem+json")
            && mine.body.starts_with("No stub matched");
        let same = if unmatched {
            theirs.status == 404 || theirs.status == 405
        } else if prism_error {
            (mine.status, &mine.ctype) == (theirs.status, &theirs.ctype)
        } else {
            mine == theirs
        };
        if !same {
            diffs.push(format!("{req}\n  devenv: {mine:?}\n  Prism:  {theirs:?}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "devenv and Prism differ on {}:\n{}",
        dir.display(),
        diffs.join("\n")
    );
}

fn real(name: &str) -> PathBuf {
    Path::new(FIXTURES).join("real/openapi").join(name)
}

#[test]
fn oai_petstore_expanded_3_0_yaml_answers_as_prism_does() {
    if !skipped("oai_petstore_expanded_3_0_yaml_answers_as_prism_does") {
        compare(&real("petstore-expanded"), "");
    }
}

#[test]
fn oai_api_with_examples_3_0_json_answers_as_prism_does() {
    if !skipped("oai_api_with_examples_3_0_json_answers_as_prism_does") {
        compare(&real("api-with-examples"), "");
    }
}

#[test]
fn oai_link_example_3_0_yaml_answers_as_prism_does() {
    if !skipped("oai_link_example_3_0_yaml_answers_as_prism_does") {
        compare(&real("link-example"), "");
    }
}

#[test]
fn oai_webhook_example_3_1_json_answers_as_prism_does() {
    if !skipped("oai_webhook_example_3_1_json_answers_as_prism_does") {
        compare(&real("webhook-example"), "");
    }
}

/// OpenAPI 3.1 allows a document of webhooks alone. It was refused ("needs
/// `paths`"). Prism will not start on one ("No operations found"); devenv
/// loads it, says it serves nothing from it, and answers 404.
#[test]
fn a_3_1_document_with_only_webhooks_loads_with_a_warning_where_prism_refuses_it() {
    if skipped("a_3_1_document_with_only_webhooks_loads_with_a_warning_where_prism_refuses_it") {
        return;
    }
    let dir = real("webhooks-only");
    let spec = dir.join("webhook-example.yaml");
    let out = Command::new(Prism::bin())
        .args(["mock", "-h", "127.0.0.1", "-p", &free_port().to_string()])
        .arg(&spec)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No operations found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let env = TestEnv::new().manifest(
        "[project]\nname = \"hooks\"\n[mocks.api]\nport = \"auto\"\nopenapi = \"spec/webhook-example.yaml\"\n",
    );
    std::fs::create_dir_all(env.repo().join("spec")).unwrap();
    std::fs::copy(&spec, env.repo().join("spec/webhook-example.yaml")).unwrap();
    env.run(["validate"])
        .success()
        .stderr_has("spec/webhook-example.yaml:6:1")
        .stderr_has("declares no operation under `paths`");
    let port = free_port();
    let mut ours = Killed(
        env.command(["mock", "serve", "api", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until_alive(
        &mut ours.0,
        Duration::from_secs(60),
        "the mock to answer",
        || common::http_get(&format!("http://127.0.0.1:{port}/__admin/health")).0 == 200,
    );
    let (status, _, _) = http_request(
        "POST",
        &format!("http://127.0.0.1:{port}/newPet"),
        &[("Content-Type", "application/json")],
        r#"{"id": 1, "name": "Rex"}"#,
    );
    assert_eq!(status, 404);
}

#[test]
fn readme_example_groups_named_examples_answer_as_prism_does() {
    if !skipped("readme_example_groups_named_examples_answer_as_prism_does") {
        compare(&real("example-groups"), "");
    }
}

/// The first declared example is the default (not the alphabetically
/// first), `Prefer: example=` chooses within the chosen status, `code=`
/// reaches ranges and `default`, bodies come from schemas as Prism's
/// sampler makes them; with the admin API moved, `/__admin/...` is the
/// spec's.
#[test]
fn prisms_choices_of_response_and_example_are_devenvs() {
    if !skipped("prisms_choices_of_response_and_example_are_devenvs") {
        compare(
            &Path::new(FIXTURES).join("openapi/prism-rules"),
            "admin_prefix = \"/__devenv\"\n",
        );
    }
}
