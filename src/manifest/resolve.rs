//! From the typed file to the resolved `Manifest`: defaults applied, stacks
//! merged, paths and ports parsed, and every cross-check run. All problems
//! are collected; nothing on disk or in the engine is touched here.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::graph::{find_cycles, port_clashes, Edge, PortClaim};
use super::load::RawManifest;
use super::model::*;
use super::ports::{parse_host_port, parse_port_spec};
use super::schema::{self, ReadyDef, ToolEntry};
use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics};
use crate::stacks::Stacks;

/// What resolution needs besides the file itself.
pub struct ResolveInput<'a> {
    pub path: &'a Path,
    pub source: &'a str,
    pub raw: RawManifest,
    pub stacks: &'a Stacks,
}

struct Resolver<'a> {
    path: &'a Path,
    source: &'a str,
    root: PathBuf,
    stacks: &'a Stacks,
    problems: Diagnostics,
}

pub fn resolve(input: ResolveInput<'_>) -> Result<Manifest, Diagnostics> {
    let root = input.path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut r = Resolver {
        path: input.path,
        source: input.source,
        root: root.clone(),
        stacks: input.stacks,
        problems: Diagnostics::default(),
    };
    let raw = input.raw;
    let project = r.project(&raw.project);
    let settings = r.settings(&raw.settings);
    let tools = raw.tools.iter().filter_map(|(k, t)| r.tool(k, t)).collect();
    let requires = raw
        .requires
        .iter()
        .filter_map(|(k, v)| r.requirement(k, v))
        .collect();
    let mocks: Vec<Mock> = raw.mocks.iter().filter_map(|(k, m)| r.mock(k, m)).collect();
    let services: Vec<Service> = raw
        .services
        .iter()
        .filter_map(|(k, s)| r.service(k, s))
        .collect();
    r.cross_checks(&raw);
    let config = r.config(&raw.config);
    let secrets = raw
        .secrets
        .iter()
        .filter_map(|(k, s)| r.secret(k, s))
        .collect();
    let hooks = Hooks {
        setup: raw
            .hooks
            .setup
            .iter()
            .map(|h| h.get_ref().clone())
            .collect(),
        pre_down: raw
            .hooks
            .pre_down
            .iter()
            .map(|h| h.get_ref().clone())
            .collect(),
    };
    let metrics = r.metrics(&raw.metrics);
    let manifest = Manifest {
        path: input.path.to_path_buf(),
        root,
        content_hash: crate::util::sha256_hex(input.source.as_bytes()),
        project,
        settings,
        tools,
        requires,
        services,
        mocks,
        config,
        secrets,
        hooks,
        metrics,
    };
    r.problems.into_result(manifest)
}

/// Docker-safe names for services, mocks and volumes.
fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && s.len() <= 63
}

/// A project name as compose accepts it: lowercase letters, digits, `-`, `_`.
fn valid_project_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
        && s.len() <= 40
}

/// The directory name made into a valid project name.
pub fn sanitise_project_name(dir: &str) -> String {
    let mut out = String::new();
    for c in dir.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(|c: char| c == '-' || c == '_').to_string();
    let mut out: String = out.chars().take(30).collect();
    if out.is_empty() {
        out = "project".into();
    }
    out
}

