//! Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`,
//! `${VAR-default}`, `${VAR:?error}`, `${VAR:+alt}` and `$$`, resolved from
//! the variables compose would read from the project's `.env` file.

use std::collections::BTreeMap;

/// The interpolated text and the variables that had no value and no default.
pub fn interpolate(text: &str, vars: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut missing = Vec::new();
    let out = expand(text, vars, &mut missing);
    missing.dedup();
    (out, missing)
}

fn expand(text: &str, vars: &BTreeMap<String, String>, missing: &mut Vec<String>) -> String {
    let mut out = String::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let c = bytes[i];
        if c != b'$' {
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') => {
                out.push('$');
                i += 2;
            }
            Some(b'{') => {
                let Some(len) = braced_len(&text[i + 2..]) else {
                    // Unbalanced: compose rejects it; keep the text as written.
                    out.push_str(&text[i..]);
                    break;
                };
                let inner = &text[i + 2..i + 2 + len];
                out.push_str(&braced(inner, vars, missing));
                i += 2 + len + 1;
            }
            Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {
                let name_len = text[i + 1..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(text.len() - i - 1);
                let name = &text[i + 1..i + 1 + name_len];
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => missing.push(name.to_string()),
                }
                i += 1 + name_len;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    out
}

/// Length of the text up to the `}` that closes an opened `${`.
fn braced_len(s: &str) -> Option<usize> {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn braced(inner: &str, vars: &BTreeMap<String, String>, missing: &mut Vec<String>) -> String {
    let name_len = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_len);
    let value = vars.get(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let (kind, arg) = if let Some(a) = op.strip_prefix(":-") {
        ("default-empty", a)
    } else if let Some(a) = op.strip_prefix('-') {
        ("default", a)
    } else if let Some(a) = op.strip_prefix(":?") {
        ("required", a)
    } else if let Some(a) = op.strip_prefix('?') {
        ("required", a)
    } else if let Some(a) = op.strip_prefix(":+") {
        ("alt-empty", a)
    } else if let Some(a) = op.strip_prefix('+') {
        ("alt", a)
    } else {
        ("plain", "")
    };
    match kind {
        "default-empty" if !set_nonempty => expand(arg, vars, missing),
        "default" if value.is_none() => expand(arg, vars, missing),
        "alt-empty" => {
            if set_nonempty {
                expand(arg, vars, missing)
            } else {
                String::new()
            }
        }
        "alt" => {
            if value.is_some() {
                expand(arg, vars, missing)
            } else {
                String::new()
            }
        }
        _ => match value {
            Some(v) => v.clone(),
            None => {
                missing.push(name.to_string());
                String::new()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("TAG", "16"), ("EMPTY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_escapes() {
        let v = vars();
        assert_eq!(interpolate("postgres:${TAG}", &v).0, "postgres:16");
        assert_eq!(interpolate("${NOPE:-7}", &v).0, "7");
        assert_eq!(interpolate("${EMPTY:-x}", &v).0, "x");
        assert_eq!(interpolate("${EMPTY-x}", &v).0, "");
        assert_eq!(interpolate("${NOPE:-${TAG}-alpine}", &v).0, "16-alpine");
        assert_eq!(interpolate("$$HOME and $TAG", &v).0, "$HOME and 16");
        assert_eq!(interpolate("${TAG:+yes}${NOPE:+no}", &v).0, "yes");
    }

    #[test]
    fn unresolvable_variables_are_reported() {
        let (out, missing) = interpolate("a${SECRET}b ${REQ:?set it} $PLAIN", &vars());
        assert_eq!(out, "ab  ");
        assert_eq!(missing, ["SECRET", "REQ", "PLAIN"]);
    }
}
