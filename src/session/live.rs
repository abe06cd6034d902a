//! The real backend: the user's container engine (connected on first use
//! and shared by every phase), background mock processes, downloads, hooks,
//! and the supervised processes of `[processes]`.
//!
//! Hooks run as async children, so the signal handling around a phase can
//! win while one runs: dropping the phase stops the hook's process group.
//!
//! Domain rules of the phases live here, in one place: mocks listen on
//! 127.0.0.1 and, when there are containers, on the project network's
//! gateway (a host-internal bridge address, never reachable from other
//! machines); every container gets an /etc/hosts entry `<mock>` -> that
//! gateway, so it reaches a mock by name.

use std::net::IpAddr;

use tokio::sync::OnceCell;

use crate::error::Error;
use crate::hooks::{self, HookKind};
use crate::manifest::HookEntry;
use crate::progress::{Level, Reporter};
use crate::services::images::ImagePolicy;
use crate::services::network::NetworkInfo;
use crate::services::{self, DownOptions, DownReport, Engine, StatusEntry};

use super::{Backend, Phase, Session, UpOptions};

/// Connected on first use; one per command.
#[derive(Default)]
pub struct Live {
    engine: OnceCell<Engine>,
    network: OnceCell<NetworkInfo>,
}

impl Live {
    pub fn new() -> Self {
        Live::default()
    }

    /// The engine; none answering is a missing prerequisite (exit 3).
    pub async fn engine(&self, s: &Session<'_>) -> Result<&Engine, Error> {
        self.engine
            .get_or_try_init(|| async {
                let engine = services::engine::connect(&s.settings.engine)
                    .await
                    .map_err(Error::from)?;
                super::forward::learn_ports(&engine, s);
                Ok::<_, Error>(engine)
            })
            .await
    }

    /// The project network's gateway: where containers reach host processes.
    async fn gateway(&self, s: &Session<'_>) -> Result<Option<IpAddr>, Error> {
        let engine = self.engine(s).await?;
        let info = self
            .network
            .get_or_try_init(|| async {
                services::network::ensure(engine, &s.manifest.project.id)
                    .await
                    .map_err(Error::from)
            })
            .await?;
        Ok(info.gateway)
    }

    async fn mocks_phase(&self, s: &Session<'_>, reporter: &dyn Reporter) -> Result<(), Error> {
        let mut req = crate::mocks::UpRequest::new(s.manifest, &s.paths, s.exe.clone(), reporter);
        // A remote engine's gateway is not an address here: the mocks are
        // forwarded there instead (`session::forward`).
        if !s.manifest.services.is_empty() && !super::forward::remote_configured(s) {
            if let Some(gw) = self.gateway(s).await? {
                req.addresses.push(gw);
            }
        }
        // Blocking, on the runtime's one thread: nothing else runs in the
        // mocks phase.
        crate::mocks::up(&req)?;
        Ok(())
    }

    async fn services_phase(
        &self,
        s: &Session<'_>,
        opts: &UpOptions,
        reporter: &dyn Reporter,
    ) -> Result<(), Error> {
        let m = s.manifest;
        let engine = self.engine(s).await?;
        // Every mock is reachable from every container by its name. Always
        // computed from the manifest, so `--only services` hashes the same.
        let hosts = async {
            Ok::<_, Error>(match m.mocks.is_empty() {
                true => Vec::new(),
                false => match self.gateway(s).await? {
                    Some(gw) => m.mocks.iter().map(|mk| (mk.name.clone(), gw)).collect(),
                    None => Vec::new(),
                },
            })
        };
        // The network lookup and the list call side by side: on an ssh://
        // engine each is a new channel and a request, two round trips.
        // Finding or making the network creates no container, so the list
        // still holds after it.
        let (extra_hosts, listed) =
            tokio::join!(hosts, services::project_containers(engine, &m.project.id));
        let extra_hosts: Vec<(String, IpAddr)> = extra_hosts?;
        let listed = listed.map_err(|e| with_mirror_hint(e, s))?;
        if engine.remote.is_some() {
            let gateway = match m.mocks.is_empty() {
                true => None,
                false => self.gateway(s).await?,
            };
            let added = super::forward::ensure(engine, s, gateway, reporter)?;
            super::forward::check_mocks(engine, s, &added, reporter).await;
        }
        let req = services::UpRequest {
            manifest: m,
            paths: &s.paths,
            reporter,
            mirror: s.settings.registry_mirror.value.clone(),
            images: ImagePolicy {
                pull: s.settings.pull.value,
                offline: opts.offline,
                docker_config_dir: s.settings.engine.docker_config_dir.clone(),
            },
            extra_hosts,
            // Mocks start before services; a service may depend on one.
            external_ready: m.mocks.iter().map(|mk| mk.name.clone()).collect(),
            extra_mounts: s
                .settings
                .mounts
                .iter()
                .map(|x| (x.service.clone(), x.mount.clone()))
                .collect(),
            force_build: opts.build,
            listed: &listed,
        };
        let report = services::up(engine, &req)
            .await
            .map_err(|e| with_mirror_hint(e, s))?;
        if report.changed_nothing() {
            reporter.message(Level::Detail, "services: all running and unchanged");
        }
        Ok(())
    }

