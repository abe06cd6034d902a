//! Archive bombs: a tool's archive may unpack only to its limits
//! (`max_unpacked`, `max_ratio`), a failure names the tool, the limit and
//! the key that raises it, and nothing of a refused archive enters the store.

mod common;
mod tools_archives;

use std::process::Command;

use common::{Server, TestEnv};
use tools_archives as archives;
use tools_archives::{script, sha256};

const PLAT: &str = "linux-x86_64";

fn manifest(name: &str, url: &str, body: &[u8], extra: &str) -> String {
    format!(
        "[project]\nname = \"limits\"\n\n[tools.{name}]\nversion = \"1.0\"\nurl = \"{url}\"\nsha256 = {{ \"{PLAT}\" = \"{}\" }}\n{extra}\n",
        sha256(body)
    )
}

/// What is in the store besides its `.locks`: entries and `.tmp-` dirs.
fn store_contents(env: &TestEnv) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(env.devenv_home().join("store"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n != ".locks")
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn serve(server: &Server, path: &str, body: &[u8], extra: &str) -> TestEnv {
    server.file(path, body.to_vec());
    let name = path.trim_start_matches('/').split('-').next().unwrap();
    TestEnv::new().manifest(&manifest(name, &server.url(path), body, extra))
}

/// 64 MiB of zeros in a zip of about 64 KiB: a ratio of a thousand.
fn zip_bomb() -> Vec<u8> {
    archives::zip(&[
        ("bin/bomb", script("bomb", "1.0"), 0o755),
        ("zeros", vec![0u8; 64 << 20], 0o644),
    ])
}

#[test]
fn a_zip_bomb_is_stopped_at_the_limit_and_leaves_no_store_entry() {
    let server = Server::start();
    let zip = zip_bomb();
    assert!(zip.len() < 1 << 20, "{}", zip.len());
    let env = serve(&server, "/bomb-1.0.zip", &zip, "");
    env.run(["up", "--only", "tools"])
        .code(1)
        .stderr_has("tool `bomb`")
        .stderr_has("200 times its download size")
        .stderr_has("max_ratio = 1000")
        .stderr_has("[tools.bomb]");
    assert!(
        store_contents(&env).is_empty(),
        "{:?}",
        store_contents(&env)
    );
    assert!(!env.exists(".devenv/bin/bomb"));
}

#[test]
fn raising_max_ratio_lets_a_very_compressible_tool_install() {
    let server = Server::start();
    let zip = zip_bomb();
    let env = serve(&server, "/bomb-1.0.zip", &zip, "max_ratio = 5000");
    env.run(["up", "--only", "tools"]).success();
    assert!(env.exists(".devenv/bin/bomb"));
}

#[test]
fn max_unpacked_is_a_hard_limit_whatever_the_ratio() {
    let server = Server::start();
    // 2 MiB that gzip cannot shrink: the ratio is 1, the size is the problem.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: Vec<u8> = (0..2 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let tgz = archives::gz(&archives::tar(&[
        ("bin/big", script("big", "1.0"), 0o755),
        ("data", noise, 0o644),
    ]));
    let env = serve(&server, "/big-1.0.tar.gz", &tgz, "max_unpacked = \"1MiB\"");
    env.run(["up", "--only", "tools"])
        .code(1)
        .stderr_has("tool `big`")
        .stderr_has("more than 1MiB")
        .stderr_has("max_unpacked = \"2MiB\"");
    assert!(
        store_contents(&env).is_empty(),
        "{:?}",
        store_contents(&env)
    );
}

#[test]
fn a_tar_xz_bomb_is_refused_before_it_is_decoded() {
    // A real xz encoder (lzma-rs only writes stored chunks): 256 MiB of
    // zeros in a tar, in well under a MiB.
    let out = Command::new("python3")
        .args([
            "-c",
            "import io,lzma,sys,tarfile\n\
             b=io.BytesIO()\n\
             t=tarfile.open(fileobj=b,mode='w')\n\
             i=tarfile.TarInfo('zeros'); i.size=256<<20\n\
             t.addfile(i, io.BytesIO(bytes(256<<20))); t.close()\n\
             sys.stdout.buffer.write(lzma.compress(b.getvalue()))",
        ])
        .output()
        .expect("python3 builds the xz bomb");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let txz = out.stdout;
    assert!(txz.len() < 1 << 20, "{}", txz.len());
    let server = Server::start();
    let env = serve(&server, "/xzbomb-1.0.tar.xz", &txz, "");
    env.run(["up", "--only", "tools"])
        .code(1)
        .stderr_has("tool `xzbomb`")
        .stderr_has("max_ratio");
    assert!(
        store_contents(&env).is_empty(),
        "{:?}",
        store_contents(&env)
    );
}
