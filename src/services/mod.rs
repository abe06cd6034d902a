//! Dependencies as containers on the user's engine, through the Docker
//! Engine API (bollard): one network per project, labelled containers and
//! volumes, readiness probed by devenv itself, idempotent convergence.
//!
//! Public surface: [`engine::connect`], [`network::ensure`], [`up`],
//! [`status`], [`down`], [`logs`]. Nothing without our project label is ever
//! touched.

mod acquire;
pub mod auth;
pub mod build;
pub mod context;
pub mod down;
pub mod engine;
mod engine_cache;
pub mod exec;
pub mod exports;
pub mod images;
pub mod logs;
pub mod network;
mod plan;
pub mod ports;
mod ready;
mod ready_watch;
mod route;
mod shared;
pub mod socket;
mod spec;
pub mod ssh;
mod start;
mod start_gate;
pub mod status;
pub mod tls;
mod up;

use std::collections::HashMap;

pub use down::{down, DownOptions, DownReport, Teardown};
pub use engine::{Engine, EngineConfig, EngineError};
pub use logs::{logs, LogsOptions};
pub use network::NetworkInfo;
pub use status::{status, PortEntry, StatusEntry};
pub use up::{up, UpReport, UpRequest};

/// Labels every object we create carries; the project label is the only
/// thing that decides whether devenv may touch an object.
pub const LABEL_PROJECT: &str = "dev.devenv.project";
pub const LABEL_SERVICE: &str = "dev.devenv.service";
pub const LABEL_HASH: &str = "dev.devenv.config-hash";
/// A short hash per key of the definition, so a recreate can say which
/// keys changed (see `spec::changed_keys`).
pub const LABEL_KEYS: &str = "dev.devenv.config-keys";
pub const LABEL_KIND: &str = "dev.devenv.kind";
/// The root of the clone whose `up` created the container: two clones that
/// share a `[project] name` share containers, and must not recreate or
/// remove each other's.
pub const LABEL_CLONE: &str = "dev.devenv.clone";

/// `devenv_<project>_<service>`.
pub fn container_name(project_id: &str, service: &str) -> String {
    format!("devenv_{project_id}_{service}")
}

/// `devenv_<project>_<service>_<volume>`.
pub fn volume_name(project_id: &str, service: &str, volume: &str) -> String {
    format!("devenv_{project_id}_{service}_{volume}")
}

/// The engine's list filter for this project's objects.
/// Every container of one project (running or not): one engine call.
pub(crate) async fn project_containers(
    engine: &Engine,
    project_id: &str,
) -> Result<Vec<bollard::models::ContainerSummary>> {
    let opts = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&project_filter(project_id))
        .build();
    engine
        .docker
        .list_containers(Some(opts))
        .await
        .map_err(ServicesError::engine("listing containers"))
}

/// A project's containers by the service label they carry.
pub(crate) fn by_service(
    list: &[bollard::models::ContainerSummary],
) -> HashMap<&str, &bollard::models::ContainerSummary> {
    list.iter()
        .filter_map(|c| Some((c.labels.as_ref()?.get(LABEL_SERVICE)?.as_str(), c)))
        .collect()
}

pub(crate) fn project_filter(project_id: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("{LABEL_PROJECT}={project_id}")],
    )])
}

/// What went wrong, in the cases the command layer must tell apart.
#[derive(Debug, thiserror::Error)]
pub enum ServicesError {
    /// Host ports wanted by services are held by something else. Bad input:
    /// nothing was created.
    #[error("{}", ports::describe_conflicts(.0))]
    PortsInUse(Vec<ports::PortConflict>),
    #[error(transparent)]
    Pull(#[from] images::PullError),
    #[error(transparent)]
    Build(#[from] build::BuildError),
    /// One or more services never became ready (or a job failed).
    #[error("{0}")]
    NotReady(String),
    #[error("{context}: {source}")]
    Engine {
        context: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl ServicesError {
    pub(crate) fn engine(
        context: impl Into<String>,
    ) -> impl FnOnce(bollard::errors::Error) -> Self {
        let context = context.into();
        move |source| ServicesError::Engine { context, source }
    }

    /// A pull that failed because the registry was out of reach.
    pub fn registry_unreachable(&self) -> bool {
        matches!(
            self,
            ServicesError::Pull(images::PullError::Unreachable { .. })
        )
    }

    /// What to do next, when we know.
    pub fn hint(&self) -> Option<String> {
        match self {
            ServicesError::PortsInUse(_) => Some(
                "stop whatever holds the port, or change the service's `ports` (\"auto:PORT\" picks a free one)".into(),
            ),
            ServicesError::Pull(images::PullError::NotFound { .. }) => Some(
                "check the image name and tag; with a registry_mirror, check the mirror has it".into(),
            ),
            ServicesError::Pull(images::PullError::Unreachable { .. }) => Some(
                "if this machine cannot reach the registry (Docker Hub, say), set `registry_mirror` to a mirror that has the image".into(),
            ),
            ServicesError::Pull(images::PullError::Missing { .. }) => {
                Some("pull it yourself, or set [settings] pull = \"missing\"".into())
            }
            ServicesError::Build(e) => e.hint(),
            ServicesError::NotReady(_) => Some(
                "fix the service (see its log above), then run `devenv up` again; `devenv logs NAME` shows the full log".into(),
            ),
            _ => None,
        }
    }
}

pub type Result<T, E = ServicesError> = std::result::Result<T, E>;

/// True when the engine said the object does not exist.
pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Writes a state file only when its content changes: an fsync per file
/// would otherwise dominate a no-op `up`.
pub(crate) fn save_json_if_changed<T: serde::Serialize>(
    path: &std::path::Path,
    value: &T,
) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    crate::state::write_atomic(path, &bytes)
}
