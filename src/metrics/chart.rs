//! Plain-text charts for `devenv metrics`: a horizontal bar per phase and a
//! sparkline of `up` times. No colour here; the printer decides that.

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
    fn sparkline_spans_min_to_max() {
        assert_eq!(sparkline(&[1.0, 2.0, 3.0]), "▁▅█");
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }
}
