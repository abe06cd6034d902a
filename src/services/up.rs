//! `up` for services: converge the project's containers to the manifest.
//!
//! One list call (made by the caller, filtered by the project label) tells what exists; config
//! hashes from its labels decide what to do. Unchanged running services are
//! left alone without a pull, create or per-container inspect, so a no-op
//! `up` costs one engine round trip. Everything created carries the config
//! hash, so whatever an interrupted run left (a created-but-not-started
//! container, a container with a stale hash) is started or recreated by the
//! next one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::ListContainersOptionsBuilder;
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use crate::manifest::model::{Manifest, Mount};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::state::{self, PortBook};

use super::acquire::Images;
use super::images::{ImagePolicy, ImageRef};
use super::network::{self, network_name};
use super::plan::{Action, Plan};
use super::ports::{self, Published};
use super::spec::{Spec, SpecContext};
use super::start::{converge, failure_text, Failure};
use super::start_gate::StartGate;
use super::{down, exports, Engine, Result, ServicesError, LABEL_HASH, LABEL_KEYS, LABEL_SERVICE};

/// Everything `up` needs; built by the command layer.
pub struct UpRequest<'a> {
    pub manifest: &'a Manifest,
    pub paths: &'a Paths,
    pub reporter: &'a dyn Reporter,
    /// `DEVENV_REGISTRY_MIRROR`, else `[settings] registry_mirror`.
    pub mirror: Option<String>,
    pub images: ImagePolicy,
    /// Name -> address entries for every container's /etc/hosts (mocks on
    /// the network gateway). Part of the config hash.
    pub extra_hosts: Vec<(String, IpAddr)>,
    /// `depends_on` names that are not services but are already ready
    /// (mocks started before services).
    pub external_ready: Vec<String>,
    /// (service, mount) from outside the repository, from the user's own
    /// files (`Settings::mounts`). Part of the config hash.
    pub extra_mounts: Vec<(String, Mount)>,
    /// `up --build`: build every built image again, without the cache.
    pub force_build: bool,
    /// The project's containers (`project_containers`), listed by the
    /// caller beside its network lookup.
    pub listed: &'a [ContainerSummary],
}

/// What `up` did, per service name.
#[derive(Debug, Default, Clone)]
pub struct UpReport {
    pub unchanged: Vec<String>,
    pub created: Vec<String>,
    pub recreated: Vec<String>,
    pub started: Vec<String>,
    pub removed: Vec<String>,
    pub jobs_run: Vec<String>,
    pub pulled: Vec<String>,
    /// Services whose image was built by this `up`.
    pub built: Vec<String>,
}

impl UpReport {
    pub fn changed_nothing(&self) -> bool {
        self.created.is_empty()
            && self.recreated.is_empty()
            && self.started.is_empty()
            && self.removed.is_empty()
            && self.jobs_run.is_empty()
            && self.pulled.is_empty()
            && self.built.is_empty()
    }
}

/// Which container id was last seen ready per service: a kept container
/// that was already proven ready is not probed again.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ReadyRecord {
    ready: BTreeMap<String, String>,
}
const READY_FILE: &str = "services.json";

