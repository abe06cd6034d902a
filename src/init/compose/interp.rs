//! Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`,
//! `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`,
//! `${VAR+alt}`, nested (`${A:-${B:-c}}`), and `$$` for a literal `$`.
//!
//! As in Compose: a `$` not followed by a name or `{` stays as written, a
//! malformed `${...}` is an error, and a required variable without a value
//! is an error carrying the file's message.

/// Why a string cannot be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpError {
    /// `${VAR:?message}` or `${VAR?message}` and VAR has no value.
    Required { var: String, message: String },
    /// `${` without a valid name and closing `}`.
    Invalid,
}

impl std::fmt::Display for InterpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InterpError::Required { var, message } if message.is_empty() => {
                write!(f, "required variable {var} is missing a value")
            }
            InterpError::Required { var, message } => {
                write!(f, "required variable {var} is missing a value: {message}")
            }
            InterpError::Invalid => write!(f, "invalid interpolation format"),
        }
    }
}

/// The interpolated text and the variables that had no value and no
/// default (Compose warns about them and uses "").
pub fn interpolate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Vec<String>), InterpError> {
    let mut missing = Vec::new();
    let out = expand(text, lookup, &mut missing)?;
    missing.dedup();
    Ok((out, missing))
}

fn name_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.is_empty() || !(b[0].is_ascii_alphabetic() || b[0] == b'_') {
        return 0;
    }
    b.iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .unwrap_or(b.len())
}

fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<String>,
) -> Result<String, InterpError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(inner_start) = after.strip_prefix('{') {
            let len = braced_len(inner_start).ok_or(InterpError::Invalid)?;
            out.push_str(&braced(&inner_start[..len], lookup, missing)?);
            rest = &inner_start[len + 1..];
        } else {
            let n = name_len(after);
            if n == 0 {
                out.push('$');
            } else {
                match lookup(&after[..n]) {
                    Some(v) => out.push_str(&v),
                    None => missing.push(after[..n].to_string()),
                }
            }
            rest = &after[n..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Length of the text up to the `}` that closes an opened `${`.
fn braced_len(s: &str) -> Option<usize> {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn braced(
    inner: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<String>,
) -> Result<String, InterpError> {
    let n = name_len(inner);
    if n == 0 {
        return Err(InterpError::Invalid);
    }
    let (name, op) = inner.split_at(n);
    let value = lookup(name);
    let set_nonempty = value.as_deref().is_some_and(|v| !v.is_empty());
    let (colon, rest) = match op.strip_prefix(':') {
        Some(r) => (true, r),
        None => (false, op),
    };
    let Some(kind) = rest.chars().next() else {
        if colon {
            return Err(InterpError::Invalid);
        }
        return Ok(match value {
            Some(v) => v,
            None => {
                missing.push(name.to_string());
                String::new()
            }
        });
    };
    let arg = &rest[1..];
    // With `:`, an empty value counts as unset.
    let has = if colon { set_nonempty } else { value.is_some() };
    match kind {
        '-' if has => Ok(value.unwrap_or_default()),
        '-' => expand(arg, lookup, missing),
        '+' if has => expand(arg, lookup, missing),
        '+' => Ok(String::new()),
        '?' if has => Ok(value.unwrap_or_default()),
        '?' => Err(InterpError::Required {
            var: name.to_string(),
            message: expand(arg, lookup, missing)?,
        }),
        _ => Err(InterpError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<(String, Vec<String>), InterpError> {
        let vars = |k: &str| match k {
            "TAG" => Some("16".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        interpolate(text, &vars)
    }

    fn ok(text: &str) -> String {
        run(text).unwrap().0
    }

    #[test]
    fn defaults_alternatives_and_escapes() {
        assert_eq!(ok("postgres:${TAG}"), "postgres:16");
        assert_eq!(ok("${NOPE:-7}"), "7");
        assert_eq!(ok("${EMPTY:-x}"), "x");
        assert_eq!(ok("${EMPTY-x}"), "");
        assert_eq!(ok("${NOPE:-${TAG}-alpine}"), "16-alpine");
        assert_eq!(ok("${NOPE:-${ALSO:-c}}"), "c");
        assert_eq!(ok("$$HOME and $TAG"), "$HOME and 16");
        assert_eq!(
            ok("${TAG:+yes}${NOPE:+no}${EMPTY:+e}${EMPTY+set}"),
            "yesset"
        );
        assert_eq!(ok("${NOPE:-{x}}"), "{x}");
        assert_eq!(ok("${NOPE:-a:b}"), "a:b");
        assert_eq!(ok("cost $5, a $ b, x$"), "cost $5, a $ b, x$");
        assert_eq!(ok("$TAG-x ${TAG}}"), "16-x 16}");
    }

    #[test]
    fn required_variables_and_bad_templates_are_errors() {
        assert_eq!(
            run("${NOPE:?set it}").unwrap_err().to_string(),
            "required variable NOPE is missing a value: set it"
        );
        assert!(run("${EMPTY:?e}").is_err());
        assert_eq!(ok("${EMPTY?e}"), "");
        assert_eq!(ok("${TAG?e}"), "16");
        for bad in ["${ A }", "${A.B}", "${A", "x ${A:-b", "${}"] {
            assert_eq!(run(bad), Err(InterpError::Invalid), "{bad}");
        }
    }

    #[test]
    fn unset_variables_are_reported() {
        let (out, missing) = run("a${SECRET}b $PLAIN").unwrap();
        assert_eq!(out, "ab ");
        assert_eq!(missing, ["SECRET", "PLAIN"]);
    }
}
