//! Where things live, computed once and passed in, so tests can point every
//! module at temp dirs. See "Where things live" in CONTRACT.md.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Paths {
    /// `DEVENV_HOME`: shared by every project on the machine.
    pub home: PathBuf,
    /// The repository root (the directory of devenv.toml).
    pub root: PathBuf,
}

impl Paths {
    pub fn new(home: impl Into<PathBuf>, root: impl Into<PathBuf>) -> Self {
        Paths {
            home: home.into(),
            root: root.into(),
        }
    }

    /// The content-addressed tool store, shared by all projects.
    pub fn store(&self) -> PathBuf {
        self.home.join("store")
    }
    /// Downloaded archives, kept for `--offline`.
    pub fn cache(&self) -> PathBuf {
        self.home.join("cache")
    }
    /// The metrics journal and unsent reports.
    pub fn spool(&self) -> PathBuf {
        self.home.join("spool")
    }
    /// Trust records, one per trusted devenv.toml content hash.
    pub fn trust(&self) -> PathBuf {
        self.home.join("trust")
    }
    /// Secrets asked once and kept (0600), never in the repository.
    pub fn secrets(&self) -> PathBuf {
        self.home.join("secrets")
    }
    /// Projects that use the store, for `devenv gc`.
    pub fn projects(&self) -> PathBuf {
        self.home.join("projects")
    }

    /// `.devenv/` in the repository: per-clone state.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".devenv")
    }
    /// `.devenv/bin`: links to the pinned tools.
    pub fn bin_dir(&self) -> PathBuf {
        self.state_dir().join("bin")
    }
    pub fn logs_dir(&self) -> PathBuf {
        self.state_dir().join("logs")
    }
    /// A per-clone state file, e.g. `ports.json`.
    pub fn state_file(&self, name: &str) -> PathBuf {
        self.state_dir().join("state").join(name)
    }

    /// Creates `.devenv/` with a `.gitignore` of `*`, so it is ignored by git
    /// without touching the repository's own `.gitignore`.
    ///
    /// A `.devenv` the clone ships as a symlink out of the repository is
    /// refused (`crate::confine`): state, links and logs go only inside it.
    pub fn ensure_state_dir(&self) -> std::io::Result<PathBuf> {
        crate::confine::confine(&self.root, Path::new(".devenv")).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("state directory {e}"),
            )
        })?;
        let dir = self.state_dir();
        std::fs::create_dir_all(dir.join("state"))?;
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(
                ignore,
                "# Written by devenv: per-clone state, never committed.\n*\n",
            )?;
        }
        Ok(dir)
    }

    /// `p` relative to the repository root when inside it.
    pub fn relative<'a>(&self, p: &'a Path) -> &'a Path {
        p.strip_prefix(&self.root).unwrap_or(p)
    }
}