pub async fn up(engine: &Engine, req: &UpRequest<'_>) -> Result<UpReport> {
    let m = req.manifest;
    let project = m.project.id.as_str();
    let net_name = network_name(project);
    let mut book = PortBook::load(req.paths);
    let published = ports::resolve(m, &mut book)
        .map_err(|e| ServicesError::Other(format!("cannot pick a free port: {e}")))?;

    let built = super::build::prepare(m, req.paths).await?;
    let by_service = super::by_service(req.listed);

    let mut plans: Vec<Plan> = m
        .services
        .iter()
        .map(|s| {
            let image = match super::build::for_service(&built, s) {
                Some(b) => b.tag.clone(),
                None => ImageRef::parse(&s.image)
                    .with_mirror(req.mirror.as_deref())
                    .to_string(),
            };
            let extra: Vec<&Mount> = req
                .extra_mounts
                .iter()
                .filter(|(name, _)| *name == s.name)
                .map(|(_, mount)| mount)
                .collect();
            let spec = Spec::new(
                s,
                SpecContext {
                    project_id: project,
                    network: &net_name,
                    extra_hosts: &req.extra_hosts,
                    image,
                    ports: published.get(&s.name).cloned().unwrap_or_default(),
                    mounts: super::spec::bind_mounts(s, &m.root, &extra)?,
                },
            );
            let mut spec = spec;
            spec.clone = req.paths.root.display().to_string();
            let existing = by_service.get(s.name.as_str()).copied();
            let action = decide(&spec, existing);
            let changed = match (action, existing) {
                (Action::Recreate, Some(c)) => {
                    let label = c.labels.as_ref().and_then(|l| l.get(LABEL_KEYS));
                    super::spec::changed_keys(label.map(String::as_str), &spec.key_hashes())
                }
                _ => Vec::new(),
            };
            Ok(Plan {
                service: s,
                spec,
                action,
                existing,
                rebuilt: false,
                changed,
            })
        })
        .collect::<Result<_>>()?;
    let mut orphans: Vec<&ContainerSummary> = by_service
        .iter()
        .filter(|(name, _)| m.service(name).is_none())
        .map(|(_, c)| *c)
        .collect();
    super::shared::leave_other_clones_alone(
        project,
        &req.paths.root.display().to_string(),
        &mut plans,
        &mut orphans,
        req.reporter,
    );

    let mut report = UpReport::default();
    let images = Images {
        engine,
        req,
        built: &built,
    };
    images.pull_always(&mut plans, &mut report).await?;
    check_ports(engine, &plans, &orphans).await?;
    images.acquire(&mut plans, &mut report).await?;

    let work = !orphans.is_empty()
        || plans
            .iter()
            .any(|p| !matches!(p.action, Action::Keep | Action::JobDone));
    if work {
        let net = network::ensure(engine, project).await?;
        for p in &mut plans {
            p.spec.network_id = Some(net.id.clone());
        }
    }
    for c in &orphans {
        if let Some(name) = c.names.as_ref().and_then(|n| n.first()) {
            let name = name.trim_start_matches('/');
            down::stop_and_remove(engine, name).await?;
            let service = c
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_SERVICE))
                .cloned()
                .unwrap_or_default();
            req.reporter.message(
                Level::Info,
                &format!("removed `{service}` (no longer in devenv.toml)"),
            );
            report.removed.push(service);
        }
    }

    let mut record: ReadyRecord = state::read_json(&req.paths.state_file(READY_FILE));
    let by_name: HashMap<&str, &Plan> =
        plans.iter().map(|p| (p.service.name.as_str(), p)).collect();
    let mut failed: BTreeMap<String, Failure> = BTreeMap::new();
    let mut blocked: BTreeMap<String, String> = BTreeMap::new();
    let mut warned = BTreeSet::new();
    for level in m.start_levels() {
        let mut runnable = Vec::new();
        for s in level {
            if let Some(dep) = s
                .depends_on
                .iter()
                .find(|d| failed.contains_key(*d) || blocked.contains_key(*d))
            {
                blocked.insert(s.name.clone(), dep.clone());
                continue;
            }
            for d in &s.depends_on {
                if m.service(d).is_none()
                    && !req.external_ready.contains(d)
                    && warned.insert(d.clone())
                {
                    req.reporter.message(
                        Level::Warn,
                        &format!(
                            "`{}` depends on `{d}`, which is not running yet; starting it anyway",
                            s.name
                        ),
                    );
                }
            }
            runnable.push(s);
        }
        // Only the services that run count as leads: a blocked one never
        // starts, and the others would wait for it.
        let gate = StartGate::new(runnable.iter().copied());
        let gate = &gate;
        let runs = runnable.into_iter().map(|s| {
            let plan = by_name[s.name.as_str()];
            let proven = record.ready.get(&s.name).cloned();
            async move {
                let r = converge(engine, req.reporter, plan, proven, gate).await;
                (plan, r)
            }
        });
        for (plan, r) in join_all(runs).await {
            let name = plan.service.name.clone();
            match r {
                Ok(id) => {
                    match plan.action {
                        Action::Keep | Action::JobDone => report.unchanged.push(name.clone()),
                        Action::Start => report.started.push(name.clone()),
                        Action::Create => report.created.push(name.clone()),
                        Action::Recreate => report.recreated.push(name.clone()),
                    }
                    if plan.spec.is_job() && plan.action != Action::JobDone {
                        report.jobs_run.push(name.clone());
                    }
                    match id {
                        Some(id) => record.ready.insert(name, id),
                        None => record.ready.remove(&name),
                    };
                }
                Err(f) => {
                    record.ready.remove(&name);
                    failed.insert(name, f);
                }
            }
        }
    }

    record.ready.retain(|k, _| m.service(k).is_some());
    let save = || -> std::io::Result<()> {
        req.paths.ensure_state_dir()?;
        super::save_json_if_changed(&req.paths.state_file(PortBook::FILE), &book)?;
        super::save_json_if_changed(&req.paths.state_file(READY_FILE), &record)?;
        let endpoints = m
            .services
            .iter()
            .filter(|s| {
                !s.is_job() && !failed.contains_key(&s.name) && !blocked.contains_key(&s.name)
            })
            .map(|s| {
                // Where each port is reached from here (forwarded, remotely).
                let ports: Vec<Published> = published
                    .get(&s.name)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| Published {
                        host: engine.port_here(p.host),
                        ..*p
                    })
                    .collect();
                (s.name.clone(), exports::endpoint(s, &ports))
            })
            .collect();
        exports::save(req.paths, endpoints)
    };
    save().map_err(|e| ServicesError::Other(format!("cannot write .devenv/state: {e}")))?;

    if failed.is_empty() {
        return Ok(report);
    }
    Err(ServicesError::NotReady(failure_text(&failed, &blocked)))
}

