//! Docker contexts, read from the docker CLI's own files, as it reads them.
//!
//! The context's name comes from `DOCKER_CONTEXT`, else `currentContext` in
//! `config.json` (in `DOCKER_CONFIG` or `~/.docker`); `DOCKER_HOST` beats
//! both (the caller checks that first). A context lives in
//! `contexts/meta/<sha256(name)>/meta.json` (its docker endpoint's `Host`
//! and `SkipTLSVerify`) and `contexts/tls/<sha256(name)>/docker/` (its
//! `ca.pem`, `cert.pem`, `key.pem`). `default` is no context: the
//! variables and the usual sockets. A named context that is not there is an
//! error, as in the docker CLI, never a quiet fall back to another engine.

use std::path::{Path, PathBuf};

use super::tls::TlsMaterial;

/// Which context is chosen, and who chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub name: String,
    /// `$DOCKER_CONTEXT`, or `currentContext in /home/u/.docker/config.json`.
    pub named_by: String,
}

/// A context's docker endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    pub host: String,
    /// None: plain (unix://, tcp:// without TLS, ssh://).
    pub tls: Option<TlsMaterial>,
}

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("docker context \"{name}\" (from {named_by}) does not exist: no {}", .meta.display())]
    NotFound {
        name: String,
        named_by: String,
        meta: PathBuf,
    },
    #[error("cannot read docker context \"{name}\" from {}: {why}", .meta.display())]
    Unreadable {
        name: String,
        meta: PathBuf,
        why: String,
    },
    #[error("docker context \"{name}\" has no docker endpoint ({})", .meta.display())]
    NoDockerEndpoint { name: String, meta: PathBuf },
}

impl ContextError {
    pub fn hint(&self) -> &'static str {
        match self {
            ContextError::NotFound { .. } => "list the contexts with `docker context ls`; unset DOCKER_CONTEXT or `docker context use default` for the local engine",
            _ => "check the context with `docker context inspect`, or recreate it with `docker context create`",
        }
    }
}

/// The context the docker CLI would use, when it is not `default`.
/// `override_name` is `DOCKER_CONTEXT`.
pub fn chosen(config_dir: &Path, override_name: Option<&str>) -> Option<Chosen> {
    let chosen = match override_name {
        Some(n) => Chosen {
            name: n.to_string(),
            named_by: "$DOCKER_CONTEXT".into(),
        },
        None => {
            let file = config_dir.join("config.json");
            // As the docker CLI: an unreadable config file is as none.
            let text = crate::fsread::read_limited(&file).ok()?;
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            let name = v.get("currentContext")?.as_str()?.to_string();
            Chosen {
                name,
                named_by: format!("currentContext in {}", file.display()),
            }
        }
    };
    (!chosen.name.is_empty() && chosen.name != "default").then_some(chosen)
}

/// Reads the chosen context's docker endpoint.
pub fn load(config_dir: &Path, chosen: &Chosen) -> Result<Endpoint, ContextError> {
    let id = crate::util::sha256_hex(chosen.name.as_bytes());
    let meta = config_dir.join("contexts/meta").join(&id).join("meta.json");
    let text = match crate::fsread::read_limited(&meta) {
        Ok(t) => t,
        Err(e) if e.is_not_found() => {
            return Err(ContextError::NotFound {
                name: chosen.name.clone(),
                named_by: chosen.named_by.clone(),
                meta,
            })
        }
        Err(e) => {
            return Err(ContextError::Unreadable {
                name: chosen.name.clone(),
                meta,
                why: e.to_string(),
            })
        }
    };
    let unreadable = |why: String| ContextError::Unreadable {
        name: chosen.name.clone(),
        meta: meta.clone(),
        why,
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
    let docker = v
        .pointer("/Endpoints/docker")
        .ok_or_else(|| ContextError::NoDockerEndpoint {
            name: chosen.name.clone(),
            meta: meta.clone(),
        })?;
    let host = docker
        .get("Host")
        .and_then(|h| h.as_str())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| unreadable("its docker endpoint has no Host".into()))?
        .to_string();
    let skip_verify = docker
        .get("SkipTLSVerify")
        .and_then(|s| s.as_bool())
        .unwrap_or(false);
    let tls_dir = config_dir.join("contexts/tls").join(&id).join("docker");
    let named_by = format!("context \"{}\"", chosen.name);
    let has_files = ["ca.pem", "cert.pem", "key.pem"]
        .iter()
        .any(|f| tls_dir.join(f).exists());
    // As the docker CLI: TLS when the context has TLS files or skips
    // verification; verified only against the context's own CA.
    let tls = (host.starts_with("tcp://") && (has_files || skip_verify)).then(|| {
        let mut m = TlsMaterial::in_dir(&tls_dir, !skip_verify, named_by);
        if !skip_verify && !tls_dir.join("ca.pem").exists() {
            // No CA of its own: the system roots are not consulted here.
            m.ca = None;
        }
        m
    });
    Ok(Endpoint {
        name: chosen.name.clone(),
        host,
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(dir: &Path, name: &str, endpoint: &str) -> PathBuf {
        let id = crate::util::sha256_hex(name.as_bytes());
        let meta = dir.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{endpoint}}}}}"#),
        )
        .unwrap();
        dir.join("contexts/tls").join(id).join("docker")
    }

    #[test]
    fn docker_context_beats_the_config_files_current_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), r#"{"currentContext":"a"}"#).unwrap();
        let c = chosen(dir.path(), None).unwrap();
        assert_eq!(c.name, "a");
        assert!(c.named_by.contains("config.json"), "{}", c.named_by);
        let c = chosen(dir.path(), Some("b")).unwrap();
        assert_eq!(
            (c.name.as_str(), c.named_by.as_str()),
            ("b", "$DOCKER_CONTEXT")
        );
        assert_eq!(chosen(dir.path(), Some("default")), None);
    }

    #[test]
    fn a_named_context_that_is_not_there_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let c = chosen(dir.path(), Some("gone")).unwrap();
        let err = load(dir.path(), &c).unwrap_err();
        assert!(matches!(err, ContextError::NotFound { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("\"gone\"") && text.contains("$DOCKER_CONTEXT"),
            "{text}"
        );
    }

    #[test]
    fn host_skip_verify_and_tls_files_come_from_the_context() {
        let dir = tempfile::tempdir().unwrap();
        let tls = context(
            dir.path(),
            "remote",
            r#"{"Host":"tcp://10.0.0.2:2376","SkipTLSVerify":false}"#,
        );
        std::fs::create_dir_all(&tls).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(tls.join(f), "x").unwrap();
        }
        let c = chosen(dir.path(), Some("remote")).unwrap();
        let e = load(dir.path(), &c).unwrap();
        assert_eq!(e.host, "tcp://10.0.0.2:2376");
        let m = e.tls.expect("TLS");
        assert!(m.verify);
        assert_eq!(m.ca, Some(tls.join("ca.pem")));
        assert_eq!(m.key, Some(tls.join("key.pem")));

        context(
            dir.path(),
            "insecure",
            r#"{"Host":"tcp://10.0.0.3:2376","SkipTLSVerify":true}"#,
        );
        let c = chosen(dir.path(), Some("insecure")).unwrap();
        let m = load(dir.path(), &c).unwrap().tls.expect("TLS");
        assert!(!m.verify && m.ca.is_none());

        context(dir.path(), "plain", r#"{"Host":"unix:///x/docker.sock"}"#);
        let c = chosen(dir.path(), Some("plain")).unwrap();
        assert_eq!(load(dir.path(), &c).unwrap().tls, None);
    }
}
