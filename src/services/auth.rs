//! Registry credentials the way the docker CLI keeps them in
//! `~/.docker/config.json`: `credHelpers` per registry, then `credsStore`,
//! then plain `auths` entries (base64 `user:password`, or an identity token).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use bollard::auth::DockerCredentials;
use serde_json::Value;

/// The key docker uses for Docker Hub in config.json.
const HUB_KEY: &str = "https://index.docker.io/v1/";

/// Credentials for `registry` (a host[:port], or `docker.io`), if the user has
/// any. Helper failures are treated as "no credentials": an anonymous pull
/// either works or fails with the registry's own message.
pub fn credentials(config_dir: Option<&Path>, registry: &str) -> Option<DockerCredentials> {
    let dir = config_dir?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let config: Value = serde_json::from_str(&text).ok()?;
    from_config(&config, registry, &run_helper)
}

fn keys_for(registry: &str) -> Vec<String> {
    if registry == "docker.io" {
        vec![
            HUB_KEY.to_string(),
            "index.docker.io".into(),
            "docker.io".into(),
            "registry-1.docker.io".into(),
        ]
    } else {
        vec![
            registry.to_string(),
            format!("https://{registry}"),
            format!("http://{registry}"),
            format!("https://{registry}/v1/"),
            format!("https://{registry}/v2/"),
        ]
    }
}

type Helper<'a> = &'a dyn Fn(&str, &str) -> Option<(String, String)>;

fn from_config(config: &Value, registry: &str, helper: Helper) -> Option<DockerCredentials> {
    let keys = keys_for(registry);
    let server = if registry == "docker.io" {
        HUB_KEY.to_string()
    } else {
        registry.to_string()
    };
    let via_helper = |name: &str| -> Option<DockerCredentials> {
        let (user, secret) = keys.iter().find_map(|k| helper(name, k))?;
        Some(if user == "<token>" {
            DockerCredentials {
                identitytoken: Some(secret),
                serveraddress: Some(server.clone()),
                ..Default::default()
            }
        } else {
            DockerCredentials {
                username: Some(user),
                password: Some(secret),
                serveraddress: Some(server.clone()),
                ..Default::default()
            }
        })
    };
    if let Some(helpers) = config.get("credHelpers").and_then(Value::as_object) {
        if let Some(name) = keys
            .iter()
            .find_map(|k| helpers.get(k).and_then(Value::as_str))
        {
            return via_helper(name);
        }
    }
    if let Some(store) = config.get("credsStore").and_then(Value::as_str) {
        if let Some(c) = via_helper(store) {
            return Some(c);
        }
    }
    let auths = config.get("auths").and_then(Value::as_object)?;
    let entry = keys.iter().find_map(|k| auths.get(k))?;
    if let Some(token) = entry.get("identitytoken").and_then(Value::as_str) {
        return Some(DockerCredentials {
            identitytoken: Some(token.to_string()),
            serveraddress: Some(server),
            ..Default::default()
        });
    }
    let auth = entry.get("auth").and_then(Value::as_str)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some(DockerCredentials {
        username: Some(user.to_string()),
        password: Some(password.to_string()),
        serveraddress: Some(server),
        ..Default::default()
    })
}

/// `docker-credential-<name> get`, fed the server URL on stdin.
fn run_helper(name: &str, server: &str) -> Option<(String, String)> {
    let mut child = Command::new(format!("docker-credential-{name}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(server.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    Some((
        v.get("Username")?.as_str()?.to_string(),
        v.get("Secret")?.as_str()?.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str, _: &str) -> Option<(String, String)> {
        None
    }

    #[test]
    fn auths_entries_are_decoded() {
        let cfg = serde_json::json!({"auths": {"127.0.0.1:5000": {"auth": "dXNlcjpwYTpzcw=="}}});
        let c = from_config(&cfg, "127.0.0.1:5000", &none).unwrap();
        assert_eq!(c.username.as_deref(), Some("user"));
        assert_eq!(c.password.as_deref(), Some("pa:ss"));
        assert!(from_config(&cfg, "ghcr.io", &none).is_none());
    }

    #[test]
    fn docker_hub_uses_the_index_key() {
        let cfg = serde_json::json!({"auths": {"https://index.docker.io/v1/": {"auth": "YTpi"}}});
        let c = from_config(&cfg, "docker.io", &none).unwrap();
        assert_eq!(c.username.as_deref(), Some("a"));
        assert_eq!(c.serveraddress.as_deref(), Some(HUB_KEY));
    }

    #[test]
    fn a_registry_helper_wins_over_auths() {
        let cfg = serde_json::json!({
            "auths": {"ghcr.io": {"auth": "YTpi"}},
            "credHelpers": {"ghcr.io": "fake"}
        });
        let helper = |name: &str, server: &str| {
            (name == "fake" && server == "ghcr.io").then(|| ("<token>".into(), "tok".into()))
        };
        let c = from_config(&cfg, "ghcr.io", &helper).unwrap();
        assert_eq!(c.identitytoken.as_deref(), Some("tok"));
        assert!(c.username.is_none());
    }

    #[test]
    fn a_creds_store_is_asked_before_auths() {
        let cfg = serde_json::json!({"credsStore": "desktop", "auths": {"ghcr.io": {}}});
        let helper = |_: &str, _: &str| Some(("u".to_string(), "p".to_string()));
        let c = from_config(&cfg, "ghcr.io", &helper).unwrap();
        assert_eq!(c.password.as_deref(), Some("p"));
    }
}
