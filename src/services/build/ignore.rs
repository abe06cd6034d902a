//! `.dockerignore`, as the docker CLI reads it (moby's `patternmatcher`),
//! so a context sent by devenv holds exactly the files `docker build`
//! would send, and the hash covers exactly those.
//!
//! The rules: one pattern a line, surrounding whitespace trimmed; a line
//! starting with `#` is a comment; `!` makes an exception (the last
//! matching line wins); patterns are cleaned like paths (`./a/` is `a`, a
//! leading `/` is dropped); `*` and `?` stop at `/`, `[...]` is a class,
//! `\` escapes, `**` matches any number of directories (none included). A
//! pattern that matches a directory matches everything below it.
//!
//! Written here rather than taken from a crate: gitignore crates differ
//! from Docker on exactly these points (a pattern is anchored at the
//! context root, no implicit `**/`, exceptions re-include below an
//! excluded directory), and the matcher is small.

use regex::Regex;

/// The patterns of one `.dockerignore`, in order.
#[derive(Debug, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

#[derive(Debug)]
struct Pattern {
    /// Cleaned, without the `!`.
    text: String,
    exception: bool,
    kind: Kind,
}

/// How a pattern is matched, as moby decides it while compiling: plain
/// text compares, a leading or trailing `**` is a suffix or prefix test,
/// anything else is a regex.
#[derive(Debug)]
enum Kind {
    Exact,
    Prefix(String),
    Suffix(String),
    Regex(Regex),
}

/// A pattern the matcher cannot compile, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(".dockerignore line {line}: `{pattern}` is not a valid pattern{why}")]
pub struct BadPattern {
    pub line: usize,
    pub pattern: String,
    why: String,
}

impl Ignore {
    pub fn parse(text: &str) -> Result<Ignore, BadPattern> {
        let mut patterns = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
            if raw.starts_with('#') {
                continue;
            }
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let bad = |why: &str| BadPattern {
                line: i + 1,
                pattern: line.to_string(),
                why: why.to_string(),
            };
            let (exception, body) = match line.strip_prefix('!') {
                Some(rest) if rest.trim().is_empty() => return Err(bad(": `!` needs a pattern")),
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let mut text = clean(body);
            if text.len() > 1 && text.starts_with('/') {
                text.remove(0);
            }
            let kind = compile(&text).map_err(|e| bad(&regex_reason(&e)))?;
            patterns.push(Pattern {
                text,
                exception,
                kind,
            });
        }
        Ok(Ignore { patterns })
    }

    /// Whether `rel` (context-relative, `/`-separated) is left out: the last
    /// pattern matching it, or one of its parent directories, decides.
    pub fn excludes(&self, rel: &str) -> bool {
        let parents: Vec<&str> = rel.match_indices('/').map(|(i, _)| &rel[..i]).collect();
        let mut excluded = false;
        for p in &self.patterns {
            // Only a pattern that could flip the answer is tried.
            if p.exception != excluded {
                continue;
            }
            if p.matches(rel) || parents.iter().any(|d| p.matches(d)) {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// Whether an excluded directory must still be walked, because an
    /// exception names something below it. The docker CLI's test, prefix
    /// for prefix, so the same files come back in.
    pub fn may_include_below(&self, dir: &str) -> bool {
        let dir = format!("{dir}/");
        self.patterns
            .iter()
            .any(|p| p.exception && format!("{}/", p.text).starts_with(&dir))
    }

    /// Leaves `rel` (and everything below it) out whatever the file says:
    /// for devenv's own `.devenv/`, whose state changes on every `up`.
    pub fn exclude(&mut self, rel: &str) {
        self.patterns.push(Pattern {
            text: rel.to_string(),
            exception: false,
            kind: Kind::Exact,
        });
    }

    /// Makes `rel` always included, as the CLI does for the Dockerfile and
    /// `.dockerignore` itself: the engine needs them (and leaves them out
    /// of `COPY` when they were ignored).
    pub fn keep(&mut self, rel: &str) {
        if self.excludes(rel) {
            self.patterns.push(Pattern {
                text: rel.to_string(),
                exception: true,
                kind: Kind::Exact,
            });
        }
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix(p) => path.starts_with(p.as_str()),
            Kind::Suffix(s) => {
                path.ends_with(s.as_str()) || s.strip_prefix('/').is_some_and(|s| path == s)
            }
            Kind::Regex(r) => r.is_match(path),
        }
    }
}

/// The regex crate's complaint, on one line and in the pattern's terms.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    match last.trim().trim_start_matches("error: ") {
        "unclosed character class" => ": a `[` is not closed".to_string(),
        other => format!(": {other}"),
    }
}

/// Go's `filepath.Clean` on a `/`-separated path: no `.`, no empty parts,
/// `..` folded where it can be, no trailing `/`.
fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            ".." if rooted => {}
            _ => out.push(part),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// moby's `Pattern.compile`: the pattern as a regex, and which cheaper
