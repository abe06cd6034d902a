//! Stub sources: inline routes, WireMock mappings, Pact files, OpenAPI
//! specs. Each turns its files into compiled `Stub`s or reports every
//! problem with file and line:column.

mod inline;
mod json_lenient;
pub mod mountebank;
pub mod openapi;
mod openapi_order;
mod openapi_sample;
mod openapi_scalar;
mod openapi_stubs;
pub mod pact;
pub mod wiremock;
mod wiremock_keys;
mod wiremock_matchers;
mod wiremock_response;
mod wiremock_webhook;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::json_pos::{self, Seg};
use super::stub::Stub;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::manifest::Mock;

/// Every stub of one mock, in load order (sequence numbers from 0).
pub fn load(mock: &Mock) -> Result<Vec<Stub>, Diagnostics> {
    let mut stubs = Vec::new();
    let mut problems = Diagnostics::default();
    stubs.extend(inline::load(mock));
    let root = mock.root.as_path();
    if let Some(p) = &mock.wiremock {
        match wiremock::load_path(root, p) {
            Ok(s) => stubs.extend(s),
            Err(d) => problems.extend(d),
        }
    }
    if let Some(p) = &mock.pact {
        match pact::load_path(root, p) {
            Ok(s) => stubs.extend(s),
            Err(d) => problems.extend(d),
        }
    }
    if let Some(p) = &mock.openapi {
        match openapi::load_path(root, p, &mock.admin_prefix) {
            Ok(c) => stubs.extend(c.stubs),
            Err(d) => problems.extend(d),
        }
    }
    for (i, s) in stubs.iter_mut().enumerate() {
        s.seq = i as u64;
    }
    problems.into_result(stubs)
}

/// What a mock's files do that devenv serves differently from what they
/// say (an OpenAPI path under the admin API's prefix): warnings, with the
/// file's line and column. Files that do not load give none here; `load`
/// reports them.
pub fn warnings(mock: &Mock) -> Vec<Diagnostic> {
    mock.openapi
        .as_ref()
        .and_then(|p| openapi::load_path(&mock.root, p, &mock.admin_prefix).ok())
        .map(|c| c.warnings)
        .unwrap_or_default()
}

/// The files a mock's stubs come from, with their modification times, so
/// the server can tell when to reload.
pub fn fingerprint(mock: &Mock) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for p in [&mock.wiremock, &mock.pact, &mock.openapi, &mock.mountebank]
        .into_iter()
        .flatten()
    {
        walk(p, &mut out, &mut seen);
    }
    out
}

