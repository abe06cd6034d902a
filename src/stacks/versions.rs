//! A preset's version table: which image tags it was checked against, and
//! what changes between them (a data directory, a readiness probe, an
//! environment variable).
//!
//! The preset's own keys describe its default version (what `devenv init`
//! compares a compose service with); each `[[versions]]` row names a range
//! and the keys that differ there. Rows are written newest
//! first. A service's `version` (or its image's tag) picks the first row
//! whose range holds it; a row with `unsupported = "why"` still applies its
//! keys, and the service gets a warning with that reason.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::manifest::schema::{CommandSpec, EnvValue, ReadyDef};

/// One `[[versions]]` row as written.
#[derive(Debug, Clone, Deserialize)]
pub struct VersionRow {
    /// A semver range over the tag's leading number: `">=18, <20"`, `"<13"`.
    pub range: Spanned<String>,
    /// Why versions in this range are not supported. The row's keys still apply.
    pub unsupported: Option<String>,
    /// The row `latest` (and a tag without a number) stands for; without
    /// one, the first supported row.
    #[serde(default)]
    pub latest: bool,
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// Replaces the preset's volume of the same name.
    #[serde(default)]
    pub volumes: BTreeMap<String, String>,
    pub ready: Option<ReadyDef>,
    pub command: Option<CommandSpec>,
    /// Where the rule comes from: the image's entrypoint or Dockerfile
    /// (repository, path, commit), or its documentation.
    pub source: Option<String>,
    /// `range`, parsed when the preset is read (`stacks::parse`).
    #[serde(skip)]
    pub req: semver::VersionReq,
}

impl VersionRow {
    pub fn is_supported(&self) -> bool {
        self.unsupported.is_none()
    }

    /// The keys this row changes, for `devenv stacks --json`.
    pub fn changes(&self) -> Vec<String> {
        let mut out: Vec<String> = self.env.keys().map(|k| format!("env.{k}")).collect();
        out.extend(self.volumes.keys().map(|k| format!("volumes.{k}")));
        if self.ready.is_some() {
            out.push("ready".into());
        }
        if self.command.is_some() {
            out.push("command".into());
        }
        out
    }
}

/// What a tag says about the version it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagVersion {
    /// `latest`.
    Latest,
    /// The tag's leading number: `16` of `16-alpine`, `8.0.36`, `3.13` of
    /// `3.13-management`, `1.21.0` of `v1.21.0`, `2024` of
    /// `RELEASE.2024-10-13T13-34-11Z` (MinIO's rows go by year).
    Number(semver::Version),
    /// No number to read (`alpine`, `bookworm`, `management`).
    Unknown,
}

/// Reads the version of an image tag. Never fails: what it cannot read is
/// `Unknown`.
pub fn parse_tag(tag: &str) -> TagVersion {
    let tag = tag.trim();
    if tag.eq_ignore_ascii_case("latest") {
        return TagVersion::Latest;
    }
    // MinIO tags its releases `RELEASE.<date>`, Mailpit and others `v1.2.3`.
    let rest = tag.strip_prefix("RELEASE.").unwrap_or(tag);
    let rest = match rest.strip_prefix(['v', 'V']) {
        Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => r,
        _ => rest,
    };
    let mut parts: Vec<u64> = Vec::new();
    for piece in rest.split('.') {
        let digits: &str = &piece[..piece
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(piece.len())];
        if digits.is_empty() {
            break;
        }
        match digits.parse::<u64>() {
            Ok(n) => parts.push(n),
            // More digits than a u64 holds is no version anyone tags.
            Err(_) => return TagVersion::Unknown,
        }
        // `16-alpine3.19`: the number ends where the digits do.
        if digits.len() < piece.len() || parts.len() == 3 {
            break;
        }
    }
    match parts.as_slice() {
        [] => TagVersion::Unknown,
        [major] => TagVersion::Number(semver::Version::new(*major, 0, 0)),
        [major, minor] => TagVersion::Number(semver::Version::new(*major, *minor, 0)),
        [major, minor, patch, ..] => {
            TagVersion::Number(semver::Version::new(*major, *minor, *patch))
        }
    }
}

/// Why a service's version earns a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionNote {
    /// The tag's row says it is not supported, and why.
    Unsupported {
        tag: String,
        range: String,
        reason: String,
    },
    /// The tag names no number; the rules of `range` (what `latest` means)
    /// are used.
    Unknown { tag: String, range: String },
    /// A number no row holds (a gap in a repository's own table); the rules
    /// of `range` are used.
    Uncovered { tag: String, range: String },
}

impl VersionNote {
    /// The warning, as a user reads it.
    pub fn message(&self, stack: &str, supported: &[&str]) -> String {
        let list = if supported.is_empty() {
            "none".to_string()
        } else {
            supported.join("; ")
        };
        match self {
            VersionNote::Unsupported { tag, reason, .. } => format!(
                "version `{tag}` is outside the {stack} preset's supported versions ({list}): {reason}"
            ),
            VersionNote::Unknown { tag, range } => format!(
                "cannot tell which {stack} version the tag `{tag}` is; using the preset's rules for {range} (its newest)"
            ),
            VersionNote::Uncovered { tag, range } => format!(
                "version `{tag}` is in none of the {stack} preset's version rows ({list}); using the rules for {range}"
            ),
        }
    }
}

