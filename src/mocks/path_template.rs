//! A path with `{name}` parameters (`/v1/items/{id}`), as WireMock's
//! `urlPathTemplate` and OpenAPI paths write it, and how a request path
//! fits it.
//!
//! Its own file because both the stub model (`UrlMatch::Template`) and
//! response templating (`{{request.path.id}}`) use it, and `stub` imports
//! `template`: neither has to import the other to reach it.

#[derive(Debug, Clone)]
pub struct PathTemplate {
    pub raw: String,
    /// Literal segments, or `Err(name)` for a parameter.
    pub segments: Vec<Result<String, String>>,
}

impl PathTemplate {
    pub fn parse(raw: &str) -> PathTemplate {
        let segments = raw
            .trim_start_matches('/')
            .split('/')
            .map(|s| {
                if s.starts_with('{') && s.ends_with('}') && s.len() > 2 {
                    Err(s[1..s.len() - 1].to_string())
                } else {
                    Ok(s.to_string())
                }
            })
            .collect();
        PathTemplate {
            raw: raw.to_string(),
            segments,
        }
    }

    /// The parameters' values when `path` fits the template.
    pub fn captures<'p>(&self, path: &'p str) -> Option<Vec<(&str, &'p str)>> {
        let mut out = Vec::new();
        let mut parts = path.trim_start_matches('/').split('/');
        for seg in &self.segments {
            let p = parts.next()?;
            match seg {
                Ok(lit) if lit == p => {}
                Ok(_) => return None,
                Err(name) if !p.is_empty() => out.push((name.as_str(), p)),
                Err(_) => return None,
            }
        }
        parts.next().is_none().then_some(out)
    }
}
