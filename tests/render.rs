//! `devenv render` and the config phase of `up`: value layers, template
//! errors, writes, hand edits and `--check`.

mod common;
mod render_support;

use common::TestEnv;
use render_support::json_server;

const BASIC: &str = r#"
[project]
name = "shop"

[config.values]
log_level = "info"
[config.values.database]
pool = 2
host = "localhost"

[config.environments.ci]
log_level = "warn"

[[config.files]]
template = "templates/app.env.j2"
output = "config/app.env"
"#;

const APP_ENV: &str = "LOG_LEVEL={{ log_level }}\nPOOL={{ database.pool }}\n";

fn basic() -> TestEnv {
    TestEnv::new()
        .manifest(BASIC)
        .file("templates/app.env.j2", APP_ENV)
}

#[test]
fn renders_values_and_writes_the_output() {
    let t = basic();
    t.run(["render"])
        .success()
        .stderr_has("rendered config/app.env (local)");
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=info\nPOOL=2\n");
    // A second run changes nothing.
    t.run(["render"]).success().stderr_has("up to date");
    t.run(["render", "--env", "ci"]).success();
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=warn\nPOOL=2\n");
}

/// The same key at every layer; removing the top layer each time uncovers
/// the one below, and `--explain` names it.
#[test]
fn precedence_each_layer_removed_in_turn() {
    let source = json_server(serde_json::json!({"level": "source"}), None);
    let manifest = format!(
        r#"
[config.values]
level = "values"
[config.environments.ci]
level = "environment"
[config.sources.remote]
kind = "http"
url = "{}/config.json"
[[config.files]]
template = "t.j2"
output = "out.txt"
"#,
        source.base()
    );
    let t = TestEnv::new()
        .manifest(&manifest)
        .file("t.j2", "{{ level }}\n")
        .file("devenv.local.toml", "level = \"local\"\n");
    // A config source is fetched only from a trusted devenv.toml.
    t.run(["trust"]).success();
    let check = |t: &TestEnv, args: &[&str], vars: &[(&str, &str)], want: &str, layer: &str| {
        let mut cmd: Vec<&str> = vec!["render"];
        cmd.extend_from_slice(args);
        let mut c = t.command(&cmd);
        for (k, v) in vars {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            t.read("out.txt"),
            format!("{want}\n"),
            "args {args:?} vars {vars:?}"
        );
        let mut explain = cmd.clone();
        explain.extend(["--explain", "level"]);
        let mut c = t.command(&explain);
        for (k, v) in vars {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with(&format!("level = \"{want}\"\n  from {layer}")),
            "{stdout}"
        );
    };
    let var = [("DEVENV_VALUE_LEVEL", "variable")];
    check(
        &t,
        &["--env", "ci", "--set", "level=set"],
        &var,
        "set",
        "--set level",
    );
    check(
        &t,
        &["--env", "ci"],
        &var,
        "variable",
        "environment variable DEVENV_VALUE_LEVEL",
    );
    check(&t, &["--env", "ci"], &[], "local", "devenv.local.toml");
    std::fs::remove_file(t.repo().join("devenv.local.toml")).unwrap();
    check(
        &t,
        &["--env", "ci"],
        &[],
        "environment",
        "[config.environments.ci] in devenv.toml",
    );
    check(&t, &[], &[], "source", "[config.sources.remote]");
    // Without the source, [config.values] is all that is left.
    t.write(
        "devenv.toml",
        &manifest
            .replace(
                "[config.sources.remote]\nkind = \"http\"",
                "[config.sources.remote]\nenvironments = [\"staging\"]\nkind = \"http\"",
            )
            .replace(
                "[config.environments.ci]",
                "[config.environments.staging]\n[config.environments.ci]",
            ),
    );
    check(&t, &[], &[], "values", "[config.values] in devenv.toml");

    // The full chain, top layer first.
    let t2 = t
        .run([
            "render",
            "--env",
            "staging",
            "--set",
            "level=x",
            "--explain",
            "level",
        ])
        .success();
    assert!(
        t2.stdout
            .contains("\"source\" from [config.sources.remote]"),
        "{}",
        t2.stdout
    );
    assert!(
        t2.stdout.contains("\"values\" from [config.values]"),
        "{}",
        t2.stdout
    );
}

