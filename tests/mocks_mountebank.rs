//! mountebank imposters as a mock source, from the outside: what runs code,
//! proxies or speaks another protocol is refused before anything starts
//! (exit 2, file:line:column, the reason), and a served imposter answers
//! over a real socket. The answers themselves are checked against the real
//! mountebank in mocks_mountebank_reference.rs.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{copy_dir, free_port, http_request, wait_until_alive, TestEnv};

const OWN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/mocks/mountebank"
);
const REAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/mocks/real/mountebank"
);

/// (file, where the refusal points, what it says)
const REFUSED: [(&str, &str, &str); 8] = [
    (
        "inject-predicate.json",
        "5:24",
        "an `inject` predicate runs JavaScript",
    ),
    (
        "inject-response.json",
        "5:23",
        "an `inject` response runs JavaScript",
    ),
    (
        "decorate.json",
        "5:62",
        "the `decorate` behavior runs JavaScript",
    ),
    (
        "shell-transform.json",
        "5:62",
        "the `shellTransform` behavior runs a shell command",
    ),
    (
        "wait-function.json",
        "5:62",
        "a `wait` function runs JavaScript",
    ),
    ("proxy.json", "5:23", "`proxy` responses are not supported"),
    ("tcp.json", "2:3", "protocol tcp is not supported"),
    (
        "xpath-function.json",
        "5:62",
        "the function `substring()` is not supported",
    ),
];

#[test]
fn code_proxies_and_other_protocols_are_refused_with_file_line_and_column() {
    let mut manifest = String::from("[project]\nname = \"mbrefused\"\n");
    for (i, (file, _, _)) in REFUSED.iter().enumerate() {
        manifest.push_str(&format!(
            "[mocks.m{i}]\nport = \"auto\"\nmountebank = \"imposters/{file}\"\n"
        ));
    }
    let env = TestEnv::new().manifest(&manifest);
    copy_dir(
        &Path::new(OWN).join("refused"),
        &env.repo().join("imposters"),
    );
    let mut run = env.run(["validate"]).code(2);
    for (file, at, why) in REFUSED {
        run = run
            .stderr_has(&format!("imposters/{file}:{at}"))
            .stderr_has(why);
    }
    run.stderr_has("devenv never runs code from a repository's mock files");
    let j = env.run(["validate", "--json"]).code(2).json();
    assert_eq!(
        j["problems"].as_array().unwrap().len(),
        REFUSED.len(),
        "{j}"
    );
    env.run(["up", "--only", "mocks"])
        .code(2)
        .stderr_has("runs JavaScript");
    assert!(
        !env.exists(".devenv/state/mocks.json"),
        "up changed things: {:?}",
        env.repo_files()
    );
}

#[test]
fn a_real_imposter_that_injects_javascript_is_refused_where_it_does() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"roadie\"\n[mocks.weather]\nport = 3000\nmountebank = \"imposter.json\"\n");
    std::fs::copy(
        Path::new(REAL).join("in-action-roadie-inject/imposter.json"),
        env.repo().join("imposter.json"),
    )
    .unwrap();
    env.run(["validate"])
        .code(2)
        .stderr_has("imposter.json:7:9")
        .stderr_has("an `inject` predicate runs JavaScript");
}

const TWO_IMPOSTERS: &str = "{\"imposters\": [\n  {\"protocol\": \"http\", \"port\": 4545},\n  {\"protocol\": \"http\", \"port\": 4546}\n]}\n";

