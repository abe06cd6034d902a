//! `[config]`: environments, template files, remote value sources.

use super::*;

impl Resolver<'_> {
    pub(super) fn config(&mut self, c: &schema::ConfigSection) -> Config {
        let environment = match &c.environment {
            Some(e) => {
                let v = e.get_ref();
                if v != "local" && !c.environments.contains_key(v) {
                    let known: Vec<&str> = c.environments.keys().map(String::as_str).collect();
                    self.err_hint(
                        e.span(),
                        format!("environment `{v}` is not defined"),
                        format!(
                            "add [config.environments.{v}] (defined: {})",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                }
                v.clone()
            }
            None => "local".to_string(),
        };
        let mut files = Vec::new();
        let mut outputs: BTreeMap<PathBuf, Range<usize>> = BTreeMap::new();
        for f in &c.files {
            let def = f.get_ref();
            let template = self.existing_path("template", &def.template);
            let out = def.output.get_ref();
            let out_path = Path::new(out);
            // The output, and every directory above it, must resolve inside:
            // a symlinked `config/` would make devenv write elsewhere.
            if let Err(e) = crate::confine::confine(&self.root, out_path) {
                self.err_hint(
                    def.output.span(),
                    format!("output {e}"),
                    "outputs are paths inside the repository, like \".env\" or \"config/app.yaml\", with no symlink leading out",
                );
                continue;
            }
            if let Some(prev) = outputs.insert(out_path.to_path_buf(), def.output.span()) {
                let _ = prev;
                self.err(
                    def.output.span(),
                    format!("two templates render to `{out}`"),
                );
            }
            if let Some(t) = template {
                files.push(ConfigFile {
                    template: t,
                    output: self.root.join(out_path),
                    environments: def.environments.clone().unwrap_or_default(),
                });
            }
        }
        let mut sources = Vec::new();
        for (name, s) in &c.sources {
            let def = s.get_ref();
            let url = def.url.get_ref();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                self.err_hint(
                    def.url.span(),
                    format!("`{url}` is not an http(s) URL"),
                    "write it like \"https://config.internal/app.json\"",
                );
            }
            if def.kind == SourceKind::Consul && def.prefix.is_none() {
                self.err_hint(
                    s.span(),
                    format!("consul source `{name}` needs a `prefix`"),
                    "the KV prefix to read, like \"config/checkout\"",
                );
            }
            sources.push(ValueSource {
                name: name.clone(),
                kind: def.kind,
                url: url.clone(),
                prefix: def.prefix.clone(),
                key: def.key.clone(),
                environments: def.environments.clone().unwrap_or_default(),
                token_env: def.token_env.clone(),
            });
        }
        Config {
            environment,
            values: c.values.clone(),
            environments: c
                .environments
                .iter()
                .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                .collect(),
            files,
            sources,
        }
    }
}

impl Resolver<'_> {
    /// One `[env]` entry: a variable name a shell accepts, and not one
    /// devenv itself sets.
    pub(super) fn env_var(
        &mut self,
        key: &Spanned<String>,
        value: &Spanned<String>,
    ) -> Option<crate::manifest::EnvVar> {
        let name = key.get_ref();
        if !is_env_name(name) {
            self.err_hint(
                key.span(),
                format!("`{name}` is not an environment variable name"),
                "use letters, digits and `_`, not starting with a digit, like DATABASE_URL",
            );
            return None;
        }
        if name == "PATH" || name.starts_with("DEVENV_") {
            self.err_hint(
                key.span(),
                format!("`{name}` is set by devenv itself"),
                "PATH gets the pinned tools first and DEVENV_* are devenv's own; pick another name",
            );
            return None;
        }
        Some(crate::manifest::EnvVar {
            name: name.clone(),
            template: value.get_ref().clone(),
            span: value.span(),
        })
    }
}
