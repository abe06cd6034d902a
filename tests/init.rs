//! `devenv init`: detection, `--from` on compose files in the style of real
//! projects, and the rules about what it writes. Every generated manifest
//! must pass `devenv validate`, and everything left out must be listed both
//! at the top of devenv.toml and on stderr.

mod common;

use std::path::Path;

use common::{copy_dir, strs, svc, TestEnv};

/// A test repository holding a copy of `tests/fixtures/compose/<name>`.
fn fixture(name: &str) -> TestEnv {
    let env = TestEnv::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compose")
        .join(name);
    copy_dir(&src, &env.repo());
    env
}

/// The `what` of each "Not converted" line in devenv.toml's header.
fn listed(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("# Not converted"))
        .skip(1)
        .map_while(|l| l.strip_prefix("#   - "))
        .map(what_of)
        .collect()
}

/// `services.web.tty` of `services.web.tty (compose.yaml:12): why`.
fn what_of(line: &str) -> String {
    let what = line.split_once(": ").map_or(line, |(w, _)| w);
    match what.rsplit_once(" (") {
        Some((w, at)) if at.ends_with(')') && at.contains(':') => w.to_string(),
        _ => what.to_string(),
    }
}

/// Runs init, checks the result validates, and that stderr lists exactly
/// what the header lists. Returns the text and the parsed table.
fn init_ok(env: &TestEnv, args: &[&str]) -> (String, toml::Table) {
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    let run = env.run(&all).success();
    let text = env.read("devenv.toml");
    let header = listed(&text);
    let printed: Vec<String> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("warning:   "))
        .map(what_of)
        .collect();
    assert_eq!(
        header, printed,
        "stderr and header disagree\n{}",
        run.stderr
    );
    env.run(["validate"]).success().stderr_has("is valid");
    let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, table)
}

