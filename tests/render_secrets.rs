//! Secrets in templates: where they come from, the 0600 files they end up
//! in, and that no command ever prints them.

mod common;

use std::path::Path;

use common::{Run, TestEnv};

const SECRET: &str = "sk_test_Zq8uV3wY1x";

const MANIFEST: &str = r#"
[project]
name = "pay"

[config.values]
log_level = "info"

[[config.files]]
template = "templates/app.env.j2"
output = ".env"

[[config.files]]
template = "templates/public.j2"
output = "public.txt"

[secrets.STRIPE_KEY]
env = "STRIPE_KEY"
prompt = "Stripe test-mode key"
"#;

fn project() -> TestEnv {
    TestEnv::new()
        .manifest(MANIFEST)
        .file(
            "templates/app.env.j2",
            "LOG_LEVEL={{ log_level }}\nSTRIPE_KEY={{ secrets.STRIPE_KEY | quote }}\nSTRIPE_B64={{ secrets.STRIPE_KEY | b64encode }}\n",
        )
        .file("templates/public.j2", "level={{ log_level }}\n")
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[track_caller]
fn assert_no_secret(r: &Run, value: &str) {
    assert!(
        !r.stdout.contains(value) && !r.stderr.contains(value),
        "the secret leaked in `devenv {}`:\n--- stdout\n{}\n--- stderr\n{}",
        r.args.join(" "),
        r.stdout,
        r.stderr
    );
}

/// Files under `dir` that contain `value`.
fn files_containing(dir: &Path, value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .map(|b| String::from_utf8_lossy(&b).contains(value))
                .unwrap_or(false)
            {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_secret_from_the_environment_is_rendered_0600_and_never_printed() {
    let t = project().env("STRIPE_KEY", SECRET);
    let runs = vec![
        t.run(["render", "-v"]).success(),
        t.run(["render", "--check"]).success(),
        t.run(["render", "--explain", "secrets.STRIPE_KEY"])
            .success()
            .stdout_has("secrets.STRIPE_KEY = ***")
            .stdout_has("from environment variable STRIPE_KEY"),
        t.run(["validate"]).success(),
        t.run(["validate", "--json"]).success(),
        t.run(["up", "--only", "config", "-v"]).success(),
        t.run(["up"]).success(),
    ];
    for r in &runs {
        assert_no_secret(r, SECRET);
    }
    let env = t.read(".env");
    assert!(env.contains(&format!("STRIPE_KEY={SECRET}\n")), "{env}");
    #[cfg(unix)]
    {
        assert_eq!(
            mode(&t.repo().join(".env")),
            0o600,
            "a file that used a secret"
        );
        assert_eq!(
            mode(&t.repo().join("public.txt")),
            0o644,
            "a file that did not"
        );
    }
    // Only the rendered file holds it: not the state, not the logs.
    assert_eq!(files_containing(&t.repo(), SECRET), [".env"]);
    assert!(files_containing(&t.devenv_home(), SECRET).is_empty());
}

#[test]
fn a_secret_never_shows_in_errors_diffs_or_explain() {
    let t = project().env("STRIPE_KEY", SECRET);
    t.run(["render"]).success();

    // A hand edit of a file holding secrets: the diff is not shown.
    t.write(".env", &format!("STRIPE_KEY={SECRET}\nEXTRA=1\n"));
    let r = t.run(["render", "--set", "log_level=debug"]).code(1);
    let r = r.stderr_has("edited by hand").stderr_has("holds secrets");
    assert_no_secret(&r, SECRET);
    let r = t.run(["render", "--check"]).code(1);
    assert_no_secret(&r, SECRET);
    t.run(["render", "--force"]).success();

    // A value that happens to equal the secret is masked in --explain.
    let r = t
        .run([
            "render",
            "--explain",
            "copy",
            "--set",
            &format!("copy={SECRET}"),
        ])
        .success();
    assert_no_secret(&r, SECRET);

    // minijinja quotes the name of a template it cannot include.
    t.write("templates/public.j2", "{% include secrets.STRIPE_KEY %}\n");
    let r = t.run(["render"]).code(2).stderr_has("***");
    assert_no_secret(&r, SECRET);
    let r = t.run(["up"]).code(2);
    assert_no_secret(&r, SECRET);

    // Its base64 form is masked too.
    t.write(
        "templates/public.j2",
        "{% include secrets.STRIPE_KEY | b64encode %}\n",
    );
    let r = t.run(["render"]).code(2);
    assert_no_secret(&r, SECRET);
    assert_no_secret(&r, "c2tfdGVzdF9acTh1VjN3WTF4");
}

#[test]
fn a_missing_secret_without_a_terminal_exits_3_naming_it() {
    let t = project();
    let r = t
        .run(["render"])
        .code(3)
        .stderr_has("secret `STRIPE_KEY` is not available")
        .stderr_has("export STRIPE_KEY=...")
        .stderr_has("on a terminal");
    assert!(!r.stderr.contains("panicked"));
    assert!(
        !t.exists(".env") && !t.exists("public.txt"),
        "nothing written"
    );
    t.run(["up"]).code(3).stderr_has("STRIPE_KEY");
}

#[test]
fn a_secret_no_template_uses_is_not_asked_for() {
    let t = TestEnv::new()
        .manifest(
            &MANIFEST
                .replace(
                    "template = \"templates/app.env.j2\"\noutput = \".env\"\n\n",
                    "",
                )
                .replace("[[config.files]]\n[[config.files]]", "[[config.files]]"),
        )
        .file("templates/public.j2", "level={{ log_level }}\n");
    t.run(["render"]).success();
    assert_eq!(t.read("public.txt"), "level=info\n");
}

#[test]
fn a_secret_from_a_command() {
    let t = TestEnv::new()
        .manifest(
            r#"
[[config.files]]
template = "t.j2"
output = "out.env"
[secrets.DB_PASSWORD]
command = ["sh", "-c", "printf 'cmd-secret-4471\n'"]
"#,
        )
        .file("t.j2", "PASSWORD={{ secrets.DB_PASSWORD }}\n");
    // A secret command is code: it runs only from a trusted devenv.toml.
    t.run(["trust"]).success();
    let r = t.run(["render"]).success();
    assert_no_secret(&r, "cmd-secret-4471");
    assert_eq!(t.read("out.env"), "PASSWORD=cmd-secret-4471\n");
    #[cfg(unix)]
    assert_eq!(mode(&t.repo().join("out.env")), 0o600);

    // A failing command is a missing prerequisite, with its stderr.
    t.write(
        "devenv.toml",
        r#"
[[config.files]]
template = "t.j2"
output = "out.env"
[secrets.DB_PASSWORD]
command = ["sh", "-c", "echo 'vault: permission denied' >&2; exit 2"]
"#,
    );
    t.run(["render", "--yes"])
        .code(3)
        .stderr_has("DB_PASSWORD")
        .stderr_has("vault: permission denied");
}

#[test]
fn an_optional_secret_may_be_absent() {
    let t = TestEnv::new()
        .manifest(
            r#"
[[config.files]]
template = "t.j2"
output = "out.env"
[secrets.SENTRY_DSN]
env = "SENTRY_DSN"
optional = true
"#,
        )
        .file(
            "t.j2",
            "DSN={{ secrets.SENTRY_DSN | default('') }}\n{% if secrets.SENTRY_DSN is defined %}on{% else %}off{% endif %}\n",
        );
    t.run(["render"]).success();
    assert_eq!(t.read("out.env"), "DSN=\noff\n");
    let t = t.env("SENTRY_DSN", "https://k@sentry.example/1");
    t.run(["render"]).success();
    assert_eq!(t.read("out.env"), "DSN=https://k@sentry.example/1\non\n");
}

/// Runs devenv on a pseudo-terminal (python3's `pty`), types `typed` at the
/// first prompt naming `wait_for`, and returns (exit code, all output).
fn run_on_a_terminal(t: &TestEnv, args: &[&str], wait_for: &str, typed: &str) -> (i32, String) {
    let mut cmd = t.command(args);
    cmd.env_remove("STRIPE_KEY");
    t.on_a_terminal(cmd, &[(wait_for, &[typed, "\r"])])
}

#[test]
fn the_prompt_asks_once_on_a_terminal_and_keeps_the_secret_private() {
    let t = project();
    let typed = "sk_typed_S3cr3t_0042";
    let (code, output) = run_on_a_terminal(&t, &["render"], "Stripe test-mode key", typed);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("Stripe test-mode key (STRIPE_KEY)"),
        "{output}"
    );
    assert!(
        !output.contains(typed),
        "the typed secret was echoed:\n{output}"
    );
    assert!(t.read(".env").contains(typed));
    #[cfg(unix)]
    assert_eq!(mode(&t.repo().join(".env")), 0o600);

    // Kept under DEVENV_HOME, private, never in the repository.
    let kept = t.devenv_home().join("secrets/pay.json");
    assert!(std::fs::read_to_string(&kept).unwrap().contains(typed));
    #[cfg(unix)]
    {
        assert_eq!(mode(&kept), 0o600);
        assert_eq!(mode(kept.parent().unwrap()), 0o700);
    }
    assert_eq!(files_containing(&t.repo(), typed), [".env"]);

    // Asked once: later runs, even without a terminal, use the kept value.
    t.run(["render", "--set", "log_level=debug"]).success();
    assert!(t.read(".env").contains(typed));
    let r = t
        .run(["render", "--explain", "secrets.STRIPE_KEY"])
        .success()
        .stdout_has("kept under DEVENV_HOME");
    assert_no_secret(&r, typed);
    // The environment still wins over the kept value.
    let t = t.env("STRIPE_KEY", SECRET);
    t.run(["render"]).success();
    assert!(t.read(".env").contains(SECRET));
}

#[test]
fn up_asks_on_a_terminal_too() {
    let t = project();
    let typed = "sk_up_typed_777";
    let (code, output) = run_on_a_terminal(&t, &["up"], "STRIPE_KEY", typed);
    assert_eq!(code, 0, "{output}");
    assert!(!output.contains(typed), "{output}");
    assert!(t.read(".env").contains(typed));
}

/// The count of differing lines in a file holding secrets said "2 line(s)
/// differ" for one changed line (a `-` and a `+`), and missed lines whose
/// diff line looks like a `---`/`+++` header.
#[test]
fn a_hand_edit_of_a_secret_file_counts_each_changed_line_once() {
    let t = project().env("STRIPE_KEY", SECRET);
    t.run(["render"]).success();
    let rendered = t.read(".env");
    let edited = rendered.replace("LOG_LEVEL=info", "LOG_LEVEL=debug");
    t.write(".env", &edited);
    t.run(["render", "--check"])
        .code(1)
        .stderr_has("(the diff is not shown because the file holds secrets; 1 line changed)");
    t.write(".env", &format!("{rendered}--note\n++more\n"));
    t.run(["render", "--check"])
        .code(1)
        .stderr_has("(the diff is not shown because the file holds secrets; 2 lines removed)");
}
