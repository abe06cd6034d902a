//! Connection details in templates: `services.<name>.*` and `mocks.<name>.*`
//! come from `.devenv/state/connections.json`, which the services and mocks
//! phases of `up` write with the real (possibly auto-picked) host ports.
//! Here that file is seeded the way those phases write it, pointing at real
//! listeners, and the rendered ports are used to reach them.

mod common;
mod render_support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use common::{http_get, TestEnv};
use devenv::paths::Paths;
use devenv::state::{Connections, MockEndpoint, ServiceEndpoint};

const MANIFEST: &str = r#"
[project]
name = "conn"

[services.db]
stack = "postgres"
ports = ["auto:5432"]

[mocks.payments]
port = "auto"
routes = [{ method = "GET", path = "/v1/health", status = 200, json = { ok = true } }]

[[config.files]]
template = "templates/app.env.j2"
output = ".env"
"#;

const TEMPLATE: &str = "\
DB_HOST={{ services.db.host }}
DB_PORT={{ services.db.port }}
DB_PORT_5432={{ services.db.ports['5432'] }}
DATABASE_URL={{ services.db.url }}
DB_USER={{ services.db.user }}
PAYMENTS_URL={{ mocks.payments.url }}
PAYMENTS_PORT={{ mocks.payments.port }}
";

fn seed(t: &TestEnv, db_port: u16, mock_port: u16) {
    let paths = Paths::new(t.devenv_home(), t.repo());
    paths.ensure_state_dir().unwrap();
    let mut c = Connections::default();
    c.services.insert(
        "db".into(),
        ServiceEndpoint {
            host: "127.0.0.1".into(),
            port: Some(db_port),
            ports: BTreeMap::from([("5432".to_string(), db_port)]),
            exports: BTreeMap::from([
                ("host".to_string(), "127.0.0.1".to_string()),
                ("port".to_string(), db_port.to_string()),
                ("user".to_string(), "devenv".to_string()),
                ("password".to_string(), "devenv".to_string()),
                ("database".to_string(), "devenv".to_string()),
                (
                    "url".to_string(),
                    format!("postgres://devenv:devenv@127.0.0.1:{db_port}/devenv"),
                ),
            ]),
        },
    );
    c.mocks.insert(
        "payments".into(),
        MockEndpoint {
            host: "127.0.0.1".into(),
            port: mock_port,
            url: format!("http://127.0.0.1:{mock_port}"),
        },
    );
    c.save(&paths).unwrap();
}

fn value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} not in\n{text}"))
}

#[test]
fn an_auto_port_is_rendered_as_the_port_the_service_really_has() {
    // The "database": a real listener on a port the OS picked, as an auto
    // port is. The mock: a real HTTP server.
    let db = TcpListener::bind("127.0.0.1:0").unwrap();
    let db_port = db.local_addr().unwrap().port();
    let mock = render_support::json_server(serde_json::json!({"ok": true}), None);
    let t = TestEnv::new()
        .manifest(MANIFEST)
        .file("templates/app.env.j2", TEMPLATE);
    seed(&t, db_port, mock.port);

    t.run(["render"]).success();
    let env = t.read(".env");
    assert_eq!(value(&env, "DB_HOST"), "127.0.0.1");
    assert_eq!(value(&env, "DB_PORT"), db_port.to_string());
    assert_eq!(value(&env, "DB_PORT_5432"), db_port.to_string());
    assert_eq!(
        value(&env, "DATABASE_URL"),
        format!("postgres://devenv:devenv@127.0.0.1:{db_port}/devenv")
    );
    assert_eq!(value(&env, "DB_USER"), "devenv");

    // The rendered address reaches the service...
    let port: u16 = value(&env, "DB_PORT").parse().unwrap();
    let mut client = TcpStream::connect((value(&env, "DB_HOST"), port)).unwrap();
    client.write_all(b"ping").unwrap();
    let (mut accepted, _) = db.accept().unwrap();
    let mut buf = [0u8; 4];
    accepted.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");

    // ...and the mock.
    let url = value(&env, "PAYMENTS_URL");
    let (status, _, answer) = http_get(&format!("{url}/v1/health"));
    assert_eq!((status, answer.as_str()), (200, "{\"ok\":true}"));
    assert_eq!(mock.requests()[0].target, "/v1/health");

    // When `up` moves the service to another port, the next render follows.
    let moved = TcpListener::bind("127.0.0.1:0").unwrap();
    let moved_port = moved.local_addr().unwrap().port();
    seed(&t, moved_port, mock.port);
    t.run(["render", "--check"])
        .code(1)
        .stderr_has(".env is out of date");
    t.run(["render"]).success();
    assert_eq!(value(&t.read(".env"), "DB_PORT"), moved_port.to_string());

    // --explain says where connection details come from.
    t.run(["render", "--explain", "services.db.port"])
        .success()
        .stdout_has(&format!("services.db.port = {moved_port}"))
        .stdout_has("connections.json");
    t.run(["render", "--explain", "services.db.prot"])
        .code(2)
        .stderr_has("did you mean `services.db.port`?");
}

#[test]
fn a_declared_service_that_was_not_started_is_explained() {
    let t = TestEnv::new()
        .manifest(MANIFEST)
        .file("templates/app.env.j2", TEMPLATE);
    t.run(["render"])
        .code(2)
        .stderr_has("`services` has no `db`")
        .stderr_has("devenv up --only services,mocks");
    t.run(["render", "--explain", "services.db.port"])
        .code(2)
        .stderr_has("`db` is declared but has not been started");
}
