//! `[[mocks.NAME.routes]]` from devenv.toml (already validated there).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::json;

use super::stable_id;
use super::wiremock::specificity;
use crate::manifest::Mock;
use crate::mocks::path_template::PathTemplate;
use crate::mocks::string_matcher::StringMatcher;
use crate::mocks::stub::{Origin, RequestPattern, ResponseDef, Stub, UrlMatch};

pub fn load(mock: &Mock) -> Vec<Stub> {
    mock.routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut req = RequestPattern {
                method: (r.method != "ANY").then(|| r.method.clone()),
                url: if r.path.contains('{') {
                    UrlMatch::Template(PathTemplate::parse(&r.path))
                } else {
                    UrlMatch::Path(r.path.clone())
                },
                ..Default::default()
            };
            for (k, v) in &r.query {
                req.query.push((
                    k.clone(),
                    StringMatcher::EqualTo {
                        value: v.clone(),
                        case_insensitive: false,
                    },
                ));
            }
            let mut headers: Vec<(HeaderName, HeaderValue)> = r
                .headers
                .iter()
                .filter_map(|(k, v)| {
                    Some((
                        HeaderName::from_bytes(k.as_bytes()).ok()?,
                        HeaderValue::from_str(v).ok()?,
                    ))
                })
                .collect();
            let body = match (&r.json, &r.body) {
                (Some(j), _) => {
                    if !headers.iter().any(|(k, _)| k == CONTENT_TYPE) {
                        headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
                    }
                    Bytes::from(j.to_string())
                }
                (None, Some(b)) => Bytes::from(b.clone()),
                (None, None) => Bytes::new(),
            };
            let source = format!("route {} in devenv.toml ({} {})", i + 1, r.method, r.path);
            let json = json!({
                "request": {"method": r.method, "urlPath": r.path},
                "response": {"status": r.status, "body": String::from_utf8_lossy(&body)},
                "priority": r.priority.unwrap_or(5),
            });
            let id = stable_id(&format!("{}\n{json}", source));
            let mut json = json;
            json["id"] = id.clone().into();
            Stub {
                id,
                name: None,
                source,
                origin: Origin::File,
                priority: r.priority.unwrap_or(5),
                specificity: specificity(&req),
                seq: 0,
                request: req,
                response: ResponseDef {
                    status: r.status,
                    headers: Arc::new(headers),
                    body,
                    delay: r.delay_ms.map(Duration::from_millis),
                    fault: None,
                    template: None,
                },
                scenario: None,
                json,
            }
        })
        .collect()
}
