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
}
