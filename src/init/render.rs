//! The draft as devenv.toml text: grouped and commented like the starter
//! template, with a header saying what was found and what was not converted.

use std::fmt::Write as _;

use super::{Draft, DraftService};

pub fn render(d: &Draft) -> String {
    let mut o = String::new();
    o.push_str("# devenv.toml: everything this repository needs to run locally.\n");
    o.push_str(
        "# Written by `devenv init`; review it, then run `devenv validate` and `devenv up`.\n",
    );
    if !d.detected.is_empty() {
        o.push_str("#\n# Detected:\n");
        for line in &d.detected {
            let _ = writeln!(o, "#   - {}", one_line(line));
        }
    }
    if !d.unconverted.is_empty() {
        o.push_str("#\n# Not converted (review these by hand):\n");
        for u in &d.unconverted {
            let _ = writeln!(o, "#   - {}", one_line(&u.to_string()));
        }
    }
    o.push_str("\n[project]\n");
    match &d.project_name {
        Some(n) => {
            let _ = writeln!(o, "name = {}", string(n));
        }
        None => o.push_str("# name = \"my-service\"            # default: the directory name (+ a hash of the clone path)\n"),
    }
    o.push_str("\n[settings]\n");
    o.push_str(
        "# registry_mirror = \"mirror.internal:5000\"   # Docker Hub images come from here\n",
    );
    o.push_str("# pull = \"missing\"                           # missing | always | never\n");
    o.push_str("\n[tools]\n");
    if d.tools.is_empty() {
        o.push_str(
            "# node = \"20.11.1\"                 # pinned tools, from the built-in index\n",
        );
    }
    for t in &d.tools {
        let line = format!("{} = {}", key(&t.name), string(&t.version));
        let _ = writeln!(o, "{line:<32} # from {}", one_line(&t.from));
    }
    o.push_str("\n[requires]\n# git = \">=2.30\"                   # system tools that must already be installed\n");
    if d.services.is_empty() {
        o.push_str("\n# [services.db]\n# stack = \"postgres\"               # see `devenv stacks`\n# env = { POSTGRES_DB = \"app\" }\n");
    }
    for s in &d.services {
        service(&mut o, s);
    }
    o.push_str("\n# [mocks.payments]                 # an upstream, served by devenv's mock server\n# port = 8081\n# wiremock = \"mocks/payments\"\n");
    match &d.env_template {
        Some(t) => {
            let _ = writeln!(
                o,
                "\n# From {}: the example values; `devenv render` writes {}.",
                one_line(&t.from),
                one_line(&t.output)
            );
            o.push_str("[config.values]\n");
            for (k, v) in &t.values {
                let _ = writeln!(o, "{} = {}", key(k), string(v));
            }
            o.push_str("\n[[config.files]]\n");
            let _ = writeln!(o, "template = {}", string(&t.template));
            let _ = writeln!(o, "output = {}", string(&t.output));
        }
        None => o.push_str(
            "\n# [[config.files]]\n# template = \"templates/app.env.j2\"\n# output = \".env\"\n",
        ),
    }
    o.push_str("\n[hooks]\n");
    o.push_str("# A hook runs on every `up` unless `if_changed` names the files it depends on.\n");
    if d.hook_hints.is_empty() {
        o.push_str("# setup = [{ run = \"npm ci\", if_changed = [\"package-lock.json\"] }]\n");
    } else {
        o.push_str(
            "# Setup commands run after services are ready (each clone trusts them once):\n",
        );
        let list: Vec<String> = d.hook_hints.iter().map(|h| hook(h)).collect();
        let _ = writeln!(o, "# setup = [{}]", list.join(", "));
    }
    o
}

/// A suggested hook, with `if_changed` when devenv knows what the command
/// reads: written as a plain string, it would run on every `up`.
fn hook(run: &str) -> String {
    use crate::manifest::hook_inputs::{entry_with_inputs, inputs_of};
    match inputs_of(run) {
        Some(files) => entry_with_inputs(run, &files),
        None => string(run),
    }
}