#[test]
fn nested_keys_from_variables_and_set_with_toml_scalars() {
    let t = basic().file(
        "templates/app.env.j2",
        "POOL={{ database.pool }} {{ database.pool is number }}\nDEBUG={{ debug }} {{ debug is boolean }}\nPORT={{ port }} {{ port is string }}\n",
    );
    t.command(["render", "--set", "debug=true", "--set", "port=\"5432\""])
        .env("DEVENV_VALUE_DATABASE__POOL", "7")
        .status()
        .unwrap();
    assert_eq!(
        t.read("config/app.env"),
        "POOL=7 true\nDEBUG=true true\nPORT=5432 true\n"
    );
}

#[test]
fn explain_shows_a_table_and_each_leaf_layer() {
    let t = basic();
    let r = t
        .run([
            "render",
            "--set",
            "database.pool=9",
            "--explain",
            "database",
        ])
        .success();
    assert!(
        r.stdout
            .starts_with("database = {\"host\":\"localhost\",\"pool\":9}"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("database.pool from --set database.pool"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("database.host from [config.values]"),
        "{}",
        r.stdout
    );
    t.run(["render", "--explain", "databse.pool"])
        .code(2)
        .stderr_has("`databse.pool` is not defined")
        .stderr_has("did you mean `database`?");
    t.run(["render", "--explain", "environment", "--env", "ci"])
        .success()
        .stdout_has("environment = \"ci\"");
    t.run(["render", "--explain", "project.name"])
        .success()
        .stdout_has("project.name = \"shop\"");
    assert!(!t.exists("config/app.env"), "--explain writes nothing");
}

#[test]
fn undefined_variable_exits_2_naming_it_and_writes_nothing() {
    let t = basic()
        .manifest(&format!(
            "{BASIC}\n[[config.files]]\ntemplate = \"templates/db.yaml.j2\"\noutput = \"config/db.yaml\"\n"
        ))
        .file("templates/db.yaml.j2", "pool: {{ database.pool }}\nhost: {{ database.hots }}\n");
    let r = t.run(["render"]).code(2);
    let r = r
        .stderr_has("undefined variable `database.hots`: `database` has no `hots`")
        .stderr_has("templates/db.yaml.j2:2:")
        .stderr_has("did you mean `database.host`?");
    assert!(
        r.stderr.contains("2 | host: {{ database.hots }}"),
        "{}",
        r.stderr
    );
    assert!(
        !t.exists("config"),
        "nothing is written when one template fails"
    );
    assert!(!t.exists(".devenv/state/rendered.json"));

    // A top-level name suggests where to set it.
    t.write("templates/db.yaml.j2", "x: {{ nme }}\n");
    t.run(["render"])
        .code(2)
        .stderr_has("undefined variable `nme`")
        .stderr_has("--set nme=");
}

#[test]
fn an_existing_output_is_left_alone_when_another_template_fails() {
    let t = basic().manifest(&format!(
        "{BASIC}\n[[config.files]]\ntemplate = \"templates/b.j2\"\noutput = \"b.txt\"\n"
    ));
    t.write("templates/b.j2", "ok\n");
    t.run(["render"]).success();
    t.write("templates/b.j2", "{{ broken }}\n");
    t.run(["render", "--set", "log_level=debug"]).code(2);
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=info\nPOOL=2\n");
}

#[test]
fn syntax_error_exits_2_with_file_and_line_in_render_validate_and_up() {
    let t = basic().file(
        "templates/app.env.j2",
        "A={{ log_level }}\nB={{ log_level }\n",
    );
    for cmd in [
        &["render"][..],
        &["validate"],
        &["up"],
        &["up", "--only", "config"],
    ] {
        t.run(cmd)
            .code(2)
            .stderr_has("templates/app.env.j2:2:")
            .stderr_has("template syntax error")
            .stderr_has("2 | B={{ log_level }");
    }
    let v = t.run(["validate", "--json"]).code(2).json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"][0]["line"], 2);
    assert!(!t.exists("config"));
    assert!(!t.exists(".devenv"), "up changed nothing");
}

#[test]
fn missing_template_exits_2() {
    let t = TestEnv::new().manifest(BASIC);
    let r = t.run(["render"]).code(2).stderr_has("templates/app.env.j2");
    assert!(
        r.stderr.contains("does not exist") || r.stderr.contains("not found"),
        "{}",
        r.stderr
    );
    assert!(!t.exists("config"));
}

#[test]
fn an_unknown_filter_or_include_is_reported_at_its_line() {
    let t = basic().file("templates/app.env.j2", "a\n{{ log_level | shout }}\n");
    t.run(["render"])
        .code(2)
        .stderr_has("templates/app.env.j2:2:")
        .stderr_has("unknown");
    t.write(
        "templates/app.env.j2",
        "{% include 'templates/nope.j2' %}\n",
    );
    t.run(["render"]).code(2).stderr_has("template not found");
}

#[test]
fn includes_resolve_from_the_repository_root() {
    let t = basic()
        .file(
            "templates/app.env.j2",
            "{% include 'templates/_common.j2' %}X=1\n",
        )
        .file("templates/_common.j2", "LEVEL={{ log_level }}\n");
    t.run(["render"]).success();
    assert_eq!(t.read("config/app.env"), "LEVEL=info\nX=1\n");
    t.write("templates/_common.j2", "\n\nLEVEL={{ levl }}\n");
    t.run(["render"])
        .code(2)
        .stderr_has("templates/_common.j2:3:")
        .stderr_has("`levl`");
}

#[test]
fn filters_for_config_files() {
    let t = basic().file(
        "templates/app.env.j2",
        concat!(
            "{{ database | tojson }}\n",
            "{{ database | toyaml }}\n",
            "{{ 'user:pass' | b64encode }}\n",
            "X={{ \"it's a $test\" | quote }}\n",
            "{{ missing | default('fallback') }}\n",
            "{{ 'yes' | toyaml }}\n",
        ),
    );
    t.run(["render"]).success();
    assert_eq!(
        t.read("config/app.env"),
        "{\"host\":\"localhost\",\"pool\":2}\nhost: localhost\npool: 2\ndXNlcjpwYXNz\nX='it'\\''s a $test'\nfallback\n'yes'\n"
    );
}

#[test]
fn hand_edited_output_is_kept_and_force_overwrites() {
    let t = basic();
    t.run(["render"]).success();
    t.write("config/app.env", "LOG_LEVEL=trace\nPOOL=2\n");
    let r = t.run(["render"]).code(1);
    r.stderr_has("config/app.env was edited by hand")
        .stderr_has("-LOG_LEVEL=trace")
        .stderr_has("+LOG_LEVEL=info")
        .stderr_has("devenv render --force");
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=trace\nPOOL=2\n");
    // up never overwrites it either.
    t.run(["up"]).code(1).stderr_has("devenv render --force");
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=trace\nPOOL=2\n");
    t.run(["render", "--force"])
        .success()
        .stderr_has("overwrote config/app.env");
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=info\nPOOL=2\n");
    // Now devenv's own again: a value change rewrites it without --force.
    t.run(["render", "--set", "log_level=debug"]).success();
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=debug\nPOOL=2\n");
}

#[test]
fn a_file_devenv_did_not_write_is_not_clobbered() {
    let t = basic().file("config/app.env", "SOMEONE=else\n");
    t.run(["render"])
        .code(1)
        .stderr_has("config/app.env exists and was not written by devenv");
    assert_eq!(t.read("config/app.env"), "SOMEONE=else\n");
    // The same content is adopted without fuss.
    t.write("config/app.env", "LOG_LEVEL=info\nPOOL=2\n");
    t.run(["render"]).success();
    t.run(["render", "--set", "database.pool=3"]).success();
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=info\nPOOL=3\n");
}

#[test]
fn check_detects_missing_and_stale_outputs_and_writes_nothing() {
    let t = basic();
    t.run(["render", "--check"])
        .code(1)
        .stderr_has("config/app.env is missing")
        .stderr_lacks("error:");
    assert!(!t.exists("config/app.env"));
    assert!(!t.exists(".devenv"), "--check writes nothing");
    t.run(["render"]).success();
    t.run(["render", "--check"])
        .success()
        .stderr_has("up to date");
    t.write(
        "templates/app.env.j2",
        "LOG_LEVEL={{ log_level }}\nPOOL={{ database.pool + 1 }}\n",
    );
    t.run(["render", "--check"])
        .code(1)
        .stderr_has("config/app.env is out of date")
        .stderr_has("-POOL=2")
        .stderr_has("+POOL=3");
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=info\nPOOL=2\n");
    // The other environment's values make it stale too.
    t.run(["render"]).success();
    t.run(["render", "--check", "--env", "ci"]).code(1);
    t.write("config/app.env", "edited\n");
    t.run(["render", "--check"])
        .code(1)
        .stderr_has("edited by hand");
}

#[test]
fn up_renders_in_its_config_phase() {
    let t = basic();
    t.run(["up", "--only", "config", "--env", "ci"])
        .success()
        .stderr_has("rendered config/app.env (ci)");
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=warn\nPOOL=2\n");
    t.run(["up"]).success();
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=info\nPOOL=2\n");
}

#[test]
fn files_for_other_environments_are_skipped() {
    let t = basic()
        .manifest(&format!(
            "{BASIC}\n[[config.files]]\ntemplate = \"templates/ci.j2\"\noutput = \"ci.txt\"\nenvironments = [\"ci\"]\n"
        ))
        .file("templates/ci.j2", "ci {{ log_level }}\n");
    t.run(["render"]).success();
    assert!(!t.exists("ci.txt"));
    t.run(["render", "--env", "ci"]).success();
    assert_eq!(t.read("ci.txt"), "ci warn\n");
}

#[test]
fn local_values_file_with_a_syntax_error_is_bad_input() {
    let t = basic().file("devenv.local.toml", "log_level = \"debug\"\npool = = 3\n");
    for cmd in [&["render"][..], &["validate"], &["up"]] {
        t.run(cmd)
            .code(2)
            .stderr_has("devenv.local.toml:2:")
            .stderr_has("invalid TOML")
            .stderr_has("2 | pool = = 3");
    }
    assert!(!t.exists("config"));
}

#[test]
fn local_values_override_the_environments() {
    let t = basic().file(
        "devenv.local.toml",
        "log_level = \"debug\"\n[database]\npool = 8\n",
    );
    t.run(["render", "--env", "ci"]).success();
    assert_eq!(t.read("config/app.env"), "LOG_LEVEL=debug\nPOOL=8\n");
}

#[test]
fn bad_flags_and_variables_are_usage_errors() {
    let t = basic();
    t.run(["render", "--set", "novalue"])
        .code(2)
        .stderr_has("--set novalue")
        .stderr_has("KEY=VALUE");
    t.command(["render"])
        .env("DEVENV_VALUE_A____B", "1")
        .output()
        .map(|o| assert_eq!(o.status.code(), Some(2)))
        .unwrap();
    t.run(["render", "--env", "cii"])
        .code(2)
        .stderr_has("environment `cii` is not defined")
        .stderr_has("did you mean `ci`?");
    assert!(!t.exists("config"));
}

#[test]
fn services_that_are_not_up_get_a_hint() {
    let t = basic()
        .manifest(&format!(
            "{BASIC}\n[services.db]\nimage = \"postgres:16\"\nports = [\"5432\"]\n"
        ))
        .file("templates/app.env.j2", "DB={{ services.db.port }}\n");
    t.run(["render"])
        .code(2)
        .stderr_has("`services` has no `db`")
        .stderr_has("devenv up");
}

#[test]
fn nothing_to_render_is_not_an_error() {
    let t = TestEnv::new().manifest("[project]\nname = \"empty\"\n");
    t.run(["render"]).success().stderr_has("nothing to render");
    t.run(["render", "--check"]).success();
    t.run(["up", "--only", "config"]).success();
}

/// `--explain secrets` answered "`secrets` is not defined, did you mean
/// `secrets`?", and so did `values`: the namespaces are explained whole.
#[test]
fn explain_of_the_secrets_and_values_namespaces_lists_their_keys() {
    let t = basic()
        .manifest(&format!(
            "{BASIC}\n[secrets.STRIPE_KEY]\nenv = \"STRIPE_KEY\"\n[secrets.OTHER]\nenv = \"OTHER_KEY\"\noptional = true\n"
        ))
        .env("STRIPE_KEY", "sk_test_namespace_1");
    let r = t
        .run(["render", "--set", "database.pool=9", "--explain", "values"])
        .success();
    assert_eq!(
        r.stdout,
        "values = {\"database\":{\"host\":\"localhost\",\"pool\":9},\"log_level\":\"info\"}\n  \
         the merged values for `local`, lowest layer first: [config.values] < [config.sources.*] < [config.environments.local] < devenv.local.toml < DEVENV_VALUE_<KEY> < --set KEY=VALUE\n  \
         database.host from [config.values] in devenv.toml\n  \
         database.pool from --set database.pool\n  \
         log_level from [config.values] in devenv.toml\n"
    );
    let r = t.run(["render", "--explain", "secrets"]).success();
    assert_eq!(
        r.stdout,
        "secrets = {\"STRIPE_KEY\":\"***\",\"OTHER\":null}\n  \
         the [secrets] of devenv.toml, masked; each from its env, its command or the value kept under DEVENV_HOME\n  \
         secrets.STRIPE_KEY from environment variable STRIPE_KEY\n  \
         secrets.OTHER from nowhere: it is optional and not provided\n"
    );
    assert!(!r.stdout.contains("sk_test_namespace_1"));
    // A name one typo away still gets a suggestion, never the name itself.
    t.run(["render", "--explain", "secretz"])
        .code(2)
        .stderr_has("did you mean `secrets`?");
    t.run(["render", "--explain", "environment.name"])
        .code(2)
        .stderr_has("`environment.name` is not defined")
        .stderr_has("try `--explain environment`")
        .stderr_lacks("did you mean `environment`");
}

/// After `--env ci`, `render --check` hinted at `devenv render`, which
/// renders `local`: the hint repeats `-f`, `--env` and `--set`.
#[test]
fn check_hint_repeats_the_file_env_and_set_flags() {
    let t = basic();
    t.run(["render"]).success();
    t.run(["-f", "./devenv.toml", "render", "--check", "--env", "ci"])
        .code(1)
        .stderr_has("1 of 1 config file(s) need rendering (ci)\n  hint: run `devenv -f ./devenv.toml render --env ci`\n");
    t.run(["render", "--check", "--set", "database.pool=two words"])
        .code(1)
        .stderr_has("  hint: run `devenv render --set 'database.pool=two words'`\n");
    // The suggested command is one that works.
    t.run(["-f", "./devenv.toml", "render", "--env", "ci"])
        .success();
    t.run(["render", "--check", "--env", "ci"]).success();
}

/// After a hand edit, `render --check` suggested `devenv render`, which
/// refuses to overwrite the edit: it suggests `--force` and says the cost.
#[test]
fn check_after_a_hand_edit_suggests_the_force_that_is_needed() {
    let t = basic();
    t.run(["render", "--env", "ci"]).success();
    t.write("config/app.env", "LOG_LEVEL=warn\nPOOL=2\nMINE=1\n");
    t.run(["render", "--check", "--env", "ci"])
        .code(1)
        .stderr_has("config/app.env was edited by hand")
        .stderr_has("  hint: run `devenv render --env ci --force`; it replaces what was changed by hand in config/app.env, so keep those changes in devenv.local.toml or the template first\n");
    // Without --force the write refuses, naming the same command.
    t.run(["render", "--env", "ci"])
        .code(1)
        .stderr_has("then run `devenv render --env ci --force` to overwrite the file");
    t.run(["render", "--env", "ci", "--force"]).success();
    t.run(["render", "--check", "--env", "ci"]).success();
}