#[test]
fn a_mountebank_imposter_cannot_share_its_mock() {
    let env = TestEnv::new()
        .manifest(
            "[project]\nname = \"mbshare\"\n[mocks.a]\nport = \"auto\"\nmountebank = \"two.json\"\nopenapi = \"spec.yaml\"\n",
        )
        .file("spec.yaml", "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
        .file("two.json", TWO_IMPOSTERS);
    env.run(["validate"])
        .code(2)
        .stderr_has("devenv.toml:5:14")
        .stderr_has("cannot share the mock with `openapi`");
}

#[test]
fn of_several_http_imposters_the_one_on_the_mocks_port_is_served_and_else_none() {
    let ambiguous = TestEnv::new()
        .manifest(
            "[project]\nname = \"mbtwo\"\n[mocks.b]\nport = \"auto\"\nmountebank = \"two.json\"\n",
        )
        .file("two.json", TWO_IMPOSTERS);
    ambiguous
        .run(["validate"])
        .code(2)
        .stderr_has("two.json:2:3")
        .stderr_has("2 http imposters (ports 4545, 4546)")
        .stderr_has("set the mock's `port`");
    let chosen = TestEnv::new()
        .manifest(
            "[project]\nname = \"mbtwo\"\n[mocks.b]\nport = 4546\nmountebank = \"two.json\"\n",
        )
        .file("two.json", TWO_IMPOSTERS);
    chosen.run(["validate"]).success();
}

#[test]
fn a_served_imposter_answers_with_its_stubs_and_its_default_response() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"mbserve\"\n[mocks.orders]\nport = 4545\nmountebank = \"imposters/orders.json\"\n",
    );
    copy_dir(
        &Path::new(REAL).join("mb-orders"),
        &env.repo().join("imposters"),
    );
    std::fs::rename(
        env.repo().join("imposters/imposter.json"),
        env.repo().join("imposters/orders.json"),
    )
    .unwrap();
    env.run(["validate"]).success();
    let port = free_port();
    let mut child = env
        .command(["mock", "serve", "orders", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    wait_until_alive(
        &mut child,
        Duration::from_secs(60),
        "the imposter to answer",
        || http_request("GET", &url("/__admin/health"), &[], "").0 == 200,
    );
    let first = http_request("POST", &url("/orders"), &[], "");
    let second = http_request("POST", &url("/orders"), &[], "");
    let third = http_request("POST", &url("/orders"), &[], "");
    let got = http_request("GET", &url("/orders/123"), &[], "");
    let none = http_request("GET", &url("/nowhere"), &[], "");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(first.0, 201);
    assert_eq!(
        first.1.get("location"),
        Some("http://localhost:4545/orders/123")
    );
    assert_eq!(
        second.1.get("location"),
        Some("http://localhost:4545/orders/234")
    );
    assert_eq!(
        third.1.get("location"),
        Some("http://localhost:4545/orders/123")
    );
    assert_eq!((got.0, got.2.as_str()), (200, "Order 123"));
    assert_eq!((none.0, none.2.as_str()), (200, ""));
}

#[test]
fn a_hostile_imposter_file_is_refused_not_followed_or_recursed_into() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"mbhostile\"\n[mocks.a]\nport = \"auto\"\nmountebank = \"deep.json\"\n")
        .file("deep.json", &"[".repeat(100_000));
    env.run(["validate"])
        .code(2)
        .stderr_has("deep.json:1:")
        .stderr_has("nested too deeply");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("imposter.json"),
        "{\"protocol\": \"http\"}",
    )
    .unwrap();
    let linked = TestEnv::new()
        .manifest("[project]\nname = \"mbhostile\"\n[mocks.a]\nport = \"auto\"\nmountebank = \"linked.json\"\n");
    std::os::unix::fs::symlink(
        outside.path().join("imposter.json"),
        linked.repo().join("linked.json"),
    )
    .unwrap();
    linked
        .run(["validate"])
        .code(2)
        .stderr_has("devenv.toml:5:14")
        .stderr_has("outside the repository");
}

#[test]
fn a_changed_imposter_file_is_served_without_a_restart() {
    let one = r#"{"protocol": "http", "stubs": [{"responses": [{"is": {"body": "one"}}]}]}"#;
    let two = r#"{"protocol": "http", "stubs": [{"responses": [{"is": {"body": "two!"}}]}]}"#;
    let env = TestEnv::new()
        .manifest("[project]\nname = \"mbreload\"\n[mocks.m]\nport = \"auto\"\nmountebank = \"imposter.json\"\n")
        .file("imposter.json", one);
    let port = free_port();
    let mut child = env
        .command(["mock", "serve", "m", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/any");
    wait_until_alive(
        &mut child,
        Duration::from_secs(60),
        "the imposter to answer",
        || http_request("GET", &url, &[], "").2 == "one",
    );
    env.write("imposter.json", two);
    wait_until_alive(
        &mut child,
        Duration::from_secs(60),
        "the changed imposter to answer",
        || http_request("GET", &url, &[], "").2 == "two!",
    );
    let _ = child.kill();
    let _ = child.wait();
}
