//! What the rest of the program needs to reach a running service: host,
//! ports and the stack's rendered exports (e.g. a postgres URL), kept in
//! `.devenv/state/connections.json` next to the mocks' entries.

use std::collections::BTreeMap;

use crate::manifest::model::Service;
use crate::paths::Paths;
use crate::state::{Connections, ServiceEndpoint};

use super::ports::Published;

/// The endpoint of one service, exports rendered over `host`, `port`
/// (its first published port), `ports` (container port as text -> host
/// port), `env` and `name`. An export that fails to render is left out
/// rather than failing `up`; the manifest checks already ran.
pub fn endpoint(s: &Service, ports: &[Published]) -> ServiceEndpoint {
    let host = "127.0.0.1".to_string();
    let port = ports.first().map(|p| p.host);
    let ports_map: BTreeMap<String, u16> = ports
        .iter()
        .map(|p| (p.container.to_string(), p.host))
        .collect();
    let env = minijinja::Environment::new();
    let ctx = minijinja::context! {
        host => host.clone(),
        port => port,
        ports => ports_map.clone(),
        env => s.env.clone(),
        name => s.name.clone(),
    };
    let exports = s
        .exports
        .iter()
        .filter_map(|(k, tpl)| Some((k.clone(), env.render_str(tpl, &ctx).ok()?)))
        .collect();
    ServiceEndpoint {
        host,
        port,
        ports: ports_map,
        exports,
    }
}

/// Replaces the services part of connections.json, keeping the mocks'.
pub fn save(paths: &Paths, services: BTreeMap<String, ServiceEndpoint>) -> std::io::Result<()> {
    let mut c = Connections::load(paths);
    c.services = services;
    super::save_json_if_changed(&paths.state_file(Connections::FILE), &c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::{Protocol, RunMode};
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn exports_render_with_the_real_port() {
        let s = Service {
            name: "db".into(),
            stack: Some("postgres".into()),
            image: "postgres:16".into(),
            build: None,
            ports: vec![],
            env: BTreeMap::from([("POSTGRES_USER".into(), "u".into())]),
            env_templates: BTreeMap::new(),
            command: None,
            entrypoint: None,
            volumes: BTreeMap::new(),
            mounts: vec![],
            ready: None,
            depends_on: vec![],
            run: RunMode::Always,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            exports: BTreeMap::from([
                (
                    "url".into(),
                    "pg://{{ env.POSTGRES_USER }}@{{ host }}:{{ port }}".into(),
                ),
                ("p".into(), "{{ ports['5432'] }}/{{ name }}".into()),
            ]),
            user: None,
            working_dir: None,
            platform: None,
        };
        let ports = [Published {
            host: 15432,
            container: 5432,
            protocol: Protocol::Tcp,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        }];
        let e = endpoint(&s, &ports);
        assert_eq!(e.exports["url"], "pg://u@127.0.0.1:15432");
        assert_eq!(e.exports["p"], "15432/db");
        assert_eq!(e.port, Some(15432));
    }
}
