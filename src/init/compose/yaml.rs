//! A compose file's YAML as a tree whose every node knows its file and
//! line, so whatever init cannot convert is listed as `compose.yaml:12`.
//!
//! Values are resolved as Compose's YAML library (go-yaml v3) resolves
//! them, because that is what `docker compose` sees: `010` is 8, `yes` is
//! a string, `1e6` is a float printed `1e+06`. Anchors are copied where
//! they are used and merge keys (`<<: *a`, `<<: [*a, *b]`) are applied
//! while the tree is built: explicit keys win, then earlier merge sources.
//! `!reset` and `!override` (Compose's own tags) are kept on the node for
//! the merge of override files.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

/// Where a node starts: an index into the loader's file list, and a
/// 1-based line and column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Pos {
    pub file: usize,
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Tag {
    #[default]
    None,
    /// `!reset`: drop the value this file would merge into.
    Reset,
    /// `!override`: replace instead of merging.
    Override,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum V {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub v: V,
    pub at: Pos,
    pub tag: Tag,
    /// The text as written, when loading rewrote it (a rebased path).
    pub written: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub key: String,
    /// Where the key is: what a message about this entry points at.
    pub at: Pos,
    pub value: Node,
}

#[derive(Debug)]
pub(super) struct YamlError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl Node {
    pub fn new(v: V, at: Pos) -> Node {
        Node {
            v,
            at,
            tag: Tag::None,
            written: None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.v {
            V::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn items(&self) -> Option<&[Node]> {
        match &self.v {
            V::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.v, V::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            V::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.v {
            V::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A scalar as Compose turns it into text (`fmt.Sprint` in Go): what
    /// an environment value or a port number becomes.
    pub fn text(&self) -> Option<String> {
        Some(match &self.v {
            V::Str(s) => s.clone(),
            V::Bool(b) => b.to_string(),
            V::Int(i) => i.to_string(),
            V::Float(f) => go_float(*f),
            _ => return None,
        })
    }
}

/// Every document of the text (compose merges later documents over earlier ones).
pub(super) fn parse(text: &str, file: usize) -> Result<Vec<Node>, YamlError> {
    let mut b = Builder {
        parser: Parser::new_from_str(text),
        file,
        anchors: HashMap::new(),
        budget: MAX_NODES,
        depth: 0,
    };
    let mut docs = Vec::new();
    loop {
        let (ev, span) = b.next()?;
        match ev {
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                let (ev, span) = b.next()?;
                if matches!(ev, Event::DocumentEnd) {
                    continue;
                }
                docs.push(b.node(ev, span)?);
            }
            other => {
                let n = b.node(other, span)?;
                docs.push(n);
            }
        }
    }
    Ok(docs)
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    file: usize,
    /// Each anchor with the number of nodes below it.
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes left to build, aliases counted in full: a repository is
    /// untrusted, and nested aliases grow exponentially (a "billion laughs").
    budget: usize,
    depth: usize,
}

/// More nodes than any real compose file has (sentry's has about 4,000).
const MAX_NODES: usize = 1_000_000;
/// Deeper than any real compose file nests.
const MAX_DEPTH: usize = 200;

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => Err(scan_error(&e)),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn pos(&self, span: &Span) -> Pos {
        Pos {
            file: self.file,
            line: span.start.line(),
            col: span.start.col() + 1,
        }
    }

    fn error(&self, span: &Span, message: impl Into<String>) -> YamlError {
        YamlError {
            line: span.start.line(),
            col: span.start.col() + 1,
            message: message.into(),
        }
    }

    fn spend(&mut self, n: usize, span: &Span) -> Result<(), YamlError> {
        self.budget = self.budget.checked_sub(n).ok_or_else(|| {
            self.error(
                span,
                "too many values once its aliases are expanded (an alias bomb?)",
            )
        })?;
        Ok(())
    }

    fn node(&mut self, ev: Event<'a>, span: Span) -> Result<Node, YamlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(&span, "nested too deeply"));
        }
        let n = self.node_inner(ev, span);
        self.depth -= 1;
        n
    }

    fn node_inner(&mut self, ev: Event<'a>, span: Span) -> Result<Node, YamlError> {
        let at = self.pos(&span);
        let start = self.budget;
        self.spend(1, &span)?;
        let (node, anchor) = match ev {
            Event::Alias(id) => {
                let Some((n, size)) = self.anchors.get(&id).map(|(n, s)| (n.clone(), *s)) else {
                    return Err(self.error(&span, "unknown anchor"));
                };
                self.spend(size, &span)?;
                return Ok(n);
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tag_name = tag.as_ref().map(|t| (t.handle.clone(), t.suffix.clone()));
                let v = scalar(&text, style, tag_name.as_ref());
                let mut n = Node::new(v, at);
                n.tag = compose_tag(tag_name.as_ref());
                (n, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, span)?);
                }
                let mut n = Node::new(V::Seq(items), at);
                n.tag = compose_tag(tag.map(|t| (t.handle.clone(), t.suffix.clone())).as_ref());
                (n, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                let n = self.mapping(at)?;
                let mut n = n;
                n.tag = compose_tag(tag.map(|t| (t.handle.clone(), t.suffix.clone())).as_ref());
                (n, anchor)
            }
            _ => return Err(self.error(&span, "unexpected YAML event")),
        };
        if anchor > 0 {
            self.anchors
                .insert(anchor, (node.clone(), start - self.budget));
        }
        Ok(node)
    }

    fn mapping(&mut self, at: Pos) -> Result<Node, YamlError> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut merges: Vec<Node> = Vec::new();
        loop {
            let (ev, span) = self.next()?;
            if matches!(ev, Event::MappingEnd) {
                break;
            }
            let key_at = self.pos(&span);
            let is_merge =
                matches!(&ev, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
            let key = self.node(ev, span)?;
            let (ev, vspan) = self.next()?;
            let value = self.node(ev, vspan)?;
            if is_merge {
                merges.push(value);
                continue;
            }
            let Some(name) = key.text().or_else(|| key.is_null().then(|| "null".into())) else {
                return Err(YamlError {
                    line: key_at.line,
                    col: key_at.col,
                    message: "a mapping key must be a scalar".into(),
                });
            };
            if entries.iter().any(|e| e.key == name) {
                return Err(YamlError {
                    line: key_at.line,
                    col: key_at.col,
                    message: format!("mapping key `{name}` already defined"),
                });
            }
            entries.push(Entry {
                key: name,
                at: key_at,
                value,
            });
        }
        for m in merges {
            let sources: Vec<Node> = match m.v {
                V::Map(_) => vec![m],
                V::Seq(items) => items,
                _ => {
                    return Err(YamlError {
                        line: m.at.line,
                        col: m.at.col,
                        message: "map merge requires map or sequence of maps as the value".into(),
                    })
                }
            };
            for src in sources {
                let V::Map(src_entries) = src.v else {
                    return Err(YamlError {
                        line: src.at.line,
                        col: src.at.col,
                        message: "map merge requires map or sequence of maps as the value".into(),
                    });
                };
                for e in src_entries {
                    if !entries.iter().any(|x| x.key == e.key) {
                        entries.push(e);
                    }
                }
            }
        }
        Ok(Node::new(V::Map(entries), at))
    }
}

fn compose_tag(tag: Option<&(String, String)>) -> Tag {
    match tag {
        Some((h, s)) if h == "!" && s == "reset" => Tag::Reset,
        Some((h, s)) if h == "!" && s == "override" => Tag::Override,
        _ => Tag::None,
    }
}

fn scan_error(e: &ScanError) -> YamlError {
    YamlError {
        line: e.marker().line(),
        col: e.marker().col() + 1,
        message: e.info().to_string(),
    }
}

/// A scalar resolved as go-yaml v3 resolves it for an untyped target.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&(String, String)>) -> V {
    if let Some((handle, suffix)) = tag {
        if handle == "tag:yaml.org,2002:" || handle == "!!" {
            match suffix.as_str() {
                "str" => return V::Str(text.to_string()),
                "null" => return V::Null,
                _ => {}
            }
        } else if style == ScalarStyle::Plain && text.is_empty() {
            // `!reset` with no value.
            return V::Null;
        }
    }
    if style != ScalarStyle::Plain {
        return V::Str(text.to_string());
    }
    resolve_plain(text)
}

pub(super) fn resolve_plain(text: &str) -> V {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return V::Null,
        "true" | "True" | "TRUE" => return V::Bool(true),
        "false" | "False" | "FALSE" => return V::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return V::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return V::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return V::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return V::Str(text.to_string());
    }
    let plain = text.replace('_', "");
    if let Some(i) = go_parse_int(&plain) {
        return V::Int(i);
    }
    if yaml_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            return V::Float(f);
        }
    }
    V::Str(text.to_string())
}

