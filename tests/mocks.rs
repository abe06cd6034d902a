//! The mock server end to end: the real binary serving real fixture files
//! (WireMock mappings, Pact files written by @pact-foundation/pact 17.1.4,
//! an OpenAPI 3.1 spec), called over real sockets. The mocks `up` runs in
//! the background are in mocks_lifecycle.rs.

mod common;

use std::path::Path;
use std::time::Duration;

use common::mock_serve::{http, serve, wiremock_env, FIXTURES, STARTUP};
use common::{copy_dir, http_get, try_http, wait_until_alive, TestEnv};

#[test]
fn wiremock_mappings_round_trip_every_matcher_and_response_feature() {
    let env = wiremock_env();
    let m = serve(&env, "payments");
    let p = m.port;
    let json = [("Accept", "application/json")];

    // urlPathTemplate + headers.contains + templating of path, query and headers.
    let (s, h, b) = http(
        p,
        "GET",
        "/v1/payments/42?expand=items",
        &[("Accept", "application/json"), ("X-Trace", "t-9")],
        "",
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(h.get("x-payment"), Some("42"), "{h}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&b).unwrap(),
        serde_json::json!({"id": "42", "q": "items", "trace": "t-9"})
    );
    // priority 1 + url (path and query exactly) + bodyFileName.
    let (s, _, b) = http(p, "GET", "/v1/payments/p-1?source=file", &json, "");
    assert_eq!(
        (s, b.trim()),
        (200, r#"{"id": "p-1", "amount": 1250, "currency": "EUR"}"#)
    );
    // queryParameters matches / absent, cookies equalTo.
    assert_eq!(
        http(
            p,
            "GET",
            "/v1/search?q=abc",
            &[("Cookie", "a=b; session=s1")],
            ""
        )
        .2,
        "found"
    );
    assert_eq!(
        http(
            p,
            "GET",
            "/v1/search?q=abc&debug=1",
            &[("Cookie", "session=s1")],
            ""
        )
        .0,
        404
    );
    assert_eq!(
        http(
            p,
            "GET",
            "/v1/search?q=ABC",
            &[("Cookie", "session=s1")],
            ""
        )
        .0,
        404
    );
    assert_eq!(http(p, "GET", "/v1/search?q=abc", &[], "").0, 404);
    // equalToJson (ignoreArrayOrder, ignoreExtraElements), matchesJsonPath with a filter and a sub-matcher, jsonPath templating.
    let ct = [("Content-Type", "APPLICATION/JSON")];
    let (s, _, b) = http(
        p,
        "POST",
        "/v1/payments?x=1",
        &ct,
        r#"{"amount": 500, "items": [2, 1], "currency": "EUR", "extra": true}"#,
    );
    assert_eq!((s, b.as_str()), (201, r#"{"id":"EUR-new"}"#));
    assert_eq!(
        http(
            p,
            "POST",
            "/v1/payments",
            &ct,
            r#"{"amount": 501, "items": [2, 1], "currency": "EUR"}"#
        )
        .0,
        404
    );
    assert_eq!(
        http(
            p,
            "POST",
            "/v1/payments",
            &ct,
            r#"{"amount": 500, "items": [2, 1], "currency": "USD"}"#
        )
        .0,
        404
    );
    // urlPathPattern, body contains / doesNotMatch, header doesNotMatch.
    assert_eq!(
        http(
            p,
            "PUT",
            "/v1/notes/7",
            &[("X-Mode", "live")],
            "hello there"
        )
        .0,
        204
    );
    assert_eq!(
        http(
            p,
            "PUT",
            "/v1/notes/7",
            &[("X-Mode", "live")],
            "hello secret"
        )
        .0,
        404
    );
    assert_eq!(
        http(p, "PUT", "/v1/notes/7", &[("X-Mode", "dry-run")], "hello").0,
        404
    );
    assert_eq!(
        http(p, "PUT", "/v1/notes/x", &[("X-Mode", "live")], "hello").0,
        404
    );
    // ANY + base64Body.
    let (s, h, _) = http(p, "DELETE", "/v1/logo", &[], "");
    assert!(s == 200 && h.get("content-length") == Some("8"), "{h}");
    // fixedDelayMilliseconds is honoured (at least the delay).
    let t = std::time::Instant::now();
    assert_eq!(http(p, "GET", "/v1/slow", &[], "").2, "late");
    assert!(t.elapsed() >= Duration::from_millis(300));
    // Inline route from devenv.toml next to the mappings.
    assert_eq!(http(p, "GET", "/v1/health", &[], "").2, r#"{"ok":true}"#);
}

#[test]
fn faults_reset_the_connection_or_answer_nothing() {
    let env = wiremock_env();
    let m = serve(&env, "payments");
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", m.port);
    let reset = try_http("GET", &url("/v1/fault/reset"), &[], "");
    assert!(
        matches!(&reset, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "expected a reset, got {reset:?}"
    );
    let empty = try_http("GET", &url("/v1/fault/empty"), &[], "");
    assert!(
        matches!(&empty, Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "EMPTY_RESPONSE sent {empty:?}"
    );
}

#[test]
fn unmatched_request_gets_404_naming_the_nearest_stubs_and_why() {
    let env = wiremock_env();
    let m = serve(&env, "payments");
    let (s, h, b) = http(
        m.port,
        "GET",
        "/v1/payments/42",
        &[("Accept", "text/html")],
        "",
    );
    assert_eq!(s, 404);
    assert!(
        h.get("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{h}"
    );
    assert!(b.starts_with("No stub matched GET /v1/payments/42"), "{b}");
    assert!(b.contains("\"payment by id\""), "{b}");
    assert!(
        b.contains("header accept: wanted contains \"json\", got \"text/html\""),
        "{b}"
    );
    // The journal knows it was unmatched.
    let (_, _, j) = http(m.port, "GET", "/__admin/requests/unmatched", &[], "");
    assert!(j.contains("/v1/payments/42"), "{j}");
}

#[test]
fn scenario_states_move_and_reset_and_the_journal_counts() {
    let env = wiremock_env();
    let m = serve(&env, "payments");
    let p = m.port;
    assert_eq!(http(p, "GET", "/v1/refunds/status", &[], "").2, "none");
    assert_eq!(http(p, "POST", "/v1/refunds", &[], "").0, 202);
    assert_eq!(http(p, "GET", "/v1/refunds/status", &[], "").2, "refunded");
    // The POST needs state Started: now unmatched.
    assert_eq!(http(p, "POST", "/v1/refunds", &[], "").0, 404);
    let (_, _, sc) = http(p, "GET", "/__admin/scenarios", &[], "");
    assert!(sc.contains(r#""state":"refunded""#), "{sc}");
    assert_eq!(http(p, "POST", "/__admin/scenarios/reset", &[], "").0, 200);
    assert_eq!(http(p, "GET", "/v1/refunds/status", &[], "").2, "none");

    let count = |body: &str| -> u64 {
        let (_, _, b) = http(p, "POST", "/__admin/requests/count", &[], body);
        serde_json::from_str::<serde_json::Value>(&b).unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        count(r#"{"method": "GET", "url": "/v1/refunds/status"}"#),
        3
    );
    assert_eq!(
        count(r#"{"method": "POST", "urlPathPattern": "/v1/refunds"}"#),
        2
    );
    assert_eq!(http(p, "DELETE", "/__admin/requests", &[], "").0, 200);
    assert_eq!(count(r#"{"method": "ANY"}"#), 0);
}

#[test]
fn admin_api_adds_lists_and_removes_mappings_like_wiremock() {
    let env = wiremock_env();
    let m = serve(&env, "payments");
    let p = m.port;
    let (s, _, b) = http(
        p,
        "POST",
        "/__admin/mappings",
        &[],
        r#"{"request": {"method": "GET", "url": "/added"}, "response": {"status": 418, "body": "tea"}}"#,
    );
    assert_eq!(s, 201, "{b}");
    let id = serde_json::from_str::<serde_json::Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(http(p, "GET", "/added", &[], "").0, 418);
    let (_, _, list) = http(p, "GET", "/__admin/mappings", &[], "");
    assert!(list.contains(&id), "{list}");
    assert_eq!(
        http(p, "DELETE", &format!("/__admin/mappings/{id}"), &[], "").0,
        200
    );
    assert_eq!(http(p, "GET", "/added", &[], "").0, 404);
    // A bad stub is refused with the reason.
    let (s, _, b) = http(
        p,
        "POST",
        "/__admin/mappings",
        &[],
        r#"{"request": {"url": "/x", "headers": {"A": {"equalsTo": "1"}}}}"#,
    );
    assert_eq!(s, 422);
    assert!(b.contains("equalsTo"), "{b}");
    // Reset brings the file stubs back.
    assert_eq!(http(p, "DELETE", "/__admin/mappings", &[], "").0, 200);
    assert_eq!(http(p, "GET", "/v1/health", &[], "").0, 404);
    assert_eq!(http(p, "POST", "/__admin/reset", &[], "").0, 200);
    assert_eq!(http(p, "GET", "/v1/health", &[], "").0, 200);
}

fn pact_env(file: &str, state: Option<&str>) -> TestEnv {
    let extra = state
        .map(|s| format!("provider_state = \"{s}\"\n"))
        .unwrap_or_default();
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"p\"\n[mocks.payments]\nport = \"auto\"\npact = \"pacts/{file}\"\n{extra}"
    ));
    std::fs::create_dir_all(env.repo().join("pacts")).unwrap();
    std::fs::copy(
        Path::new(FIXTURES).join("pact").join(file),
        env.repo().join("pacts").join(file),
    )
    .unwrap();
    env
}

#[test]
fn pact_files_of_each_spec_version_serve_their_interactions() {
    for file in [
        "checkout-payments-v2.json",
        "checkout-payments-v3.json",
        "checkout-payments-v4.json",
    ] {
        let env = pact_env(file, None);
        let m = serve(&env, "payments");
        let p = m.port;
        let accept = [("Accept", "application/json")];
        let (s, _, b) = http(p, "GET", "/v1/payments/42", &accept, "");
        assert_eq!(s, 200, "{file}: {b}");
        assert!(b.contains(r#""currency":"EUR""#), "{file}: {b}");
        let state = [
            ("Accept", "application/json"),
            ("X-Pact-Provider-State", "no payments"),
        ];
        let (s, _, b) = http(p, "GET", "/v1/payments/42", &state, "");
        if file.contains("v4") {
            // The v4 fixture has one interaction; another state does not match it.
            assert_eq!(s, 404, "{file}: {b}");
            assert!(b.contains("provider state"), "{b}");
            continue;
        }
        assert_eq!((s, b.as_str()), (404, r#"{"error":"not found"}"#), "{file}");
        let ct = [("Content-Type", "application/json; charset=utf-8")];
        // Matching rules loosen the request: any integer, any 3 capitals, one or more items.
        let body = r#"{"amount": 7, "currency": "USD", "items": [{"sku": "q"}, {"sku": "r"}]}"#;
        let (s, _, b) = http(p, "POST", "/v1/payments?dryRun=true", &ct, body);
        assert_eq!(s, 201, "{file}: {b}");
        assert!(b.contains("created"), "{b}");
        // ...but not beyond them.
        let bad = r#"{"amount": 7.5, "currency": "USD", "items": [{"sku": "q"}]}"#;
        assert_eq!(
            http(p, "POST", "/v1/payments?dryRun=true", &ct, bad).0,
            404,
            "{file}"
        );
        let extra = r#"{"amount": 7, "currency": "USD", "items": [{"sku": "q"}], "x": 1}"#;
        assert_eq!(
            http(p, "POST", "/v1/payments?dryRun=true", &ct, extra).0,
            404,
            "{file}"
        );
        assert_eq!(
            http(p, "POST", "/v1/payments", &ct, body).0,
            404,
            "{file}: query is required"
        );
    }
}

#[test]
fn pact_provider_state_setting_picks_the_interaction() {
    let env = pact_env("checkout-payments-v3.json", Some("no payments"));
    let m = serve(&env, "payments");
    let (s, _, _) = http(
        m.port,
        "GET",
        "/v1/payments/42",
        &[("Accept", "application/json")],
        "",
    );
    assert_eq!(s, 404);
}

#[test]
fn openapi_serves_examples_prefer_picks_others_and_schemas_generate_bodies() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"o\"\n[mocks.pets]\nport = \"auto\"\nopenapi = \"specs/pets.yaml\"\n",
    );
    copy_dir(
        &Path::new(FIXTURES).join("openapi"),
        &env.repo().join("specs"),
    );
    let m = serve(&env, "pets");
    let p = m.port;
    let (s, h, b) = http(p, "GET", "/pets/1", &[], "");
    assert_eq!((s, b.as_str()), (200, r#"{"id":1,"name":"Rex"}"#));
    assert!(
        h.get("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{h}"
    );
    assert_eq!(
        http(p, "GET", "/pets/1", &[("Prefer", "example=tom")], "").2,
        r#"{"id":2,"name":"Tom"}"#
    );
    let (s, _, b) = http(p, "GET", "/pets/1", &[("Prefer", "code=404")], "");
    assert_eq!((s, b.as_str()), (404, r#"{"error":"no such pet"}"#));
    assert_eq!(
        http(p, "GET", "/pets", &[], "").2,
        r#"[{"id":0,"name":"string","tag":"string"}]"#
    );
    assert_eq!(http(p, "POST", "/pets", &[], "").0, 404);
}

#[test]
fn invalid_mock_files_fail_validate_and_up_with_file_line_and_column() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"bad\"\n[mocks.a]\nport = \"auto\"\nwiremock = \"mocks/unknown-matcher.json\"\n\
         [mocks.b]\nport = \"auto\"\nwiremock = \"mocks/syntax.json\"\n[mocks.c]\nport = \"auto\"\nopenapi = \"mocks/broken.yaml\"\n",
    );
    copy_dir(
        &Path::new(FIXTURES).join("invalid"),
        &env.repo().join("mocks"),
    );
    env.run(["validate"])
        .code(2)
        .stderr_has("mocks/unknown-matcher.json:4:28")
        .stderr_has("unknown matcher key `equalsTo`")
        .stderr_has("did you mean `equalTo`?")
        .stderr_has("mocks/syntax.json:3:")
        .stderr_has("mocks/broken.yaml:");
    let j = env.run(["validate", "--json"]).code(2).json();
    assert_eq!(j["valid"], false);
    assert_eq!(j["problems"].as_array().unwrap().len(), 3, "{j}");
    env.run(["up", "--only", "mocks"])
        .code(2)
        .stderr_has("unknown matcher key");
    assert!(
        !env.exists(".devenv/state/mocks.json"),
        "up changed things: {:?}",
        env.repo_files()
    );
}

#[test]
fn changed_mapping_file_is_reloaded_without_a_restart_and_a_broken_one_keeps_the_old_stubs() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"r\"\n[mocks.m]\nport = \"auto\"\nwiremock = \"mocks\"\n");
    env.write(
        "mocks/a.json",
        r#"{"request": {"url": "/v"}, "response": {"body": "one"}}"#,
    );
    let mut m = serve(&env, "m");
    let port = m.port;
    assert_eq!(http(port, "GET", "/v", &[], "").2, "one");
    env.write(
        "mocks/a.json",
        r#"{"request": {"url": "/v"}, "response": {"body": "two!"}}"#,
    );
    wait_until_alive(
        &mut m.child,
        STARTUP,
        "the changed stub to be served",
        || http(port, "GET", "/v", &[], "").2 == "two!",
    );
    env.write(
        "mocks/a.json",
        r#"{"request": {"url": "/v"}, "response": {"body": "#,
    );
    // Give the poller several rounds; the old stubs keep answering.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(http(m.port, "GET", "/v", &[], "").2, "two!");
}

#[test]
fn openapi_3_0_json_generates_bodies_through_refs_allof_and_oneof() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"o3\"\n[mocks.orders]\nport = \"auto\"\nopenapi = \"specs/orders-3.0.json\"\n",
    );
    copy_dir(
        &Path::new(FIXTURES).join("openapi"),
        &env.repo().join("specs"),
    );
    let m = serve(&env, "orders");
    let (s, _, b) = http(m.port, "GET", "/orders/abc", &[], "");
    assert_eq!(s, 200, "{b}");
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        v,
        // Prism's sampler's values (tests/mocks_openapi_reference.rs).
        serde_json::json!({
            "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
            "created": "2019-08-24T14:15:22Z",
            "status": "open",
            "total": 1.5,
            "lines": ["497f6eca-6276-4993-bfeb-53cbbbba6f08"]
        })
    );
    let (s, _, b) = http(m.port, "DELETE", "/orders/abc", &[], "");
    assert_eq!((s, b.as_str()), (204, ""));
}

/// A `urlPathPattern` of `/v2/.*` showed as `//v2/.*/` (slash-delimited)
/// in the 404's nearest stubs (and the request log, which says the same):
/// regexes show as "regex `...`", as written, everywhere.
#[test]
fn a_path_regex_shows_as_written_not_with_doubled_slashes() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"rx\"\n[mocks.p]\nport = \"auto\"\nwiremock = \"mocks/p\"\n")
        .file(
            "mocks/p/m.json",
            r#"{"request": {"method": "GET", "urlPathPattern": "/v2/.*",
                 "headers": {"X-Id": {"matches": "/a/.*"}}},
               "response": {"status": 200}}"#,
        );
    let m = serve(&env, "p");
    let (status, _, body) = http(m.port, "GET", "/v3/x", &[], "");
    assert_eq!(status, 404);
    assert_eq!(
        body,
        "No stub matched GET /v3/x\n\nNearest stubs:\n  1. p/m.json\n     \
         - path /v3/x does not match regex `/v2/.*`\n     \
         - header x-id: wanted matches regex `/a/.*`, got nothing\n"
    );
}

/// A spec whose paths are under `/__admin` was served by the admin API
/// without a word. It is a warning at the path, and `admin_prefix` moves
/// the admin API so the spec's own answer comes back.
#[test]
fn a_spec_under_the_admin_prefix_warns_and_admin_prefix_moves_the_admin_api() {
    let spec = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /__admin/things:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              example: {things: []}\n";
    let env = TestEnv::new()
        .manifest(
            "[project]\nname = \"adm\"\n[mocks.api]\nport = \"auto\"\nopenapi = \"spec.yaml\"\n",
        )
        .file("spec.yaml", spec);
    env.run(["validate"])
        .success()
        .stderr_has("warning: path `/__admin/things` is under the mock's admin API (`/__admin`)")
        .stderr_has("spec.yaml:4:3")
        .stderr_has("admin_prefix = \"/__devenv\"");

    env.write(
        "devenv.toml",
        "[project]\nname = \"adm\"\n[mocks.api]\nport = \"auto\"\nopenapi = \"spec.yaml\"\nadmin_prefix = \"/__devenv\"\n",
    );
    env.run(["validate"]).success().stderr_lacks("warning");
    env.run(["up", "--only", "mocks"]).success();
    let url = common::mock_url(&env, "api");
    assert_eq!(
        http_get(&format!("{url}/__admin/things")).2,
        r#"{"things":[]}"#
    );
    assert_eq!(http_get(&format!("{url}/__devenv/health")).0, 200);
    assert_eq!(http_get(&format!("{url}/__devenv/mappings")).0, 200);
    env.run(["down"]).success();
}

#[test]
fn a_bad_admin_prefix_is_refused_at_its_span() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"adm2\"\n[mocks.api]\nport = \"auto\"\nadmin_prefix = \"__devenv/\"\n[[mocks.api.routes]]\npath = \"/v\"\n",
    );
    env.run(["validate"])
        .code(2)
        .stderr_has("`admin_prefix` must start with `/`")
        .stderr_has("devenv.toml:5:16");
}
