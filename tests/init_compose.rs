//! `devenv init --from` resolving a compose project as Docker Compose v2
//! does: `.env` and the shell, profiles, anchors, `extends`, `include`, the
//! override file, every port form, healthcheck timing. The differential test
//! (`compose_reference.rs`) checks the same against Compose itself; these
//! say what a user sees, one story each.

mod common;

use std::path::Path;

use common::{copy_dir, strs, svc, TestEnv};

fn every_form() -> TestEnv {
    let env = TestEnv::new().env("FROM_SHELL", "shell-value");
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/features/every-form");
    copy_dir(&src, &env.repo());
    env
}

fn init(env: &TestEnv, args: &[&str]) -> (String, toml::Table) {
    let mut all = vec!["init", "--yes"];
    all.extend_from_slice(args);
    env.run(&all).success();
    env.run(["validate"]).success();
    let text = env.read("devenv.toml");
    let t: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, t)
}

fn names(t: &toml::Table) -> Vec<String> {
    t["services"].as_table().unwrap().keys().cloned().collect()
}

#[test]
fn valueless_environment_entries_take_their_values_from_dotenv_and_the_shell() {
    // The app logs in as POSTGRES_USER from .env; the preset must not write its own.
    let env = TestEnv::new()
        .env("APP_SECRET", "from-the-shell")
        .file(".env", "POSTGRES_USER=shop\nPOSTGRES_PASSWORD=pw\n")
        .file(
            "compose.yaml",
            "services:\n  db:\n    image: postgres:16\n    environment:\n      - POSTGRES_USER\n      - POSTGRES_PASSWORD\n  app:\n    image: shop:dev\n    environment:\n      APP_SECRET:\n      UNSET_EVERYWHERE:\n",
        );
    let (text, t) = init(&env, &[]);
    let db = svc(&t, "db");
    assert_eq!(db["env"]["POSTGRES_USER"].as_str(), Some("shop"));
    assert_eq!(db["env"]["POSTGRES_PASSWORD"].as_str(), Some("pw"));
    assert_eq!(
        db["env"]["POSTGRES_DB"].as_str(),
        Some("shop"),
        "the image's default database is the user's"
    );
    let app = svc(&t, "app");
    assert_eq!(app["env"]["APP_SECRET"].as_str(), Some("from-the-shell"));
    assert!(
        app["env"].get("UNSET_EVERYWHERE").is_none(),
        "compose drops it; so does devenv"
    );
    assert!(text.contains("services.app.environment.UNSET_EVERYWHERE (compose.yaml:11): takes its value from the shell, where it is not set"), "{text}");
}

#[test]
fn compose_profiles_from_dotenv_enable_services_and_the_flag_wins_over_it() {
    let env = every_form();
    let (text, t) = init(&env, &[]);
    assert!(
        names(&t).contains(&"toolbox".to_string()),
        "COMPOSE_PROFILES=tools in .env"
    );
    assert!(!names(&t).contains(&"debug".to_string()));
    assert!(text.contains("services.debug (compose.yaml:88): in profile debug: not converted (pass `--profile debug` to include it)"));

    let env = every_form();
    let (_, t) = init(&env, &["--force", "--profile", "debug"]);
    assert!(names(&t).contains(&"debug".to_string()));
    assert!(
        !names(&t).contains(&"toolbox".to_string()),
        "--profile replaces COMPOSE_PROFILES, as in compose"
    );
}

#[test]
fn an_image_and_a_merge_key_inside_an_anchor_convert() {
    // Both used to be dropped: the merge key inside x-app was "no devenv
    // equivalent", and web, whose image came from the anchor, had none.
    let env = TestEnv::new().file(
        "docker-compose.yml",
        "x-env: &env\n  A: 1\nx-app: &app\n  image: shop:dev\n  environment:\n    <<: *env\n    B: 2\nservices:\n  web:\n    <<: *app\n  worker:\n    <<: [*app]\n    environment:\n      <<: *env\n      ROLE: worker\n",
    );
    let (text, t) = init(&env, &[]);
    assert_eq!(svc(&t, "web")["image"].as_str(), Some("shop:dev"));
    assert_eq!(svc(&t, "web")["env"]["A"].as_str(), Some("1"));
    assert_eq!(svc(&t, "web")["env"]["B"].as_str(), Some("2"));
    assert_eq!(svc(&t, "worker")["env"]["ROLE"].as_str(), Some("worker"));
    assert!(
        svc(&t, "worker")["env"].get("B").is_none(),
        "an explicit environment replaces the anchor's"
    );
    assert!(!text.contains("Not converted"), "{text}");
}

