//! Making the images of one `up` present before any container is made:
//! pulls by the pull policy, builds by their tags, side by side.
//!
//! Only containers about to be created need their image, so a no-op `up`
//! asks the engine nothing here. Built images are never pulled: their tag
//! exists only on this engine.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;

use crate::manifest::model::PullPolicy;
use crate::progress::Level;

use super::build::{self, Outcome, Prepared};
use super::images::{self, ImageRef};
use super::plan::{Action, Plan};
use super::up::{UpReport, UpRequest};
use super::{Engine, Result};

/// What the image steps of one `up` work with.
pub(super) struct Images<'a> {
    pub engine: &'a Engine,
    pub req: &'a UpRequest<'a>,
    /// Tags and contexts of the services with `build`.
    pub built: &'a BTreeMap<String, Prepared>,
}

impl Images<'_> {
    /// The build that makes this plan's image, if it is built.
    fn build_of(&self, p: &Plan<'_>) -> Option<&Prepared> {
        build::for_service(self.built, p.service)
    }

    fn is_built(&self, p: &Plan<'_>) -> bool {
        self.build_of(p).is_some()
    }

    /// `pull = "always"`: every pulled image is pulled, and a container
    /// that runs an older one than is now there is recreated.
    pub async fn pull_always(&self, plans: &mut [Plan<'_>], report: &mut UpReport) -> Result<()> {
        let policy = &self.req.images;
        if policy.pull != PullPolicy::Always || policy.offline {
            return Ok(());
        }
        let refs: BTreeSet<&str> = plans
            .iter()
            .filter(|p| !self.is_built(p))
            .map(|p| p.spec.image.as_str())
            .collect();
        report.pulled.extend(self.pull(refs).await?);
        for p in plans.iter_mut() {
            if self.is_built(p)
                || !matches!(p.action, Action::Keep | Action::Start | Action::JobDone)
            {
                continue;
            }
            let current = build::image_id(self.engine, &p.spec.image).await;
            let running = p.existing.and_then(|c| c.image_id.clone());
            if current.is_some() && current != running {
                p.action = Action::Recreate;
            }
        }
        Ok(())
    }

    /// Pulls (unless `pull = "always"` did) and builds what the containers
    /// about to be made need; with `force`, builds every built image and
    /// recreates the containers whose image changed.
    pub async fn acquire(&self, plans: &mut [Plan<'_>], report: &mut UpReport) -> Result<()> {
        let policy = &self.req.images;
        let pulled_before = policy.pull == PullPolicy::Always && !policy.offline;
        let needs = |p: &Plan<'_>| matches!(p.action, Action::Create | Action::Recreate);
        let refs: BTreeSet<&str> = plans
            .iter()
            .filter(|p| !pulled_before && needs(p) && !self.is_built(p))
            .map(|p| p.spec.image.as_str())
            .collect();
        // Images of containers this `up` keeps are there: the run journal
        // counts them as present without asking the engine.
        let kept: BTreeSet<&str> = plans
            .iter()
            .filter(|p| !needs(p) && !self.is_built(p))
            .map(|p| p.spec.image.as_str())
            .filter(|r| !refs.contains(r))
            .collect();
        for reference in kept {
            images::present(self.req.reporter, reference);
        }
        let mut wanted: Vec<&Prepared> = plans
            .iter()
            .filter(|p| self.req.force_build || needs(p))
            .filter_map(|p| self.build_of(p))
            .collect();
        wanted.sort_by(|a, b| a.service.cmp(&b.service));
        wanted.dedup_by(|a, b| a.service == b.service);
        self.unchanged_builds(plans);
        let ensure = build::EnsureRequest {
            engine: self.engine,
            reporter: self.req.reporter,
            project: &self.req.manifest.project.id,
            force: self.req.force_build,
            mirror: self.req.mirror.as_deref(),
            policy: &self.req.images,
        };
        let builds = join_all(
            wanted
                .iter()
                .map(|b| async { (b.service.clone(), build::ensure(&ensure, b).await) }),
        );
        let (pulled, builds) = tokio::join!(self.pull(refs), builds);
        let mut outcomes = BTreeMap::new();
        let mut failure = None;
        for (service, r) in builds {
            match r {
                Ok(o) => {
                    outcomes.insert(service, o);
                }
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        if let Some(e) = failure {
            return Err(e.into());
        }
        report.pulled.extend(pulled?);
        for p in plans.iter_mut() {
            let Some(b) = self.build_of(p) else {
                continue;
            };
            match outcomes.get(&b.service) {
                Some(Outcome::Built(id)) => {
                    if b.service == p.service.name {
                        report.built.push(b.service.clone());
                    }
                    let running = p.existing.and_then(|c| c.image_id.as_deref());
                    if p.action != Action::Create && running != Some(id.as_str()) {
                        p.action = Action::Recreate;
                        p.rebuilt = true;
                    }
                }
                Some(Outcome::Present) => self.req.reporter.message(
                    Level::Detail,
                    &format!("`{}`: image {} already built", p.service.name, p.spec.image),
                ),
                None => {}
            }
        }
        Ok(())
    }

    /// Says, with `-v`, which built images this `up` leaves alone.
    fn unchanged_builds(&self, plans: &[Plan<'_>]) {
        if self.req.force_build {
            return;
        }
        for p in plans.iter().filter(|p| self.is_built(p)) {
            if matches!(p.action, Action::Keep | Action::Start | Action::JobDone) {
                self.req.reporter.message(
                    Level::Detail,
                    &format!(
                        "`{}`: context unchanged, nothing built ({})",
                        p.service.name, p.spec.image
                    ),
                );
            }
        }
    }

    /// Pulls each reference once, all at the same time; returns those that
    /// were downloaded.
    async fn pull(&self, refs: BTreeSet<&str>) -> Result<Vec<String>> {
        let results = join_all(refs.iter().map(|r| async move {
            let image = ImageRef::parse(r);
            let policy = &self.req.images;
            (
                r,
                images::ensure(self.engine, &image, policy, self.req.reporter).await,
            )
        }))
        .await;
        let mut pulled = Vec::new();
        for (r, res) in results {
            if res? == images::Ensured::Pulled {
                pulled.push(r.to_string());
            }
        }
        Ok(pulled)
    }
}
