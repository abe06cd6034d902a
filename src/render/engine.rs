//! minijinja set up for config files: strict undefined values, no HTML
//! escaping, trailing newlines kept, includes resolved from the repository
//! root, and errors turned into `Diagnostic`s that name the template, the
//! line and the missing variable.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, Value as MjValue};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;

use super::redact::{Redactor, MASK};
use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics};

/// Names the template context defines besides the values.
pub const RESERVED: [&str; 7] = [
    "project",
    "environment",
    "env",
    "services",
    "mocks",
    "secrets",
    "values",
];

/// A template read from disk, named by its path relative to the repository.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub path: PathBuf,
    pub text: String,
}

pub fn environment(root: &Path) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Config formats (JSON, YAML, TOML, .env) spell booleans in lower case,
    // not Python's `True`.
    env.set_formatter(|out, state, value| match value.kind() {
        minijinja::value::ValueKind::Bool => {
            let text = if value.is_true() { "true" } else { "false" };
            out.write_str(text).map_err(minijinja::Error::from)
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.set_loader(super::loader::below(root));
    super::filters::register(&mut env);
    env
}

/// Syntax check only: parses `src` without rendering it.
pub fn parse(env: &Environment<'static>, src: &Source) -> Result<(), Diagnostics> {
    env.template_from_named_str(&src.name, &src.text)
        .map(|_| ())
        .map_err(|e| syntax_diagnostic(&e, src).into())
}

/// Compiles `src` into `env` under its name, for `secret_use` and `render`.
pub fn add(env: &mut Environment<'static>, src: &Source) -> Result<(), Diagnostics> {
    env.add_template_owned(src.name.clone(), src.text.clone())
        .map_err(|e| syntax_diagnostic(&e, src).into())
}

/// Whether a template refers to `secrets` at all, and which names.
pub enum SecretUse {
    None,
    Names(BTreeSet<String>),
    /// `secrets[...]`, a loop over `secrets`, or an include we cannot see into.
    All,
}

pub fn secret_use(env: &Environment<'static>, src: &Source) -> SecretUse {
    let includes = ["include", "import", "extends", "from"].iter().any(|kw| {
        src.text.contains(&format!("{{% {kw}")) || src.text.contains(&format!("{{%- {kw}"))
    });
    if includes {
        return SecretUse::All;
    }
    // Listing a template's variables parses it again: skip that for the
    // many templates that never mention secrets.
    if !src.text.contains("secrets") {
        return SecretUse::None;
    }
    let Ok(tpl) = env.get_template(&src.name) else {
        return SecretUse::All;
    };
    let vars = tpl.undeclared_variables(true);
    let mut names = BTreeSet::new();
    for v in &vars {
        if v == "secrets" {
            return SecretUse::All;
        }
        if let Some(name) = v.strip_prefix("secrets.") {
            names.insert(name.split('.').next().unwrap_or(name).to_string());
        }
    }
    if names.is_empty() {
        SecretUse::None
    } else {
        SecretUse::Names(names)
    }
}

/// The context every template gets, built once per run.
pub struct Context {
    base: BTreeMap<String, MjValue>,
    /// The same names with secrets masked: what suggestions are computed from.
    shape: serde_json::Map<String, Value>,
    secrets: Arc<BTreeMap<String, String>>,
}

pub struct ContextInput<'a> {
    pub values: &'a serde_json::Map<String, Value>,
    pub project: Value,
    pub environment: &'a str,
    pub services: Value,
    pub mocks: Value,
    pub secrets: BTreeMap<String, String>,
}

impl Context {
    pub fn new(input: ContextInput<'_>) -> Self {
        let mut shape = input.values.clone();
        shape.insert("values".into(), Value::Object(input.values.clone()));
        shape.insert("project".into(), input.project);
        shape.insert("environment".into(), input.environment.into());
        shape.insert("env".into(), input.environment.into());
        shape.insert("services".into(), input.services);
        shape.insert("mocks".into(), input.mocks);
        let base: BTreeMap<String, MjValue> = shape
            .iter()
            .map(|(k, v)| (k.clone(), MjValue::from_serialize(v)))
            .collect();
        shape.insert(
            "secrets".into(),
            Value::Object(
                input
                    .secrets
                    .keys()
                    .map(|k| (k.clone(), Value::from(MASK)))
                    .collect(),
            ),
        );
        Context {
            base,
            shape,
            secrets: Arc::new(input.secrets),
        }
    }
}

/// A template's output, and whether rendering it read a secret.
#[derive(Debug, Clone)]
pub struct Output {
    pub text: String,
    pub used_secret: bool,
}

pub fn render(
    env: &Environment<'static>,
    src: &Source,
    cx: &Context,
    redactor: &Redactor,
) -> Result<Output, Diagnostics> {
    let tpl = env
        .get_template(&src.name)
        .map_err(|e| Diagnostics::from(syntax_diagnostic(&e, src)))?;
    let secrets = Arc::new(Secrets {
        values: cx.secrets.clone(),
        used: Mutex::new(false),
    });
    let mut ctx = cx.base.clone();
    ctx.insert("secrets".into(), MjValue::from_dyn_object(secrets.clone()));
    match tpl.render(MjValue::from(ctx)) {
        Ok(text) => Ok(Output {
            text,
            used_secret: *secrets.used.lock().expect("lock"),
        }),
        Err(e) => Err(render_diagnostic(env, &e, src, cx, redactor).into()),
    }
}

/// `secrets` in templates: records that it was read, so the output is
/// written 0600.
#[derive(Debug)]
struct Secrets {
    values: Arc<BTreeMap<String, String>>,
    used: Mutex<bool>,
}

impl Object for Secrets {
    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let v = self.values.get(key.as_str()?)?;
        *self.used.lock().expect("lock") = true;
        Some(MjValue::from(v.as_str()))
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        *self.used.lock().expect("lock") = true;
        Enumerator::Values(
            self.values
                .keys()
                .map(|k| MjValue::from(k.as_str()))
                .collect(),
        )
    }
}