    /// Starts, keeps or restarts the processes (and stops those no longer
    /// declared), with the project environment. Async all the way, so a
    /// signal wins while `up` waits for one to get ready.
    async fn processes_phase(&self, s: &Session<'_>, reporter: &dyn Reporter) -> Result<(), Error> {
        // A log tail in an error may quote what a secret command printed.
        s.learn_secret_commands();
        let env = s.project_env().await?;
        let req = crate::processes::UpRequest {
            manifest: s.manifest,
            paths: &s.paths,
            exe: s.exe.clone(),
            env: &env,
            reporter,
        };
        Ok(crate::processes::up(&req).await?)
    }

    /// Runs hooks with every secret this command can know masked in their
    /// output (the config phase, when it ran, taught the redactor too).
    async fn hooks(
        &self,
        s: &Session<'_>,
        list: &[HookEntry],
        kind: HookKind,
        reporter: &dyn Reporter,
    ) -> Result<(), Error> {
        s.learn_secret_commands();
        let env = s.project_env().await?;
        let req = hooks::RunRequest {
            paths: &s.paths,
            hooks: list,
            kind,
            env: &env,
            redactor: s.redactor(),
        };
        hooks::run(&req, reporter).await?;
        Ok(())
    }
}

impl Backend for Live {
    async fn check_ports(&self, s: &Session<'_>, phases: &[Phase]) -> Result<(), Error> {
        if phases.contains(&Phase::Mocks) {
            crate::mocks::check_ports(s.manifest, &s.paths)?;
        }
        // On a remote engine, a port taken here is forwarded from another.
        if phases.contains(&Phase::Services)
            && !s.manifest.services.is_empty()
            && !super::forward::remote_configured(s)
        {
            let busy = services::ports::busy(s.manifest, &s.paths);
            if !busy.is_empty() {
                let engine = self.engine(s).await?;
                let conflicts =
                    services::ports::foreign(engine, &s.manifest.project.id, busy).await;
                if !conflicts.is_empty() {
                    return Err(services::ServicesError::PortsInUse(conflicts).into());
                }
            }
        }
        Ok(())
    }

    async fn run_phase(
        &self,
        s: &Session<'_>,
        phase: Phase,
        opts: &UpOptions,
        reporter: &dyn Reporter,
    ) -> Result<(), Error> {
        let m = s.manifest;
        match phase {
            Phase::Tools if m.tools.is_empty() && !s.paths.bin_dir().exists() => Ok(()),
            Phase::Tools => {
                let settings = super::tool_settings(s, opts.frozen, opts.offline)?;
                Ok(crate::tools::install(m, &s.paths, reporter, &settings).await?)
            }
            // None declared: still stop one that was removed from the file.
            Phase::Mocks if m.mocks.is_empty() && crate::mocks::recorded(&s.paths).is_empty() => {
                Ok(())
            }
            Phase::Mocks => self.mocks_phase(s, reporter).await,
            Phase::Services if m.services.is_empty() => Ok(()),
            Phase::Services => self.services_phase(s, opts, reporter).await,
            Phase::Config if m.config.files.is_empty() => Ok(()),
            Phase::Config => super::render::config_phase(s, opts.offline, reporter).await,
            Phase::Hooks if m.hooks.setup.is_empty() => Ok(()),
            Phase::Hooks => {
                self.hooks(s, &m.hooks.setup, HookKind::Setup, reporter)
                    .await
            }
            // Also with none declared: one removed from devenv.toml stops.
            Phase::Processes => self.processes_phase(s, reporter).await,
        }
    }