impl Resolver<'_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems
            .push(Diagnostic::at(self.path, self.source, span, message));
    }
    fn err_hint(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.problems
            .push(Diagnostic::at(self.path, self.source, span, message).with_hint(hint));
    }

    fn check_name(&mut self, what: &str, key: &Spanned<String>) -> bool {
        if valid_name(key.get_ref()) {
            return true;
        }
        self.err_hint(
            key.span(),
            format!("`{}` is not a valid {what} name", key.get_ref()),
            "use letters, digits, `-`, `_` or `.`, starting with a letter or digit (at most 63)",
        );
        false
    }

    /// A path in the repository that must exist.
    fn existing_path(&mut self, what: &str, p: &Spanned<String>) -> Option<PathBuf> {
        let full = self.root.join(p.get_ref());
        if full.exists() {
            Some(full)
        } else {
            self.err_hint(
                p.span(),
                format!("{what} `{}` does not exist", p.get_ref()),
                format!(
                    "create it, or fix the path (relative to {})",
                    self.root.display()
                ),
            );
            None
        }
    }

    fn project(&mut self, p: &schema::ProjectSection) -> Project {
        match &p.name {
            Some(n) => {
                if !valid_project_name(n.get_ref()) {
                    self.err_hint(
                        n.span(),
                        format!("`{}` is not a valid project name", n.get_ref()),
                        "use lowercase letters, digits, `-` and `_`, starting with a letter or digit (at most 40)",
                    );
                }
                Project {
                    name: n.get_ref().clone(),
                    id: n.get_ref().clone(),
                }
            }
            None => {
                let dir = self
                    .root
                    .file_name()
                    .map(|d| d.to_string_lossy().to_string())
                    .unwrap_or_default();
                let name = sanitise_project_name(&dir);
                let hash = crate::util::sha256_hex(self.root.to_string_lossy().as_bytes());
                Project {
                    id: format!("{name}-{}", &hash[..6]),
                    name,
                }
            }
        }
    }

    fn settings(&mut self, s: &schema::SettingsSection) -> Settings {
        if let Some(m) = &s.registry_mirror {
            let v = m.get_ref();
            if v.contains("://") {
                self.err_hint(
                    m.span(),
                    format!("registry_mirror `{v}` must not have a scheme"),
                    "write it as `host:port` (and an optional path), like \"mirror.internal:5000\"",
                );
            } else if v.is_empty() || v.contains(char::is_whitespace) {
                self.err(
                    m.span(),
                    "registry_mirror must be a host[:port], like \"mirror.internal:5000\"",
                );
            }
        }
        Settings {
            registry_mirror: s
                .registry_mirror
                .as_ref()
                .map(|m| m.get_ref().trim_end_matches('/').to_string()),
            pull: s.pull.unwrap_or_default(),
        }
    }

    fn tool(&mut self, key: &Spanned<String>, entry: &ToolEntry) -> Option<Tool> {
        let name = key.get_ref().clone();
        if !self.check_name("tool", key) {
            return None;
        }
        let (version, def) = match entry {
            ToolEntry::Version(v) => (v, None),
            ToolEntry::Detailed(d) => (&d.version, Some(d.as_ref())),
        };
        if version.get_ref().trim().is_empty() {
            self.err(version.span(), format!("tool `{name}` needs a version"));
        }
        let in_index = crate::tools::index::is_known(&name);
        let source = match def.and_then(|d| d.url.as_ref().map(|u| (d, u))) {
            None => {
                if !in_index {
                    let hint = match did_you_mean(&name, crate::tools::index::names()) {
                        Some(s) => format!(
                            "did you mean `{s}`? Otherwise give a [tools.{name}] table with `url`"
                        ),
                        None => format!(
                            "give a [tools.{name}] table with `version`, `url` and `sha256`"
                        ),
                    };
                    self.err_hint(
                        key.span(),
                        format!("`{name}` is not in the built-in tool index"),
                        hint,
                    );
                    return None;
                }
                ToolSource::Index
            }
            Some((d, url)) => {
                self.check_url_template(url);
                for sum in d.sha256.iter() {
                    self.check_platform_key(key, sum.0);
                    let v = sum.1.get_ref();
                    if v.len() != 64 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
                        self.err_hint(
                            sum.1.span(),
                            "not a sha256 checksum",
                            "a sha256 is 64 hexadecimal characters",
                        );
                    }
                }
                for (plat, o) in &d.platforms {
                    self.check_platform_key(key, plat);
                    if let Some(u) = &o.url {
                        self.check_url_template(u);
                    }
                }
                ToolSource::Url(UrlTool {
                    url: url.get_ref().clone(),
                    bin: d
                        .bin
                        .iter()
                        .flatten()
                        .map(|b| b.get_ref().clone())
                        .collect(),
                    sha256: d
                        .sha256
                        .iter()
                        .map(|(k, v)| (k.clone(), v.get_ref().to_ascii_lowercase()))
                        .collect(),
                    strip_components: d.strip_components.unwrap_or(0),
                    platforms: d
                        .platforms
                        .iter()
                        .map(|(k, o)| {
                            (
                                k.clone(),
                                PlatformOverride {
                                    url: o.url.as_ref().map(|u| u.get_ref().clone()),
                                    bin: o
                                        .bin
                                        .as_ref()
                                        .map(|b| b.iter().map(|x| x.get_ref().clone()).collect()),
                                    strip_components: o.strip_components,
                                },
                            )
                        })
                        .collect(),
                })
            }
        };
        Some(Tool {
            name,
            version: version.get_ref().trim().to_string(),
            source,
            allow_unverified: def.is_some_and(|d| d.allow_unverified),
        })
    }

    fn check_platform_key(&mut self, tool: &Spanned<String>, k: &str) {
        if !crate::tools::PLATFORMS.contains(&k) {
            let hint = format!("platforms are {}", crate::tools::PLATFORMS.join(", "));
            self.err_hint(
                tool.span(),
                format!("tool `{}`: unknown platform `{k}`", tool.get_ref()),
                hint,
            );
        }
    }

    fn check_url_template(&mut self, url: &Spanned<String>) {
        let u = url.get_ref();
        if !(u.starts_with("https://") || u.starts_with("http://") || u.starts_with("file://")) {
            self.err_hint(
                url.span(),
                format!("`{u}` is not an http(s) URL"),
                "tool URLs start with https://",
            );
        }
        let mut rest = u.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                self.err(url.span(), "unclosed `{` in URL template");
                break;
            };
            let var = &after[..close];
            if !matches!(var, "version" | "os" | "arch") {
                self.err_hint(
                    url.span(),
                    format!("unknown placeholder `{{{var}}}` in URL template"),
                    "placeholders are {version}, {os} and {arch}",
                );
            }
            rest = &after[close + 1..];
        }
    }

    fn requirement(&mut self, key: &Spanned<String>, v: &Spanned<String>) -> Option<Requirement> {
        let raw = v.get_ref().trim();
        match semver::VersionReq::parse(raw) {
            Ok(range) => Some(Requirement {
                name: key.get_ref().clone(),
                range,
                raw: raw.to_string(),
            }),
            Err(e) => {
                self.err_hint(
                    v.span(),
                    format!("`{raw}` is not a version range: {e}"),
                    "write a range like \">=2.30\", \"^1.4\", \"~20.11\" or \"*\"",
                );
                None
            }
        }
    }

    fn service(&mut self, key: &Spanned<String>, s: &schema::ServiceDef) -> Option<Service> {
        let name = key.get_ref().clone();
        let mut ok = self.check_name("service", key);
        let stack = match &s.stack {
            Some(st) => match self.stacks.get(st.get_ref()) {
                Some(found) => Some(found.def.clone()),
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
        let image = match (&s.image, &stack) {
            (Some(i), _) => {
                let v = i.get_ref().trim();
                if v.is_empty()
                    || v.contains(char::is_whitespace)
                    || v.chars().any(|c| c.is_ascii_uppercase()) && !v.contains('/')
                {
                    self.err_hint(
                        i.span(),
                        format!("`{v}` is not a valid image reference"),
                        "write it like \"redis:7\" or \"ghcr.io/org/app:1.2\"",
                    );
                }
                v.to_string()
            }
            (None, Some(st)) => {
                let tag = s
                    .version
                    .as_ref()
                    .map_or(st.version.clone(), |v| v.get_ref().clone());
                format!("{}:{tag}", st.image)
            }
            (None, None) => {
                if s.stack.is_none() {
                    self.err_hint(
                        key.span(),
                        format!("service `{name}` has neither `image` nor `stack`"),
                        "add `image = \"...\"` or `stack = \"postgres\"` (see `devenv stacks`)",
                    );
                }
                ok = false;
                String::new()
            }
        };
        let mut env: BTreeMap<String, String> = stack
            .iter()
            .flat_map(|st| st.env.iter().map(|(k, v)| (k.clone(), v.0.clone())))
            .collect();
        for (k, v) in &s.env {
            env.insert(k.clone(), v.0.clone());
        }
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
        };
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
            ports,
            env,
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

    fn mount(&mut self, m: &Spanned<String>) -> Option<Mount> {
        let parts: Vec<&str> = m.get_ref().split(':').collect();
        let (src, target, ro) = match parts.as_slice() {
            [s, t] => (*s, *t, false),
            [s, t, "ro"] => (*s, *t, true),
            [s, t, "rw"] => (*s, *t, false),
            _ => {
                self.err_hint(
                    m.span(),
                    format!("`{}` is not a mount", m.get_ref()),
                    "write it like \"./init.sql:/docker-entrypoint-initdb.d/init.sql:ro\"",
                );
                return None;
            }
        };
        if !target.starts_with('/') {
            self.err(
                m.span(),
                format!("mount target `{target}` must be an absolute container path"),
            );
            return None;
        }
        let source =
            self.existing_path("mount source", &Spanned::new(m.span(), src.to_string()))?;
        Some(Mount {
            source,
            target: target.to_string(),
            read_only: ro,
        })
    }

    fn readiness(
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

    fn mock(&mut self, key: &Spanned<String>, m: &schema::MockDef) -> Option<Mock> {
        let name = key.get_ref().clone();
        let mut ok = self.check_name("mock", key);
        let port = match &m.port {
            Some(p) => match parse_host_port(&p.get_ref().0) {
                Ok(hp) => hp,
                Err(e) => {
                    self.err(p.span(), e);
                    ok = false;
                    HostPort::Auto
                }
            },
            None => HostPort::Auto,
        };
        let wiremock = m
            .wiremock
            .as_ref()
            .and_then(|p| self.existing_path("WireMock mappings", p));
        let pact = m
            .pact
            .as_ref()
            .and_then(|p| self.existing_path("Pact file", p));
        let openapi = m
            .openapi
            .as_ref()
            .and_then(|p| self.existing_path("OpenAPI spec", p));
        if m.wiremock.is_none() && m.pact.is_none() && m.openapi.is_none() && m.routes.is_empty() {
            self.err_hint(
                key.span(),
                format!("mock `{name}` has no stubs"),
                "add `wiremock`, `pact`, `openapi`, or [[mocks.NAME.routes]]",
            );
            ok = false;
        }
        let mut routes = Vec::new();
        for r in &m.routes {
            let def = r.get_ref();
            let method = def
                .method
                .clone()
                .unwrap_or_else(|| "ANY".into())
                .to_ascii_uppercase();
            if !method.chars().all(|c| c.is_ascii_alphabetic()) {
                self.err(r.span(), format!("`{method}` is not an HTTP method"));
                ok = false;
            }
            if !def.path.get_ref().starts_with('/') {
                self.err_hint(
                    def.path.span(),
                    "a route path must start with `/`",
                    "write it like \"/v1/health\"",
                );
                ok = false;
            }
            let status = def.status.unwrap_or(200);
            if !(100..=599).contains(&status) {
                self.err(r.span(), format!("status {status} is not an HTTP status"));
                ok = false;
            }
            if def.json.is_some() && def.body.is_some() {
                self.err_hint(
                    r.span(),
                    "a route has both `json` and `body`",
                    "keep one of them",
                );
                ok = false;
            }
            routes.push(Route {
                method,
                path: def.path.get_ref().clone(),
                status,
                json: def.json.clone(),
                body: def.body.clone(),
                headers: def.headers.clone(),
                query: def.query.clone(),
                delay_ms: def.delay_ms,
                priority: def.priority,
            });
        }
        ok.then_some(Mock {
            name,
            port,
            wiremock,
            pact,
            openapi,
            provider_state: m.provider_state.clone(),
            routes,
        })
    }

    /// Names across services and mocks, dependencies, cycles and ports.
    fn cross_checks(&mut self, raw: &RawManifest) {
        let service_names: BTreeSet<&str> = raw
            .services
            .iter()
            .map(|(k, _)| k.get_ref().as_str())
            .collect();
        let mock_names: BTreeSet<&str> = raw
            .mocks
            .iter()
            .map(|(k, _)| k.get_ref().as_str())
            .collect();
        for (k, _) in &raw.mocks {
            if service_names.contains(k.get_ref().as_str()) {
                self.err_hint(
                    k.span(),
                    format!("`{}` is both a service and a mock", k.get_ref()),
                    "containers reach both by name, so give them different names",
                );
            }
        }
        let mut edges = Vec::new();
        for (k, s) in &raw.services {
            for d in &s.depends_on {
                let dep = d.get_ref().as_str();
                if dep == k.get_ref() {
                    self.err(d.span(), format!("service `{dep}` depends on itself"));
                } else if service_names.contains(dep) {
                    edges.push(Edge {
                        from: k.get_ref(),
                        to: dep,
                        span: d.span(),
                    });
                } else if !mock_names.contains(dep) {
                    let all = service_names
                        .iter()
                        .chain(mock_names.iter())
                        .copied()
                        .filter(|n| *n != k.get_ref());
                    let hint = match did_you_mean(dep, all) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => "depends_on names other services or mocks of this file".to_string(),
                    };
                    self.err_hint(
                        d.span(),
                        format!(
                            "service `{}` depends on `{dep}`, which does not exist",
                            k.get_ref()
                        ),
                        hint,
                    );
                }
            }
        }
        let nodes: Vec<&str> = service_names.iter().copied().collect();
        for (cycle, span) in find_cycles(&nodes, &edges) {
            self.err_hint(
                span,
                format!("dependency cycle: {}", cycle.join(" -> ")),
                "remove one of these depends_on entries",
            );
        }
        let mut claims = Vec::new();
        for (k, s) in &raw.services {
            for p in s.ports.iter().flatten() {
                if let Ok(m) = parse_port_spec(&p.get_ref().0) {
                    claims.push(PortClaim {
                        owner: k.get_ref(),
                        port: m.host,
                        protocol: m.protocol,
                        span: p.span(),
                    });
                }
            }
            if s.ports.is_none() {
                let stack_ports = s
                    .stack
                    .as_ref()
                    .and_then(|st| self.stacks.get(st.get_ref()))
                    .map(|st| st.def.ports.clone())
                    .unwrap_or_default();
                let span = s.stack.as_ref().map_or(k.span(), |st| st.span());
                for p in stack_ports {
                    if let Ok(m) = parse_port_spec(&p.0) {
                        claims.push(PortClaim {
                            owner: k.get_ref(),
                            port: m.host,
                            protocol: m.protocol,
                            span: span.clone(),
                        });
                    }
                }
            }
        }
        for (k, m) in &raw.mocks {
            if let Some(p) = &m.port {
                if let Ok(hp) = parse_host_port(&p.get_ref().0) {
                    claims.push(PortClaim {
                        owner: k.get_ref(),
                        port: hp,
                        protocol: Protocol::Tcp,
                        span: p.span(),
                    });
                }
            }
        }
        for (span, port, first, second) in port_clashes(&claims) {
            self.err_hint(
                span,
                format!("host port {port} is wanted by both `{first}` and `{second}`"),
                format!("give `{second}` another host port, e.g. \"auto:{port}\" to let devenv pick a free one"),
            );
        }
    }

    fn config(&mut self, c: &schema::ConfigSection) -> Config {
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
            if out_path.is_absolute()
                || out_path
                    .components()
                    .any(|c| matches!(c, Component::ParentDir))
            {
                self.err_hint(
                    def.output.span(),
                    format!("output `{out}` is outside the repository"),
                    "outputs are paths inside the repository, like \".env\" or \"config/app.yaml\"",
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

    fn secret(&mut self, key: &Spanned<String>, s: &schema::SecretDef) -> Option<Secret> {
        let name = key.get_ref();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            self.err_hint(
                key.span(),
                format!("`{name}` is not a valid secret name"),
                "secret names are like environment variables: letters, digits and `_`",
            );
            return None;
        }
        if s.env.is_none() && s.command.is_none() && s.prompt.is_none() {
            self.err_hint(
                key.span(),
                format!("secret `{name}` has no source"),
                "give it `env`, `command` or `prompt`",
            );
            return None;
        }
        Some(Secret {
            name: name.clone(),
            env: s.env.clone(),
            command: s.command.as_ref().map(|c| c.0.clone()),
            prompt: s.prompt.clone(),
            optional: s.optional,
        })
    }

    fn metrics(&mut self, m: &schema::MetricsSection) -> Metrics {
        if let Some(e) = &m.endpoint {
            let v = e.get_ref();
            if !(v.starts_with("http://") || v.starts_with("https://"))
                || reqwest::Url::parse(v).is_err()
            {
                self.err_hint(
                    e.span(),
                    format!("`{v}` is not an http(s) URL"),
                    "write it like \"http://pushgateway.internal:9091\"",
                );
            }
        }
        let defaults = Metrics::default();
        Metrics {
            endpoint: m.endpoint.as_ref().map(|e| e.get_ref().clone()),
            format: m.format.unwrap_or_default(),
            auto_report: m.auto_report.unwrap_or(m.endpoint.is_some()),
            timeout: m.timeout.map_or(defaults.timeout, |t| t.0),
            identity: m.identity.unwrap_or_default(),
            job: m.job.clone().unwrap_or(defaults.job),
        }
    }
}

/// A readiness definition checked against the container ports it may probe.
pub fn readiness_of(def: &ReadyDef, ports: &[u16]) -> Result<Readiness, (String, String)> {
    let kinds = [
        def.tcp.is_some(),
        def.http.is_some(),
        def.exec.is_some(),
        def.log.is_some(),
        def.healthcheck == Some(true),
    ];
    let n = kinds.iter().filter(|k| **k).count();
    let choose =
        "use exactly one of tcp, http (+ port), exec, log or healthcheck = true".to_string();
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
    } else {
        Probe::Healthcheck
    };
    Ok(Readiness {
        probe,
        timeout: def.timeout.map_or(Duration::from_secs(60), |t| t.0),
    })
}

#[cfg(test)]
mod tests {
    use super::sanitise_project_name;

    #[test]
    fn project_names_are_sanitised() {
        assert_eq!(
            sanitise_project_name("My Service (copy)"),
            "my-service-copy"
        );
        assert_eq!(sanitise_project_name("..."), "project");
        assert_eq!(sanitise_project_name("checkout_api"), "checkout_api");
    }
}
