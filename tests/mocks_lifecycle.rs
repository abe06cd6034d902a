//! The mocks `up` runs in the background: started, shown by `status`,
//! reached by name from a service container, restarted when changed,
//! stopped when removed or by `down`, and their request log.

mod common;

use common::mock_serve::{down_guard, http, serve_on, wiremock_env, STARTUP};
use common::{free_port, try_http, wait_until, TestEnv};

#[test]
fn up_starts_mocks_in_the_background_status_shows_them_and_down_stops_them() {
    let env = wiremock_env();
    let _down = down_guard(&env);
    env.run(["up", "--only", "mocks"]).success();
    let conns: serde_json::Value =
        serde_json::from_str(&env.read(".devenv/state/connections.json")).unwrap();
    let port = conns["mocks"]["payments"]["port"].as_u64().unwrap() as u16;
    assert_eq!(
        conns["mocks"]["payments"]["url"],
        format!("http://127.0.0.1:{port}")
    );
    assert_eq!(http(port, "GET", "/v1/health", &[], "").2, r#"{"ok":true}"#);
    let state: serde_json::Value =
        serde_json::from_str(&env.read(".devenv/state/mocks.json")).unwrap();
    let pid = state["mocks"]["payments"]["pid"].as_u64().unwrap();
    // Idempotent: the same process keeps serving.
    env.run(["up", "--only", "mocks"]).success();
    let again: serde_json::Value =
        serde_json::from_str(&env.read(".devenv/state/mocks.json")).unwrap();
    assert_eq!(again["mocks"]["payments"]["pid"].as_u64().unwrap(), pid);
    // The request log has one line per request.
    let _ = http(port, "GET", "/nope", &[], "");
    let log = env.repo().join(".devenv/logs/mock-payments.log");
    wait_until(STARTUP, "the request log line", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("GET /nope -> 404 unmatched")
    });
    // Only loopback: the mock is not bound to other interfaces.
    let listening = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let hex_port = format!(":{port:04X}");
    assert!(
        listening
            .lines()
            .filter(|l| l.contains(&hex_port) && l.contains(" 0A "))
            .all(|l| l.contains("0100007F:")),
        "{listening}"
    );
    let paths = devenv::paths::Paths::new(env.devenv_home(), env.repo());
    let manifest = devenv::manifest::load(&env.repo().join("devenv.toml")).unwrap();
    let st = devenv::mocks::status(&manifest, &paths);
    assert_eq!((st[0].state, st[0].ready), ("running", true));
    assert_eq!(
        devenv::mocks::down(&paths).unwrap(),
        vec!["payments".to_string()]
    );
    assert_eq!(http(port, "GET", "/v1/health", &[], "").0, 0);
    assert_eq!(devenv::mocks::status(&manifest, &paths)[0].state, "missing");
}

#[test]
fn a_service_container_calls_the_mock_by_name_through_the_network_gateway() {
    if !common::engine_available(
        "a_service_container_calls_the_mock_by_name_through_the_network_gateway",
    ) {
        return;
    }
    let net = "devenv_mocks_test_by_name";
    let _ = common::docker(&["network", "rm", net]);
    assert!(common::docker(&[
        "network",
        "create",
        "--label",
        "dev.devenv.project=mocks-by-name",
        net
    ])
    .status
    .success());
    struct Cleanup(&'static str);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = common::docker(&["rm", "-f", "devenv_mocks_test_by_name_c"]);
            let _ = common::docker(&["network", "rm", self.0]);
        }
    }
    let _cleanup = Cleanup(net);
    let out = common::docker(&[
        "network",
        "inspect",
        net,
        "--format",
        "{{(index .IPAM.Config 0).Gateway}}",
    ]);
    let gateway = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!gateway.is_empty(), "no gateway: {out:?}");
    let env = wiremock_env();
    let port = free_port();
    let _m = serve_on(
        &env,
        "payments",
        port,
        &["--bind", "127.0.0.1", "--bind", &gateway],
    );
    let out = common::docker(&[
        "run",
        "--rm",
        "--name",
        "devenv_mocks_test_by_name_c",
        "--network",
        net,
        "--add-host",
        &format!("payments:{gateway}"),
        &format!("{}/library/busybox:latest", common::REGISTRY),
        "wget",
        "-qO-",
        &format!("http://payments:{port}/v1/health"),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"ok":true}"#,
        "{out:?}"
    );
    // The host reaches it on its port too.
    assert_eq!(http(port, "GET", "/v1/health", &[], "").2, r#"{"ok":true}"#);
}

