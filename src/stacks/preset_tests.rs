//! Each built-in preset's version rules, checked against what the official
//! image's entrypoint does (the sources are in each row's `source`). The
//! services are resolved through `manifest::parse`, as `up` would see them.

use std::path::Path;

use super::*;
use crate::manifest::model::{Probe, Service};

fn resolve(toml: &str) -> crate::manifest::Manifest {
    crate::manifest::parse(Path::new("/repo/devenv.toml"), toml, &Stacks::built_in())
        .unwrap_or_else(|d| panic!("{d}"))
}

/// The one service of a manifest holding `[services.NAME]` with `body`.
fn service(name: &str, body: &str) -> (Service, Vec<String>) {
    let m = resolve(&format!(
        "[project]\nname = \"p\"\n[services.{name}]\n{body}\n"
    ));
    let warnings = m.warnings.iter().map(|w| w.message.clone()).collect();
    (m.services[0].clone(), warnings)
}

fn at(stack: &str, version: &str) -> (Service, Vec<String>) {
    service(
        "s",
        &format!("stack = \"{stack}\"\nversion = \"{version}\""),
    )
}

fn probe_text(s: &Service) -> String {
    match &s.ready.as_ref().expect("a readiness probe").probe {
        Probe::Exec(cmd) => cmd.join(" "),
        Probe::Http { path, port } => format!("http {port} {path}"),
        other => format!("{other:?}"),
    }
}

#[test]
fn every_row_says_where_its_rule_comes_from_or_why_it_is_unsupported() {
    for s in Stacks::built_in().iter() {
        assert!(!s.def.versions.is_empty(), "{}: no version table", s.name);
        for row in &s.def.versions {
            assert!(
                row.source.is_some() || row.unsupported.is_some(),
                "{} {}: a supported row without a source",
                s.name,
                row.range.get_ref()
            );
        }
    }
}

#[test]
fn every_version_number_lands_in_a_row_of_every_table() {
    for s in Stacks::built_in().iter() {
        for major in 0..120 {
            for minor in [0, 4, 5, 11, 12, 15, 99] {
                let tag = format!("{major}.{minor}");
                let (_, note) = versions::select(&s.def.versions, &tag);
                assert!(
                    !matches!(note, Some(VersionNote::Uncovered { .. })),
                    "{}: {tag} is in no row",
                    s.name
                );
            }
        }
    }
}

#[test]
fn each_presets_default_and_latest_need_no_warning_except_localstack_latest() {
    for s in Stacks::built_in().iter() {
        let (_, warnings) = service("s", &format!("stack = \"{}\"", s.name));
        assert!(warnings.is_empty(), "{}: {warnings:?}", s.name);
        let (_, warnings) = at(&s.name, "latest");
        if s.name == "localstack" {
            assert!(
                warnings[0].contains("LOCALSTACK_AUTH_TOKEN"),
                "{warnings:?}"
            );
        } else {
            assert!(warnings.is_empty(), "{} latest: {warnings:?}", s.name);
        }
    }
}

#[test]
fn postgres_18_refuses_a_volume_at_the_old_data_directory_so_it_gets_the_new_one() {
    for v in ["18", "18.1", "18-alpine", "19", "latest"] {
        let (s, w) = at("postgres", v);
        assert_eq!(s.volumes["data"], "/var/lib/postgresql", "{v}");
        assert!(w.is_empty(), "{v}: {w:?}");
    }
    for v in ["15", "16", "16.4-bookworm", "17"] {
        let (s, w) = at("postgres", v);
        assert_eq!(s.volumes["data"], "/var/lib/postgresql/data", "{v}");
        assert!(w.is_empty(), "{v}: {w:?}");
    }
}

