//! Where a value sits in JSON source text, so a problem found after parsing
//! (an unknown matcher, a missing bodyFileName) points at its key.

/// One step of a pointer: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Byte span of the last pointer step: the key for an object member, the
/// element for an array item. `None` when the text does not have it.
pub fn locate(src: &str, pointer: &[Seg]) -> Option<std::ops::Range<usize>> {
    let mut s = Scan {
        b: src.as_bytes(),
        i: 0,
        value: false,
    };
    s.ws();
    s.find(pointer)
}

/// Byte span of the value the pointer names (for an object member, its
/// value rather than its key).
pub fn locate_value(src: &str, pointer: &[Seg]) -> Option<std::ops::Range<usize>> {
    let mut s = Scan {
        b: src.as_bytes(),
        i: 0,
        value: true,
    };
    s.ws();
    if pointer.is_empty() {
        let start = s.i;
        s.skip()?;
        return Some(start..s.i);
    }
    s.find(pointer)
}

/// Byte spans of the elements of the array the pointer names, found in one
/// scan (so looking into each of many stubs stays linear in the file).
pub fn elements(src: &str, pointer: &[Seg]) -> Option<Vec<std::ops::Range<usize>>> {
    let array = locate_value(src, pointer)?;
    let mut s = Scan {
        b: src.as_bytes(),
        i: array.start,
        value: true,
    };
    if s.b.get(s.i)? != &b'[' {
        return None;
    }
    s.i += 1;
    let mut out = Vec::new();
    loop {
        s.ws();
        match s.b.get(s.i)? {
            b']' => return Some(out),
            b',' => s.i += 1,
            _ => {
                let start = s.i;
                s.skip()?;
                out.push(start..s.i);
            }
        }
    }
}

/// A JSON value's text without whitespace, keys in the order written, the
/// way WireMock (Jackson) writes a `jsonBody` back: strings re-escaped,
/// numbers as written except that an exponent is written out in full
/// (`1e3` is `1000`, as Java's `BigDecimal.toPlainString`).
pub fn compact(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                while *b.get(i)? != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                let s: String = serde_json::from_str(raw.get(start..i)?).ok()?;
                out.push_str(&serde_json::to_string(&s).ok()?);
            }
            c if c.is_ascii_whitespace() => i += 1,
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                out.push_str(&plain_number(&raw[start..i]));
            }
            _ => {
                let start = i;
                i += 1;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                out.push_str(&raw[start..i]);
            }
        }
    }
    Some(out)
}

/// `1.5e2` as `150`, `1e-3` as `0.001`; other numbers as they are.
fn plain_number(n: &str) -> String {
    let Some((mant, exp)) = n.split_once(['e', 'E']) else {
        return n.to_string();
    };
    let Ok(exp) = exp.parse::<i64>() else {
        return n.to_string();
    };
    if exp.unsigned_abs() > 400 {
        return n.to_string();
    }
    let (sign, mant) = match mant.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mant),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 + exp;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    let body = body.trim_start_matches('0');
    let body = if body.is_empty() || body.starts_with('.') {
        format!("0{body}")
    } else {
        body.to_string()
    };
    format!("{sign}{body}")
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    /// Find values rather than keys.
    value: bool,
}

impl<'a> Scan<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn find(&mut self, pointer: &[Seg]) -> Option<std::ops::Range<usize>> {
        let (first, rest) = pointer.split_first()?;
        match (self.b.get(self.i)?, first) {
            (b'{', Seg::Key(want)) => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.b.get(self.i)? == &b'}' {
                        return None;
                    }
                    let start = self.i;
                    let key = self.string()?;
                    let end = self.i;
                    self.ws();
                    if self.b.get(self.i)? != &b':' {
                        return None;
                    }
                    self.i += 1;
                    self.ws();
                    if key == want.as_bytes() {
                        return if rest.is_empty() && self.value {
                            let start = self.i;
                            self.skip()?;
                            Some(start..self.i)
                        } else if rest.is_empty() {
                            Some(start..end)
                        } else {
                            self.find(rest)
                        };
                    }
                    self.skip()?;
                    self.ws();
                    if self.b.get(self.i)? == &b',' {
                        self.i += 1;
                    }
                }
            }
            (b'[', Seg::Index(want)) => {
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    if self.b.get(self.i)? == &b']' {
                        return None;
                    }
                    if n == *want {
                        if rest.is_empty() {
                            let start = self.i;
                            self.skip()?;
                            return Some(start..self.i);
                        }
                        return self.find(rest);
                    }
                    self.skip()?;
                    self.ws();
                    if self.b.get(self.i)? == &b',' {
                        self.i += 1;
                    }
                    n += 1;
                }
            }
            _ => None,
        }
    }

    /// A string's raw bytes between the quotes; leaves `i` after it.
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.b.get(self.i)? != &b'"' {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        while *self.b.get(j)? != b'"' {
            j += if self.b[j] == b'\\' { 2 } else { 1 };
        }
        self.i = j + 1;
        Some(&self.b[start..j])
    }

    fn skip(&mut self) -> Option<()> {
        match self.b.get(self.i)? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.b.get(self.i)? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self.i < self.b.len() && !b",}] \t\r\n".contains(&self.b[self.i]) {
                    self.i += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_elements() {
        let src = r#"{"mappings": [ {"a": 1}, {"request": {"url": "/x", "bodyPatterns": [{"nope": 1}]}} ]}"#;
        let p = [
            Seg::Key("mappings".into()),
            Seg::Index(1),
            Seg::Key("request".into()),
            Seg::Key("bodyPatterns".into()),
            Seg::Index(0),
            Seg::Key("nope".into()),
        ];
        let r = locate(src, &p).unwrap();
        assert_eq!(&src[r], "\"nope\"");
        assert!(locate(src, &[Seg::Key("zzz".into())]).is_none());
        let v = locate_value(src, &p[..4]).unwrap();
        assert_eq!(&src[v], "[{\"nope\": 1}]");
        let e = elements(src, &p[..1]).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(&src[e[0].clone()], "{\"a\": 1}");
    }

    #[test]
    fn compact_keeps_key_order_and_writes_numbers_out() {
        let raw = "{ \"z\": 1,\n \"a\": [1.0, 1e3, -1.5E-2, 12.5e1], \"s\": \"\\u00e9\\/x\" }";
        assert_eq!(
            compact(raw).unwrap(),
            "{\"z\":1,\"a\":[1.0,1000,-0.015,125],\"s\":\"é/x\"}"
        );
    }
}
