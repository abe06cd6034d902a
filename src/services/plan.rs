//! What `up` decided for each service: the [`Action`] (keep, start,
//! create, recreate, or a job already done) and the [`Plan`] that pairs it
//! with the service's spec and the container found.
//!
//! Its own file because `up` builds plans and `start` carries them out:
//! with the types in `up`, `up` and `start` imported each other.

use bollard::models::ContainerSummary;

use crate::manifest::model::Service;

use super::spec::Spec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// Running with the current hash.
    Keep,
    /// Same hash, not running.
    Start,
    Create,
    Recreate,
    /// A job that already ran to exit 0 with this definition.
    JobDone,
}

/// One service's step in this `up`, with what it works on.
pub(super) struct Plan<'a> {
    pub service: &'a Service,
    pub spec: Spec,
    pub action: Action,
    pub existing: Option<&'a ContainerSummary>,
    /// This `up` built the image the container is recreated from.
    pub rebuilt: bool,
    /// For a recreate: the keys of the definition that changed.
    pub changed: Vec<String>,
}
