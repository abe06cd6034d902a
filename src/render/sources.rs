//! `[config.sources]`: values pulled from an environment that already runs,
//! as a JSON document over HTTP(S) or a Consul KV prefix.
//!
//! Each source's last good answer is cached in
//! `.devenv/state/sources/<name>.json`; `--offline`, or a fetch that fails
//! (with a warning), uses that copy. No copy at all is an error naming the
//! source.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::values::{nested, parse_key, set_path};
use crate::manifest::{SourceKind, ValueSource};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};

/// The token a Consul source sends when it names no `token_env`.
pub const CONSUL_TOKEN_VAR: &str = "CONSUL_HTTP_TOKEN";

#[derive(Debug, thiserror::Error)]
#[error("value source `{name}` is not available: {reason}")]
pub struct SourceError {
    pub name: String,
    pub reason: String,
}

impl SourceError {
    pub fn hint(&self) -> String {
        format!(
            "run once with the network so devenv can cache it (in .devenv/state/sources/{}.json), or remove the source from this environment",
            self.name
        )
    }
}

pub struct FetchOptions<'a> {
    pub offline: bool,
    /// The environment variables named by `token_env` (and only those).
    pub vars: &'a BTreeMap<String, String>,
    /// False for `render --check`, which writes nothing.
    pub write_cache: bool,
}

/// A source's values, ready to layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub name: String,
    pub values: Map<String, Value>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    url: String,
    prefix: Option<String>,
    fetched_at: String,
    values: Value,
}

fn cache_path(paths: &Paths, name: &str) -> std::path::PathBuf {
    paths.state_file(&format!("sources/{name}.json"))
}

/// Fetches every source (in parallel), falling back to the cache.
pub async fn load(
    sources: &[&ValueSource],
    paths: &Paths,
    opts: &FetchOptions<'_>,
    reporter: &dyn Reporter,
) -> Result<Vec<Fetched>, SourceError> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("devenv/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SourceError {
            name: sources.first().map(|s| s.name.clone()).unwrap_or_default(),
            reason: format!("cannot make an HTTP client: {e}"),
        })?;
    let client = &client;
    let fetches = sources.iter().map(|s| async move {
        if opts.offline {
            return (s, Err("--offline".to_string()));
        }
        (s, fetch(client, s, opts.vars, reporter).await)
    });
    let results = futures_util::future::join_all(fetches).await;
    let mut out = Vec::new();
    for (s, result) in results {
        let cache = cache_path(paths, &s.name);
        let raw = match result {
            Ok(values) => {
                reporter.message(
                    Level::Detail,
                    &format!("source `{}`: fetched {}", s.name, shown_url(&s.url)),
                );
                if opts.write_cache {
                    let c = Cached {
                        url: s.url.clone(),
                        prefix: s.prefix.clone(),
                        fetched_at: chrono::Utc::now().to_rfc3339(),
                        values: values.clone(),
                    };
                    let bytes = serde_json::to_vec_pretty(&c).unwrap_or_default();
                    if let Err(e) = crate::state::write_atomic_mode(&cache, &bytes, Some(0o600)) {
                        reporter.message(
                            Level::Warn,
                            &format!("source `{}`: cannot cache it: {e}", s.name),
                        );
                    }
                }
                values
            }
            Err(reason) => {
                let cached: Option<Cached> = std::fs::read(&cache)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .filter(|c: &Cached| c.url == s.url && c.prefix == s.prefix);
                match cached {
                    Some(c) => {
                        if opts.offline {
                            reporter.message(
                                Level::Detail,
                                &format!(
                                    "source `{}`: offline, using the copy from {}",
                                    s.name, c.fetched_at
                                ),
                            );
                        } else {
                            reporter.message(
                                Level::Warn,
                                &format!(
                                    "source `{}`: {reason}; using the copy from {}",
                                    s.name, c.fetched_at
                                ),
                            );
                        }
                        c.values
                    }
                    None => {
                        return Err(SourceError {
                            name: s.name.clone(),
                            reason: if opts.offline {
                                "running offline and nothing is cached for it".into()
                            } else {
                                format!("{reason}, and nothing is cached for it")
                            },
                        })
                    }
                }
            }
        };
        let values = match (&s.key, raw) {
            (Some(k), raw) => match parse_key(k) {
                Ok(path) => nested(&path, raw),
                Err(e) => {
                    return Err(SourceError {
                        name: s.name.clone(),
                        reason: format!("its `key` is not usable: {e}"),
                    })
                }
            },
            (None, Value::Object(m)) => m,
            (None, _) => {
                return Err(SourceError {
                    name: s.name.clone(),
                    reason: "the document is not a JSON object (set `key` to nest it under a name)"
                        .into(),
                })
            }
        };
        out.push(Fetched {
            name: s.name.clone(),
            values,
        });
    }
    Ok(out)
}

/// The URL without any `user:password@`, for messages.
fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

