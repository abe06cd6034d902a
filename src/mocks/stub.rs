//! A compiled stub: what a request must look like and what to answer.
//! Built once per load (matchers pre-compiled, bodies pre-encoded) and shared
//! read-only between connections.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use regex::Regex;
use serde_json::Value;

use super::jsonpath::JsonPath;
use super::pact_rules::Rules;
use super::path_template::PathTemplate;
use super::string_matcher::StringMatcher;
use super::template::Template;
use super::webhook::Webhook;

/// Where a stub came from; file stubs are replaced on reload, admin ones kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    File,
    Admin,
}

#[derive(Debug)]
pub struct Stub {
    pub id: String,
    pub name: Option<String>,
    /// For messages: `mocks/payments/get.json`, `route 1 in devenv.toml`, ...
    pub source: String,
    pub origin: Origin,
    /// Lower wins, like WireMock (default 5).
    pub priority: i64,
    /// Higher wins among equal priorities: exact URLs beat patterns.
    pub specificity: u32,
    /// Insertion order; later wins ties, like WireMock.
    pub seq: u64,
    pub request: RequestPattern,
    pub response: ResponseDef,
    pub scenario: Option<ScenarioRule>,
    /// The stub's JSON (WireMock form) for `GET /__admin/mappings`.
    pub json: Value,
}

#[derive(Debug, Clone)]
pub struct ScenarioRule {
    pub name: String,
    pub required: Option<String>,
    pub new_state: Option<String>,
}

#[derive(Debug, Default)]
pub struct RequestPattern {
    /// Upper case; `None` is ANY.
    pub method: Option<String>,
    pub url: UrlMatch,
    pub query: Vec<(String, StringMatcher)>,
    /// Pact: query parameters not declared are a mismatch.
    pub query_exact: bool,
    pub headers: Vec<(HeaderName, StringMatcher)>,
    /// Pact: headers that differ only make this stub a worse fit, taken
    /// when nothing fits fully (pact-stub-server ranks by headers).
    pub soft_headers: bool,
    pub cookies: Vec<(String, StringMatcher)>,
    /// Matchers on `urlPathTemplate` parameters.
    pub path_params: Vec<(String, StringMatcher)>,
    pub body: Vec<BodyMatcher>,
    /// Pact: the provider states this interaction declares (`Some`, maybe
    /// empty, for every Pact interaction; `None` for other stubs, which a
    /// picked state does not concern). When a state is picked, only the
    /// interactions declaring it answer, as `pact-stub-server` does.
    pub provider_states: Option<Vec<String>>,
}

#[derive(Debug, Default)]
pub enum UrlMatch {
    #[default]
    Any,
    /// Path plus query, exactly (WireMock `url`).
    Url(String),
    /// Path only, exactly (`urlPath`).
    Path(String),
    /// Path plus query against a regex (`urlPattern`).
    Pattern(Regex),
    /// Path only against a regex (`urlPathPattern`).
    PathPattern(Regex),
    /// `/v1/items/{id}` (`urlPathTemplate`, OpenAPI paths).
    Template(PathTemplate),
}

#[derive(Debug)]
pub enum BodyMatcher {
    Text(StringMatcher),
    EqualToJson {
        value: Value,
        ignore_array_order: bool,
        ignore_extra: bool,
    },
    MatchesJsonPath {
        path: JsonPath,
        raw: String,
        sub: Option<StringMatcher>,
    },
    /// `matchesJsonPath` with `equalToJson` on what the path selects.
    JsonPathEqualToJson {
        path: JsonPath,
        raw: String,
        value: Value,
        ignore_array_order: bool,
        ignore_extra: bool,
    },
    /// These bytes exactly (a Pact v4 body `"encoded": "base64"`).
    Binary(Bytes),
    /// A Pact request body, with its matching rules.
    Pact {
        expected: Value,
        rules: Arc<Rules>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    ConnectionReset,
    EmptyResponse,
}

#[derive(Debug)]
pub struct ResponseDef {
    pub status: u16,
    pub headers: Arc<Vec<(HeaderName, HeaderValue)>>,
    pub body: Bytes,
    pub delay: Option<Duration>,
    pub fault: Option<Fault>,
    /// What a WireMock response adds to the above: templating (when
    /// `transformers` asks for `response-template`), the reason phrase,
    /// webhooks. `None` for every other source.
    pub template: Option<ResponseTemplate>,
}

#[derive(Debug, Default)]
pub struct ResponseTemplate {
    pub body: Option<Template>,
    pub headers: Vec<(HeaderName, Template)>,
    /// `statusMessage`: the reason phrase in place of the status's usual one.
    pub reason: Option<String>,
    /// `postServeActions` / `serveEventListeners` webhooks, fired after the answer.
    pub webhooks: Vec<Webhook>,
}

impl ResponseDef {
    pub fn plain(status: u16) -> ResponseDef {
        ResponseDef {
            status,
            headers: Arc::new(Vec::new()),
            body: Bytes::new(),
            delay: None,
            fault: None,
            template: None,
        }
    }
}

impl Stub {
    /// How a stub is named in diagnostics and the request log.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("\"{n}\" ({})", self.source),
            None => self.source.clone(),
        }
    }
}