/// `strconv.ParseInt(s, 0, 64)` (or ParseUint): a sign, then `0x`, `0o`,
/// `0b`, a leading `0` for octal, or decimal.
fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = u64::from_str_radix(digits, radix).ok()? as i128;
    let n = if neg { -n } else { n };
    // Signed values must fit an int64; unsigned ones a uint64.
    (n >= i64::MIN as i128).then_some(n)
}

/// go-yaml's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A float as Go's `fmt.Sprint` prints it: the shortest digits, in
/// exponent form when the exponent is below -4 or at least 6 (`1e+06`).
pub(super) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if f == 0.0 {
        return "0".into();
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let s = format!("{f}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        parse(text, 0).unwrap().remove(0)
    }

    #[test]
    fn scalars_resolve_as_compose_reads_them() {
        let n = one("a: 010\nb: yes\nc: 1e6\nd: 0x1F\ne: '010'\nf: ~\ng: 08\nh: 1.50\ni: 123456789.123\nj: 0.00001\nk: 1_000\nl: TRUE\nm: .inf\n");
        let t = |k: &str| n.get(k).unwrap().text();
        assert_eq!(t("a").as_deref(), Some("8"));
        assert_eq!(t("b").as_deref(), Some("yes"));
        assert_eq!(t("c").as_deref(), Some("1e+06"));
        assert_eq!(t("d").as_deref(), Some("31"));
        assert_eq!(t("e").as_deref(), Some("010"));
        assert!(n.get("f").unwrap().is_null());
        assert_eq!(t("g").as_deref(), Some("8"));
        assert_eq!(t("h").as_deref(), Some("1.5"));
        assert_eq!(t("i").as_deref(), Some("1.23456789123e+08"));
        assert_eq!(t("j").as_deref(), Some("1e-05"));
        assert_eq!(t("k").as_deref(), Some("1000"));
        assert_eq!(t("l").as_deref(), Some("true"));
        assert_eq!(t("m").as_deref(), Some("+Inf"));
    }

    #[test]
    fn merge_keys_explicit_first_then_earlier_sources() {
        let n = one("x: &a {image: a, env: {K: a}}\ny: &b {image: b, command: b}\ns1:\n  <<: [*a, *b]\ns2:\n  image: own\n  <<: *b\n");
        let s1 = n.get("s1").unwrap();
        assert_eq!(s1.get("image").unwrap().as_str(), Some("a"));
        assert_eq!(s1.get("command").unwrap().as_str(), Some("b"));
        let s2 = n.get("s2").unwrap();
        assert_eq!(s2.get("image").unwrap().as_str(), Some("own"));
    }

    #[test]
    fn a_merge_inside_an_anchor_is_applied_where_the_anchor_is_used() {
        let n = one("x-env: &env {A: 1}\nx-app: &app\n  environment:\n    <<: *env\n    B: 2\nservices:\n  web:\n    <<: *app\n");
        let env = n
            .get("services")
            .unwrap()
            .get("web")
            .unwrap()
            .get("environment")
            .unwrap();
        let keys: Vec<&str> = env
            .entries()
            .unwrap()
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(keys, ["B", "A"]);
    }

    #[test]
    fn nodes_know_their_lines_and_tags() {
        let n = one("services:\n  web:\n    image: x\n    ports: !reset []\n");
        let web = n.get("services").unwrap().get("web").unwrap();
        assert_eq!(web.entry("ports").unwrap().at.line, 4);
        assert_eq!(web.get("ports").unwrap().tag, Tag::Reset);
        let e = parse("a: 1\na: 2\n", 0).unwrap_err();
        assert_eq!((e.line, e.message.contains("already defined")), (2, true));
    }

    #[test]
    fn an_alias_bomb_is_refused_not_expanded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let e = parse(&text, 0).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{}", e.message);
        let deep = "[".repeat(500) + &"]".repeat(500);
        assert!(parse(&deep, 0).is_err());
    }
}
