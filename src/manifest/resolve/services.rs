//! `[services]`: stacks merged in, ports, volumes, mounts, readiness
//! (`build` is checked in `build.rs`).

use super::*;

impl Resolver<'_> {
    pub(super) fn service(
        &mut self,
        key: &Spanned<String>,
        s: &schema::ServiceDef,
    ) -> Option<Service> {
        let name = key.get_ref().clone();
        let mut ok = self.check_name("service", key);
        let stack = match &s.stack {
            Some(st) => match self.stacks.get(st.get_ref()) {
                Some(found) => Some(self.stack_for(key, found, s)),
                None => {
                    let hint = match did_you_mean(st.get_ref(), self.stacks.names()) {
                        Some(m) => format!("did you mean `{m}`? (`devenv stacks` lists them)"),
                        None => format!(
                            "known stacks: {} (`devenv stacks` lists them; add your own in stacks/)",
                            self.stacks.names().collect::<Vec<_>>().join(", ")
                        ),
                    };
                    self.err_hint(st.span(), format!("unknown stack `{}`", st.get_ref()), hint);
                    ok = false;
                    None
                }
            },
            None => None,
        };
        if let (Some(v), None) = (&s.version, &s.stack) {
            self.err_hint(
                v.span(),
                "`version` only applies to a service with a `stack`",
                "put the tag in `image` instead, like image = \"redis:7\"",
            );
        }
        // Ports: the service's own list replaces the stack's.
        let mut ports = Vec::new();
        match &s.ports {
            Some(list) => {
                for p in list {
                    match parse_port_spec(&p.get_ref().0) {
                        Ok(m) => ports.push(m),
                        Err(e) => {
                            self.err(p.span(), e);
                            ok = false;
                        }
                    }
                }
            }
            None => {
                for p in stack.iter().flat_map(|st| st.ports.iter()) {
                    if let Ok(m) = parse_port_spec(&p.0) {
                        ports.push(m);
                    }
                }
            }
        }
        let build = match (&s.build, &s.stack) {
            (Some(b), Some(_)) => {
                self.err_hint(
                    b.span(),
                    format!("service `{name}` has both `build` and `stack`"),
                    "a stack's image is pulled: keep `stack`, or drop it and build with `build` (setting ports, env and `ready` yourself)",
                );
                ok = false;
                None
            }
            (Some(b), None) => {
                let built = self.build(b);
                ok &= built.is_some();
                built
            }
            (None, _) => None,
        };
        let image = match (&s.image, &stack) {
            (Some(i), _) => {
                let v = i.get_ref().trim();
                if let Some(why) = image_ref_problem(v) {
                    self.err_hint(
                        i.span(),
                        format!("`{v}` is not a valid image reference: {why}"),
                        "write it like \"redis:7\" or \"ghcr.io/org/app:1.2\"",
                    );
                }
                match (&s.version, &stack) {
                    // A stack's `version` tags the image that replaces the
                    // stack's own, when that image names no tag itself.
                    (Some(ver), Some(_)) if !has_tag(v) => format!("{v}:{}", ver.get_ref()),
                    (Some(ver), Some(_)) => {
                        self.err_hint(
                            ver.span(),
                            format!(
                                "`version = \"{}\"` and the tag in `image = \"{v}\"` disagree",
                                ver.get_ref()
                            ),
                            "keep one: drop `version`, or drop the tag from `image`",
                        );
                        v.to_string()
                    }
                    _ => v.to_string(),
                }
            }
            (None, Some(st)) => {
                let tag = s
                    .version
                    .as_ref()
                    .map_or(st.version.clone(), |v| v.get_ref().clone());
                format!("{}:{tag}", st.image)
            }
            (None, None) if s.build.is_some() => String::new(),
            (None, None) => {
                if s.stack.is_none() {
                    self.err_hint(
                        key.span(),
                        format!("service `{name}` has no `image`, `build` or `stack`"),
                        "add `image = \"...\"`, `build = \"dir\"` (a Dockerfile there) or `stack = \"postgres\"` (see `devenv stacks`)",
                    );
                }
                ok = false;
                String::new()
            }
        };
        let env = self.service_env(key, stack.as_ref(), s, &ports);
        let mut volumes: BTreeMap<String, String> = stack
            .as_ref()
            .map(|st| st.volumes.clone())
            .unwrap_or_default();
        for (vol, path) in &s.volumes {
            if !valid_name(vol) {
                self.err_hint(
                    path.span(),
                    format!("`{vol}` is not a valid volume name"),
                    "use letters, digits, `-`, `_` or `.`",
                );
            }
            if !path.get_ref().starts_with('/') {
                self.err_hint(
                    path.span(),
                    format!("volume `{vol}` must mount at an absolute container path"),
                    "write it like data = \"/var/lib/data\"",
                );
            }
            volumes.insert(vol.clone(), path.get_ref().clone());
        }
        let mounts = s.mounts.iter().filter_map(|m| self.mount(m)).collect();
        let container_ports: Vec<u16> = ports.iter().map(|p| p.container).collect();
        let ready = match &s.ready {
            Some(def) => self.readiness(def.get_ref(), def.span(), &container_ports),
            None => stack
                .as_ref()
                .and_then(|st| st.ready.as_ref())
                .and_then(|d| readiness_of(d, &container_ports).ok()),
        }
        .map(|r| with_login(r, &env.plain));
        let bind = match &s.bind {
            Some(b) => match b.get_ref().parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => {
                    self.err_hint(
                        b.span(),
                        format!("`{}` is not an IP address", b.get_ref()),
                        "use \"127.0.0.1\" (the default) or \"0.0.0.0\"",
                    );
                    IpAddr::V4(Ipv4Addr::LOCALHOST)
                }
            },
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        let mut exports = stack
            .as_ref()
            .map(|st| st.exports.clone())
            .unwrap_or_default();
        exports.extend(s.exports.clone());
        if !ok {
            return None;
        }
        Some(Service {
            name,
            stack: s.stack.as_ref().map(|s| s.get_ref().clone()),
            image,
            build,
            ports,
            env: env.plain,
            env_templates: env.templates,
            command: s.command.as_ref().map(|c| c.0.clone()).or_else(|| {
                stack
                    .as_ref()
                    .and_then(|st| st.command.as_ref().map(|c| c.0.clone()))
            }),
            entrypoint: s.entrypoint.as_ref().map(|c| c.0.clone()).or_else(|| {
                stack
                    .as_ref()
                    .and_then(|st| st.entrypoint.as_ref().map(|c| c.0.clone()))
            }),
            volumes,
            mounts,
            ready,
            depends_on: s.depends_on.iter().map(|d| d.get_ref().clone()).collect(),
            run: s.run.unwrap_or_default(),
            bind,
            exports,
            user: s.user.clone(),
            working_dir: s.working_dir.clone(),
            platform: s.platform.clone(),
        })
    }

    pub(super) fn mount(&mut self, m: &Spanned<String>) -> Option<Mount> {
        let spec = match crate::manifest::mounts::parse(m.get_ref()) {
            Ok(spec) => spec,
            Err((message, hint)) => {
                self.err_hint(m.span(), message, hint);
                return None;
            }
        };
        // devenv.toml is shared by everyone who clones the repository: its
        // mounts stay inside it. A mount from elsewhere is a user's choice.
        let written = Spanned::new(m.span(), spec.source.clone());
        match crate::confine::confine(&self.root, Path::new(&spec.source)) {
            Err(e) if crate::manifest::mounts::is_fs_root(Path::new(&spec.source), e.target()) => {
                self.err_hint(
                    m.span(),
                    crate::manifest::mounts::ROOT_REFUSED,
                    crate::manifest::mounts::ROOT_HINT,
                );
                return None;
            }
            Err(e) => {
                self.err_hint(
                    m.span(),
                    format!("mount source {e}"),
                    crate::manifest::mounts::OUTSIDE_HINT,
                );
                return None;
            }
            Ok(_) => {}
        }
        let source = self.existing_path("mount source", &written)?;
        Some(Mount {
            source,
            target: spec.target,
            read_only: spec.read_only,
        })
    }

    pub(super) fn readiness(
        &mut self,
        def: &ReadyDef,
        span: Range<usize>,
        ports: &[u16],
    ) -> Option<Readiness> {
        match readiness_of(def, ports) {
            Ok(r) => Some(r),
            Err((msg, hint)) => {
                self.err_hint(span, msg, hint);
                None
            }
        }
    }
}

