//! `[env]`: variables templated like config files (values, services,
//! mocks, secrets), seen by hooks, `exec`, `shell` and `env`. Before, the
//! project environment was PATH and devenv's own variables only, so
//! `DATABASE_URL` and the like lived in people's heads.

mod common;

use common::TestEnv;

const MANIFEST: &str = r#"[project]
name = "envs"
[mocks.pay]
port = "auto"
[[mocks.pay.routes]]
path = "/v"
[config.values]
level = "debug"
[secrets.TOKEN]
env = "ENVS_TOKEN"
[env]
PAY_URL = "{{ mocks.pay.url }}/v1"
LOG_LEVEL = "{{ level | upper }}"
API_TOKEN = "{{ secrets.TOKEN }}"
[hooks]
setup = ["echo \"$PAY_URL $LOG_LEVEL\" > seen.txt"]
"#;

const TOKEN: &str = "tok-5521-secret";

fn project() -> TestEnv {
    TestEnv::new().manifest(MANIFEST).env("ENVS_TOKEN", TOKEN)
}

#[test]
fn hooks_exec_and_env_see_the_rendered_variables() {
    let env = project();
    env.run(["up", "--yes"]).success();
    let seen = env.read("seen.txt");
    assert!(
        seen.starts_with("http://127.0.0.1:") && seen.ends_with("/v1 DEBUG\n"),
        "{seen}"
    );
    let url = seen.split(' ').next().unwrap().to_string();

    let r = env
        .run(["exec", "--", "sh", "-c", "echo $PAY_URL $API_TOKEN"])
        .success();
    assert_eq!(r.stdout, format!("{url} {TOKEN}\n"));

    let doc = env.run(["env", "--shell", "json"]).success().json();
    assert_eq!(doc["PAY_URL"], url);
    assert_eq!(doc["API_TOKEN"], TOKEN, "piped for eval, the real value");
    env.run(["env", "--shell", "bash"])
        .success()
        .stdout_has("export LOG_LEVEL='DEBUG'");
    env.run(["down"]).success();
}

#[test]
fn on_a_terminal_env_masks_the_secrets() {
    let env = project();
    let cmd = env.command(["env", "--shell", "bash"]);
    let (code, screen) = env.on_a_terminal(cmd, &[]);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("export API_TOKEN="), "{screen}");
    assert!(!screen.contains(TOKEN), "{screen}");
    // Before the first `up` the mock's address is not known yet.
    assert!(
        screen.contains("PAY_URL is not set: mock `pay` is not up yet"),
        "{screen}"
    );
}

#[test]
fn an_undefined_variable_in_env_is_exit_2_at_its_place_before_any_phase() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"envs\"\n[mocks.pay]\nport = \"auto\"\n[[mocks.pay.routes]]\npath = \"/v\"\n\
         [env]\nDB = \"{{ services.db.url }}\"\n",
    );
    env.run(["up"])
        .code(2)
        .stderr_has("devenv.toml:8:6")
        .stderr_has("[env] DB: undefined variable `services.db");
    assert!(!env.exists(".devenv"));
    env.run(["validate"]).code(2).stderr_has("[env] DB");
}

#[test]
fn an_env_name_devenv_sets_itself_is_refused() {
    TestEnv::new()
        .manifest("[project]\nname = \"envs\"\n[env]\nPATH = \"/x\"\n\"1X\" = \"y\"\n")
        .run(["validate"])
        .code(2)
        .stderr_has("`PATH` is set by devenv itself")
        .stderr_has("`1X` is not an environment variable name");
}
