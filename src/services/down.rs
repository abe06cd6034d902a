//! `down` and the engine part of `reset`: stop and remove this project's
//! containers (in parallel), its network, with `volumes` its volumes, and
//! with `images` the images devenv built for it (`reset`, as compose's
//! `down --rmi local`).
//! Only objects carrying our project label are listed, so nothing else is
//! ever touched.
//!
//! Containers get 3 s to stop after their stop signal (docker compose waits
//! 10 s): enough for PostgreSQL's fast shutdown and Redis, and in a dev
//! environment a process that ignores SIGTERM should not hold `down` up.

use bollard::query_parameters::{
    ListImagesOptionsBuilder, ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveImageOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::future::join_all;

use super::{is_not_found, network, project_filter, Engine, Result, ServicesError, LABEL_SERVICE};

/// Seconds a container gets to stop before it is killed.
pub const STOP_TIMEOUT_SECS: i32 = 3;

#[derive(Debug, Clone)]
pub struct DownOptions<'a> {
    pub project_id: &'a str,
    pub what: Teardown,
}

/// What goes besides the containers and the network.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Teardown {
    /// The project's named volumes.
    pub volumes: bool,
    /// The images built for the project (they carry its label).
    pub images: bool,
}

#[derive(Debug, Default, Clone)]
pub struct DownReport {
    /// Service names whose containers were removed.
    pub containers: Vec<String>,
    pub volumes: Vec<String>,
    pub network: bool,
    /// Built images removed, by their first tag (or id).
    pub images: Vec<String>,
}

pub async fn down(engine: &Engine, opts: &DownOptions<'_>) -> Result<DownReport> {
    let list = super::project_containers(engine, opts.project_id).await?;
    let results = join_all(list.iter().map(|c| async move {
        let id = c.id.clone().unwrap_or_default();
        let service = c
            .labels
            .as_ref()
            .and_then(|l| l.get(LABEL_SERVICE))
            .cloned()
            .unwrap_or_else(|| id.clone());
        stop_and_remove(engine, &id).await.map(|_| service)
    }))
    .await;
    let mut report = DownReport::default();
    for r in results {
        report.containers.push(r?);
    }
    report.containers.sort();
    report.network = network::remove(engine, opts.project_id).await?;
    if opts.what.volumes {
        let vols = engine
            .docker
            .list_volumes(Some(
                ListVolumesOptionsBuilder::default()
                    .filters(&project_filter(opts.project_id))
                    .build(),
            ))
            .await
            .map_err(ServicesError::engine("listing volumes"))?;
        for v in vols.volumes.unwrap_or_default() {
            match engine
                .docker
                .remove_volume(&v.name, Some(RemoveVolumeOptionsBuilder::default().build()))
                .await
            {
                Ok(()) => report.volumes.push(v.name),
                Err(e) if is_not_found(&e) => {}
                Err(e) => {
                    return Err(ServicesError::engine(format!("removing volume {}", v.name))(e))
                }
            }
        }
        report.volumes.sort();
    }
    if opts.what.images {
        report.images = remove_built_images(engine, opts.project_id).await?;
    }
    Ok(report)
}

/// Every image with the project's label: what `up` built. Forced, as its
/// extra tag (`image` next to `build`) is a second name of the same image.
async fn remove_built_images(engine: &Engine, project_id: &str) -> Result<Vec<String>> {
    let images = engine
        .docker
        .list_images(Some(
            ListImagesOptionsBuilder::default()
                .filters(&project_filter(project_id))
                .build(),
        ))
        .await
        .map_err(ServicesError::engine("listing built images"))?;
    let mut removed = Vec::new();
    for i in images {
        let name = i.repo_tags.first().cloned().unwrap_or_else(|| i.id.clone());
        let opts = RemoveImageOptionsBuilder::default().force(true).build();
        match engine.docker.remove_image(&i.id, Some(opts), None).await {
            Ok(_) => removed.push(name),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(ServicesError::engine(format!("removing image {name}"))(e)),
        }
    }
    removed.sort();
    Ok(removed)
}

/// Stops (with the short timeout) and removes one container; gone is fine.
pub(crate) async fn stop_and_remove(engine: &Engine, name_or_id: &str) -> Result<()> {
    let stop = engine
        .docker
        .stop_container(
            name_or_id,
            Some(
                StopContainerOptionsBuilder::default()
                    .t(STOP_TIMEOUT_SECS)
                    .build(),
            ),
        )
        .await;
    match stop {
        Ok(()) => {}
        Err(e) if is_not_found(&e) => return Ok(()),
        // 304: already stopped.
        Err(_) => {}
    }
    match engine
        .docker
        .remove_container(
            name_or_id,
            Some(
                RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build(),
            ),
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        // Removal already in progress (e.g. a parallel `down`).
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => Ok(()),
        Err(e) => Err(ServicesError::engine(format!(
            "removing container {name_or_id}"
        ))(e)),
    }
}
