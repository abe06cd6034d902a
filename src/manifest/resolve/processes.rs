//! `[processes]`: the app itself, run on this machine. Its `cwd` stays
//! inside the repository, its probes are those that make sense on this
//! machine (tcp, http, log), and its `depends_on` may name services, mocks
//! and other processes; a service may not wait for a process, because
//! processes start after every service is ready.

use super::*;

/// The names of each kind, for the dependency checks.
pub(super) struct Names<'a> {
    pub services: BTreeSet<&'a str>,
    pub mocks: BTreeSet<&'a str>,
    pub processes: BTreeSet<&'a str>,
}

impl Resolver<'_> {
    pub(super) fn process(
        &mut self,
        key: &Spanned<String>,
        p: &schema::ProcessDef,
    ) -> Option<Process> {
        let mut ok = self.check_name("process", key);
        let cwd = match &p.cwd {
            Some(c) => match self.confined("process cwd", c) {
                Some(real) if real.is_dir() => self.root.join(c.get_ref()),
                Some(real) => {
                    let what = if real.exists() {
                        "is not a directory"
                    } else {
                        "does not exist"
                    };
                    self.err_hint(
                        c.span(),
                        format!("process cwd `{}` {what}", c.get_ref()),
                        format!(
                            "create the directory, or fix the path (relative to {})",
                            self.root.display()
                        ),
                    );
                    ok = false;
                    self.root.clone()
                }
                None => {
                    ok = false;
                    self.root.clone()
                }
            },
            None => self.root.clone(),
        };
        let mut env = BTreeMap::new();
        for (k, v) in &p.env {
            if k.is_empty() || k.contains(['=', '\0']) || v.get_ref().0.contains('\0') {
                self.err_hint(
                    v.span(),
                    format!("`{k}` is not a valid environment variable"),
                    "names are like PORT or NODE_ENV: no `=`, no NUL byte",
                );
                ok = false;
            }
            env.insert(k.clone(), v.get_ref().0.clone());
        }
        let ready = match &p.ready {
            Some(def) => match process_readiness(def.get_ref()) {
                Ok(r) => Some(r),
                Err((msg, hint)) => {
                    self.err_hint(def.span(), msg, hint);
                    ok = false;
                    None
                }
            },
            None => None,
        };
        ok.then(|| Process {
            name: key.get_ref().clone(),
            command: p.command.get_ref().clone(),
            cwd,
            env,
            ready,
            depends_on: p.depends_on.iter().map(|d| d.get_ref().clone()).collect(),
            restart: p.restart.unwrap_or_default(),
        })
    }

    /// Process names that clash with a service or mock, `depends_on` names
    /// that exist nowhere, and services that wait for a process. Edges
    /// between processes go to `edges` for the cycle check.
    pub(super) fn process_dependencies<'r>(
        &mut self,
        raw: &'r RawManifest,
        names: &Names<'r>,
        edges: &mut Vec<Edge<'r>>,
    ) {
        for (k, _) in &raw.processes {
            let n = k.get_ref().as_str();
            let other = if names.services.contains(n) {
                Some("service")
            } else if names.mocks.contains(n) {
                Some("mock")
            } else {
                None
            };
            if let Some(other) = other {
                self.err_hint(
                    k.span(),
                    format!("`{n}` is both a {other} and a process"),
                    "services, mocks and processes share one set of names: give them different names",
                );
            }
        }
        for (k, s) in &raw.services {
            for d in &s.depends_on {
                if names.processes.contains(d.get_ref().as_str()) {
                    self.err_hint(
                        d.span(),
                        format!(
                            "service `{}` depends on process `{}`, which starts after every service",
                            k.get_ref(),
                            d.get_ref()
                        ),
                        "processes start last, once services and mocks are ready: let the process depend on the service instead",
                    );
                }
            }
        }
        for (k, p) in &raw.processes {
            let from = k.get_ref().as_str();
            for d in &p.depends_on {
                let dep = d.get_ref().as_str();
                if dep == from {
                    self.err(d.span(), format!("process `{dep}` depends on itself"));
                } else if names.processes.contains(dep) {
                    edges.push(Edge {
                        from,
                        to: dep,
                        span: d.span(),
                    });
                } else if !names.services.contains(dep) && !names.mocks.contains(dep) {
                    let all = names
                        .services
                        .iter()
                        .chain(&names.mocks)
                        .chain(&names.processes)
                        .copied()
                        .filter(|n| *n != from);
                    let hint = match did_you_mean(dep, all) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => {
                            "depends_on names services, mocks or processes of this file".to_string()
                        }
                    };
                    self.err_hint(
                        d.span(),
                        format!("process `{from}` depends on `{dep}`, which does not exist"),
                        hint,
                    );
                }
            }
        }
    }
}

