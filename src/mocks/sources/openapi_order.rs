//! The order in which Prism (JavaScript) sees an object's keys: keys that
//! are array indices ("200", "404") first, in ascending order, then the
//! others as written. So a response `"500"` declared before `"400"` comes
//! second, as it does in Prism, while examples keep the file's order.
//!
//! Its own file because both the spec walk and the body sampler use it.

use serde_json::{Map, Value};

/// Whether JavaScript treats `k` as an array index (canonical, < 2^32 - 1).
fn index_key(k: &str) -> Option<u32> {
    let n: u32 = k.parse().ok()?;
    (n != u32::MAX && n.to_string() == k).then_some(n)
}

/// `map`'s entries in JavaScript's `Object.keys` order.
pub fn js_entries(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut indices: Vec<(u32, (&String, &Value))> = Vec::new();
    let mut others = Vec::new();
    for (k, v) in map {
        match index_key(k) {
            Some(n) => indices.push((n, (k, v))),
            None => others.push((k, v)),
        }
    }
    indices.sort_by_key(|(n, _)| *n);
    indices.into_iter().map(|(_, e)| e).chain(others).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_keys_come_first_in_ascending_order() {
        let m: Map<String, Value> =
            serde_json::from_str(r#"{"500": 1, "default": 2, "400": 3, "2XX": 4, "07": 5}"#)
                .unwrap();
        let keys: Vec<&str> = js_entries(&m).iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["400", "500", "default", "2XX", "07"]);
    }
}
