//! Two clones that share a `[project] name` share its containers (the name
//! is what containers, networks and volumes are named after). Each
//! container carries the clone that created it (`dev.devenv.clone`); an
//! `up` in one clone leaves the other clone's containers alone (it neither
//! recreates them nor removes them as orphans) and says so once, with what
//! to do, instead of the two clones recreating each other's databases.

use bollard::models::ContainerSummary;

use crate::progress::{Level, Reporter};

use super::plan::{Action, Plan};
use super::LABEL_CLONE;

/// The other clone that created `c`, if it was not `ours`. Containers from
/// before the label existed count as ours.
fn other_clone(c: &ContainerSummary, ours: &str) -> Option<String> {
    let theirs = c.labels.as_ref()?.get(LABEL_CLONE)?;
    (theirs != ours).then(|| theirs.clone())
}

/// Keeps the other clone's containers as they are, drops them from the
/// orphans, and warns once.
pub(super) fn leave_other_clones_alone(
    project: &str,
    ours: &str,
    plans: &mut [Plan<'_>],
    orphans: &mut Vec<&ContainerSummary>,
    reporter: &dyn Reporter,
) {
    let mut others: Vec<String> = Vec::new();
    for p in plans.iter_mut() {
        let Some(theirs) = p.existing.and_then(|c| other_clone(c, ours)) else {
            continue;
        };
        if p.action == Action::Recreate {
            p.action = Action::Keep;
        }
        others.push(theirs);
    }
    orphans.retain(|c| match other_clone(c, ours) {
        Some(theirs) => {
            others.push(theirs);
            false
        }
        None => true,
    });
    others.sort();
    others.dedup();
    if others.is_empty() {
        return;
    }
    reporter.message(
        Level::Warn,
        &format!(
            "project `{project}` is also brought up by the clone at {}: its containers are shared, and this `up` leaves that clone's containers as they are. \
             Give each clone its own [project] name (or drop `name`: each clone then gets its own), or run `devenv down` in the other clone",
            others.join(", ")
        ),
    );
}