fn service_names(t: &toml::Table) -> Vec<String> {
    t.get("services")
        .and_then(|s| s.as_table())
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn rails_app_with_db_cache_and_worker() {
    let env = fixture("rails-app");
    let (text, t) = init_ok(&env, &["--from", "docker-compose.yml", "--yes"]);
    assert_eq!(service_names(&t), ["db", "redis", "web", "sidekiq"]);
    let db = svc(&t, "db");
    assert_eq!(db["stack"].as_str(), Some("postgres"));
    assert_eq!(db["version"].as_str(), Some("15"));
    assert_eq!(
        strs(&db["mounts"]),
        ["./db/init.sql:/docker-entrypoint-initdb.d/init.sql:ro"]
    );
    // The preset's own data volume covers postgres_data; only differences from the preset are kept.
    assert!(db.get("volumes").is_none());
    assert_eq!(db["env"]["POSTGRES_USER"].as_str(), Some("rails"));
    assert_eq!(
        db["env"]["POSTGRES_DB"].as_str(),
        Some("rails"),
        "the image's default database is the user's"
    );
    let redis = svc(&t, "redis");
    assert_eq!(redis["version"].as_str(), Some("7-alpine"));
    assert_eq!(
        strs(&redis["command"]),
        ["redis-server", "--appendonly", "yes"]
    );
    for name in ["web", "sidekiq"] {
        let s = svc(&t, name);
        assert_eq!(
            s["image"].as_str(),
            Some("shop-rails:dev"),
            "{name}: merge keys expanded"
        );
        assert_eq!(strs(&s["depends_on"]), ["db", "redis"]);
        assert_eq!(strs(&s["mounts"]), [".:/rails"]);
        assert_eq!(s["volumes"]["bundle"].as_str(), Some("/usr/local/bundle"));
    }
    assert_eq!(
        svc(&t, "web")["env"]["RAILS_ENV"].as_str(),
        Some("development")
    );
    assert_eq!(strs(&svc(&t, "web")["ports"]), ["3000"]);
    // web builds the image (and tags it shop-rails:dev); sidekiq runs it.
    assert_eq!(svc(&t, "web")["build"].as_str(), Some("."));
    assert!(svc(&t, "sidekiq").get("build").is_none());
    assert_eq!(
        listed(&text),
        [
            "Gemfile",
            "services.db.environment",
            "services.db.healthcheck",
            "services.redis.healthcheck",
            "services.web.stdin_open",
            "services.web.tty"
        ]
    );
    assert!(
        text.contains("# setup = [{ run = \"bundle install\", if_changed = [\"Gemfile.lock\"] }]"),
        "{text}"
    );
}

#[test]
fn node_api_leaves_profiled_services_out_unless_asked() {
    let env = fixture("node-api-profiles");
    let (text, t) = init_ok(&env, &["--yes"]);
    // nodemailer would suggest mailpit, but the compose file keeps it in a
    // profile on purpose, so it is not added behind the user's back.
    assert_eq!(service_names(&t), ["api", "mongo"]);
    assert_eq!(t["project"]["name"].as_str(), Some("notes-api"));
    assert_eq!(t["tools"]["node"].as_str(), Some("20.11.1"));
    let api = svc(&t, "api");
    assert_eq!(strs(&api["ports"]), ["8080"]);
    assert_eq!(strs(&api["mounts"]), [".:/usr/src/app"]);
    assert_eq!(api["working_dir"].as_str(), Some("/usr/src/app"));
    let mongo = svc(&t, "mongo");
    assert_eq!(mongo["stack"].as_str(), Some("mongodb"));
    // Compose ran mongo without auth; the preset's root user would turn it on.
    assert_eq!(
        mongo["env"]["MONGO_INITDB_ROOT_USERNAME"].as_str(),
        Some("")
    );
    assert_eq!(
        listed(&text),
        [
            "services.mongo.environment",
            "services.mongo.healthcheck",
            "services.mongo-express",
            "services.mailpit"
        ]
    );
    assert!(text.contains("in profile debug: not converted (pass `--profile debug` to include it)"));
    // A plain `npm ci` would run on every `up`: the suggestion caches it,
    // and uncommented it is a valid hook.
    assert!(
        text.contains(
            "# A hook runs on every `up` unless `if_changed` names the files it depends on.\n\
             # Setup commands run after services are ready (each clone trusts them once):\n\
             # setup = [{ run = \"npm ci\", if_changed = [\"package-lock.json\"] }]\n"
        ),
        "{text}"
    );
    env.write("devenv.toml", &text.replace("# setup = ", "setup = "));
    env.run(["validate"]).success();

    let env = fixture("node-api-profiles");
    let (text, t) = init_ok(&env, &["--yes", "--profile", "debug", "--profile", "mail"]);
    assert_eq!(
        service_names(&t),
        ["api", "mongo", "mongo-express", "mailpit"]
    );
    assert_eq!(
        svc(&t, "mongo-express")["image"].as_str(),
        Some("mongo-express:1.0")
    );
    let mailpit = svc(&t, "mailpit");
    assert_eq!(mailpit["version"].as_str(), Some("v1.20"));
    assert_eq!(strs(&mailpit["ports"]), ["8025", "1025"]);
    assert_eq!(
        listed(&text),
        [
            "services.mongo.environment",
            "services.mongo.healthcheck",
            "services.mailpit.environment",
            "services.mailpit.healthcheck",
            "services.mailpit.volumes"
        ]
    );
}

#[test]
fn healthchecks_and_dependency_conditions() {
    let env = fixture("healthchecks");
    let (text, t) = init_ok(&env, &["--from", "docker-compose.yml", "--yes"]);
    assert_eq!(
        service_names(&t),
        ["postgres", "rabbitmq", "kafka", "migrate", "api"]
    );
    assert_eq!(t["tools"]["go"].as_str(), Some("1.22.0"));
    let pg = svc(&t, "postgres");
    assert_eq!(
        strs(&pg["ready"]["exec"]),
        ["sh", "-c", "pg_isready -U postgres -d orders"]
    );
    assert_eq!(
        pg["ready"]["timeout"].as_str(),
        Some("420s"),
        "60 retries of a 2s interval plus a 5s timeout: as long as compose would wait"
    );
    assert_eq!(strs(&pg["ports"]), ["5433:5432"]);
    let rabbit = svc(&t, "rabbitmq");
    assert_eq!(
        strs(&rabbit["ready"]["exec"]),
        ["sh", "-c", "rabbitmq-diagnostics -q ping"]
    );
    assert_eq!(
        rabbit["env"]["RABBITMQ_DEFAULT_USER"].as_str(),
        Some("guest")
    );
    let kafka = svc(&t, "kafka");
    assert_eq!(kafka["stack"].as_str(), Some("kafka"));
    assert!(
        kafka.get("version").is_none()
            && kafka.get("env").is_none()
            && kafka.get("ready").is_none()
    );
    let migrate = svc(&t, "migrate");
    assert_eq!(
        migrate["run"].as_str(),
        Some("once"),
        "service_completed_successfully makes a job"
    );
    assert_eq!(strs(&migrate["depends_on"]), ["postgres"]);
    assert_eq!(
        strs(&migrate["mounts"]),
        ["./ops/migrations:/migrations:ro"]
    );
    let api = svc(&t, "api");
    assert_eq!(
        strs(&api["depends_on"]),
        ["postgres", "rabbitmq", "kafka", "migrate"]
    );
    assert_eq!(
        strs(&api["ready"]["exec"]),
        ["wget", "-qO-", "http://localhost:8080/healthz"]
    );
    assert_eq!(
        listed(&text),
        [
            "services.postgres.environment",
            "services.postgres.volumes",
            "services.rabbitmq.environment",
            "services.rabbitmq.volumes",
            "services.kafka.image",
            "services.kafka.environment",
            "services.kafka.healthcheck",
            "services.kafka.volumes",
            "services.api.depends_on.postgres.restart"
        ]
    );
}

#[test]
fn env_files_build_sections_and_interpolation() {
    let env = fixture("env-file-build");
    let (text, t) = init_ok(&env, &["--yes"]);
    assert_eq!(service_names(&t), ["app", "assets", "mysql", "minio"]);
    let app = svc(&t, "app");
    assert_eq!(
        app["image"].as_str(),
        Some("billing-app:dev"),
        "from the default of ${{APP_TAG:-dev}}"
    );
    assert_eq!(app["build"]["context"].as_str(), Some("."));
    assert_eq!(app["build"]["dockerfile"].as_str(), Some("Dockerfile.dev"));
    assert_eq!(app["build"]["target"].as_str(), Some("dev"));
    assert_eq!(
        app["build"]["args"]["NODE_ENV"].as_str(),
        Some("development")
    );
    let assets = svc(&t, "assets");
    assert_eq!(assets["build"].as_str(), Some("assets"));
    assert!(assets.get("image").is_none());
    assert_eq!(strs(&assets["command"]), ["npm", "run", "watch"]);
    assert_eq!(strs(&app["ports"]), ["4100:4000"], "APP_PORT from .env");
    assert_eq!(
        app["env"]["DATABASE_URL"].as_str(),
        Some("mysql://billing:billing@mysql:3306/billing")
    );
    assert_eq!(app["env"]["FEATURE_INVOICES"].as_str(), Some("on"));
    assert_eq!(app["env"]["LOG_LEVEL"].as_str(), Some("debug"));
    assert_eq!(strs(&app["depends_on"]), ["mysql", "assets"]);
    let mysql = svc(&t, "mysql");
    assert_eq!(mysql["env"]["MYSQL_ROOT_PASSWORD"].as_str(), Some("root"));
    assert_eq!(
        strs(&mysql["mounts"]),
        ["./config/my.cnf:/etc/mysql/conf.d/my.cnf:ro"]
    );
    let minio = svc(&t, "minio");
    assert_eq!(
        minio["version"].as_str(),
        Some("RELEASE.2024-05-10T01-41-38Z")
    );
    assert_eq!(
        strs(&minio["command"]),
        ["server", "/data", "--console-address", ":9001"]
    );
    assert!(text.contains("# env from env_file ./config/app.env (3 variable(s) inlined"));
    assert_eq!(
        listed(&text),
        [
            "services.app.environment.STRIPE_KEY",
            "services.app.build.cache_from",
            "services.mysql.healthcheck",
            "services.minio.healthcheck",
        ]
    );
    // .env.example -> values and a template, which validate found.
    assert_eq!(t["config"]["values"]["APP_PORT"].as_str(), Some("4000"));
    assert_eq!(
        env.read("templates/.env.j2"),
        "{# Rendered by `devenv render` into .env; values are in devenv.toml [config.values]. #}\n# Copy to .env and adjust\nAPP_PORT={{ APP_PORT }}\nLOG_LEVEL={{ LOG_LEVEL }}\n"
    );
}

#[test]
fn unconvertible_things_are_all_listed() {
    let env = fixture("unconvertible");
    let (text, t) = init_ok(&env, &["--from", "docker-compose.yml", "--yes"]);
    assert_eq!(service_names(&t), ["proxy", "vpn", "ftp", "app", "worker"]);
    assert_eq!(
        svc(&t, "worker")["image"].as_str(),
        Some("internal-app:1.4"),
        "extends resolved"
    );
    assert_eq!(strs(&svc(&t, "vpn")["ports"]), ["8888", "8388/udp", "9090"]);
    let ftp_ports: Vec<String> = std::iter::once("21".to_string())
        .chain((21100..=21110).map(|p| p.to_string()))
        .collect();
    assert_eq!(
        strs(&svc(&t, "ftp")["ports"]),
        ftp_ports,
        "a range is every port of it, as compose publishes it"
    );
    assert_eq!(
        listed(&text),
        [
            "networks.front",
            "networks.back",
            "secrets",
            "volumes.shared.external",
            "services.proxy.network_mode",
            "services.proxy.privileged",
            "services.proxy.volumes `/var/run/docker.sock:/var/run/docker.sock:ro`",
            "services.proxy.logging",
            "services.vpn.cap_add",
            "services.vpn.devices",
            "services.vpn.ports `192.168.1.10:9090:9090`",
            "services.ftp.volumes `/home/vsftpd`",
            "services.ftp.volumes `type=tmpfs target=/tmp`",
            "services.ftp.deploy",
            "services.ftp.secrets",
            "services.ftp.restart",
            "services.ftp.container_name",
            "services.app.environment.API_TOKEN",
            "services.app.networks.front",
            "services.app.networks.back",
            "services.worker.environment.API_TOKEN",
            "services.worker.networks.front",
            "services.worker.networks.back",
            "services.remote",
            "services.nodockerfile",
        ]
    );
    assert!(text.contains(
        "services.remote (docker-compose.yml:59): left out: its build is not converted: the context `https://github.com/example/remote-app.git#main` is remote"
    ));
    assert!(text.contains(
        "services.nodockerfile (docker-compose.yml:62): left out: its build is not converted: the context `./missing` does not exist"
    ));
}

#[test]
fn yaml_syntax_errors_point_at_the_line_and_write_nothing() {
    let env = fixture("unconvertible");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/broken.yml");
    std::fs::copy(src, env.repo().join("broken.yml")).unwrap();
    let before = env.repo_files();
    env.run(["init", "--from", "broken.yml", "--yes"])
        .code(2)
        .stderr_has("invalid YAML")
        .stderr_has("--> broken.yml:4:")
        .stderr_has("4 |    ports:");
    assert_eq!(env.repo_files(), before);
}

#[test]
fn a_missing_compose_file_is_bad_input() {
    let env = TestEnv::new();
    env.run(["init", "--from", "nope.yml", "--yes"])
        .code(2)
        .stderr_has("cannot read nope.yml");
    assert!(!env.exists("devenv.toml"));
}

#[test]
fn an_existing_devenv_toml_is_never_overwritten_without_force() {
    let env = TestEnv::new().manifest("[project]\nname = \"mine\"\n");
    env.run(["init", "--yes"])
        .code(2)
        .stderr_has("devenv.toml already exists")
        .stderr_has("--force");
    assert_eq!(env.read("devenv.toml"), "[project]\nname = \"mine\"\n");
    env.write(".nvmrc", "20.11.1\n");
    env.run(["init", "--yes", "--force"]).success();
    assert!(env.read("devenv.toml").contains("node = \"20.11.1\""));
    env.run(["validate"]).success();
}

#[test]
fn an_empty_repository_gets_the_commented_starter() {
    let env = TestEnv::new();
    let (text, t) = init_ok(&env, &["--yes"]);
    assert!(service_names(&t).is_empty());
    assert!(text.contains("# [services.db]"));
    assert!(!text.contains("Not converted"));
    assert_eq!(env.repo_files(), ["devenv.toml"]);
}

#[test]
fn tool_versions_and_dependency_hints_are_detected() {
    let env = TestEnv::new()
        .file(
            ".tool-versions",
            "nodejs 20.11.1\nterraform 1.7.5\npython 3.12.2\n",
        )
        .file(
            "package.json",
            r#"{"dependencies": {"pg": "^8.11.0", "ioredis": "^5.3.2"}}"#,
        )
        .file("yarn.lock", "");
    let (text, t) = init_ok(&env, &["--yes"]);
    assert_eq!(t["tools"]["node"].as_str(), Some("20.11.1"));
    assert_eq!(t["tools"]["terraform"].as_str(), Some("1.7.5"));
    assert_eq!(service_names(&t), ["postgres", "redis"]);
    assert_eq!(svc(&t, "postgres")["stack"].as_str(), Some("postgres"));
    assert_eq!(listed(&text), [".tool-versions python"]);
    assert!(text.contains(
        "# setup = [{ run = \"yarn install --frozen-lockfile\", if_changed = [\"yarn.lock\"] }]"
    ));
}

#[test]
fn a_compose_file_in_the_repository_is_converted_by_default() {
    // Not a terminal and no --yes: the defaults are taken, as with --yes.
    let env = fixture("rails-app");
    let (_, t) = init_ok(&env, &[]);
    assert_eq!(service_names(&t), ["db", "redis", "web", "sidekiq"]);
}

#[test]
fn an_existing_template_is_kept() {
    let env = TestEnv::new()
        .file(".env.example", "PORT=3000\n")
        .file("templates/.env.j2", "PORT={{ PORT }} # mine\n");
    let (_, t) = init_ok(&env, &["--yes"]);
    assert_eq!(t["config"]["values"]["PORT"].as_str(), Some("3000"));
    assert_eq!(env.read("templates/.env.j2"), "PORT={{ PORT }} # mine\n");
}

#[test]
fn two_services_on_one_host_port_get_auto() {
    let env = TestEnv::new().file(
        "compose.yaml",
        "services:\n  a:\n    image: nginx:1.27\n    ports: [\"8080:80\"]\n  b:\n    image: httpd:2.4\n    ports: [\"8080:80\"]\n",
    );
    let (text, t) = init_ok(&env, &["--yes"]);
    assert_eq!(strs(&svc(&t, "a")["ports"]), ["8080:80"]);
    assert_eq!(strs(&svc(&t, "b")["ports"]), ["auto:80"]);
    assert!(text.contains("host port 8080 is already published"));
    assert_eq!(listed(&text), ["services.b.ports `8080:80`"]);
}

#[test]
fn profile_without_a_compose_file_is_a_usage_error() {
    let env = TestEnv::new();
    env.run(["init", "--yes", "--profile", "debug"])
        .code(2)
        .stderr_has("--profile");
    assert!(!env.exists("devenv.toml"));
}

#[test]
fn an_override_file_beside_the_compose_file_is_merged_as_compose_merges_it() {
    let env = TestEnv::new()
        .file(
            "docker-compose.yml",
            "services:\n  cache:\n    image: redis:7\n",
        )
        .file(
            "docker-compose.override.yml",
            "services:\n  cache:\n    ports: [\"6380:6379\"]\n",
        );
    let (text, t) = init_ok(&env, &["--yes"]);
    assert_eq!(strs(&svc(&t, "cache")["ports"]), ["6380:6379"]);
    assert!(text.contains("docker-compose.override.yml: merged as compose merges it"));
    // What the redis preset adds that compose did not say is listed.
    assert_eq!(
        listed(&text),
        ["services.cache.healthcheck", "services.cache.volumes"]
    );
}

#[test]
fn a_compose_file_in_a_subdirectory_resolves_paths_from_there() {
    let env = TestEnv::new()
        .file("deploy/local/compose.yaml", "services:\n  db:\n    image: postgres:16\n    volumes: [\"../../sql:/docker-entrypoint-initdb.d:ro\"]\n    env_file: db.env\n")
        .file("deploy/local/db.env", "POSTGRES_PASSWORD=pw\n")
        .file("deploy/local/.env", "UNUSED=1\n")
        .file("sql/001.sql", "select 1;\n");
    let (_, t) = init_ok(&env, &["--from", "deploy/local/compose.yaml", "--yes"]);
    let db = svc(&t, "db");
    assert_eq!(
        strs(&db["mounts"]),
        ["./sql:/docker-entrypoint-initdb.d:ro"]
    );
    assert_eq!(db["env"]["POSTGRES_PASSWORD"].as_str(), Some("pw"));
}

#[test]
fn dash_f_writes_the_manifest_where_it_points() {
    let env = TestEnv::new().file("svc/.nvmrc", "20.11.1\n");
    env.run(["-f", "svc/devenv.toml", "init", "--yes"])
        .success();
    assert!(env.read("svc/devenv.toml").contains("node = \"20.11.1\""));
    assert!(!env.exists("devenv.toml"));
    env.run(["-f", "svc/devenv.toml", "validate"]).success();
}
