//! Redacting text that arrives in pieces: a pipe or a log stream may cut a
//! secret in two (`printf 'hun'; sleep 1; printf 'ter2'`), and each half
//! alone matches nothing.
//!
//! A `StreamRedactor` masks what it has and holds back the tail that could
//! still grow into a secret (the longest tail that begins some form; never
//! more than the longest form minus one byte), until the next piece or the
//! end. It also holds back a UTF-8 sequence cut by a read. A tail that
//! cannot begin a secret is let through at once, so ordinary output is not
//! delayed. `LineRedactor` adds line splitting on top, for output shown
//! line by line.

use super::Redactor;

/// One stream's redaction state.
pub struct StreamRedactor {
    redactor: Redactor,
    /// Redacted text held back: it may be the start of a secret.
    held: String,
    /// The start of a UTF-8 sequence cut by the last read.
    cut: Vec<u8>,
}

impl StreamRedactor {
    pub fn new(redactor: Redactor) -> Self {
        StreamRedactor {
            redactor,
            held: String::new(),
            cut: Vec::new(),
        }
    }

    /// Takes the next piece of text; returns what is safe to show now.
    pub fn push(&mut self, text: &str) -> String {
        let mut all = std::mem::take(&mut self.held);
        all.push_str(text);
        let masked = self.redactor.redact(&all).into_owned();
        match self.redactor.partial_start(&masked) {
            Some(i) => {
                self.held = masked[i..].to_string();
                masked[..i].to_string()
            }
            None => masked,
        }
    }

    /// Takes the next bytes read; invalid UTF-8 is shown as U+FFFD.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> String {
        let mut buf = std::mem::take(&mut self.cut);
        buf.extend_from_slice(bytes);
        let mut text = String::new();
        let mut rest = buf.as_slice();
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    text.push_str(s);
                    break;
                }
                Err(e) => {
                    let (good, after) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        // Cut by the read: the rest comes with the next one.
                        None => {
                            self.cut = after.to_vec();
                            break;
                        }
                        Some(n) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[n..];
                        }
                    }
                }
            }
        }
        self.push(&text)
    }

    /// The stream ended: everything left, redacted.
    pub fn finish(&mut self) -> String {
        let mut all = std::mem::take(&mut self.held);
        if !self.cut.is_empty() {
            all.push_str(&String::from_utf8_lossy(&std::mem::take(&mut self.cut)));
        }
        self.redactor.redact(&all).into_owned()
    }
}

/// A `StreamRedactor` whose output is cut into lines (without their `\n`
/// or `\r\n`).
pub struct LineRedactor {
    stream: StreamRedactor,
    line: String,
}

impl LineRedactor {
    pub fn new(redactor: Redactor) -> Self {
        LineRedactor {
            stream: StreamRedactor::new(redactor),
            line: String::new(),
        }
    }

    /// Takes the next bytes read; calls `emit` for each line completed.
    pub fn push_bytes(&mut self, bytes: &[u8], emit: &mut dyn FnMut(&str)) {
        let safe = self.stream.push_bytes(bytes);
        self.lines(&safe, emit);
    }

    /// Takes the next piece of text; calls `emit` for each line completed.
    pub fn push(&mut self, text: &str, emit: &mut dyn FnMut(&str)) {
        let safe = self.stream.push(text);
        self.lines(&safe, emit);
    }

    /// The stream ended: the last line, if it had no newline.
    pub fn finish(&mut self, emit: &mut dyn FnMut(&str)) {
        let rest = self.stream.finish();
        self.lines(&rest, emit);
        if !self.line.is_empty() {
            emit(std::mem::take(&mut self.line).trim_end_matches('\r'));
        }
    }

    fn lines(&mut self, text: &str, emit: &mut dyn FnMut(&str)) {
        let mut rest = text;
        while let Some(i) = rest.find('\n') {
            self.line.push_str(&rest[..i]);
            emit(std::mem::take(&mut self.line).trim_end_matches('\r'));
            rest = &rest[i + 1..];
        }
        self.line.push_str(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::super::MASK;
    use super::*;

    fn redactor(values: &[&str]) -> Redactor {
        let r = Redactor::new();
        for v in values {
            r.add(v);
        }
        r
    }

    fn run(r: &Redactor, pieces: &[&[u8]]) -> String {
        let mut s = StreamRedactor::new(r.clone());
        let mut out: String = pieces.iter().map(|p| s.push_bytes(p)).collect();
        out.push_str(&s.finish());
        out
    }

    #[test]
    fn a_secret_cut_anywhere_is_masked() {
        let r = redactor(&["hunter2-secret"]);
        let text = b"pw=hunter2-secret;";
        for cut in 0..=text.len() {
            let out = run(&r, &[&text[..cut], &text[cut..]]);
            assert_eq!(out, format!("pw={MASK};"), "cut at {cut}");
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(run(&r, &bytes), format!("pw={MASK};"));
    }

    #[test]
    fn only_a_tail_that_could_be_a_secret_is_held_back() {
        let r = redactor(&["hunter2-secret"]);
        let mut s = StreamRedactor::new(r);
        assert_eq!(s.push("all is well\n"), "all is well\n");
        assert_eq!(s.push("user hunt"), "user ");
        assert_eq!(s.push("ing"), "hunting");
        assert_eq!(s.finish(), "");
    }

    #[test]
    fn a_utf8_character_cut_by_a_read_survives() {
        let r = redactor(&["zzzzzz"]);
        let text = "café ✓".as_bytes();
        for cut in 0..=text.len() {
            assert_eq!(run(&r, &[&text[..cut], &text[cut..]]), "café ✓");
        }
        assert_eq!(run(&r, &[b"a\xffb"]), "a\u{fffd}b");
    }

    #[test]
    fn lines_come_out_whole_and_redacted() {
        let r = redactor(&["top\nsecret"]);
        let mut l = LineRedactor::new(r);
        let mut lines = Vec::new();
        let mut emit = |s: &str| lines.push(s.to_string());
        l.push_bytes(b"one\r\ntwo top", &mut emit);
        l.push_bytes(b"\nsecret three\nfour", &mut emit);
        l.finish(&mut emit);
        assert_eq!(lines, ["one", &format!("two {MASK} three"), "four"]);
    }
}