async fn fetch(
    client: &reqwest::Client,
    s: &ValueSource,
    vars: &BTreeMap<String, String>,
    reporter: &dyn Reporter,
) -> Result<Value, String> {
    let token = match &s.token_env {
        // Like the consul CLI: CONSUL_HTTP_TOKEN when nothing else is named.
        None if s.kind == SourceKind::Consul => vars
            .get(CONSUL_TOKEN_VAR)
            .filter(|t| !t.is_empty())
            .cloned(),
        Some(var) => match vars.get(var).filter(|t| !t.is_empty()) {
            Some(t) => Some(t.clone()),
            None => {
                reporter.message(
                    Level::Warn,
                    &format!(
                        "source `{}`: ${var} is not set; asking without a token",
                        s.name
                    ),
                );
                None
            }
        },
        None => None,
    };
    let url = request_url(s)?;
    let mut req = client.get(url.clone()).header("Accept", "application/json");
    if let Some(t) = &token {
        req = match s.kind {
            SourceKind::Consul => req.header("X-Consul-Token", t),
            SourceKind::Http => req.bearer_auth(t),
        };
    }
    let shown = shown_url(url.as_str());
    let resp = req
        .send()
        .await
        .map_err(|e| format!("GET {shown} failed: {}", describe(&e)))?;
    let status = resp.status();
    if s.kind == SourceKind::Consul && status == reqwest::StatusCode::NOT_FOUND {
        return Err(format!(
            "Consul at {} has no keys under `{}`",
            shown_url(&s.url),
            s.prefix.as_deref().unwrap_or("")
        ));
    }
    if !status.is_success() {
        return Err(format!("GET {shown} answered {status}"));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("GET {shown}: reading the answer failed: {}", describe(&e)))?;
    let doc: Value = serde_json::from_slice(&body)
        .map_err(|e| format!("GET {shown}: the answer is not JSON: {e}"))?;
    match s.kind {
        SourceKind::Http => Ok(doc),
        SourceKind::Consul => {
            consul_values(&doc, s.prefix.as_deref().unwrap_or("")).map(Value::Object)
        }
    }
}

/// A reqwest error without its URL (which may carry credentials), with
/// the underlying causes.
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg = format!("{msg}: {text}");
        }
        src = s.source();
    }
    msg
}

fn request_url(s: &ValueSource) -> Result<reqwest::Url, String> {
    let mut url = reqwest::Url::parse(&s.url)
        .map_err(|e| format!("`{}` is not a URL: {e}", shown_url(&s.url)))?;
    if s.kind == SourceKind::Consul {
        let prefix = s.prefix.as_deref().unwrap_or("").trim_matches('/');
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| format!("`{}` cannot have a path", shown_url(&s.url)))?;
            segs.pop_if_empty().extend(["v1", "kv"]);
            segs.extend(prefix.split('/').filter(|p| !p.is_empty()));
        }
        url.query_pairs_mut().append_pair("recurse", "true");
    }
    Ok(url)
}

/// Consul's `GET /v1/kv/<prefix>?recurse=true` answer: an array of
/// `{"Key": "...", "Value": base64 | null, ...}`. Keys below the prefix are
/// split on `/` into nested tables; a value that parses as JSON stays JSON,
/// anything else is text.
pub fn consul_values(doc: &Value, prefix: &str) -> Result<Map<String, Value>, String> {
    let entries = doc
        .as_array()
        .ok_or("Consul's answer is not a list of keys")?;
    let prefix = prefix.trim_matches('/');
    let mut out = Map::new();
    for e in entries {
        let key = e
            .get("Key")
            .and_then(Value::as_str)
            .ok_or("a Consul entry has no `Key`")?;
        let Some(encoded) = e.get("Value").and_then(Value::as_str) else {
            continue; // a folder
        };
        let rel = key
            .strip_prefix(prefix)
            .ok_or_else(|| format!("Consul key `{key}` is not under `{prefix}`"))?;
        if !rel.is_empty() && !prefix.is_empty() && !rel.starts_with('/') {
            // `config/app2` under prefix `config/app`: a sibling, not ours.
            continue;
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| format!("Consul key `{key}`: its value is not base64"))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("Consul key `{key}`: its value is not UTF-8 text"))?;
        let value = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
        let path: Vec<String> = rel
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        if path.is_empty() {
            // The prefix itself holds a document: its keys go at the top.
            if let Value::Object(m) = value {
                for (k, v) in m {
                    out.insert(k, v);
                }
            }
            continue;
        }
        set_path(&mut out, &path, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn consul_keys_nest_on_slashes_and_json_stays_json() {
        let doc = json!([
            {"Key": "config/app/", "Value": null, "Flags": 0},
            {"Key": "config/app/log_level", "Value": b64("debug")},
            {"Key": "config/app/database/pool", "Value": b64("5")},
            {"Key": "config/app/database/hosts", "Value": b64("[\"a\",\"b\"]")},
            {"Key": "config/app/feature", "Value": b64("true")},
            {"Key": "config/app2/other", "Value": b64("x")},
        ]);
        let m = consul_values(&doc, "config/app/").unwrap();
        assert_eq!(
            Value::Object(m),
            json!({
                "log_level": "debug",
                "database": {"pool": 5, "hosts": ["a", "b"]},
                "feature": true,
            })
        );
    }

    #[test]
    fn consul_garbage_is_an_error() {
        assert!(consul_values(&json!({"Key": "x"}), "x").is_err());
        assert!(consul_values(&json!([{"Key": "p/a", "Value": "%%%"}]), "p").is_err());
    }

    #[test]
    fn consul_urls_follow_the_kv_api() {
        let s = ValueSource {
            name: "c".into(),
            kind: SourceKind::Consul,
            url: "http://127.0.0.1:8500/".into(),
            prefix: Some("config/my app/".into()),
            key: None,
            environments: vec![],
            token_env: None,
        };
        assert_eq!(
            request_url(&s).unwrap().as_str(),
            "http://127.0.0.1:8500/v1/kv/config/my%20app?recurse=true"
        );
    }

    #[test]
    fn credentials_in_urls_are_not_shown() {
        assert_eq!(shown_url("https://u:p@h/x"), "https://h/x");
    }
}