/// A `postgres` probe logs in as the official image's variables say
/// (`POSTGRES_USER`, else `postgres`; `POSTGRES_DB`, else the user), as
/// the `pg_isready -U -d` it replaces would.
fn with_login(mut r: Readiness, env: &BTreeMap<String, String>) -> Readiness {
    if let Probe::Postgres { user, database, .. } = &mut r.probe {
        *user = env
            .get("POSTGRES_USER")
            .cloned()
            .unwrap_or_else(|| "postgres".into());
        *database = env
            .get("POSTGRES_DB")
            .cloned()
            .unwrap_or_else(|| user.clone());
    }
    r
}

/// A readiness definition checked against the container ports it may probe.
pub fn readiness_of(def: &ReadyDef, ports: &[u16]) -> Result<Readiness, (String, String)> {
    let kinds = [
        def.tcp.is_some(),
        def.http.is_some(),
        def.exec.is_some(),
        def.log.is_some(),
        def.healthcheck == Some(true),
        def.postgres.is_some(),
    ];
    let n = kinds.iter().filter(|k| **k).count();
    let choose = "use exactly one of tcp, http (+ port), exec, log, postgres or healthcheck = true"
        .to_string();
    if n != 1 {
        let msg = if n == 0 {
            "`ready` names no probe"
        } else {
            "`ready` names more than one probe"
        };
        return Err((msg.to_string(), choose));
    }
    if def.port.is_some() && def.http.is_none() {
        return Err((
            "`port` only goes with `http` in `ready`".into(),
            "for a TCP probe write `ready = { tcp = 6379 }`".into(),
        ));
    }
    let published = |p: u16| -> Result<u16, (String, String)> {
        if ports.contains(&p) {
            Ok(p)
        } else {
            Err((
                format!("readiness probe port {p} is not one of the service's ports"),
                "the probe connects through the published port; add it to `ports`".into(),
            ))
        }
    };
    let probe = if let Some(p) = def.tcp {
        Probe::Tcp(published(p)?)
    } else if let Some(path) = &def.http {
        if !path.starts_with('/') {
            return Err((
                format!("http probe path `{path}` must start with `/`"),
                "write it like { http = \"/health\", port = 8080 }".into(),
            ));
        }
        let port = match def.port.or_else(|| ports.first().copied()) {
            Some(p) => published(p)?,
            None => {
                return Err((
                    "an http probe needs a `port`".into(),
                    "write it like { http = \"/health\", port = 8080 }".into(),
                ))
            }
        };
        Probe::Http {
            path: path.clone(),
            port,
        }
    } else if let Some(cmd) = &def.exec {
        Probe::Exec(cmd.0.clone())
    } else if let Some(re) = &def.log {
        if let Err(e) = regex::Regex::new(re) {
            return Err((
                format!("`{re}` is not a valid regex: {e}"),
                "fix the pattern; it is matched against each log line".into(),
            ));
        }
        Probe::Log(re.clone())
    } else if let Some(p) = def.postgres {
        // The login is the service's (`with_login`), known once its env is.
        Probe::Postgres {
            port: published(p)?,
            user: String::new(),
            database: String::new(),
        }
    } else {
        Probe::Healthcheck
    };
    Ok(Readiness {
        probe,
        timeout: def.timeout.map_or(Duration::from_secs(60), |t| t.0),
    })
}

