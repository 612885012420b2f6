//! Line-by-line comparison of a test program's output with a reference log, by section.
//!
//! The reference is cut into named sections by marker lines (a section's first line starts
//! with one of its markers, found in order). Our output is aligned with the whole reference as
//! a longest common subsequence, so a missing or extra line costs one line, not the rest; each
//! of our unmatched lines is counted in the section where it appears.

/// A section's name and the prefixes its first line may start with.
pub type Section = (&'static str, &'static [&'static str]);

/// A section's result: matched reference lines, reference lines, and the first differences
/// (reference line, our line; `None` where one side has no line there).
pub struct SectionResult {
    pub name: &'static str,
    pub matched: usize,
    pub total: usize,
    pub differences: Vec<(Option<String>, Option<String>)>,
}

/// The differences shown per section.
const SHOWN: usize = 2;
/// Past this many table cells the unequal middles are compared line by line in place.
const MAX_TABLE: usize = 1 << 24;

/// The section of each line: 0 before the first marker, k + 1 in `sections[k]`. A line
/// starting with the marker of a section not yet reached starts that section.
fn section_of_lines(lines: &[&str], sections: &[Section]) -> Vec<usize> {
    let mut current = 0;
    lines
        .iter()
        .map(|line| {
            if let Some(offset) = sections[current..]
                .iter()
                .position(|(_, markers)| markers.iter().any(|m| line.starts_with(m)))
            {
                current += offset + 1;
            }
            current
        })
        .collect()
}

/// Pairs of indices of a longest common subsequence of `a` and `b`.
fn common(a: &[&str], b: &[&str]) -> Vec<(usize, usize)> {
    // Equal ends need no table.
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (x, y) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut pairs: Vec<(usize, usize)> = (0..prefix).map(|i| (i, i)).collect();
    if x.len().saturating_mul(y.len()) <= MAX_TABLE {
        // table[i][j]: the length of a longest common subsequence of x[i..] and y[j..].
        let width = y.len() + 1;
        let mut table = vec![0u32; (x.len() + 1) * width];
        for i in (0..x.len()).rev() {
            for j in (0..y.len()).rev() {
                table[i * width + j] = if x[i] == y[j] {
                    table[(i + 1) * width + j + 1] + 1
                } else {
                    table[(i + 1) * width + j].max(table[i * width + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < x.len() && j < y.len() {
            if x[i] == y[j] {
                pairs.push((prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if table[(i + 1) * width + j] >= table[i * width + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    } else {
        pairs.extend(
            x.iter()
                .zip(y)
                .enumerate()
                .filter(|(_, (p, q))| p == q)
                .map(|(i, _)| (prefix + i, prefix + i)),
        );
    }
    pairs.extend((0..suffix).map(|k| (a.len() - suffix + k, b.len() - suffix + k)));
    pairs
}

/// Compares `ours` with `reference`, section by section; sections without reference lines
/// are left out.
pub fn compare(reference: &str, ours: &str, sections: &[Section]) -> Vec<SectionResult> {
    let reference: Vec<&str> = reference.lines().collect();
    let ours: Vec<&str> = ours.lines().collect();
    let section = section_of_lines(&reference, sections);
    let names = std::iter::once("(start)").chain(sections.iter().map(|&(name, _)| name));
    let mut results: Vec<SectionResult> = names
        .map(|name| SectionResult {
            name,
            matched: 0,
            total: 0,
            differences: Vec::new(),
        })
        .collect();
    for &s in &section {
        results[s].total += 1;
    }
    let pairs = common(&reference, &ours);
    let (mut i, mut j) = (0, 0);
    for &(next_i, next_j) in pairs.iter().chain(&[(reference.len(), ours.len())]) {
        // Unmatched lines between two matches: ours belong where the gap is.
        let gap = if i < next_i {
            section[i]
        } else {
            section[i.saturating_sub(1).min(section.len().saturating_sub(1))]
        };
        let (theirs, mine) = (&reference[i..next_i], &ours[j..next_j]);
        for k in 0..theirs.len().max(mine.len()) {
            let result = &mut results[if k < theirs.len() {
                section[i + k]
            } else {
                gap
            }];
            if result.differences.len() < SHOWN {
                let line = |lines: &[&str]| lines.get(k).map(|s| s.to_string());
                result.differences.push((line(theirs), line(mine)));
            }
        }
        if next_i < reference.len() {
            results[section[next_i]].matched += 1;
        }
        (i, j) = (next_i + 1, next_j + 1);
    }
    results.retain(|r| r.total > 0);
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTIONS: &[Section] = &[("one", &["A"]), ("two", &["B", "D"]), ("three", &["C"])];

    #[test]
    fn sections_start_at_markers_in_order() {
        let lines = ["x", "A1", "A2", "B1", "A3", "C1", "B2"];
        assert_eq!(section_of_lines(&lines, SECTIONS), [0, 1, 1, 2, 2, 3, 3]);
        // A missing section stays empty; any of a section's markers starts it.
        assert_eq!(section_of_lines(&["A1", "C1"], SECTIONS), [1, 3]);
        assert_eq!(section_of_lines(&["D1", "B1", "C1"], SECTIONS), [2, 2, 3]);
    }

    #[test]
    fn aligns_missing_and_extra_lines() {
        let reference = "A\n1\n2\n3\nB\n4\nC\n5\n";
        let ours = "A\n1\n3\nB\n4\nX\nC\n5\n";
        let results = compare(reference, ours, SECTIONS);
        let counts: Vec<_> = results
            .iter()
            .map(|r| (r.name, r.matched, r.total))
            .collect();
        assert_eq!(counts, [("one", 3, 4), ("two", 2, 2), ("three", 2, 2)]);
        assert_eq!(results[0].differences, [(Some("2".into()), None)]);
        assert_eq!(results[1].differences, [(None, Some("X".into()))]);
        assert!(results[2].differences.is_empty());
    }

    #[test]
    fn a_missing_first_line_does_not_move_the_rest() {
        // Our output lacks section two's marker line; its other line still matches there.
        let results = compare("A\n1\nB\n2\nC\n", "A\n1\n2\nC\n", SECTIONS);
        let counts: Vec<_> = results.iter().map(|r| (r.matched, r.total)).collect();
        assert_eq!(counts, [(2, 2), (1, 2), (1, 1)]);
        assert_eq!(results[1].differences, [(Some("B".into()), None)]);
    }
}
