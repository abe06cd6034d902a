//! One syntax per key, as Compose normalises a service before merging
//! files (its "canonical" form): `environment` as a mapping, `depends_on`
//! as a mapping of conditions, `env_file` as a list of `{path, required}`,
//! `build` as a mapping, `ports` in the long syntax with ranges expanded,
//! and duplicates (same port, same volume target, same env file) removed,
//! the later one kept in the earlier one's place.

use super::yaml::{Entry, Node, Pos, V};

/// Canonical forms of the keys the conversion reads; other keys as written.
pub(super) fn service(svc: &mut Node) {
    let V::Map(entries) = &mut svc.v else {
        return;
    };
    for e in entries.iter_mut() {
        let at = e.value.at;
        let v = std::mem::replace(&mut e.value, Node::new(V::Null, at));
        e.value = match e.key.as_str() {
            "environment" => key_values(v),
            "depends_on" => depends_on(v),
            "env_file" => env_files(v),
            "build" => build(v),
            "ports" => ports(v),
            _ => v,
        };
    }
    dedup(svc);
}

/// Removes repeated ports, volume targets and env files (after a merge too).
pub(super) fn dedup(svc: &mut Node) {
    let V::Map(entries) = &mut svc.v else {
        return;
    };
    for e in entries.iter_mut() {
        match e.key.as_str() {
            "ports" => unique(&mut e.value, port_key),
            "volumes" => unique(&mut e.value, |n| {
                Some(match &n.v {
                    V::Map(_) => n.get("target")?.text()?,
                    _ => short_volume(&n.text()?).1,
                })
            }),
            "env_file" => unique(&mut e.value, |n| n.get("path")?.text()),
            _ => {}
        }
    }
}

fn unique(list: &mut Node, key: impl Fn(&Node) -> Option<String>) {
    let V::Seq(items) = &mut list.v else {
        return;
    };
    let mut out: Vec<Node> = Vec::new();
    let mut keys: Vec<Option<String>> = Vec::new();
    for item in items.drain(..) {
        let k = key(&item);
        match keys.iter().position(|x| k.is_some() && *x == k) {
            Some(i) => out[i] = item,
            None => {
                keys.push(k);
                out.push(item);
            }
        }
    }
    *items = out;
}

fn port_key(n: &Node) -> Option<String> {
    let get = |k: &str| n.get(k).and_then(Node::text);
    Some(format!(
        "{}:{}:{}/{}",
        get("host_ip").unwrap_or_else(|| "0.0.0.0".into()),
        get("published").unwrap_or_default(),
        get("target")?,
        get("protocol").unwrap_or_else(|| "tcp".into()),
    ))
}

fn entry(key: &str, at: Pos, v: V) -> Entry {
    Entry {
        key: key.to_string(),
        at,
        value: Node::new(v, at),
    }
}

/// `[K=V, K]` or a mapping, to a mapping (`K` alone: null, a value to look up).
pub(super) fn key_values(n: Node) -> Node {
    let at = n.at;
    let tag = n.tag;
    let mut out: Vec<Entry> = Vec::new();
    let mut put = |e: Entry| match out.iter_mut().find(|x| x.key == e.key) {
        Some(slot) => *slot = e,
        None => out.push(e),
    };
    match n.v {
        V::Map(m) => m.into_iter().for_each(&mut put),
        V::Seq(items) => {
            for item in items {
                let Some(t) = item.text() else { continue };
                let e = match t.split_once('=') {
                    Some((k, v)) => entry(k, item.at, V::Str(v.to_string())),
                    None => entry(&t, item.at, V::Null),
                };
                put(e);
            }
        }
        other => {
            return Node {
                v: other,
                at,
                tag,
                written: None,
            }
        }
    }
    Node {
        v: V::Map(out),
        at,
        tag,
        written: None,
    }
}

fn depends_on(n: Node) -> Node {
    let at = n.at;
    let tag = n.tag;
    let V::Seq(items) = n.v else {
        return n;
    };
    let entries = items
        .into_iter()
        .filter_map(|i| {
            let name = i.text()?;
            let cond = vec![
                entry("condition", i.at, V::Str("service_started".into())),
                entry("required", i.at, V::Bool(true)),
            ];
            Some(Entry {
                key: name,
                at: i.at,
                value: Node::new(V::Map(cond), i.at),
            })
        })
        .collect();
    Node {
        v: V::Map(entries),
        at,
        tag,
        written: None,
    }
}

fn env_files(n: Node) -> Node {
    let at = n.at;
    let tag = n.tag;
    let items = match n.v {
        V::Seq(items) => items,
        V::Null => return n,
        other => vec![Node::new(other, at)],
    };
    let list = items
        .into_iter()
        .map(|i| match i.v {
            V::Map(_) => i,
            _ => {
                let at = i.at;
                Node::new(
                    V::Map(vec![
                        Entry {
                            key: "path".into(),
                            at,
                            value: i,
                        },
                        entry("required", at, V::Bool(true)),
                    ]),
                    at,
                )
            }
        })
        .collect();
    Node {
        v: V::Seq(list),
        at,
        tag,
        written: None,
    }
}

