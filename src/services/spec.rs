//! The container a service should be, as a canonical value: its hash is the
//! `dev.devenv.config-hash` label, so comparing labels from one list call
//! tells whether a running container is up to date.
//!
//! Bind mounts are resolved here, just before the container is made:
//! devenv.toml's are confined to the repository again (`crate::confine`),
//! and the user's extra mounts (`settings::mounts`) are merged in, so they
//! are part of the hash too.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, Mount as EngineMount, MountTypeEnum,
    NetworkingConfig, PortBinding,
};
use serde::Serialize;

use crate::manifest::model::{Mount, Protocol, RunMode, Service};

use super::ports::Published;
use super::{
    container_name, volume_name, ServicesError, LABEL_CLONE, LABEL_HASH, LABEL_KEYS, LABEL_KIND,
    LABEL_PROJECT, LABEL_SERVICE,
};

/// Everything that decides what a container is. Any change here changes the
/// hash and recreates the container (volumes are kept).
#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    pub service: String,
    pub project: String,
    /// After the mirror rewrite.
    pub image: String,
    pub env: BTreeMap<String, String>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub ports: Vec<Published>,
    /// Engine volume name -> container path.
    pub volumes: BTreeMap<String, String>,
    /// Host path, container path, read-only.
    pub mounts: Vec<(String, String, bool)>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub platform: Option<String>,
    pub network: String,
    /// Every mock's /etc/hosts entry: what the container gets. Not hashed:
    /// adding a mock must not recreate a database (see `mock_hosts`).
    #[serde(skip)]
    pub extra_hosts: Vec<(String, IpAddr)>,
    /// The entries of the mocks this service can use (`uses_mock`): only a
    /// change to these recreates it.
    pub mock_hosts: Vec<(String, IpAddr)>,
    pub run: RunMode,
    /// The clone that creates the container (its root), for the
    /// `dev.devenv.clone` label. Not part of the hash: two clones of one
    /// definition hash alike, and the label tells them apart.
    #[serde(skip)]
    pub clone: String,
    /// The network's id, once `up` has made sure of it. Containers attach
    /// by id: should a racing `up` leave a second network of the same name
    /// for a moment, the engine never has to resolve the name.
    #[serde(skip)]
    pub network_id: Option<String>,
}

/// A service's bind mounts as (host path, container path, read-only):
/// devenv.toml's, each resolved inside `root` again now (a symlink swapped
/// in since `up` checked them is refused), then `extra`, the user's own,
/// each replacing a mount at the same container path. `/` is never mounted.
pub fn bind_mounts(
    s: &Service,
    root: &Path,
    extra: &[&Mount],
) -> Result<Vec<(String, String, bool)>, ServicesError> {
    let mut out: Vec<(String, String, bool)> = Vec::new();
    for m in &s.mounts {
        let real = crate::confine::confine_joined(root, &m.source)
            .map_err(|e| ServicesError::Other(format!("service `{}`: mount source {e}", s.name)))?;
        out.push((real.display().to_string(), m.target.clone(), m.read_only));
    }
    for m in extra {
        let real = std::fs::canonicalize(&m.source).map_err(|e| {
            ServicesError::Other(format!(
                "service `{}`: mount source {}: {e}",
                s.name,
                m.source.display()
            ))
        })?;
        if crate::manifest::mounts::is_fs_root(&m.source, Some(&real)) {
            return Err(ServicesError::Other(format!(
                "service `{}`: {}",
                s.name,
                crate::manifest::mounts::ROOT_REFUSED
            )));
        }
        out.retain(|(_, target, _)| *target != m.target);
        out.push((real.display().to_string(), m.target.clone(), m.read_only));
    }
    Ok(out)
}