#[test]
fn postgres_outside_13_to_19_is_warned_about_with_the_reason() {
    let (s, w) = at("postgres", "12");
    assert_eq!(s.volumes["data"], "/var/lib/postgresql/data");
    assert!(w[0].contains("end of life"), "{w:?}");
    let (s, w) = at("postgres", "20");
    assert_eq!(s.volumes["data"], "/var/lib/postgresql");
    assert!(w[0].contains("newer than"), "{w:?}");
}

#[test]
fn an_image_tag_picks_the_row_when_there_is_no_version() {
    let (s, w) = service(
        "db",
        "stack = \"postgres\"\nimage = \"127.0.0.1:5000/library/postgres:18\"",
    );
    assert_eq!(s.volumes["data"], "/var/lib/postgresql");
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn postgres_is_probed_as_its_own_user_and_database_like_pg_isready_would_be() {
    let (s, _) = at("postgres", "16");
    assert_eq!(
        s.ready.as_ref().unwrap().probe,
        Probe::Postgres {
            port: 5432,
            user: "devenv".into(),
            database: "devenv".into(),
        }
    );
    // The image's own defaults when the service clears the preset's.
    let (s, _) = service(
        "db",
        "stack = \"postgres\"\nenv = { POSTGRES_USER = \"app\" }\nready = { postgres = 5432 }",
    );
    assert!(matches!(
        &s.ready.as_ref().unwrap().probe,
        Probe::Postgres { user, database, .. } if user == "app" && database == "devenv"
    ));
    let (s, _) = service(
        "db",
        "image = \"postgres:16\"\nports = [\"5432\"]\nready = { postgres = 5432 }",
    );
    assert!(matches!(
        &s.ready.as_ref().unwrap().probe,
        Probe::Postgres { user, database, .. } if user == "postgres" && database == "postgres"
    ));
}

#[test]
fn mongo_before_6_has_no_mongosh_so_the_probe_uses_mongo() {
    for v in ["4.4", "5", "5.0.31"] {
        let (s, w) = at("mongodb", v);
        let probe = probe_text(&s);
        assert!(probe.contains("mongo --quiet"), "{v}: {probe}");
        assert!(!probe.contains("mongosh"), "{v}: {probe}");
        assert!(w.is_empty(), "{v}: {w:?}");
    }
    for v in ["6", "7.0", "8", "latest"] {
        let probe = probe_text(&at("mongodb", v).0);
        assert!(probe.contains("mongosh --quiet"), "{v}: {probe}");
    }
}

#[test]
fn mongo_is_only_ready_on_the_containers_own_address_not_the_init_servers_localhost() {
    for v in ["5", "7"] {
        let probe = probe_text(&at("mongodb", v).0);
        assert!(probe.contains("--host \"$(hostname -i)\""), "{probe}");
    }
}

/// The published-port placement `up` would use for a service.
fn rendered_env(s: &Service, host_ports: &[(u16, u16)]) -> BTreeMap<String, String> {
    let at = Placement {
        name: &s.name,
        ports: host_ports,
    };
    let mut env = s.env.clone();
    env.extend(render_env(&s.env_templates, &at).unwrap());
    env
}

#[test]
fn kafka_advertises_the_service_name_to_containers_and_the_host_port_to_this_machine() {
    let (s, w) = service("events", "stack = \"kafka\"\nports = [\"29092:9092\"]");
    assert!(w.is_empty(), "{w:?}");
    let env = rendered_env(&s, &[(9092, 29092)]);
    let advertised = &env["KAFKA_ADVERTISED_LISTENERS"];
    assert!(
        advertised.contains("CONTAINER://events:19092"),
        "{advertised}"
    );
    assert!(
        advertised.contains("HOST://127.0.0.1:29092"),
        "{advertised}"
    );
    let listeners = &env["KAFKA_LISTENERS"];
    assert!(listeners.contains("CONTAINER://:19092"), "{listeners}");
    assert!(listeners.contains("HOST://:9092"), "{listeners}");
    assert_eq!(env["KAFKA_INTER_BROKER_LISTENER_NAME"], "CONTAINER");
    // Every listener has a protocol, or the broker refuses to start.
    let map = &env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"];
    for name in ["CONTAINER:", "HOST:", "CONTROLLER:"] {
        assert!(map.contains(name), "{map}");
    }
    // The probe talks to the listener that works from inside the container.
    assert!(probe_text(&s).contains("localhost:19092"));
}

#[test]
fn kafka_on_an_auto_port_advertises_the_port_up_picked() {
    let (s, _) = service("events", "stack = \"kafka\"\nports = [\"auto:9092\"]");
    let env = rendered_env(&s, &[(9092, 41234)]);
    assert!(env["KAFKA_ADVERTISED_LISTENERS"].contains("HOST://127.0.0.1:41234"));
}

#[test]
fn kafka_without_its_port_is_refused_rather_than_advertising_nothing() {
    let err = crate::manifest::parse(
        Path::new("/repo/devenv.toml"),
        "[services.events]\nstack = \"kafka\"\nports = [\"8080\"]\n",
        &Stacks::built_in(),
    )
    .unwrap_err();
    assert!(
        err.0[0].message.contains("KAFKA_ADVERTISED_LISTENERS"),
        "{err}"
    );
    assert_eq!(err.0[0].line, 2);
}

#[test]
fn a_services_own_listeners_replace_the_presets_template() {
    let (s, _) = service(
        "events",
        "stack = \"kafka\"\nenv = { KAFKA_ADVERTISED_LISTENERS = \"HOST://kafka.local:9092\" }",
    );
    assert!(s.env_templates.is_empty());
    assert_eq!(
        s.env["KAFKA_ADVERTISED_LISTENERS"],
        "HOST://kafka.local:9092"
    );
}

#[test]
fn opensearch_runs_single_node_without_the_security_plugin_on_every_version() {
    for v in ["1.3", "2.11", "2.19", "3", "latest"] {
        let (s, w) = at("opensearch", v);
        assert_eq!(s.env["discovery.type"], "single-node", "{v}");
        assert_eq!(s.env["DISABLE_SECURITY_PLUGIN"], "true", "{v}");
        // From 2.12 the demo config refuses to start without an admin password.
        assert_eq!(s.env["DISABLE_INSTALL_DEMO_CONFIG"], "true", "{v}");
        assert!(w.is_empty(), "{v}: {w:?}");
    }
    assert!(probe_text(&at("opensearch", "2").0).contains("wait_for_status=yellow"));
}

#[test]
fn mysql_is_ready_only_when_the_real_server_answers_tcp() {
    for v in ["8.0", "8.0.36", "8.4", "9.1"] {
        let (s, w) = at("mysql", v);
        let probe = probe_text(&s);
        // The init server runs with --skip-networking: TCP reaches only the real one.
        assert!(
            probe.contains("-h 127.0.0.1") && probe.contains("--protocol=tcp"),
            "{probe}"
        );
        assert!(w.is_empty(), "{v}: {w:?}");
    }
    assert!(at("mysql", "5.7").1[0].contains("end of life"));
}

#[test]
fn mariadb_11_has_no_mysqladmin_so_the_probe_uses_mariadb_admin() {
    for v in ["10.11", "11.4", "11.8", "12.0"] {
        let (s, w) = at("mariadb", v);
        let probe = probe_text(&s);
        assert!(
            probe.contains("mariadb-admin ping -h 127.0.0.1"),
            "{v}: {probe}"
        );
        assert!(probe.contains("--protocol=tcp"), "{v}: {probe}");
        assert!(w.is_empty(), "{v}: {w:?}");
    }
    let (s, w) = at("mariadb", "10.4");
    assert!(probe_text(&s).contains("mysqladmin ping"));
    assert_eq!(s.env["MYSQL_USER"], "devenv");
    assert!(w[0].contains("end of life"), "{w:?}");
}

#[test]
fn rabbitmq_keeps_one_node_name_so_a_recreated_container_finds_its_data() {
    for v in ["3.10-management", "3.13-management", "4.1-management", "4"] {
        let (s, w) = at("rabbitmq", v);
        assert_eq!(s.env["RABBITMQ_NODENAME"], "rabbit@localhost");
        assert!(probe_text(&s).contains("check_port_connectivity"));
        assert!(w.is_empty(), "{v}: {w:?}");
    }
    assert!(at("rabbitmq", "3.8-management").1[0].contains("3.8"));
}

#[test]
fn rabbitmqs_probe_never_writes_the_erlang_cookie_before_the_server_does() {
    let probe = probe_text(&at("rabbitmq", "4.1-management").0);
    let guard = probe
        .find("test -s \"$HOME/.erlang.cookie\" &&")
        .expect(&probe);
    assert!(
        guard < probe.find("rabbitmq-diagnostics").unwrap(),
        "{probe}"
    );
}

#[test]
fn minio_rows_go_by_release_year() {
    let (s, w) = at("minio", "RELEASE.2024-10-13T13-34-11Z");
    assert!(w.is_empty(), "{w:?}");
    assert!(s
        .command
        .unwrap()
        .join(" ")
        .contains("--console-address :9001"));
    let (_, w) = at("minio", "RELEASE.2021-03-01T04-20-55Z");
    assert!(w[0].contains("MINIO_ROOT_USER"), "{w:?}");
}

#[test]
fn localstack_after_4_14_needs_an_auth_token_and_says_so() {
    for v in ["3", "4.0", "4.14", "4.14.0"] {
        assert!(at("localstack", v).1.is_empty(), "{v}");
    }
    for v in ["4.15", "2026.3"] {
        let w = at("localstack", v).1;
        assert!(w[0].contains("LOCALSTACK_AUTH_TOKEN"), "{v}: {w:?}");
    }
    assert!(!at("localstack", "2").1.is_empty());
}

#[test]
fn mailpit_before_1_16_reads_its_database_from_mp_data_file() {
    let (s, w) = at("mailpit", "v1.15.0");
    assert_eq!(s.env["MP_DATA_FILE"], "/data/mailpit.db");
    assert!(w.is_empty(), "{w:?}");
    let (s, _) = at("mailpit", "v1.21.0");
    assert!(!s.env.contains_key("MP_DATA_FILE"));
    assert_eq!(s.env["MP_DATABASE"], "/data/mailpit.db");
    assert!(at("mailpit", "v1.2.0").1[0].contains("/readyz"));
}

#[test]
fn redis_8_is_not_yet_checked_and_says_so() {
    assert!(at("redis", "7.2").1.is_empty());
    assert!(at("redis", "8").1[0].contains("redis/docker-library-redis"));
}

#[test]
fn the_warning_points_at_the_version_in_devenv_toml() {
    let m = resolve("[services.db]\nstack = \"postgres\"\nversion = \"12\"\n");
    let w = &m.warnings[0];
    assert!(w.is_warning());
    assert_eq!((w.line, w.column), (3, 11));
    assert!(w.hint.as_deref().unwrap().contains("devenv stacks"));
}

#[test]
fn a_tag_without_a_number_warns_and_uses_the_newest_rules() {
    let (s, w) = at("postgres", "bookworm");
    assert_eq!(s.volumes["data"], "/var/lib/postgresql");
    assert!(w[0].contains("`bookworm`"), "{w:?}");
}

#[test]
fn a_bad_range_in_a_repository_preset_is_reported_at_its_line() {
    let err = parse(
        Path::new("stacks/x.toml"),
        "description = \"x\"\nimage = \"x\"\nversion = \"1\"\n[[versions]]\nrange = \">=banana\"\n",
    )
    .unwrap_err();
    assert_eq!(err.0[0].line, 5);
    assert!(err.0[0].message.contains(">=banana"));
}
