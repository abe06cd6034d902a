//! Layer order and origins, without touching the real environment.

use std::path::Path;

use super::*;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo")).unwrap();
        std::fs::create_dir_all(dir.path().join("home/.config/devenv")).unwrap();
        Fixture { dir }
    }
    fn home(&self) -> std::path::PathBuf {
        self.dir.path().join("home")
    }
    fn user_config(&self, text: &str) -> &Self {
        std::fs::write(self.home().join(".config/devenv/config.toml"), text).unwrap();
        self
    }
    fn repo_file(&self, rel: &str, text: &str) -> &Self {
        std::fs::write(self.dir.path().join("repo").join(rel), text).unwrap();
        self
    }
    fn manifest(&self) -> Manifest {
        crate::manifest::load(&self.dir.path().join("repo/devenv.toml")).unwrap()
    }
    fn env(&self, extra: &[(&str, &str)]) -> ProcessEnv {
        let mut pairs = vec![("HOME".to_string(), self.home().display().to_string())];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        ProcessEnv::from_pairs(pairs)
    }
}

fn resolve(env: &ProcessEnv, m: Option<&Manifest>, flags: &Flags) -> Result<Settings, Error> {
    Settings::resolve(&Inputs {
        env,
        manifest: m,
        flags,
    })
}

#[test]
fn every_value_has_a_default_origin_when_nothing_is_set() {
    let f = Fixture::new();
    let s = resolve(&f.env(&[]), None, &Flags::default()).unwrap();
    assert_eq!(s.registry_mirror.value, None);
    assert_eq!(s.registry_mirror.origin, Origin::Default);
    assert_eq!(s.home.value, f.home().join(".local/share/devenv"));
    assert_eq!(s.user_config, f.home().join(".config/devenv/config.toml"));
    assert!(s.metrics.value);
}

#[test]
fn the_user_config_gives_the_mirror_once_for_every_shell() {
    let f = Fixture::new();
    f.user_config("[settings]\nregistry_mirror = \"127.0.0.1:5000\"\n");
    let s = resolve(&f.env(&[]), None, &Flags::default()).unwrap();
    assert_eq!(s.registry_mirror.value.as_deref(), Some("127.0.0.1:5000"));
    assert_eq!(
        s.registry_mirror.origin,
        Origin::User(s.user_config.clone())
    );
}

#[test]
fn layers_override_in_contract_order() {
    let f = Fixture::new();
    f.user_config("[settings]\nregistry_mirror = \"user:5000\"\npull = \"never\"\n")
        .repo_file(
            "devenv.toml",
            "[settings]\nregistry_mirror = \"manifest:5000\"\npull = \"always\"\n",
        );
    let m = f.manifest();
    let s = resolve(&f.env(&[]), Some(&m), &Flags::default()).unwrap();
    assert_eq!(s.registry_mirror.value.as_deref(), Some("manifest:5000"));
    assert_eq!(s.pull.value, PullPolicy::Always);
    assert!(matches!(s.pull.origin, Origin::Manifest(_)));

    f.repo_file(
        "devenv.local.toml",
        "log_level = \"debug\"\n[settings]\nregistry_mirror = \"local:5000\"\n",
    );
    let s = resolve(&f.env(&[]), Some(&m), &Flags::default()).unwrap();
    assert_eq!(s.registry_mirror.value.as_deref(), Some("local:5000"));
    assert!(matches!(s.registry_mirror.origin, Origin::Local(_)));

    let env = f.env(&[(REGISTRY_MIRROR, "env:5000"), (PULL, "missing")]);
    let s = resolve(&env, Some(&m), &Flags::default()).unwrap();
    assert_eq!(s.registry_mirror.value.as_deref(), Some("env:5000"));
    assert_eq!(s.registry_mirror.origin, Origin::Env(REGISTRY_MIRROR));
    assert_eq!(s.pull.origin, Origin::Env(PULL));

    let flags = Flags {
        pull: Some(PullPolicy::Never),
        environment: Some("ci".into()),
        ..Flags::default()
    };
    let s = resolve(&env, Some(&m), &flags).unwrap();
    assert_eq!(s.pull.value, PullPolicy::Never);
    assert_eq!(s.pull.origin, Origin::Flag("--pull"));
    assert_eq!(s.environment.value, "ci");
}

