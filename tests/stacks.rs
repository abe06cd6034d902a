//! Stack presets against what the official images do. Where Debian packages
//! the server, the image comes from those packages with a small entrypoint
//! honouring the official image's contract (tests/support/setup.sh: MariaDB
//! 10.11, RabbitMQ 3.10); readiness must mean the real server answers with
//! the preset's credentials the moment `up` returns. The version tables
//! themselves are unit-tested in src/stacks/preset_tests.rs.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{docker, engine_available, http_request, wait_until, Cleanup, TestEnv, REGISTRY};
use devenv::probe::postgres::Ping;

fn manifest(project: &str, services: &str) -> String {
    format!("[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\n{services}")
}

/// The host ports `status --json` gives the service, in its port order.
fn host_ports(env: &TestEnv, name: &str) -> Vec<u16> {
    common::status_entry(env, name)["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["host"].as_u64().unwrap() as u16)
        .collect()
}

/// The mariadb client from the test image, on the host network, through
/// the published port, as an app on this machine would connect.
fn mariadb_as_app_user(port: u16, sql: &str) -> std::process::Output {
    docker(&[
        "run",
        "--rm",
        "--network",
        "host",
        "-e",
        "MYSQL_PWD=devenv",
        &format!("{REGISTRY}/library/mariadb:10.11"),
        "mariadb",
        "-h",
        "127.0.0.1",
        "-P",
        &port.to_string(),
        "--protocol=tcp",
        "-u",
        "devenv",
        "-N",
        "-B",
        "devenv",
        "-e",
        sql,
    ])
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn container_logs(container: &str) -> String {
    text(&docker(&["logs", container]))
}

#[test]
fn mariadb_counts_as_ready_only_after_its_init_server_restarted_so_the_app_user_connects_at_once() {
    if !engine_available("mariadb_ready_after_init") {
        return;
    }
    let project = "stk-mariadb";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(
        project,
        "[services.db]\nstack = \"mariadb\"\nversion = \"10.11\"\nports = [\"auto:3306\"]\n",
    ));
    env.run(["up"]).success().stderr_lacks("warning");
    // No retries: ready has to mean the user and database exist already.
    let port = host_ports(&env, "db")[0];
    let out = mariadb_as_app_user(
        port,
        "select current_user(), database(); create table kept (v text); insert into kept values ('hello')",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "devenv@%\tdevenv"
    );
    // By the time `up` returned, the init server had been stopped and the
    // real one started: the entrypoint said so before the probe passed.
    let logs = container_logs(&format!("devenv_{project}_db"));
    let stopped = logs.find("Temporary server stopped").expect(&logs);
    let ready = logs.rfind("ready for connections").expect(&logs);
    assert!(stopped < ready, "{logs}");

    // A second start has no init server; it is ready too, with the data.
    env.run(["down"]).success();
    env.run(["up"]).success();
    let out = mariadb_as_app_user(host_ports(&env, "db")[0], "select v from kept");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello",
        "{}",
        text(&out)
    );
    env.run(["down", "--volumes"]).success();
}

/// An HTTP request to RabbitMQ's management API as the preset's user.
fn management(method: &str, port: u16, path: &str) -> (u16, String) {
    let (status, _, body) = http_request(
        method,
        &format!("http://127.0.0.1:{port}{path}"),
        // devenv:devenv
        &[("Authorization", "Basic ZGV2ZW52OmRldmVudg==")],
        "",
    );
    (status, body)
}

/// The first frame a broker sends after the AMQP 0-9-1 protocol header is
/// a method frame (type 1): Connection.Start.
fn amqp_greets(port: u16) -> bool {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"AMQP\x00\x00\x09\x01").unwrap();
    let mut frame_type = [0u8; 1];
    s.read_exact(&mut frame_type).is_ok() && frame_type[0] == 1
}

#[test]
fn rabbitmq_is_ready_with_the_presets_user_and_keeps_its_data_when_the_container_is_recreated() {
    if !engine_available("rabbitmq_ready_and_kept") {
        return;
    }
    let project = "stk-rabbitmq";
    let _c = Cleanup(project.into());
    let service = "[services.mq]\nstack = \"rabbitmq\"\nversion = \"3.10-management\"\nports = [\"auto:5672\", \"auto:15672\"]\n";
    let env = TestEnv::new().manifest(&manifest(project, service));
    env.run(["up"]).success().stderr_lacks("warning");
    let ports = host_ports(&env, "mq");
    assert!(amqp_greets(ports[0]), "AMQP port does not speak AMQP");
    let (status, body) = management("GET", ports[1], "/api/whoami");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\":\"devenv\""), "{body}");
    let (status, body) = management("PUT", ports[1], "/api/vhosts/kept");
    assert!(status == 201 || status == 204, "{status} {body}");

    // Any change to the definition recreates the container, with a new
    // hostname; the fixed node name still finds the vhost in the volume.
    env.write(
        "devenv.toml",
        &manifest(
            project,
            &format!("{service}env = {{ RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS = \"+S 1:1\" }}\n"),
        ),
    );
    env.run(["up"]).success().stderr_has("recreated");
    let ports = host_ports(&env, "mq");
    let (status, body) = management("GET", ports[1], "/api/vhosts/kept");
    assert_eq!(status, 200, "the vhost is gone after recreation: {body}");
    env.run(["down", "--volumes"]).success();
}

