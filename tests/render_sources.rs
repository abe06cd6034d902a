//! `[config.sources]`: values from a running environment over HTTP(S) JSON
//! and Consul's KV API, cached for `--offline`.

mod common;
mod render_support;

use std::collections::BTreeMap;

use common::{free_port, TestEnv};
use render_support::{consul_server, json_server};

fn consul_kv() -> BTreeMap<String, String> {
    [
        ("config/checkout/", ""),
        ("config/checkout/log_level", "debug"),
        ("config/checkout/database/pool", "12"),
        ("config/checkout/database/host", "db.staging.internal"),
        ("config/checkout/features", "{\"new_cart\": true}"),
        ("config/checkout2/ignored", "x"),
        ("other/thing", "y"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn consul_manifest(url: &str) -> String {
    format!(
        r#"
[project]
name = "checkout"

[config.values]
log_level = "info"
[config.values.database]
pool = 2
host = "localhost"
[config.values.features]
new_cart = false

[config.environments.staging]

[config.sources.consul]
kind = "consul"
url = "{url}"
prefix = "config/checkout"
token_env = "CONSUL_HTTP_TOKEN"
environments = ["staging"]

[[config.files]]
template = "app.env.j2"
output = "app.env"
"#
    )
}

const TEMPLATE: &str =
    "LOG_LEVEL={{ log_level }}\nDB={{ database.host }}:{{ database.pool }}\nNEW_CART={{ features.new_cart }}\n";

#[test]
fn consul_kv_values_layer_above_config_values_and_are_cached_for_offline() {
    let consul = consul_server(consul_kv(), Some("acl-token-123"));
    let t = TestEnv::new()
        .manifest(&consul_manifest(&consul.base()))
        .file("app.env.j2", TEMPLATE)
        .env("CONSUL_HTTP_TOKEN", "acl-token-123");
    // A config source is fetched only from a trusted devenv.toml.
    t.run(["trust"]).success();

    // Only for the environments it names.
    t.run(["render"]).success();
    assert_eq!(
        t.read("app.env"),
        "LOG_LEVEL=info\nDB=localhost:2\nNEW_CART=false\n"
    );
    assert!(consul.requests().is_empty());

    let r = t.run(["render", "--env", "staging"]).success();
    assert_eq!(
        t.read("app.env"),
        "LOG_LEVEL=debug\nDB=db.staging.internal:12\nNEW_CART=true\n"
    );
    assert!(!r.stderr.contains("acl-token-123"), "{}", r.stderr);
    let req = &consul.requests()[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.target, "/v1/kv/config/checkout?recurse=true");
    assert_eq!(req.header("x-consul-token"), Some("acl-token-123"));

    // --explain names the source.
    t.run(["render", "--env", "staging", "--explain", "database.pool"])
        .success()
        .stdout_has("database.pool = 12\n  from [config.sources.consul]")
        .stdout_has("2 from [config.values]");

    // The last good answer is kept (0600: it may hold credentials)...
    let cache = t.repo().join(".devenv/state/sources/consul.json");
    assert!(cache.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // ...and used offline without asking the server.
    let asked = consul.requests().len();
    t.write("app.env.j2", &format!("{TEMPLATE}# offline\n"));
    t.run(["up", "--only", "config", "--env", "staging", "--offline"])
        .success();
    assert_eq!(consul.requests().len(), asked, "--offline never asks");
    assert!(t.read("app.env").contains("DB=db.staging.internal:12"));

    // A server that went away: a warning, and the cached copy.
    consul.stop();
    drop(consul);
    t.write("app.env.j2", &format!("{TEMPLATE}# server gone\n"));
    t.run(["render", "--env", "staging"])
        .success()
        .stderr_has("warning: source `consul`")
        .stderr_has("using the copy from");
    assert!(t.read("app.env").contains("DB=db.staging.internal:12"));
}

#[test]
fn check_does_not_write_the_source_cache() {
    let consul = consul_server(consul_kv(), None);
    let t = TestEnv::new()
        .manifest(&consul_manifest(&consul.base()))
        .file("app.env.j2", TEMPLATE);
    // A config source is fetched only from a trusted devenv.toml.
    t.run(["trust"]).success();
    t.run(["render", "--env", "staging", "--check"]).code(1);
    assert_eq!(consul.requests().len(), 1);
    assert!(!t.exists(".devenv"), "--check writes nothing");
}

#[test]
fn offline_without_a_cache_fails_naming_the_source() {
    let consul = consul_server(consul_kv(), None);
    let t = TestEnv::new()
        .manifest(&consul_manifest(&consul.base()))
        .file("app.env.j2", TEMPLATE);
    // A config source is fetched only from a trusted devenv.toml.
    t.run(["trust"]).success();
    t.run(["up", "--only", "config", "--env", "staging", "--offline"])
        .code(1)
        .stderr_has("value source `consul` is not available")
        .stderr_has("offline");
    assert!(consul.requests().is_empty());
    assert!(!t.exists("app.env"));
}

#[test]
fn a_failing_source_without_a_cache_fails_naming_it() {
    // Consul's ACL says no.
    let consul = consul_server(consul_kv(), Some("right"));
    let t = TestEnv::new()
        .manifest(&consul_manifest(&consul.base()))
        .file("app.env.j2", TEMPLATE)
        .env("CONSUL_HTTP_TOKEN", "wrong");
    // A config source is fetched only from a trusted devenv.toml.
    t.run(["trust"]).success();
    let r = t
        .run(["render", "--env", "staging"])
        .code(1)
        .stderr_has("value source `consul` is not available")
        .stderr_has("403");
    assert!(!r.stderr.contains("wrong"), "{}", r.stderr);
    assert!(!t.exists("app.env"));

    // A prefix with no keys (Consul answers 404).
    let t2 = TestEnv::new()
        .manifest(&consul_manifest(&consul.base()).replace("config/checkout", "config/none"))
        .file("app.env.j2", TEMPLATE)
        .env("CONSUL_HTTP_TOKEN", "right");
    // A config source is fetched only from a trusted devenv.toml.
    t2.run(["trust"]).success();
    t2.run(["render", "--env", "staging"])
        .code(1)
        .stderr_has("no keys under `config/none`");

    // Nothing listening at all.
    let port = free_port();
    let t3 = TestEnv::new()
        .manifest(&consul_manifest(&format!("http://127.0.0.1:{port}")))
        .file("app.env.j2", TEMPLATE);
    // A config source is fetched only from a trusted devenv.toml.
    t3.run(["trust"]).success();
    t3.run(["render", "--env", "staging"])
        .code(1)
        .stderr_has("value source `consul` is not available")
        .stderr_has("cannot connect");
}

#[test]
fn http_json_source_with_a_bearer_token_nested_under_a_key() {
    let server = json_server(
        serde_json::json!({"pool": 30, "replica": {"host": "ro.internal"}}),
        Some("bearer-xyz"),
    );
    let t = TestEnv::new()
        .manifest(&format!(
            r#"
[config.values.database]
pool = 2
[config.sources.platform]
kind = "http"
url = "{}/v1/config/checkout.json"
key = "database"
token_env = "PLATFORM_TOKEN"
[[config.files]]
template = "t.j2"
output = "out.txt"
"#,
            server.base()
        ))
        .file("t.j2", "{{ database.pool }} {{ database.replica.host }}\n")
        .env("PLATFORM_TOKEN", "bearer-xyz");
    // A config source is fetched only from a trusted devenv.toml.
    t.run(["trust"]).success();
    t.run(["render"]).success();
    assert_eq!(t.read("out.txt"), "30 ro.internal\n");
    let req = &server.requests()[0];
    assert_eq!(req.target, "/v1/config/checkout.json");
    assert_eq!(req.header("authorization"), Some("Bearer bearer-xyz"));

    // A later layer still wins over the source.
    t.run(["render", "--set", "database.pool=5"]).success();
    assert_eq!(t.read("out.txt"), "5 ro.internal\n");
}

#[test]
fn an_http_document_that_is_not_an_object_needs_a_key() {
    let server = json_server(serde_json::json!(["a", "b"]), None);
    let manifest = format!(
        r#"
[config.sources.hosts]
kind = "http"
url = "{}/hosts.json"
[[config.files]]
template = "t.j2"
output = "out.txt"
"#,
        server.base()
    );
    let t = TestEnv::new()
        .manifest(&manifest)
        .file("t.j2", "{{ hosts | join(',') }}\n");
    // A config source is fetched only from a trusted devenv.toml.
    t.run(["trust"]).success();
    t.run(["render"])
        .code(1)
        .stderr_has("not a JSON object")
        .stderr_has("`key`");
    t.write(
        "devenv.toml",
        &manifest.replace("kind = \"http\"", "kind = \"http\"\nkey = \"hosts\""),
    );
    t.run(["render"]).success();
    assert_eq!(t.read("out.txt"), "a,b\n");
}
