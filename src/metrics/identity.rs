//! How the hire is named in what is sent: a salted hash of their email by
//! default, so the platform can count people without learning who they are.
//! The salt is random, created once per DEVENV_HOME and never sent.

use std::io::Write;
use std::path::Path;

use crate::manifest::model::Identity;

const SALT_FILE: &str = "metrics-salt";

/// The value sent as the hire's identity, or None (identity = "none", or no
/// email configured).
pub fn hire_id(home: &Path, identity: Identity, email: Option<&str>) -> Option<String> {
    let email = email?.trim().to_lowercase();
    if email.is_empty() {
        return None;
    }
    match identity {
        Identity::None => None,
        Identity::Email => Some(email),
        Identity::Hashed => {
            let salt = salt(home)?;
            let mut input = salt.into_bytes();
            input.push(b'\n');
            input.extend_from_slice(email.as_bytes());
            Some(crate::util::sha256_hex(&input)[..16].to_string())
        }
    }
}

/// Reads the salt, creating it on first use. Two processes racing to create
/// it agree because only the first `create_new` wins and both then read it.
fn salt(home: &Path) -> Option<String> {
    let path = home.join(SALT_FILE);
    if let Ok(s) = std::fs::read_to_string(&path) {
        if !s.trim().is_empty() {
            return Some(s.trim().to_string());
        }
    }
    std::fs::create_dir_all(home).ok()?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    if let Ok(mut f) = opts.open(&path) {
        let value =
            hex::encode(super::run::random_bytes()) + &hex::encode(super::run::random_bytes());
        f.write_all(value.as_bytes()).ok()?;
        f.sync_all().ok()?;
    }
    std::fs::read_to_string(&path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_stable_per_home_and_differs_between_homes() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let h1 = hire_id(a.path(), Identity::Hashed, Some("Ann@X.io")).unwrap();
        let h2 = hire_id(a.path(), Identity::Hashed, Some("ann@x.io")).unwrap();
        let h3 = hire_id(b.path(), Identity::Hashed, Some("ann@x.io")).unwrap();
        assert_eq!(h1, h2);
        assert_ne!(h1, h3);
        assert!(!h1.contains("ann"));
        assert_eq!(
            hire_id(a.path(), Identity::Email, Some("ann@x.io")).as_deref(),
            Some("ann@x.io")
        );
        assert_eq!(hire_id(a.path(), Identity::None, Some("ann@x.io")), None);
    }
}
