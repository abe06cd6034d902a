//! Settings come from layers, each value knowing its origin; `devenv
//! config` shows them. The story that motivated the user config file: a new
//! hire sets the registry mirror once, and every later shell pulls from it.

mod common;

use common::{docker, engine_available, Cleanup, TestEnv, REGISTRY};

fn with_user_config(env: TestEnv, text: &str) -> TestEnv {
    env.user_config(text)
}

#[test]
fn config_json_names_the_user_config_file_as_the_mirror_origin() {
    let env = with_user_config(
        TestEnv::new().manifest("[project]\nname = \"cfg\"\n"),
        &format!("[settings]\nregistry_mirror = \"{REGISTRY}\"\n"),
    );
    let run = env.run(["config", "--json"]).success();
    let doc = run.json();
    let mirror = &doc["settings"]["registry_mirror"];
    assert_eq!(mirror["value"], REGISTRY, "{doc}");
    assert_eq!(mirror["origin"], "user", "{doc}");
    let source = mirror["source"].as_str().unwrap();
    assert!(source.ends_with(".config/devenv/config.toml"), "{doc}");
    assert_eq!(doc["user_config_exists"], true);
    assert_eq!(doc["settings"]["pull"]["origin"], "default");
}

#[test]
fn each_layer_overrides_the_one_before_and_says_so() {
    let env = with_user_config(
        TestEnv::new()
            .manifest(
                "[project]\nname = \"cfg\"\n[settings]\nregistry_mirror = \"manifest:5000\"\n",
            )
            .file("devenv.local.toml", "[settings]\npull = \"never\"\n"),
        "[settings]\nregistry_mirror = \"user:5000\"\npull = \"always\"\n",
    );
    let doc = env.run(["config", "--json"]).success().json();
    assert_eq!(doc["settings"]["registry_mirror"]["value"], "manifest:5000");
    assert_eq!(doc["settings"]["registry_mirror"]["origin"], "manifest");
    assert_eq!(doc["settings"]["pull"]["value"], "never");
    assert_eq!(doc["settings"]["pull"]["origin"], "local");

    let env = env.env("DEVENV_REGISTRY_MIRROR", "env:5000");
    let doc = env.run(["config", "--json"]).success().json();
    assert_eq!(doc["settings"]["registry_mirror"]["value"], "env:5000");
    assert_eq!(
        doc["settings"]["registry_mirror"]["source"],
        "$DEVENV_REGISTRY_MIRROR"
    );
}

#[test]
fn config_prints_a_table_with_origins_like_git_show_origin() {
    let env = with_user_config(
        TestEnv::new().manifest("[project]\nname = \"cfg\"\n"),
        "[settings]\nregistry_mirror = \"m:5000\"\n",
    );
    let run = env.run(["config"]).success();
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("registry_mirror"))
        .unwrap_or_else(|| panic!("{}", run.stdout))
        .to_string();
    assert!(line.contains("m:5000"), "{line}");
    assert!(
        line.contains("user: ") && line.ends_with("devenv/config.toml"),
        "{line}"
    );
}

#[test]
fn config_works_outside_a_repository_with_the_user_layer_only() {
    let env = with_user_config(TestEnv::new(), "[settings]\npull = \"always\"\n");
    let doc = env.run(["config", "--json"]).success().json();
    assert_eq!(doc["in_repository"], false);
    assert_eq!(doc["settings"]["pull"]["origin"], "user");
}

#[test]
fn a_malformed_user_config_is_exit_2_with_its_line_and_column() {
    let env = with_user_config(
        TestEnv::new().manifest("[project]\nname = \"cfg\"\n"),
        "[settings]\nregistry_mirorr = \"x\"\n",
    );
    for cmd in [&["config"][..], &["up"], &["status"]] {
        env.run(cmd)
            .code(2)
            .stderr_has("config.toml:2:1")
            .stderr_has("unknown key `registry_mirorr` in [settings]")
            .stderr_has("did you mean `registry_mirror`?");
    }
    assert!(!env.exists(".devenv"));
}

#[test]
fn a_malformed_variable_is_exit_2_naming_it() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"cfg\"\n")
        .env("DEVENV_PULL", "sometimes");
    env.run(["up"])
        .code(2)
        .stderr_has("DEVENV_PULL=`sometimes` is not a pull policy");
}

/// The new hire's story: the mirror is set once in the user config file;
/// `up`, `down` and `up` again in fresh shells with no DEVENV_* variables
/// pull `redis:7` through it (Docker Hub is out of reach here, so a pull
/// that ignored the mirror would fail).
#[test]
fn a_newcomer_sets_the_mirror_once_and_every_later_up_pulls_from_it() {
    if !engine_available("a_newcomer_sets_the_mirror_once") {
        return;
    }
    let project = "settings-mirror";
    let _cleanup = Cleanup(project.into());
    let env = with_user_config(
        TestEnv::new().manifest(&format!(
            "[project]\nname = \"{project}\"\n[services.cache]\nimage = \"redis:7\"\nports = [\"auto:6379\"]\nready = {{ tcp = 6379 }}\n"
        )),
        &format!("[settings]\nregistry_mirror = \"{REGISTRY}\"\n"),
    );
    let image_of_cache = || {
        let out = docker(&[
            "inspect",
            "--format",
            "{{.Config.Image}}",
            &format!("devenv_{project}_cache"),
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    env.run(["up"]).success();
    assert_eq!(image_of_cache(), format!("{REGISTRY}/library/redis:7"));
    env.run(["down"]).success();
    env.run(["up"])
        .success()
        .stderr_has("settings-mirror is up");
    assert_eq!(image_of_cache(), format!("{REGISTRY}/library/redis:7"));
}
