//! Last touches on a draft before it is rendered: stacks the user picked,
//! and host ports claimed twice.

use std::collections::BTreeSet;

use super::{Draft, DraftService, Unconverted};
use crate::manifest::{parse_port_spec, HostPort, PortMapping, Protocol};
use crate::stacks::Stacks;

/// Adds a service running `stack` (named after it, or `<stack>-2` if that
/// name is taken). Returns the service's name.
pub fn add_stack(draft: &mut Draft, stack: &str, because: &str) -> String {
    let mut name = stack.to_string();
    let mut n = 2;
    while draft.service(&name).is_some() {
        name = format!("{stack}-{n}");
        n += 1;
    }
    draft.services.push(DraftService {
        name: name.clone(),
        stack: Some(stack.to_string()),
        notes: if because.is_empty() {
            Vec::new()
        } else {
            vec![because.to_string()]
        },
        ..Default::default()
    });
    name
}

/// Two services publishing one host port is an error in devenv.toml (and a
/// failed `up` in compose): the first keeps it, later ones get `auto:`.
pub fn resolve_port_clashes(draft: &mut Draft, stacks: &Stacks) {
    let mut taken: BTreeSet<(u16, Protocol)> = BTreeSet::new();
    let mut clashes = Vec::new();
    for s in &mut draft.services {
        let (specs, from_stack) = match &s.ports {
            Some(p) => (p.clone(), false),
            None => match s.stack.as_ref().and_then(|st| stacks.get(st)) {
                Some(st) => (st.def.ports.iter().map(|p| p.0.clone()).collect(), true),
                None => (Vec::new(), false),
            },
        };
        let mut changed = false;
        let mut out = Vec::new();
        for spec in specs {
            match parse_port_spec(&spec) {
                Ok(PortMapping {
                    host: HostPort::Fixed(h),
                    container,
                    protocol,
                }) => {
                    if taken.insert((h, protocol)) {
                        out.push(spec);
                    } else {
                        let suffix = if protocol == Protocol::Udp {
                            "/udp"
                        } else {
                            ""
                        };
                        let auto = format!("auto:{container}{suffix}");
                        let why = format!(
                            "host port {h} is already published: `{spec}` became `{auto}` (devenv picks a free port)"
                        );
                        // Compose would fail to start the second binding; devenv
                        // moves it, which changes the port: listed, not only noted.
                        clashes.push(Unconverted::new(
                            format!("services.{}.ports `{spec}`", s.name),
                            why.clone(),
                        ));
                        s.notes.push(why);
                        out.push(auto);
                        changed = true;
                    }
                }
                _ => out.push(spec),
            }
        }
        if (s.ports.is_some() && !from_stack) || changed {
            s.ports = Some(out);
        }
    }
    draft.unconverted.extend(clashes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_claim_becomes_auto() {
        let mut d = Draft::default();
        d.services.push(DraftService {
            name: "a".into(),
            image: Some("x".into()),
            ports: Some(vec!["5432".into(), "53/udp".into()]),
            ..Default::default()
        });
        add_stack(&mut d, "postgres", "");
        d.services.push(DraftService {
            name: "c".into(),
            image: Some("x".into()),
            ports: Some(vec!["53".into()]),
            ..Default::default()
        });
        resolve_port_clashes(&mut d, &Stacks::built_in());
        assert_eq!(d.services[1].ports, Some(vec!["auto:5432".to_string()]));
        assert_eq!(d.services[2].ports, Some(vec!["53".to_string()]));
        assert!(d.services[1].notes[0].contains("host port 5432"));
        assert_eq!(d.unconverted[0].what, "services.postgres.ports `5432`");
    }

    #[test]
    fn stack_defaults_stay_implicit_without_a_clash() {
        let mut d = Draft::default();
        add_stack(&mut d, "redis", "");
        add_stack(&mut d, "redis", "");
        resolve_port_clashes(&mut d, &Stacks::built_in());
        assert_eq!(d.services[0].ports, None);
        assert_eq!(d.services[1].name, "redis-2");
        assert_eq!(d.services[1].ports, Some(vec!["auto:6379".to_string()]));
    }
}
