//! Templates reading other templates (`{% include %}`, `{% import %}`,
//! `{% from %}`, `{% extends %}`) stay inside the repository, like every
//! path a repository names (`crate::confine`).
//!
//! Two halves: `scan` finds the literal names before any phase runs, so an
//! include that climbs out is exit 2 with its line before anything changes;
//! `loader` is minijinja's loader and applies the same rule when a template
//! is actually read, so names built at render time and symlinks swapped
//! after the check are refused too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use minijinja::{Error, ErrorKind};
use regex::Regex;

use super::engine::Source;
use crate::confine::{self, OpenError};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// Starts the detail of a loader error that the rule refused, so the
/// render diagnostic can tell it from other invalid operations.
pub const REFUSED: &str = "refused: ";

pub const HINT: &str =
    "templates include files inside the repository, by their path from its root, like \"templates/_db.j2\"";

/// minijinja's loader: names are paths from the repository root, read
/// through `confine`.
pub fn loader(root: &Path) -> impl Fn(&str) -> Result<Option<String>, Error> + Send + Sync {
    let root = root.to_path_buf();
    move |name| match confine::read_to_string(&root, Path::new(name)) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(OpenError::Escape(e)) => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{REFUSED}template {e}"),
        )),
        Err(OpenError::Limit(e)) => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot read template `{name}`: {e}"),
        )),
        Err(OpenError::Io(e)) => {
            Err(Error::new(ErrorKind::InvalidOperation, "could not read template").with_source(e))
        }
    }
}

/// Every literal include name in `src` and, recursively, in the templates it
/// includes, checked against the rule. Missing files are left to the render
/// (`ignore missing` makes them legal).
pub fn scan(root: &Path, src: &Source) -> Diagnostics {
    let tag = Regex::new(r#"(?s)\{%[-+]?\s*(?:include|import|extends|from)\b(.*?)%\}"#)
        .expect("a valid regex");
    let literal = Regex::new(r#""([^"]*)"|'([^']*)'"#).expect("a valid regex");
    let mut problems = Diagnostics::default();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut queue = vec![src.clone()];
    while let Some(cur) = queue.pop() {
        for t in tag.captures_iter(&cur.text) {
            let body = t.get(1).expect("the tag has a body");
            for l in literal.captures_iter(body.as_str()) {
                let m = l.get(1).or_else(|| l.get(2)).expect("one side matched");
                let name = m.as_str();
                if name.is_empty() {
                    continue;
                }
                let at = body.start() + m.start();
                match confine::confine(root, Path::new(name)) {
                    Err(e) => problems.push(
                        Diagnostic::at(
                            &cur.path,
                            &cur.text,
                            at..at + name.len(),
                            format!("template {e}"),
                        )
                        .with_hint(HINT),
                    ),
                    Ok(real) if real.is_file() && seen.insert(real.clone()) => {
                        if let Ok(text) = confine::read_to_string(root, Path::new(name)) {
                            queue.push(Source {
                                name: name.to_string(),
                                path: root.join(name),
                                text,
                            });
                        }
                    }
                    Ok(_) => {}
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_include_that_is_a_fifo_is_an_error_not_a_read_that_waits() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.j2");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let load = loader(dir.path());
        let e = load("pipe.j2").unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert_eq!(load("missing.j2").unwrap(), None);
        // Outside the repository it is refused before anything is opened.
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.j2")).unwrap();
        assert!(load("zero.j2").is_err());
    }

    fn source(root: &Path, name: &str, text: &str) -> Source {
        std::fs::write(root.join(name), text).unwrap();
        Source {
            name: name.into(),
            path: root.join(name),
            text: text.into(),
        }
    }

    #[test]
    fn literal_includes_that_leave_are_found_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let src = source(
            root,
            "app.j2",
            "ok\n{% include '../../etc/passwd' %}\n{%- from \"/etc/x\" import y %}\n",
        );
        let d = scan(root, &src);
        assert_eq!(d.len(), 2, "{d}");
        assert_eq!((d.0[0].line, d.0[0].column), (2, 13));
        assert!(d.0[0].message.contains("leaves the repository"), "{d}");
        assert!(
            d.0[1].message.contains("`/etc/x` is an absolute path"),
            "{d}"
        );
    }

    #[test]
    fn included_templates_are_scanned_too_and_fine_ones_pass() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        source(
            root,
            "_inner.j2",
            "{% include '_inner.j2' ignore missing %}{% extends '../x' %}",
        );
        let src = source(root, "app.j2", "{% include ['_inner.j2', 'nope.j2'] %}");
        let d = scan(root, &src);
        assert_eq!(d.len(), 1, "{d}");
        assert!(d.0[0].file.ends_with("_inner.j2"));
        let fine = source(root, "fine.j2", "{% include 'nope.j2' ignore missing %}");
        assert!(scan(root, &fine).is_empty());
    }

    #[test]
    fn the_loader_refuses_what_leaves_and_reads_what_stays() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a.j2"), "A").unwrap();
        std::fs::write(dir.path().join("secret"), "S").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("s.j2")).unwrap();
        let load = loader(&root);
        assert_eq!(load("a.j2").unwrap().as_deref(), Some("A"));
        assert_eq!(load("missing.j2").unwrap(), None);
        let e = load("s.j2").unwrap_err();
        assert!(e.detail().unwrap().starts_with(REFUSED), "{e}");
        assert!(e.detail().unwrap().contains("secret"), "{e}");
    }
}
