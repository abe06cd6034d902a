//! Checks that need the whole set of services and mocks at once: dependency
//! cycles and host ports claimed twice.

use std::collections::BTreeMap;
use std::ops::Range;

use super::model::{HostPort, Protocol};

/// One `depends_on` edge, with the span of the name that makes it.
pub struct Edge<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub span: Range<usize>,
}

/// Every dependency cycle, each reported once, as the names in order with
/// the first repeated at the end, plus the span of the edge that closes it.
pub fn find_cycles(nodes: &[&str], edges: &[Edge<'_>]) -> Vec<(Vec<String>, Range<usize>)> {
    let mut adj: BTreeMap<&str, Vec<&Edge>> = BTreeMap::new();
    for e in edges {
        adj.entry(e.from).or_default().push(e);
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark: BTreeMap<&str, Mark> = nodes.iter().map(|n| (*n, Mark::New)).collect();
    let mut found = Vec::new();
    let mut seen_sets: Vec<Vec<String>> = Vec::new();

    fn dfs<'a>(
        n: &'a str,
        adj: &BTreeMap<&'a str, Vec<&'a Edge<'a>>>,
        mark: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
        found: &mut Vec<(Vec<String>, Range<usize>)>,
        seen_sets: &mut Vec<Vec<String>>,
    ) {
        mark.insert(n, Mark::Active);
        stack.push(n);
        for e in adj.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            match mark.get(e.to).copied() {
                Some(Mark::New) => dfs(e.to, adj, mark, stack, found, seen_sets),
                Some(Mark::Active) => {
                    let start = stack.iter().position(|s| *s == e.to).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        stack[start..].iter().map(|s| s.to_string()).collect();
                    let mut key = cycle.clone();
                    key.sort();
                    if !seen_sets.contains(&key) {
                        seen_sets.push(key);
                        cycle.push(e.to.to_string());
                        found.push((cycle, e.span.clone()));
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        mark.insert(n, Mark::Done);
    }

    for n in nodes {
        if mark.get(n) == Some(&Mark::New) {
            let mut stack = Vec::new();
            dfs(n, &adj, &mut mark, &mut stack, &mut found, &mut seen_sets);
        }
    }
    found
}

/// A fixed host port someone asked for.
pub struct PortClaim<'a> {
    pub owner: &'a str,
    pub port: HostPort,
    pub protocol: Protocol,
    pub span: Range<usize>,
}

/// `(second claim's span, port, first owner, second owner)` for each host
/// port claimed more than once.
pub fn port_clashes<'a>(claims: &[PortClaim<'a>]) -> Vec<(Range<usize>, u16, &'a str, &'a str)> {
    let mut first: BTreeMap<(u16, Protocol), &str> = BTreeMap::new();
    let mut out = Vec::new();
    for c in claims {
        let HostPort::Fixed(p) = c.port else { continue };
        match first.get(&(p, c.protocol)) {
            Some(owner) => out.push((c.span.clone(), p, *owner, c.owner)),
            None => {
                first.insert((p, c.protocol), c.owner);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_three_cycle_once() {
        let edges = [
            Edge {
                from: "a",
                to: "b",
                span: 0..1,
            },
            Edge {
                from: "b",
                to: "c",
                span: 2..3,
            },
            Edge {
                from: "c",
                to: "a",
                span: 4..5,
            },
        ];
        let cycles = find_cycles(&["a", "b", "c"], &edges);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].0, ["a", "b", "c", "a"]);
        assert_eq!(cycles[0].1, 4..5);
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let edges = [
            Edge {
                from: "a",
                to: "b",
                span: 0..1,
            },
            Edge {
                from: "a",
                to: "c",
                span: 0..1,
            },
            Edge {
                from: "b",
                to: "d",
                span: 0..1,
            },
            Edge {
                from: "c",
                to: "d",
                span: 0..1,
            },
        ];
        assert!(find_cycles(&["a", "b", "c", "d"], &edges).is_empty());
    }

    #[test]
    fn the_same_port_twice_clashes_but_not_across_protocols() {
        let claims = [
            PortClaim {
                owner: "a",
                port: HostPort::Fixed(80),
                protocol: Protocol::Tcp,
                span: 0..1,
            },
            PortClaim {
                owner: "b",
                port: HostPort::Fixed(80),
                protocol: Protocol::Udp,
                span: 1..2,
            },
            PortClaim {
                owner: "c",
                port: HostPort::Fixed(80),
                protocol: Protocol::Tcp,
                span: 2..3,
            },
            PortClaim {
                owner: "d",
                port: HostPort::Auto,
                protocol: Protocol::Tcp,
                span: 3..4,
            },
        ];
        let c = port_clashes(&claims);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].1, c[0].2, c[0].3), (80, "a", "c"));
    }
}
