//! The forms a secret takes in text that is not the value itself: what a
//! template filter, a hook's `base64`, `jq`, `curl --data-urlencode` or a
//! shell's quoting makes of it. Each form is masked like the value, so
//! `echo $TOKEN | base64` or `cat config.json` shows no secret either.
//!
//! Base64 is the subtle one: inside a longer encoded text (`cat .env |
//! base64`), the value's encoding depends on where it starts modulo three
//! bytes. For each of the three alignments, the characters that depend only
//! on the value (the "core") are the same wherever it appears, so the cores
//! are masked too (for values long enough that a core is not a common word).

use base64::alphabet::{STANDARD, URL_SAFE};
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD, PAD};
use base64::Engine as _;

/// Values shorter than this get no alignment cores: a core of a few
/// characters would mask unrelated text.
const MIN_CORE_VALUE: usize = 6;

/// Every form of `value` worth masking, the value first; may hold
/// duplicates.
pub fn forms(value: &str) -> Vec<String> {
    let mut out = vec![value.to_string()];
    out.extend(base64_forms(value.as_bytes()));
    out.extend(json_forms(value));
    out.extend(url_forms(value));
    out.push(crate::util::single_quote(value));
    out.retain(|f| !f.is_empty());
    out
}

/// Standard and URL-safe, padded and not, whole and (for each alignment)
/// the core.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for alphabet in [&STANDARD, &URL_SAFE] {
        for config in [PAD, NO_PAD] {
            out.push(GeneralPurpose::new(alphabet, config).encode(bytes));
        }
        if bytes.len() >= MIN_CORE_VALUE {
            let engine = GeneralPurpose::new(alphabet, NO_PAD);
            out.extend((0..3).map(|offset| core(&engine, bytes, offset)));
        }
    }
    out
}

/// The characters of the encoding of `bytes` placed `offset` bytes into a
/// 3-byte group that depend on `bytes` alone.
fn core(engine: &GeneralPurpose, bytes: &[u8], offset: usize) -> String {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(bytes);
    let text = engine.encode(&padded);
    // A character covers 6 bits: skip those that hold a prefix bit, end
    // before one that would hold a bit of what follows the value.
    let skip = (offset * 8).div_ceil(6);
    let end = padded.len() * 8 / 6;
    text[skip..end].to_string()
}

/// Escaped for a JSON string, as serde and JavaScript write it, and with
/// non-ASCII as `\uXXXX`, as Python's `json.dumps` does by default.
fn json_forms(value: &str) -> Vec<String> {
    let Ok(json) = serde_json::to_string(value) else {
        return Vec::new();
    };
    let inner = json[1..json.len() - 1].to_string();
    let mut ascii = String::with_capacity(inner.len());
    for c in inner.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                ascii.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    vec![inner, ascii]
}

/// Percent-encoded: strictly (RFC 3986 unreserved characters kept), as an
/// HTML form does (space as `+`), and as JavaScript's `encodeURIComponent`
/// does (`!'()*` kept too).
fn url_forms(value: &str) -> Vec<String> {
    let encode = |keep: &dyn Fn(u8) -> bool, space_plus: bool| {
        let mut s = String::with_capacity(value.len() * 3);
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep(b) {
                s.push(b as char);
            } else if b == b' ' && space_plus {
                s.push('+');
            } else {
                s.push_str(&format!("%{b:02X}"));
            }
        }
        s
    };
    let strict = encode(&|_| false, false);
    vec![
        lowercase_hex(&strict),
        strict,
        encode(&|_| false, true),
        encode(&|b| b"!'()*".contains(&b), false),
    ]
}

/// `%2f` as well as `%2F`: both are valid and both are written.
fn lowercase_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let end = (i + 3).min(rest.len());
        out.push_str(&rest[i..end].to_ascii_lowercase());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};

    #[test]
    fn every_base64_variant_of_the_value_is_a_form() {
        let v = "tok>?en~~";
        let f = forms(v);
        assert!(f.contains(&B64.encode(v)));
        assert!(f.contains(&B64URL.encode(v)));
    }

    #[test]
    fn a_core_is_found_in_the_encoding_of_any_text_holding_the_value() {
        let v = "s3cr3t-value";
        let f = forms(v);
        for prefix in ["", "T=", "TOKEN=", "A", "AB"] {
            for suffix in ["", "\n", "xy"] {
                let encoded = B64.encode(format!("{prefix}{v}{suffix}"));
                assert!(
                    f.iter()
                        .any(|c| c.len() >= 8 && encoded.contains(c.as_str())),
                    "{prefix:?}+{suffix:?}: {encoded}"
                );
            }
        }
    }

    #[test]
    fn json_and_url_forms() {
        let f = forms("a\"b/ç d");
        for want in [
            r#"a\"b/ç d"#,
            r#"a\"b/\u00e7 d"#,
            "a%22b%2F%C3%A7%20d",
            "a%22b%2f%c3%a7%20d",
            "a%22b%2F%C3%A7+d",
            "'a\"b/ç d'",
        ] {
            assert!(f.iter().any(|x| x == want), "{want} not in {f:?}");
        }
    }

    #[test]
    fn short_values_get_no_cores() {
        assert_eq!(base64_forms(b"abc").len(), 4);
    }
}
