//! devenv.lock through a mirror for index tools, --frozen, --offline,
//! [requires], activation (exec, env) and gc.

mod common;
mod tools_archives;

use common::{Server, TestEnv};
use tools_archives::{self as archives, script, sha256};

/// Serves node 20.11.1 and jq 1.7.1 for all four platforms under the mirror
/// layout (`/<upstream host>/<upstream path>`), with upstream's own checksum
/// files. Returns node's and jq's linux-x86_64 artifacts.
fn serve_index_tools(server: &Server) -> (Vec<u8>, Vec<u8>) {
    let mut shasums = String::new();
    let mut node_linux = Vec::new();
    for (os, arch) in [
        ("linux", "x64"),
        ("linux", "arm64"),
        ("darwin", "x64"),
        ("darwin", "arm64"),
    ] {
        let dir = format!("node-v20.11.1-{os}-{arch}");
        let mut b = tar::Builder::new(Vec::new());
        let body = script("node", &format!("v20.11.1-{os}-{arch}"));
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o755);
        b.append_data(&mut h, format!("{dir}/bin/node"), &body[..])
            .unwrap();
        let npm = script("npm", "10.2.4");
        let mut h = tar::Header::new_gnu();
        h.set_size(npm.len() as u64);
        h.set_mode(0o755);
        b.append_data(
            &mut h,
            format!("{dir}/lib/node_modules/npm/bin/npm-cli.js"),
            &npm[..],
        )
        .unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(
            &mut h,
            format!("{dir}/bin/npm"),
            "../lib/node_modules/npm/bin/npm-cli.js",
        )
        .unwrap();
        let txz = archives::xz(&b.into_inner().unwrap());
        let file = format!("{dir}.tar.xz");
        shasums += &format!("{}  {file}\n", sha256(&txz));
        if os == "linux" && arch == "x64" {
            node_linux = txz.clone();
        }
        server.file(&format!("/nodejs.org/dist/v20.11.1/{file}"), txz);
    }
    shasums += &format!("{}  node-v20.11.1.tar.gz\n", "0".repeat(64));
    server.file("/nodejs.org/dist/v20.11.1/SHASUMS256.txt", shasums);

    let mut jqsums = String::new();
    let mut jq_linux = Vec::new();
    for (os, arch) in [
        ("linux", "amd64"),
        ("linux", "arm64"),
        ("macos", "amd64"),
        ("macos", "arm64"),
    ] {
        let file = format!("jq-{os}-{arch}");
        let body = script("jq", &format!("1.7.1-{os}-{arch}"));
        jqsums += &format!("{}  {file}\n", sha256(&body));
        if os == "linux" && arch == "amd64" {
            jq_linux = body.clone();
        }
        server.file(
            &format!("/github.com/jqlang/jq/releases/download/jq-1.7.1/{file}"),
            body,
        );
    }
    server.file(
        "/github.com/jqlang/jq/releases/download/jq-1.7.1/sha256sum.txt",
        jqsums,
    );
    (node_linux, jq_linux)
}

const INDEX_MANIFEST: &str =
    "[project]\nname = \"indexed\"\n\n[tools]\nnode = \"20.11.1\"\njq = \"1.7.1\"\n";