/// The keys whose hashes differ between a container's `LABEL_KEYS` and
/// `now`'s (a key only one side has counts too); empty when the container
/// predates the label.
pub fn changed_keys(label: Option<&str>, now: &str) -> Vec<String> {
    let Some(label) = label.filter(|l| !l.is_empty()) else {
        return Vec::new();
    };
    let parse = |text: &str| -> BTreeMap<String, String> {
        text.split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let (old, new) = (parse(label), parse(now));
    let keys: std::collections::BTreeSet<&String> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .collect();
    keys.into_iter()
        .map(|k| match k.as_str() {
            "mock_hosts" => "mocks".to_string(),
            other => other.replace('_', "-"),
        })
        .collect()
}

/// Whether a service can reach the mock `mock` by name, as far as its own
/// definition shows: it depends on it, names it as a host in its env,
/// command or entrypoint (`http://payments:8080`), or mounts files from
/// the repository (a rendered config may name it). Only such a service is
/// recreated when that mock comes or goes; every container still gets an
/// entry for every mock that exists when it is created.
fn uses_mock(s: &Service, mock: &str) -> bool {
    let names = |text: &str| {
        text.match_indices(mock).any(|(i, _)| {
            let host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
            let before = text[..i].chars().next_back();
            let after = text[i + mock.len()..].chars().next();
            !before.is_some_and(host_char) && !after.is_some_and(host_char)
        })
    };
    let args = |c: &Option<Vec<String>>| c.iter().flatten().any(|a| names(a));
    s.depends_on.iter().any(|d| d == mock)
        || !s.mounts.is_empty()
        || s.env.values().any(|v| names(v))
        || args(&s.command)
        || args(&s.entrypoint)
}

/// The service's env with its stack's templates rendered over the ports
/// just published (an `auto:` host port is known only now). The manifest
/// checks rendered them already; should one fail anyway, its text is kept.
fn container_env(s: &Service, ports: &[Published]) -> BTreeMap<String, String> {
    let mut env = s.env.clone();
    if s.env_templates.is_empty() {
        return env;
    }
    let pairs: Vec<(u16, u16)> = ports.iter().map(|p| (p.container, p.host)).collect();
    let at = crate::stacks::Placement {
        name: &s.name,
        ports: &pairs,
    };
    match crate::stacks::render_env(&s.env_templates, &at) {
        Ok(rendered) => env.extend(rendered),
        Err(_) => env.extend(s.env_templates.clone()),
    }
    env
}

/// Inputs of `Spec::new` that are the same for every service of a run.
pub struct SpecContext<'a> {
    pub project_id: &'a str,
    pub network: &'a str,
    pub extra_hosts: &'a [(String, IpAddr)],
    pub image: String,
    pub ports: Vec<Published>,
    /// From `bind_mounts`.
    pub mounts: Vec<(String, String, bool)>,
}

impl Spec {
    pub fn new(s: &Service, cx: SpecContext<'_>) -> Spec {
        let mut extra_hosts = cx.extra_hosts.to_vec();
        extra_hosts.sort();
        let mock_hosts = extra_hosts
            .iter()
            .filter(|(mock, _)| uses_mock(s, mock))
            .cloned()
            .collect();
        Spec {
            name: container_name(cx.project_id, &s.name),
            service: s.name.clone(),
            project: cx.project_id.to_string(),
            image: cx.image,
            env: container_env(s, &cx.ports),
            command: s.command.clone(),
            entrypoint: s.entrypoint.clone(),
            ports: cx.ports,
            volumes: s
                .volumes
                .iter()
                .map(|(v, path)| (volume_name(cx.project_id, &s.name, v), path.clone()))
                .collect(),
            mounts: cx.mounts,
            user: s.user.clone(),
            working_dir: s.working_dir.clone(),
            platform: s.platform.clone(),
            network: cx.network.to_string(),
            extra_hosts,
            mock_hosts,
            run: s.run,
            clone: String::new(),
            network_id: None,
        }
    }

