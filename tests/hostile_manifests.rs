//! devenv.toml is untrusted input: whatever a repository holds, devenv
//! answers with a result or a diagnostic, never a panic, a hang or a crash.
//!
//! The property test starts from the manifests in the repository (the
//! example, the invalid-manifest corpus, the README's tour, and one seed
//! here that touches every numeric key) and mutates them deterministically
//! with a seeded xorshift: byte flips, deletions, duplicated lines, swapped
//! values, huge and odd numbers, deep nesting, long strings, unicode. Every
//! mutant goes through the in-process parser under `catch_unwind`; a few
//! hundred also through the real binary, which must exit 0 or 2 and, on 2,
//! leave the repository exactly as it was.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::TestEnv;
use devenv::manifest::Manifest;
use devenv::stacks::Stacks;

const MUTANTS: usize = 10_000;
/// Every n-th mutant also goes through the binary.
const BINARY_EVERY: usize = 40;

/// One seed that exercises every number devenv.toml takes.
const NUMERIC_SEED: &str = r#"[project]
name = "numbers"

[tools.jq]
version = "1.7.1"
url = "https://example.com/jq-{version}-{os}-{arch}"
sha256 = { "linux-x86_64" = "5942c9b0934e510ee61eb3e30273f1b3fe2590df93933a93d7c58b81d19c8ff5" }
strip_components = 1
max_unpacked = "512MiB"
max_ratio = 300

[services.cache]
image = "redis:7"
ports = ["16379:6379", "auto:6380/udp", 6381]
env = { MAXMEMORY = 100, RATIO = 0.5, ON = true }
ready = { tcp = 6379, timeout = "90s" }

[services.worker]
image = "busybox"
run = "once"
depends_on = ["cache"]
ready = { log = "ready", timeout = 30 }

[mocks.pay]
port = 18081

[[mocks.pay.routes]]
method = "POST"
path = "/v1/charges"
status = 201
json = { id = "ch_1", amount = 1999, fee = 0.3 }
delay_ms = 250
priority = 1

[config.values]
log_level = "info"
pool = 5

[config.environments.ci]
log_level = "warn"

[[config.files]]
template = "templates/plain.j2"
output = "out/plain.txt"

[metrics]
timeout = "2s"
auto_report = false
"#;

/// One seed with every built-in preset at tags of every shape the version
/// tables read (a number, a variant, a release date, `v`-prefixed, none).
const STACKS_SEED: &str = r#"[project]
name = "stacks"

[services.pg]
stack = "postgres"
version = "18-alpine"

[services.my]
stack = "mysql"
version = "8.0.36"

[services.maria]
stack = "mariadb"
version = "10.11"

[services.mongo]
stack = "mongodb"
version = "5.0.31"

[services.cache]
stack = "redis"
version = "bookworm"

[services.mq]
stack = "rabbitmq"
version = "3.13-management"

[services.events]
stack = "kafka"
ports = ["auto:9092"]

[services.search]
stack = "opensearch"
version = "2.11.1"

[services.s3]
stack = "minio"
version = "RELEASE.2024-10-13T13-34-11Z"

[services.aws]
stack = "localstack"
version = "latest"

[services.mail]
stack = "mailpit"
version = "v1.15.0"
"#;

/// Files the seeds refer to, written into every repository the binary runs in.
fn support_files(env: &TestEnv) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/checkout");
    for rel in [
        "templates/app.env.j2",
        "templates/config.yaml.j2",
        "mocks/payments/create-charge.json",
        "mocks/payments/declined-card.json",
        "mocks/payments/__files/charge-succeeded.json",
    ] {
        env.write(rel, &std::fs::read_to_string(example.join(rel)).unwrap());
    }
    env.write("templates/plain.j2", "level={{ log_level }}\n");
}

