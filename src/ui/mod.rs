//! The output layer: the only code that writes to stdout/stderr or knows
//! about terminals, colours and progress bars.
//!
//! Data goes to stdout; progress and messages to stderr. Bars and spinners
//! appear only when stderr is a terminal; otherwise each finished task is one
//! plain line. `NO_COLOR`, `-q` and `-v` are honoured here and nowhere else.

pub mod prompt;
pub mod tty;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::diagnostic::Diagnostics;
use crate::error::Error;
use crate::progress::{Level, Reporter, Task};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

#[derive(Debug, Clone)]
pub struct OutputOptions {
    pub verbosity: Verbosity,
    /// False when NO_COLOR is set or stderr is not a terminal.
    pub color: bool,
    /// Whether stderr is a terminal (bars and spinners).
    pub interactive: bool,
    /// Paths under this are shown relative to it.
    pub base: Option<PathBuf>,
    /// `-f FILE` as given (shell-quoted): every `devenv ...` command that a
    /// hint, help line or message suggests gets it, so that it acts on the
    /// same file.
    pub file_flag: Option<String>,
}

impl OutputOptions {
    /// Decides colour and interactivity from the real process environment.
    pub fn detect(verbosity: Verbosity, no_color_env: bool) -> Self {
        let interactive = console::Term::stderr().is_term();
        OutputOptions {
            verbosity,
            color: interactive && !no_color_env,
            interactive,
            base: None,
            file_flag: None,
        }
    }
}

pub struct Printer {
    opts: OutputOptions,
    multi: Option<MultiProgress>,
}

impl Printer {
    pub fn new(opts: OutputOptions) -> Self {
        let multi = (opts.interactive && opts.verbosity > Verbosity::Quiet)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(12)));
        Printer { opts, multi }
    }

    pub fn options(&self) -> &OutputOptions {
        &self.opts
    }

    pub fn set_base(&mut self, base: PathBuf) {
        self.opts.base = Some(base);
    }

    /// A line of data on stdout.
    pub fn data(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }

    /// One JSON document on stdout.
    pub fn json<T: serde::Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        self.data(&text);
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.opts.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// `name  | ` padded to `width`, in the `index`th colour on a terminal,
    /// as `docker compose logs` prefixes interleaved lines.
    pub fn log_prefix(&self, name: &str, width: usize, index: usize) -> String {
        const COLOURS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];
        let text = format!("{name:<width$} |");
        format!("{} ", self.paint(COLOURS[index % COLOURS.len()], &text))
    }

    /// A message line on stderr, above any bars.
    fn line(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    pub fn diagnostics(&self, d: &Diagnostics) {
        for (i, diag) in d.0.iter().enumerate() {
            if i > 0 {
                self.line("");
            }
            self.line(&self.with_help_file(diag));
        }
        if d.len() > 1 {
            self.line(&format!(
                "\n{}",
                self.paint("1;31", &format!("{} problems found", d.len()))
            ));
        }
    }

    /// What to do next, after a warning that is not an error (`render
    /// --check`), shown as an error's hint is.
    pub fn hint(&self, text: &str) {
        let text = self.same_file(text);
        self.line(&format!("  {} {text}", self.paint("1;36", "hint:")));
    }

    /// `text` with `-f FILE` in each suggested `devenv` command that lacks
    /// one: "run `devenv up`" after `devenv -f svc/devenv.toml validate`
    /// would have acted on another file, or on none.
    fn same_file<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        match &self.opts.file_flag {
            Some(file) if text.contains("`devenv ") => {
                std::borrow::Cow::Owned(with_file_flag(text, file))
            }
            _ => std::borrow::Cow::Borrowed(text),
        }
    }

    /// Warnings about a file that is still valid, each with its place in
    /// the file. Shown with `-q` too, like every warning.
    pub fn warnings(&self, d: &[crate::diagnostic::Diagnostic]) {
        for diag in d {
            self.line(&self.with_help_file(diag));
        }
    }

    /// A diagnostic drawn with `-f FILE` in the commands its help suggests
    /// (only there: the quoted source line stays as written).
    fn with_help_file(&self, diag: &crate::diagnostic::Diagnostic) -> String {
        let base = self.opts.base.as_deref();
        match diag.hint.as_deref().map(|h| self.same_file(h)) {
            Some(std::borrow::Cow::Owned(help)) => {
                let mut d = diag.clone();
                d.hint = Some(help);
                d.render(base, self.opts.color)
            }
            _ => diag.render(base, self.opts.color),
        }
    }

    /// An error as the user sees it, with what to do next.
    pub fn error(&self, e: &Error) {
        match e {
            Error::Invalid(d) => self.diagnostics(d),
            Error::Interrupted => {
                self.line(&self.paint("1;33", "interrupted; run the command again to finish"))
            }
            other => {
                self.line(&format!("{} {}", self.paint("1;31", "error:"), other));
                if let Some(h) = other.hint() {
                    self.hint(h);
                }
            }
        }
    }

    fn spinner_style() -> ProgressStyle {
        ProgressStyle::with_template(
            "{spinner:.cyan} {prefix:.bold} {wide_msg:.dim} {elapsed:.dim}",
        )
        .expect("valid template")
    }

    fn bar_style() -> ProgressStyle {
        ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} [{bar:24.cyan/blue}] {bytes}/{total_bytes} {wide_msg:.dim}")
            .expect("valid template")
            .progress_chars("=> ")
    }
}