/// A process's probe: tcp, http (with its port) or log, all on this
/// machine. `exec` and `healthcheck` belong to containers.
pub fn process_readiness(def: &ReadyDef) -> Result<Readiness, (String, String)> {
    let choose = "use exactly one of tcp, http (+ port) or log".to_string();
    if def.exec.is_some() || def.healthcheck.is_some() || def.postgres.is_some() {
        return Err((
            "a process is probed on this machine: `exec`, `healthcheck` and `postgres` are for containers"
                .into(),
            choose,
        ));
    }
    let n = [def.tcp.is_some(), def.http.is_some(), def.log.is_some()]
        .iter()
        .filter(|k| **k)
        .count();
    if n != 1 {
        let msg = if n == 0 {
            "`ready` names no probe"
        } else {
            "`ready` names more than one probe"
        };
        return Err((msg.into(), choose));
    }
    if def.port.is_some() && def.http.is_none() {
        return Err((
            "`port` only goes with `http` in `ready`".into(),
            "for a TCP probe write `ready = { tcp = 3000 }`".into(),
        ));
    }
    let probe = if let Some(p) = def.tcp {
        Probe::Tcp(p)
    } else if let Some(path) = &def.http {
        let example = "write it like { http = \"/health\", port = 3000 }";
        if !path.starts_with('/') {
            return Err((
                format!("http probe path `{path}` must start with `/`"),
                example.into(),
            ));
        }
        let Some(port) = def.port else {
            return Err(("an http probe needs a `port`".into(), example.into()));
        };
        Probe::Http {
            path: path.clone(),
            port,
        }
    } else {
        let re = def.log.clone().unwrap_or_default();
        if let Err(e) = regex::Regex::new(&re) {
            return Err((
                format!("`{re}` is not a valid regex: {e}"),
                "fix the pattern; it is matched against each line of the process's log".into(),
            ));
        }
        Probe::Log(re)
    };
    Ok(Readiness {
        probe,
        timeout: def.timeout.map_or(Duration::from_secs(60), |t| t.0),
    })
}

#[cfg(test)]
mod tests {
    use crate::manifest::{parse, Manifest, Probe, ProcessCommand, RestartPolicy};
    use crate::stacks::Stacks;

    fn load(dir: &std::path::Path, text: &str) -> Result<Manifest, Vec<String>> {
        let path = dir.join("devenv.toml");
        parse(&path, text, &Stacks::built_in()).map_err(|d| {
            d.0.iter()
                .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
                .collect()
        })
    }

    fn problems(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        load(dir.path(), text).unwrap_err()
    }