/// Decides from the list entry alone (no inspect).
fn decide(spec: &Spec, existing: Option<&ContainerSummary>) -> Action {
    let Some(c) = existing else {
        return Action::Create;
    };
    let hash = c.labels.as_ref().and_then(|l| l.get(LABEL_HASH));
    if hash != Some(&spec.hash()) {
        return Action::Recreate;
    }
    match c.state {
        Some(ContainerSummaryStateEnum::RUNNING) | Some(ContainerSummaryStateEnum::RESTARTING) => {
            Action::Keep
        }
        Some(ContainerSummaryStateEnum::EXITED) if spec.is_job() => {
            if exit_code_of(c.status.as_deref()) == Some(0) {
                Action::JobDone
            } else {
                // A failed job runs again in a fresh container, so its log
                // tail is this run's.
                Action::Recreate
            }
        }
        Some(ContainerSummaryStateEnum::CREATED) | Some(ContainerSummaryStateEnum::EXITED) => {
            Action::Start
        }
        _ => Action::Recreate,
    }
}

/// `Exited (0) 3 minutes ago` -> 0.
fn exit_code_of(status: Option<&str>) -> Option<i64> {
    let s = status?.strip_prefix("Exited (")?;
    s.split(')').next()?.parse().ok()
}

/// Every host port a container we are about to start will bind must be
/// free, except ports held by our own containers that are removed first.
async fn check_ports(
    engine: &Engine,
    plans: &[Plan<'_>],
    orphans: &[&ContainerSummary],
) -> Result<()> {
    // A remote engine's host ports are on its machine (it refuses a taken
    // one itself); here they are forwards, which `crate::forward` placed.
    if engine.remote.is_some() {
        return Ok(());
    }
    let freed: BTreeSet<u16> = plans
        .iter()
        .filter(|p| p.action == Action::Recreate)
        .filter_map(|p| p.existing)
        .chain(orphans.iter().copied())
        .flat_map(|c| c.ports.iter().flatten().filter_map(|p| p.public_port))
        .collect();
    let mut busy: Vec<(&str, Published)> = Vec::new();
    for p in plans {
        if !matches!(p.action, Action::Start | Action::Create | Action::Recreate) {
            continue;
        }
        for port in &p.spec.ports {
            if !freed.contains(&port.host) && !ports::is_free(port) {
                busy.push((&p.service.name, *port));
            }
        }
    }
    if busy.is_empty() {
        return Ok(());
    }
    let all = engine
        .docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default().all(true).build(),
        ))
        .await
        .unwrap_or_default();
    Err(ServicesError::PortsInUse(
        busy.into_iter()
            .map(|(service, port)| ports::PortConflict {
                service: service.to_string(),
                port,
                holder: ports::holder(&port, &all),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::{RunMode, Service};

    fn spec(run: RunMode) -> Spec {
        let s = Service {
            run,
            ..Service::bare("db", "postgres:16")
        };
        Spec::new(
            &s,
            SpecContext {
                project_id: "p",
                network: "devenv_p_default",
                extra_hosts: &[],
                image: "postgres:16".into(),
                ports: vec![],
                mounts: vec![],
            },
        )
    }

    fn found(hash: &str, state: ContainerSummaryStateEnum, status: &str) -> ContainerSummary {
        ContainerSummary {
            labels: Some(HashMap::from([(LABEL_HASH.to_string(), hash.to_string())])),
            state: Some(state),
            status: Some(status.into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_list_entry_alone_decides_what_to_do() {
        use ContainerSummaryStateEnum::*;
        let s = spec(RunMode::Always);
        let h = s.hash();
        assert_eq!(decide(&s, None), Action::Create);
        assert_eq!(
            decide(&s, Some(&found(&h, RUNNING, "Up 2 minutes"))),
            Action::Keep
        );
        assert_eq!(
            decide(&s, Some(&found("old", RUNNING, "Up"))),
            Action::Recreate
        );
        // What an interrupted `up` leaves between create and start.
        assert_eq!(
            decide(&s, Some(&found(&h, CREATED, "Created"))),
            Action::Start
        );
        assert_eq!(
            decide(&s, Some(&found(&h, EXITED, "Exited (137) 1 second ago"))),
            Action::Start
        );
        assert_eq!(decide(&s, Some(&found(&h, DEAD, "Dead"))), Action::Recreate);
    }

    #[test]
    fn a_job_is_done_after_exit_0_and_reruns_after_a_failure() {
        use ContainerSummaryStateEnum::*;
        let s = spec(RunMode::Once);
        let h = s.hash();
        assert_eq!(
            decide(&s, Some(&found(&h, EXITED, "Exited (0) 1 hour ago"))),
            Action::JobDone
        );
        assert_eq!(
            decide(&s, Some(&found(&h, EXITED, "Exited (2) 1 hour ago"))),
            Action::Recreate
        );
        assert_eq!(
            decide(&s, Some(&found(&h, RUNNING, "Up 1 second"))),
            Action::Keep
        );
    }

    #[test]
    fn exit_codes_come_from_the_status_text() {
        assert_eq!(exit_code_of(Some("Exited (0) 3 minutes ago")), Some(0));
        assert_eq!(
            exit_code_of(Some("Exited (137) About a minute ago")),
            Some(137)
        );
        assert_eq!(exit_code_of(Some("Up 2 seconds")), None);
    }
}