    /// A short, stable hash of the whole spec.
    pub fn hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("a spec serialises");
        crate::util::sha256_hex(&bytes)[..16].to_string()
    }

    /// A short hash per key (`env=1a2b3c4d,image=…`), kept in a label so
    /// that a recreate can say which keys changed.
    pub fn key_hashes(&self) -> String {
        let value = serde_json::to_value(self).expect("a spec serialises");
        let Some(fields) = value.as_object() else {
            return String::new();
        };
        let mut out: Vec<String> = fields
            .iter()
            .map(|(k, v)| {
                let h = crate::util::sha256_hex(v.to_string().as_bytes());
                format!("{k}={}", &h[..8])
            })
            .collect();
        out.sort();
        out.join(",")
    }

    pub fn is_job(&self) -> bool {
        self.run == RunMode::Once
    }

    pub fn labels(&self) -> HashMap<String, String> {
        let mut labels = HashMap::from([
            (LABEL_PROJECT.to_string(), self.project.clone()),
            (LABEL_SERVICE.to_string(), self.service.clone()),
            (LABEL_HASH.to_string(), self.hash()),
            (LABEL_KEYS.to_string(), self.key_hashes()),
            (
                LABEL_KIND.to_string(),
                if self.is_job() { "job" } else { "service" }.to_string(),
            ),
        ]);
        if !self.clone.is_empty() {
            labels.insert(LABEL_CLONE.to_string(), self.clone.clone());
        }
        labels
    }

    /// How the create request names the network: its id when known.
    fn network_ref(&self) -> &str {
        self.network_id.as_deref().unwrap_or(&self.network)
    }

    /// The engine's create request.
    pub fn create_body(&self) -> ContainerCreateBody {
        let proto = |p: Protocol| match p {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        let mut exposed: HashMap<String, HashMap<(), ()>> = HashMap::new();
        let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
        for p in &self.ports {
            let key = format!("{}/{}", p.container, proto(p.protocol));
            exposed.insert(key.clone(), HashMap::new());
            bindings
                .entry(key)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: Some(p.bind.to_string()),
                    host_port: Some(p.host.to_string()),
                });
        }
        let mut mounts: Vec<EngineMount> = self
            .volumes
            .iter()
            .map(|(name, path)| EngineMount {
                target: Some(path.clone()),
                source: Some(name.clone()),
                typ: Some(MountTypeEnum::VOLUME),
                ..Default::default()
            })
            .collect();
        mounts.extend(self.mounts.iter().map(|(src, dst, ro)| EngineMount {
            target: Some(dst.clone()),
            source: Some(src.clone()),
            typ: Some(MountTypeEnum::BIND),
            read_only: Some(*ro),
            ..Default::default()
        }));
        let host_config = HostConfig {
            port_bindings: Some(bindings),
            mounts: Some(mounts),
            network_mode: Some(self.network_ref().to_string()),
            extra_hosts: Some(
                self.extra_hosts
                    .iter()
                    .map(|(n, ip)| format!("{n}:{ip}"))
                    .collect(),
            ),
            ..Default::default()
        };
        ContainerCreateBody {
            image: Some(self.image.clone()),
            env: Some(self.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            cmd: self.command.clone(),
            entrypoint: self.entrypoint.clone(),
            user: self.user.clone(),
            working_dir: self.working_dir.clone(),
            exposed_ports: Some(exposed),
            labels: Some(self.labels()),
            host_config: Some(host_config),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(
                    self.network_ref().to_string(),
                    EndpointSettings {
                        aliases: Some(vec![self.service.clone()]),
                        ..Default::default()
                    },
                )])),
            }),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn service() -> Service {
        Service {
            name: "db".into(),
            stack: None,
            image: "postgres:16".into(),
            build: None,
            ports: vec![],
            env: BTreeMap::from([("A".into(), "1".into())]),
            env_templates: BTreeMap::new(),
            command: None,
            entrypoint: None,
            volumes: BTreeMap::from([("data".into(), "/data".into())]),
            mounts: vec![],
            ready: None,
            depends_on: vec![],
            run: RunMode::Always,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            exports: BTreeMap::new(),
            user: None,
            working_dir: None,
            platform: None,
        }
    }

    fn spec(s: &Service, hosts: &[(String, IpAddr)]) -> Spec {
        Spec::new(
            s,
            SpecContext {
                project_id: "p",
                network: "devenv_p_default",
                extra_hosts: hosts,
                image: "m/library/postgres:16".into(),
                ports: vec![],
                mounts: vec![],
            },
        )
    }

    #[test]
    fn the_hash_follows_the_definition() {
        let s = service();
        let a = spec(&s, &[]);
        assert_eq!(a.hash(), spec(&s, &[]).hash());
        let mut changed = s.clone();
        changed.env.insert("A".into(), "2".into());
        assert_ne!(a.hash(), spec(&changed, &[]).hash());
        assert_eq!(a.volumes["devenv_p_db_data"], "/data");
        assert_eq!(a.name, "devenv_p_db");
    }

    fn payments() -> Vec<(String, IpAddr)> {
        vec![(
            "payments".to_string(),
            IpAddr::V4(Ipv4Addr::new(172, 18, 0, 1)),
        )]
    }

    /// Adding a mock recreated every service, the database too.
    #[test]
    fn a_new_mock_changes_the_hash_only_of_services_that_can_use_it() {
        let db = service();
        assert_eq!(spec(&db, &[]).hash(), spec(&db, &payments()).hash());
        assert_eq!(
            spec(&db, &payments()).extra_hosts,
            payments(),
            "still resolvable"
        );

        let mut app = service();
        app.env
            .insert("PAYMENTS_URL".into(), "http://payments:8080/v1".into());
        assert_ne!(spec(&app, &[]).hash(), spec(&app, &payments()).hash());
        for (how, uses) in [
            ("depends_on", {
                let mut s = service();
                s.depends_on = vec!["payments".into()];
                s
            }),
            ("command", {
                let mut s = service();
                s.command = Some(vec!["--upstream=payments:80".into()]);
                s
            }),
            ("mounts", {
                let mut s = service();
                s.mounts = vec![Mount {
                    source: "/r/config".into(),
                    target: "/config".into(),
                    read_only: true,
                }];
                s
            }),
        ] {
            assert_ne!(
                spec(&uses, &[]).hash(),
                spec(&uses, &payments()).hash(),
                "{how}"
            );
        }
        // Another host that merely contains the name is not the mock.
        let mut other = service();
        other
            .env
            .insert("U".into(), "http://payments.example.com".into());
        other.env.insert("V".into(), "old-payments-api".into());
        assert_eq!(spec(&other, &[]).hash(), spec(&other, &payments()).hash());
    }

    #[test]
    fn a_recreate_names_the_keys_that_changed() {
        let s = service();
        let before = spec(&s, &[]).key_hashes();
        let mut changed = s.clone();
        changed.env.insert("A".into(), "2".into());
        changed.working_dir = Some("/srv".into());
        let now = spec(&changed, &[]).key_hashes();
        assert_eq!(changed_keys(Some(&before), &now), ["env", "working-dir"]);
        assert!(changed_keys(Some(&before), &before).is_empty());
        let mut app = service();
        app.depends_on = vec!["payments".into()];
        assert_eq!(
            changed_keys(
                Some(&spec(&app, &[]).key_hashes()),
                &spec(&app, &payments()).key_hashes()
            ),
            ["mocks"]
        );
        // A container from before the label: no names, the caller says so.
        assert!(changed_keys(None, &now).is_empty());
    }

    #[test]
    fn extra_mounts_join_the_hash_and_replace_by_container_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("init")).unwrap();
        let m2 = dir.path().join("m2");
        std::fs::create_dir_all(&m2).unwrap();
        let mut s = service();
        s.mounts = vec![Mount {
            source: root.join("init"),
            target: "/init".into(),
            read_only: true,
        }];
        let own = bind_mounts(&s, &root, &[]).unwrap();
        assert_eq!(own.len(), 1);
        let extra = Mount {
            source: m2.clone(),
            target: "/root/.m2".into(),
            read_only: false,
        };
        let both = bind_mounts(&s, &root, &[&extra]).unwrap();
        assert_eq!(both.len(), 2);
        let hash = |mounts| {
            let mut sp = spec(&s, &[]);
            sp.mounts = mounts;
            sp.hash()
        };
        assert_ne!(hash(own), hash(both));
        let over = Mount {
            target: "/init".into(),
            ..extra
        };
        let replaced = bind_mounts(&s, &root, &[&over]).unwrap();
        assert_eq!(replaced.len(), 1);
        assert!(replaced[0].0.ends_with("m2"), "{replaced:?}");
    }

    #[test]
    fn a_mount_swapped_for_a_symlink_out_is_refused_when_the_container_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("init")).unwrap();
        let mut s = service();
        s.mounts = vec![Mount {
            source: root.join("init"),
            target: "/init".into(),
            read_only: true,
        }];
        let e = bind_mounts(&s, &root, &[]).unwrap_err().to_string();
        assert!(e.contains("`init` is a symlink to /etc"), "{e}");
        let slash = Mount {
            source: "/".into(),
            target: "/host".into(),
            read_only: true,
        };
        s.mounts.clear();
        assert!(bind_mounts(&s, &root, &[&slash]).is_err());
    }
}
