//! Exit 2 means nothing changed: an undefined template variable is found
//! before any phase starts, and `validate` reports it too. Before this, it
//! was found by the config phase, after containers and mocks had started.

mod common;

use common::TestEnv;

const MOCK: &str = "[mocks.pay]\nport = \"auto\"\n[[mocks.pay.routes]]\npath = \"/v\"\n";

fn project(template: &str) -> TestEnv {
    TestEnv::new()
        .manifest(&format!(
            "[project]\nname = \"pre\"\n{MOCK}[secrets.KEY]\nenv = \"PRE_KEY\"\noptional = true\n\
             [config.values]\nlevel = \"info\"\n[[config.files]]\ntemplate = \"t.j2\"\noutput = \"out.env\"\n"
        ))
        .file("t.j2", template)
}

#[test]
fn an_undefined_value_stops_up_before_the_mock_starts() {
    let env = project("LEVEL={{ level }}\nPOOL={{ pool }}\n");
    env.run(["up"])
        .code(2)
        .stderr_has("undefined variable `pool`")
        .stderr_has("t.j2:2");
    assert!(
        !env.exists(".devenv"),
        "a phase ran: {:?}",
        env.repo_files()
    );
    assert!(!env.exists("out.env"));
}

#[test]
fn an_undeclared_mock_or_service_or_secret_is_caught_before_any_phase() {
    for (template, wanted) in [
        (
            "U={{ mocks.payments.url }}\n",
            "undefined variable `mocks.payments",
        ),
        (
            "U={{ services.db.url }}\n",
            "undefined variable `services.db",
        ),
        ("U={{ mocks.pay.uri }}\n", "`mocks.pay` has no `uri`"),
        (
            "U={{ secrets.TOKEN }}\n",
            "undefined variable `secrets.TOKEN`",
        ),
    ] {
        let env = project(template);
        env.run(["up"]).code(2).stderr_has(wanted);
        assert!(!env.exists(".devenv"), "{template}");
        env.run(["validate"]).code(2).stderr_has(wanted);
    }
}

#[test]
fn what_will_exist_passes_the_check_and_renders() {
    let env = project(
        "U={{ mocks.pay.url }}\nL={{ level }}\nK={{ secrets.KEY | default('none') }}\n\
         {% if extra is defined %}X={{ extra }}{% endif %}E={{ env }}\n",
    );
    env.run(["validate"]).success();
    env.run(["up"]).success();
    let out = env.read("out.env");
    assert!(out.starts_with("U=http://127.0.0.1:"), "{out}");
    assert!(out.contains("L=info\nK=none\nE=local"), "{out}");
    env.run(["down"]).success();
}

#[test]
fn a_value_given_by_a_variable_or_the_local_file_counts_as_defined() {
    let env = project("P={{ pool }}\nR={{ region }}\n")
        .file("devenv.local.toml", "region = \"eu\"\n")
        .env("DEVENV_VALUE_POOL", "5");
    env.run(["up", "--only", "config"]).success();
    assert_eq!(env.read("out.env"), "P=5\nR=eu\n");
}