#[test]
fn lock_pins_index_tools_for_every_platform_through_the_mirror() {
    let server = Server::start();
    let (node_linux, jq_linux) = serve_index_tools(&server);
    let env = TestEnv::new()
        .manifest(INDEX_MANIFEST)
        .env("DEVENV_TOOLS_MIRROR", &server.base());
    env.run(["lock"]).success().stderr_has("devenv.lock");
    let text = env.read("devenv.lock");
    let lock: toml::Value = toml::from_str(&text).unwrap();
    let node = &lock["tools"]["node"];
    assert_eq!(node["version"].as_str(), Some("20.11.1"));
    let platforms = node["platforms"].as_table().unwrap();
    assert_eq!(
        platforms.keys().collect::<Vec<_>>(),
        [
            "linux-aarch64",
            "linux-x86_64",
            "macos-aarch64",
            "macos-x86_64"
        ]
    );
    let linux = &platforms["linux-x86_64"];
    // The lock records upstream's URL, not the mirror's.
    assert_eq!(
        linux["url"].as_str(),
        Some("https://nodejs.org/dist/v20.11.1/node-v20.11.1-linux-x64.tar.xz")
    );
    assert_eq!(linux["sha256"].as_str(), Some(sha256(&node_linux).as_str()));
    assert_eq!(linux["size"].as_integer(), Some(node_linux.len() as i64));
    let jq = &lock["tools"]["jq"]["platforms"]["linux-x86_64"];
    assert_eq!(jq["sha256"].as_str(), Some(sha256(&jq_linux).as_str()));
    assert_eq!(
        lock["tools"]["jq"]["platforms"].as_table().unwrap().len(),
        4
    );
    // Nothing was downloaded to lock: sums from SHASUMS files, sizes from HEAD.
    assert_eq!(
        server.gets("/nodejs.org/dist/v20.11.1/node-v20.11.1-linux-x64.tar.xz"),
        0
    );

    // Locking again gives the same bytes: a stable diff.
    env.run(["lock"]).success();
    assert_eq!(env.read("devenv.lock"), text);

    // up --frozen installs from the lock, through the mirror.
    env.run(["up", "--frozen"]).success();
    env.run(["exec", "--", "node"])
        .success()
        .stdout_has("node v20.11.1-linux-x64");
    env.run(["exec", "--", "npm", "ci"])
        .success()
        .stdout_has("npm 10.2.4 ci");
    env.run(["exec", "--", "jq"])
        .success()
        .stdout_has("jq 1.7.1-linux-amd64");
}

#[test]
fn index_tools_install_without_a_lock_using_upstream_sums() {
    let server = Server::start();
    serve_index_tools(&server);
    let env = TestEnv::new()
        .manifest(INDEX_MANIFEST)
        .env("DEVENV_TOOLS_MIRROR", &server.base());
    env.run(["up"]).success();
    env.run(["exec", "--", "jq"])
        .success()
        .stdout_has("jq 1.7.1");
    let after_first = server.total_gets();
    // Another project pinning the same versions needs no request at all.
    let other = TestEnv::new()
        .manifest(&INDEX_MANIFEST.replace("indexed", "again"))
        .env("DEVENV_HOME", env.devenv_home().to_str().unwrap())
        .env("DEVENV_TOOLS_MIRROR", &server.base());
    other.run(["up"]).success();
    assert_eq!(server.total_gets(), after_first, "{:?}", server.log());
}

#[test]
fn a_tampered_upstream_artifact_fails_against_the_lock() {
    let server = Server::start();
    serve_index_tools(&server);
    let env = TestEnv::new()
        .manifest(INDEX_MANIFEST)
        .env("DEVENV_TOOLS_MIRROR", &server.base());
    env.run(["lock"]).success();
    server.file(
        "/github.com/jqlang/jq/releases/download/jq-1.7.1/jq-linux-amd64",
        script("jq", "evil"),
    );
    env.run(["up", "--frozen"])
        .code(1)
        .stderr_has("checksum mismatch");
    assert!(!env.repo().join(".devenv/bin/jq").exists());
}

#[test]
fn frozen_without_a_lock_exits_2() {
    let env = TestEnv::new().manifest(INDEX_MANIFEST);
    env.run(["up", "--frozen"])
        .code(2)
        .stderr_has("devenv.lock is missing")
        .stderr_has("devenv lock");
    assert!(!env.exists(".devenv/bin"));
}

#[test]
fn frozen_with_a_stale_lock_exits_2_and_downloads_nothing() {
    let server = Server::start();
    serve_index_tools(&server);
    let env = TestEnv::new()
        .manifest(INDEX_MANIFEST)
        .env("DEVENV_TOOLS_MIRROR", &server.base());
    env.run(["lock"]).success();
    let before = server.total_gets();
    env.write("devenv.toml", &INDEX_MANIFEST.replace("1.7.1", "1.7.0"));
    env.run(["up", "--frozen"])
        .code(2)
        .stderr_has("does not match devenv.toml")
        .stderr_has("`jq` is 1.7.0 in devenv.toml but 1.7.1 in devenv.lock");
    assert_eq!(server.total_gets(), before);
    assert!(!env.exists(".devenv/bin"));
}

