//! Prometheus Pushgateway: the clone's state as gauges in the text
//! exposition format, PUT to one group per job, project and hire.
//!
//! A PUT replaces the whole group, so sending the same state twice is
//! harmless and a retried report can never double-count. Every metric is a
//! gauge in every group (Pushgateway rejects a name whose type differs
//! between groups) and no sample carries a timestamp (it rejects those too).

use std::collections::BTreeMap;
use std::fmt::Write;

use base64::Engine;

use super::Facts;
use crate::metrics::run::{Outcome, Run, RunKind};
use crate::metrics::timeline::Timeline;
use crate::settings::CiRun;

/// `<endpoint>/metrics/<label>/<value>/...`, in the order given (`job`
/// first). Values that are not plain words use Pushgateway's
/// `label@base64/<value>` form.
pub fn url(endpoint: &str, labels: &[(&str, &str)]) -> String {
    let mut u = format!("{}/metrics", endpoint.trim_end_matches('/'));
    for (label, value) in labels {
        let plain = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if plain {
            let _ = write!(u, "/{label}/{value}");
        } else {
            let b = base64::engine::general_purpose::URL_SAFE.encode(value.as_bytes());
            let _ = write!(u, "/{label}@base64/{b}");
        }
    }
    u
}

/// One Pushgateway group: the hire's own runs (and their timeline), or the
/// runs of one CI job. A PUT replaces a group, so CI jobs get one each
/// (by pipeline and job) and never overwrite each other or a hire.
pub struct Group<'a> {
    pub ci: Option<&'a CiRun>,
    /// The CI group's pipeline: the provider's id, else the first run's id.
    pipeline: String,
    pub runs: Vec<&'a Run>,
}

impl Group<'_> {
    /// The grouping key after `job`: `project` and `hire`, or `project`,
    /// `ci`, `ci_pipeline` and `ci_job`. Pushgateway adds these labels to
    /// every series of the group, which is how the rules tell laptops
    /// (`ci=""`) from CI.
    pub fn labels<'s>(&'s self, f: &'s Facts) -> Vec<(&'static str, &'s str)> {
        let mut l = vec![("project", f.project)];
        match self.ci {
            None => l.extend(f.hire.map(|h| ("hire", h))),
            Some(ci) => {
                l.push(("ci", ci.provider.as_str()));
                l.push(("ci_pipeline", &self.pipeline));
                l.extend(ci.job.as_deref().map(|j| ("ci_job", j)));
            }
        }
        l
    }
}

/// The laptop group first (always, for the timeline), then one group per
/// CI job, in journal order.
pub fn groups<'a>(runs: &'a [Run]) -> Vec<Group<'a>> {
    let mut out = vec![Group {
        ci: None,
        pipeline: String::new(),
        runs: Vec::new(),
    }];
    for r in runs {
        let found = match &r.ci {
            None => Some(0),
            Some(ci) => out.iter().position(|g| {
                g.ci.is_some_and(|c| {
                    c.provider == ci.provider
                        && c.job == ci.job
                        && c.pipeline.is_some()
                        && c.pipeline == ci.pipeline
                })
            }),
        };
        match found {
            Some(i) => out[i].runs.push(r),
            None => out.push(Group {
                ci: r.ci.as_ref(),
                pipeline: r
                    .ci
                    .as_ref()
                    .and_then(|c| c.pipeline.clone())
                    .unwrap_or_else(|| r.id.clone()),
                runs: vec![r],
            }),
        }
    }
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} gauge");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.0, "{{{}}}", l.join(","));
        }
        let _ = writeln!(self.0, " {}", num(value));
    }
}

