//! A JSON value as the text a matcher or a template sees: strings without
//! their quotes, everything else as JSON.
//!
//! Its own file because matching, Pact rules and templating all need it, and
//! none of them should have to import another just for this leaf helper.

use serde_json::Value;

/// A JSON value as text: strings without quotes, the rest as JSON.
pub fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
