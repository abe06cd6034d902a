//! `[mocks]`: ports, stub sources and inline routes.

use super::*;

impl Resolver<'_> {
    pub(super) fn mock(&mut self, key: &Spanned<String>, m: &schema::MockDef) -> Option<Mock> {
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
        let recording = self.recording == Some(name.as_str());
        let wiremock = self.mock_wiremock(&name, m, recording);
        let pact = m
            .pact
            .as_ref()
            .and_then(|p| self.existing_path("Pact file", p));
        let openapi = m
            .openapi
            .as_ref()
            .and_then(|p| self.existing_path("OpenAPI spec", p));
        let mountebank = m
            .mountebank
            .as_ref()
            .and_then(|p| self.existing_path("mountebank imposter file", p));
        let declared = m.wiremock.is_some()
            || m.pact.is_some()
            || m.openapi.is_some()
            || m.mountebank.is_some();
        if !declared && wiremock.is_none() && m.routes.is_empty() && !recording {
            self.err_hint(
                key.span(),
                format!("mock `{name}` has no stubs"),
                format!(
                    "add `wiremock`, `pact`, `openapi`, `mountebank`, or [[mocks.NAME.routes]]; \
                     or record them from the real upstream into mocks/{name} with \
                     `devenv mock record {name} --upstream URL`"
                ),
            );
            ok = false;
        }
        let admin_prefix = match &m.admin_prefix {
            None => DEFAULT_ADMIN_PREFIX.to_string(),
            Some(p) => match admin_prefix_problem(p.get_ref()) {
                None => p.get_ref().clone(),
                Some(why) => {
                    self.err_hint(
                        p.span(),
                        format!("`admin_prefix` {why}"),
                        "write a path of one or more segments, like \"/__devenv\"",
                    );
                    ok = false;
                    DEFAULT_ADMIN_PREFIX.to_string()
                }
            },
        };
        if let Some(mb) = &m.mountebank {
            let others = [
                m.wiremock.is_some().then_some("`wiremock`"),
                m.pact.is_some().then_some("`pact`"),
                m.openapi.is_some().then_some("`openapi`"),
                (!m.routes.is_empty()).then_some("routes"),
            ];
            let others: Vec<&str> = others.into_iter().flatten().collect();
            if !others.is_empty() {
                self.err_hint(
                    mb.span(),
                    format!(
                        "a mountebank imposter answers every request of mock `{name}` itself, so it cannot share the mock with {}",
                        others.join(", ")
                    ),
                    "give the imposter a mock of its own, on its own port",
                );
                ok = false;
            }
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
            if let Some(d) = def
                .delay_ms
                .as_ref()
                .filter(|d| *d.get_ref() > schema::MAX_DELAY_MS)
            {
                self.err_hint(
                    d.span(),
                    format!("`delay_ms` of {} is too long", d.get_ref()),
                    format!("a delay goes up to {} ms (a day)", schema::MAX_DELAY_MS),
                );
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
                delay_ms: def.delay_ms.as_ref().map(|d| *d.get_ref()),
                priority: def.priority,
            });
        }
        ok.then_some(Mock {
            name,
            root: self.root.clone(),
            port,
            wiremock,
            pact,
            openapi,
            mountebank,
            provider_state: m.provider_state.clone(),
            admin_prefix,
            routes,
        })
    }
}

impl Resolver<'_> {
    /// The mock's WireMock root: the declared one (which must exist, unless
    /// this mock is being recorded into it), else `mocks/NAME` when that
    /// directory exists (a recording's default home) or is being recorded.
    fn mock_wiremock(
        &mut self,
        name: &str,
        m: &schema::MockDef,
        recording: bool,
    ) -> Option<PathBuf> {
        if let Some(p) = &m.wiremock {
            if recording {
                return self
                    .confined("WireMock mappings", p)
                    .map(|_| self.root.join(p.get_ref()));
            }
            return self.existing_path("WireMock mappings", p);
        }
        if m.pact.is_some() || m.openapi.is_some() || !m.routes.is_empty() {
            return None;
        }
        let default = Path::new("mocks").join(name);
        match crate::confine::confine(&self.root, &default) {
            Ok(real) if recording || real.is_dir() => Some(self.root.join(default)),
            _ => None,
        }
    }
}

/// Why `p` cannot be the admin API's prefix, if it cannot.
fn admin_prefix_problem(p: &str) -> Option<&'static str> {
    if !p.starts_with('/') {
        return Some("must start with `/`");
    }
    if p == "/" || p.ends_with('/') {
        return Some("must not end with `/` (the admin API cannot take every path)");
    }
    if p.contains("//") {
        return Some("must not hold an empty segment (`//`)");
    }
    if !p
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b))
    {
        return Some("may hold only letters, digits, `/`, `-`, `.`, `_` and `~`");
    }
    if p.split('/').any(|s| s == "." || s == "..") {
        return Some("must not hold `.` or `..` segments");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::admin_prefix_problem;

    #[test]
    fn admin_prefixes_are_plain_paths() {
        for ok in ["/__admin", "/__devenv", "/_/admin", "/x-y.z~"] {
            assert_eq!(admin_prefix_problem(ok), None, "{ok}");
        }
        for bad in [
            "", "__admin", "/", "/a/", "//a", "/a b", "/a?x", "/a/../b", "/é",
        ] {
            assert!(admin_prefix_problem(bad).is_some(), "{bad}");
        }
    }
}
