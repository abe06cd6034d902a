//! Bringing one service to its planned state: create, start, wait until
//! ready (or, for a job, until it exits), and the failure report.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use bollard::models::VolumeCreateOptions;
use bollard::query_parameters::CreateContainerOptionsBuilder;

use crate::progress::Reporter;

use super::plan::{Action, Plan};
use super::ready::{self, Target};
use super::spec::Spec;
use super::start_gate::StartGate;
use super::{down, is_not_found, Engine, Result, ServicesError, LABEL_PROJECT, LABEL_SERVICE};

pub(super) struct Failure {
    job: bool,
    reason: String,
    exit_code: Option<i64>,
    log: Vec<String>,
}

const TAIL: usize = 30;

/// Brings one service to its declared state and waits for it. Returns the
/// container id proven ready (None for jobs).
pub(super) async fn converge(
    engine: &Engine,
    reporter: &dyn Reporter,
    plan: &Plan<'_>,
    proven: Option<String>,
    gate: &StartGate,
) -> std::result::Result<Option<String>, Failure> {
    let name = plan.spec.name.as_str();
    let job = plan.spec.is_job();
    let fail = |reason: String| Failure {
        job,
        reason,
        exit_code: None,
        log: Vec::new(),
    };
    let task = reporter.task(&plan.service.name, None);
    let existing_id = plan.existing.and_then(|c| c.id.clone());
    // Dropped once this container has started, on every path.
    let lead = gate.lead(plan.service);
    if matches!(
        plan.action,
        Action::Start | Action::Create | Action::Recreate
    ) {
        gate.turn(plan.service).await;
    }
    match plan.action {
        Action::JobDone => {
            task.finish(true, "done (unchanged)");
            return Ok(None);
        }
        Action::Keep if !plan.spec.is_job() && proven.is_some() && proven == existing_id => {
            task.finish(true, "ready (unchanged)");
            return Ok(proven);
        }
        Action::Keep => {}
        Action::Start => {
            task.set_message("starting");
            start(engine, &plan.spec)
                .await
                .map_err(|e| fail(e.to_string()))?;
        }
        Action::Create | Action::Recreate => {
            if plan.action == Action::Recreate {
                task.set_message("recreating");
                if let Some(old) = plan.existing.and_then(|c| c.id.as_deref()) {
                    down::stop_and_remove(engine, old)
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                }
            } else {
                task.set_message("creating");
            }
            create(engine, &plan.spec)
                .await
                .map_err(|e| fail(e.to_string()))?;
            start(engine, &plan.spec)
                .await
                .map_err(|e| fail(e.to_string()))?;
        }
    }
    drop(lead);
    if plan.spec.is_job() {
        task.set_message("running");
        return match wait_job(engine, name).await {
            Ok(0) => {
                task.finish(true, "done");
                Ok(None)
            }
            Ok(code) => {
                task.finish(false, &format!("exited with code {code}"));
                Err(Failure {
                    job,
                    reason: format!("exited with code {code}"),
                    exit_code: Some(code),
                    log: super::logs::tail(engine, name, Some(TAIL)).await,
                })
            }
            Err(e) => {
                task.finish(false, &e);
                Err(fail(e))
            }
        };
    }
    task.set_message("waiting until ready");
    let done = match plan.action {
        Action::Create => "ready (created)".to_string(),
        Action::Recreate if plan.rebuilt => "ready (recreated: image rebuilt)".to_string(),
        Action::Recreate if !plan.changed.is_empty() => {
            format!("ready (recreated: {} changed)", plan.changed.join(", "))
        }
        Action::Recreate => "ready (recreated: definition changed)".to_string(),
        Action::Start => "ready (started)".to_string(),
        _ => "ready".to_string(),
    };
    let ip = container_ip(engine, name, &plan.spec.network).await;
    let target = Target {
        engine,
        container: name,
        image: &plan.spec.image,
        ip,
        ports: &plan.spec.ports,
    };
    match ready::wait(&target, plan.service.ready.as_ref()).await {
        Ok(()) => {
            task.finish(true, &done);
            let id = engine
                .docker
                .inspect_container(
                    name,
                    None::<bollard::query_parameters::InspectContainerOptions>,
                )
                .await
                .ok()
                .and_then(|c| c.id);
            Ok(id)
        }
        Err(nr) => {
            task.finish(false, &nr.reason);
            Err(Failure {
                job,
                reason: nr.reason,
                exit_code: nr.exit_code,
                log: super::logs::tail(engine, name, Some(TAIL)).await,
            })
        }
    }
}

