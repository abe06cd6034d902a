//! `devenv mock serve` and the background mocks of `up`, as the mock tests
//! drive them: a served mock killed on drop, one request to it, a guard
//! that stops what `up` started, and the WireMock fixture repository.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use super::{copy_dir, free_port, http_request, wait_until_alive, Headers, TestEnv};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mocks");

/// How long a mock may take to come up, or to notice a changed file.
pub const STARTUP: Duration = Duration::from_secs(60);

/// A foreground `devenv mock serve`, killed on drop.
pub struct Served {
    pub child: Child,
    pub port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(env: &TestEnv, name: &str) -> Served {
    serve_on(env, name, free_port(), &[])
}

/// `serve` on a chosen port, with more arguments (`--bind ADDR`).
pub fn serve_on(env: &TestEnv, name: &str, port: u16, more: &[&str]) -> Served {
    let port_arg = port.to_string();
    let mut args = vec!["mock", "serve", name, "--port", &port_arg];
    args.extend_from_slice(more);
    let child = env
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut s = Served { child, port };
    wait_until_alive(
        &mut s.child,
        STARTUP,
        "`devenv mock serve` to answer",
        || http(port, "GET", "/__admin/health", &[], "").0 == 200,
    );
    s
}

/// One request to the mock on `port`: (status, headers, body). Status 0
/// when nothing answers.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Headers, String) {
    http_request(
        method,
        &format!("http://127.0.0.1:{port}{path}"),
        headers,
        body,
    )
}

/// Stops the background mocks `up` started, even when the test fails.
pub struct Down(std::path::PathBuf, std::path::PathBuf);
impl Drop for Down {
    fn drop(&mut self) {
        let _ = devenv::mocks::down(&devenv::paths::Paths::new(&self.0, &self.1));
    }
}

pub fn down_guard(env: &TestEnv) -> Down {
    Down(env.devenv_home(), env.repo())
}

pub fn wiremock_env() -> TestEnv {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"m\"\n[mocks.payments]\nport = \"auto\"\nwiremock = \"mocks/payments\"\n\
         [[mocks.payments.routes]]\nmethod = \"GET\"\npath = \"/v1/health\"\njson = { ok = true }\n",
    );
    copy_dir(
        &Path::new(FIXTURES).join("wiremock"),
        &env.repo().join("mocks/payments"),
    );
    env
}
