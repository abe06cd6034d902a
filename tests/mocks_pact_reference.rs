//! pact-stub-server (0.7.1, from the npm package `@pact-foundation/pact-cli`,
//! installed by `tests/support/mock_refs.sh`) as the reference for Pact
//! files: the same pact, the same requests (a provider state picked with
//! the `X-Pact-Provider-State` header on both sides, or one state for the
//! whole mock as devenv.toml's `provider_state` and pact-stub-server's
//! `--provider-state`), the same status, headers and body. Real public pact
//! files, v1 to v4, live in `tests/fixtures/mocks/real/pact/`, each with its
//! SOURCE and cases.
//!
//! `DEVENV_SKIP_REFERENCE_TESTS=1` skips these tests, visibly.

mod common;
mod mock_reference;

use std::path::Path;

use common::TestEnv;
use mock_reference::{
    compare_all, copy_except, devenv_mock, load_cases, pact_stub_server, pact_unmatched, skipped,
    Pair, PACT_STUB_SERVER_ADDS, REAL,
};

/// One real pact: every case answered as pact-stub-server answers it.
fn answers_like_pact_stub_server(set: &str) {
    if skipped(&format!("pact set {set}")) {
        return;
    }
    let dir = Path::new(REAL).join("pact").join(set);
    let cases = load_cases(&dir);
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| n.ends_with(".json") && n != "cases.json")
        .unwrap_or_else(|| panic!("{set} has no pact file"));
    let state = cases
        .provider_state
        .as_ref()
        .map(|s| format!("provider_state = {s:?}\n"))
        .unwrap_or_default();
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"ref\"\n[mocks.m]\nport = \"auto\"\npact = \"p/{file}\"\n{state}"
    ));
    copy_except(&dir, &env.repo().join("p"), &[]);
    let ours = devenv_mock(&env, "m");
    let theirs = pact_stub_server(
        &env.repo().join("p").join(&file),
        cases.provider_state.as_deref(),
    );
    let pair = Pair {
        ours: &ours,
        theirs: &theirs,
        theirs_unmatched: pact_unmatched,
        theirs_adds: PACT_STUB_SERVER_ADDS,
    };
    let diffs = compare_all(&pair, &cases.cases);
    assert!(
        diffs.is_empty(),
        "devenv and pact-stub-server differ on {set}:\n{}",
        diffs.join("\n")
    );
}

macro_rules! real_pacts {
    ($($test:ident => $set:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                answers_like_pact_stub_server($set);
            }
        )*
    };
}

real_pacts! {
    a_v1_pact_answers_as_pact_stub_server => "pact-jvm-v1",
    v1_snake_case_provider_states_pick_as_in_pact_stub_server => "pact-jvm-zoo-app-v1-states",
    one_state_for_the_whole_mock_serves_as_pact_stub_server => "pact-jvm-zoo-app-fixed-state",
    a_v2_provider_state_in_snake_case_is_read => "pact-support-v2-snake-state",
    a_repeated_query_parameter_matches_as_in_pact_stub_server => "pact-jvm-v2-repeated-query",
    encoded_v2_queries_match_as_in_pact_stub_server => "pact-reference-v2-encoded-query",
    v2_bodies_match_exactly_as_in_pact_stub_server => "pact-stub-server-v2-bodies",
    a_v3_path_regex_and_type_rule_match_as_in_pact_stub_server => "pact-stub-server-v3-path-regex",
    v3_query_maps_match_as_in_pact_stub_server => "pact-stub-server-v3-query-params",
    any_of_several_v3_states_picks_as_in_pact_stub_server => "pact-reference-v3-states",
    a_v4_binary_body_is_served_byte_for_byte => "pact-jvm-v4-binary",
    v4_http_beside_message_interactions_answers_as_pact_stub_server => "pact-jvm-v4-combined",
}
