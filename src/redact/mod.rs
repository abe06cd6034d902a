//! Keeping secret values out of everything devenv says.
//!
//! A `Redactor` knows the secret values of one command and replaces each,
//! and each of its encoded forms (`forms`), with `***` in any text. The
//! session builds one per command, before anything streams, and puts a
//! `RedactingReporter` in front of the printer, so a value quoted by a
//! template engine error, a hook's `echo $TOKEN`, a failed command's stderr
//! or a diff never reaches the terminal. Output that arrives in pieces (a
//! hook's pipes, a container's log) goes through a `StreamRedactor`
//! (`stream`), so a value split across two reads is masked too.
//!
//! It lives in the shared model because every capability that relays
//! someone else's text (render, hooks, logs) needs it.

mod forms;
mod stream;

pub use stream::{LineRedactor, StreamRedactor};

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use crate::diagnostic::Diagnostics;
use crate::progress::{Event, Level, Reporter, Task};

pub const MASK: &str = "***";

/// Shared and growable: secrets found while a run goes on are added to the
/// same redactor the reporter already uses.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    values: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret value, with the encodings a template or a hook is
    /// likely to produce from it (base64, JSON-escaped, URL-encoded,
    /// shell-quoted).
    pub fn add(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut values = self.values.write().expect("redactor lock");
        for f in forms::forms(value) {
            if !values.contains(&f) {
                values.push(f);
            }
        }
        // Longest first, so a value containing another is masked whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.values.read().expect("redactor lock").is_empty()
    }

    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let values = self.values.read().expect("redactor lock");
        redact_with(&values, text)
    }

    /// Where the longest tail of `text` starts that is the beginning of a
    /// form (not all of it): what a stream must hold back until it knows
    /// what follows. `None` when no tail could grow into a form.
    fn partial_start(&self, text: &str) -> Option<usize> {
        let values = self.values.read().expect("redactor lock");
        let longest = values.first().map_or(0, String::len);
        let from = text.len().saturating_sub(longest.saturating_sub(1));
        (from..text.len())
            .filter(|i| text.is_char_boundary(*i))
            .find(|i| {
                let tail = &text[*i..];
                values
                    .iter()
                    .any(|v| v.len() > tail.len() && v.starts_with(tail))
            })
    }

    pub fn redact_diagnostics(&self, mut d: Diagnostics) -> Diagnostics {
        for diag in &mut d.0 {
            diag.message = self.redact(&diag.message).into_owned();
            if let Some(h) = &diag.hint {
                diag.hint = Some(self.redact(h).into_owned());
            }
        }
        d
    }
}

fn redact_with<'a>(values: &[String], text: &'a str) -> Cow<'a, str> {
    if !values.iter().any(|v| text.contains(v.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for v in values {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), MASK);
        }
    }
    Cow::Owned(out)
}

/// A `Reporter` that redacts every message and task label before passing it on.
pub struct RedactingReporter<'a> {
    inner: &'a dyn Reporter,
    redactor: Redactor,
}

impl<'a> RedactingReporter<'a> {
    pub fn new(inner: &'a dyn Reporter, redactor: Redactor) -> Self {
        RedactingReporter { inner, redactor }
    }
}

impl Reporter for RedactingReporter<'_> {
    fn message(&self, level: Level, text: &str) {
        self.inner.message(level, &self.redactor.redact(text));
    }
    fn task(&self, label: &str, total: Option<u64>) -> Box<dyn Task> {
        Box::new(RedactingTask {
            inner: self.inner.task(&self.redactor.redact(label), total),
            redactor: self.redactor.clone(),
        })
    }
    fn event(&self, event: &Event) {
        self.inner.event(event);
    }
}

struct RedactingTask {
    inner: Box<dyn Task>,
    redactor: Redactor,
}

impl Task for RedactingTask {
    fn set_total(&self, total: u64) {
        self.inner.set_total(total);
    }
    fn advance(&self, delta: u64) {
        self.inner.advance(delta);
    }
    fn set_message(&self, message: &str) {
        self.inner.set_message(&self.redactor.redact(message));
    }
    fn finish(&self, ok: bool, message: &str) {
        self.inner.finish(ok, &self.redactor.redact(message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Recorder;
    use base64::Engine as _;

    #[test]
    fn masks_values_and_their_encodings() {
        let r = Redactor::new();
        r.add("s3cr3t'x");
        let b64 = base64::engine::general_purpose::STANDARD.encode("s3cr3t'x");
        let text = format!("a s3cr3t'x b {b64} c 's3cr3t'\\''x'");
        let out = r.redact(&text);
        assert!(!out.contains("s3cr3t"), "{out}");
        assert_eq!(out.matches(MASK).count(), 3, "{out}");
    }

    #[test]
    fn text_without_secrets_is_untouched() {
        let r = Redactor::new();
        r.add("hunter2");
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        r.add("");
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_reporter_sees_only_masked_text() {
        let rec = Recorder::default();
        let r = Redactor::new();
        let rep = RedactingReporter::new(&rec, r.clone());
        // Added after the reporter was made: still masked.
        r.add("pa55word");
        rep.message(Level::Warn, "could not use pa55word");
        let msgs = rec.messages.lock().unwrap();
        assert_eq!(msgs[0].1, format!("could not use {MASK}"));
    }
}
