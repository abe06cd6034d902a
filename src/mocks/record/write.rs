//! What a recording writes: one WireMock mapping file per distinct request
//! under `mappings/`, bodies over 4 KiB or not UTF-8 under `__files/`.

use std::collections::HashSet;
use std::path::Path;

use bytes::Bytes;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{RecordOptions, Recorded};

/// Bodies larger than this go to `__files/`.
pub const INLINE_LIMIT: usize = 4 * 1024;

/// One request seen and its upstream's answer.
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub request_body: Bytes,
    pub status: u16,
    /// Response headers, hop-by-hop ones already gone.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// A header or parameter name that suggests a credential: its value is
/// never written (the same words the request log hides).
pub(super) fn credential_name(name: &str) -> bool {
    crate::mocks::matching::sensitive(name) || name.to_ascii_lowercase().contains("credential")
}

pub(super) fn write(opts: &RecordOptions, seen: Vec<Exchange>) -> Result<Recorded, String> {
    let mut out = Recorded {
        requests: seen.len(),
        mappings: 0,
        body_files: 0,
        notes: Vec::new(),
    };
    let mut keys = HashSet::new();
    for ex in seen {
        let key = (
            ex.method.clone(),
            ex.path.clone(),
            ex.query.clone(),
            ex.request_body.clone(),
        );
        if !keys.insert(key) {
            continue;
        }
        let hash = {
            let mut h = Sha256::new();
            for part in [
                ex.method.as_bytes(),
                ex.path.as_bytes(),
                ex.query.as_deref().unwrap_or("").as_bytes(),
                &ex.request_body,
            ] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part);
            }
            hex::encode(h.finalize())
        };
        let stem = format!(
            "{}-{}-{}",
            ex.method.to_ascii_lowercase(),
            slug(&ex.path),
            &hash[..8]
        );
        let mapping = mapping(opts, &ex, &stem, &hash, &mut out)?;
        let text = serde_json::to_string_pretty(&mapping).map_err(|e| e.to_string())? + "\n";
        put(
            opts,
            &Path::new("mappings").join(format!("{stem}.json")),
            text.as_bytes(),
        )?;
        out.mappings += 1;
    }
    Ok(out)
}

fn put(opts: &RecordOptions, rel: &Path, bytes: &[u8]) -> Result<(), String> {
    let path = opts.dir.join(rel);
    let target = crate::confine::write_target(&opts.root, &path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    crate::state::write_atomic(&target, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// A file-name-safe form of a path: `/v1/payments/42` -> `v1-payments-42`.
fn slug(path: &str) -> String {
    let s: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s: Vec<&str> = s.split('-').filter(|p| !p.is_empty()).collect();
    let s = s.join("-");
    let s: String = s.chars().take(60).collect();
    if s.is_empty() {
        "root".into()
    } else {
        s
    }
}

fn mapping(
    opts: &RecordOptions,
    ex: &Exchange,
    stem: &str,
    hash: &str,
    out: &mut Recorded,
) -> Result<Value, String> {
    let red = &opts.redactor;
    let what = format!("{} {}", ex.method, red.redact(&ex.path));
    let mut request = Map::new();
    request.insert("method".into(), json!(ex.method));
    let path = red.redact(&ex.path);
    if path != ex.path {
        out.notes.push(format!(
            "{what}: the path holds a secret; it is written masked and will not match"
        ));
    }
    request.insert("urlPath".into(), json!(path));
    if let Some(q) = ex.query.as_deref().filter(|q| !q.is_empty()) {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
        let mut params = Map::new();
        for (k, v) in &pairs {
            if params.contains_key(k) {
                out.notes.push(format!(
                    "{what}: query parameter `{k}` repeats; only its first value is matched"
                ));
                continue;
            }
            let hidden = credential_name(k) || red.redact(v) != v.as_str();
            let m = if hidden {
                json!({"matches": ".*"})
            } else {
                json!({"equalTo": v})
            };
            params.insert(k.clone(), m);
        }
        if !params.is_empty() {
            request.insert("queryParameters".into(), Value::Object(params));
        }
    }
    if !ex.request_body.is_empty() {
        match std::str::from_utf8(&ex.request_body) {
            Ok(text) if red.redact(text) != text => {
                out.notes.push(format!(
                    "{what}: the request body holds a secret; any body matches"
                ));
            }
            Ok(text) => {
                let pattern = match serde_json::from_str::<Value>(text) {
                    Ok(v) if v.is_object() || v.is_array() => json!({"equalToJson": v}),
                    _ => json!({"equalTo": text}),
                };
                request.insert("bodyPatterns".into(), json!([pattern]));
            }
            Err(_) => {
                out.notes.push(format!(
                    "{what}: the request body is binary; any body matches"
                ));
            }
        }
    }
    let mut response = Map::new();
    response.insert("status".into(), json!(ex.status));
    let mut headers = Map::new();
    let mut ctype = String::new();
    for (k, v) in &ex.headers {
        let lower = k.to_ascii_lowercase();
        if credential_name(&lower) || lower == "set-cookie" || lower == "date" {
            continue;
        }
        if lower == "content-type" {
            ctype = v.to_ascii_lowercase();
        }
        // A repeated header keeps its first value (WireMock takes a list
        // too, devenv reads one).
        headers
            .entry(k.clone())
            .or_insert_with(|| json!(red.redact(v)));
    }
    if !headers.is_empty() {
        response.insert("headers".into(), Value::Object(headers));
    }
    if !ex.body.is_empty() {
        match std::str::from_utf8(&ex.body) {
            Ok(text) if text.len() <= INLINE_LIMIT => {
                response.insert("body".into(), json!(red.redact(text)));
            }
            as_text => {
                let name = format!("{stem}.{}", extension(&ctype));
                let bytes: Vec<u8> = match as_text {
                    Ok(text) => red.redact(text).into_owned().into_bytes(),
                    Err(_) => ex.body.to_vec(),
                };
                put(opts, &Path::new("__files").join(&name), &bytes)?;
                out.body_files += 1;
                response.insert("bodyFileName".into(), json!(name));
            }
        }
    }
    let id = format!(
        "{}-{}-4{}-8{}-{}",
        &hash[0..8],
        &hash[8..12],
        &hash[13..16],
        &hash[17..20],
        &hash[20..32]
    );
    Ok(json!({
        "id": id,
        "name": format!("recorded: {what}"),
        "request": request,
        "response": response,
    }))
}

fn extension(ctype: &str) -> &'static str {
    let base = ctype.split(';').next().unwrap_or("").trim();
    match base {
        b if b.ends_with("json") => "json",
        "text/html" => "html",
        b if b.ends_with("xml") => "xml",
        b if b.starts_with("text/") => "txt",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_are_recognised() {
        for n in [
            "Authorization",
            "X-Api-Key",
            "api_key",
            "access_token",
            "Cookie",
            "X-Session-Id",
        ] {
            assert!(credential_name(n), "{n}");
        }
        for n in ["Content-Type", "page", "q", "Accept"] {
            assert!(!credential_name(n), "{n}");
        }
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("/v1/payments/42"), "v1-payments-42");
        assert_eq!(slug("/"), "root");
        assert_eq!(slug("/a/../../b"), "a-b");
    }
}
