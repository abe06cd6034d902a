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
        let mountebank = m
            .mountebank
            .as_ref()
            .and_then(|p| self.existing_path("mountebank imposter file", p));
        if m.wiremock.is_none()
            && m.pact.is_none()
            && m.openapi.is_none()
            && m.mountebank.is_none()
            && m.routes.is_empty()
        {
            self.err_hint(
                key.span(),
                format!("mock `{name}` has no stubs"),
                "add `wiremock`, `pact`, `openapi`, `mountebank`, or [[mocks.NAME.routes]]",
            );
            ok = false;
        }
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
            routes,
        })
    }
}
