//! `devenv init` on a terminal: the compose confirmation and the stack
//! multi-select, driven through a real pseudo-terminal (python3's `pty`),
//! keys sent as a user would type them.

mod common;

use std::process::Command;

use common::TestEnv;

/// Forks `devenv` on a pty, then for each step waits until the screen shows
/// the text and types the keys; prints the whole session and exits with
/// devenv's status. The read loop ends at EOF; the deadline only keeps a
/// broken prompt from hanging the suite.
const DRIVER: &str = r#"
import json, os, pty, re, select, sys, time, fcntl, termios, struct
cwd, steps, cmd = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    os.chdir(cwd)
    os.execv(cmd[0], cmd)
screen = b""
def read(until=None, deadline=300):
    global screen
    end = time.time() + deadline
    while time.time() < end:
        plain = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", screen)
        if until is not None and until.encode() in plain:
            return True
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return False
            if not data:
                return False
            screen += data
    return False
for wait_for, keys in steps:
    if not read(wait_for):
        sys.stdout.write(screen.decode("utf-8", "replace"))
        sys.stdout.write("\n[driver] never saw %r\n" % wait_for)
        os.kill(pid, 9)
        sys.exit(97)
    screen = b""
    for k in keys:
        os.write(fd, k.encode())
        time.sleep(0.1)
read()
_, status = os.waitpid(pid, 0)
sys.stdout.write(screen.decode("utf-8", "replace"))
code = os.waitstatus_to_exitcode(status)
# As a shell reports it: death by signal N is 128 + N.
sys.exit(128 - code if code < 0 else code)
"#;

const DOWN: &str = "\x1b[B";

fn drive(env: &TestEnv, args: &[&str], steps: serde_json::Value) -> (i32, String) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(env.repo())
        .arg(steps.to_string())
        .arg(env!("CARGO_BIN_EXE_devenv"))
        .args(args)
        .env("DEVENV_HOME", env.devenv_home())
        .env("HOME", env.home())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .output()
        .expect("python3 runs the pty driver");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn services(env: &TestEnv) -> Vec<(String, String)> {
    let t: toml::Table = env.read("devenv.toml").parse().unwrap();
    t.get("services")
        .and_then(|s| s.as_table())
        .map(|s| {
            s.iter()
                .map(|(k, v)| (k.clone(), v["stack"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_stack_multi_select_preselects_hints_and_takes_toggles() {
    let env = TestEnv::new().file(
        "package.json",
        r#"{"dependencies": {"pg": "^8.11.0", "ioredis": "^5.3.2"}}"#,
    );
    // Items, by name: kafka localstack mailpit minio mongodb mysql opensearch
    // postgres rabbitmq redis. postgres and redis start checked: check kafka,
    // uncheck postgres, accept.
    let mut keys = vec![" ".to_string()];
    keys.extend(std::iter::repeat_n(DOWN.to_string(), 7));
    keys.push(" ".into());
    keys.push("\r".into());
    let (code, screen) = drive(
        &env,
        &["init"],
        serde_json::json!([["Which stacks should devenv run?", keys]]),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("postgres"), "{screen}");
    assert!(
        screen.contains("package.json uses pg"),
        "the hint is shown: {screen}"
    );
    assert_eq!(
        services(&env),
        [
            ("kafka".to_string(), "kafka".to_string()),
            ("redis".into(), "redis".into())
        ]
    );
    env.run(["validate"]).success();
}

#[test]
fn declining_the_compose_conversion_on_a_terminal_keeps_compose_out() {
    let env = TestEnv::new().file(
        "docker-compose.yml",
        "services:\n  cache:\n    image: redis:7\n    ports: [\"6379:6379\"]\n",
    );
    let (code, screen) = drive(
        &env,
        &["init"],
        serde_json::json!([
            ["Convert docker-compose.yml into devenv services?", ["n"]],
            ["Which stacks should devenv run?", ["\r"]]
        ]),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(services(&env).is_empty(), "{}", env.read("devenv.toml"));

    let env = TestEnv::new().file(
        "docker-compose.yml",
        "services:\n  cache:\n    image: redis:7\n    ports: [\"6379:6379\"]\n",
    );
    let (code, screen) = drive(
        &env,
        &["init"],
        serde_json::json!([
            ["Convert docker-compose.yml into devenv services?", ["y"]],
            ["Which stacks should devenv run?", ["\r"]]
        ]),
    );
    assert_eq!(code, 0, "{screen}");
    assert_eq!(services(&env), [("cache".to_string(), "redis".to_string())]);
}

#[test]
fn yes_on_a_terminal_asks_nothing() {
    let env = TestEnv::new().file("package.json", r#"{"dependencies": {"mysql2": "^3"}}"#);
    let (code, screen) = drive(&env, &["init", "--yes"], serde_json::json!([]));
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("Which stacks"), "{screen}");
    assert_eq!(services(&env), [("mysql".to_string(), "mysql".to_string())]);
}

#[test]
fn ctrl_c_at_the_multi_select_exits_130_and_writes_nothing() {
    let env = TestEnv::new()
        .file("package.json", r#"{"dependencies": {"pg": "^8"}}"#)
        .file(".env.example", "PORT=3000\n");
    let before = env.repo_files();
    let (code, screen) = drive(
        &env,
        &["init"],
        serde_json::json!([["Which stacks should devenv run?", ["\u{3}"]]]),
    );
    assert_eq!(code, 130, "{screen}");
    assert_eq!(env.repo_files(), before);
}
