//! A problem in a user's file, pinned to `file:line:column`, with the
//! offending line shown and underlined, rustc/just style.
//!
//! Every input format devenv reads (devenv.toml, stack presets, mock mappings,
//! templates) reports through this one type so the output, the JSON shape and
//! the exit code are the same whichever file was wrong.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is about the file as a whole.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip)]
    snippet: Option<Snippet>,
    /// Shown as a warning: the file is still valid.
    #[serde(skip)]
    warning: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Snippet {
    text: String,
    /// Underline start, in characters from the line start.
    start: usize,
    /// Underline width in characters (at least 1).
    width: usize,
}

impl Diagnostic {
    /// A problem at a byte span of `source`, the text of `file`.
    pub fn at(file: &Path, source: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let start = char_floor(source, span.start);
        let end = char_floor(source, span.end.clamp(start, source.len()));
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line = source[..start].matches('\n').count() + 1;
        let text = source[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let col_chars = source[line_start..start].chars().count();
        let width = source[start..end.min(line_end)].chars().count().max(1);
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column: col_chars + 1,
            message: message.into(),
            hint: None,
            snippet: Some(Snippet::around(&text, col_chars, width)),
            warning: false,
        }
    }

    /// A problem at a known line and column (1-based) of `source`.
    pub fn at_line_col(
        file: &Path,
        source: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        let offset = offset_of(source, line, column);
        Self::at(file, source, offset..offset, message)
    }

    /// A problem with a file as a whole (it is missing, unreadable, ...).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
            hint: None,
            snippet: None,
            warning: false,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same problem, said as a warning rather than an error.
    pub fn as_warning(mut self) -> Self {
        self.warning = true;
        self
    }

    pub fn is_warning(&self) -> bool {
        self.warning
    }

    /// `path:line:column`, with `display_base` stripped from the path when it is below it.
    pub fn location(&self, display_base: Option<&Path>) -> String {
        let path = display_path(&self.file, display_base);
        if self.line == 0 {
            path
        } else {
            format!("{path}:{}:{}", self.line, self.column)
        }
    }

    /// The human form, several lines, no trailing newline.
    pub fn render(&self, display_base: Option<&Path>, color: bool) -> String {
        let (red, blue, bold, reset) = if color {
            ("\x1b[1;31m", "\x1b[1;34m", "\x1b[1m", "\x1b[0m")
        } else {
            ("", "", "", "")
        };
        let (red, label) = match (self.warning, color) {
            (true, true) => ("\x1b[1;33m", "warning"),
            (true, false) => ("", "warning"),
            (false, _) => (red, "error"),
        };
        let mut out = String::new();
        let _ = write!(out, "{red}{label}{reset}{bold}: {}{reset}", self.message);
        let loc = self.location(display_base);
        match &self.snippet {
            Some(s) => {
                let num = self.line.to_string();
                let pad = " ".repeat(num.len());
                let _ = write!(out, "\n{pad}{blue}-->{reset} {loc}");
                let _ = write!(out, "\n{pad} {blue}|{reset}");
                let _ = write!(out, "\n{blue}{num} |{reset} {}", s.text);
                let _ = write!(
                    out,
                    "\n{pad} {blue}|{reset} {}{red}{}{reset}",
                    " ".repeat(s.start),
                    "^".repeat(s.width)
                );
                if let Some(h) = &self.hint {
                    let _ = write!(out, "\n{pad} {blue}={reset} {bold}help{reset}: {h}");
                }
            }
            None => {
                let _ = write!(out, "\n  {blue}-->{reset} {loc}");
                if let Some(h) = &self.hint {
                    let _ = write!(out, "\n   {blue}={reset} {bold}help{reset}: {h}");
                }
            }
        }
        out
    }
}

/// The most characters of a line a snippet shows. A minified or hostile
/// file can hold megabytes on one line, and each problem shows its line.
const SNIPPET_CHARS: usize = 160;