fn syntax_diagnostic(e: &minijinja::Error, src: &Source) -> Diagnostic {
    let message = format!(
        "template syntax error: {}",
        e.detail().unwrap_or("invalid syntax")
    );
    locate(e, src, message)
        .with_hint("see https://docs.rs/minijinja/latest/minijinja/syntax/ for the template syntax")
}

fn locate(e: &minijinja::Error, src: &Source, message: String) -> Diagnostic {
    match (e.range(), e.line()) {
        (Some(r), _) if r.end <= src.text.len() => Diagnostic::at(&src.path, &src.text, r, message),
        (_, Some(line)) => Diagnostic::at_line_col(&src.path, &src.text, line, 1, message),
        _ => Diagnostic::file(&src.path, message),
    }
}

/// The innermost error carrying a location: an error inside an included
/// template is reported where it happened.
fn innermost(e: &minijinja::Error) -> &minijinja::Error {
    let mut cur = e;
    while let Some(next) =
        std::error::Error::source(cur).and_then(|s| s.downcast_ref::<minijinja::Error>())
    {
        if next.line().is_none() {
            break;
        }
        cur = next;
    }
    cur
}

fn render_diagnostic(
    env: &Environment<'static>,
    outer: &minijinja::Error,
    top: &Source,
    cx: &Context,
    redactor: &Redactor,
) -> Diagnostic {
    let e = innermost(outer);
    // Errors inside an included template point at that file.
    let included;
    let src = match e.name() {
        Some(n) if n != top.name => match crate::fsread::read_limited(&top_root(top).join(n)) {
            Ok(text) => {
                included = Source {
                    name: n.to_string(),
                    path: top_root(top).join(n),
                    text,
                };
                &included
            }
            Err(_) => top,
        },
        _ => top,
    };
    let d = match e.kind() {
        ErrorKind::UndefinedError => undefined(env, e, src, cx),
        ErrorKind::SyntaxError => syntax_diagnostic(e, src),
        ErrorKind::TemplateNotFound => locate(
            e,
            src,
            format!("template not found: {}", e.detail().unwrap_or("")),
        )
        .with_hint("include paths are relative to the repository root, like \"templates/_db.j2\""),
        ErrorKind::UnknownFilter => locate(
            e,
            src,
            e.detail().unwrap_or("unknown filter").to_string(),
        )
        .with_hint("devenv adds tojson, toyaml, b64encode, b64decode and quote to minijinja's built-in filters (default, upper, indent, ...)"),
        kind => locate(
            e,
            src,
            match e.detail() {
                Some(d) => format!("{kind}: {d}"),
                None => kind.to_string(),
            },
        ),
    };
    let mut d = d;
    d.message = redactor.redact(&d.message).into_owned();
    d.hint = d.hint.map(|h| redactor.redact(&h).into_owned());
    d
}

/// The repository root a template's name is relative to.
fn top_root(src: &Source) -> PathBuf {
    let mut root = src.path.clone();
    for _ in Path::new(&src.name).components() {
        root.pop();
    }
    root
}