fn build(n: Node) -> Node {
    match n.v {
        V::Map(_) | V::Null => n,
        _ => {
            let at = n.at;
            Node {
                v: V::Map(vec![Entry {
                    key: "context".into(),
                    at,
                    value: n.clone(),
                }]),
                at,
                tag: n.tag,
                written: None,
            }
        }
    }
}

/// Ports in the long syntax: `target` a number, `published` text (maybe a
/// range), `host_ip` and `protocol` when given. An entry Compose cannot
/// parse is kept as written, for the conversion to report.
fn ports(n: Node) -> Node {
    let at = n.at;
    let tag = n.tag;
    let V::Seq(items) = n.v else {
        return n;
    };
    let mut out = Vec::new();
    for item in items {
        match &item.v {
            V::Map(_) => out.push(item),
            _ => match item.text().and_then(|t| short_port(&t)) {
                Some(list) => {
                    for p in list {
                        let mut e = vec![entry("target", item.at, V::Int(p.target.into()))];
                        if let Some(pb) = p.published {
                            e.push(entry("published", item.at, V::Str(pb)));
                        }
                        if let Some(ip) = p.host_ip {
                            e.push(entry("host_ip", item.at, V::Str(ip)));
                        }
                        e.push(entry("protocol", item.at, V::Str(p.protocol)));
                        let mut n = Node::new(V::Map(e), item.at);
                        n.written = item.text();
                        out.push(n);
                    }
                }
                None => out.push(item),
            },
        }
    }
    Node {
        v: V::Seq(out),
        at,
        tag,
        written: None,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct ShortPort {
    pub target: u16,
    pub published: Option<String>,
    pub host_ip: Option<String>,
    pub protocol: String,
}

/// `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]`, ranges expanded pairwise as
/// Compose does (`9090-9091:8080-8081` is two ports; a published range
/// for one target stays a range).
pub(super) fn short_port(s: &str) -> Option<Vec<ShortPort>> {
    let (body, protocol) = match s.rsplit_once('/') {
        Some((b, p)) => (b, p.to_string()),
        None => (s, "tcp".to_string()),
    };
    let (ip, rest) = if let Some(r) = body.strip_prefix('[') {
        let (ip, rest) = r.split_once("]:")?;
        (Some(ip.to_string()), rest)
    } else {
        let parts: Vec<&str> = body.split(':').collect();
        match parts.len() {
            1 | 2 => (None, body),
            3 => (Some(parts[0].to_string()), &body[parts[0].len() + 1..]),
            _ => return None,
        }
    };
    let (published, target) = match rest.rsplit_once(':') {
        Some((p, t)) => (Some(p).filter(|p| !p.is_empty()), t),
        None => (None, rest),
    };
    let range = |r: &str| -> Option<(u16, u16)> {
        match r.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => r.parse().ok().map(|n| (n, n)),
        }
    };
    let (t0, t1) = range(target)?;
    if t1 < t0 {
        return None;
    }
    let ip = ip.filter(|i| !i.is_empty());
    let mk = |target: u16, published: Option<String>| ShortPort {
        target,
        published,
        host_ip: ip.clone(),
        protocol: protocol.clone(),
    };
    let Some(p) = published else {
        return Some((t0..=t1).map(|t| mk(t, None)).collect());
    };
    let (p0, p1) = range(p)?;
    if t0 == t1 {
        return Some(vec![mk(t0, Some(p.to_string()))]);
    }
    if p1 - p0 != t1 - t0 {
        return None;
    }
    Some(
        (t0..=t1)
            .map(|t| mk(t, Some((p0 + (t - t0)).to_string())))
            .collect(),
    )
}

/// A short volume: (source, target, mode); an anonymous volume has no source.
pub(super) fn short_volume(s: &str) -> (Option<String>, String, String) {
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        [t] => (None, t.to_string(), String::new()),
        [src, t] => (Some(src.to_string()), t.to_string(), String::new()),
        [src, t, m, ..] => (Some(src.to_string()), t.to_string(), m.to_string()),
        [] => (None, String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Vec<(u16, Option<String>, Option<String>, String)> {
        short_port(s)
            .unwrap()
            .into_iter()
            .map(|p| (p.target, p.published, p.host_ip, p.protocol))
            .collect()
    }

    #[test]
    fn every_short_port_form() {
        assert_eq!(one("8080"), [(8080, None, None, "tcp".into())]);
        assert_eq!(
            one("8080:80"),
            [(80, Some("8080".into()), None, "tcp".into())]
        );
        assert_eq!(
            one("127.0.0.1:8080:80"),
            [(
                80,
                Some("8080".into()),
                Some("127.0.0.1".into()),
                "tcp".into()
            )]
        );
        assert_eq!(one("127.0.0.1::5000")[0].1, None);
        assert_eq!(one("[::1]:9000:9000")[0].2.as_deref(), Some("::1"));
        assert_eq!(
            one("9090-9091:8080-8081"),
            [
                (8080, Some("9090".into()), None, "tcp".into()),
                (8081, Some("9091".into()), None, "tcp".into())
            ]
        );
        assert_eq!(one("3000-3001").len(), 2);
        assert_eq!(
            one("8000-8010:80"),
            [(80, Some("8000-8010".into()), None, "tcp".into())]
        );
        assert_eq!(one("53:53/udp")[0].3, "udp");
        assert!(short_port("a:b").is_none());
    }
}