/// The exposition text for one group: totals over its runs, its last
/// setup run (`up` or `ci`) in detail, and (for the hire's group) the
/// onboarding moments and durations once known.
pub fn exposition(f: &Facts, group: &Group) -> String {
    let mut o = Out(String::new());
    let runs = &group.runs;
    let ups: Vec<&&Run> = runs.iter().filter(|r| r.kind.is_setup()).collect();

    // HELP texts never change: Pushgateway refuses a push whose help differs
    // from what another group (an older devenv's) already has.
    o.family(
        "devenv_up_total",
        "devenv up runs recorded in this clone, by outcome.",
    );
    for outcome in Outcome::ALL {
        let n = ups.iter().filter(|r| r.outcome == outcome).count();
        o.sample(
            "devenv_up_total",
            &[("outcome", outcome.as_str())],
            n as f64,
        );
    }

    let mut steps: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &ups {
        if let Some(s) = &r.failed_step {
            *steps.entry(s.as_str()).or_default() += 1;
        }
    }
    if !steps.is_empty() {
        o.family(
            "devenv_up_failed_step_total",
            "devenv up runs that failed or were interrupted, by the step that was running.",
        );
        for (step, n) in steps {
            o.sample("devenv_up_failed_step_total", &[("step", step)], n as f64);
        }
    }

    o.family(
        "devenv_runs_total",
        "devenv runs recorded in this clone, by command.",
    );
    for kind in RunKind::ALL {
        let n = runs.iter().filter(|r| r.kind == kind).count();
        o.sample("devenv_runs_total", &[("kind", kind.as_str())], n as f64);
    }
    if let Some(last) = ups.last() {
        o.family(
            "devenv_up_phase_seconds",
            "Seconds each phase of the last devenv up took (images is part of services).",
        );
        for p in &last.phases {
            o.sample("devenv_up_phase_seconds", &[("phase", &p.name)], p.seconds);
        }
        o.family("devenv_up_seconds", "Seconds the last devenv up took.");
        o.sample("devenv_up_seconds", &[], last.seconds());
        o.family(
            "devenv_up_last_success",
            "1 when the last devenv up ended ok, else 0.",
        );
        o.sample(
            "devenv_up_last_success",
            &[],
            f64::from(u8::from(last.outcome == Outcome::Ok)),
        );
        o.family(
            "devenv_up_last_timestamp_seconds",
            "Unix time the last devenv up finished.",
        );
        o.sample(
            "devenv_up_last_timestamp_seconds",
            &[],
            last.finished_at.timestamp() as f64,
        );
        let c = last.fetches.summary();
        o.family(
            "devenv_up_cache_items",
            "Tools and images the last devenv up needed: fetched now or reused.",
        );
        o.sample(
            "devenv_up_cache_items",
            &[("kind", "tool"), ("state", "downloaded")],
            c.tools_downloaded as f64,
        );
        o.sample(
            "devenv_up_cache_items",
            &[("kind", "tool"), ("state", "reused")],
            c.tools_reused as f64,
        );
        o.sample(
            "devenv_up_cache_items",
            &[("kind", "image"), ("state", "pulled")],
            c.images_pulled as f64,
        );
        o.sample(
            "devenv_up_cache_items",
            &[("kind", "image"), ("state", "present")],
            c.images_present as f64,
        );
        o.family(
            "devenv_up_download_bytes",
            "Bytes the last devenv up downloaded.",
        );
        o.sample(
            "devenv_up_download_bytes",
            &[("kind", "tool")],
            c.tool_bytes as f64,
        );
        o.sample(
            "devenv_up_download_bytes",
            &[("kind", "image")],
            c.image_bytes as f64,
        );
    }

    let teardowns: Vec<(RunKind, f64)> = [RunKind::Down, RunKind::Reset]
        .into_iter()
        .filter_map(|k| Some((k, runs.iter().rfind(|r| r.kind == k)?.seconds())))
        .collect();
    if !teardowns.is_empty() {
        o.family(
            "devenv_run_seconds",
            "Seconds the last devenv down and reset took, by command.",
        );
        for (kind, secs) in teardowns {
            o.sample("devenv_run_seconds", &[("kind", kind.as_str())], secs);
        }
    }
    if let Some(commit) = group.ci.and_then(|c| c.commit.as_deref()) {
        o.family(
            "devenv_ci_info",
            "The commit this CI job tested (always 1).",
        );
        o.sample("devenv_ci_info", &[("commit", commit)], 1.0);
    }
    if group.ci.is_none() {
        onboarding(&mut o, f.timeline);
    }
    o.0
}

/// The hire's onboarding: the moments themselves, so the platform can put
/// each hire in the week they cloned or became ready (recording rules in
/// contrib/ use them), and the durations from the clone.
fn onboarding(o: &mut Out, t: &Timeline) {
    let stamps = [
        (
            "devenv_cloned_timestamp_seconds",
            "Unix time of the clone.",
            t.cloned_at,
        ),
        (
            "devenv_first_ready_timestamp_seconds",
            "Unix time the first fully ready devenv up finished.",
            t.first_ready_at,
        ),
        (
            "devenv_first_commit_timestamp_seconds",
            "Unix time of the first commit by the local user after the clone.",
            t.first_commit_at,
        ),
        (
            "devenv_first_push_timestamp_seconds",
            "Unix time of the first push from this clone.",
            t.first_push_at,
        ),
        (
            "devenv_first_merged_timestamp_seconds",
            "Commit time of the user's first commit on the upstream default branch.",
            t.first_merged_at,
        ),
    ];
    for (name, help, at) in stamps {
        if let Some(at) = at {
            o.family(name, help);
            o.sample(name, &[], at.timestamp() as f64);
        }
    }
    let durations = [
        (
            "devenv_setup_seconds",
            "Seconds from the clone to the first fully ready devenv up.",
            t.setup_seconds(),
        ),
        (
            "devenv_time_to_first_commit_seconds",
            "Seconds from the clone to the first commit by the local user.",
            t.time_to_first_commit_seconds(),
        ),
        (
            "devenv_time_to_first_push_seconds",
            "Seconds from the clone to the first push.",
            t.time_to_first_push_seconds(),
        ),
        (
            "devenv_time_to_production_seconds",
            "Seconds from the clone to the user's first commit on the upstream default branch.",
            t.time_to_production_seconds(),
        ),
    ];
    for (name, help, secs) in durations {
        if let Some(s) = secs {
            o.family(name, help);
            o.sample(name, &[], s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_values_that_are_not_words_are_base64() {
        assert_eq!(
            url(
                "http://pg:9091/",
                &[("job", "devenv"), ("project", "checkout"), ("hire", "ab12")]
            ),
            "http://pg:9091/metrics/job/devenv/project/checkout/hire/ab12"
        );
        assert_eq!(
            url(
                "http://pg:9091",
                &[
                    ("job", "devenv"),
                    ("project", "checkout"),
                    ("hire", "ann@x.io")
                ]
            ),
            "http://pg:9091/metrics/job/devenv/project/checkout/hire@base64/YW5uQHguaW8="
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.25), "0.25");
    }
}