fn service(o: &mut String, s: &DraftService) {
    let _ = writeln!(o, "\n[services.{}]", key(&s.name));
    for n in &s.notes {
        let _ = writeln!(o, "# {}", one_line(n));
    }
    let mut kv = |k: &str, v: String| {
        let _ = writeln!(o, "{k} = {v}");
    };
    if let Some(st) = &s.stack {
        kv("stack", string(st));
    }
    if let Some(v) = &s.version {
        kv("version", string(v));
    }
    if let Some(i) = &s.image {
        kv("image", string(i));
    }
    if let Some(b) = &s.build {
        kv("build", build(b));
    }
    if let Some(p) = &s.ports {
        kv("ports", array(p));
    }
    if let Some(c) = &s.entrypoint {
        kv("entrypoint", array(c));
    }
    if let Some(c) = &s.command {
        kv("command", array(c));
    }
    if !s.volumes.is_empty() {
        let items: Vec<String> = s
            .volumes
            .iter()
            .map(|(k, v)| format!("{} = {}", key(k), string(v)))
            .collect();
        kv("volumes", format!("{{ {} }}", items.join(", ")));
    }
    if !s.mounts.is_empty() {
        kv("mounts", array(&s.mounts));
    }
    if let Some(r) = &s.ready {
        let mut parts = vec![format!("exec = {}", array(&r.exec))];
        if let Some(t) = r.timeout_secs {
            parts.push(format!("timeout = \"{t}s\""));
        }
        kv("ready", format!("{{ {} }}", parts.join(", ")));
    }
    if !s.depends_on.is_empty() {
        kv("depends_on", array(&s.depends_on));
    }
    if s.run_once {
        kv("run", string("once"));
    }
    if let Some(u) = &s.user {
        kv("user", string(u));
    }
    if let Some(w) = &s.working_dir {
        kv("working_dir", string(w));
    }
    if let Some(p) = &s.platform {
        kv("platform", string(p));
    }
    if !s.env.is_empty() {
        let _ = writeln!(o, "\n[services.{}.env]", key(&s.name));
        for (k, v) in &s.env {
            let _ = writeln!(o, "{} = {}", key(k), string(v));
        }
    }
}

/// `"dir"`, or an inline table when there is more than the context.
fn build(b: &crate::init::BuildDraft) -> String {
    if b.dockerfile.is_none() && b.args.is_empty() && b.target.is_none() {
        return string(&b.context);
    }
    let mut parts = vec![format!("context = {}", string(&b.context))];
    if let Some(d) = &b.dockerfile {
        parts.push(format!("dockerfile = {}", string(d)));
    }
    if !b.args.is_empty() {
        let args: Vec<String> = b
            .args
            .iter()
            .map(|(k, v)| format!("{} = {}", key(k), string(v)))
            .collect();
        parts.push(format!("args = {{ {} }}", args.join(", ")));
    }
    if let Some(t) = &b.target {
        parts.push(format!("target = {}", string(t)));
    }
    format!("{{ {} }}", parts.join(", "))
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn array(items: &[String]) -> String {
    let list: Vec<String> = items.iter().map(|i| string(i)).collect();
    format!("[{}]", list.join(", "))
}

/// A bare key when TOML allows one, quoted otherwise.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        string(k)
    }
}

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::{ReadyDraft, ToolPin, Unconverted};

    #[test]
    fn strings_round_trip_through_toml() {
        for s in [
            "plain",
            "quote \" and \\ back",
            "line\nbreak\ttab",
            "ctl \u{7f}\u{1}",
            "ünï",
        ] {
            let doc = format!("k = {}", string(s));
            let t: toml::Table = doc.parse().unwrap();
            assert_eq!(t["k"].as_str(), Some(s));
        }
        assert_eq!(key("discovery.type"), "\"discovery.type\"");
        assert_eq!(key("POSTGRES_DB"), "POSTGRES_DB");
    }

    #[test]
    fn a_draft_renders_as_valid_toml_with_its_header() {
        let mut d = Draft {
            project_name: Some("shop".into()),
            tools: vec![ToolPin {
                name: "node".into(),
                version: "20.11.1".into(),
                from: ".nvmrc".into(),
            }],
            unconverted: vec![Unconverted::new("services.x.privileged", "not supported")],
            detected: vec![".nvmrc: node 20.11.1".into()],
            ..Default::default()
        };
        d.services.push(DraftService {
            name: "db".into(),
            stack: Some("postgres".into()),
            env: [("POSTGRES_PASSWORD".to_string(), "s3cret".to_string())].into(),
            ready: Some(ReadyDraft {
                exec: vec!["pg_isready".into()],
                timeout_secs: Some(90),
            }),
            notes: vec!["a note".into()],
            ..Default::default()
        });
        let text = render(&d);
        let t: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            t["services"]["db"]["env"]["POSTGRES_PASSWORD"].as_str(),
            Some("s3cret")
        );
        assert_eq!(
            t["services"]["db"]["ready"]["timeout"].as_str(),
            Some("90s")
        );
        assert!(text.contains("# Not converted (review these by hand):\n#   - services.x.privileged: not supported\n"), "{text}");
        assert!(text.contains("node = \"20.11.1\""));
    }
}