/// A repository pinning one bare tool served by `server`.
fn project_with_tool(server: &Server, project: &str, tool: &str) -> TestEnv {
    TestEnv::new().manifest(&format!(
        "[project]\nname = \"{project}\"\n\n{}",
        bare_tool(server, tool)
    ))
}

fn bare_tool(server: &Server, name: &str) -> String {
    let body = script(name, "1.0");
    server.file(&format!("/{name}"), body.clone());
    format!(
        "[tools.{name}]\nversion = \"1.0\"\nurl = \"{}\"\nsha256 = {{ \"linux-x86_64\" = \"{}\" }}\n",
        server.url(&format!("/{name}")),
        sha256(&body)
    )
}

#[test]
fn offline_with_a_missing_tool_exits_1_naming_it() {
    let server = Server::start();
    let env = project_with_tool(&server, "off", "offtool");
    env.run(["up", "--offline"])
        .code(1)
        .stderr_has("--offline: tool `offtool` 1.0 is not in the store");
    assert_eq!(server.total_gets(), 0);
    // Index tools need their sums: also named, also no network.
    let idx = TestEnv::new().manifest(INDEX_MANIFEST);
    idx.run(["up", "--offline"])
        .code(1)
        .stderr_has("--offline: tool `");
}

#[test]
fn offline_installs_from_the_store_and_the_download_cache() {
    let server = Server::start();
    let env = project_with_tool(&server, "off2", "cached");
    env.run(["up"]).success();
    // A fresh clone of the same project: from the store.
    std::fs::remove_dir_all(env.repo().join(".devenv")).unwrap();
    env.run(["up", "--offline"]).success();
    // The store entry gone: from the cached download.
    let store = env.devenv_home().join("store");
    for e in std::fs::read_dir(&store).unwrap().flatten() {
        if !e.file_name().to_string_lossy().starts_with('.') {
            std::fs::remove_dir_all(e.path()).unwrap();
        }
    }
    env.run(["up", "--offline"]).success();
    env.run(["exec", "--", "cached"])
        .success()
        .stdout_has("cached 1.0");
    assert_eq!(server.total_gets(), 1);
}

/// A directory with a fake system tool printing `version`.
fn fake_tool(env: &TestEnv, name: &str, version_line: &str) -> String {
    let dir = env.home().join("fakebin");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\necho '{version_line}'\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap())
}

#[test]
fn requires_a_too_old_tool_exits_3_before_anything_changes() {
    let server = Server::start();
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"req\"\n\n[requires]\nfaketool = \">=2.0\"\n\n{}",
        bare_tool(&server, "sometool")
    ));
    let path = fake_tool(&env, "faketool", "faketool version 1.2.3 (build 9)");
    let env = env.env("PATH", &path);
    env.run(["up"])
        .code(3)
        .stderr_has("`faketool` is 1.2.3")
        .stderr_has(">=2.0");
    assert_eq!(server.total_gets(), 0);
    assert!(!env.exists(".devenv"));
}

#[test]
fn requires_a_missing_tool_exits_3_and_a_satisfied_one_passes() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"req2\"\n\n[requires]\nno-such-tool-devenv = \"*\"\n");
    env.run(["up"])
        .code(3)
        .stderr_has("`no-such-tool-devenv` was not found on PATH");
    let ok = TestEnv::new()
        .manifest("[project]\nname = \"req3\"\n\n[requires]\nfaketool = \"^1.2\"\nsh = \"*\"\n");
    let path = fake_tool(&ok, "faketool", "faketool 1.4");
    ok.env("PATH", &path).run(["up"]).success();
}

