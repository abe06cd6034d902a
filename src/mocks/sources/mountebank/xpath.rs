//! The XPath 1.0 subset mountebank imposters use, for `xpath` predicate
//! parameters and `copy` with `"method": "xpath"`, evaluated on a
//! `roxmltree` document: location paths with `/` and `//`, the child,
//! descendant(-or-self), attribute, self and parent axes (abbreviated or
//! spelled out), name tests with namespace prefixes, `*`, `text()`,
//! `node()`, `comment()`, predicates `[N]`, `[last()]`, `[path]` and
//! `[path = 'literal']` / `!=`, and `count(path)` / `boolean(path)` at the
//! top. Other forms are refused when the imposter loads.
//!
//! Values come out as mountebank's xpath.js/xmldom pair gives them: a text
//! node's text, an attribute's value, and for an element the data of its
//! first child (`"undefined"` when that is an element, or there is none).

use std::collections::BTreeMap;

use roxmltree::{Document, Node, NodeType, ParsingOptions};

/// Predicates within predicates, at most (the parser recurses on them).
const MAX_NESTING: usize = 32;

#[derive(Debug, Clone)]
pub struct XPath {
    top: Top,
    path: Path,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Top {
    Nodes,
    Count,
    Boolean,
}

#[derive(Debug, Clone)]
struct Path {
    absolute: bool,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Axis {
    Child,
    Descendant,
    DescendantOrSelf,
    Attribute,
    SelfNode,
    Parent,
}

#[derive(Debug, Clone)]
enum Test {
    Name(Option<String>, String),
    AnyInNs(String),
    Any,
    Text,
    Node,
    Comment,
}

#[derive(Debug, Clone)]
struct Step {
    axis: Axis,
    test: Test,
    preds: Vec<Pred>,
}

#[derive(Debug, Clone)]
enum Pred {
    Position(usize),
    Last,
    Exists(Path),
    Compare(Path, bool, String),
}

/// What a selection gives: values, a count or a boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum XValue {
    Nodes(Vec<String>),
    Number(f64),
    Bool(bool),
}

impl XPath {
    /// `ns` maps the prefixes the selector may use to namespace URIs.
    pub fn parse(src: &str, ns: &BTreeMap<String, String>) -> Result<XPath, String> {
        let s = src.trim();
        let (mut depth, mut deepest) = (0usize, 0usize);
        for c in s.chars() {
            match c {
                '[' | '(' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                ']' | ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if deepest > MAX_NESTING {
            return Err(format!("brackets nest deeper than {MAX_NESTING}"));
        }
        let (top, inner) = if let Some(x) = func(s, "count") {
            (Top::Count, x)
        } else if let Some(x) = func(s, "boolean") {
            (Top::Boolean, x)
        } else {
            (Top::Nodes, s)
        };
        let mut p = P { s: inner, i: 0, ns };
        let path = p.path()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("XPath `{src}`: `{}` is not supported", &p.s[p.i..]));
        }
        Ok(XPath { top, path })
    }

    /// Evaluates against `xml`; text that is not XML selects nothing.
    pub fn select(&self, xml: &str) -> XValue {
        let opts = ParsingOptions {
            allow_dtd: true,
            ..ParsingOptions::default()
        };
        let doc = Document::parse_with_options(xml, opts).ok();
        let nodes = doc
            .as_ref()
            .map(|d| eval(&self.path, &[X::N(d.root())], d.root()))
            .unwrap_or_default();
        match self.top {
            Top::Count => XValue::Number(nodes.len() as f64),
            Top::Boolean => XValue::Bool(!nodes.is_empty()),
            Top::Nodes => XValue::Nodes(nodes.iter().map(node_value).collect()),
        }
    }
}

fn func<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    s.strip_prefix(name)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
        .map(str::trim)
}

