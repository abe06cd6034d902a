//! One recorded run of `up`, `down` or `reset`: the journal's line format.
//!
//! The journal is the source of truth; everything `metrics` shows and
//! `report` sends is derived from these records. Fields are only ever added
//! (with serde defaults) so old journals keep reading.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::settings::CiRun;

/// Journal line format version, bumped only on incompatible changes.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Up,
    Down,
    Reset,
    /// An `up` in a CI job: a setup run that is nobody's onboarding.
    Ci,
}

impl RunKind {
    pub const ALL: [RunKind; 4] = [RunKind::Up, RunKind::Down, RunKind::Reset, RunKind::Ci];

    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Up => "up",
            RunKind::Down => "down",
            RunKind::Reset => "reset",
            RunKind::Ci => "ci",
        }
    }

    /// An `up`, on a laptop or in CI: what setup health is measured on.
    pub fn is_setup(self) -> bool {
        matches!(self, RunKind::Up | RunKind::Ci)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Failed,
    Interrupted,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Ok, Outcome::Failed, Outcome::Interrupted];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseTime {
    pub name: String,
    pub seconds: f64,
}

/// A tool the run needed: fetched now or found in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolFetch {
    pub name: String,
    pub version: String,
    pub downloaded: bool,
    pub bytes: u64,
    pub seconds: f64,
}

/// An image the run needed: pulled now or already present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFetch {
    /// Kept in the local journal only: a reference can name a private
    /// registry host, and hostnames are never sent.
    pub reference: String,
    pub pulled: bool,
    pub bytes: u64,
    pub seconds: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fetches {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolFetch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageFetch>,
}

/// Cache hits of a run, as counts: what is sent instead of the names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheSummary {
    pub tools_downloaded: u64,
    pub tools_reused: u64,
    pub tool_bytes: u64,
    pub images_pulled: u64,
    pub images_present: u64,
    pub image_bytes: u64,
}

impl Fetches {
    pub fn summary(&self) -> CacheSummary {
        let mut s = CacheSummary::default();
        for t in &self.tools {
            if t.downloaded {
                s.tools_downloaded += 1;
                s.tool_bytes += t.bytes;
            } else {
                s.tools_reused += 1;
            }
        }
        for i in &self.images {
            if i.pulled {
                s.images_pulled += 1;
                s.image_bytes += i.bytes;
            } else {
                s.images_present += 1;
            }
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    #[serde(default = "format_v1")]
    pub v: u32,
    pub id: String,
    pub kind: RunKind,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: Outcome,
    /// The phase (or step) that failed or was running when interrupted.
    #[serde(default)]
    pub failed_step: Option<String>,
    #[serde(default)]
    pub phases: Vec<PhaseTime>,
    /// True when every phase was asked for (no `--only`): only such an `up`
    /// that ends ok makes the environment "fully ready".
    #[serde(default)]
    pub complete: bool,
    #[serde(default)]
    pub fetches: Fetches,
    #[serde(default)]
    pub devenv_version: String,
    /// The CI job the run belongs to; None on a laptop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<CiRun>,
}

fn format_v1() -> u32 {
    FORMAT
}

impl Run {
    pub fn seconds(&self) -> f64 {
        (self.finished_at - self.started_at)
            .num_milliseconds()
            .max(0) as f64
            / 1000.0
    }

    /// The run that makes the environment "fully ready" for the timeline.
    pub fn is_full_ready(&self) -> bool {
        self.kind == RunKind::Up
            && self.outcome == Outcome::Ok
            && self.complete
            && self.ci.is_none()
    }

    pub fn phase(&self, name: &str) -> Option<f64> {
        self.phases
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.seconds)
    }
}

/// A fresh run id: 128 random bits as a UUID-v4-shaped string, so receivers
/// can use it as an idempotency key as is.
pub fn new_id() -> String {
    let mut b = random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// 16 random bytes from the OS; the std hasher's per-process random keys
/// mixed with time and pid where /dev/urandom is missing.
pub(crate) fn random_bytes() -> [u8; 16] {
    let mut b = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        if std::io::Read::read_exact(&mut f, &mut b).is_ok() {
            return b;
        }
    }
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    for (i, chunk) in b.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_distinct() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn old_lines_without_new_fields_still_read() {
        let line = r#"{"id":"x","kind":"up","started_at":"2026-01-01T00:00:00Z","finished_at":"2026-01-01T00:00:02Z","outcome":"ok"}"#;
        let run: Run = serde_json::from_str(line).unwrap();
        assert_eq!(run.seconds(), 2.0);
        assert!(run.phases.is_empty());
    }
}