/// The row a tag picks, and what to tell the user about it.
pub fn select<'a>(
    rows: &'a [VersionRow],
    tag: &str,
) -> (Option<&'a VersionRow>, Option<VersionNote>) {
    let Some(latest) = latest_row(rows) else {
        return (None, None);
    };
    let latest_range = latest.range.get_ref().clone();
    let found = match parse_tag(tag) {
        TagVersion::Latest => latest,
        TagVersion::Unknown => {
            let note = VersionNote::Unknown {
                tag: tag.to_string(),
                range: latest_range,
            };
            return (Some(latest), Some(note));
        }
        TagVersion::Number(v) => match rows.iter().find(|r| r.req.matches(&v)) {
            Some(row) => row,
            None => {
                let note = VersionNote::Uncovered {
                    tag: tag.to_string(),
                    range: latest_range,
                };
                return (Some(latest), Some(note));
            }
        },
    };
    let note = found
        .unsupported
        .as_ref()
        .map(|reason| VersionNote::Unsupported {
            tag: tag.to_string(),
            range: found.range.get_ref().clone(),
            reason: reason.clone(),
        });
    (Some(found), note)
}

/// The row marked `latest`, else the first supported row, else the first.
pub fn latest_row(rows: &[VersionRow]) -> Option<&VersionRow> {
    rows.iter()
        .find(|r| r.latest)
        .or_else(|| rows.iter().find(|r| r.is_supported()))
        .or_else(|| rows.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> TagVersion {
        TagVersion::Number(semver::Version::parse(s).unwrap())
    }

    #[test]
    fn a_tag_is_read_by_its_leading_number() {
        assert_eq!(parse_tag("16"), n("16.0.0"));
        assert_eq!(parse_tag("16-alpine"), n("16.0.0"));
        assert_eq!(parse_tag("16.4-bookworm"), n("16.4.0"));
        assert_eq!(parse_tag("8.0.36"), n("8.0.36"));
        assert_eq!(parse_tag("8.0.36-debian"), n("8.0.36"));
        assert_eq!(parse_tag("3.13-management"), n("3.13.0"));
        assert_eq!(parse_tag("10.11.6-jammy"), n("10.11.6"));
        assert_eq!(parse_tag("1.2.3.4"), n("1.2.3"));
        assert_eq!(parse_tag("v1.21.0"), n("1.21.0"));
        assert_eq!(parse_tag("RELEASE.2024-10-13T13-34-11Z"), n("2024.0.0"));
        assert_eq!(parse_tag(" 7 "), n("7.0.0"));
    }

    #[test]
    fn latest_and_names_without_numbers_never_panic() {
        assert_eq!(parse_tag("latest"), TagVersion::Latest);
        assert_eq!(parse_tag("LATEST"), TagVersion::Latest);
        for t in [
            "",
            "alpine",
            "alpine3.19",
            "bookworm",
            "management",
            "v",
            "RELEASE.",
            ".5",
            "-1",
            "99999999999999999999999",
            "é16",
        ] {
            assert_eq!(parse_tag(t), TagVersion::Unknown, "{t:?}");
        }
    }

    fn row(range: &str, unsupported: Option<&str>) -> VersionRow {
        VersionRow {
            range: Spanned::new(0..0, range.to_string()),
            unsupported: unsupported.map(str::to_string),
            latest: false,
            env: BTreeMap::new(),
            volumes: BTreeMap::new(),
            ready: None,
            command: None,
            source: None,
            req: semver::VersionReq::parse(range).unwrap(),
        }
    }

    fn table() -> Vec<VersionRow> {
        vec![
            row(">=20", Some("not checked yet")),
            row(">=18, <20", None),
            row(">=13, <18", None),
            row("<13", Some("end of life")),
        ]
    }

    #[test]
    fn the_first_row_holding_the_version_is_picked() {
        let t = table();
        let (r, note) = select(&t, "16-alpine");
        assert_eq!(r.unwrap().range.get_ref(), ">=13, <18");
        assert_eq!(note, None);
        let (r, note) = select(&t, "18.1");
        assert_eq!(r.unwrap().range.get_ref(), ">=18, <20");
        assert_eq!(note, None);
    }

    #[test]
    fn latest_is_the_newest_supported_row_without_a_warning() {
        let t = table();
        let (r, note) = select(&t, "latest");
        assert_eq!(r.unwrap().range.get_ref(), ">=18, <20");
        assert_eq!(note, None);
    }

    #[test]
    fn a_row_marked_latest_wins_even_when_unsupported() {
        let mut t = table();
        t[0].latest = true;
        let (r, note) = select(&t, "latest");
        assert_eq!(r.unwrap().range.get_ref(), ">=20");
        assert!(matches!(note, Some(VersionNote::Unsupported { .. })));
    }

    #[test]
    fn an_unsupported_version_says_why() {
        let t = table();
        let (r, note) = select(&t, "12");
        assert_eq!(r.unwrap().range.get_ref(), "<13");
        let note = note.unwrap();
        let msg = note.message("postgres", &[">=18, <20", ">=13, <18"]);
        assert!(msg.contains("`12`"), "{msg}");
        assert!(msg.contains(">=18, <20; >=13, <18"), "{msg}");
        assert!(msg.ends_with("end of life"), "{msg}");
    }

    #[test]
    fn a_tag_without_a_number_uses_the_newest_rules_and_says_so() {
        let t = table();
        let (r, note) = select(&t, "bookworm");
        assert_eq!(r.unwrap().range.get_ref(), ">=18, <20");
        assert!(note
            .unwrap()
            .message("postgres", &[])
            .contains("`bookworm`"));
    }

    #[test]
    fn a_gap_in_a_table_falls_back_to_the_newest_rules() {
        let t = vec![row(">=18", None), row("<10", None)];
        let (r, note) = select(&t, "12");
        assert_eq!(r.unwrap().range.get_ref(), ">=18");
        assert!(matches!(note, Some(VersionNote::Uncovered { .. })));
    }

    #[test]
    fn no_table_means_no_opinion() {
        let (r, note) = select(&[], "12");
        assert!(r.is_none() && note.is_none());
    }
}