#[test]
fn extends_include_and_the_override_file_merge_as_compose_merges_them() {
    let env = every_form();
    let (text, t) = init(&env, &[]);
    // The override file replaced web's read-only mount and set LOG_LEVEL.
    let web = svc(&t, "web");
    assert_eq!(strs(&web["mounts"]), ["./data:/srv/data"]);
    assert_eq!(web["env"]["LOG_LEVEL"].as_str(), Some("debug"));
    // api extends web in the same file, before the override: it keeps the original.
    let api = svc(&t, "api");
    assert_eq!(api["image"].as_str(), Some("nginx:1.27-alpine"));
    assert_eq!(
        strs(&api["ports"]),
        ["8090:80"],
        "!override replaced web's ports"
    );
    assert_eq!(strs(&api["mounts"]), ["./data:/srv/data:ro"]);
    assert_eq!(api["env"]["LOG_LEVEL"].as_str(), Some("info"));
    // worker extends a file in lib/: its paths are that file's.
    let worker = svc(&t, "worker");
    assert_eq!(worker["build"]["context"].as_str(), Some("app"));
    assert_eq!(strs(&worker["mounts"]), ["./data:/data"]);
    assert_eq!(worker["env"]["QUEUE"].as_str(), Some("jobs"));
    // cache comes from the included lib/shared.yaml, its env_file beside it.
    assert_eq!(
        svc(&t, "cache")["env"]["REDIS_ARGS"].as_str(),
        Some("--save 60 1")
    );
    assert!(text.contains("#   - compose.override.yaml: merged as compose merges it"));
}

#[test]
fn healthcheck_timing_from_variables_becomes_the_readiness_timeout() {
    let env = every_form();
    let (_, t) = init(&env, &[]);
    // HC_INTERVAL=2s, HC_RETRIES=15 from .env, Docker's default 30s timeout:
    // 15 x (2s + 30s) = 480s, the longest compose waits before "unhealthy".
    assert_eq!(svc(&t, "web")["ready"]["timeout"].as_str(), Some("480s"));
    // 5s start period + 10 retries (the override's) x (1s + 1s).
    let db = svc(&t, "db");
    assert_eq!(db["ready"]["timeout"].as_str(), Some("25s"));
    assert_eq!(
        strs(&db["ready"]["exec"]),
        ["sh", "-c", "pg_isready -U app"]
    );
    // service_completed_successfully made migrate a job.
    assert_eq!(svc(&t, "migrate")["run"].as_str(), Some("once"));
}

#[test]
fn every_ports_form_converts_or_is_listed_with_its_line() {
    let env = every_form();
    let (text, t) = init(&env, &[]);
    assert_eq!(
        strs(&svc(&t, "web")["ports"]),
        [
            "auto:8080",
            "8081:80",
            "8082:81",
            "9090:8080",
            "9091:8081",
            "5353:53/udp",
            "auto:443",
            "8443",
            "auto:7000"
        ]
    );
    for line in [
        "services.web.ports `[::1]:8443:8443` (compose.yaml:27): bound to ::1",
        "services.web.ports `7000-7005:7000` (compose.yaml:28): compose publishes it on a free host port from 7000-7005",
        "services.web.ports `8081:443`: host port 8081 is already published",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
}

#[test]
fn a_command_compose_cuts_at_an_operator_is_cut_the_same_and_listed() {
    let env = every_form();
    let (text, t) = init(&env, &[]);
    assert_eq!(
        strs(&svc(&t, "web")["command"]),
        ["nginx", "-g", "daemon off;"]
    );
    assert!(text.contains(
        "services.web.command (compose.yaml:38): compose stops reading it at `&& echo never`"
    ));
}

#[test]
fn reset_in_the_override_file_removes_what_the_compose_file_set() {
    let env = every_form();
    let (_, t) = init(&env, &[]);
    let toolbox = svc(&t, "toolbox");
    assert!(
        toolbox.get("entrypoint").is_none(),
        "entrypoint: !reset null"
    );
    assert_eq!(strs(&toolbox["command"]), ["sh", "-c", "true"]);
    assert!(
        svc(&t, "migrate").get("command").is_none(),
        "command: !reset []"
    );
}

#[test]
fn a_required_variable_without_a_value_stops_init_at_its_line() {
    let env = TestEnv::new().file(
        "compose.yaml",
        "services:\n  app:\n    image: shop:${TAG:?set TAG to the release}\n",
    );
    env.run(["init", "--yes"])
        .code(2)
        .stderr_has("compose.yaml:3:")
        .stderr_has("required variable TAG is missing a value: set TAG to the release");
    assert!(!env.exists("devenv.toml"));
    let env = env.env("TAG", "1.4");
    let (_, t) = init(&env, &[]);
    assert_eq!(svc(&t, "app")["image"].as_str(), Some("shop:1.4"));
}

#[test]
fn a_platform_from_an_empty_variable_is_not_written() {
    let env = every_form();
    let (text, _) = init(&env, &[]);
    assert!(!text.contains("platform = \"\""), "{text}");
}
