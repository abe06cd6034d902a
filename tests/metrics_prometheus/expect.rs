//! What every recording rule must answer, computed here from each clone's
//! own `devenv metrics --json`, the way Prometheus computes it.

use std::collections::{BTreeMap, BTreeSet};

pub type Labels = BTreeMap<String, String>;
/// What a query answers: one value per label set.
pub type Vector = BTreeMap<Labels, f64>;

/// Prometheus' `quantile`: linear interpolation between the closest ranks.
fn quantile(q: f64, values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = q * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (rank - lo as f64)
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// One clone that reported: a hire's laptop or a CI job.
pub struct Reporter {
    pub project: &'static str,
    pub ci: bool,
    pub doc: serde_json::Value,
}

impl Reporter {
    fn setup_runs(&self) -> Vec<&serde_json::Value> {
        self.doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == "up" || r["kind"] == "ci")
            .collect()
    }

    fn source(&self) -> &'static str {
        if self.ci {
            "ci"
        } else {
            "laptop"
        }
    }

    fn onboarding(&self, key: &str) -> Option<f64> {
        self.doc["onboarding"][key].as_f64()
    }
}

fn seconds(run: &serde_json::Value) -> f64 {
    let t = |k: &str| chrono::DateTime::parse_from_rfc3339(run[k].as_str().unwrap()).unwrap();
    (t("finished_at") - t("started_at")).num_milliseconds() as f64 / 1000.0
}

/// What every recording rule must answer, computed from the reporters.
pub fn expectations(all: &[Reporter]) -> BTreeMap<String, Vector> {
    let mut out: BTreeMap<String, Vector> = BTreeMap::new();
    let projects: BTreeSet<&str> = all.iter().map(|r| r.project).collect();
    for project in &projects {
        let hires: Vec<&Reporter> = all
            .iter()
            .filter(|r| r.project == *project && !r.ci)
            .collect();
        for (rule, key) in [
            ("devenv_setup_seconds", "setup_seconds"),
            (
                "devenv_time_to_first_commit_seconds",
                "time_to_first_commit_seconds",
            ),
            (
                "devenv_time_to_first_push_seconds",
                "time_to_first_push_seconds",
            ),
            (
                "devenv_time_to_production_seconds",
                "time_to_production_seconds",
            ),
        ] {
            let values: Vec<f64> = hires.iter().filter_map(|h| h.onboarding(key)).collect();
            if values.is_empty() {
                continue;
            }
            let l = labels(&[("project", project)]);
            for (q, suffix) in [(0.5, "p50"), (0.9, "p90")] {
                let v = quantile(q, &values);
                out.entry(format!("project:{rule}:{suffix}"))
                    .or_default()
                    .insert(l.clone(), v);
                // Every milestone of this test is within the last week.
                let weekly = format!("project:{rule}:{suffix}_1w");
                let has_weekly = suffix == "p50"
                    || key == "setup_seconds"
                    || key == "time_to_first_commit_seconds";
                if has_weekly {
                    out.entry(weekly).or_default().insert(l.clone(), v);
                }
            }
            let count = match key {
                "setup_seconds" => Some("project:devenv_setup_hires:count_1w"),
                "time_to_first_commit_seconds" => {
                    Some("project:devenv_first_commit_hires:count_1w")
                }
                _ => None,
            };
            if let Some(c) = count {
                out.entry(c.into())
                    .or_default()
                    .insert(l.clone(), values.len() as f64);
            }
        }
        for source in ["laptop", "ci"] {
            let group: Vec<&Reporter> = all
                .iter()
                .filter(|r| r.project == *project && r.source() == source)
                .collect();
            if group.is_empty() {
                continue;
            }
            let l = labels(&[("project", project), ("source", source)]);
            let runs: Vec<&serde_json::Value> = group.iter().flat_map(|r| r.setup_runs()).collect();
            let ok = runs.iter().filter(|r| r["outcome"] == "ok").count();
            out.entry("project_source:devenv_setup_stability:ratio".into())
                .or_default()
                .insert(l.clone(), ok as f64 / runs.len() as f64);
            // Each group's last setup run.
            let lasts: Vec<&serde_json::Value> = group
                .iter()
                .filter_map(|r| r.setup_runs().last().copied())
                .collect();
            let secs: Vec<f64> = lasts.iter().map(|r| seconds(r)).collect();
            let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for r in &lasts {
                for p in r["phases"].as_array().unwrap() {
                    phases
                        .entry(p["name"].as_str().unwrap().to_string())
                        .or_default()
                        .push(p["seconds"].as_f64().unwrap());
                }
            }
            let mut steps: BTreeMap<String, f64> = BTreeMap::new();
            for r in &runs {
                if let Some(s) = r["failed_step"].as_str() {
                    *steps.entry(s.to_string()).or_default() += 1.0;
                }
            }
            for (q, suffix) in [(0.5, "p50"), (0.9, "p90")] {
                out.entry(format!("project_source:devenv_up_seconds:{suffix}"))
                    .or_default()
                    .insert(l.clone(), quantile(q, &secs));
                for (phase, values) in &phases {
                    let mut pl = l.clone();
                    pl.insert("phase".into(), phase.clone());
                    out.entry(format!(
                        "project_source_phase:devenv_up_phase_seconds:{suffix}"
                    ))
                    .or_default()
                    .insert(pl, quantile(q, values));
                }
            }
            for (step, n) in &steps {
                let mut sl = l.clone();
                sl.insert("step".into(), step.clone());
                out.entry("project_source_step:devenv_up_failed_step:sum".into())
                    .or_default()
                    .insert(sl, *n);
            }
            if let Some((step, n)) = steps.iter().max_by(|a, b| a.1.total_cmp(b.1)) {
                let mut sl = l.clone();
                sl.insert("step".into(), step.clone());
                out.entry("project_source:devenv_up_top_failed_step:sum".into())
                    .or_default()
                    .insert(sl, *n);
            }
        }
    }
    out
}
