//! The seam between the flows and the world: everything that touches the
//! container engine, starts or stops processes, or downloads. `Live` is the
//! real one; the unit tests use a fake that records what it was asked, so
//! phase order, gating, trust and run recording are tested without Docker.
//! (ARCHITECTURE.md also describes how a Kubernetes backend would plug in
//! here.)

use crate::error::Error;
use crate::progress::Reporter;
use crate::services::{DownReport, StatusEntry, Teardown};

use super::{Phase, Session, UpOptions};

// Static dispatch only (`Live` and the tests' fake), so the futures' auto
// traits never need naming.
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// Host ports the phases about to run need, checked before any of them
    /// starts: a taken one is exit 2 for services and mocks alike.
    async fn check_ports(&self, s: &Session<'_>, phases: &[Phase]) -> Result<(), Error>;

    /// Runs one phase of `up`, reporting through `reporter` (the run
    /// recorder's tap over the session's reporter).
    async fn run_phase(
        &self,
        s: &Session<'_>,
        phase: Phase,
        opts: &UpOptions,
        reporter: &dyn Reporter,
    ) -> Result<(), Error>;

    /// `pre_down` hooks (trusted only); a failure is a warning. Dropped by
    /// a signal, it stops the running hook.
    async fn pre_down(&self, s: &Session<'_>);

    /// Stops this clone's processes (supervisors and their groups);
    /// returns the names of those that ran.
    async fn stop_processes(&self, s: &Session<'_>) -> Vec<String>;

    /// Stops this clone's mocks; returns their names.
    fn stop_mocks(&self, s: &Session<'_>) -> Vec<String>;

    /// Removes the project's containers and network, and what `what` adds.
    async fn remove_containers(&self, s: &Session<'_>, what: Teardown)
        -> Result<DownReport, Error>;

    /// Services and jobs as the engine sees them.
    async fn services_status(&self, s: &Session<'_>) -> Result<Vec<StatusEntry>, Error>;
}
