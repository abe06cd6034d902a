//! Pinned tools: real downloads from a local HTTP server, real archives,
//! the shared store, faults and hostile archives.

mod common;
mod tools_archives;

use std::path::Path;

use common::{Fault, Server, TestEnv};
use tools_archives::{self as archives, script, sha256};

const PLAT: &str = "linux-x86_64";

/// A `[tools.NAME]` table for a URL tool with this platform's sum.
fn url_tool(name: &str, version: &str, url: &str, body: &[u8], extra: &str) -> String {
    format!(
        "[tools.{name}]\nversion = \"{version}\"\nurl = \"{url}\"\nsha256 = {{ \"{PLAT}\" = \"{}\" }}\n{extra}\n",
        sha256(body)
    )
}

/// Serves four tools, one per archive kind, and returns the manifest text.
fn four_tools(server: &Server) -> String {
    let tgz = archives::gz(&archives::tar(&[
        ("alpha-1.0/bin/alpha", script("alpha", "1.0"), 0o755),
        ("alpha-1.0/README", b"docs".to_vec(), 0o644),
    ]));
    let txz = archives::xz(&archives::tar(&[(
        "bin/beta",
        script("beta", "2.0"),
        0o755,
    )]));
    let zip = archives::zip(&[("gamma", script("gamma", "3.0"), 0o755)]);
    let bare = script("delta", "4.0");
    server.file("/alpha-1.0.tar.gz", tgz.clone());
    server.file("/beta-2.0.tar.xz", txz.clone());
    server.file("/gamma-3.0.zip", zip.clone());
    server.file("/delta-4.0-linux-x86_64", bare.clone());
    let mut m = String::from("[project]\nname = \"toolsdemo\"\n\n");
    m += &url_tool(
        "alpha",
        "1.0",
        &server.url("/alpha-{version}.tar.gz"),
        &tgz,
        "strip_components = 1",
    );
    m += &url_tool(
        "beta",
        "2.0",
        &server.url("/beta-{version}.tar.xz"),
        &txz,
        "",
    );
    m += &url_tool(
        "gamma",
        "3.0",
        &server.url("/gamma-{version}.zip"),
        &zip,
        "",
    );
    m += &url_tool(
        "delta",
        "4.0",
        &server.url("/delta-{version}-{os}-{arch}"),
        &bare,
        "",
    );
    m
}