#[test]
fn kafka_in_the_real_container_advertises_its_service_name_and_the_host_port_up_picked() {
    if !engine_available("kafka_listeners_in_container") {
        return;
    }
    // No Kafka image here: a stand-in with the preset's env shows what the
    // broker would be told.
    let project = "stk-kafka";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&manifest(
        project,
        "[services.events]\nstack = \"kafka\"\nimage = \"busybox:latest\"\nports = [\"auto:9092\"]\ncommand = [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 0.2; done\"]\nready = { exec = [\"true\"] }\n",
    ));
    env.run(["up"]).success();
    let host = host_ports(&env, "events")[0];
    let out = docker(&[
        "inspect",
        "--format",
        "{{range .Config.Env}}{{println .}}{{end}}",
        &format!("devenv_{project}_events"),
    ]);
    let vars = String::from_utf8_lossy(&out.stdout);
    let advertised = vars
        .lines()
        .find_map(|l| l.strip_prefix("KAFKA_ADVERTISED_LISTENERS="))
        .unwrap_or_else(|| panic!("{vars}"));
    assert_eq!(
        advertised,
        format!("CONTAINER://events:19092,HOST://127.0.0.1:{host}")
    );
    let conn: serde_json::Value =
        serde_json::from_str(&env.read(".devenv/state/connections.json")).unwrap();
    let exports = &conn["services"]["events"]["exports"];
    assert_eq!(exports["bootstrap_servers"], format!("127.0.0.1:{host}"));
    assert_eq!(exports["internal_bootstrap_servers"], "events:19092");
    env.run(["down", "--volumes"]).success();
}

#[test]
fn a_version_outside_the_presets_table_loads_with_a_warning_that_says_why() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"x\"\n[services.db]\nstack = \"postgres\"\nversion = \"12\"\n",
    );
    env.run(["validate"])
        .success()
        .stderr_has("warning: version `12` is outside the postgres preset's supported versions")
        .stderr_has("end of life")
        .stderr_has("devenv.toml:5:11");
    let doc = env.run(["validate", "--json"]).success().json();
    assert_eq!(doc["valid"], true);
    let w = &doc["warnings"][0];
    assert_eq!(w["line"], 5);
    assert!(
        w["message"].as_str().unwrap().contains("end of life"),
        "{w}"
    );
}

#[test]
fn a_supported_version_loads_without_a_word() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"x\"\n[services.db]\nstack = \"postgres\"\nversion = \"17\"\n",
    );
    env.run(["validate"]).success().stderr_lacks("warning");
    let doc = env.run(["validate", "--json"]).success().json();
    assert_eq!(doc["warnings"], serde_json::json!([]));
}

#[test]
fn stacks_json_shows_each_presets_supported_versions_and_why_others_are_not() {
    let env = TestEnv::new();
    let doc = env.run(["stacks", "--json"]).success().json();
    let pg = doc
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "postgres")
        .unwrap();
    assert_eq!(pg["version"], "16");
    assert_eq!(
        pg["supported_versions"],
        serde_json::json!([">=18, <20", ">=13, <18"])
    );
    let old = pg["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["range"] == "<13")
        .unwrap();
    assert_eq!(old["supported"], false);
    assert!(old["reason"].as_str().unwrap().contains("end of life"));
    let row18 = &pg["versions"][1];
    assert_eq!(row18["range"], ">=18, <20");
    assert!(row18["source"]
        .as_str()
        .unwrap()
        .contains("docker-library/postgres"));
    assert_eq!(row18["changes"], serde_json::json!(["volumes.data"]));

    env.run(["stacks"])
        .success()
        .stdout_has("versions >=18, <20 | >=13, <18");
}

/// What devenv's `postgres` probe says of the server at `addr`.
fn devenv_ping(rt: &tokio::runtime::Runtime, addr: &str) -> Ping {
    use devenv::probe::postgres::{ping, Login};
    let login = Login {
        user: "devenv",
        database: "devenv",
    };
    rt.block_on(async {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => ping(stream, login).await,
            Err(_) => Ping::NoResponse,
        }
    })
}

