//! What a repository already says about itself: tool versions, the
//! dependencies its code uses (as stack hints), a compose file, an
//! `.env.example`, and the usual setup commands.

use std::collections::BTreeMap;

use super::detection::Detection;
use super::dotenv::{self, DotenvLine};
use super::hints::{hints, tokens};
use super::{EnvTemplate, ToolPin, Unconverted};

/// Root files detection looks at. The command reads those that exist.
pub const DETECT_FILES: &[&str] = &[
    ".tool-versions",
    "mise.toml",
    ".mise.toml",
    ".nvmrc",
    ".node-version",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "bun.lock",
    "go.mod",
    "Cargo.toml",
    "pyproject.toml",
    "requirements.txt",
    "poetry.lock",
    "uv.lock",
    "Gemfile",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
    ".env.example",
];

/// Detects from root file name -> contents (present files only).
pub fn detect(files: &BTreeMap<String, String>) -> Detection {
    let mut d = Detection::default();
    let has = |n: &str| files.contains_key(n);
    if let Some(t) = files.get(".tool-versions") {
        for line in t.lines() {
            let mut w = line.split('#').next().unwrap_or("").split_whitespace();
            if let (Some(tool), Some(version)) = (w.next(), w.next()) {
                pin(&mut d, tool, version, ".tool-versions");
            }
        }
    }
    for name in ["mise.toml", ".mise.toml"] {
        if let Some(t) = files.get(name) {
            mise(&mut d, name, t);
        }
    }
    for name in [".nvmrc", ".node-version"] {
        if let Some(t) = files.get(name) {
            pin(&mut d, "node", t.trim(), name);
        }
    }
    if let Some(t) = files.get("package.json") {
        package_json(&mut d, t, files);
    }
    if let Some(t) = files.get("go.mod") {
        go_mod(&mut d, t);
    }
    if let Some(t) = files.get("Cargo.toml") {
        d.detected.push("Cargo.toml: a Rust crate".into());
        d.unconverted.push(Unconverted::new(
            "Cargo.toml",
            "rust is not in the built-in tool index; rustup reads rust-toolchain.toml by itself",
        ));
        hints(&mut d, "Cargo.toml", &tokens(t));
    }
    for name in ["pyproject.toml", "requirements.txt"] {
        if let Some(t) = files.get(name) {
            d.detected.push(format!("{name}: a Python project"));
            hints(&mut d, name, &tokens(t));
        }
    }
    if has("pyproject.toml") || has("requirements.txt") {
        let hook = if has("uv.lock") {
            "uv sync"
        } else if has("poetry.lock") {
            "poetry install"
        } else if has("requirements.txt") {
            "pip install -r requirements.txt"
        } else {
            "pip install -e ."
        };
        d.hook_hints.push(hook.into());
        d.unconverted.push(Unconverted::new(
            "python",
            "python is not in the built-in tool index; install it yourself (or add a [tools.python] table with url and sha256)",
        ));
    }
    if let Some(t) = files.get("Gemfile") {
        d.detected.push("Gemfile: a Ruby project".into());
        d.hook_hints.push("bundle install".into());
        d.unconverted.push(Unconverted::new(
            "Gemfile",
            "ruby is not in the built-in tool index; install it yourself (or add a [tools.ruby] table with url and sha256)",
        ));
        hints(&mut d, "Gemfile", &tokens(t));
    }
    d.compose_file = super::COMPOSE_FILES
        .iter()
        .find(|n| has(n))
        .map(|n| n.to_string());
    if let Some(c) = &d.compose_file {
        d.detected.push(format!("{c}: a compose file"));
    }
    if let Some(t) = files.get(".env.example") {
        d.env_template = Some(env_example(&mut d, t));
    }
    d
}

/// asdf/mise tool names to the built-in index's.
fn index_name(tool: &str) -> &str {
    match tool {
        "nodejs" => "node",
        "golang" => "go",
        "github-cli" => "gh",
        other => other,
    }
}

fn pin(d: &mut Detection, tool: &str, version: &str, from: &str) {
    let name = index_name(tool);
    let version = version.trim().trim_start_matches('v');
    let what = if from.ends_with(tool) {
        from.to_string()
    } else {
        format!("{from} {tool}")
    };
    if let Some(existing) = d.tools.iter().find(|t| t.name == name) {
        if existing.version != version {
            d.unconverted.push(Unconverted::new(
                what,
                format!(
                    "says {version}, but {} pins {} (kept)",
                    existing.from, existing.version
                ),
            ));
        }
        return;
    }
    if !crate::tools::index::is_known(name) {
        d.unconverted.push(Unconverted::new(
            what,
            format!("{tool} {version} is not in the built-in tool index; add a [tools.{name}] table with url and sha256, or install it yourself"),
        ));
        return;
    }
    if !concrete(version) {
        d.unconverted.push(Unconverted::new(
            what,
            format!(
                "`{version}` is not an exact version; pin one in [tools] (like {name} = \"1.2.3\")"
            ),
        ));
        return;
    }
    d.detected.push(format!("{from}: {name} {version}"));
    d.tools.push(ToolPin {
        name: name.to_string(),
        version: version.to_string(),
        from: from.to_string(),
    });
}

