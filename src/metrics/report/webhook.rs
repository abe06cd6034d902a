//! Webhook: one JSON document per run, POSTed with the run id as the
//! `Idempotency-Key`, so a document re-sent after a lost acknowledgement is
//! recognisably the same one.

use serde_json::{json, Value};

use super::Facts;
use crate::metrics::run::Run;
use crate::metrics::timeline::rfc3339;

pub const SCHEMA: &str = "devenv.metrics/v1";

/// Everything sent about one run. Image references and tool names stay in
/// the local journal: only counts and bytes leave the machine.
pub fn run_document(f: &Facts, run: &Run) -> Value {
    // A CI job is nobody: no identity, no onboarding, but its pipeline.
    let laptop = run.ci.is_none();
    json!({
        "schema": SCHEMA,
        "type": "run",
        "id": run.id,
        "project": f.project,
        "hire": if laptop { f.hire } else { None },
        "kind": run.kind,
        "started_at": rfc3339(run.started_at),
        "finished_at": rfc3339(run.finished_at),
        "seconds": run.seconds(),
        "outcome": run.outcome,
        "failed_step": run.failed_step,
        "complete": run.complete,
        "phases": run.phases,
        "cache": run.fetches.summary(),
        "devenv_version": run.devenv_version,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "ci": run.ci,
        "onboarding": laptop.then(|| f.timeline.onboarding()),
    })
}

/// Sent when the timeline changed but there is no new run to carry it
/// (e.g. the post-commit hook found the first commit).
pub fn onboarding_document(f: &Facts, key: &str) -> Value {
    json!({
        "schema": SCHEMA,
        "type": "onboarding",
        "id": key,
        "project": f.project,
        "hire": f.hire,
        "onboarding": f.timeline.onboarding(),
    })
}
