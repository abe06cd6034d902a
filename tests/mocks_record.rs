//! `devenv mock record NAME --upstream URL` against a real upstream (a
//! separate Python process, `tests/support/record_upstream.py`): record
//! through the proxy, stop it with SIGINT, check the files, stop the
//! upstream, and replay the same requests from `devenv mock serve` and
//! from the real WireMock (the jar `tests/support/mock_refs.sh` installs)
//! on the same directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_port, http_request, try_http, wait_for_exit, wait_until_alive, TestEnv};

const UPSTREAM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/record_upstream.py"
);
const SECRET: &str = "sk-live-0123456789";

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// method, path and query, headers, body.
type Req = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

fn requests() -> Vec<Req> {
    let json = ("Content-Type", "application/json");
    vec![
        (
            "GET",
            "/v1/items?page=1",
            vec![("Cookie", "session=client-cookie")],
            "",
        ),
        ("GET", "/v1/items?page=2", vec![], ""),
        ("GET", "/v1/items?page=1", vec![], ""),
        ("POST", "/v1/items", vec![json], r#"{"name": "pen"}"#),
        ("POST", "/v1/items", vec![json], r#"{"name": "ink"}"#),
        ("GET", "/v1/big", vec![], ""),
        ("GET", "/v1/logo", vec![], ""),
        (
            "GET",
            "/v1/me",
            vec![("Authorization", "Bearer tok-123")],
            "",
        ),
        (
            "GET",
            "/v1/config?api_key=sk-live-0123456789",
            vec![("X-Api-Key", SECRET)],
            "",
        ),
        ("GET", "/v1/moved", vec![], ""),
    ]
}

/// (status, content type, body) of one request.
fn ask(port: u16, (m, p, h, b): &Req) -> (u16, Option<String>, String) {
    let (status, headers, body) = http_request(m, &format!("http://127.0.0.1:{port}{p}"), h, b);
    (
        status,
        headers.get("content-type").map(str::to_string),
        body,
    )
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn sigint(child: &Child) {
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn recorded_mappings_replay_without_the_upstream_and_never_hold_credentials() {
    let up_port = free_port();
    let mut upstream = Killed(
        Command::new("python3")
            .arg(UPSTREAM)
            .arg(up_port.to_string())
            .arg(SECRET)
            .spawn()
            .expect("python3 runs the test upstream"),
    );
    wait_until_alive(
        &mut upstream.0,
        Duration::from_secs(30),
        "the upstream",
        || {
            try_http(
                "GET",
                &format!("http://127.0.0.1:{up_port}/v1/items"),
                &[],
                "",
            )
            .is_ok()
        },
    );

    let port = free_port();
    // No `wiremock` key: the recording goes to mocks/payments, and the
    // mock serves it from there afterwards.
    let env = TestEnv::new()
        .manifest(&format!(
            "[project]\nname = \"rec\"\n[mocks.payments]\nport = {port}\n\n[secrets.PAYMENTS_KEY]\nenv = \"PAYMENTS_KEY\"\n"
        ))
        .env("PAYMENTS_KEY", SECRET);
    let mut rec = env
        .command([
            "mock",
            "record",
            "payments",
            "--upstream",
            &format!("http://127.0.0.1:{up_port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_alive(
        &mut rec,
        Duration::from_secs(30),
        "the recording proxy",
        || {
            try_http(
                "GET",
                &format!("http://127.0.0.1:{port}/v1/items?page=1"),
                &[],
                "",
            )
            .is_ok()
        },
    );
    let live: Vec<_> = requests().iter().map(|r| ask(port, r)).collect();
    assert_eq!(live[0].0, 200, "{live:?}");
    assert_eq!(
        live[7].0, 200,
        "the proxy passed the Authorization header on: {live:?}"
    );
    assert!(
        live[8].2.contains(SECRET),
        "the client gets the upstream's answer as it is"
    );

    sigint(&rec);
    let status = wait_for_exit(
        &mut rec,
        Duration::from_secs(30),
        "the recorder to stop on SIGINT",
    );
    let out = rec.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("as 9 mapping(s)"), "{stderr}");

    // What was written: WireMock's layout, one file per distinct request.
    let dir = env.repo().join("mocks/payments");
    let mappings = files_under(&dir.join("mappings"));
    assert_eq!(mappings.len(), 9, "{mappings:?}");
    let bodies = files_under(&dir.join("__files"));
    assert_eq!(bodies.len(), 2, "the large and the binary body: {bodies:?}");
    for f in files_under(&dir) {
        let bytes = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for never in [
            SECRET,
            "tok-123",
            "s3cr3t-cookie",
            "client-cookie",
            "upstream-key-999",
            "set-cookie",
            "authorization",
            "x-api-key",
        ] {
            assert!(
                !text.contains(&never.to_lowercase()),
                "{} holds {never}",
                f.display()
            );
        }
    }

    // The upstream is gone; the mock answers alone.
    drop(upstream);
    let mut serve = Killed(
        env.command(["mock", "serve", "payments"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    wait_until_alive(&mut serve.0, Duration::from_secs(30), "the mock", || {
        common::http_get(&format!("http://127.0.0.1:{port}/__admin/health")).0 == 200
    });
    let expected = |i: usize| {
        let (s, t, b) = live[i].clone();
        // The secret the upstream sent is masked in the recording.
        (s, t, b.replace(SECRET, "***"))
    };
    for (i, r) in requests().iter().enumerate() {
        assert_eq!(ask(port, r), expected(i), "replaying {r:?}");
    }
    drop(serve);

    // The real WireMock serves the same files the same way.
    if std::env::var("DEVENV_SKIP_REFERENCE_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED the WireMock replay: DEVENV_SKIP_REFERENCE_TESTS=1");
        return;
    }
    let refs = std::env::var("DEVENV_MOCK_REFS")
        .unwrap_or_else(|_| "/var/cache/devenv-ci/mock-refs".into());
    let jar = Path::new(&refs).join("node_modules/wiremock/build/wiremock-standalone-3.13.2.jar");
    assert!(
        jar.exists(),
        "the reference WireMock is missing at {}: run tests/support/mock_refs.sh",
        jar.display()
    );
    let wm_port = free_port();
    let mut wm = Killed(
        Command::new("java")
            .arg("-jar")
            .arg(&jar)
            .args([
                "--port",
                &wm_port.to_string(),
                "--bind-address",
                "127.0.0.1",
                "--disable-banner",
                "--root-dir",
            ])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("java runs WireMock"),
    );
    wait_until_alive(&mut wm.0, Duration::from_secs(120), "WireMock", || {
        common::http_get(&format!("http://127.0.0.1:{wm_port}/__admin/mappings")).0 == 200
    });
    for (i, r) in requests().iter().enumerate() {
        let (s, _, b) = ask(wm_port, r);
        let (want_s, _, want_b) = expected(i);
        assert_eq!((s, b), (want_s, want_b), "WireMock replaying {r:?}");
    }
}

#[test]
fn record_refuses_a_bad_upstream_a_file_target_and_an_unknown_mock_before_listening() {
    let env = TestEnv::new().manifest("[project]\nname = \"rec2\"\n[mocks.a]\nport = \"auto\"\n");
    env.run(["mock", "record", "a", "--upstream", "ftp://example.com"])
        .code(2)
        .stderr_has("is not an http:// or https:// URL");
    let file_target = TestEnv::new()
        .manifest(
            "[project]\nname = \"rec3\"\n[mocks.b]\nport = \"auto\"\nwiremock = \"one.json\"\n",
        )
        .file("one.json", "{\"mappings\": []}");
    file_target
        .run(["mock", "record", "b", "--upstream", "http://127.0.0.1:9"])
        .code(2)
        .stderr_has("`wiremock` names a file");
    file_target
        .run(["mock", "record", "nope", "--upstream", "http://127.0.0.1:9"])
        .code(2)
        .stderr_has("there is no mock named `nope`");
    assert!(!env.exists("mocks"), "{:?}", env.repo_files());
}
