//! No code from the repository runs before the user trusts it, in any
//! command. Code is `[hooks]`, secret `command`s, `[requires]` entries that
//! are paths and `[config.sources]`. Each test is an attack that got
//! through once, or the rule that trust is keyed to exactly those parts.

mod common;

use common::{Server, TestEnv};

/// A script that leaves `ran.marker` behind when anything runs it.
const EVIL: &str = "#!/bin/sh\ntouch \"$(dirname \"$0\")/ran.marker\"\necho evil 9.9.9\n";

fn with_evil_script(env: TestEnv) -> TestEnv {
    let env = env.file("evil.sh", EVIL);
    let p = env.repo().join("evil.sh");
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env
}

#[test]
fn an_untrusted_requires_path_runs_neither_in_up_nor_in_doctor() {
    let env = with_evil_script(
        TestEnv::new().manifest("[project]\nname = \"t\"\n[requires]\n\"./evil.sh\" = \">=0.1\"\n"),
    );
    env.run(["up", "--only", "tools"])
        .code(3)
        .stderr_has("requires:      ./evil.sh --version")
        .stderr_has("devenv trust");
    assert!(!env.exists("ran.marker"), "up ran an untrusted ./evil.sh");
    env.run(["doctor"])
        .stdout_has("not run: it is a file of the repository and this devenv.toml is not trusted");
    assert!(
        !env.exists("ran.marker"),
        "doctor ran an untrusted ./evil.sh"
    );

    env.run(["trust"]).success();
    env.run(["up", "--only", "tools"]).success();
    assert!(
        env.exists("ran.marker"),
        "once trusted, the requirement is checked"
    );
}

#[test]
fn render_never_runs_an_untrusted_secret_command_in_any_mode() {
    let env = with_evil_script(TestEnv::new().manifest(
        "[project]\nname = \"t\"\n[secrets.KEY]\ncommand = [\"./evil.sh\"]\n\
         [[config.files]]\ntemplate = \"t.j2\"\noutput = \"out.env\"\n",
    ))
    .file("t.j2", "KEY={{ secrets.KEY }}\n");
    for args in [
        &["render"][..],
        &["render", "--check"],
        &["render", "--explain", "secrets.KEY"],
        &["up", "--only", "config"],
    ] {
        env.run(args).code(3).stderr_has("secret KEY: ./evil.sh");
        assert!(!env.exists("ran.marker"), "`{}` ran it", args.join(" "));
        assert!(!env.exists("out.env"));
    }
}

#[test]
fn status_and_env_run_no_code_from_an_untrusted_file() {
    let env = with_evil_script(TestEnv::new().manifest(
        "[project]\nname = \"t\"\n[secrets.KEY]\ncommand = [\"./evil.sh\"]\n\
         [hooks]\nsetup = [\"./evil.sh\"]\npre_down = [\"./evil.sh\"]\n\
         [requires]\n\"./evil.sh\" = \"*\"\n",
    ));
    env.run(["status"]).success();
    env.run(["env", "--shell", "json"]).success();
    env.run(["down"])
        .success()
        .stderr_has("pre_down hooks skipped: this devenv.toml is not trusted");
    assert!(!env.exists("ran.marker"));
}

#[test]
fn an_untrusted_config_source_is_never_fetched() {
    let server = Server::start();
    server.file("/values.json", r#"{"a": 1}"#);
    let env = TestEnv::new()
        .manifest(&format!(
            "[project]\nname = \"t\"\n[config.sources.team]\nkind = \"http\"\nurl = \"{}\"\n\
             [[config.files]]\ntemplate = \"t.j2\"\noutput = \"out.txt\"\n",
            server.url("/values.json")
        ))
        .file("t.j2", "{{ a }}\n");
    env.run(["render"])
        .code(3)
        .stderr_has("config source team: fetch");
    assert!(server.requests().is_empty(), "fetched before trust");
    env.run(["render", "--yes"]).success();
    assert_eq!(env.read("out.txt"), "1\n");
}

#[test]
fn editing_a_value_or_a_services_env_needs_no_new_trust() {
    let manifest = |value: &str, env_value: &str| {
        format!(
            "[project]\nname = \"t\"\n[hooks]\nsetup = [\"true\"]\n[config.values]\nx = \"{value}\"\n\
             [services.db]\nimage = \"redis:7\"\nenv = {{ A = \"{env_value}\" }}\n"
        )
    };
    let env = TestEnv::new().manifest(&manifest("1", "1"));
    env.run(["trust"]).success();
    env.write("devenv.toml", &manifest("2", "2"));
    env.run(["up", "--only", "hooks"]).success();
}

#[test]
fn a_changed_hook_asks_again_and_shows_what_changed() {
    let env = TestEnv::new().manifest("[project]\nname = \"t\"\n[hooks]\nsetup = [\"echo one\"]\n");
    env.run(["trust"]).success();
    env.write(
        "devenv.toml",
        "[project]\nname = \"t\"\n[hooks]\nsetup = [\"echo two\"]\n",
    );
    env.run(["up", "--only", "hooks"])
        .code(3)
        .stderr_has("changed what it runs since you trusted it")
        .stderr_has("- setup hook:    echo one")
        .stderr_has("+ setup hook:    echo two");
}
