//! Bind mounts as written, `"SOURCE:TARGET[:ro|rw]"`: the one parser for
//! devenv.toml's `mounts` and the extra mounts of devenv.local.toml and the
//! user config, and the rules every layer shares (no mount of `/`).

use std::path::Path;

/// One mount as written, not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

pub const ROOT_REFUSED: &str =
    "mount source `/` is the whole file system: devenv never mounts it, from any file";
pub const ROOT_HINT: &str = "mount only the directory the container needs";
pub const OUTSIDE_HINT: &str = "devenv.toml mounts only paths inside the repository; a mount from elsewhere (like ~/.m2) goes in devenv.local.toml or your user config: [settings.mounts] SERVICE = [\"~/.m2:/root/.m2:ro\"]";

/// Splits `SOURCE:TARGET[:ro|rw]`; the error is (message, hint).
pub fn parse(text: &str) -> Result<MountSpec, (String, String)> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, read_only) = match parts.as_slice() {
        [s, t] => (*s, *t, false),
        [s, t, "ro"] => (*s, *t, true),
        [s, t, "rw"] => (*s, *t, false),
        _ => {
            return Err((
                format!("`{text}` is not a mount"),
                "write it like \"./init.sql:/docker-entrypoint-initdb.d/init.sql:ro\"".into(),
            ))
        }
    };
    if source.is_empty() {
        return Err((
            format!("mount `{text}` has no source"),
            "write it like \"./init.sql:/docker-entrypoint-initdb.d/init.sql:ro\"".into(),
        ));
    }
    if !target.starts_with('/') {
        return Err((
            format!("mount target `{target}` must be an absolute container path"),
            "write it like \"./data:/var/lib/data\"".into(),
        ));
    }
    Ok(MountSpec {
        source: source.to_string(),
        target: target.to_string(),
        read_only,
    })
}

/// Whether a mount source is the file system root, as written or where it
/// really points.
pub fn is_fs_root(written: &Path, resolved: Option<&Path>) -> bool {
    let root = |p: &Path| p.has_root() && p.components().count() == 1;
    root(written) || resolved.is_some_and(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_parse_with_their_mode() {
        let m = parse("./a:/b:ro").unwrap();
        assert_eq!(
            (m.source.as_str(), m.target.as_str(), m.read_only),
            ("./a", "/b", true)
        );
        assert!(!parse("./a:/b").unwrap().read_only);
        assert!(parse("./a:b").is_err());
        assert!(parse("./a").is_err());
        assert!(parse(":/b").is_err());
    }

    #[test]
    fn the_root_is_recognised_however_it_is_spelled() {
        assert!(is_fs_root(Path::new("/"), None));
        assert!(is_fs_root(Path::new("./rootlink"), Some(Path::new("/"))));
        assert!(!is_fs_root(Path::new("/home"), Some(Path::new("/home"))));
    }
}
