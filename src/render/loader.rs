//! Where `{% include %}` and `{% import %}` find templates: below the
//! repository root, like `minijinja::path_loader`, but read through
//! `fsread` because an included template is repository input too (a
//! symlink to `/dev/zero` or a FIFO must be refused, not read forever).

use std::path::{Path, PathBuf};

use minijinja::{Error, ErrorKind};

use crate::fsread;

/// The loader for templates below `root`.
pub fn below(
    root: &Path,
) -> impl Fn(&str) -> Result<Option<String>, Error> + Send + Sync + 'static {
    let root = root.to_path_buf();
    move |name| {
        let Some(path) = safe_join(&root, name) else {
            return Ok(None);
        };
        match fsread::read_limited(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("cannot read the template {name}: {e}"),
            )),
        }
    }
}

/// `root/name`, or `None` when a segment is hidden or climbs out (as
/// minijinja's own path loader decides).
fn safe_join(root: &Path, name: &str) -> Option<PathBuf> {
    let mut out = root.to_path_buf();
    for segment in name.split('/') {
        if segment.starts_with('.') || segment.contains('\\') {
            return None;
        }
        out.push(segment);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_below_the_root() {
        let root = Path::new("/r");
        assert_eq!(safe_join(root, "a/b.j2"), Some(PathBuf::from("/r/a/b.j2")));
        assert_eq!(safe_join(root, "../x"), None);
        assert_eq!(safe_join(root, "a/.hidden"), None);
    }

    #[cfg(unix)]
    #[test]
    fn an_include_that_is_a_device_is_an_error_not_a_read() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.j2")).unwrap();
        let load = below(dir.path());
        let e = load("zero.j2").unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        assert_eq!(load("missing.j2").unwrap(), None);
    }
}
