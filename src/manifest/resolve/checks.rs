//! Checks across sections: names shared by services, mocks and processes,
//! dependencies, cycles (across services and across processes), and host
//! ports claimed twice.

use super::*;

impl Resolver<'_> {
    /// Names across services, mocks and processes, dependencies, cycles and
    /// ports.
    pub(super) fn cross_checks(&mut self, raw: &RawManifest) {
        let service_names: BTreeSet<&str> = raw
            .services
            .iter()
            .map(|(k, _)| k.get_ref().as_str())
            .collect();
        let mock_names: BTreeSet<&str> = raw
            .mocks
            .iter()
            .map(|(k, _)| k.get_ref().as_str())
            .collect();
        let process_names: BTreeSet<&str> = raw
            .processes
            .iter()
            .map(|(k, _)| k.get_ref().as_str())
            .collect();
        for (k, _) in &raw.mocks {
            if service_names.contains(k.get_ref().as_str()) {
                self.err_hint(
                    k.span(),
                    format!("`{}` is both a service and a mock", k.get_ref()),
                    "containers reach both by name, so give them different names",
                );
            }
        }
        let mut edges = Vec::new();
        for (k, s) in &raw.services {
            for d in &s.depends_on {
                let dep = d.get_ref().as_str();
                if dep == k.get_ref() {
                    self.err(d.span(), format!("service `{dep}` depends on itself"));
                } else if service_names.contains(dep) {
                    edges.push(Edge {
                        from: k.get_ref(),
                        to: dep,
                        span: d.span(),
                    });
                } else if !mock_names.contains(dep) && !process_names.contains(dep) {
                    let all = service_names
                        .iter()
                        .chain(mock_names.iter())
                        .copied()
                        .filter(|n| *n != k.get_ref());
                    let all: Vec<&str> = all.collect();
                    let hint = match did_you_mean(dep, all.iter().copied())
                        .or_else(|| abbreviation_of(dep, &all))
                    {
                        Some(m) => format!("did you mean `{m}`?"),
                        None if all.is_empty() => {
                            "depends_on names other services or mocks of this file".to_string()
                        }
                        None => format!("declared here: {}", all.join(", ")),
                    };
                    self.err_hint(
                        d.span(),
                        format!(
                            "service `{}` depends on `{dep}`, which does not exist",
                            k.get_ref()
                        ),
                        hint,
                    );
                }
            }
        }
        let names = processes::Names {
            services: service_names.clone(),
            mocks: mock_names.clone(),
            processes: process_names,
        };
        self.process_dependencies(raw, &names, &mut edges);
        let nodes: Vec<&str> = service_names
            .iter()
            .chain(&names.processes)
            .copied()
            .collect();
        for (cycle, span) in find_cycles(&nodes, &edges) {
            self.err_hint(
                span,
                format!("dependency cycle: {}", cycle.join(" -> ")),
                "remove one of these depends_on entries",
            );
        }
        let mut claims = Vec::new();
        for (k, s) in &raw.services {
            for p in s.ports.iter().flatten() {
                if let Ok(m) = parse_port_spec(&p.get_ref().0) {
                    claims.push(PortClaim {
                        owner: k.get_ref(),
                        port: m.host,
                        protocol: m.protocol,
                        span: p.span(),
                    });
                }
            }
            if s.ports.is_none() {
                let stack_ports = s
                    .stack
                    .as_ref()
                    .and_then(|st| self.stacks.get(st.get_ref()))
                    .map(|st| st.def.ports.clone())
                    .unwrap_or_default();
                let span = s.stack.as_ref().map_or(k.span(), |st| st.span());
                for p in stack_ports {
                    if let Ok(m) = parse_port_spec(&p.0) {
                        claims.push(PortClaim {
                            owner: k.get_ref(),
                            port: m.host,
                            protocol: m.protocol,
                            span: span.clone(),
                        });
                    }
                }
            }
        }
        for (k, m) in &raw.mocks {
            if let Some(p) = &m.port {
                if let Ok(hp) = parse_host_port(&p.get_ref().0) {
                    claims.push(PortClaim {
                        owner: k.get_ref(),
                        port: hp,
                        protocol: Protocol::Tcp,
                        span: p.span(),
                    });
                }
            }
        }
        for (span, port, first, second) in port_clashes(&claims) {
            self.err_hint(
                span,
                format!("host port {port} is wanted by both `{first}` and `{second}`"),
                format!("give `{second}` another host port, e.g. \"auto:{port}\" to let devenv pick a free one"),
            );
        }
    }
}

/// The one name that abbreviates `typed` or that `typed` abbreviates
/// (`db` for `database`): same first letter, the shorter's letters in
/// order in the longer. Edit distance alone misses these.
fn abbreviation_of<'a>(typed: &str, names: &[&'a str]) -> Option<&'a str> {
    let abbreviates = |short: &str, long: &str| {
        let mut rest = long.chars();
        short.chars().next() == long.chars().next() && short.chars().all(|c| rest.any(|l| l == c))
    };
    let found: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.len() >= 2 && (abbreviates(n, typed) || abbreviates(typed, n)))
        .collect();
    match found.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

#[cfg(test)]
mod abbreviation_tests {
    use super::abbreviation_of;

    #[test]
    fn db_for_database_and_back() {
        assert_eq!(abbreviation_of("database", &["db", "cache"]), Some("db"));
        assert_eq!(
            abbreviation_of("pg", &["postgres", "cache"]),
            Some("postgres")
        );
        assert_eq!(abbreviation_of("queue", &["db", "cache"]), None);
        // Two candidates: no guess.
        assert_eq!(abbreviation_of("db", &["database", "dashboard"]), None);
    }
}