fn walk(p: &Path, out: &mut Vec<(PathBuf, Option<SystemTime>, u64)>, seen: &mut HashSet<PathBuf>) {
    let Ok(meta) = std::fs::metadata(p) else {
        out.push((p.to_path_buf(), None, 0));
        return;
    };
    if meta.is_dir() {
        // A symlink back up the tree would make this walk endless.
        if !first_visit(p, seen) {
            return;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        out.push((p.to_path_buf(), meta.modified().ok(), 0));
        for e in entries {
            walk(&e, out, seen);
        }
    } else {
        out.push((p.to_path_buf(), meta.modified().ok(), meta.len()));
    }
}

/// Whether the directory `d` (by its real path) has not been walked yet.
fn first_visit(d: &Path, seen: &mut HashSet<PathBuf>) -> bool {
    std::fs::canonicalize(d).is_ok_and(|real| seen.insert(real))
}

/// Problems found in one parsed file, pinned to pointers into its text.
pub struct Ctx<'a> {
    pub file: &'a Path,
    pub src: &'a str,
    pub problems: Vec<Diagnostic>,
    /// The strict JSON that was parsed, when it differs from `src`
    /// (a WireMock mapping with comments).
    parsed: Option<&'a json_lenient::Lenient<'a>>,
    /// An array of many stubs and its elements' spans, so `raw_value`
    /// looks only inside one stub rather than scanning from the top.
    elements: Option<(Vec<Seg>, Vec<std::ops::Range<usize>>)>,
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a Path, src: &'a str) -> Self {
        Ctx {
            file,
            src,
            problems: Vec::new(),
            parsed: None,
            elements: None,
        }
    }

    /// For text parsed through `Lenient`: pointers are found in the parsed
    /// text and reported at their place in `src`.
    fn lenient(file: &'a Path, src: &'a str, parsed: &'a json_lenient::Lenient<'a>) -> Self {
        Ctx {
            parsed: Some(parsed),
            ..Ctx::new(file, src)
        }
    }

    /// The text of the value at `at`, as parsed (comments blanked out).
    pub fn raw_value(&self, at: &[Seg]) -> Option<&str> {
        let text: &str = self.parsed.map_or(self.src, |p| &p.text);
        if let Some((prefix, spans)) = &self.elements {
            if let (true, Some(Seg::Index(i))) = (at.starts_with(prefix), at.get(prefix.len())) {
                let span = spans.get(*i)?.clone();
                let inner = text.get(span.clone())?;
                let r = json_pos::locate_value(inner, &at[prefix.len() + 1..])?;
                return text.get(span.start + r.start..span.start + r.end);
            }
        }
        json_pos::locate_value(text, at).and_then(|r| text.get(r))
    }

    /// Indexes the array at `prefix` (stubs) once, for `raw_value`.
    pub fn index_elements(&mut self, prefix: &[Seg]) {
        let text: &str = self.parsed.map_or(self.src, |p| &p.text);
        self.elements = json_pos::elements(text, prefix).map(|e| (prefix.to_vec(), e));
    }

    pub fn err(&mut self, at: &[Seg], message: impl Into<String>) {
        self.push(at, message.into(), None);
    }

    pub fn err_hint(&mut self, at: &[Seg], message: impl Into<String>, hint: impl Into<String>) {
        self.push(at, message.into(), Some(hint.into()));
    }

    fn push(&mut self, at: &[Seg], message: String, hint: Option<String>) {
        // Point at the deepest part of the pointer the text still has.
        let text = self.parsed.map_or(self.src, |p| &p.text);
        let span = (0..=at.len())
            .rev()
            .find_map(|n| json_pos::locate(text, &at[..n]))
            .unwrap_or(0..0);
        let span = match self.parsed {
            Some(p) => p.span_to_source(span),
            None => span,
        };
        let mut d = Diagnostic::at(self.file, self.src, span, message);
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        self.problems.push(d);
    }
}

/// A JSON syntax error as a diagnostic at its line and column.
pub fn json_syntax(file: &Path, src: &str, e: &serde_json::Error) -> Diagnostic {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    Diagnostic::at_line_col(
        file,
        src,
        e.line(),
        e.column(),
        format!("invalid JSON: {msg}"),
    )
}

/// A stub file's text, read through `confine`: a mapping, pact or spec
/// (or a directory of them) symlinked out of the repository is refused
/// here, when the mock loads or reloads, as well as before `up`.
pub fn read(root: &Path, file: &Path) -> Result<String, Diagnostics> {
    crate::confine::read_to_string(root, file).map_err(|e| {
        let d = match e {
            crate::confine::OpenError::Escape(e) => {
                Diagnostic::file(file, format!("stub file {e}")).with_hint(ESCAPE_HINT)
            }
            e => Diagnostic::file(file, format!("cannot read the file: {e}")),
        };
        d.into()
    })
}

const ESCAPE_HINT: &str =
    "a mock serves only files inside the repository: put the file itself there";

/// Where `bodyFileName` looks (a WireMock root's `__files`), and the
/// repository every body file must stay inside.
#[derive(Debug, Clone, Default)]
pub struct BodyDir {
    pub root: PathBuf,
    pub dir: PathBuf,
}

impl BodyDir {
    /// A body file's bytes, confined; the error is the message to report.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        crate::confine::read(&self.root, &self.dir.join(name)).map_err(|e| match e {
            crate::confine::OpenError::Escape(e) => format!("body file {e}"),
            e if !e.is_not_found() => format!("body file `{name}` cannot be read: {e}"),
            _ => format!("body file `{name}` not found in {}", self.dir.display()),
        })
    }
}

/// A stable id (UUID-shaped) for a stub that does not carry one, so ids
/// survive reloads.
pub fn stable_id(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let x = hex::encode(&h[..16]);
    format!(
        "{}-{}-4{}-8{}-{}",
        &x[0..8],
        &x[8..12],
        &x[13..16],
        &x[17..20],
        &x[20..32]
    )
}

/// Files below `dir` with extension `ext`, sorted, recursively.
pub fn files_with_ext(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if !first_visit(&d, &mut seen) {
            continue;
        }
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "__files") {
                    stack.push(p);
                }
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| ext.contains(&x))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