impl Reporter for Printer {
    fn message(&self, level: Level, text: &str) {
        let show = match level {
            Level::Detail => self.opts.verbosity >= Verbosity::Verbose,
            Level::Warn => true,
            Level::Info | Level::Success => self.opts.verbosity >= Verbosity::Normal,
        };
        if !show {
            return;
        }
        let text = self.same_file(text);
        let text = match level {
            Level::Success => format!("{} {text}", self.paint("32", "✓")),
            Level::Warn => format!("{} {text}", self.paint("1;33", "warning:")),
            Level::Detail => self.dim(&text),
            Level::Info => text.to_string(),
        };
        self.line(&text);
    }

    fn task(&self, label: &str, total: Option<u64>) -> Box<dyn Task> {
        match &self.multi {
            Some(m) => {
                let pb = match total {
                    Some(t) => m.add(ProgressBar::new(t).with_style(Self::bar_style())),
                    None => m.add(ProgressBar::new_spinner().with_style(Self::spinner_style())),
                };
                pb.set_prefix(label.to_string());
                pb.enable_steady_tick(Duration::from_millis(100));
                Box::new(BarTask {
                    pb,
                    color: self.opts.color,
                })
            }
            None => Box::new(LineTask {
                label: label.to_string(),
                quiet: self.opts.verbosity == Verbosity::Quiet,
            }),
        }
    }
}

struct BarTask {
    pb: ProgressBar,
    color: bool,
}

impl Task for BarTask {
    fn set_total(&self, total: u64) {
        self.pb.set_length(total);
        self.pb.set_style(Printer::bar_style());
    }
    fn advance(&self, delta: u64) {
        self.pb.inc(delta);
    }
    fn set_message(&self, message: &str) {
        self.pb.set_message(message.to_string());
    }
    fn finish(&self, ok: bool, message: &str) {
        let mark = match (ok, self.color) {
            (true, true) => "\x1b[32m✓\x1b[0m",
            (true, false) => "✓",
            (false, true) => "\x1b[31m✗\x1b[0m",
            (false, false) => "✗",
        };
        self.pb
            .set_style(ProgressStyle::with_template("{prefix} {msg}").expect("valid template"));
        self.pb.set_prefix(format!("{mark} {}", self.pb.prefix()));
        self.pb.finish_with_message(message.to_string());
    }
}

/// Off a terminal: one line when the task ends, nothing while it runs.
struct LineTask {
    label: String,
    quiet: bool,
}

impl Task for LineTask {
    fn set_total(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn set_message(&self, _: &str) {}
    fn finish(&self, ok: bool, message: &str) {
        if self.quiet && ok {
            return;
        }
        let mark = if ok { "✓" } else { "✗" };
        let _ = writeln!(std::io::stderr().lock(), "{mark} {} {message}", self.label);
    }
}

/// Puts `-f FILE` after `devenv` in every backquoted command of `text`
/// that has none.
fn with_file_flag(text: &str, file: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(at) = rest.find("`devenv ") {
        let (head, tail) = rest.split_at(at + "`devenv ".len());
        out.push_str(head);
        if !tail.starts_with("-f ") {
            out.push_str("-f ");
            out.push_str(file);
            out.push(' ');
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod file_flag_tests {
    use super::with_file_flag;

    #[test]
    fn every_suggested_command_gets_the_file_once() {
        assert_eq!(
            with_file_flag("run `devenv up`, then `devenv logs db`", "svc/devenv.toml"),
            "run `devenv -f svc/devenv.toml up`, then `devenv -f svc/devenv.toml logs db`"
        );
        assert_eq!(
            with_file_flag("run `devenv -f a.toml render --force`", "a.toml"),
            "run `devenv -f a.toml render --force`"
        );
        assert_eq!(
            with_file_flag("no command here", "a.toml"),
            "no command here"
        );
    }
}
