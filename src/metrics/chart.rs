//! Plain-text charts for `devenv metrics`: a horizontal bar per phase, a
//! bar per onboarding step placed on the time since the clone, and
//! sparklines of `up` times. No colour here; the printer decides that.

use super::run::Run;

const BLOCKS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `0.42 s`, `12.3 s`, `3m 12s`, `2h 05m`, `1d 4h`.
pub fn duration(secs: f64) -> String {
    if secs < 10.0 {
        return format!("{secs:.2} s");
    }
    if secs < 60.0 {
        return format!("{secs:.1} s");
    }
    let s = secs.round() as u64;
    let (d, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else {
        format!("{m}m {sec:02}s")
    }
}

/// A bar of `value / max` of `width` cells, in eighths of a cell.
pub fn bar(value: f64, max: f64, width: usize) -> String {
    if max <= 0.0 || value <= 0.0 {
        return String::new();
    }
    let eighths = ((value / max) * (width * 8) as f64).round().max(1.0) as usize;
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push(BLOCKS[eighths % 8 - 1]);
    }
    s
}

/// A bar from `start` to `end` on a line of `width` cells that spans
/// `0..total`: spaces up to the start (nearest whole cell), then the length in
/// eighths of a cell, at least one eighth so a step is never invisible.
pub fn span_bar(start: f64, end: f64, total: f64, width: usize) -> String {
    if total <= 0.0 {
        return String::new();
    }
    let cells = width as f64;
    // Rounded, not floored: a start a second short of a cell boundary is on it.
    let offset = ((start / total) * cells).round().clamp(0.0, cells - 1.0) as usize;
    let eighths = (((end - start).max(0.0) / total) * cells * 8.0)
        .round()
        .max(1.0) as usize;
    let eighths = eighths.min((width - offset) * 8);
    let mut s = " ".repeat(offset);
    s.push_str(&"█".repeat(eighths / 8));
    if !eighths.is_multiple_of(8) {
        s.push(BLOCKS[eighths % 8 - 1]);
    }
    s
}

/// A sparkline on a common scale `0..max`, so rows of one chart compare;
/// `·` where a run has no value (it stopped before that phase).
pub fn spark_scaled(values: &[Option<f64>], max: f64) -> String {
    values
        .iter()
        .map(|v| match v {
            None => '·',
            Some(_) if max <= 0.0 => SPARKS[0],
            Some(v) => SPARKS[((v / max).clamp(0.0, 1.0) * 7.0).round() as usize],
        })
        .collect()
}

/// One line per phase: name, bar, seconds, share of the run.
pub fn phase_bars(run: &Run, width: usize) -> Vec<String> {
    let name_w = run.phases.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let max = run.phases.iter().map(|p| p.seconds).fold(0.0, f64::max);
    let total = run.seconds();
    run.phases
        .iter()
        .map(|p| {
            let share = if total > 0.0 {
                format!("{:>3.0}%", (p.seconds / total * 100.0).min(100.0))
            } else {
                "   -".to_string()
            };
            format!(
                "{:<name_w$}  {:<width$}  {:>8}  {share}",
                p.name,
                bar(p.seconds, max, width),
                duration(p.seconds),
            )
        })
        .collect()
}

/// A sparkline of the given durations, oldest first.
pub fn sparkline(values: &[f64]) -> String {
    let max = values.iter().copied().fold(0.0, f64::max);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    values
        .iter()
        .map(|v| {
            if max - min < 1e-9 {
                SPARKS[3]
            } else {
                SPARKS[(((v - min) / (max - min)) * 7.0).round() as usize]
            }
        })
        .collect()
}

pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_longest_phase() {
        assert_eq!(bar(10.0, 10.0, 4), "████");
        assert_eq!(bar(5.0, 10.0, 4), "██");
        assert_eq!(bar(0.0001, 10.0, 4), "▏");
        assert_eq!(bar(0.0, 10.0, 4), "");
    }

    #[test]
    fn durations_read_like_a_person_would_write_them() {
        assert_eq!(duration(0.421), "0.42 s");
        assert_eq!(duration(42.0), "42.0 s");
        assert_eq!(duration(192.0), "3m 12s");
        assert_eq!(duration(7500.0), "2h 05m");
        assert_eq!(duration(86400.0 + 4.0 * 3600.0), "1d 4h");
    }

    #[test]
    fn span_bars_start_where_the_step_before_ended() {
        assert_eq!(span_bar(0.0, 1.0, 4.0, 8), "██");
        assert_eq!(span_bar(1.0, 2.0, 4.0, 8), "  ██");
        assert_eq!(span_bar(3.0, 4.0, 4.0, 8), "      ██");
        // A tiny step still shows; a step never runs past the line.
        assert_eq!(span_bar(2.0, 2.0, 4.0, 8), "    ▏");
        assert_eq!(span_bar(0.0, 9.0, 4.0, 8), "████████");
    }

    #[test]
    fn scaled_sparks_share_one_scale_and_mark_missing_values() {
        assert_eq!(
            spark_scaled(&[Some(0.0), Some(5.0), Some(10.0), None], 10.0),
            "▁▅█·"
        );
        assert_eq!(spark_scaled(&[Some(0.0)], 0.0), "▁");
    }

    #[test]
    fn sparkline_spans_min_to_max() {
        assert_eq!(sparkline(&[1.0, 2.0, 3.0]), "▁▅█");
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }
}
