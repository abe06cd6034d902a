//! The first hour, exactly as the README tells it: its own command for an
//! offline machine, copied out of README.md and run by bash in a fresh copy
//! of the repository, with a fresh HOME, no `DEVENV_*` variables and no
//! `~/.local/bin` on PATH. Then `down`, and `up` again as a second shell
//! would, with nothing carried over but what the first one wrote to disk.
//!
//! What broke before: `~/.local/bin` was not on PATH, and the mirror was an
//! inline variable that the second shell did not have.
//!
//! install.sh builds the release binary from this copy, reusing the
//! suite's target dir for the dependencies.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{docker, engine_available, http_request, labelled_ids};

const PROJECT: &str = "checkout-example";

/// The README's command for a machine like CI's (the fenced `sh` block that
/// runs tests/support/setup.sh).
fn readme_command() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut in_sh = false;
    for line in readme.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            l if in_sh && l.starts_with("bash tests/support/setup.sh") => return l.to_string(),
            _ => {}
        }
    }
    panic!("README.md has no ```sh block starting with `bash tests/support/setup.sh`");
}

/// The repository's tracked and unignored files, copied and touched. The
/// target dir is shared with other checkouts, and cargo does not tell them
/// apart: with the sources' own mtimes it could take a release binary built
/// from other sources for fresh. Touched, install.sh always rebuilds devenv
/// (its dependencies stay cached).
fn fresh_copy() -> PathBuf {
    let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join("first-hour/repo");
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).unwrap();
    let st = Command::new("bash")
        .arg("-c")
        .arg(
            "git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C \"$1\" \
             && find \"$1\" -type f -exec touch {} +",
        )
        .arg("copy")
        .arg(&dest)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(st.success(), "copying the repository");
    dest
}

/// A new user's shell: their own HOME, PATH without ~/.local/bin, nothing
/// of devenv's in the environment. Cargo and rustup stay where they are
/// installed, and the target dir is the suite's, so nothing is downloaded
/// or built twice.
fn shell(home: &Path, repo: &Path, script: &str) -> Output {
    let real_home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".cargo"));
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".rustup"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        cargo_home.join("bin").display()
    );
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(repo)
        .env_clear()
        .env("HOME", home)
        .env("PATH", path)
        .env("CARGO_HOME", cargo_home)
        .env("RUSTUP_HOME", rustup_home)
        .env("CARGO_TARGET_DIR", target)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn succeeded(what: &str, out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{stderr}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// Takes the example down however the test ends.
struct Down(PathBuf, PathBuf);
impl Drop for Down {
    fn drop(&mut self) {
        let _ = shell(
            &self.0,
            &self.1,
            "cd examples/checkout && ~/.local/bin/devenv down --volumes -q",
        );
        common::remove_project(PROJECT);
        // Left behind, the touched copy made a later `cargo build --release`
        // of the real checkout (same target dir) look fresh, and it kept
        // the copy's binary.
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

#[test]
fn the_readme_from_a_fresh_home_then_down_and_up_from_a_second_shell() {
    if !engine_available("the_readme_from_a_fresh_home") {
        return;
    }
    assert!(
        labelled_ids(&["ps", "-aq"], PROJECT).is_empty(),
        "a `{PROJECT}` is already running here; take it down first"
    );
    let home = tempfile::tempdir().unwrap();
    let repo = fresh_copy();
    let _down = Down(home.path().to_path_buf(), repo.clone());

    let command = readme_command();
    let out = shell(home.path(), &repo, &command);
    let first = succeeded(&format!("the README's `{command}`"), &out);
    assert!(
        first.contains("is not on your PATH"),
        "install.sh said how to fix PATH:\n{first}"
    );
    assert!(first.contains("checkout-example is up"), "{first}");

    // The service answers, as the README shows.
    let (status, _, reply) = http_request(
        "POST",
        "http://127.0.0.1:8000/checkout",
        &[("Content-Type", "application/json")],
        r#"{"amount": 1200}"#,
    );
    assert_eq!(status, 201, "{reply}");

    // A second shell: nothing inline, only what the first one left on disk.
    let out = shell(
        home.path(),
        &repo,
        "cd examples/checkout && ~/.local/bin/devenv down",
    );
    succeeded("down from a second shell", &out);
    assert!(labelled_ids(&["ps", "-q"], PROJECT).is_empty());
    let out = shell(
        home.path(),
        &repo,
        "cd examples/checkout && ~/.local/bin/devenv up --yes",
    );
    let again = succeeded("up from a second shell", &out);
    assert!(again.contains("checkout-example is up"), "{again}");
    let running = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=dev.devenv.project={PROJECT}"),
    ]);
    assert!(!String::from_utf8_lossy(&running.stdout).trim().is_empty());
}
