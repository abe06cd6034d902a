//! A small unified line diff, for showing what a hand edit changed. Config
//! files are small, so a plain longest-common-subsequence table is enough;
//! past a size limit the whole file is shown as replaced.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Del,
    Add,
}

const CONTEXT: usize = 3;
const MAX_CELLS: usize = 4_000_000;

/// `--- old_name` / `+++ new_name` and `@@` hunks; empty when equal.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = script(&a, &b);
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    // Index of each op in a and b, to number hunks.
    let mut pos = Vec::with_capacity(ops.len());
    let (mut i, mut j) = (0, 0);
    for op in &ops {
        pos.push((i, j));
        match op {
            Op::Same => {
                i += 1;
                j += 1;
            }
            Op::Del => i += 1,
            Op::Add => j += 1,
        }
    }
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k] != Op::Same).collect();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(CONTEXT);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 2 * CONTEXT {
            end = changed[k];
            k += 1;
        }
        let end = (end + CONTEXT + 1).min(ops.len());
        let (a0, b0) = pos[start];
        let a_len = ops[start..end].iter().filter(|o| **o != Op::Add).count();
        let b_len = ops[start..end].iter().filter(|o| **o != Op::Del).count();
        out.push_str(&format!(
            "@@ -{},{a_len} +{},{b_len} @@\n",
            a0 + usize::from(a_len > 0),
            b0 + usize::from(b_len > 0)
        ));
        for idx in start..end {
            let (ai, bi) = pos[idx];
            match ops[idx] {
                Op::Same => out.push_str(&format!(" {}\n", a[ai])),
                Op::Del => out.push_str(&format!("-{}\n", a[ai])),
                Op::Add => out.push_str(&format!("+{}\n", b[bi])),
            }
        }
    }
    if old.ends_with('\n') != new.ends_with('\n') {
        out.push_str("\\ the files differ in their final newline\n");
    }
    out
}

/// How many lines a change touches, as a reader of the diff counts them:
/// in each run of removed and added lines, a removed line paired with an
/// added one is one changed line; the rest are removed or added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub changed: usize,
    pub added: usize,
    pub removed: usize,
}

impl Counts {
    pub fn between(old: &str, new: &str) -> Counts {
        let a: Vec<&str> = old.lines().collect();
        let b: Vec<&str> = new.lines().collect();
        let mut counts = Counts::default();
        let (mut dels, mut adds) = (0, 0);
        let mut end_run = |dels: &mut usize, adds: &mut usize| {
            let paired = (*dels).min(*adds);
            counts.changed += paired;
            counts.removed += *dels - paired;
            counts.added += *adds - paired;
            (*dels, *adds) = (0, 0);
        };
        for op in script(&a, &b) {
            match op {
                Op::Same => end_run(&mut dels, &mut adds),
                Op::Del => dels += 1,
                Op::Add => adds += 1,
            }
        }
        end_run(&mut dels, &mut adds);
        counts
    }

    /// `1 line changed`, `2 lines added`, or with several kinds `3 lines
    /// differ: 1 changed, 1 added, 1 removed`. The texts are known to
    /// differ, so when no line does, it is the final newline.
    pub fn describe(&self) -> String {
        let parts: Vec<(usize, &str)> = [
            (self.changed, "changed"),
            (self.added, "added"),
            (self.removed, "removed"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect();
        let lines = |n: usize| if n == 1 { "line" } else { "lines" };
        match parts.as_slice() {
            [] => "only the final newline differs".into(),
            [(n, what)] => format!("{n} {} {what}", lines(*n)),
            _ => {
                let total = self.changed + self.added + self.removed;
                let each: Vec<String> = parts.iter().map(|(n, w)| format!("{n} {w}")).collect();
                format!("{total} {} differ: {}", lines(total), each.join(", "))
            }
        }
    }
}

fn script(a: &[&str], b: &[&str]) -> Vec<Op> {
    // Common head and tail cost nothing and keep the table small.
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops = vec![Op::Same; head];
    if ma.len().saturating_mul(mb.len()) > MAX_CELLS {
        ops.extend(std::iter::repeat_n(Op::Del, ma.len()));
        ops.extend(std::iter::repeat_n(Op::Add, mb.len()));
    } else {
        let (n, m) = (ma.len(), mb.len());
        // lcs[i][j]: LCS length of ma[i..] and mb[j..].
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        let at = |i: usize, j: usize| i * (m + 1) + j;
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[at(i, j)] = if ma[i] == mb[j] {
                    lcs[at(i + 1, j + 1)] + 1
                } else {
                    lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                ops.push(Op::Same);
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
                ops.push(Op::Del);
                i += 1;
            } else {
                ops.push(Op::Add);
                j += 1;
            }
        }
    }
    ops.extend(std::iter::repeat_n(Op::Same, tail));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a\n", "a\n", "x", "y"), "");
    }

    #[test]
    fn a_changed_line_shows_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        let d = unified(old, new, ".env (on disk)", ".env (rendered)");
        assert_eq!(
            d,
            "--- .env (on disk)\n+++ .env (rendered)\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn far_apart_changes_make_two_hunks() {
        let old: String = (1..=30).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=30)
            .map(|i| match i {
                3 => "three\n".to_string(),
                27 => "x\n".to_string(),
                _ => format!("{i}\n"),
            })
            .collect();
        let d = unified(&old, &new, "a", "b");
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.contains("+three") && d.contains("+x") && d.contains("-27"));
    }

    #[test]
    fn line_counts_pair_a_removed_line_with_an_added_one_as_one_change() {
        // One line changed, one added at the end, one removed (`--x`,
        // whose diff line `---x` looks like a file header).
        let old = "a\nb\n--x\nc\n";
        let new = "a\nB\nc\nd\n";
        let counts = Counts::between(old, new);
        assert_eq!(
            counts,
            Counts {
                changed: 1,
                added: 1,
                removed: 1
            }
        );
        assert_eq!(
            counts.describe(),
            "3 lines differ: 1 changed, 1 added, 1 removed"
        );
    }

    #[test]
    fn line_counts_of_one_change_and_of_a_final_newline() {
        let one = Counts::between("k=1\n", "k=2\n");
        assert_eq!(one.describe(), "1 line changed");
        let grown = Counts::between("a\n", "a\nb\nc\n");
        assert_eq!(grown.describe(), "2 lines added");
        assert_eq!(
            Counts::between("a\n", "a").describe(),
            "only the final newline differs"
        );
    }

    #[test]
    fn additions_at_the_end_and_a_missing_newline() {
        let d = unified("a\nb", "a\nb\nc\n", "a", "b");
        assert!(d.contains("+c\n"), "{d}");
        assert!(d.contains("final newline"), "{d}");
    }
}
