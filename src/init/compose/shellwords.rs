//! A `command:` or `entrypoint:` string split into words exactly as
//! Compose splits it (go-shellwords 1.0.12, which `docker compose` links):
//! quotes and backslashes as in a shell, no expansion, and parsing stops at
//! the first unquoted `;`, `&`, `|`, `<` or `>`: Compose silently drops the
//! rest, so the caller is told where it stopped.

/// The words, and the byte offset where Compose stopped reading (if it did).
pub(super) type Split = (Vec<String>, Option<usize>);

/// `Err` when Compose refuses the string (an open quote, a stray `(`).
pub(super) fn split(line: &str) -> Result<Split, ()> {
    let mut args = Vec::new();
    let mut buf = String::new();
    let (mut escaped, mut single, mut double, mut back, mut dollar) =
        (false, false, false, false, false);
    let mut got = false;
    let mut stop = None;
    for (i, r) in line.char_indices() {
        if escaped {
            buf.push(r);
            escaped = false;
            got = true;
            continue;
        }
        if r == '\\' {
            if single {
                buf.push(r);
            } else {
                escaped = true;
            }
            continue;
        }
        if matches!(r, ' ' | '\t' | '\r' | '\n') {
            if single || double || back || dollar {
                buf.push(r);
            } else if got {
                args.push(std::mem::take(&mut buf));
                got = false;
            }
            continue;
        }
        match r {
            '`' if !single && !double && !dollar => back = !back,
            ')' if !single && !double && !back => dollar = !dollar,
            '(' if !single && !double && !back => {
                if !dollar && buf.ends_with('$') {
                    dollar = true;
                    buf.push('(');
                    continue;
                }
                return Err(());
            }
            '"' if !single && !dollar => {
                if double {
                    got = true;
                }
                double = !double;
                continue;
            }
            '\'' if !double && !dollar => {
                if single {
                    got = true;
                }
                single = !single;
                continue;
            }
            ';' | '&' | '|' | '<' | '>' if !(single || double || back || dollar) => {
                let mut at = i;
                // `2>&1`: the digits belong to the redirection, not to a word.
                if r == '>' && !buf.is_empty() && buf.chars().all(|c| c.is_ascii_digit()) {
                    at -= buf.len();
                    got = false;
                }
                stop = Some(at);
                break;
            }
            _ => {}
        }
        got = true;
        buf.push(r);
    }
    if got {
        args.push(buf);
    }
    if escaped || single || double || back || dollar {
        return Err(());
    }
    Ok((args, stop))
}

#[cfg(test)]
mod tests {
    use super::split;

    fn words(s: &str) -> Vec<String> {
        split(s).unwrap().0
    }

    #[test]
    fn as_docker_compose_config_prints_them() {
        assert_eq!(
            words(r#"echo a\ b "x\"y" 'it''s' "a\\b" \\n"#),
            ["echo", "a b", "x\"y", "its", "a\\b", "\\n"]
        );
        assert_eq!(
            words(r#"echo a\nb "c\td" 'e\nf' `x y` $(date +%s)"#),
            ["echo", "anb", "ctd", "e\\nf", "`x y`", "$(date +%s)"]
        );
        assert_eq!(
            words("redis-server --save ''"),
            ["redis-server", "--save", ""]
        );
        assert!(words("   ").is_empty());
    }

    #[test]
    fn compose_stops_at_an_unquoted_operator() {
        let (w, stop) = split(r#"sh -c "echo a && echo b" ; echo c | x > y"#).unwrap();
        assert_eq!(w, ["sh", "-c", "echo a && echo b"]);
        assert_eq!(stop, Some(25));
        assert_eq!(words("echo a && echo b"), ["echo", "a"]);
        assert_eq!(words("echo 5>x"), ["echo"]);
        assert_eq!(words("cmd 2>&1"), ["cmd"]);
        assert!(split("echo (a)").is_err());
        assert!(split("echo 'open").is_err());
    }
}