fn concrete(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn mise(d: &mut Detection, name: &str, text: &str) {
    let Ok(doc) = text.parse::<toml::Table>() else {
        d.unconverted
            .push(Unconverted::new(name, "not valid TOML; not read"));
        return;
    };
    let Some(tools) = doc.get("tools").and_then(|t| t.as_table()) else {
        return;
    };
    for (tool, v) in tools {
        let version = match v {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Array(a) => a.first().and_then(|x| x.as_str()).map(String::from),
            toml::Value::Table(t) => t.get("version").and_then(|x| x.as_str()).map(String::from),
            _ => None,
        };
        if let Some(version) = version {
            pin(d, tool, &version, name);
        }
    }
}

fn package_json(d: &mut Detection, text: &str, files: &BTreeMap<String, String>) {
    let Ok(pkg) = serde_json::from_str::<serde_json::Value>(text) else {
        d.unconverted
            .push(Unconverted::new("package.json", "not valid JSON; not read"));
        return;
    };
    d.detected.push("package.json: a Node.js project".into());
    if let Some(v) = pkg.pointer("/engines/node").and_then(|v| v.as_str()) {
        let exact = v.trim().trim_start_matches('=').trim();
        pin(d, "node", exact, "package.json engines.node");
    }
    let pm = pkg
        .get("packageManager")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let (pm_name, pm_version) = pm.split_once('@').unwrap_or((pm, ""));
    let pm_version = pm_version.split('+').next().unwrap_or("");
    if pm_name == "bun" {
        pin(d, "bun", pm_version, "package.json packageManager");
    }
    let hook = if files.contains_key("pnpm-lock.yaml") || pm_name == "pnpm" {
        "pnpm install --frozen-lockfile"
    } else if files.contains_key("yarn.lock") || pm_name == "yarn" {
        "yarn install --frozen-lockfile"
    } else if files.contains_key("bun.lockb") || files.contains_key("bun.lock") || pm_name == "bun"
    {
        "bun install --frozen-lockfile"
    } else if files.contains_key("package-lock.json") {
        "npm ci"
    } else {
        "npm install"
    };
    d.hook_hints.push(hook.into());
    let deps: Vec<String> = ["dependencies", "devDependencies"]
        .iter()
        .filter_map(|k| pkg.get(k).and_then(|v| v.as_object()))
        .flat_map(|m| m.keys().cloned())
        .collect();
    hints(d, "package.json", &deps);
}

fn go_mod(d: &mut Detection, text: &str) {
    d.detected.push("go.mod: a Go module".into());
    let mut go = None;
    let mut toolchain = None;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("go ") {
            go = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("toolchain go") {
            toolchain = Some(v.trim().to_string());
        }
    }
    let version = toolchain.or_else(|| {
        go.map(|v| {
            // Since Go 1.21 `go 1.22` names a language version whose first
            // release is 1.22.0; before that releases were named go1.20.
            let minor: u32 = v
                .split('.')
                .nth(1)
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            if v.split('.').count() == 2 && minor >= 21 {
                format!("{v}.0")
            } else {
                v
            }
        })
    });
    if let Some(v) = version {
        if concrete(&v) || v.split('.').count() == 2 {
            d.detected.push(format!("go.mod: go {v}"));
            if !d.tools.iter().any(|t| t.name == "go") {
                d.tools.push(ToolPin {
                    name: "go".into(),
                    version: v,
                    from: "go.mod".into(),
                });
            }
        }
    }
    d.hook_hints.push("go mod download".into());
    hints(d, "go.mod", &tokens(text));
}

fn jinja_ident(k: &str) -> bool {
    let mut c = k.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

fn env_example(d: &mut Detection, text: &str) -> EnvTemplate {
    let mut values: Vec<(String, String)> = Vec::new();
    let mut tpl = String::from(
        "{# Rendered by `devenv render` into .env; values are in devenv.toml [config.values]. #}\n",
    );
    for line in dotenv::parse(text) {
        match line {
            DotenvLine::Comment(c) => {
                if c.contains("{{") || c.contains("{%") || c.contains("{#") {
                    tpl.push_str(&format!("{{% raw %}}{c}{{% endraw %}}\n"));
                } else {
                    tpl.push_str(&c);
                    tpl.push('\n');
                }
            }
            DotenvLine::Var { key, value, quoted } => {
                if !jinja_ident(&key) {
                    d.unconverted.push(Unconverted::new(
                        format!(".env.example {key}"),
                        "not a name a template can use (letters, digits, `_`); left out of the template",
                    ));
                    continue;
                }
                if quoted {
                    tpl.push_str(&format!("{key}=\"{{{{ {key} }}}}\"\n"));
                } else {
                    tpl.push_str(&format!("{key}={{{{ {key} }}}}\n"));
                }
                match values.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => values.push((key, value)),
                }
            }
            DotenvLine::Invalid { line, text } => d.unconverted.push(Unconverted::new(
                format!(".env.example:{line}"),
                format!("`{}` is not a KEY=value line; left out", text.trim()),
            )),
        }
    }
    d.detected.push(format!(
        ".env.example: {} variable(s) -> [config.values], rendered to .env",
        values.len()
    ));
    EnvTemplate {
        from: ".env.example".into(),
        values,
        template: "templates/.env.j2".into(),
        template_text: tpl,
        output: ".env".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn node_versions_from_every_source() {
        let d = detect(&files(&[
            (
                "package.json",
                r#"{"engines": {"node": ">=18"}, "dependencies": {"pg": "^8", "ioredis": "5"}}"#,
            ),
            (".nvmrc", "v20.11.1\n"),
            ("package-lock.json", ""),
        ]));
        assert_eq!(
            d.tools,
            [ToolPin {
                name: "node".into(),
                version: "20.11.1".into(),
                from: ".nvmrc".into()
            }]
        );
        assert_eq!(d.hook_hints, ["npm ci"]);
        let stacks: Vec<&str> = d.stack_hints.iter().map(|h| h.stack.as_str()).collect();
        assert_eq!(stacks, ["postgres", "redis"]);
        assert!(
            d.unconverted
                .iter()
                .any(|u| u.what == "package.json engines.node"),
            "{:?}",
            d.unconverted
        );
    }

    #[test]
    fn tool_versions_and_mise() {
        let d = detect(&files(&[
            (".tool-versions", "nodejs 20.11.1\ngolang 1.22.1 # comment\npython 3.12.1\n"),
            ("mise.toml", "[tools]\nterraform = \"1.7.5\"\njq = [\"1.7.1\"]\nkubectl = { version = \"1.29.2\" }\nnode = \"20\"\n"),
        ]));
        let pins: Vec<(String, String)> = d
            .tools
            .iter()
            .map(|t| (t.name.clone(), t.version.clone()))
            .collect();
        assert_eq!(
            pins,
            [
                ("node".into(), "20.11.1".into()),
                ("go".into(), "1.22.1".into()),
                ("terraform".into(), "1.7.5".into()),
                ("jq".into(), "1.7.1".into()),
                ("kubectl".into(), "1.29.2".into()),
            ]
        );
        assert!(d
            .unconverted
            .iter()
            .any(|u| u.what == ".tool-versions python"));
        assert!(d
            .unconverted
            .iter()
            .any(|u| u.what == "mise.toml node" && u.why.contains("pins 20.11.1")));
    }

    #[test]
    fn go_mod_language_versions() {
        let d = detect(&files(&[(
            "go.mod",
            "module x\n\ngo 1.22\n\nrequire (\n\tgithub.com/jackc/pgx/v5 v5.5.0\n)\n",
        )]));
        assert_eq!(d.tools[0].version, "1.22.0");
        assert_eq!(d.stack_hints[0].stack, "postgres");
        let d = detect(&files(&[(
            "go.mod",
            "module x\ngo 1.21.4\ntoolchain go1.22.3\n",
        )]));
        assert_eq!(d.tools[0].version, "1.22.3");
    }

    #[test]
    fn env_example_becomes_values_and_a_template() {
        let d = detect(&files(&[(".env.example", "# Database\nDATABASE_URL=postgres://localhost/app\nGREETING=\"hello world\"\nbad line\n")]));
        let t = d.env_template.unwrap();
        assert_eq!(
            t.values,
            [
                (
                    "DATABASE_URL".to_string(),
                    "postgres://localhost/app".to_string()
                ),
                ("GREETING".into(), "hello world".into()),
            ]
        );
        assert!(t.template_text.contains(
            "# Database\nDATABASE_URL={{ DATABASE_URL }}\nGREETING=\"{{ GREETING }}\"\n"
        ));
        assert!(d.unconverted.iter().any(|u| u.what == ".env.example:4"));
    }

    #[test]
    fn compose_file_in_compose_order() {
        let d = detect(&files(&[("docker-compose.yml", ""), ("compose.yaml", "")]));
        assert_eq!(d.compose_file.as_deref(), Some("compose.yaml"));
    }
}