fn seeds() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![
        ("numeric seed".to_string(), NUMERIC_SEED.to_string()),
        ("stacks seed".to_string(), STACKS_SEED.to_string()),
    ];
    let example = root.join("examples/checkout/devenv.toml");
    out.push(("checkout".into(), std::fs::read_to_string(example).unwrap()));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for (i, block) in readme.split("```toml\n").skip(1).enumerate() {
        let text = block.split("```").next().unwrap_or_default();
        out.push((format!("README tour {i}"), text.to_string()));
    }
    let mut fixtures = Vec::new();
    collect_toml(&root.join("tests/fixtures"), &mut fixtures);
    fixtures.sort();
    for f in fixtures {
        let text = std::fs::read_to_string(&f).unwrap();
        out.push((f.display().to_string(), text));
    }
    assert!(out.len() >= 40, "only {} seeds", out.len());
    out
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_toml(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// xorshift64: deterministic, no crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const ODD_VALUES: &[&str] = &[
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "-1",
    "0",
    "-0",
    "1e308",
    "-1e308",
    "inf",
    "-inf",
    "nan",
    "0.000000000000000000001",
    "65536",
    "70000",
    "\"99999999999999999999h\"",
    "\"1e400s\"",
    "\"-5ms\"",
    "\"nanms\"",
    "\"25h\"",
    "\"4PiB\"",
    "\"99999999999999TiB\"",
    "\"auto:0\"",
    "\"99999:1\"",
    "\"0:0/sctp\"",
    "\"\"",
    "true",
    "[]",
    "{}",
    "1979-05-27T07:32:00Z",
];

const ODD_TEXT: &[&str] = &[
    "\u{1F600}",
    "\u{202E}",
    "\u{FEFF}",
    "e\u{301}",
    "\u{10FFFF}",
    "ß",
    "日本",
    "\\u0000",
    "\"",
    "'''",
    "\"\"\"",
    "\n[",
    "]]\n",
    "=",
    "#",
    "\\",
    "{{",
    "{% include \"x\" %}",
];

const ODD_LINES: &[&str] = &[
    "[services.x]",
    "[[mocks.pay.routes]]",
    "[tools.t]",
    "depends_on = [\"x\"]",
    "ready = { tcp = 0, timeout = \"99999999999999999999h\" }",
    "delay_ms = 18446744073709551615",
    "status = 99999",
    "max_unpacked = \"0\"",
    "max_ratio = 0",
    "strip_components = 4294967296",
    "timeout = 1e30",
    "ports = [\"65535:65535\", \"auto:65536\"]",
    "template = \"../../etc/passwd\"",
    "output = \"/tmp/devenv-hostile\"",
    "wiremock = \"/dev/zero\"",
];

/// One mutant of `base`, 1 to 4 mutations deep; `other` lends lines.
fn mutate(rng: &mut Rng, base: &str, other: &str) -> String {
    let mut text = base.to_string();
    for _ in 0..=rng.below(4) {
        text = mutate_once(rng, &text, other);
    }
    text
}