#[test]
fn up_restarts_a_changed_mock_and_stops_a_removed_one() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"c\"\n[mocks.a]\nport = \"auto\"\n[[mocks.a.routes]]\npath = \"/v\"\nbody = \"one\"\n\
         [mocks.b]\nport = \"auto\"\n[[mocks.b.routes]]\npath = \"/v\"\nbody = \"b\"\n",
    );
    let _down = down_guard(&env);
    env.run(["up", "--only", "mocks"]).success();
    let state = |env: &TestEnv| -> serde_json::Value {
        serde_json::from_str(&env.read(".devenv/state/mocks.json")).unwrap()
    };
    let before = state(&env);
    let port_a = before["mocks"]["a"]["port"].as_u64().unwrap() as u16;
    let port_b = before["mocks"]["b"]["port"].as_u64().unwrap() as u16;
    assert_eq!(http(port_a, "GET", "/v", &[], "").2, "one");
    env.write(
        "devenv.toml",
        "[project]\nname = \"c\"\n[mocks.a]\nport = \"auto\"\n[[mocks.a.routes]]\npath = \"/v\"\nbody = \"two\"\n",
    );
    env.run(["up", "--only", "mocks"]).success();
    let after = state(&env);
    assert_ne!(after["mocks"]["a"]["pid"], before["mocks"]["a"]["pid"]);
    assert_eq!(
        after["mocks"]["a"]["port"].as_u64().unwrap() as u16,
        port_a,
        "auto port kept"
    );
    assert_eq!(http(port_a, "GET", "/v", &[], "").2, "two");
    assert!(after["mocks"].get("b").is_none(), "{after}");
    assert_eq!(
        http(port_b, "GET", "/v", &[], "").0,
        0,
        "removed mock still answers"
    );
    let paths = devenv::paths::Paths::new(env.devenv_home(), env.repo());
    devenv::mocks::down(&paths).unwrap();
    assert_eq!(http(port_a, "GET", "/v", &[], "").0, 0);
}

/// A taken mock port is bad input (exit 2), found before any phase starts,
/// exactly as for a service: nothing is written to the clone.
#[test]
fn a_taken_mock_port_is_exit_2_before_any_phase_like_a_service_port() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"t\"\n[mocks.a]\nport = {port}\n[[mocks.a.routes]]\npath = \"/v\"\n"
    ));
    env.run(["up"])
        .code(2)
        .stderr_has(&format!("mock a: port {port} is already in use"))
        .stderr_has("hint: stop whatever holds the port");
    assert!(!env.exists(".devenv"), "{:?}", env.repo_files());
}

/// Removing the only mock from devenv.toml left it running: `up` skipped
/// the mocks phase when none was declared, and `status` listed none.
#[test]
fn removing_the_last_mock_stops_it() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"last\"\n[mocks.a]\nport = \"auto\"\n[[mocks.a.routes]]\npath = \"/v\"\n",
    );
    env.run(["up"]).success();
    let url = common::mock_url(&env, "a");
    assert_eq!(common::http_get(&format!("{url}/v")).0, 200);
    env.write("devenv.toml", "[project]\nname = \"last\"\n");
    env.run(["up"])
        .success()
        .stderr_has("mock a: stopped (removed from devenv.toml)");
    assert!(
        try_http("GET", &format!("{url}/v"), &[], "").is_err(),
        "the removed mock still answers"
    );
}

/// The request log lagged behind the requests (it was buffered and flushed
/// on a timer): a test, or a user tailing it, could get an answer and not
/// find its line yet.
///
/// No wait loop here, on purpose: the mock writes a request's line before
/// it sends the response, so by the time `http` returns the line is in the
/// file, and one read must find it. Any retry would only give a timed
/// flush the chance to catch up and hide the bug this test is about; with
/// the old timer the line was missing at this read nearly every time.
#[test]
fn a_request_line_is_in_the_mock_log_as_soon_as_the_answer_arrives() {
    let env = wiremock_env();
    let _down = down_guard(&env);
    env.run(["up", "--only", "mocks"]).success();
    let port = common::mock_url(&env, "payments")
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .expect("the mock's url ends with its port");
    let log = env.repo().join(".devenv/logs/mock-payments.log");
    for n in 0..5 {
        let path = format!("/v1/health?n={n}");
        assert_eq!(http(port, "GET", &path, &[], "").0, 200);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.lines().any(|l| l.contains(&format!("GET {path}"))),
            "request {n}'s line is not in the log when its answer arrived:\n{text}"
        );
    }
}
