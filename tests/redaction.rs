//! Secrets never reach the terminal (issue 12, part 3): each test is an
//! attack a repository could make on its developer's secrets, through hook
//! output, a failing hook's error, encodings, a write cut in two, container
//! and mock logs, and `-v`. A leak is the secret anywhere in stdout or
//! stderr.

mod common;

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use common::{engine_available, http_get, wait_for, wait_until, Cleanup, Run, TestEnv, REGISTRY};

const SECRET: &str = "sk_live_R3dact3dV4lue9";
/// What a masked secret reads as.
const MASK: &str = "***";
/// Generous hang guards, not speed checks.
const DEADLINE: Duration = Duration::from_secs(60);

#[track_caller]
fn assert_no_leak(r: &Run, forms: &[&str]) {
    for form in forms {
        assert!(
            !r.stdout.contains(form) && !r.stderr.contains(form),
            "{form:?} leaked in `devenv {}`:\n--- stdout\n{}\n--- stderr\n{}",
            r.args.join(" "),
            r.stdout,
            r.stderr
        );
    }
}

/// A project whose secret TOKEN comes from the variable TOKEN, with these
/// setup hooks (TOML array items) and extra manifest text.
fn project(hooks: &str, extra: &str) -> TestEnv {
    TestEnv::new()
        .manifest(&format!(
            "[project]\nname = \"redaction\"\n\n[secrets.TOKEN]\nenv = \"TOKEN\"\n\n\
             [hooks]\nsetup = [{hooks}]\n{extra}"
        ))
        .env("TOKEN", SECRET)
}