fn mutate_once(rng: &mut Rng, text: &str, other: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let at = rng.below(bytes.len() + 1);
    match rng.below(12) {
        0 if !bytes.is_empty() => {
            let i = at.min(bytes.len() - 1);
            bytes[i] ^= 1 << rng.below(8);
        }
        1 => {
            let end = (at + 1 + rng.below(32)).min(bytes.len());
            bytes.drain(at.min(end)..end);
        }
        2 => {
            let lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let mut out: Vec<&str> = lines.clone();
                let dup = *rng.pick(&lines);
                out.insert(rng.below(lines.len() + 1), dup);
                return out.join("\n");
            }
        }
        3 => return swap_values(rng, text),
        4 => {
            let value = rng.pick(ODD_VALUES).to_string();
            return replace_value(rng, text, value);
        }
        5 => {
            let n = 1 + rng.below(300);
            let nested = match rng.below(3) {
                0 => format!("deep = {}1{}", "[".repeat(n), "]".repeat(n)),
                1 => format!("deep = {}1{}", "{a = ".repeat(n), "}".repeat(n)),
                _ => format!("[{}]", vec!["a"; n].join(".")),
            };
            return insert_line(rng, text, &nested);
        }
        6 => {
            let unit = *rng.pick(&["a", "\u{1F600}", "\\n", "é"]);
            let long = format!("\"{}\"", unit.repeat(1 + rng.below(200_000)));
            return replace_value(rng, text, long);
        }
        7 => {
            let s = *rng.pick(ODD_TEXT);
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            return format!("{}{s}{}", &text[..at], &text[at..]);
        }
        8 => bytes.truncate(at),
        9 => {
            let line = *rng.pick(ODD_LINES);
            return insert_line(rng, text, line);
        }
        10 => {
            let lines: Vec<&str> = other.lines().collect();
            if !lines.is_empty() {
                let line = *rng.pick(&lines);
                return insert_line(rng, text, line);
            }
        }
        _ => {
            let junk: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
            let at = at.min(bytes.len());
            bytes.splice(at..at, junk);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn insert_line(rng: &mut Rng, text: &str, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(rng.below(lines.len() + 1), line);
    lines.join("\n")
}

/// The indices of lines that look like `key = value`.
fn assignments(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(" = ") && !l.trim_start().starts_with('#'))
        .map(|(i, _)| i)
        .collect()
}

fn replace_value(rng: &mut Rng, text: &str, value: String) -> String {
    let targets = assignments(text);
    if targets.is_empty() {
        return insert_line(rng, text, &format!("x = {value}"));
    }
    let target = *rng.pick(&targets);
    text.lines()
        .enumerate()
        .map(|(i, l)| match l.split_once(" = ") {
            Some((k, _)) if i == target => format!("{k} = {value}"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn swap_values(rng: &mut Rng, text: &str) -> String {
    let targets = assignments(text);
    if targets.len() < 2 {
        return text.to_string();
    }
    let (a, b) = (*rng.pick(&targets), *rng.pick(&targets));
    let lines: Vec<&str> = text.lines().collect();
    let value = |i: usize| lines[i].split_once(" = ").map_or("", |(_, v)| v);
    let (va, vb) = (value(a).to_string(), value(b).to_string());
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| match l.split_once(" = ") {
            Some((k, _)) if i == a => format!("{k} = {vb}"),
            Some((k, _)) if i == b => format!("{k} = {va}"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `text` every way devenv does in process; `Err` is a panic.
fn parse_all(path: &Path, text: &str, stacks: &Stacks) -> Result<Option<Manifest>, String> {
    use devenv::settings::file::{self, Kind};
    let run = std::panic::AssertUnwindSafe(|| {
        let m = devenv::manifest::parse(path, text, stacks).ok();
        if let Some(m) = &m {
            let _ = m.start_levels();
        }
        let _ = file::parse(path, text, Kind::User);
        let _ = file::parse(path, text, Kind::Local);
        let _ = devenv::render::local::parse(path, text);
        m
    });
    std::panic::catch_unwind(run).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

fn shown(text: &str) -> String {
    text.chars().take(1500).collect()
}

/// The mutants, in order, with the seed each came from.
fn mutants(n: usize) -> Vec<(String, String)> {
    let seeds = seeds();
    let mut rng = Rng(0x5EED_DEAD_BEEF_1234);
    (0..n)
        .map(|_| {
            let (name, base) = rng.pick(&seeds).clone();
            let (_, other) = rng.pick(&seeds);
            (name, mutate(&mut rng, &base, other))
        })
        .collect()
}

#[test]
fn ten_thousand_mutated_manifests_never_panic_the_parser() {
    let started = Instant::now();
    let stacks = Stacks::built_in();
    let path = Path::new("/repo/devenv.toml");
    let mut valid = 0;
    for (i, (seed, text)) in mutants(MUTANTS).iter().enumerate() {
        match parse_all(path, text, &stacks) {
            Ok(m) => valid += usize::from(m.is_some()),
            Err(msg) => panic!(
                "mutant {i} of {seed} panicked the parser: {msg}\n--- mutant\n{}",
                shown(text)
            ),
        }
    }
    // The mutations must not all be so wild that nothing parses.
    assert!(valid > MUTANTS / 50, "only {valid} valid mutants");
    eprintln!(
        "{MUTANTS} mutants, {valid} valid, in {:?}",
        started.elapsed()
    );
}

#[test]
fn mutated_stack_presets_and_their_version_tables_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
    let mut presets: Vec<PathBuf> = Vec::new();
    collect_toml(&dir, &mut presets);
    presets.sort();
    let texts: Vec<String> = presets
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let tags = [
        "latest",
        "16",
        "8.0.36",
        "3.13-management",
        "v1.2.3",
        "alpine",
        "",
        "99999999999999999999",
        "RELEASE.2021-01-01T00-00-00Z",
        "\u{1F600}",
        "1.2.3.4.5",
    ];
    let mut rng = Rng(0x57AC_C0DE_0000_0001);
    let mut valid = 0;
    for i in 0..2_000 {
        let base = rng.pick(&texts).clone();
        let other = rng.pick(&texts).clone();
        let text = mutate(&mut rng, &base, &other);
        let tag = *rng.pick(&tags);
        let run = std::panic::AssertUnwindSafe(|| {
            let def = devenv::stacks::parse(Path::new("stacks/x.toml"), &text).ok()?;
            let _ = def.supported_versions();
            let (def, _) = def.for_version(tag);
            let templates: std::collections::BTreeMap<String, String> = def
                .env
                .iter()
                .filter(|(_, v)| devenv::stacks::is_template(&v.0))
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect();
            let at = devenv::stacks::Placement {
                name: "x",
                ports: &[(9092, 1)],
            };
            let _ = devenv::stacks::render_env(&templates, &at);
            Some(())
        });
        match std::panic::catch_unwind(run) {
            Ok(parsed) => valid += usize::from(parsed.is_some()),
            Err(_) => panic!("mutant {i} with tag {tag:?} panicked:\n{}", shown(&text)),
        }
    }
    assert!(valid > 20, "only {valid} valid mutants");
}

/// Whether `up --only config` can finish without asking or the network:
/// no trust prompt (hooks, secrets), no `[requires]`, no remote sources.
fn runs_offline_untrusted(m: &Manifest) -> bool {
    m.hooks.is_empty()
        && m.secrets.is_empty()
        && m.requires.is_empty()
        && m.config.sources.is_empty()
}

#[test]
fn hundreds_of_mutated_manifests_exit_0_or_2_through_the_binary_and_change_nothing_on_2() {
    let started = Instant::now();
    let stacks = Stacks::built_in();
    let (mut runs, mut ok) = (0, 0);
    for (i, (seed, text)) in mutants(MUTANTS).iter().enumerate() {
        if i % BINARY_EVERY != 0 {
            continue;
        }
        let env = TestEnv::new().env("DEVENV_NO_METRICS", "1");
        support_files(&env);
        env.write("devenv.toml", text);
        let before = env.repo_files();
        let parsed = parse_all(&env.repo().join("devenv.toml"), text, &stacks)
            .unwrap_or_else(|msg| panic!("mutant {i} of {seed} panicked: {msg}"));
        let mut commands = vec![vec!["validate"]];
        if parsed.as_ref().is_none_or(runs_offline_untrusted) {
            commands.push(vec!["up", "--only", "config"]);
        }
        for args in commands {
            let run = env.run(&args);
            runs += 1;
            ok += usize::from(run.code == 0);
            let context = || {
                format!(
                    "mutant {i} of {seed}: devenv {}\n--- stderr\n{}\n--- mutant\n{}",
                    args.join(" "),
                    shown(&run.stderr),
                    shown(text)
                )
            };
            assert!(
                run.code == 0 || run.code == 2,
                "exit {}; {}",
                run.code,
                context()
            );
            if run.code == 2 {
                assert_eq!(
                    env.repo_files(),
                    before,
                    "exit 2 changed the repository; {}",
                    context()
                );
                assert!(
                    !env.exists(".devenv"),
                    "exit 2 created .devenv; {}",
                    context()
                );
            }
        }
    }
    assert!(runs >= 2 * MUTANTS / BINARY_EVERY - 50, "only {runs} runs");
    // Some mutants must get through, or the test only checks refusals.
    assert!(ok >= 10, "only {ok} runs succeeded");
    eprintln!(
        "{runs} binary runs, {ok} exit 0, in {:?}",
        started.elapsed()
    );
}

#[test]
fn a_timeout_of_1e20_hours_is_exit_2_not_a_panic() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"x\"\n[services.a]\nimage = \"redis\"\nready = { tcp = 6379, timeout = \"99999999999999999999h\" }\n",
    );
    env.run(["validate", "--json"]).code(2);
    env.run(["validate"])
        .code(2)
        .stderr_has("devenv.toml:5:33")
        .stderr_has("too long")
        .stderr_lacks("panicked");
}

#[test]
fn odd_numbers_for_every_numeric_key_are_exit_2_at_their_value() {
    for (line, value) in [
        ("ready = { tcp = 6379, timeout = nan }", "nan"),
        ("ready = { tcp = 6379, timeout = -inf }", "-inf"),
        ("ready = { tcp = 6379, timeout = 1e300 }", "1e300"),
        ("ready = { tcp = 6379, timeout = -5 }", "-5"),
        (
            "ready = { tcp = 6379, timeout = 9223372036854775807 }",
            "9223372036854775807",
        ),
        ("ready = { tcp = 70000 }", "70000"),
        ("ports = [\"99999:1\"]", "\"99999:1\""),
        ("ports = [-1]", "-1"),
    ] {
        let text = format!("[project]\nname = \"x\"\n[services.a]\nimage = \"redis\"\n{line}\n");
        let col = line.find(value).unwrap() + 1;
        let env = TestEnv::new().manifest(&text);
        let run = env.run(["validate"]);
        assert_eq!(run.code, 2, "{line}\n{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("devenv.toml:5:{col}")),
            "{line}: not pointed at column {col}\n{}",
            run.stderr
        );
    }
    for (section, line) in [
        (
            "[[mocks.m.routes]]\npath = \"/x\"",
            "delay_ms = 18446744073709551615",
        ),
        ("[[mocks.m.routes]]\npath = \"/x\"", "status = 70000"),
        (
            "[tools.t]\nversion = \"1\"\nurl = \"https://e.com/t\"",
            "max_unpacked = \"2TiB\"",
        ),
        (
            "[tools.t]\nversion = \"1\"\nurl = \"https://e.com/t\"",
            "strip_components = -1",
        ),
        ("[metrics]", "timeout = \"1e400s\""),
    ] {
        let text =
            format!("[project]\nname = \"x\"\n[mocks.m]\nport = \"auto\"\n{section}\n{line}\n");
        let env = TestEnv::new().manifest(&text);
        let run = env.run(["validate"]);
        assert_eq!(run.code, 2, "{line}\n{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn an_infinite_http_timeout_variable_is_exit_2_not_a_panic() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"x\"\n")
        .env("DEVENV_HTTP_TIMEOUT", "inf");
    env.run(["config"])
        .code(2)
        .stderr_has("DEVENV_HTTP_TIMEOUT")
        .stderr_lacks("panicked");
}

#[test]
fn a_chain_of_fifty_thousand_depends_on_does_not_overflow_the_stack() {
    let mut text = String::from("[project]\nname = \"x\"\n");
    for i in 0..50_000 {
        text += &format!(
            "[services.s{i}]\nimage = \"r\"\ndepends_on = [\"s{}\"]\n",
            i + 1
        );
    }
    text += "[services.s50000]\nimage = \"r\"\n";
    let env = TestEnv::new().manifest(&text);
    env.run(["validate"]).success();
}

#[test]
fn a_manifest_of_a_hundred_thousand_mistakes_reports_a_hundred() {
    let mut text = String::from("[project]\nname = \"x\"\n");
    while text.len() < 3_900_000 {
        text += &format!("[services.a{}]\nimgae = 1\n", text.len());
    }
    let env = TestEnv::new().manifest(&text);
    // Each problem costs a scan of the text up to it: for a file like this,
    // reporting all of them took minutes. A file reports at most 100.
    let run = env.run(["validate", "--json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let problems = run.json()["problems"].as_array().unwrap().len();
    assert!(problems <= 200, "{problems} problems reported");
}