fn store_entries(env: &TestEnv) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(env.devenv_home().join("store"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn no_temp_dirs_left(env: &TestEnv) {
    let store = env.devenv_home().join("store");
    for e in std::fs::read_dir(&store).into_iter().flatten().flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        assert!(!n.starts_with(".tmp-"), "temp dir left in the store: {n}");
    }
}

#[test]
fn installs_tar_gz_tar_xz_zip_and_bare_then_second_up_downloads_nothing() {
    let server = Server::start();
    let env = TestEnv::new().manifest(&four_tools(&server));
    env.run(["up"]).success();
    assert_eq!(server.total_gets(), 4, "{:?}", server.log());
    for (tool, version) in [
        ("alpha", "1.0"),
        ("beta", "2.0"),
        ("gamma", "3.0"),
        ("delta", "4.0"),
    ] {
        env.run(["exec", "--", tool, "hi"])
            .success()
            .stdout_has(&format!("{tool} {version} hi"));
        let link = env.repo().join(".devenv/bin").join(tool);
        assert!(link.exists(), "{} missing", link.display());
    }
    assert_eq!(store_entries(&env).len(), 4);

    // Idempotent: nothing downloaded, nothing changed.
    env.run(["up"]).success();
    env.run(["up", "--only", "tools"]).success();
    assert_eq!(server.total_gets(), 4, "{:?}", server.log());

    // A second project on the same machine pinning the same tools.
    let other = TestEnv::new()
        .manifest(&four_tools(&server).replace("toolsdemo", "other"))
        .env("DEVENV_HOME", env.devenv_home().to_str().unwrap());
    other.run(["up"]).success();
    assert_eq!(server.total_gets(), 4, "{:?}", server.log());
    other
        .run(["exec", "--", "beta"])
        .success()
        .stdout_has("beta 2.0");
    assert_eq!(store_entries(&env).len(), 4);
}

#[test]
fn links_are_repaired_and_removed_tools_unlinked() {
    let server = Server::start();
    let env = TestEnv::new().manifest(&four_tools(&server));
    env.run(["up"]).success();
    std::fs::remove_file(env.repo().join(".devenv/bin/alpha")).unwrap();
    env.run(["up"]).success();
    assert!(env.repo().join(".devenv/bin/alpha").exists());
    // Dropping a tool from devenv.toml drops its link.
    let text = four_tools(&server);
    let without_gamma: String = text.split("[tools.gamma]").next().unwrap().to_string()
        + "[tools.delta]"
        + text.split("[tools.delta]").nth(1).unwrap();
    env.write("devenv.toml", &without_gamma);
    env.run(["up"]).success();
    assert!(!env.repo().join(".devenv/bin/gamma").exists());
    assert!(env.repo().join(".devenv/bin/delta").exists());
    assert_eq!(server.total_gets(), 4);
}

fn one_tool(server: &Server, body: &[u8], served: &[u8]) -> TestEnv {
    server.file("/t-1.0.tar.gz", served.to_vec());
    TestEnv::new().manifest(&format!(
        "[project]\nname = \"faults\"\n\n{}",
        url_tool("t", "1.0", &server.url("/t-{version}.tar.gz"), body, "")
    ))
}

fn tool_archive(size: usize) -> Vec<u8> {
    // Incompressible padding so the download is big enough to cut in half.
    let mut pad = Vec::with_capacity(size);
    let mut x: u32 = 12345;
    for _ in 0..size {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        pad.push((x >> 16) as u8);
    }
    archives::gz(&archives::tar(&[
        ("bin/t", script("t", "1.0"), 0o755),
        ("share/pad", pad, 0o644),
    ]))
}

fn assert_not_installed(env: &TestEnv) {
    assert!(store_entries(env).is_empty(), "{:?}", store_entries(env));
    assert!(!env.repo().join(".devenv/bin/t").exists());
    no_temp_dirs_left(env);
}

#[test]
fn wrong_checksum_is_refused_and_nothing_is_installed() {
    let server = Server::start();
    let good = tool_archive(1000);
    let evil = tool_archive(1001);
    let env = one_tool(&server, &good, &evil);
    env.run(["up"])
        .code(1)
        .stderr_has("checksum mismatch")
        .stderr_has(&sha256(&good))
        .stderr_has(&sha256(&evil));
    assert_not_installed(&env);
    // The bad download is not kept in the cache either.
    let cache = env.devenv_home().join("cache/archives");
    let kept: Vec<_> = std::fs::read_dir(cache)
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    assert!(kept.is_empty(), "{kept:?}");
}

#[test]
fn truncated_body_is_resumed_with_a_range_request() {
    let server = Server::start();
    let body = tool_archive(200_000);
    let env = one_tool(&server, &body, &body);
    server.fault(
        "/t-1.0.tar.gz",
        Fault::Truncate {
            gets: 1,
            at: body.len() / 2,
        },
    );
    env.run(["up"]).success();
    assert_eq!(server.gets("/t-1.0.tar.gz"), 2);
    env.run(["exec", "--", "t"]).success().stdout_has("t 1.0");
}

#[test]
fn truncated_body_restarts_when_the_server_ignores_range() {
    let server = Server::start();
    server.ranges(false);
    let body = tool_archive(100_000);
    let env = one_tool(&server, &body, &body);
    server.fault(
        "/t-1.0.tar.gz",
        Fault::Truncate {
            gets: 1,
            at: body.len() / 3,
        },
    );
    env.run(["up"]).success();
    env.run(["exec", "--", "t"]).success().stdout_has("t 1.0");
}

#[test]
fn not_found_is_a_clear_error_without_retries() {
    let server = Server::start();
    let body = tool_archive(100);
    let env = one_tool(&server, &body, &body);
    server.fault("/t-1.0.tar.gz", Fault::Status(404));
    env.run(["up"])
        .code(1)
        .stderr_has("tool `t`")
        .stderr_has("HTTP 404");
    assert_eq!(server.gets("/t-1.0.tar.gz"), 1);
    assert_not_installed(&env);
}

#[test]
fn server_error_then_success_is_retried() {
    let server = Server::start();
    let body = tool_archive(100);
    let env = one_tool(&server, &body, &body);
    server.fault(
        "/t-1.0.tar.gz",
        Fault::FailFirst {
            gets: 2,
            status: 500,
        },
    );
    env.run(["up"]).success();
    assert_eq!(server.gets("/t-1.0.tar.gz"), 3);
    env.run(["exec", "--", "t"]).success().stdout_has("t 1.0");
}

#[test]
fn persistent_server_errors_give_up_and_install_nothing() {
    let server = Server::start();
    let body = tool_archive(100);
    let env = one_tool(&server, &body, &body);
    server.fault("/t-1.0.tar.gz", Fault::Status(503));
    env.run(["up"]).code(1).stderr_has("HTTP 503");
    assert_eq!(server.gets("/t-1.0.tar.gz"), 4);
    assert_not_installed(&env);
    // The next run converges once the server is back.
    server.fault(
        "/t-1.0.tar.gz",
        Fault::FailFirst {
            gets: 0,
            status: 500,
        },
    );
    env.run(["up"]).success();
}

#[test]
fn stalled_server_times_out_and_installs_nothing() {
    let server = Server::start();
    let body = tool_archive(100_000);
    let env = one_tool(&server, &body, &body).env("DEVENV_HTTP_TIMEOUT", "0.3");
    server.fault("/t-1.0.tar.gz", Fault::Stall);
    env.run(["up"]).code(1).stderr_has("stalled");
    assert_not_installed(&env);
}

fn hostile(server: &Server, name: &str, archive: Vec<u8>) -> TestEnv {
    let path = format!("/{name}-1.0.tar.gz");
    server.file(&path, archive.clone());
    TestEnv::new().manifest(&format!(
        "[project]\nname = \"hostile\"\n\n{}",
        url_tool(
            name,
            "1.0",
            &server.url(&format!("/{name}-{{version}}.tar.gz")),
            &archive,
            ""
        )
    ))
}

fn assert_refused(env: &TestEnv, escaped: &Path) {
    env.run(["up"]).code(1).stderr_has("refusing archive");
    assert!(!escaped.exists(), "{} was written", escaped.display());
    assert!(store_entries(env).is_empty());
    no_temp_dirs_left(env);
}

#[test]
fn path_traversal_archive_is_refused() {
    let server = Server::start();
    let mut tar = archives::tar(&[("bin/ok", script("ok", "1"), 0o755)]);
    tar.truncate(tar.len() - 1024);
    tar.extend(archives::tar_raw("../../escaped-traversal", b"pwned", None));
    let env = hostile(&server, "trav", archives::gz(&tar));
    let escaped = env.repo().parent().unwrap().join("escaped-traversal");
    assert_refused(&env, &escaped);
    assert!(!env.devenv_home().join("escaped-traversal").exists());
}

#[test]
fn absolute_path_archive_is_refused() {
    let server = Server::start();
    let target = std::env::temp_dir().join(format!("devenv-abs-{}", std::process::id()));
    let tar = archives::tar_raw(target.to_str().unwrap(), b"pwned", None);
    let env = hostile(&server, "abs", archives::gz(&tar));
    assert_refused(&env, &target);
}

#[test]
fn symlink_escape_archive_is_refused() {
    let server = Server::start();
    let mut tar = archives::tar_raw("bin/evil", b"", Some("../../../../../../etc/passwd"));
    tar.truncate(tar.len() - 1024);
    tar.extend(archives::tar(&[("bin/ok", script("ok", "1"), 0o755)]));
    let env = hostile(&server, "link", archives::gz(&tar));
    env.run(["up"])
        .code(1)
        .stderr_has("links outside the archive");
    assert!(store_entries(&env).is_empty());
    no_temp_dirs_left(&env);
}

#[test]
fn zip_traversal_is_refused() {
    let server = Server::start();
    let zip = archives::zip(&[
        ("ok", script("ok", "1"), 0o755),
        ("../zip-escaped", b"pwned".to_vec(), 0o644),
    ]);
    server.file("/z-1.0.zip", zip.clone());
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"zipped\"\n\n{}",
        url_tool("z", "1.0", &server.url("/z-{version}.zip"), &zip, "")
    ));
    let escaped = env.devenv_home().join("store/zip-escaped");
    assert_refused(&env, &escaped);
}