#[test]
fn a_hook_that_echoes_the_secret_prints_stars() {
    let env = project(r#""echo token is $TOKEN""#, "");
    let r = env.run(["up", "--yes"]);
    assert_no_leak(&r, &[SECRET]);
    r.success().stderr_has(&format!("│ token is {MASK}"));
}

#[test]
fn a_hook_that_cats_the_rendered_env_file_prints_stars() {
    // From a command, not a variable: only the config phase, or the
    // command run for the hooks, can tell the redactor.
    let env = TestEnv::new()
        .manifest(
            r#"[project]
name = "redaction"

[secrets.API_KEY]
command = ["cat", "api-key.txt"]

[[config.files]]
template = "app.env.j2"
output = ".env"

[hooks]
setup = ["cat .env"]
"#,
        )
        .file("api-key.txt", &format!("{SECRET}\n"))
        .file("app.env.j2", "API_KEY={{ secrets.API_KEY }}\nMODE=dev\n");
    let r = env.run(["up", "--yes"]);
    assert_no_leak(&r, &[SECRET]);
    r.success()
        .stderr_has(&format!("│ API_KEY={MASK}"))
        .stderr_has("│ MODE=dev");
    assert!(env.read(".env").contains(SECRET), "the file itself has it");
    // Only the hooks run, with no config phase to learn the value first.
    let r = env.run(["up", "--only", "hooks"]);
    assert_no_leak(&r, &[SECRET]);
    r.success().stderr_has(&format!("│ API_KEY={MASK}"));
}

#[test]
fn a_failing_hooks_tail_is_redacted() {
    let env = project(r#""echo connecting with $TOKEN >&2; exit 4""#, "");
    let r = env.run(["up", "--yes"]);
    assert_no_leak(&r, &[SECRET]);
    r.code(1)
        .stderr_has("exit code 4")
        .stderr_has("its last output:")
        .stderr_has(&format!("connecting with {MASK}"));
}

#[test]
fn base64_url_and_json_forms_of_a_secret_are_redacted() {
    // Characters that make every encoding differ from the value and from
    // each other (`+` and `/` in base64, escapes in JSON and URLs).
    let secret = "pa55 \"w>rd\"/é?~~";
    let json = serde_json::to_string(secret).unwrap();
    let json = &json[1..json.len() - 1];
    let url: String = secret
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let b64 = [
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
    ];
    assert!(b64[0].contains(['+', '/']) && b64[0] != b64[2], "{b64:?}");
    let forms_file: String = b64
        .iter()
        .map(String::as_str)
        .chain([json, &url])
        .map(|f| format!("form {f}\n"))
        .collect();
    let env = project(
        concat!(
            r#""cat forms.txt", "#,
            r#""printf 'TOKEN=%s\\n' \"$TOKEN\" | base64", "#,
            r#""echo \"$TOKEN\" | base64 | tr '+/' '-_' | tr -d =""#
        ),
        "",
    )
    .env("TOKEN", secret)
    .file("forms.txt", &forms_file);
    let r = env.run(["up", "--yes"]);
    let mut leaks: Vec<&str> = b64.iter().map(String::as_str).collect();
    leaks.extend([secret, json, &url]);
    // What the two pipelines print, minus their first and last characters
    // (which also hold bits of what surrounds the value).
    let dotenv = STANDARD.encode(format!("TOKEN={secret}\n"));
    let echoed = URL_SAFE_NO_PAD.encode(format!("{secret}\n"));
    let cores = [&dotenv[8..dotenv.len() - 4], &echoed[..echoed.len() - 4]];
    leaks.extend(cores);
    assert_no_leak(&r, &leaks);
    let r = r.success();
    assert_eq!(r.stderr.matches(&format!("│ form {MASK}")).count(), 6);
}

#[test]
fn a_secret_split_across_two_writes_is_still_redacted() {
    let env = project(
        r#""printf 'got: '; printf '%s' \"$TOKEN\" | head -c 10; sleep 1; printf '%s' \"$TOKEN\" | tail -c +11; echo""#,
        "",
    );
    let r = env.run(["up", "--yes"]);
    assert_no_leak(&r, &[SECRET, &SECRET[10..]]);
    r.success().stderr_has(&format!("│ got: {MASK}"));
}

#[test]
fn container_logs_are_redacted() {
    if !engine_available("container_logs_are_redacted") {
        return;
    }
    let project = "redaction-logs";
    let _cleanup = Cleanup(project.into());
    let env = TestEnv::new()
        .manifest(&format!(
            r#"[project]
name = "{project}"

[secrets.TOKEN]
env = "TOKEN"

[services.web]
image = "busybox:latest"
env = {{ TOKEN = "{SECRET}" }}
command = ["sh", "-c", "echo token=$TOKEN; printf 'half=%s' \"${{TOKEN%??????????}}\"; sleep 1; echo \"${{TOKEN#????????????}}\"; echo done; exec sleep 3600"]
"#
        ))
        .user_config(&format!("[settings]\nregistry_mirror = \"{REGISTRY}\"\n"))
        .env("TOKEN", SECRET);
    let r = env.run(["up"]);
    assert_no_leak(&r, &[SECRET]);
    r.success();
    let logs = wait_for(DEADLINE, "the container to print its token", || {
        let r = env.run(["logs", "web"]);
        (r.code == 0 && r.stdout.contains("done")).then_some(r)
    });
    assert_no_leak(&logs, &[SECRET]);
    assert!(
        logs.stdout.contains(&format!("token={MASK}")),
        "{}",
        logs.stdout
    );
    env.run(["down"]).success();
}

#[test]
fn mock_logs_are_redacted() {
    let env = TestEnv::new()
        .manifest(
            "[project]\nname = \"redaction-mock\"\n[secrets.TOKEN]\nenv = \"TOKEN\"\n\
             [mocks.payments]\nport = \"auto\"\n[[mocks.payments.routes]]\n\
             method = \"GET\"\npath = \"/v1/health\"\njson = { ok = true }\n",
        )
        .env("TOKEN", SECRET);
    env.run(["up"]).success();
    let _down = Down(&env);
    let conns: serde_json::Value =
        serde_json::from_str(&env.read(".devenv/state/connections.json")).unwrap();
    let url = conns["mocks"]["payments"]["url"].as_str().unwrap();
    // A caller sends the token where the mock logs it: the path.
    let _ = http_get(&format!("{url}/v1/users/{SECRET}"));
    let log = env.repo().join(".devenv/logs/mock-payments.log");
    wait_until(DEADLINE, "the request log line", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("/v1/users/")
    });
    let r = env.run(["logs", "payments"]);
    assert_no_leak(&r, &[SECRET]);
    r.success().stdout_has(&format!("/v1/users/{MASK}"));
    let r = env.run(["logs", "payments", "--tail", "1"]);
    assert_no_leak(&r, &[SECRET]);
    r.success().stdout_has(MASK);
}

/// Stops the mocks when the test ends, passed or not.
struct Down<'a>(&'a TestEnv);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(["down"]);
    }
}

#[test]
fn verbose_output_is_redacted() {
    let env = project(
        r#""echo setup sees $TOKEN""#,
        "pre_down = [\"echo pre_down sees $TOKEN\"]\n\n\
         [[config.files]]\ntemplate = \"app.env.j2\"\noutput = \".env\"\n",
    )
    .file("app.env.j2", "TOKEN={{ secrets.TOKEN }}\n");
    let up = env.run(["-v", "up", "--yes"]);
    assert_no_leak(&up, &[SECRET]);
    up.success().stderr_has(&format!("setup sees {MASK}"));
    env.write("app.env.j2", "TOKEN={{ secrets.TOKEN }}\nchanged\n");
    let check = env.run(["-v", "render", "--check"]);
    assert_no_leak(&check, &[SECRET]);
    let down = env.run(["-v", "down"]);
    assert_no_leak(&down, &[SECRET]);
    down.success().stderr_has(&format!("pre_down sees {MASK}"));
}
