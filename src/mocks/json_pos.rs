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
    };
    s.ws();
    s.find(pointer)
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
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
                        return if rest.is_empty() {
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
    }
}