/// What `pg_isready` (the reference) says, run in the container over TCP.
fn pg_isready(container: &str, user: &str) -> bool {
    docker(&[
        "exec",
        container,
        "pg_isready",
        "-q",
        "-h",
        "127.0.0.1",
        "-p",
        "5432",
        "-U",
        user,
        "-d",
        "devenv",
    ])
    .status
    .success()
}

/// `psql` as the preset's user over the container's unix socket, with
/// `docker exec` flags `exec`.
fn psql(container: &str, exec: &[&str], flag: &str, sql: &str) -> std::process::Output {
    let mut args = vec!["exec"];
    args.extend_from_slice(exec);
    args.extend([container, "psql", "-U", "devenv", "-d", "devenv", flag, sql]);
    docker(&args)
}

/// `pg_isready` is the oracle: over the image's whole first start (initdb,
/// the temporary server on the unix socket only, held open by a slow init
/// script, its stop, the real server), then a login it would refuse, then a
/// smart shutdown that rejects new connections, devenv's ping gives the
/// same answer, to the container's own address and through the published
/// port's proxy alike. A sample counts only when devenv's answers before
/// and after the reference's agree, so a change in between is not a
/// disagreement.
#[test]
fn the_postgres_probe_answers_what_pg_isready_answers_through_a_whole_first_start() {
    if !engine_available("postgres_probe_is_pg_isready") {
        return;
    }
    let project = "stk-pgping";
    let _c = Cleanup(project.into());
    let dir = tempfile::tempdir().unwrap();
    let slow = dir.path().join("slow.sh");
    std::fs::write(
        &slow,
        "echo slow init begins; sleep 3; echo slow init ends\n",
    )
    .unwrap();
    let name = format!("{project}-db");
    let out = docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        &format!("dev.devenv.project={project}"),
        "-p",
        "127.0.0.1::5432",
        "-e",
        "POSTGRES_USER=devenv",
        "-e",
        "POSTGRES_PASSWORD=devenv",
        "-e",
        "POSTGRES_DB=devenv",
        "-v",
        &format!("{}:/docker-entrypoint-initdb.d/slow.sh:ro", slow.display()),
        &format!("{REGISTRY}/library/postgres:16"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let inspect = |format: &str| {
        let out = docker(&["inspect", "-f", format, &name]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let direct = format!("{}:5432", inspect("{{.NetworkSettings.IPAddress}}"));
    let published = format!(
        "127.0.0.1:{}",
        inspect("{{(index (index .NetworkSettings.Ports \"5432/tcp\") 0).HostPort}}")
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // (devenv's answer, the reference's) for each stable sample.
    let seen: std::cell::RefCell<Vec<(Ping, bool)>> = Default::default();
    let sample = |user: &str| -> Option<Ping> {
        let before = devenv_ping(&rt, &direct);
        let reference = pg_isready(&name, user);
        let proxied = devenv_ping(&rt, &published);
        let after = devenv_ping(&rt, &direct);
        if before != after || proxied != after {
            return None;
        }
        assert_eq!(
            after == Ping::Ready,
            reference,
            "devenv said {after:?}, pg_isready said ready={reference}\n{}",
            container_logs(&name)
        );
        seen.borrow_mut().push((after, reference));
        Some(after)
    };
    wait_until(Duration::from_secs(120), "the real server", || {
        assert_eq!(
            inspect("{{.State.Running}}"),
            "true",
            "{}",
            container_logs(&name)
        );
        sample("devenv") == Some(Ping::Ready)
    });
    let logs = container_logs(&name);
    assert!(logs.contains("slow init ends"), "{logs}");
    assert!(
        seen.borrow().iter().any(|(p, _)| *p == Ping::NoResponse),
        "no sample caught the temporary server: {seen:?}"
    );
    // A role that does not exist: the server is up, and both say so.
    assert_eq!(sample("nobody"), Some(Ping::Ready));

    // A smart shutdown waits for the open session and rejects new ones
    // (57P03, "the database system is shutting down").
    let held = psql(
        &name,
        &["-d", "-u", "postgres"],
        "-c",
        "select pg_sleep(60)",
    );
    assert!(held.status.success(), "{}", text(&held));
    wait_until(Duration::from_secs(30), "the held session", || {
        let out = psql(
            &name,
            &["-u", "postgres"],
            "-tAc",
            "select count(*) from pg_stat_activity where query like 'select pg_sleep%'",
        );
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    });
    let stop = docker(&[
        "exec",
        "-u",
        "postgres",
        &name,
        "sh",
        "-c",
        "pg_ctl -D \"$PGDATA\" stop -m smart -W",
    ]);
    assert!(stop.status.success(), "{}", text(&stop));
    wait_until(Duration::from_secs(30), "the shutdown to reject", || {
        sample("devenv") == Some(Ping::Rejected)
    });
}