impl Snippet {
    /// The line, cut to a window around the underline when it is long.
    fn around(line: &str, start: usize, width: usize) -> Snippet {
        let len = line.chars().count();
        if len <= SNIPPET_CHARS {
            return Snippet {
                text: line.to_string(),
                start,
                width,
            };
        }
        let from = start
            .saturating_sub(SNIPPET_CHARS / 4)
            .min(len - SNIPPET_CHARS);
        let mut text: String = line.chars().skip(from).take(SNIPPET_CHARS).collect();
        let mut start = start - from;
        if from > 0 {
            text.insert(0, '…');
            start += 1;
        }
        let shown = text.chars().count();
        if from + SNIPPET_CHARS < len {
            text.push('…');
        }
        Snippet {
            width: width.min(shown.saturating_sub(start)).max(1),
            text,
            start,
        }
    }
}

/// `at` moved back to the start of the character it falls in (a span from
/// any parser must never split a character and panic the slicing).
fn char_floor(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Several problems, reported together. This is the error a parse or a
/// validation returns, so a user sees every mistake in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

/// The most problems one file reports. Each one costs a scan of the text
/// up to it, so a hostile 4 MiB file of a hundred thousand mistakes would
/// otherwise take minutes; past the first hundred, more tell nobody more.
pub const MAX_PROBLEMS: usize = 100;

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    /// Whether [`MAX_PROBLEMS`] have been recorded: readers stop recording.
    pub fn is_full(&self) -> bool {
        self.0.len() >= MAX_PROBLEMS
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// Sorted by file then position, duplicates removed, so output is stable.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
        });
        self.0.dedup();
        self
    }
    pub fn into_result<T>(self, ok: T) -> Result<T, Diagnostics> {
        if self.is_empty() {
            Ok(ok)
        } else {
            Err(self.sorted())
        }
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", d.location(None), d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// The "did you mean" candidate closest to `word`, if any is close enough.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn display_path(file: &Path, base: Option<&Path>) -> String {
    base.and_then(|b| file.strip_prefix(b).ok())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(file)
        .display()
        .to_string()
}

/// Byte offset of a 1-based line and character column.
pub fn offset_of(source: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(l.trim_end_matches('\n').len(), |(b, _)| b);
            return offset + col;
        }
        offset += l.len();
    }
    source.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_megabyte_line_is_shown_as_a_window_around_the_problem() {
        let src = format!("x = \"{}\" y\n", "a".repeat(1 << 20));
        let at = src.find(" y").unwrap() + 1;
        let d = Diagnostic::at(Path::new("f.toml"), &src, at..at + 1, "here");
        assert_eq!(d.column, (1 << 20) + 8);
        let out = d.render(None, false);
        assert!(out.len() < 1000, "{}", out.len());
        let lines: Vec<&str> = out.lines().collect();
        let col = |line: &str, c: char| line.chars().position(|x| x == c).unwrap();
        assert_eq!(col(lines[4], '^'), col(lines[3], 'y'), "{out}");
        let mid = src.len() / 2;
        let d = Diagnostic::at(Path::new("f.toml"), &src, mid..mid + 3, "middle");
        let out = d.render(None, false);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[3].ends_with('…') && lines[3].contains("| …a"),
            "{out}"
        );
        assert!(lines[4].ends_with("^^^"), "{out}");
    }

    #[test]
    fn a_span_inside_a_character_does_not_panic() {
        let d = Diagnostic::at(Path::new("f"), "é = 1\n", 1..2, "x");
        assert_eq!((d.line, d.column), (1, 1));
    }

    #[test]
    fn points_at_line_and_column() {
        let src = "[project]\nname = 5\n";
        let d = Diagnostic::at(Path::new("devenv.toml"), src, 17..18, "expected a string");
        assert_eq!((d.line, d.column), (2, 8));
        let r = d.render(None, false);
        assert!(r.contains("--> devenv.toml:2:8"), "{r}");
        assert!(r.contains("2 | name = 5"), "{r}");
        assert!(r.contains("  |        ^"), "{r}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "a = \"é\" x\n";
        let off = src.find('x').unwrap();
        let d = Diagnostic::at(Path::new("f"), src, off..off + 1, "m");
        assert_eq!(d.column, 9);
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(did_you_mean("imgae", ["image", "stack"]), Some("image"));
        assert_eq!(did_you_mean("zzz", ["image", "stack"]), None);
    }

    #[test]
    fn offset_round_trips() {
        let src = "one\ntwo\nthree\n";
        assert_eq!(offset_of(src, 2, 2), 5);
        assert_eq!(
            &src[offset_of(src, 3, 1)..offset_of(src, 3, 1) + 5],
            "three"
        );
    }
}
