//! The whole `devenv metrics` page for a known clone, exactly.

use super::*;
use crate::metrics::Timeline;

fn at(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    Some(s.parse().unwrap())
}

fn run(kind: &str, started: &str, finished: &str, outcome: &str, phases: &[(&str, f64)]) -> Run {
    let phases: Vec<serde_json::Value> = phases
        .iter()
        .map(|(n, s)| serde_json::json!({"name": n, "seconds": s}))
        .collect();
    let failed = (outcome != "ok").then(|| phases.last().unwrap()["name"].clone());
    serde_json::from_value(serde_json::json!({
        "id": format!("run-{started}"), "kind": kind, "started_at": started,
        "finished_at": finished, "outcome": outcome, "failed_step": failed,
        "phases": phases, "complete": true,
    }))
    .unwrap()
}

/// A hire who cloned at 09:00, was ready 16m 40s later after one failed
/// try, committed at noon, pushed at 13:10 and landed on main the next day.
fn clone_of_a_hire() -> (Vec<Run>, Timeline) {
    let runs = vec![
        run(
            "up",
            "2026-03-01T09:14:02Z",
            "2026-03-01T09:14:43Z",
            "failed",
            &[("preflight", 0.01), ("tools", 8.0), ("services", 33.0)],
        ),
        run(
            "up",
            "2026-03-01T09:15:05Z",
            "2026-03-01T09:16:40Z",
            "ok",
            &[
                ("preflight", 0.01),
                ("tools", 0.2),
                ("images", 60.0),
                ("services", 90.0),
                ("hooks", 4.0),
            ],
        ),
        run(
            "down",
            "2026-03-01T18:00:00Z",
            "2026-03-01T18:00:03Z",
            "ok",
            &[("down", 3.0)],
        ),
        run(
            "up",
            "2026-03-02T08:01:10Z",
            "2026-03-02T08:01:11.200Z",
            "ok",
            &[
                ("preflight", 0.01),
                ("tools", 0.2),
                ("services", 0.95),
                ("hooks", 0.04),
            ],
        ),
    ];
    let timeline = Timeline {
        cloned_at: at("2026-03-01T09:00:00Z"),
        first_up_started_at: at("2026-03-01T09:14:02Z"),
        first_ready_at: at("2026-03-01T09:16:40Z"),
        first_commit_at: at("2026-03-01T12:00:00Z"),
        first_push_at: at("2026-03-01T13:10:00Z"),
        first_merged_at: at("2026-03-02T11:00:00Z"),
        ..Timeline::default()
    };
    (runs, timeline)
}

const PAGE: &str = "\
Onboarding of this clone
  cloned      2026-03-01 09:00:00 UTC
  ready       ▍                                  16m 40s  +16m 40s
  commit      ███▍                                2h 43m  +3h 00m
  push            █▍                              1h 10m  +4h 10m
  production       ██████████████████████████▉   21h 50m  +1d 2h
  setup 16m 40s   first commit 3h 00m   first push 4h 10m   production 1d 2h

Last runs
  STARTED (UTC)        KIND   OUTCOME           TIME  FAILED STEP
  2026-03-02 08:01:10  up     ok              1.20 s
  2026-03-01 18:00:00  down   ok              3.00 s
  2026-03-01 09:15:05  up     ok              1m 35s
  2026-03-01 09:14:02  up     failed          41.0 s  services

Last up: ok in 1.20 s
  preflight  ▍                                 0.01 s    1%
  tools      ██████▍                           0.20 s   17%
  services   ██████████████████████████████    0.95 s   79%
  hooks      █▎                                0.04 s    3%

Setup runs: seconds per phase (last 3, oldest first; max 1m 30s)
  preflight  ▁▁▁    0.01 s
  tools      ▂▁▁    0.20 s
  images     ·▆·         -
  services   ▄█▁    0.95 s
  hooks      ·▁▁    0.04 s
  total      ▄█▁    1.20 s  (own scale, max 1m 35s)
  outcome    xoo  o ok  x failed  ! interrupted

Up time trend (last 2 successful)
  █▁   first 1m 35s  median 48.1 s  last 1.20 s
";

#[test]
fn the_metrics_page_of_a_hire_in_production() {
    let (runs, t) = clone_of_a_hire();
    let page = render(&runs, &t, &Plain).join("\n") + "\n";
    assert_eq!(page, PAGE, "\n{page}");
}

#[test]
fn steps_not_reached_yet_say_so_and_a_commit_before_the_first_up_is_drawn_from_the_clone() {
    let t = Timeline {
        cloned_at: at("2026-03-01T09:00:00Z"),
        first_ready_at: at("2026-03-01T11:00:00Z"),
        // Committed before the environment was ever ready.
        first_commit_at: at("2026-03-01T10:00:00Z"),
        ..Timeline::default()
    };
    let page = render(&[], &t, &Plain).join("\n") + "\n";
    assert_eq!(
        page,
        "\
Onboarding of this clone
  cloned      2026-03-01 09:00:00 UTC
  ready       ████████████████████████████████    2h 00m  +2h 00m
  commit      ████████████████                    1h 00m  +1h 00m
  push        not yet
  production  not yet
  setup 2h 00m   first commit 1h 00m   first push not yet   production not yet

No runs recorded yet: run `devenv up`.
",
        "\n{page}"
    );
}