#[test]
fn exec_and_env_give_the_project_environment() {
    let server = Server::start();
    let env = project_with_tool(&server, "activ", "acttool");
    env.run(["up"]).success();
    let bin = env.repo().join(".devenv/bin");
    // The command's exit code and the project variables pass through.
    let r = env
        .run([
            "exec",
            "--",
            "sh",
            "-c",
            "echo $DEVENV_PROJECT $DEVENV_ROOT; acttool x; exit 7",
        ])
        .code(7);
    assert!(
        r.stdout
            .contains(&format!("activ {}", env.repo().display())),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("acttool 1.0 x"));

    let bash = env.run(["env", "--shell", "bash"]).success();
    assert!(
        bash.stdout
            .contains(&format!("export PATH='{}:", bin.display())),
        "{}",
        bash.stdout
    );
    assert!(bash.stdout.contains("export DEVENV_PROJECT='activ'"));
    let fish = env.run(["env", "--shell", "fish"]).success();
    assert!(fish
        .stdout
        .contains(&format!("set -gx PATH '{}' ", bin.display())));
    let json = env.run(["env", "--shell", "json"]).success().json();
    assert!(json["PATH"]
        .as_str()
        .unwrap()
        .starts_with(bin.to_str().unwrap()));

    // What direnv does: eval the output, then the pinned tool is first.
    let exe = env!("CARGO_BIN_EXE_devenv");
    let out = std::process::Command::new("bash")
        .args([
            "-c",
            "eval \"$(\"$DEVENV_EXE\" env --shell bash)\"; acttool via-direnv",
        ])
        .current_dir(env.repo())
        .env("DEVENV_EXE", exe)
        .env("DEVENV_HOME", env.devenv_home())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("acttool 1.0 via-direnv"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.run(["exec", "--", "no-such-command-devenv"])
        .code(2)
        .stderr_has("not found on PATH");
}

#[test]
fn gc_removes_entries_only_a_deleted_project_used() {
    let server = Server::start();
    let a = project_with_tool(&server, "gca", "keepme");
    let b = project_with_tool(&server, "gcb", "dropme")
        .env("DEVENV_HOME", a.devenv_home().to_str().unwrap());
    a.run(["up"]).success();
    b.run(["up"]).success();
    let entries = |env: &TestEnv| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(env.devenv_home().join("store"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| !n.starts_with('.'))
            .collect();
        v.sort();
        v
    };
    assert_eq!(entries(&a).len(), 2);
    a.run(["gc"])
        .success()
        .stderr_has("removed 0 store entries");
    assert_eq!(entries(&a).len(), 2);
    std::fs::remove_dir_all(b.repo()).unwrap();
    a.run(["gc"])
        .success()
        .stderr_has("removed 1 store entries");
    let left = entries(&a);
    assert_eq!(left.len(), 1);
    assert!(left[0].starts_with("keepme-1.0-"), "{left:?}");
    a.run(["exec", "--", "keepme"])
        .success()
        .stdout_has("keepme 1.0");
}

#[test]
fn http_proxy_is_honoured_and_no_proxy_bypasses_it() {
    let proxy = Server::start();
    let body = script("proxied", "1.0");
    // A proxy sees the absolute URL in the request line.
    proxy.file("http://tools.devenv-test.invalid/proxied", body.clone());
    let env = TestEnv::new()
        .manifest(&format!(
            "[project]\nname = \"proxied\"\n\n[tools.proxied]\nversion = \"1.0\"\nurl = \"http://tools.devenv-test.invalid/proxied\"\nsha256 = {{ \"linux-x86_64\" = \"{}\" }}\n",
            sha256(&body)
        ))
        .env("HTTP_PROXY", &proxy.base())
        .env("http_proxy", &proxy.base())
        .env("NO_PROXY", "")
        .env("no_proxy", "");
    env.run(["up"]).success();
    assert_eq!(proxy.gets("http://tools.devenv-test.invalid/proxied"), 1);
    env.run(["exec", "--", "proxied"])
        .success()
        .stdout_has("proxied 1.0");

    // NO_PROXY: a dead proxy is not used for 127.0.0.1.
    let server = Server::start();
    let dead = Server::start();
    let dead_url = dead.base();
    drop(dead);
    let direct = project_with_tool(&server, "direct", "direct")
        .env("HTTP_PROXY", &dead_url)
        .env("http_proxy", &dead_url)
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1");
    direct.run(["up"]).success();
    assert_eq!(server.gets("/direct"), 1);
}

#[test]
fn a_broken_lockfile_is_bad_input() {
    let env = TestEnv::new()
        .manifest(INDEX_MANIFEST)
        .file("devenv.lock", "version = 1\n[tools.node\n");
    env.run(["up"])
        .code(2)
        .stderr_has("devenv.lock is not a valid lockfile");
}