    #[test]
    fn a_process_resolves_with_its_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("web")).unwrap();
        let m = load(
            dir.path(),
            "[mocks.pay]\nroutes = [{ path = \"/\" }]\n\
             [processes.web]\ncommand = \"npm run dev\"\ncwd = \"web\"\nenv = { PORT = 3000 }\n\
             ready = { http = \"/\", port = 3000 }\ndepends_on = [\"pay\", \"worker\"]\n\
             [processes.worker]\ncommand = [\"python3\", \"-m\", \"worker\"]\nrestart = \"never\"\n",
        )
        .unwrap();
        let web = m.process("web").unwrap();
        assert_eq!(web.command.argv(), ["sh", "-c", "npm run dev"]);
        assert_eq!(web.cwd, dir.path().join("web"));
        assert_eq!(web.env["PORT"], "3000");
        assert!(matches!(
            &web.ready.as_ref().unwrap().probe,
            Probe::Http { port: 3000, .. }
        ));
        assert_eq!(web.restart, RestartPolicy::OnFailure);
        let worker = m.process("worker").unwrap();
        assert!(matches!(worker.command, ProcessCommand::Argv(_)));
        assert_eq!(worker.cwd, dir.path());
        assert_eq!(worker.restart, RestartPolicy::Never);
        let levels: Vec<Vec<&str>> = m
            .process_levels()
            .iter()
            .map(|l| l.iter().map(|p| p.name.as_str()).collect())
            .collect();
        assert_eq!(levels, [vec!["worker"], vec!["web"]]);
    }

    #[test]
    fn unknown_keys_bad_types_and_a_missing_command_have_positions() {
        let p = problems(
            "[processes.a]\ncommand = \"x\"\ncwdd = \"web\"\n\
             [processes.b]\ncommand = \"x\"\nrestart = \"always\"\n\
             [processes.c]\nenv = { A = \"1\" }\n",
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with("3:1 unknown key `cwdd` in [processes.a]"),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("6:11 ") && p[1].contains("always"),
            "{p:?}"
        );
        assert!(p[2].contains("missing field `command`"), "{p:?}");
    }

    #[test]
    fn depends_on_names_that_exist_nowhere_are_errors() {
        let p = problems(
            "[services.db]\nimage = \"redis:7\"\n\
             [processes.web]\ncommand = \"x\"\ndepends_on = [\"db\", \"dbb\", \"web\"]\n",
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("`web` depends on `dbb`, which does not exist"),
            "{p:?}"
        );
        assert!(p[1].contains("process `web` depends on itself"), "{p:?}");
    }

    #[test]
    fn a_cycle_across_processes_is_an_error() {
        let p = problems(
            "[processes.a]\ncommand = \"x\"\ndepends_on = [\"b\"]\n\
             [processes.b]\ncommand = \"x\"\ndepends_on = [\"a\"]\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("dependency cycle: a -> b -> a"), "{p:?}");
    }

    #[test]
    fn names_are_shared_with_services_and_mocks_and_services_cannot_wait_for_a_process() {
        let p = problems(
            "[services.db]\nimage = \"redis:7\"\ndepends_on = [\"web\"]\n\
             [mocks.pay]\nroutes = [{ path = \"/\" }]\n\
             [processes.db]\ncommand = \"x\"\n[processes.pay]\ncommand = \"x\"\n\
             [processes.web]\ncommand = \"x\"\n",
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].contains("service `db` depends on process `web`"),
            "{p:?}"
        );
        assert!(
            p[1].contains("`db` is both a service and a process"),
            "{p:?}"
        );
        assert!(p[2].contains("`pay` is both a mock and a process"), "{p:?}");
    }

    #[test]
    fn a_cwd_outside_the_repository_or_missing_is_an_error() {
        let p = problems(
            "[processes.a]\ncommand = \"x\"\ncwd = \"../elsewhere\"\n\
             [processes.b]\ncommand = \"x\"\ncwd = \"/tmp\"\n\
             [processes.c]\ncommand = \"x\"\ncwd = \"nope\"\n",
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with("3:7 ") && p[0].contains("outside the repository"),
            "{p:?}"
        );
        assert!(p[1].starts_with("6:7 "), "{p:?}");
        assert!(p[2].contains("process cwd `nope` does not exist"), "{p:?}");
    }

    #[test]
    fn probes_are_those_of_this_machine() {
        let p = problems(
            "[processes.a]\ncommand = \"x\"\nready = { exec = [\"true\"] }\n\
             [processes.b]\ncommand = \"x\"\nready = { http = \"/\" }\n\
             [processes.c]\ncommand = \"x\"\nready = { tcp = 1, log = \"up\" }\n\
             [processes.d]\ncommand = []\n",
        );
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(
            p[0].contains("`exec`, `healthcheck` and `postgres` are for containers"),
            "{p:?}"
        );
        assert!(p[1].contains("an http probe needs a `port`"), "{p:?}");
        assert!(p[2].contains("more than one probe"), "{p:?}");
        assert!(p[3].contains("a command cannot be empty"), "{p:?}");
    }
}