/// What is wrong with an image reference (`[registry[:port]/]name[:tag][@digest]`),
/// if anything: a `redis:` with its tag left empty used to pass and pull
/// `:latest`.
pub fn image_ref_problem(v: &str) -> Option<&'static str> {
    if v.is_empty() {
        return Some("it is empty");
    }
    if v.contains(char::is_whitespace) {
        return Some("it contains white space");
    }
    let (named, digest) = match v.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (v, None),
    };
    if digest.is_some_and(|d| !d.contains(':') || d.ends_with(':')) {
        return Some("the digest after `@` must look like sha256:<hex>");
    }
    let last = named.rsplit('/').next().unwrap_or(named);
    if last.is_empty() || named.ends_with('/') {
        return Some("the name is missing");
    }
    if let Some((name, tag)) = last.split_once(':') {
        if name.is_empty() {
            return Some("the name is missing");
        }
        if tag.is_empty() {
            return Some("the tag after `:` is empty");
        }
        let ok = tag.len() <= 128
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && !tag.starts_with(['.', '-']);
        if !ok {
            return Some("a tag is letters, digits, `_`, `.` and `-`, at most 128");
        }
    }
    if last
        .split(':')
        .next()
        .unwrap_or("")
        .chars()
        .any(|c| c.is_ascii_uppercase())
    {
        return Some("repository names are lower case");
    }
    None
}

/// Whether the reference names a tag (or a digest) itself.
fn has_tag(v: &str) -> bool {
    v.contains('@') || v.rsplit('/').next().is_some_and(|last| last.contains(':'))
}

#[cfg(test)]
mod image_ref_tests {
    use super::{has_tag, image_ref_problem};

    #[test]
    fn references_docker_accepts_pass() {
        for ok in [
            "redis",
            "redis:7",
            "127.0.0.1:5000/library/postgres:16",
            "ghcr.io/org/app:1.2",
            "app@sha256:abc",
        ] {
            assert_eq!(image_ref_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn a_trailing_colon_and_other_slips_are_refused() {
        for bad in [
            "redis:", "redis::7", ":7", "org/", "Redis:7", "app@", "redis:-x", "a b",
        ] {
            assert!(image_ref_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_registry_port_is_not_a_tag() {
        assert!(!has_tag("127.0.0.1:5000/library/postgres"));
        assert!(has_tag("127.0.0.1:5000/library/postgres:16"));
    }
}
