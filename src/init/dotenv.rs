//! `.env`-style files (compose `env_file`, `.env.example`): `KEY=value`
//! lines, `export KEY=value`, comments, single and double quotes, as
//! docker compose reads them.

/// One meaningful line of a dotenv file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotenvLine {
    /// A comment or blank line, kept for templates.
    Comment(String),
    Var {
        key: String,
        value: String,
        /// The value was written in double quotes.
        quoted: bool,
    },
    /// A line that is neither; kept so it can be reported.
    Invalid { line: usize, text: String },
}

pub fn parse(text: &str) -> Vec<DotenvLine> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, raw)) = lines.next() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            out.push(DotenvLine::Comment(raw.trim_end().to_string()));
            continue;
        }
        let body = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, rest)) = body.split_once('=') else {
            out.push(DotenvLine::Invalid {
                line: i + 1,
                text: raw.to_string(),
            });
            continue;
        };
        let key = key.trim();
        if !valid_key(key) {
            out.push(DotenvLine::Invalid {
                line: i + 1,
                text: raw.to_string(),
            });
            continue;
        }
        let rest = rest.trim_start();
        let (value, quoted) = if let Some(r) = rest.strip_prefix('"') {
            // Double-quoted values may span lines and know a few escapes.
            let mut value = String::new();
            let mut text = r.to_string();
            loop {
                if let Some(v) = take_double_quoted(&text) {
                    value.push_str(&v);
                    break;
                }
                match lines.next() {
                    Some((_, more)) => {
                        text.push('\n');
                        text.push_str(more);
                    }
                    None => {
                        value.push_str(&text);
                        break;
                    }
                }
            }
            (value, true)
        } else if let Some(r) = rest.strip_prefix('\'') {
            (r.split_once('\'').map_or(r, |(v, _)| v).to_string(), false)
        } else {
            // Unquoted: an inline comment starts at " #".
            let v = match rest.find(" #") {
                Some(i) => &rest[..i],
                None => rest,
            };
            (v.trim_end().to_string(), false)
        };
        out.push(DotenvLine::Var {
            key: key.to_string(),
            value,
            quoted,
        });
    }
    out
}

/// The variables only, later ones winning, in first-seen order.
pub fn vars(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for l in parse(text) {
        if let DotenvLine::Var { key, value, .. } = l {
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => out.push((key, value)),
            }
        }
    }
    out
}

/// A dotenv file read as Compose reads `.env` and `env_file` (compose-go's
/// dotenv): `KEY=value`, `KEY: value`, `export KEY=value`, a bare `KEY`
/// (taken from `lookup`, or left out), comments at " #", single quotes
/// literal, double quotes with escapes, and `${VAR}` expanded in unquoted
/// and double-quoted values: first from `lookup`, then from the keys above.
/// Later keys win. `Err` is (line, message).
pub(crate) fn resolve(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut line = 1;
    let mut rest = text;
    loop {
        // The start of a statement: past blank space and comment lines.
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace());
        line += rest[..rest.len() - trimmed.len()].matches('\n').count();
        rest = trimmed;
        if rest.is_empty() {
            break;
        }
        if rest.starts_with('#') {
            match rest.find('\n') {
                Some(i) => {
                    rest = &rest[i..];
                    continue;
                }
                None => break,
            }
        }
        if let Some(r) = rest.strip_prefix("export") {
            if r.starts_with([' ', '\t']) {
                rest = r.trim_start_matches([' ', '\t']);
            }
        }
        let mut end = None;
        for (i, c) in rest.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    end = Some((i, c));
                    break;
                }
                c if c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']') => {}
                c => return Err((line, format!("unexpected character {c:?} in variable name"))),
            }
        }
        let Some((i, term)) = end else {
            // A last bare key without a newline.
            let key = rest.trim_end().to_string();
            if let Some(v) = lookup(&key) {
                put(&mut out, key, v);
            }
            break;
        };
        let key = rest[..i].trim_end().to_string();
        if key.contains(' ') {
            return Err((line, "key cannot contain a space".into()));
        }
        rest = rest[i + 1..].trim_start_matches(is_space);
        if term == '\n' {
            line += 1;
            if let Some(v) = lookup(&key) {
                put(&mut out, key, v);
            }
            continue;
        }
        let known = |k: &str| {
            lookup(k).or_else(|| out.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone()))
        };
        let expand = |v: &str, line: usize| {
            crate::init::compose::interpolate(v, &known)
                .map(|(s, _)| s)
                .map_err(|e| (line, e.to_string()))
        };
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let Some((raw, after)) = quoted(&rest[1..], q) else {
                    return Err((line, "unterminated quoted value".into()));
                };
                line += raw.matches('\n').count();
                rest = after;
                if q == '"' {
                    expand(&escapes(&raw), line)?
                } else {
                    raw
                }
            }
            _ => {
                let (v, after) = rest.split_once('\n').unwrap_or((rest, ""));
                rest = after;
                line += 1;
                let v = v.split(" #").next().unwrap_or("").trim_end();
                expand(v, line - 1)?
            }
        };
        put(&mut out, key, value);
    }
    Ok(out)
}

