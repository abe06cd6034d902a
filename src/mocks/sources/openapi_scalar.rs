//! Scalars as `@stoplight/json-schema-sampler` makes them (see
//! `openapi_sample`): numbers from their bounds and `format`, strings by
//! `format` and length, and its deterministic UUIDs.

use serde_json::Value;

/// A JavaScript number as JSON prints it: integers without `.0`.
fn js_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Bool(b) => f64::from(u8::from(*b)),
        v => v.as_f64().unwrap_or(0.0),
    }
}

/// The bounds Prism's spec reader adds for a numeric `format`.
fn format_range(schema: &Value) -> Option<(f64, f64)> {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    match schema.get("format").and_then(Value::as_str)? {
        "int32" => Some((-2_147_483_648.0, 2_147_483_647.0)),
        "int64" => Some((-SAFE, SAFE)),
        "float" => Some((-(2f64.powi(128)), 2f64.powi(128) - 1.0)),
        "double" => Some((-f64::MAX, f64::MAX)),
        _ => None,
    }
}

pub fn number(schema: &Value) -> Value {
    if let Some((lo, _)) = format_range(schema) {
        let given = schema.get("minimum").map_or(lo, |m| match m {
            Value::Null => 0.0,
            m => m.as_f64().unwrap_or(lo),
        });
        return js_number(given.max(lo));
    }
    if let Some(m) = schema.get("minimum") {
        return js_number(num(m));
    }
    if let Some(x) = schema.get("exclusiveMinimum") {
        let mut res = num(x) + 1.0;
        if let Some(max) = schema.get("exclusiveMaximum") {
            if res == num(max) {
                res = (res + num(max) - 1.0) / 2.0;
            }
        }
        return js_number(res);
    }
    if let Some(x) = schema.get("exclusiveMaximum") {
        return js_number(num(x) - 1.0);
    }
    if let Some(m) = schema.get("maximum") {
        return js_number(num(m));
    }
    Value::from(0)
}

pub fn string(schema: &Value, prop: Option<&str>) -> String {
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    let fixed = match schema.get("format").and_then(Value::as_str).unwrap_or("") {
        "email" => "user@example.com",
        "idn-email" => "пользователь@пример.ру",
        "password" => return password(min),
        "date-time" => "2019-08-24T14:15:22Z",
        "date" => "2019-08-24",
        "time" => "14:15:22Z",
        "ipv4" => "192.168.0.1",
        "ipv6" => "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "hostname" => "example.com",
        "idn-hostname" => "пример.ру",
        "iri" => "http://пример.ру",
        "iri-reference" => "../словарь",
        "uri" => "http://example.com",
        "uri-reference" => "../dictionary",
        "uri-template" => "http://example.com/{endpoint}",
        "uuid" => return uuid(prop.unwrap_or("id")),
        "json-pointer" => "/json/pointer",
        "relative-json-pointer" => "1/relative/json/pointer",
        "regex" => "/regex/",
        _ => {
            let mut s = min_length("string", min);
            if let Some(m) = max.filter(|m| *m > 0 && s.chars().count() > *m) {
                s = s.chars().take(m).collect();
            }
            return s;
        }
    };
    fixed.to_string()
}

fn min_length(sample: &str, min: usize) -> String {
    let n = sample.chars().count();
    if min > n {
        sample.chars().cycle().take(min).collect()
    } else {
        sample.to_string()
    }
}

fn password(min: usize) -> String {
    let mut res = "pa$$word".to_string();
    if min > res.len() {
        res.push('_');
        let left = min.saturating_sub(res.len());
        res.extend(min_length("qwerty!@#$%^123456", left).chars().take(left));
    }
    res
}

/// The sampler's deterministic UUID: a hash of the property name seeding
/// a small generator (`jsf32`).
pub fn uuid(seed: &str) -> String {
    let mut hash: i32 = 0;
    for c in seed.encode_utf16() {
        let t = i64::from(hash.wrapping_shl(5)) - i64::from(hash) + i64::from(c);
        hash = t as i32;
    }
    let h = hash as u32;
    let (mut a, mut b, mut c, mut d) = (h, h, h, h);
    let mut random = move || {
        let t = a.wrapping_sub(b.rotate_left(27));
        a = b ^ c.rotate_left(17);
        b = c.wrapping_add(d);
        c = d.wrapping_add(t);
        d = a.wrapping_add(t);
        f64::from(d) / 4_294_967_296.0
    };
    "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
        .chars()
        .map(|ch| match ch {
            'x' | 'y' => {
                let r = ((random() * 16.0) % 16.0) as u32;
                let r = if ch == 'x' { r } else { (r & 0x3) | 0x8 };
                char::from_digit(r, 16).unwrap_or('0')
            }
            other => other,
        })
        .collect()
}