    async fn pre_down(&self, s: &Session<'_>) {
        let m = s.manifest;
        if m.hooks.pre_down.is_empty() {
            return;
        }
        if !hooks::trust::is_trusted(&s.paths, m) {
            s.reporter.message(
                Level::Warn,
                "pre_down hooks skipped: this devenv.toml is not trusted (`devenv trust`)",
            );
            return;
        }
        let r = self
            .hooks(s, &m.hooks.pre_down, HookKind::PreDown, &s.reporter)
            .await;
        if let Err(e) = r {
            let e = s.redact_error(e);
            s.reporter
                .message(Level::Warn, &format!("{e}; going on with down"));
        }
    }

    async fn stop_processes(&self, s: &Session<'_>) -> Vec<String> {
        match crate::processes::down(&s.paths).await {
            Ok(names) => names,
            Err(e) => {
                s.reporter
                    .message(Level::Warn, &format!("stopping processes: {e}"));
                Vec::new()
            }
        }
    }

    fn stop_mocks(&self, s: &Session<'_>) -> Vec<String> {
        match crate::mocks::down(&s.paths) {
            Ok(names) => names,
            Err(e) => {
                s.reporter
                    .message(Level::Warn, &format!("stopping mocks: {e}"));
                Vec::new()
            }
        }
    }

    /// A project without services needs no engine to go down (its mocks are
    /// stopped by then); one with services does.
    async fn remove_containers(
        &self,
        s: &Session<'_>,
        what: services::Teardown,
    ) -> Result<DownReport, Error> {
        let engine = match self.engine(s).await {
            Ok(e) => e,
            Err(_) if s.manifest.services.is_empty() && !s.from_labels => {
                super::forward::close(None, s);
                return Ok(DownReport::default());
            }
            Err(e) => return Err(e),
        };
        let opts = DownOptions {
            project_id: &s.manifest.project.id,
            what,
        };
        let report = services::down(engine, &opts).await?;
        super::forward::close(Some(engine), s);
        Ok(report)
    }

    async fn services_status(&self, s: &Session<'_>) -> Result<Vec<StatusEntry>, Error> {
        if s.from_labels {
            let engine = self.engine(s).await?;
            return Ok(services::status::from_labels(engine, &s.manifest.project.id).await?);
        }
        if s.manifest.services.is_empty() {
            return Ok(Vec::new());
        }
        let engine = self.engine(s).await?;
        Ok(services::status(engine, s.manifest, &s.paths).await?)
    }
}

/// A registry out of reach gets the hint a new user needs: the setting,
/// and the user's own file, where it is set once for every clone.
fn with_mirror_hint(e: services::ServicesError, s: &Session<'_>) -> Error {
    if !e.registry_unreachable() {
        return e.into();
    }
    let user_config = s.settings.user_config.display();
    let hint = match &s.settings.registry_mirror.value {
        Some(mirror) => format!(
            "the registry mirror `{mirror}` (set in {}) did not answer: check that it runs, or change `registry_mirror` there",
            s.settings
                .registry_mirror
                .origin
                .source()
                .unwrap_or_else(|| "the defaults".into())
        ),
        None => format!(
            "if this machine cannot reach Docker Hub, set a mirror once for every clone in {user_config}:\n      [settings]\n      registry_mirror = \"HOST:PORT\"\n    (or DEVENV_REGISTRY_MIRROR for one shell)"
        ),
    };
    match Error::from(e) {
        Error::Failed { message, .. } => Error::failed_with(message, Some(hint)),
        other => other,
    }
}
