//! The harness itself: a developer's own `DEVENV_*` settings and user config
//! never reach the devenv under test; the test's own settings do.

mod common;

use common::TestEnv;

#[test]
fn a_developers_own_settings_never_reach_the_devenv_under_test() {
    // The only test in this binary, so changing the process environment
    // races with nothing.
    std::env::set_var("DEVENV_REGISTRY_MIRROR", "developer.example:5000");
    std::env::set_var("DEVENV_SOME_FUTURE_SETTING", "the developer's");
    let env = TestEnv::new()
        .manifest("[project]\nname = \"harness\"\n")
        .user_config("# the test's own user config\n")
        .env("DEVENV_TOOLS_MIRROR", "http://127.0.0.1:9");
    let run = env
        .run([
            "exec",
            "--",
            "sh",
            "-c",
            "env; cat \"$XDG_CONFIG_HOME/devenv/config.toml\"",
        ])
        .success()
        .stdout_has(&format!(
            "XDG_CONFIG_HOME={}\n",
            env.config_home().display()
        ))
        .stdout_has(&format!("HOME={}\n", env.home().display()))
        .stdout_has(&format!("DEVENV_HOME={}\n", env.devenv_home().display()))
        .stdout_has("DEVENV_TOOLS_MIRROR=http://127.0.0.1:9\n")
        .stdout_has("# the test's own user config\n");
    for leaked in ["DEVENV_REGISTRY_MIRROR", "DEVENV_SOME_FUTURE_SETTING"] {
        assert!(
            !run.stdout.contains(leaked),
            "{leaked} leaked:\n{}",
            run.stdout
        );
    }
}