/// Names the variable that was undefined, the first part of it that does not
/// exist, and what does exist there.
fn undefined(
    env: &Environment<'static>,
    e: &minijinja::Error,
    src: &Source,
    cx: &Context,
) -> Diagnostic {
    let line_text = e
        .line()
        .and_then(|l| src.text.lines().nth(l.saturating_sub(1)))
        .unwrap_or("");
    let candidates: Vec<String> = env
        .template_from_named_str(&src.name, &src.text)
        .map(|t| t.undeclared_variables(true).into_iter().collect())
        .unwrap_or_default();
    let mut missing: Vec<(Vec<String>, usize)> = candidates
        .iter()
        .map(|c| c.split('.').map(str::to_string).collect::<Vec<_>>())
        .filter_map(|p| missing_at(&cx.shape, &p).map(|i| (p, i)))
        .collect();
    // Prefer what is on the failing line.
    missing.sort_by_key(|(p, _)| !line_text.contains(p[0].as_str()));
    let from_span = e
        .range()
        .map(|r| expand_path(&src.text, r.start, r.end))
        .filter(|p| !p.is_empty());
    let (path, at) = match (missing.into_iter().next(), from_span) {
        (Some(m), _) => m,
        (None, Some(p)) => {
            let at = missing_at(&cx.shape, &p).unwrap_or(p.len() - 1);
            (p, at)
        }
        (None, None) => {
            return locate(e, src, "undefined value".into()).with_hint(
                "check the names in this expression; `x is defined` or `x | default(...)` handle optional ones",
            )
        }
    };
    let full = path.join(".");
    let parent = &path[..at];
    let wanted = &path[at];
    let here: Vec<String> = keys_at(&cx.shape, parent);
    let message = if at == 0 {
        format!("undefined variable `{full}`")
    } else {
        format!(
            "undefined variable `{full}`: `{}` has no `{wanted}`",
            parent.join(".")
        )
    };
    let mut hint = match did_you_mean(wanted, here.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{}`? ", join_key(parent, s)),
        None => String::new(),
    };
    hint.push_str(&available(&here));
    if path[0] == "services" || path[0] == "mocks" {
        if at == 1 {
            hint.push_str(&format!(
                "; connection details come from what `devenv up` started: run `devenv up --only services,mocks` first if `{wanted}` is declared"
            ));
        }
    } else if path[0] == "secrets" && at == 1 {
        hint.push_str(&format!(
            "; declare it as [secrets.{wanted}] in devenv.toml, or use `secrets.{wanted} | default(\"\")` if it is optional"
        ));
    } else if path[0] == "env" && at == 1 {
        hint = "`env` is the environment's name; the process environment is not exposed to templates: pass values with DEVENV_VALUE_<KEY> or --set KEY=VALUE".to_string();
    } else if at == 0 {
        hint.push_str(&format!(
            "; set it in [config.values], devenv.local.toml, DEVENV_VALUE_{} or --set {full}=...",
            full.to_ascii_uppercase().replace('.', "__")
        ));
    }
    locate(e, src, message).with_hint(hint)
}

fn join_key(parent: &[String], last: &str) -> String {
    let mut p = parent.to_vec();
    p.push(last.to_string());
    p.join(".")
}

fn available(names: &[String]) -> String {
    const SHOWN: usize = 12;
    if names.is_empty() {
        return "nothing is defined there".into();
    }
    let mut s = format!(
        "available: {}",
        names
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

/// The index of the first segment of `path` that does not exist, if any.
fn missing_at(shape: &serde_json::Map<String, Value>, path: &[String]) -> Option<usize> {
    let mut cur = shape;
    for (i, seg) in path.iter().enumerate() {
        match cur.get(seg) {
            None => return Some(i),
            Some(Value::Object(m)) => cur = m,
            // Attribute access on a scalar (or into a list) we cannot judge.
            Some(_) => {
                return if i + 1 < path.len() {
                    Some(i + 1)
                } else {
                    None
                }
            }
        }
    }
    None
}

fn keys_at(shape: &serde_json::Map<String, Value>, parent: &[String]) -> Vec<String> {
    let mut cur = shape;
    for seg in parent {
        match cur.get(seg) {
            Some(Value::Object(m)) => cur = m,
            _ => return Vec::new(),
        }
    }
    cur.keys().cloned().collect()
}

/// A dotted path around a span: the span widened to the whole
/// `a.b["c"].d` expression it is part of.
fn expand_path(text: &str, start: usize, end: usize) -> Vec<String> {
    let b = text.as_bytes();
    let is_path = |c: u8| c.is_ascii_alphanumeric() || b"_.[]'\"".contains(&c);
    let mut s = start.min(b.len());
    while s > 0 && is_path(b[s - 1]) {
        s -= 1;
    }
    let mut e = end.min(b.len());
    while e < b.len() && is_path(b[e]) {
        e += 1;
    }
    text[s..e]
        .replace("['", ".")
        .replace("[\"", ".")
        .replace(['\'', '"', ']'], "")
        .split(['.', '['])
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests;