async fn create(engine: &Engine, spec: &Spec) -> Result<()> {
    for volume in spec.volumes.keys() {
        engine
            .docker
            .create_volume(VolumeCreateOptions {
                name: Some(volume.clone()),
                labels: Some(HashMap::from([
                    (LABEL_PROJECT.to_string(), spec.project.clone()),
                    (LABEL_SERVICE.to_string(), spec.service.clone()),
                ])),
                ..Default::default()
            })
            .await
            .map_err(ServicesError::engine(format!("creating volume {volume}")))?;
    }
    let mut options = CreateContainerOptionsBuilder::default().name(&spec.name);
    if let Some(p) = &spec.platform {
        options = options.platform(p);
    }
    let options = options.build();
    // The engine reserves a name before the container can be inspected, so
    // a racing `up`'s container may answer 409 to create and 404 to inspect
    // for a moment; both are asked again until one answers.
    let mut attempts = 0;
    loop {
        match engine
            .docker
            .create_container(Some(options.clone()), spec.create_body())
            .await
        {
            Ok(_) => return Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => {}
            Err(e) => {
                return Err(ServicesError::engine(format!(
                    "creating container {}",
                    spec.name
                ))(e))
            }
        }
        // Created meanwhile by a racing `up` of this project (another
        // clone sharing its name): use it. Anything else is not ours.
        let inspected = engine
            .docker
            .inspect_container(
                &spec.name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await;
        match inspected {
            Ok(c) => {
                let theirs = c.config.and_then(|c| c.labels?.get(LABEL_PROJECT).cloned());
                if theirs.as_deref() == Some(spec.project.as_str()) {
                    return Ok(());
                }
                return Err(ServicesError::Other(format!(
                    "a container named {} already exists and is not managed by devenv for this project; remove or rename it",
                    spec.name
                )));
            }
            Err(e) if is_not_found(&e) && attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => {
                return Err(ServicesError::engine(format!(
                    "inspecting container {}",
                    spec.name
                ))(e))
            }
        }
    }
}

/// Starts the container. The engine resolves its network by name at
/// start; should a racing `up` have left a second network of that name for
/// a moment ("network ... is ambiguous"), the duplicate is healed and the
/// start tried again.
async fn start(engine: &Engine, spec: &Spec) -> Result<()> {
    let name = spec.name.as_str();
    let mut attempts = 0;
    loop {
        let result = engine
            .docker
            .start_container(
                name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await;
        match result {
            Ok(()) => return Ok(()),
            // Already running: started by a racing `up` of this project.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => return Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError { message, .. })
                if message.contains("is ambiguous") && attempts < 5 =>
            {
                attempts += 1;
                super::network::ensure(engine, &spec.project).await?;
            }
            Err(e) => {
                return Err(ServicesError::engine(format!("starting container {name}"))(
                    e,
                ))
            }
        }
    }
}

/// The container's address on the project network, used by probes on
/// engines whose bridge networks the host can route to (Linux, a rootful
/// engine's local socket; see `route.rs`), and on remote engines through
/// the SSH connection.
async fn container_ip(engine: &Engine, name: &str, network: &str) -> Option<IpAddr> {
    // A remote engine's containers are probed from its side (`ssh`).
    let routable = cfg!(target_os = "linux") && engine.address.starts_with("unix://");
    if !routable && engine.remote.is_none() {
        return None;
    }
    let info = engine
        .docker
        .inspect_container(
            name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .ok()?;
    let ip = info
        .network_settings?
        .networks?
        .get(network)?
        .ip_address
        .as_deref()?
        .parse()
        .ok();
    super::route::probe_address(engine, ip)
}

async fn wait_job(engine: &Engine, name: &str) -> std::result::Result<i64, String> {
    use futures_util::StreamExt;
    let mut stream = engine.docker.wait_container(
        name,
        None::<bollard::query_parameters::WaitContainerOptions>,
    );
    match stream.next().await {
        Some(Ok(r)) => Ok(r.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(format!("waiting for the job failed: {e}")),
        None => Err("the engine ended the wait without an exit code".into()),
    }
}

pub(super) fn failure_text(
    failed: &BTreeMap<String, Failure>,
    blocked: &BTreeMap<String, String>,
) -> String {
    let mut s = String::new();
    for (name, f) in failed {
        if !s.is_empty() {
            s.push('\n');
        }
        if f.job {
            s.push_str(&format!("job `{name}` failed: {}", f.reason));
        } else {
            s.push_str(&format!(
                "service `{name}` did not become ready: {}",
                f.reason
            ));
        }
        if let Some(code) = f.exit_code {
            s.push_str(&format!("\n  exit code: {code}"));
        }
        if f.log.is_empty() {
            s.push_str("\n  (its log is empty)");
        } else {
            s.push_str(&format!("\n  last {} log lines:", f.log.len()));
            for l in &f.log {
                s.push_str(&format!("\n  | {l}"));
            }
        }
    }
    for (name, dep) in blocked {
        s.push_str(&format!(
            "\nservice `{name}` was not started: it depends on `{dep}`"
        ));
    }
    s
}
