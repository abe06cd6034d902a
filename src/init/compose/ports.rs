//! A service's `ports`, already in Compose's long form (`canon`), to
//! devenv port specs: `"8080:80"`, `"80"` (same host port), `"auto:80"`
//! (a free one, as Compose picks for a bare container port), `/udp`.

use super::yaml::Node;

/// A devenv port spec, plus what about the entry could not be kept.
pub(super) struct Port {
    pub spec: Option<String>,
    pub problem: Option<String>,
}

impl Port {
    fn bad(why: impl Into<String>) -> Port {
        Port {
            spec: None,
            problem: Some(why.into()),
        }
    }
}

pub(super) fn port(n: &Node) -> Port {
    if n.entries().is_none() {
        return Port::bad("not a port compose accepts (`[HOST_IP:][HOST:]CONTAINER[/PROTOCOL]`)");
    }
    let get = |k: &str| n.get(k).and_then(Node::text).filter(|s| !s.is_empty());
    let Some(target) = get("target")
        .and_then(|t| t.parse::<u16>().ok())
        .filter(|t| *t > 0)
    else {
        return Port::bad("the container port is not a port number (an unresolved variable?)");
    };
    let suffix = match get("protocol").as_deref() {
        None | Some("tcp") => "",
        Some("udp") => "/udp",
        Some(p) => {
            return Port::bad(format!(
                "protocol `{p}` is not supported; devenv publishes tcp and udp"
            ))
        }
    };
    let published = get("published");
    let mut problem = None;
    let spec = match published.as_deref() {
        None => format!("auto:{target}{suffix}"),
        Some(p) if p.contains('-') => {
            problem = Some(format!(
                "compose publishes it on a free host port from {p}; devenv cannot limit the range, so it picks any free port (converted as `auto:{target}{suffix}`)"
            ));
            format!("auto:{target}{suffix}")
        }
        Some(p) => match p.parse::<u16>() {
            Ok(h) if h == target => format!("{target}{suffix}"),
            Ok(h) if h > 0 => format!("{h}:{target}{suffix}"),
            _ => return Port::bad(format!("host port `{p}` is not a port number")),
        },
    };
    match get("host_ip").as_deref() {
        None | Some("0.0.0.0" | "127.0.0.1") => {}
        Some(ip) => {
            problem = Some(format!(
                "bound to {ip}; devenv publishes on 127.0.0.1 (converted as `{spec}`; set `bind` on the service to change that)"
            ))
        }
    }
    Port {
        spec: Some(spec),
        problem,
    }
}
