//! mountebank imposter files (`mountebank = "file.json"` in devenv.toml):
//! one http imposter, or `{"imposters": [...]}` of which the mock serves
//! the one whose `port` is the mock's port, else the only http one.
//!
//! The imposter runs as mountebank 2.9.1 runs it: its predicates, `is`
//! responses in turn with `repeat`, the `wait` and `copy` behaviours, the
//! `defaultResponse`, `allowCORS`. What would run code (`inject`,
//! `decorate`, `shellTransform`, a `wait` function), `proxy`, `lookup`
//! and other protocols are refused with file:line:column, so nothing in a
//! file is silently dropped.

mod imposter;
mod js;
mod json;
mod jsonpath;
mod load;
mod load_responses;
mod predicates;
mod responses;
mod xpath;

use std::path::Path;

pub use imposter::Imposter;

use super::{read, Ctx};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::manifest::{HostPort, Mock};
use crate::mocks::json_pos::Seg;
use js::Js;

/// The imposter a mock serves, if it has a `mountebank` file.
pub fn load_for(mock: &Mock) -> Result<Option<Imposter>, Diagnostics> {
    let Some(file) = &mock.mountebank else {
        return Ok(None);
    };
    let port = match mock.port {
        HostPort::Fixed(p) => Some(p),
        HostPort::Auto => None,
    };
    let src = read(&mock.root, file)?;
    load_text(file, &src, port).map(Some)
}

/// Parses an imposter file; `port` is the mock's declared port, which picks
/// the imposter out of several.
pub fn load_text(file: &Path, src: &str, port: Option<u16>) -> Result<Imposter, Diagnostics> {
    let doc = json::parse(src).map_err(|e| {
        let end = (e.at + 1).min(src.len());
        let mut d = Diagnostic::at(file, src, e.at..end.max(e.at), format!("invalid JSON: {}", e.message));
        if src.contains("<%") {
            d = d.with_hint(
                "this looks like an EJS template (mb --configfile renders those): render it with `mb save` and point `mountebank` at the JSON",
            );
        }
        Diagnostics::from(d)
    })?;
    let mut ctx = Ctx::new(file, src);
    let (imp, at) = match doc.get("imposters") {
        Js::Undef => (doc.clone(), Vec::new()),
        Js::Arr(list) => match choose(&list, port, &mut ctx) {
            Some(i) => (
                list[i].clone(),
                vec![Seg::Key("imposters".into()), Seg::Index(i)],
            ),
            None => return Err(Diagnostics(ctx.problems)),
        },
        _ => {
            ctx.err(
                &[Seg::Key("imposters".into())],
                "`imposters` must be an array of imposters",
            );
            return Err(Diagnostics(ctx.problems));
        }
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let imposter = load::imposter(&imp, &at, &name, &mut ctx);
    match imposter {
        Some(i) if ctx.problems.is_empty() => Ok(i),
        _ => Err(Diagnostics(ctx.problems)),
    }
}

fn protocol(v: &Js) -> String {
    v.get("protocol").to_js_string()
}

fn choose(list: &[Js], port: Option<u16>, ctx: &mut Ctx<'_>) -> Option<usize> {
    let at = |i: usize| vec![Seg::Key("imposters".into()), Seg::Index(i)];
    if let Some(p) = port {
        if let Some(i) = list
            .iter()
            .position(|v| v.get("port").to_number() == f64::from(p))
        {
            return Some(i);
        }
    }
    let http: Vec<usize> = (0..list.len())
        .filter(|i| protocol(&list[*i]) == "http")
        .collect();
    match http.as_slice() {
        [one] => Some(*one),
        [] => {
            let seen: Vec<String> = list.iter().map(protocol).collect();
            ctx.err_hint(
                &[Seg::Key("imposters".into())],
                format!("no http imposter here (protocols: {})", seen.join(", ")),
                "devenv mocks speak plain http: add an http imposter",
            );
            None
        }
        many => {
            let ports: Vec<String> = many
                .iter()
                .map(|i| list[*i].get("port").to_js_string())
                .collect();
            ctx.err_hint(
                &at(many[0]),
                format!(
                    "{} http imposters (ports {}) and none on the mock's port{}",
                    many.len(),
                    ports.join(", "),
                    port.map(|p| format!(" {p}")).unwrap_or_default()
                ),
                "set the mock's `port` in devenv.toml to the imposter's port, or keep one imposter per file",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests;
