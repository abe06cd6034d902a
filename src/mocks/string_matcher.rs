//! A matcher on one string value (a header, query parameter, cookie, path
//! parameter or text body): WireMock's `equalTo`, `contains`, `matches`...
//! and Pact's rules turned into the same form, with how it tests a value
//! and how messages describe it.
//!
//! Its own file because the stub model holds these matchers and Pact's rules
//! build them, while `stub` also holds Pact's `Rules`: with the matcher in
//! `stub`, `stub` and `pact_rules` imported each other.

use regex::Regex;

#[derive(Debug, Clone)]
pub enum StringMatcher {
    EqualTo {
        value: String,
        case_insensitive: bool,
    },
    Contains(String),
    Matches(Regex),
    DoesNotMatch(Regex),
    Absent,
    /// Present with any value (an empty matcher object).
    Present,
    And(Vec<StringMatcher>),
    Or(Vec<StringMatcher>),
    /// Exactly these values, in this order (a Pact query parameter
    /// declared as `q=p&q=p2`, or `{"q": ["p", "p2"]}`).
    Values(Vec<String>),
}

impl StringMatcher {
    pub fn test(&self, v: Option<&str>) -> bool {
        match (self, v) {
            (StringMatcher::Absent, v) => v.is_none(),
            // Before `(_, None)`: `or` of `absent` and another holds when absent.
            (StringMatcher::And(all), v) => all.iter().all(|m| m.test(v)),
            (StringMatcher::Or(any), v) => any.iter().any(|m| m.test(v)),
            (_, None) => false,
            (StringMatcher::Present, Some(_)) => true,
            (
                StringMatcher::EqualTo {
                    value,
                    case_insensitive,
                },
                Some(v),
            ) => {
                if *case_insensitive {
                    value.eq_ignore_ascii_case(v)
                } else {
                    value == v
                }
            }
            (StringMatcher::Contains(s), Some(v)) => v.contains(s.as_str()),
            (StringMatcher::Matches(r), Some(v)) => r.is_match(v),
            (StringMatcher::DoesNotMatch(r), Some(v)) => !r.is_match(v),
            (StringMatcher::Values(want), Some(v)) => want.len() == 1 && want[0] == v,
        }
    }

    /// Any of several values (repeated headers, query parameters).
    pub fn test_any<'v>(&self, mut values: impl Iterator<Item = &'v str>) -> bool {
        match self {
            StringMatcher::Absent => values.next().is_none(),
            StringMatcher::Values(want) => values.eq(want.iter().map(String::as_str)),
            _ => {
                let mut seen = false;
                for v in values {
                    seen = true;
                    if self.test(Some(v)) {
                        return true;
                    }
                }
                !seen && self.test(None)
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            StringMatcher::EqualTo {
                value,
                case_insensitive: false,
            } => format!("equalTo {value:?}"),
            StringMatcher::EqualTo { value, .. } => format!("equalTo {value:?} (any case)"),
            StringMatcher::Contains(s) => format!("contains {s:?}"),
            StringMatcher::Matches(r) => format!("matches {}", show_regex(r)),
            StringMatcher::DoesNotMatch(r) => format!("doesNotMatch {}", show_regex(r)),
            StringMatcher::Absent => "absent".into(),
            StringMatcher::Present => "present".into(),
            StringMatcher::And(v) => v
                .iter()
                .map(|m| m.describe())
                .collect::<Vec<_>>()
                .join(" and "),
            StringMatcher::Or(v) => v
                .iter()
                .map(|m| m.describe())
                .collect::<Vec<_>>()
                .join(" or "),
            StringMatcher::Values(v) => format!("exactly {v:?}, in this order"),
        }
    }
}

/// A regex as every message shows it: `regex `/v2/.*``, as written in the
/// stub. Delimiting it with slashes (`//v2/.*/`) made a path regex read as
/// doubled slashes; backticks rarely occur in a regex and never in a path.
pub fn show_regex(r: &regex::Regex) -> String {
    format!("regex `{}`", unanchor(r.as_str()))
}

/// Regexes are compiled as `^(?:...)$` (WireMock matches whole values);
/// messages show them as written.
pub fn unanchor(r: &str) -> &str {
    r.strip_prefix("^(?:")
        .and_then(|r| r.strip_suffix(")$"))
        .unwrap_or(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_matchers() {
        let r = regex::Regex::new("^(?:a.c)$").unwrap();
        assert!(StringMatcher::Matches(r.clone()).test(Some("abc")));
        assert!(!StringMatcher::Matches(r.clone()).test(Some("abcd")));
        assert!(StringMatcher::DoesNotMatch(r).test(Some("x")));
        assert!(StringMatcher::Absent.test_any(std::iter::empty()));
        assert!(!StringMatcher::Absent.test_any(["x"].into_iter()));
        let eq = StringMatcher::EqualTo {
            value: "A".into(),
            case_insensitive: true,
        };
        assert!(eq.test_any(["b", "a"].into_iter()));
        let both = StringMatcher::Values(vec!["p".into(), "p2".into()]);
        assert!(both.test_any(["p", "p2"].into_iter()));
        assert!(!both.test_any(["p2", "p"].into_iter()));
        assert!(!both.test_any(["p"].into_iter()));
    }

    /// `matches` on `/a/.*` read `matches //a/.*/`.
    #[test]
    fn a_regex_is_shown_as_written_without_slash_delimiters() {
        let r = regex::Regex::new("^(?:/v2/.*)$").unwrap();
        assert_eq!(
            StringMatcher::Matches(r.clone()).describe(),
            "matches regex `/v2/.*`"
        );
        assert_eq!(
            StringMatcher::DoesNotMatch(r).describe(),
            "doesNotMatch regex `/v2/.*`"
        );
    }
}
