//! One bridge network per project, so services reach each other by name and
//! never see another project's containers.

use std::collections::HashMap;
use std::net::IpAddr;

use bollard::models::NetworkCreateRequest;

use super::{is_not_found, Engine, Result, ServicesError, LABEL_PROJECT};

/// The project network, as containers and mocks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    pub name: String,
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
pub async fn ensure(engine: &Engine, project_id: &str) -> Result<NetworkInfo> {
    let name = network_name(project_id);
    match inspect(engine, &name, project_id).await? {
        Some(info) => Ok(info),
        None => {
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
                // Another `up` of the same clone created it meanwhile.
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                }) => {}
                Err(e) => return Err(ServicesError::engine(format!("creating network {name}"))(e)),
            }
            inspect(engine, &name, project_id).await?.ok_or_else(|| {
                ServicesError::Other(format!("network {name} vanished after creation"))
            })
        }
    }
}

async fn inspect(engine: &Engine, name: &str, project_id: &str) -> Result<Option<NetworkInfo>> {
    let net = match engine
        .docker
        .inspect_network(
            name,
            None::<bollard::query_parameters::InspectNetworkOptions>,
        )
        .await
    {
        Ok(n) => n,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => {
            return Err(ServicesError::engine(format!("inspecting network {name}"))(
                e,
            ))
        }
    };
    let ours = net
        .labels
        .as_ref()
        .and_then(|l| l.get(LABEL_PROJECT))
        .is_some_and(|p| p == project_id);
    if !ours {
        return Err(ServicesError::Other(format!(
            "a network named {name} exists but was not created by devenv for this project; remove or rename it"
        )));
    }
    let gateway = net
        .ipam
        .and_then(|i| i.config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.gateway.and_then(|g| g.parse::<IpAddr>().ok()))
        .find(|ip| ip.is_ipv4());
    Ok(Some(NetworkInfo {
        name: name.to_string(),
        gateway,
    }))
}

/// Removes the project's network; absent is fine.
pub async fn remove(engine: &Engine, project_id: &str) -> Result<bool> {
    let name = network_name(project_id);
    match inspect(engine, &name, project_id).await {
        Ok(None) => return Ok(false),
        Ok(Some(_)) => {}
        // Not ours: leave it alone.
        Err(ServicesError::Other(_)) => return Ok(false),
        Err(e) => return Err(e),
    }
    match engine.docker.remove_network(&name).await {
        Ok(()) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(ServicesError::engine(format!("removing network {name}"))(e)),
    }
}
