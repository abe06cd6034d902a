//! Checks that need the whole set of services and mocks at once: dependency
//! cycles and host ports claimed twice.

use std::collections::{BTreeMap, BTreeSet};
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
///
/// The walk keeps its own stack: a chain of tens of thousands of services
/// (a hostile devenv.toml is at most 4 MiB, which is enough) would overflow
/// the thread's stack if each step were a call.
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
    let mut seen_sets: BTreeSet<Vec<String>> = BTreeSet::new();
    for n in nodes {
        if mark.get(n) != Some(&Mark::New) {
            continue;
        }
        // The active path, each node with the index of its next edge.
        let mut path: Vec<(&str, usize)> = vec![(n, 0)];
        mark.insert(n, Mark::Active);
        while let Some(top) = path.last_mut() {
            let (cur, i) = (top.0, top.1);
            top.1 += 1;
            let Some(e) = adj.get(cur).and_then(|out| out.get(i)) else {
                mark.insert(cur, Mark::Done);
                path.pop();
                continue;
            };
            match mark.get(e.to).copied() {
                Some(Mark::New) => {
                    mark.insert(e.to, Mark::Active);
                    path.push((e.to, 0));
                }
                Some(Mark::Active) => {
                    let start = path.iter().position(|(s, _)| *s == e.to).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[start..].iter().map(|(s, _)| s.to_string()).collect();
                    let mut key = cycle.clone();
                    key.sort();
                    if seen_sets.insert(key) {
                        cycle.push(e.to.to_string());
                        found.push((cycle, e.span.clone()));
                    }
                }
                _ => {}
            }
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
    fn a_chain_of_a_hundred_thousand_services_does_not_overflow_the_stack() {
        let names: Vec<String> = (0..100_000).map(|i| format!("s{i}")).collect();
        let nodes: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut edges: Vec<Edge> = nodes
            .windows(2)
            .map(|w| Edge {
                from: w[0],
                to: w[1],
                span: 0..0,
            })
            .collect();
        assert!(find_cycles(&nodes, &edges).is_empty());
        edges.push(Edge {
            from: nodes[nodes.len() - 1],
            to: nodes[0],
            span: 1..2,
        });
        let cycles = find_cycles(&nodes, &edges);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].0.len(), 100_001);
    }

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
