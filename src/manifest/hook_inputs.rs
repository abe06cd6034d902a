//! The files a common setup command depends on, for suggesting a hook's
//! `if_changed`: `init` writes them into the hooks it suggests, and `up`
//! names them when a hook without `if_changed` runs. One table, so both
//! say the same. A hook without `if_changed` runs on every `up`.

/// The files `command`'s work depends on, when it is one plain command
/// devenv knows (`npm ci`, `bundle install`, ...). A compound command
/// (`a && b`, pipes) depends on more than its first part: no guess.
pub fn inputs_of(command: &str) -> Option<Vec<String>> {
    if command.contains(['&', ';', '|', '\n', '`', '$']) {
        return None;
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    let files: &[&str] = match words.as_slice() {
        ["npm", "ci", ..] => &["package-lock.json"],
        ["npm", "install" | "i", ..] => &["package.json", "package-lock.json"],
        ["yarn"] | ["yarn", "install", ..] | ["yarn", "--frozen-lockfile", ..] => &["yarn.lock"],
        ["pnpm", "install" | "i", ..] => &["pnpm-lock.yaml"],
        ["bun", "install" | "i", ..] => &["bun.lock", "bun.lockb"],
        ["uv", "sync", ..] => &["uv.lock"],
        ["poetry", "install", ..] => &["poetry.lock"],
        ["pip" | "pip3", "install", "-r", file, ..] => return Some(vec![file.to_string()]),
        ["pip" | "pip3", "install", "-e", ".", ..] => &["pyproject.toml"],
        ["bundle"] | ["bundle", "install", ..] => &["Gemfile.lock"],
        ["go", "mod", "download", ..] => &["go.sum"],
        ["composer", "install", ..] => &["composer.lock"],
        ["cargo", "fetch", ..] => &["Cargo.lock"],
        _ => return None,
    };
    Some(files.iter().map(|f| f.to_string()).collect())
}

/// The hook as a devenv.toml entry with `if_changed`:
/// `{ run = "npm ci", if_changed = ["package-lock.json"] }`.
pub fn entry_with_inputs(run: &str, inputs: &[String]) -> String {
    let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
    let files: Vec<String> = inputs.iter().map(|f| quoted(f)).collect();
    format!(
        "{{ run = {}, if_changed = [{}] }}",
        quoted(run),
        files.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_commands_name_their_lock_files() {
        assert_eq!(inputs_of("npm ci").unwrap(), ["package-lock.json"]);
        assert_eq!(
            inputs_of("yarn install --frozen-lockfile").unwrap(),
            ["yarn.lock"]
        );
        assert_eq!(
            inputs_of("pip install -r requirements-dev.txt").unwrap(),
            ["requirements-dev.txt"]
        );
        assert_eq!(inputs_of("go mod download").unwrap(), ["go.sum"]);
    }

    #[test]
    fn unknown_or_compound_commands_get_no_guess() {
        assert_eq!(inputs_of("npm run db:migrate"), None);
        assert_eq!(inputs_of("npm ci && npm run build"), None);
        assert_eq!(inputs_of("./scripts/seed.sh"), None);
    }

    #[test]
    fn the_entry_is_valid_toml_that_round_trips() {
        let text = entry_with_inputs("npm ci \"quiet\"", &["package-lock.json".into()]);
        assert_eq!(
            text,
            r#"{ run = 'npm ci "quiet"', if_changed = ["package-lock.json"] }"#
        );
        let doc: toml::Table = format!("h = {text}").parse().unwrap();
        assert_eq!(doc["h"]["run"].as_str(), Some("npm ci \"quiet\""));
    }
}
