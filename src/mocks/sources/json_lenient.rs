//! WireMock reads mapping files with Jackson's `ALLOW_COMMENTS` and
//! `ALLOW_SINGLE_QUOTES`: `// line` and `/* block */` comments and
//! `'single-quoted'` strings and keys are fine in a mapping, other JSON5
//! (trailing commas, unquoted keys, `.5`, `#` comments) is refused, as
//! WireMock 3.13 refuses it. This turns such text into strict JSON and keeps
//! a map back to the original offsets, so every problem still points at the
//! line and column of the file as written.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use crate::diagnostic::{offset_of, Diagnostic};

/// A mapping file's text as strict JSON.
pub struct Lenient<'a> {
    pub text: Cow<'a, str>,
    /// (offset in `text`, offset in the source) where the shift between the
    /// two changes; sorted by the first.
    map: Vec<(usize, usize)>,
}

impl<'a> Lenient<'a> {
    pub fn new(src: &'a str) -> Lenient<'a> {
        if !src.contains("//") && !src.contains("/*") && !src.contains('\'') {
            return Lenient {
                text: Cow::Borrowed(src),
                map: Vec::new(),
            };
        }
        let b = src.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(b.len());
        let mut map = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    let end = string_end(b, i, b'"');
                    out.extend_from_slice(&b[i..end]);
                    i = end;
                }
                b'\'' => {
                    out.push(b'"');
                    i += 1;
                    while i < b.len() && b[i] != b'\'' {
                        match b[i] {
                            b'\\' if b.get(i + 1) == Some(&b'\'') => {
                                out.push(b'\'');
                                i += 2;
                                map.push((out.len(), i));
                            }
                            b'\\' if i + 1 < b.len() => {
                                out.extend_from_slice(&b[i..i + 2]);
                                i += 2;
                            }
                            b'"' => {
                                out.extend_from_slice(b"\\\"");
                                i += 1;
                                map.push((out.len(), i));
                            }
                            c => {
                                out.push(c);
                                i += 1;
                            }
                        }
                    }
                    if i < b.len() {
                        out.push(b'"');
                        i += 1;
                    }
                }
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    while i < b.len() && b[i] != b'\n' {
                        out.push(b' ');
                        i += 1;
                    }
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    let Some(len) = src[i + 2..].find("*/") else {
                        // Unterminated: left as is for the parser to report.
                        out.extend_from_slice(&b[i..]);
                        break;
                    };
                    let end = i + 2 + len + 2;
                    for &c in &b[i..end] {
                        out.push(if c == b'\n' || c == b'\r' { c } else { b' ' });
                    }
                    i = end;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        // Only ASCII was replaced by ASCII, so the bytes stay UTF-8.
        let text = String::from_utf8(out).unwrap_or_else(|_| src.to_string());
        Lenient {
            text: Cow::Owned(text),
            map,
        }
    }

    /// The source offset for an offset into `text`.
    pub fn to_source(&self, at: usize) -> usize {
        let i = self.map.partition_point(|(t, _)| *t <= at);
        match i.checked_sub(1).map(|i| self.map[i]) {
            Some((t, s)) => s + (at - t),
            None => at,
        }
    }

    pub fn span_to_source(&self, span: Range<usize>) -> Range<usize> {
        self.to_source(span.start)..self.to_source(span.end)
    }

    /// A syntax error in `text`, reported at its place in `src`.
    pub fn syntax(&self, file: &Path, src: &str, e: &serde_json::Error) -> Diagnostic {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        let at = self.to_source(offset_of(&self.text, e.line(), e.column()));
        let at = at.min(src.len());
        Diagnostic::at(file, src, at..at, format!("invalid JSON: {msg}"))
    }
}

/// The index just past the string starting at `i` (quote `q`).
fn string_end(b: &[u8], i: usize, q: u8) -> usize {
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    (j + 1).min(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_single_quotes_become_json_with_offsets_kept() {
        let src = "{\n  // a note\n  'a': 'it\\'s \"x\"', /* b */ \"c\": \"//not\"\n}";
        let l = Lenient::new(src);
        let v: serde_json::Value = serde_json::from_str(&l.text).unwrap();
        assert_eq!(v["a"], "it's \"x\"");
        assert_eq!(v["c"], "//not");
        let c_in_text = l.text.find("\"c\"").unwrap();
        assert_eq!(&src[l.to_source(c_in_text)..][..3], "\"c\"");
    }

    /// A repository is untrusted input: cut and spliced mapping text with
    /// comments, quotes and multi-byte characters never panics the loader,
    /// and every problem points inside the file.
    #[test]
    fn mutated_mappings_with_comments_never_panic_the_loader() {
        let base = "{\n  // a note: é\n  'request': {'url': '/a', /* x */ \"method\": \"GET\"},\n  \"response\": {\"status\": 200, 'jsonBody': {\"k\": 'v\\'s', \"n\": 1e3}} /* end é */\n}";
        let pieces = [
            "'", "\"", "//", "/*", "*/", "\\", "é", "{", "}", "[", ",", "\n", ":",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for _ in 0..3000 {
            let mut t = base.to_string();
            for _ in 0..1 + next(3) {
                let mut at = next(t.len() + 1);
                while !t.is_char_boundary(at) {
                    at -= 1;
                }
                if next(2) == 0 {
                    t.insert_str(at, pieces[next(pieces.len())]);
                } else {
                    let mut end = (at + 1 + next(4)).min(t.len());
                    while !t.is_char_boundary(end) {
                        end -= 1;
                    }
                    t.replace_range(at..end, "");
                }
            }
            let r = crate::mocks::sources::wiremock::load_text(
                Path::new("m.json"),
                &t,
                Path::new("/nonexistent"),
            );
            if let Err(d) = r {
                let lines = t.matches('\n').count() + 1;
                assert!(d.0.iter().all(|d| d.line <= lines), "{t:?}: {:?}", d.0);
            }
        }
    }

    #[test]
    fn what_wiremock_refuses_stays_refused_at_its_place() {
        let src = "{\"a\": 1,\n  /* x */ \"b\": 2,\n}";
        let l = Lenient::new(src);
        let e = serde_json::from_str::<serde_json::Value>(&l.text).unwrap_err();
        let d = l.syntax(Path::new("m.json"), src, &e);
        assert_eq!((d.line, d.column), (3, 1), "{}", d.message);
    }
}