fn put(out: &mut Vec<(String, String)>, key: String, value: String) {
    match out.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => out.push((key, value)),
    }
}

fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// Up to the closing quote; an escaped quote loses its backslash, any
/// other escape keeps it (for `escapes`).
fn quoted(s: &str, q: char) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            if c != q {
                out.push('\\');
            }
            out.push(c);
            continue;
        }
        match c {
            '\\' => escaped = true,
            c if c == q => return Some((out, &s[i + c.len_utf8()..])),
            c => out.push(c),
        }
    }
    None
}

/// The escapes of a double-quoted value: `\n \r \t \a \b \f \v \\ \"`,
/// and `\$` for a literal `$` (written `$$` for the expansion after it).
fn escapes(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let next = chars.peek().copied();
        let rep = match next {
            Some('n') => "\n",
            Some('r') => "\r",
            Some('t') => "\t",
            Some('a') => "\u{7}",
            Some('b') => "\u{8}",
            Some('f') => "\u{c}",
            Some('v') => "\u{b}",
            Some('\\') => "\\",
            Some('"') => "\"",
            Some('$') => "$$",
            _ => {
                out.push('\\');
                continue;
            }
        };
        chars.next();
        out.push_str(rep);
    }
    out
}

fn take_double_quoted(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(c) => out.push(c),
                None => return None,
            },
            c => out.push(c),
        }
    }
    None
}

pub(crate) fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_compose_accepts() {
        let text = "# db\nexport A=1\nB = two words # note\nC=\"x \\\"y\\\"\\nz\"\nD='$raw'\nE=\nnot a var\n";
        let v = vars(text);
        assert_eq!(
            v,
            [
                ("A".to_string(), "1".to_string()),
                ("B".into(), "two words".into()),
                ("C".into(), "x \"y\"\nz".into()),
                ("D".into(), "$raw".into()),
                ("E".into(), "".into()),
            ]
        );
        assert!(parse(text)
            .iter()
            .any(|l| matches!(l, DotenvLine::Invalid { line: 7, .. })));
    }

    #[test]
    fn double_quotes_may_span_lines() {
        let v = vars("KEY=\"-----BEGIN\nabc\n-----END\"\nNEXT=1\n");
        assert_eq!(v[0].1, "-----BEGIN\nabc\n-----END");
        assert_eq!(v[1], ("NEXT".into(), "1".into()));
    }

    #[test]
    fn values_are_expanded_as_compose_expands_them() {
        let text = "# c\nexport EX=1\nA=1\nB=${A}2 # note\nC=\"${A} \\n ${NOPE:-d}\"\nD='${A}'\nE=${LATER}\nLATER=late\nG=a#b\nI = spaced\nW: colon\nINHERIT\nJ=${A:+alt}\nU=\"a\\\"b\\\\c\\$d\"\nT='a\\'b'\nH=\"multi\nline\"\nX=file\nY=${X}\n";
        let env = |k: &str| match k {
            "INHERIT" => Some("from-env".to_string()),
            "X" => Some("host".to_string()),
            _ => None,
        };
        let v: std::collections::BTreeMap<String, String> =
            resolve(text, &env).unwrap().into_iter().collect();
        let get = |k: &str| v.get(k).map(String::as_str);
        assert_eq!(get("EX"), Some("1"));
        assert_eq!(get("B"), Some("12"));
        assert_eq!(get("C"), Some("1 \n d"));
        assert_eq!(get("D"), Some("${A}"));
        assert_eq!(get("E"), Some(""), "later keys are not seen yet");
        assert_eq!(get("G"), Some("a#b"));
        assert_eq!(get("I"), Some("spaced"));
        assert_eq!(get("W"), Some("colon"));
        assert_eq!(get("INHERIT"), Some("from-env"));
        assert_eq!(get("J"), Some("alt"));
        assert_eq!(get("U"), Some("a\"b\\c$d"));
        assert_eq!(get("T"), Some("a'b"));
        assert_eq!(get("H"), Some("multi\nline"));
        assert_eq!(get("X"), Some("file"), "the file's own value is kept");
        assert_eq!(
            get("Y"),
            Some("host"),
            "but expansion asks the environment first"
        );
        assert!(resolve("BAD KEY=1\n", &env).is_err());
        assert_eq!(resolve("A=1\nB=\"open\n", &env).unwrap_err().0, 2);
    }
}
