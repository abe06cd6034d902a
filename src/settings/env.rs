//! The process environment, read once.
//!
//! `ProcessEnv::capture` is the only place in the program that reads the
//! environment. Everything else gets this snapshot (or values resolved from
//! it), so tests hand in exactly the variables they mean, and no module's
//! behaviour depends on what happens to be set in the shell running it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct ProcessEnv {
    vars: BTreeMap<String, OsString>,
}

impl ProcessEnv {
    /// The one read of the real process environment.
    pub fn capture() -> Self {
        ProcessEnv {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
                .collect(),
        }
    }

    /// A made-up environment, for tests.
    pub fn from_pairs<K: Into<String>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        ProcessEnv {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable that is set, not empty, and valid UTF-8.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .and_then(|v| v.to_str())
            .filter(|v| !v.is_empty())
    }

    /// A variable as the OS gave it (set, maybe empty).
    pub fn var_os(&self, key: &str) -> Option<&OsString> {
        self.vars.get(key)
    }

    /// Whether a switch like `DEVENV_NO_METRICS` is on: set to anything but
    /// empty, `0` or `false`.
    pub fn flag(&self, key: &str) -> bool {
        self.var(key).is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            !(v.is_empty() || v == "0" || v == "false")
        })
    }

    /// Every UTF-8 variable whose name starts with `prefix`, as (rest of the
    /// name, value), in name order.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.vars
            .iter()
            .filter_map(|(k, v)| {
                Some((k.strip_prefix(prefix)?.to_string(), v.to_str()?.to_string()))
            })
            .collect()
    }

    /// `PATH`, the base every project environment is built on.
    pub fn path(&self) -> Option<&OsString> {
        self.var_os("PATH")
    }

    /// The user's home directory (`HOME`).
    pub fn home_dir(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }

    /// `$XDG_CONFIG_HOME`, else `~/.config`.
    pub fn config_dir(&self) -> Option<PathBuf> {
        self.var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| self.home_dir().map(|h| h.join(".config")))
    }

    /// The platform's data directory: `$XDG_DATA_HOME` or `~/.local/share`
    /// on Linux, `~/Library/Application Support` on macOS.
    pub fn data_dir(&self) -> Option<PathBuf> {
        if cfg!(target_os = "macos") {
            return self
                .home_dir()
                .map(|h| h.join("Library/Application Support"));
        }
        self.var("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| self.home_dir().map(|h| h.join(".local/share")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset() {
        let env = ProcessEnv::from_pairs([("A", ""), ("B", "x")]);
        assert_eq!(env.var("A"), None);
        assert_eq!(env.var("B"), Some("x"));
        assert!(env.var_os("A").is_some());
    }

    #[test]
    fn switches_are_off_for_zero_false_and_empty() {
        let env = ProcessEnv::from_pairs([("A", "0"), ("B", "False"), ("C", "1"), ("D", "yes")]);
        assert!(!env.flag("A") && !env.flag("B") && !env.flag("Z"));
        assert!(env.flag("C") && env.flag("D"));
    }

    #[test]
    fn xdg_dirs_fall_back_to_home() {
        let env = ProcessEnv::from_pairs([("HOME", "/home/u")]);
        assert_eq!(env.config_dir(), Some(PathBuf::from("/home/u/.config")));
        let env = ProcessEnv::from_pairs([("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/x")]);
        assert_eq!(env.config_dir(), Some(PathBuf::from("/x")));
        // A relative XDG value is ignored, as the spec says.
        let env = ProcessEnv::from_pairs([("HOME", "/home/u"), ("XDG_CONFIG_HOME", "rel")]);
        assert_eq!(env.config_dir(), Some(PathBuf::from("/home/u/.config")));
    }
}