#[test]
fn a_malformed_user_config_is_bad_input_with_its_location() {
    let f = Fixture::new();
    f.user_config("[settings]\npull = \"sometimes\"\n");
    let e = resolve(&f.env(&[]), None, &Flags::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(text.contains("config.toml:2:8"), "{text}");
}

#[test]
fn malformed_variables_are_bad_input_naming_the_variable() {
    let f = Fixture::new();
    for (var, value) in [
        (HTTP_TIMEOUT, "soon"),
        (TOOLS_MIRROR, "ftp://x"),
        (PULL, "sometimes"),
    ] {
        let e = resolve(&f.env(&[(var, value)]), None, &Flags::default()).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{var}");
        assert!(e.to_string().contains(var), "{e}");
    }
}

#[test]
fn opting_out_of_metrics_names_the_variable() {
    let f = Fixture::new();
    let s = resolve(&f.env(&[(DO_NOT_TRACK, "1")]), None, &Flags::default()).unwrap();
    assert!(!s.metrics.value);
    assert_eq!(s.metrics.origin, Origin::Env(DO_NOT_TRACK));
    let s = resolve(&f.env(&[(NO_METRICS, "0")]), None, &Flags::default()).unwrap();
    assert!(s.metrics.value);
}

#[test]
fn devenv_home_and_engine_come_from_the_snapshot() {
    let f = Fixture::new();
    let env = f.env(&[
        (HOME, "/srv/devenv"),
        ("DOCKER_HOST", "tcp://127.0.0.1:2375"),
    ]);
    let s = resolve(&env, None, &Flags::default()).unwrap();
    assert_eq!(s.home.value, Path::new("/srv/devenv"));
    assert_eq!(
        s.engine.docker_host.as_deref(),
        Some("tcp://127.0.0.1:2375")
    );
}

#[test]
fn extra_mounts_come_from_the_users_own_files_and_local_wins() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.home().join(".m2")).unwrap();
    std::fs::create_dir_all(f.home().join("aws")).unwrap();
    f.repo_file(
        "devenv.toml",
        "[services.app]\nimage = \"busybox:latest\"\n[services.db]\nimage = \"busybox:latest\"\n",
    )
    .user_config(
        "[settings.mounts]\napp = [\"~/.m2:/root/.m2:ro\", \"~/aws:/root/.aws\"]\nother = [\"~/.m2:/x\"]\n",
    )
    .repo_file(
        "devenv.local.toml",
        "[settings.mounts]\napp = [\"~/aws:/root/.m2\"]\n",
    );
    let m = f.manifest();
    let s = resolve(&f.env(&[]), Some(&m), &Flags::default()).unwrap();
    // The user config's `other` names no service here: skipped.
    assert_eq!(s.mounts.len(), 2, "{:?}", s.mounts);
    let m2 = s
        .mounts
        .iter()
        .find(|x| x.mount.target == "/root/.m2")
        .unwrap();
    assert!(matches!(m2.origin, Origin::Local(_)));
    assert_eq!(
        m2.mount.source,
        std::fs::canonicalize(f.home().join("aws")).unwrap()
    );
    assert!(!m2.mount.read_only);
}

#[test]
fn extra_mounts_are_checked_with_their_location() {
    let f = Fixture::new();
    f.repo_file(
        "devenv.toml",
        "[services.app]\nimage = \"busybox:latest\"\n",
    );
    let m = f.manifest();
    for (text, says) in [
        (
            "[settings.mounts]\napp = [\"/:/host\"]\n",
            "`/` is the whole file system",
        ),
        (
            "[settings.mounts]\napp = [\"~/nope:/x\"]\n",
            "does not exist",
        ),
        (
            "[settings.mounts]\napp = [\"~/:x\"]\n",
            "absolute container path",
        ),
        (
            "[settings.mounts]\napq = [\"~/:/x\"]\n",
            "did you mean `app`?",
        ),
    ] {
        f.repo_file("devenv.local.toml", text);
        let e = resolve(&f.env(&[]), Some(&m), &Flags::default()).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{text}");
        let Error::Invalid(d) = &e else {
            panic!("{e:?}")
        };
        let all = format!("{d} {:?}", d.0[0].hint);
        assert!(all.contains("devenv.local.toml:2:"), "{all}");
        assert!(all.contains(says), "{all}");
    }
}

#[test]
fn a_ci_job_is_a_setting_with_the_variable_that_said_so() {
    let f = Fixture::new();
    let laptop = resolve(&f.env(&[]), None, &Flags::default()).unwrap();
    assert_eq!(laptop.ci.value, None);
    assert_eq!(laptop.ci.origin, Origin::Default);

    let env = f.env(&[
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_PIPELINE_ID", "77"),
        ("CI_JOB_ID", "901"),
    ]);
    let s = resolve(&env, None, &Flags::default()).unwrap();
    let run = s.ci.value.clone().unwrap();
    assert_eq!(run.provider, CiProvider::GitlabCi);
    assert_eq!(s.ci.origin, Origin::Env("GITLAB_CI"));
    let (_, shown, _) = s
        .entries()
        .into_iter()
        .find(|(k, _, _)| *k == "ci")
        .unwrap();
    assert_eq!(shown, "gitlab-ci pipeline 77 job 901");

    // `up --ci` wins over the environment, and keeps what it says.
    let flags = Flags {
        ci: true,
        ..Flags::default()
    };
    let s = resolve(&env, None, &flags).unwrap();
    assert_eq!(s.ci.origin, Origin::Flag("--ci"));
    assert_eq!(s.ci.value.unwrap().pipeline.as_deref(), Some("77"));
    // On a laptop, --ci is a CI run of no known provider.
    let s = resolve(&f.env(&[]), None, &flags).unwrap();
    assert_eq!(s.ci.value.unwrap().provider, CiProvider::Other);
}