#[test]
fn two_concurrent_ups_install_the_same_tool_once_and_both_succeed() {
    let server = Server::start();
    let body = tool_archive(2_000_000);
    server.file("/t-1.0.tar.gz", body.clone());
    let manifest = |name: &str| {
        format!(
            "[project]\nname = \"{name}\"\n\n{}",
            url_tool("t", "1.0", &server.url("/t-{version}.tar.gz"), &body, "")
        )
    };
    let a = TestEnv::new().manifest(&manifest("conc-a"));
    let b = TestEnv::new()
        .manifest(&manifest("conc-b"))
        .env("DEVENV_HOME", a.devenv_home().to_str().unwrap());
    let spawn = |env: &TestEnv| {
        env.command(["up"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (ra, rb) = (
        pa.wait_with_output().unwrap(),
        pb.wait_with_output().unwrap(),
    );
    assert!(
        ra.status.success(),
        "{}",
        String::from_utf8_lossy(&ra.stderr)
    );
    assert!(
        rb.status.success(),
        "{}",
        String::from_utf8_lossy(&rb.stderr)
    );
    assert_eq!(store_entries(&a).len(), 1);
    // The file lock made the second process wait and reuse the first's work.
    assert_eq!(server.gets("/t-1.0.tar.gz"), 1, "{:?}", server.log());
    a.run(["exec", "--", "t"]).success().stdout_has("t 1.0");
    b.run(["exec", "--", "t"]).success().stdout_has("t 1.0");
    let pad = a
        .devenv_home()
        .join("store")
        .join(&store_entries(&a)[0])
        .join("share/pad");
    assert_eq!(std::fs::metadata(pad).unwrap().len(), 2_000_000);
    no_temp_dirs_left(&a);
}

#[test]
fn a_tool_without_checksum_is_refused_unless_opted_in() {
    let server = Server::start();
    let bare = script("u", "1.0");
    server.file("/u-1.0", bare);
    let url = server.url("/u-{version}");
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"unverified\"\n\n[tools.u]\nversion = \"1.0\"\nurl = \"{url}\"\n"
    ));
    env.run(["up"])
        .code(2)
        .stderr_has("tool `u` has no sha256 for linux-x86_64")
        .stderr_has("allow_unverified");
    assert_eq!(server.total_gets(), 0);
    env.write(
        "devenv.toml",
        &format!(
            "[project]\nname = \"unverified\"\n\n[tools.u]\nversion = \"1.0\"\nurl = \"{url}\"\nallow_unverified = true\n"
        ),
    );
    env.run(["up"]).success();
    env.run(["exec", "--", "u"]).success().stdout_has("u 1.0");
}

#[test]
fn explicit_bin_paths_and_platform_overrides() {
    let server = Server::start();
    let tgz = archives::gz(&archives::tar(&[
        ("pkg/tools/one", script("one", "1"), 0o755),
        ("pkg/tools/two", script("two", "1"), 0o700),
        ("pkg/tools/data.txt", b"x".to_vec(), 0o644),
    ]));
    server.file("/linux/multi.tgz", tgz.clone());
    let env = TestEnv::new().manifest(&format!(
        "[project]\nname = \"multi\"\n\n[tools.multi]\nversion = \"1\"\nurl = \"{}\"\nbin = [\"tools/one\", \"tools/two\"]\nsha256 = {{ \"{PLAT}\" = \"{}\" }}\n[tools.multi.platforms.{PLAT}]\nurl = \"{}\"\nstrip_components = 1\n",
        server.url("/never/{version}.tgz"),
        sha256(&tgz),
        server.url("/{os}/multi.tgz"),
    ));
    env.run(["up"]).success();
    env.run(["exec", "--", "one"]).success().stdout_has("one 1");
    env.run(["exec", "--", "two"]).success().stdout_has("two 1");
    assert!(!env.repo().join(".devenv/bin/data.txt").exists());
}