struct P<'a> {
    s: &'a str,
    i: usize,
    ns: &'a BTreeMap<String, String>,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.s[self.i..].starts_with(char::is_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, t: &str) -> bool {
        self.ws();
        if self.s[self.i..].starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> String {
        self.ws();
        let rest = &self.s[self.i..];
        let n = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(rest.len());
        self.i += n;
        rest[..n].to_string()
    }

    fn path(&mut self) -> Result<Path, String> {
        let mut steps = Vec::new();
        let absolute = self.s[self.i..].trim_start().starts_with('/');
        let mut first = true;
        loop {
            if self.eat("//") {
                steps.push(Step {
                    axis: Axis::DescendantOrSelf,
                    test: Test::Node,
                    preds: Vec::new(),
                });
            } else if self.eat("/") {
                if first && self.at_end() {
                    break;
                }
            } else if !first {
                break;
            }
            first = false;
            steps.push(self.step()?);
        }
        Ok(Path { absolute, steps })
    }

    fn at_end(&mut self) -> bool {
        self.ws();
        self.i == self.s.len() || self.s[self.i..].starts_with([']', ')', '=', '!'])
    }

    fn step(&mut self) -> Result<Step, String> {
        if self.eat("..") {
            return Ok(Step {
                axis: Axis::Parent,
                test: Test::Node,
                preds: Vec::new(),
            });
        }
        if self.eat(".") {
            return Ok(Step {
                axis: Axis::SelfNode,
                test: Test::Node,
                preds: Vec::new(),
            });
        }
        let mut axis = if self.eat("@") {
            Axis::Attribute
        } else {
            Axis::Child
        };
        let save = self.i;
        let word = self.name();
        if self.eat("::") {
            axis = match word.as_str() {
                "child" => Axis::Child,
                "descendant" => Axis::Descendant,
                "descendant-or-self" => Axis::DescendantOrSelf,
                "attribute" => Axis::Attribute,
                "self" => Axis::SelfNode,
                "parent" => Axis::Parent,
                a => return Err(format!("the `{a}::` axis is not supported")),
            };
        } else {
            self.i = save;
        }
        let test = self.test()?;
        let mut preds = Vec::new();
        while self.eat("[") {
            preds.push(self.pred()?);
            if !self.eat("]") {
                return Err(
                    "a predicate `[` is never closed, or holds an unsupported expression".into(),
                );
            }
        }
        Ok(Step { axis, test, preds })
    }

    fn test(&mut self) -> Result<Test, String> {
        if self.eat("*") {
            return Ok(Test::Any);
        }
        let n = self.name();
        for (f, t) in [
            ("text", Test::Text),
            ("node", Test::Node),
            ("comment", Test::Comment),
        ] {
            if n == f && self.eat("(") {
                return if self.eat(")") {
                    Ok(t)
                } else {
                    Err(format!("`{f}(` is never closed"))
                };
            }
        }
        if n.is_empty() {
            return Err(format!("a step is missing at `{}`", &self.s[self.i..]));
        }
        if self.s[self.i..].starts_with(':') && !self.s[self.i..].starts_with("::") {
            self.i += 1;
            let uri = self
                .ns
                .get(&n)
                .cloned()
                .ok_or_else(|| format!("the prefix `{n}` has no namespace in `ns`"))?;
            if self.eat("*") {
                return Ok(Test::AnyInNs(uri));
            }
            let local = self.name();
            return Ok(Test::Name(Some(uri), local));
        }
        if self.s[self.i..].trim_start().starts_with('(') {
            return Err(format!("the function `{n}()` is not supported"));
        }
        Ok(Test::Name(None, n))
    }

    fn pred(&mut self) -> Result<Pred, String> {
        self.ws();
        let rest = &self.s[self.i..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let n = rest[..digits].parse::<usize>().map_err(|e| e.to_string())?;
            self.i += digits;
            return Ok(Pred::Position(n));
        }
        if self.eat("last()") {
            return Ok(Pred::Last);
        }
        let path = self.path()?;
        let neg = if self.eat("!=") {
            true
        } else if self.eat("=") {
            false
        } else {
            return Ok(Pred::Exists(path));
        };
        self.ws();
        let q = self.s[self.i..]
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"');
        let Some(q) = q else {
            return Err("a comparison must be with a quoted literal".into());
        };
        let rest = &self.s[self.i + 1..];
        let end = rest.find(q).ok_or("a literal is never closed")?;
        let lit = rest[..end].to_string();
        self.i += end + 2;
        Ok(Pred::Compare(path, neg, lit))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum X<'a, 'i> {
    N(Node<'a, 'i>),
    A(Node<'a, 'i>, usize),
}

impl X<'_, '_> {
    fn key(&self) -> (usize, usize) {
        match self {
            X::N(n) => (n.id().get_usize(), 0),
            X::A(n, i) => (n.id().get_usize(), i + 1),
        }
    }
}

fn eval<'a, 'i>(p: &Path, ctx: &[X<'a, 'i>], root: Node<'a, 'i>) -> Vec<X<'a, 'i>> {
    let mut cur: Vec<X> = if p.absolute {
        vec![X::N(root)]
    } else {
        ctx.to_vec()
    };
    for step in &p.steps {
        let mut next = Vec::new();
        for c in &cur {
            let mut cands: Vec<X> = axis(step.axis, *c)
                .into_iter()
                .filter(|x| test(&step.test, step.axis, *x))
                .collect();
            for pred in &step.preds {
                let len = cands.len();
                cands = cands
                    .into_iter()
                    .enumerate()
                    .filter(|(i, x)| match pred {
                        Pred::Position(n) => i + 1 == *n,
                        Pred::Last => i + 1 == len,
                        Pred::Exists(q) => !eval(q, &[*x], root).is_empty(),
                        Pred::Compare(q, neg, lit) => eval(q, &[*x], root)
                            .iter()
                            .any(|y| (string_value(y) == *lit) != *neg),
                    })
                    .map(|(_, x)| x)
                    .collect();
            }
            next.extend(cands);
        }
        next.sort_by_key(X::key);
        next.dedup_by_key(|x| x.key());
        cur = next;
    }
    cur
}

fn axis<'a, 'i>(a: Axis, x: X<'a, 'i>) -> Vec<X<'a, 'i>> {
    let X::N(n) = x else {
        return match a {
            Axis::SelfNode => vec![x],
            Axis::Parent => match x {
                X::A(n, _) => vec![X::N(n)],
                X::N(_) => Vec::new(),
            },
            _ => Vec::new(),
        };
    };
    match a {
        Axis::Child => n.children().map(X::N).collect(),
        Axis::Descendant => n.descendants().skip(1).map(X::N).collect(),
        Axis::DescendantOrSelf => n.descendants().map(X::N).collect(),
        Axis::Attribute => (0..n.attributes().len()).map(|i| X::A(n, i)).collect(),
        Axis::SelfNode => vec![x],
        Axis::Parent => n.parent().map(X::N).into_iter().collect(),
    }
}

fn test(t: &Test, a: Axis, x: X<'_, '_>) -> bool {
    match x {
        X::A(n, i) => {
            let Some(attr) = n.attributes().nth(i) else {
                return false;
            };
            match t {
                Test::Any | Test::Node => true,
                Test::Name(ns, local) => attr.name() == local && attr.namespace() == ns.as_deref(),
                Test::AnyInNs(uri) => attr.namespace() == Some(uri.as_str()),
                _ => false,
            }
        }
        X::N(n) => match t {
            Test::Node => true,
            Test::Text => n.is_text(),
            Test::Comment => n.is_comment(),
            _ if a == Axis::Attribute => false,
            Test::Any => n.is_element(),
            Test::AnyInNs(uri) => n.is_element() && n.tag_name().namespace() == Some(uri.as_str()),
            Test::Name(ns, local) => {
                n.is_element()
                    && n.tag_name().name() == local
                    && n.tag_name().namespace() == ns.as_deref()
            }
        },
    }
}

fn string_value(x: &X<'_, '_>) -> String {
    match x {
        X::A(n, i) => n
            .attributes()
            .nth(*i)
            .map(|a| a.value().to_string())
            .unwrap_or_default(),
        X::N(n) if n.is_text() || n.is_comment() => n.text().unwrap_or("").to_string(),
        X::N(n) => n
            .descendants()
            .filter(Node::is_text)
            .filter_map(|t| t.text())
            .collect(),
    }
}

/// mountebank's `nodeValue`.
fn node_value(x: &X<'_, '_>) -> String {
    match x {
        X::A(..) => string_value(x),
        X::N(n) if n.is_text() => n.text().unwrap_or("").to_string(),
        X::N(n) => match n.first_child() {
            Some(c) if matches!(c.node_type(), NodeType::Text | NodeType::Comment) => {
                c.text().unwrap_or("").to_string()
            }
            Some(c) if c.node_type() == NodeType::PI => {
                c.pi().and_then(|p| p.value).unwrap_or("").to_string()
            }
            _ if n.is_comment() => n.text().unwrap_or("").to_string(),
            _ => "undefined".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(x: &str, ns: &[(&str, &str)], xml: &str) -> XValue {
        let ns = ns
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        XPath::parse(x, &ns).unwrap().select(xml)
    }

    fn nodes(v: &[&str]) -> XValue {
        XValue::Nodes(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn selects_like_mountebank() {
        let xml = r#"<books><book id="1"><title>A</title></book><book id="2"><title>B</title><t2/></book></books>"#;
        assert_eq!(sel("//title", &[], xml), nodes(&["A", "B"]));
        assert_eq!(sel("/books/book[@id='2']/title", &[], xml), nodes(&["B"]));
        assert_eq!(sel("//book[2]/@id", &[], xml), nodes(&["2"]));
        assert_eq!(sel("//book[title='A']/@id", &[], xml), nodes(&["1"]));
        assert_eq!(sel("count(//book)", &[], xml), XValue::Number(2.0));
        assert_eq!(sel("//book[last()]", &[], xml), nodes(&["undefined"]));
        assert_eq!(sel("//t2", &[], xml), nodes(&["undefined"]));
        assert_eq!(sel("//title/text()", &[], xml), nodes(&["A", "B"]));
        assert_eq!(sel("//nothing", &[], "not xml"), nodes(&[]));
        let ns =
            r#"<i:identity xmlns:i="urn:i" xmlns:n="urn:n"><n:name>Frank</n:name></i:identity>"#;
        assert_eq!(
            sel("//i:identity/n:name", &[("i", "urn:i"), ("n", "urn:n")], ns),
            nodes(&["Frank"])
        );
        assert_eq!(sel("//identity", &[], ns), nodes(&[]));
        assert!(XPath::parse("//a | //b", &BTreeMap::new()).is_err());
        assert!(XPath::parse("//x:a", &BTreeMap::new()).is_err());
        assert!(XPath::parse("substring(//a, 1)", &BTreeMap::new()).is_err());
        let deep = format!("//a{}{}", "[b".repeat(10_000), "]".repeat(10_000));
        assert!(XPath::parse(&deep, &BTreeMap::new()).is_err());
    }
}