/// test is equivalent when there is one.
fn compile(pattern: &str) -> Result<Kind, regex::Error> {
    #[derive(PartialEq)]
    enum Seen {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut seen = Seen::Exact;
    let mut re = String::from("^");
    let mut in_class = false;
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let first = i == 0;
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                // `**/` is `**`.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    // A trailing `**` matches everything, like .gitignore.
                    if seen == Seen::Exact {
                        seen = Seen::Prefix;
                    } else {
                        re.push_str(".*");
                        seen = Seen::Regex;
                    }
                } else {
                    // Any number of directories, none included.
                    re.push_str("(.*/)?");
                    seen = Seen::Regex;
                }
                if first {
                    seen = Seen::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                seen = Seen::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                seen = Seen::Regex;
            }
            '\\' => match chars.get(i) {
                Some(next) => {
                    re.push_str(&regex::escape(&next.to_string()));
                    i += 1;
                    seen = Seen::Regex;
                }
                None => re.push_str(r"\\"),
            },
            '[' if !in_class => {
                in_class = true;
                re.push('[');
                seen = Seen::Regex;
            }
            ']' if in_class => {
                in_class = false;
                re.push(']');
            }
            // Inside a class, `-` and a leading `^` keep their meaning; what
            // the regex crate would read as a nested class or set operation
            // is taken literally.
            '-' | '^' if in_class => re.push(c),
            '[' | '&' | '~' if in_class => {
                re.push('\\');
                re.push(c);
            }
            _ => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Ok(match seen {
        Seen::Exact => Kind::Exact,
        Seen::Prefix => Kind::Prefix(pattern[..pattern.len() - 2].to_string()),
        Seen::Suffix => Kind::Suffix(pattern[2..].to_string()),
        Seen::Regex => Kind::Regex(Regex::new(&re)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> Ignore {
        Ignore::parse(text).unwrap()
    }

    #[test]
    fn comments_blank_lines_and_whitespace() {
        let i = ignore("# a comment\n\n  target  \n#node_modules\n");
        assert!(i.excludes("target"));
        assert!(i.excludes("target/debug/app"));
        assert!(!i.excludes("#node_modules"), "a comment, not a pattern");
        assert!(!i.excludes("src/target"), "anchored at the context root");
    }

    #[test]
    fn paths_are_cleaned_and_a_leading_slash_dropped() {
        let i = ignore("/build\n./dist/\nsub/../tmp\n");
        assert!(i.excludes("build"));
        assert!(i.excludes("dist/app.js"));
        assert!(i.excludes("tmp"));
        assert!(!i.excludes("sub/tmp"));
    }

    #[test]
    fn star_and_question_mark_stay_within_a_directory() {
        let i = ignore("*.log\nd?ta\n");
        assert!(i.excludes("app.log"));
        assert!(!i.excludes("logs/app.log"), "`*` does not cross `/`");
        assert!(i.excludes("data"));
        assert!(i.excludes("data/x"));
        assert!(!i.excludes("dta"));
        let nested = ignore("*/*.tmp\n");
        assert!(nested.excludes("a/b.tmp"));
        assert!(!nested.excludes("b.tmp"));
    }

    #[test]
    fn double_star_matches_any_number_of_directories() {
        let i = ignore("**/*.pyc\n");
        assert!(i.excludes("x.pyc"));
        assert!(i.excludes("a/b/c/x.pyc"));
        let mid = ignore("a/**/b\n");
        assert!(mid.excludes("a/b"));
        assert!(mid.excludes("a/x/y/b"));
        assert!(!mid.excludes("a/xb"));
        let suffix = ignore("**/cache\n");
        assert!(suffix.excludes("cache"));
        assert!(suffix.excludes("deep/down/cache/file"));
        assert!(!suffix.excludes("nocache"));
        let all = ignore("**\n!keep\n");
        assert!(all.excludes("anything/at/all"));
        assert!(!all.excludes("keep"));
        let trailing = ignore("logs/**\n");
        assert!(trailing.excludes("logs/a/b"));
    }

    #[test]
    fn the_last_matching_line_wins_and_exceptions_reach_below_excluded_dirs() {
        let i = ignore("*.md\n!README.md\ndocs\n!docs/keep.txt\n");
        assert!(i.excludes("CHANGES.md"));
        assert!(!i.excludes("README.md"));
        assert!(i.excludes("docs/a.txt"));
        assert!(!i.excludes("docs/keep.txt"));
        assert!(i.may_include_below("docs"));
        assert!(!i.may_include_below("src"));
        let again = ignore("!README.md\n*.md\n");
        assert!(again.excludes("README.md"), "order matters");
    }

    #[test]
    fn classes_and_escapes() {
        let i = ignore("file[0-9].txt\n[^a]b\nlit\\*eral\n");
        assert!(i.excludes("file3.txt"));
        assert!(!i.excludes("filex.txt"));
        assert!(i.excludes("xb"));
        assert!(!i.excludes("ab"));
        assert!(i.excludes("lit*eral"));
        assert!(!i.excludes("litXeral"));
        let dots = ignore("a.b\n");
        assert!(!dots.excludes("axb"), "`.` is literal");
    }

    #[test]
    fn bad_patterns_are_reported_with_their_line() {
        let e = Ignore::parse("ok\n!\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Ignore::parse("a\n[unclosed\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert_eq!(
            e.to_string(),
            ".dockerignore line 2: `[unclosed` is not a valid pattern: a `[` is not closed"
        );
    }

    #[test]
    fn the_dockerfile_is_always_sent() {
        let mut i = ignore("Dockerfile*\n.dockerignore\n");
        i.keep("Dockerfile.dev");
        i.keep(".dockerignore");
        assert!(!i.excludes("Dockerfile.dev"));
        assert!(!i.excludes(".dockerignore"));
        assert!(i.excludes("Dockerfile.prod"));
        let mut state = ignore("!.devenv/keep\n");
        state.exclude(".devenv");
        assert!(state.excludes(".devenv/state/ports.json"));
        assert!(state.excludes(".devenv/keep"), "the last word");
        let mut dir = ignore("docker\n");
        dir.keep("docker/Dockerfile");
        assert!(dir.may_include_below("docker"));
        assert!(!dir.excludes("docker/Dockerfile"));
        assert!(dir.excludes("docker/other"));
    }
}
