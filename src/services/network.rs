//! One bridge network per project, so services reach each other by name and
//! never see another project's containers.

use std::collections::HashMap;
use std::net::IpAddr;

use bollard::models::{Network, NetworkCreateRequest};

use super::{is_not_found, Engine, Result, ServicesError, LABEL_PROJECT};

/// The project network, as containers and mocks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    pub name: String,
    /// The engine's id: what containers attach to (see `ensure`).
    pub id: String,
    /// The bridge's address on the host: what containers use to reach
    /// processes on the host (the mock server listens there too).
    pub gateway: Option<IpAddr>,
}

/// `devenv_<project>_default`.
pub fn network_name(project_id: &str) -> String {
    format!("devenv_{project_id}_default")
}

/// Creates the project's network if needed and returns its name and gateway.
/// A network of that name without our label is not ours: it is an error,
/// never adopted.
///
/// Docker lets two networks share a name, and two `up`s that race (two
/// clones sharing a `[project] name`, say) can each create one; every later
/// command would then fail with "network is ambiguous". The engine offers
/// no atomic create-if-absent, so two guards:
/// - A file lock per engine and project under `DEVENV_HOME/locks`, held
///   from the list to the create, so the `up`s of one user never race here.
/// - For `up`s that do not share a lock (another user's, another machine's
///   on a remote engine), the network is found by listing, and when there
///   are several of ours, all but one are removed: the oldest, by creation
///   time then id. That is best effort: the engine stamps a network's time
///   before it is listed, so a racing `up` can have attached to the other.
pub async fn ensure(engine: &Engine, project_id: &str) -> Result<NetworkInfo> {
    let name = network_name(project_id);
    let _lock = match &engine.lock_dir {
        Some(dir) => Some(lock(dir, &engine.address, project_id).await?),
        None => None,
    };
    let mut found = ours(engine, &name, project_id).await?;
    if found.is_empty() {
        let req = NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            labels: Some(HashMap::from([(
                LABEL_PROJECT.to_string(),
                project_id.to_string(),
            )])),
            ..Default::default()
        };
        match engine.docker.create_network(req).await {
            Ok(_) => {}
            // An engine that refuses duplicate names: another `up` won.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => {}
            Err(e) => return Err(ServicesError::engine(format!("creating network {name}"))(e)),
        }
        found = ours(engine, &name, project_id).await?;
    }
    let keep = heal(engine, found)
        .await?
        .ok_or_else(|| ServicesError::Other(format!("network {name} vanished after creation")))?;
    Ok(info(&name, &keep))
}

/// Blocks (off the async threads) until this engine's network lock for the
/// project is ours; the kernel drops it when the file closes or we die.
async fn lock(dir: &std::path::Path, address: &str, project_id: &str) -> Result<std::fs::File> {
    let key = crate::util::sha256_hex(format!("{address}\n{project_id}").as_bytes());
    let path = dir.join(format!("network-{}.lock", &key[..24]));
    let fail =
        |e: std::io::Error| ServicesError::Other(format!("cannot lock {}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(fail)?;
    let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| ServicesError::Other(format!("network lock: {e}")))?
        .map_err(fail)?;
    Ok(file)
}

/// The networks named exactly `name`; an error if one is not ours.
async fn ours(engine: &Engine, name: &str, project_id: &str) -> Result<Vec<Network>> {
    let opts = bollard::query_parameters::ListNetworksOptionsBuilder::default()
        .filters(&HashMap::from([("name", vec![name])]))
        .build();
    let list = engine
        .docker
        .list_networks(Some(opts))
        .await
        .map_err(ServicesError::engine(format!(
            "listing networks named {name}"
        )))?;
    // The engine's name filter matches substrings.
    let exact: Vec<Network> = list
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(name))
        .collect();
    let foreign = exact.iter().any(|n| {
        n.labels
            .as_ref()
            .and_then(|l| l.get(LABEL_PROJECT))
            .map(String::as_str)
            != Some(project_id)
    });
    if foreign {
        return Err(ServicesError::Other(format!(
            "a network named {name} exists but was not created by devenv for this project; remove or rename it"
        )));
    }
    Ok(exact)
}

/// Keeps the oldest of our networks and removes the rest.
async fn heal(engine: &Engine, mut list: Vec<Network>) -> Result<Option<Network>> {
    // By creation time (parsed: the engine trims trailing zeros of the
    // nanoseconds, so the text does not sort), then id.
    let created = |n: &Network| {
        n.created
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    list.sort_by(|a, b| (created(a), &a.id).cmp(&(created(b), &b.id)));
    let mut list = list.into_iter();
    let keep = list.next();
    for extra in list {
        let Some(id) = extra.id else { continue };
        match engine.docker.remove_network(&id).await {
            Ok(()) => {}
            // Removed by the other `up` that raced us.
            Err(e) if is_not_found(&e) => {}
            // In use: the other `up` attached to it before it saw ours.
            // Its containers keep it; the next `up` heals what is left.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 403, ..
            }) => {}
            Err(e) => {
                return Err(ServicesError::engine(format!(
                    "removing duplicate network {id}"
                ))(e))
            }
        }
    }
    Ok(keep)
}

fn info(name: &str, net: &Network) -> NetworkInfo {
    let gateway = net
        .ipam
        .as_ref()
        .and_then(|i| i.config.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.gateway.and_then(|g| g.parse::<IpAddr>().ok()))
        .find(|ip| ip.is_ipv4());
    NetworkInfo {
        name: name.to_string(),
        id: net.id.clone().unwrap_or_else(|| name.to_string()),
        gateway,
    }
}

/// Removes the project's network (every copy, should there be several);
/// absent is fine, and a same-named network that is not ours is left alone.
pub async fn remove(engine: &Engine, project_id: &str) -> Result<bool> {
    let name = network_name(project_id);
    let list = match ours(engine, &name, project_id).await {
        Ok(l) => l,
        Err(ServicesError::Other(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    let mut removed = false;
    for id in list.into_iter().filter_map(|n| n.id) {
        match engine.docker.remove_network(&id).await {
            Ok(()) => removed = true,
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(ServicesError::engine(format!("removing network {name}"))(e)),
        }
    }
    Ok(removed)
}
