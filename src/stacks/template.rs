//! Preset environment values that depend on where the service ends up: its
//! name on the project network and its published host ports. Kafka must
//! advertise both (`<service>:<port>` to other containers, 127.0.0.1:<host
//! port> to this machine), and an `auto:` host port is only known once `up`
//! has picked it. So such values stay templates in the manifest and are
//! rendered when the container's definition is made, like exports are.
//!
//! The vocabulary is the exports' one: `name`, `host` (127.0.0.1), `port`
//! (the first published host port) and `ports` (container port as text ->
//! host port).

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};

/// Whether a preset's env value is a template to render later.
pub fn is_template(value: &str) -> bool {
    value.contains("{{") || value.contains("{%")
}

/// Where the service is: its name and its published ports.
pub struct Placement<'a> {
    pub name: &'a str,
    /// Container port -> host port, in the service's port order.
    pub ports: &'a [(u16, u16)],
}

/// Renders every template; the first failure is returned with the variable
/// it came from.
pub fn render_env(
    templates: &BTreeMap<String, String>,
    at: &Placement<'_>,
) -> Result<BTreeMap<String, String>, (String, String)> {
    let mut env = Environment::new();
    // A template naming a port the service does not publish must fail, not
    // advertise `127.0.0.1:` to every client.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let ports: BTreeMap<String, u16> = at
        .ports
        .iter()
        .map(|(container, host)| (container.to_string(), *host))
        .collect();
    let ctx = minijinja::context! {
        name => at.name,
        host => "127.0.0.1",
        port => at.ports.first().map(|(_, host)| *host),
        ports => ports,
    };
    templates
        .iter()
        .map(|(k, tpl)| match env.render_str(tpl, &ctx) {
            Ok(v) => Ok((k.clone(), v)),
            Err(e) => Err((k.clone(), e.to_string())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(tpl: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("V".to_string(), tpl.to_string())])
    }

    #[test]
    fn name_and_host_ports_are_filled_in() {
        let at = Placement {
            name: "events",
            ports: &[(9092, 29092)],
        };
        let out = render_env(
            &one("C://{{ name }}:19092,H://{{ host }}:{{ ports['9092'] }}"),
            &at,
        )
        .unwrap();
        assert_eq!(out["V"], "C://events:19092,H://127.0.0.1:29092");
    }

    #[test]
    fn a_port_the_service_does_not_publish_is_an_error_not_an_empty_string() {
        let at = Placement {
            name: "events",
            ports: &[(8080, 8080)],
        };
        let (key, why) = render_env(&one("{{ ports['9092'] }}"), &at).unwrap_err();
        assert_eq!(key, "V");
        assert!(!why.is_empty());
    }

    #[test]
    fn plain_values_are_not_templates() {
        assert!(!is_template("PLAINTEXT://:9092"));
        assert!(is_template("{{ name }}:19092"));
    }
}
