//! Port specs as written in devenv.toml: `"CONTAINER"`, `"HOST:CONTAINER"`,
//! `"auto:CONTAINER"`, each optionally suffixed `/tcp` or `/udp`.

use super::model::{HostPort, PortMapping, Protocol};

pub fn parse_port_spec(spec: &str) -> Result<PortMapping, String> {
    parse_spec(spec.trim()).map_err(|e| format!("{e}; {FORMS}"))
}

/// What the error says a port spec may be.
const FORMS: &str =
    "write \"CONTAINER\", \"HOST:CONTAINER\" or \"auto:CONTAINER\", optionally with /tcp or /udp, one port per entry";

fn parse_spec(spec: &str) -> Result<PortMapping, String> {
    if spec.contains('-') && !spec.starts_with('-') {
        return Err(format!(
            "`{spec}` is a range; port ranges are not supported"
        ));
    }
    let (body, protocol) = match spec.rsplit_once('/') {
        Some((b, "tcp")) => (b, Protocol::Tcp),
        Some((b, "udp")) => (b, Protocol::Udp),
        Some((_, p)) => return Err(format!("unknown protocol `{p}`; use /tcp or /udp")),
        None => (spec, Protocol::Tcp),
    };
    let parts: Vec<&str> = body.split(':').collect();
    let (host, container) = match parts.as_slice() {
        [c] => {
            let c = port_number(c)?;
            (HostPort::Fixed(c), c)
        }
        ["auto", c] => (HostPort::Auto, port_number(c)?),
        [h, c] => (HostPort::Fixed(port_number(h)?), port_number(c)?),
        _ => return Err(format!("`{spec}` is not a port spec")),
    };
    Ok(PortMapping {
        host,
        container,
        protocol,
    })
}

/// A mock's `port`: a number or `"auto"`.
pub fn parse_host_port(spec: &str) -> Result<HostPort, String> {
    if spec.trim() == "auto" {
        Ok(HostPort::Auto)
    } else {
        port_number(spec).map(HostPort::Fixed)
    }
}

fn port_number(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        Ok(n) => Err(format!(
            "port {n} is out of range; ports go from 1 to 65535"
        )),
        Err(_) => Err(format!("`{s}` is not a port number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms() {
        let p = parse_port_spec("6379").unwrap();
        assert_eq!((p.host, p.container), (HostPort::Fixed(6379), 6379));
        let p = parse_port_spec("16379:6379").unwrap();
        assert_eq!((p.host, p.container), (HostPort::Fixed(16379), 6379));
        let p = parse_port_spec("auto:5432/udp").unwrap();
        assert_eq!(
            (p.host, p.container, p.protocol),
            (HostPort::Auto, 5432, Protocol::Udp)
        );
    }

    #[test]
    fn malformed_specs_say_why() {
        assert!(parse_port_spec("70000")
            .unwrap_err()
            .contains("out of range"));
        assert!(parse_port_spec("a:b:c")
            .unwrap_err()
            .contains("not a port spec"));
        assert!(parse_port_spec("80/sctp").unwrap_err().contains("protocol"));
        assert!(parse_port_spec("x")
            .unwrap_err()
            .contains("not a port number"));
        assert!(parse_port_spec("0").is_err());
    }
}
