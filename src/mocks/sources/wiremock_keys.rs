//! The keys a WireMock stub may hold (stub, request, response, matcher
//! objects), the features refused outright, and the check that reports
//! unknown keys with a suggestion.
//!
//! Its own file because the mapping loader (`wiremock`) and its two halves,
//! `wiremock_matchers` and `wiremock_response`, all check keys: with these
//! in `wiremock`, that file and its halves imported each other.

use serde_json::{Map, Value};

use super::Ctx;
use crate::diagnostic::did_you_mean;
use crate::mocks::json_pos::Seg;

pub(super) const STUB_KEYS: &[&str] = &[
    "id",
    "uuid",
    "name",
    "priority",
    "request",
    "response",
    "scenarioName",
    "requiredScenarioState",
    "newScenarioState",
    "metadata",
    "persistent",
    "insertionIndex",
    "postServeActions",
    "serveEventListeners",
];
pub(super) const REQUEST_KEYS: &[&str] = &[
    "method",
    "url",
    "urlPath",
    "urlPattern",
    "urlPathPattern",
    "urlPathTemplate",
    "queryParameters",
    "headers",
    "cookies",
    "bodyPatterns",
    "pathParameters",
];
pub(super) const RESPONSE_KEYS: &[&str] = &[
    "status",
    "statusMessage",
    "headers",
    "body",
    "jsonBody",
    "base64Body",
    "bodyFileName",
    "fixedDelayMilliseconds",
    "fault",
    "transformers",
    "transformerParameters",
];
pub(super) const STRING_MATCHERS: &[&str] = &[
    "equalTo",
    "contains",
    "matches",
    "doesNotMatch",
    "absent",
    "and",
    "or",
];
pub(super) const BODY_MATCHERS: &[&str] = &[
    "equalTo",
    "contains",
    "matches",
    "doesNotMatch",
    "absent",
    "equalToJson",
    "matchesJsonPath",
];
/// WireMock features this server does not implement: refused, not ignored.
const UNSUPPORTED: &[&str] = &[
    "basicAuthCredentials",
    "formParameters",
    "multipartPatterns",
    "customMatcher",
    "host",
    "port",
    "scheme",
    "proxyBaseUrl",
    "delayDistribution",
    "chunkedDribbleDelay",
    "equalToXml",
    "matchesXPath",
    "binaryEqualTo",
    "hasExactly",
    "includes",
    "doesNotContain",
    "before",
    "after",
    "equalToDateTime",
];

pub(super) fn key(at: &[Seg], k: &str) -> Vec<Seg> {
    let mut v = at.to_vec();
    v.push(Seg::Key(k.to_string()));
    v
}

pub(super) fn unknown_keys(
    ctx: &mut Ctx<'_>,
    at: &[Seg],
    obj: &Map<String, Value>,
    known: &[&str],
    what: &str,
) -> bool {
    let mut ok = true;
    for k in obj.keys() {
        if known.contains(&k.as_str()) {
            continue;
        }
        ok = false;
        if UNSUPPORTED.contains(&k.as_str()) {
            ctx.err_hint(
                &key(at, k),
                format!("`{k}` is not supported by devenv's mock server"),
                "remove it, or run the real WireMock for this stub",
            );
        } else {
            let hint = match did_you_mean(k, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("{what} keys are: {}", known.join(", ")),
            };
            ctx.err_hint(&key(at, k), format!("unknown {what} key `{k}`"), hint);
        }
    }
    ok
}
