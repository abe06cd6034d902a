//! `devenv init` on a terminal: the compose confirmation and the stack
//! multi-select, driven through a real pseudo-terminal (python3's `pty`),
//! keys sent as a user would type them.

mod common;

use common::TestEnv;

const DOWN: &str = "\x1b[B";

fn drive(env: &TestEnv, args: &[&str], steps: serde_json::Value) -> (i32, String) {
    let steps: Vec<(String, Vec<String>)> = serde_json::from_value(steps).unwrap();
    let keys: Vec<Vec<&str>> = steps
        .iter()
        .map(|(_, k)| k.iter().map(String::as_str).collect())
        .collect();
    let steps: Vec<(&str, &[&str])> = steps
        .iter()
        .zip(&keys)
        .map(|((text, _), k)| (text.as_str(), k.as_slice()))
        .collect();
    env.on_a_terminal(env.command(args), &steps)
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
    // Items, by name: kafka localstack mailpit mariadb minio mongodb mysql
    // opensearch postgres rabbitmq redis. postgres and redis start checked:
    // check kafka, uncheck postgres, accept.
    let mut keys = vec![" ".to_string()];
    keys.extend(std::iter::repeat_n(DOWN.to_string(), 8));
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
