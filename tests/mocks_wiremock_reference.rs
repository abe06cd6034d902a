//! The real WireMock (3.13.2, installed by `tests/support/mock_refs.sh`,
//! run with the machine's Java) as the reference: the same mappings, the
//! same requests, and the same status, reason, headers and body from both
//! servers (`tests/mock_reference`). Real public mapping sets live in
//! `tests/fixtures/mocks/real/wiremock/`, each with its SOURCE and cases.
//!
//! `DEVENV_SKIP_REFERENCE_TESTS=1` skips these tests, visibly.

mod common;
mod mock_reference;

use std::path::Path;

use common::TestEnv;
use mock_reference::{
    check_refusals, compare_all, copy_except, devenv_mock, load_cases, skipped, wiremock,
    wiremock_unmatched, Case, Pair, REAL,
};

const MANIFEST: &str = "[project]\nname = \"ref\"\n[mocks.m]\nport = \"auto\"\nwiremock = \"wm\"\n";

/// One real set: what devenv refuses it refuses at the place and with the
/// reason `cases.json` names; every case on the rest is answered as
/// WireMock answers it.
fn answers_like_wiremock(set: &str) {
    if skipped(&format!("wiremock set {set}")) {
        return;
    }
    let dir = Path::new(REAL).join("wiremock").join(set);
    let cases = load_cases(&dir);
    let env = TestEnv::new().manifest(MANIFEST);
    copy_except(&dir, &env.repo().join("wm"), &[]);
    let mut diffs = check_refusals(&env, "wm", &cases.refused);
    for r in &cases.refused {
        std::fs::remove_file(env.repo().join("wm").join(&r.file)).unwrap();
    }
    let ours = devenv_mock(&env, "m");
    let theirs = wiremock(&env.repo().join("wm"));
    let pair = Pair {
        ours: &ours,
        theirs: &theirs,
        theirs_unmatched: wiremock_unmatched,
        theirs_adds: &[],
    };
    diffs.extend(compare_all(&pair, &cases.cases));
    assert!(
        diffs.is_empty(),
        "devenv and WireMock differ on {set}:\n{}",
        diffs.join("\n")
    );
}

macro_rules! real_sets {
    ($($test:ident => $set:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                answers_like_wiremock($set);
            }
        )*
    };
}

real_sets! {
    open_banking_provisioning_stubs_answer_as_in_wiremock => "wiremock-docker-provisioning",
    a_templated_webhook_reaches_the_same_callback_as_from_wiremock => "wiremock-docker-webhook",
    wiremocks_remote_loader_mappings_answer_as_in_wiremock => "wiremock-remoteloader",
    json_bodies_keep_their_key_order_as_in_wiremock => "wiremock-test-file-root",
    the_wiremock_workshop_answers_as_in_wiremock => "wiremock-workshop",
    a_tutorials_recorded_stubs_answer_as_in_wiremock => "wiremock-framework-tutorial",
    body_files_and_delays_answer_as_in_wiremock => "wiremock-classpath-filesource",
    mappings_with_comments_load_as_in_wiremock => "wiremock-json5-comments",
    several_stubs_in_one_file_answer_as_in_wiremock => "wiremock-multi-stub",
    the_docker_images_sample_answers_as_in_wiremock => "wiremock-docker-hello",
}

fn case(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Case {
    Case {
        method: method.into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
        state: None,
        webhooks: 0,
        why: None,
        body_differs: None,
    }
}

/// devenv's own fixture (every matcher it implements), against WireMock.
#[test]
fn devenv_answers_like_the_real_wiremock_on_the_same_mappings() {
    if skipped("devenv_answers_like_the_real_wiremock_on_the_same_mappings") {
        return;
    }
    // WireMock refuses bare-array files, so the reference root has only the wrapped one.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mocks/wiremock");
    let env = TestEnv::new().manifest(MANIFEST);
    copy_except(
        &fixtures,
        &env.repo().join("wm"),
        &["mappings/scenario.json"],
    );
    let ours = devenv_mock(&env, "m");
    let theirs = wiremock(&env.repo().join("wm"));
    let json = ("Content-Type", "application/json");
    let cases = vec![
        case(
            "GET",
            "/v1/payments/42?expand=items",
            &[("Accept", "application/json"), ("X-Trace", "t")],
            "",
        ),
        case("GET", "/v1/payments/42", &[("Accept", "text/html")], ""),
        case(
            "GET",
            "/v1/payments/p-1?source=file",
            &[("Accept", "application/json")],
            "",
        ),
        case("GET", "/v1/payments/p-1?source=file&x=1", &[], ""),
        case("GET", "/v1/search?q=abc", &[("Cookie", "session=s1")], ""),
        case(
            "GET",
            "/v1/search?q=abc&debug=1",
            &[("Cookie", "session=s1")],
            "",
        ),
        case("GET", "/v1/search?q=ABC", &[("Cookie", "session=s1")], ""),
        case("GET", "/v1/search?q=abc", &[("Cookie", "session=s2")], ""),
        case(
            "POST",
            "/v1/payments",
            &[json],
            r#"{"amount": 500, "items": [2, 1], "currency": "EUR", "x": 1}"#,
        ),
        case(
            "POST",
            "/v1/payments",
            &[json],
            r#"{"amount": 500, "items": [1], "currency": "EUR"}"#,
        ),
        case(
            "POST",
            "/v1/payments",
            &[json],
            r#"{"amount": 500, "items": [2, 1], "currency": "USD"}"#,
        ),
        case(
            "POST",
            "/v1/payments",
            &[("Content-Type", "text/plain")],
            r#"{"amount": 500, "items": [2, 1], "currency": "EUR"}"#,
        ),
        case("PUT", "/v1/notes/12", &[("X-Mode", "live")], "hello"),
        case("PUT", "/v1/notes/12", &[("X-Mode", "dry")], "hello"),
        case("PUT", "/v1/notes/12", &[("X-Mode", "live")], "hello secret"),
        case("PUT", "/v1/notes/abc", &[("X-Mode", "live")], "hello"),
        case("PATCH", "/v1/logo", &[], ""),
        case("GET", "/v1/logo?x=1", &[], ""),
        case("GET", "/nowhere", &[], ""),
    ];
    let pair = Pair {
        ours: &ours,
        theirs: &theirs,
        theirs_unmatched: wiremock_unmatched,
        theirs_adds: &[],
    };
    let diffs = compare_all(&pair, &cases);
    assert!(
        diffs.is_empty(),
        "devenv and WireMock differ:\n{}",
        diffs.join("\n")
    );
}
