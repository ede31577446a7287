//! Postings: sorted lists of series ids, the [`PostingsIndex`] trait that both
//! persisted blocks and the in-memory head implement, and the matcher evaluation
//! shared by both.

use crate::error::BlockError;
use watchfire_model::{MatchOp, Matcher};

/// An inverted index from label pairs to series ids.
///
/// Postings are sorted ascending `u32` series ids without duplicates; ids follow
/// the `Labels` order of the series (for a block, an id is the series' position in
/// the index).
///
/// Only the first four methods are required. The provided ones have generic
/// implementations on top of them; an index that can do better (decode straight into
/// one buffer, skip allocating value strings) overrides them.
pub trait PostingsIndex {
    /// All label names, sorted.
    fn label_names(&self) -> Result<Vec<String>, BlockError>;

    /// The values `name` takes in any series, sorted; empty when the name is unknown.
    fn label_values(&self, name: &str) -> Result<Vec<String>, BlockError>;

    /// Series having `name="value"`; empty when the pair is absent.
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u32>, BlockError>;

    /// Every series id.
    fn all_postings(&self) -> Result<Vec<u32>, BlockError>;

    /// Series whose `name` is any of `values` (sorted, deduplicated).
    fn postings_for_values(&self, name: &str, values: &[&str]) -> Result<Vec<u32>, BlockError> {
        let mut out = Vec::new();
        for v in values {
            out.extend(self.postings(name, v)?);
        }
        crate::postings::sort_dedup_runs(&mut out);
        Ok(out)
    }

    /// Series having label `name` with a value for which `pred` is true (sorted,
    /// deduplicated). Series without the label are never included.
    fn postings_for_label_matching(
        &self,
        name: &str,
        pred: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Vec<u32>, BlockError> {
        let mut out = Vec::new();
        for v in self.label_values(name)? {
            if pred(&v) {
                out.extend(self.postings(name, &v)?);
            }
        }
        crate::postings::sort_dedup_runs(&mut out);
        Ok(out)
    }
}

impl<T: PostingsIndex + ?Sized> PostingsIndex for &T {
    fn label_names(&self) -> Result<Vec<String>, BlockError> {
        (**self).label_names()
    }
    fn label_values(&self, name: &str) -> Result<Vec<String>, BlockError> {
        (**self).label_values(name)
    }
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u32>, BlockError> {
        (**self).postings(name, value)
    }
    fn all_postings(&self) -> Result<Vec<u32>, BlockError> {
        (**self).all_postings()
    }
    fn postings_for_values(&self, name: &str, values: &[&str]) -> Result<Vec<u32>, BlockError> {
        (**self).postings_for_values(name, values)
    }
    fn postings_for_label_matching(
        &self,
        name: &str,
        pred: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Vec<u32>, BlockError> {
        (**self).postings_for_label_matching(name, pred)
    }
}

/// Sorts and deduplicates `v`, which is a concatenation of sorted runs (postings
/// lists of several values). Already sorted input costs one pass. Dense input (ids
/// spanning not much more than the list's length) goes through a bitmap; sparse
/// input through the standard library's stable sort, which merges the existing runs.
pub(crate) fn sort_dedup_runs(v: &mut Vec<u32>) {
    let mut sorted = true;
    let mut max = 0u32;
    for w in v.windows(2) {
        sorted &= w[0] < w[1];
        max = max.max(w[0]);
    }
    if sorted {
        return;
    }
    if let Some(&last) = v.last() {
        max = max.max(last);
    }
    let words = max as usize / 64 + 1;
    if words <= v.len() {
        let mut bits = vec![0u64; words];
        for &id in v.iter() {
            bits[id as usize / 64] |= 1 << (id % 64);
        }
        v.clear();
        for (i, &w) in bits.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let b = w.trailing_zeros();
                v.push((i as u32) * 64 + b);
                w &= w - 1;
            }
        }
    } else {
        v.sort();
        v.dedup();
    }
}

/// Intersection of two sorted, duplicate-free lists.
pub fn sorted_intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(small.len());
    if small.is_empty() {
        return out;
    }
    if small.len() * 32 < large.len() {
        // Gallop through the large list.
        let mut rest = large;
        for &x in small {
            let i = gallop(rest, x);
            rest = &rest[i..];
            match rest.first() {
                None => break,
                Some(&y) if y == x => {
                    out.push(x);
                    rest = &rest[1..];
                }
                Some(_) => {}
            }
        }
        return out;
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x < y {
            i += 1;
        } else if y < x {
            j += 1;
        } else {
            out.push(x);
            i += 1;
            j += 1;
        }
    }
    out
}

/// Index of the first element of sorted `s` that is `>= x` (exponential then binary
/// search, cheap when the answer is near the front).
fn gallop(s: &[u32], x: u32) -> usize {
    let mut hi = 1;
    while hi < s.len() && s[hi - 1] < x {
        hi *= 2;
    }
    let lo = hi / 2;
    let hi = hi.min(s.len());
    lo + s[lo..hi].partition_point(|&y| y < x)
}

/// Union of two sorted, duplicate-free lists.
pub fn sorted_union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x < y {
            out.push(x);
            i += 1;
        } else if y < x {
            out.push(y);
            j += 1;
        } else {
            out.push(x);
            i += 1;
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The elements of sorted `a` that are not in sorted `b`.
pub fn sorted_subtract(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    if b.len() > a.len() * 16 {
        // Gallop through the much larger `b`.
        let mut rest = b;
        for &x in a {
            rest = &rest[gallop(rest, x)..];
            if rest.first() != Some(&x) {
                out.push(x);
            }
        }
        return out;
    }
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j == b.len() || b[j] != x {
            out.push(x);
        }
    }
    out
}

/// Literal alternatives of a regex made only of plain words separated by `|`
/// (the same conservative rule as [`Matcher::set_literals`], applied to either
/// regex operator).
fn literal_alternatives(m: &Matcher) -> Option<Vec<&str>> {
    match m.op {
        MatchOp::RegexMatch => {
            // Ask the model first so both stay in step.
            m.set_literals()?;
        }
        MatchOp::RegexNoMatch => {}
        _ => return None,
    }
    let is_literal = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || "_-:/ ".contains(c))
    };
    let parts: Vec<&str> = m.value.split('|').collect();
    parts.iter().all(|p| is_literal(p)).then_some(parts)
}

/// Series whose value of `m.name` satisfies `m`, among series that HAVE the label.
fn matching_present(
    ix: &(impl PostingsIndex + ?Sized),
    m: &Matcher,
) -> Result<Vec<u32>, BlockError> {
    match m.op {
        MatchOp::Equal => ix.postings(&m.name, &m.value),
        MatchOp::NotEqual if m.value.is_empty() => {
            ix.postings_for_label_matching(&m.name, &mut |_| true)
        }
        MatchOp::RegexMatch if m.value == ".+" => {
            ix.postings_for_label_matching(&m.name, &mut |_| true)
        }
        MatchOp::RegexMatch => match literal_alternatives(m) {
            Some(lits) => ix.postings_for_values(&m.name, &lits),
            None => ix.postings_for_label_matching(&m.name, &mut |v| m.matches(v)),
        },
        _ => ix.postings_for_label_matching(&m.name, &mut |v| m.matches(v)),
    }
}

/// Series that HAVE label `m.name` with a value `m` rejects.
fn rejected_present(
    ix: &(impl PostingsIndex + ?Sized),
    m: &Matcher,
) -> Result<Vec<u32>, BlockError> {
    match m.op {
        MatchOp::Equal if m.value.is_empty() => {
            ix.postings_for_label_matching(&m.name, &mut |_| true)
        }
        MatchOp::NotEqual => ix.postings(&m.name, &m.value),
        MatchOp::RegexMatch if m.value == ".*" => Ok(Vec::new()),
        MatchOp::RegexNoMatch => match literal_alternatives(m) {
            Some(lits) => ix.postings_for_values(&m.name, &lits),
            None => ix.postings_for_label_matching(&m.name, &mut |v| !m.matches(v)),
        },
        _ => ix.postings_for_label_matching(&m.name, &mut |v| !m.matches(v)),
    }
}

/// Relative cost class of evaluating a positive matcher; cheap ones go first so an
/// empty intersection can stop the work early.
fn positive_cost(m: &Matcher) -> u8 {
    match m.op {
        MatchOp::Equal => 0,
        MatchOp::RegexMatch if literal_alternatives(m).is_some() => 1,
        _ => 2,
    }
}

/// The series ids (sorted ascending, no duplicates) selected by all `matchers`,
/// with Prometheus semantics.
///
/// A label that a series lacks compares as `""`. Each matcher is classified by
/// whether it matches the empty string:
///
/// * It does not (`a="x"`, `a!=""`, `a=~"x|y"`, `a=~".+"`): it is *positive* and
///   selects the union of postings of the values it accepts.
/// * It does (`a=""`, `a!="x"`, `a=~".*"`, `a!~"x|y"`): it is *negative*; the
///   series to remove are those having the label with a value it rejects.
///
/// Positive sets are intersected (cheapest first, stopping at an empty result),
/// then negative sets are subtracted. Without any positive matcher the start set is
/// [`PostingsIndex::all_postings`]; with no matchers at all, every series is
/// returned. `=` looks postings up directly, literal alternations (`a|b|c`, for
/// both `=~` and `!~`) look each literal up, `=~".*"` costs nothing, and other
/// regexes scan the label's values.
pub fn postings_for_matchers<I: PostingsIndex + ?Sized>(
    ix: &I,
    matchers: &[Matcher],
) -> Result<Vec<u32>, BlockError> {
    let mut positive: Vec<&Matcher> = Vec::new();
    let mut negative: Vec<&Matcher> = Vec::new();
    for m in matchers {
        if m.matches_empty() {
            negative.push(m);
        } else {
            positive.push(m);
        }
    }
    positive.sort_by_key(|m| positive_cost(m));

    let mut acc: Option<Vec<u32>> = None;
    for m in positive {
        let p = matching_present(ix, m)?;
        let next = match acc {
            None => p,
            Some(a) => sorted_intersect(&a, &p),
        };
        if next.is_empty() {
            return Ok(next);
        }
        acc = Some(next);
    }
    let mut acc = match acc {
        Some(a) => a,
        None => ix.all_postings()?,
    };
    for m in negative {
        if acc.is_empty() {
            break;
        }
        let remove = rejected_present(ix, m)?;
        if !remove.is_empty() {
            acc = sorted_subtract(&acc, &remove);
        }
    }
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn set(v: &[u32]) -> BTreeSet<u32> {
        v.iter().copied().collect()
    }

    fn sorted_list() -> impl Strategy<Value = Vec<u32>> {
        prop::collection::btree_set(0u32..2000, 0..300).prop_map(|s| s.into_iter().collect())
    }

    proptest! {
        #[test]
        fn set_ops_match_btreeset(a in sorted_list(), b in sorted_list()) {
            let (sa, sb) = (set(&a), set(&b));
            let i: Vec<u32> = sa.intersection(&sb).copied().collect();
            let u: Vec<u32> = sa.union(&sb).copied().collect();
            let d: Vec<u32> = sa.difference(&sb).copied().collect();
            prop_assert_eq!(sorted_intersect(&a, &b), i);
            prop_assert_eq!(sorted_union(&a, &b), u);
            prop_assert_eq!(sorted_subtract(&a, &b), d);
        }

        #[test]
        fn skewed_sizes_take_galloping_paths(
            small in prop::collection::btree_set(0u32..100_000, 0..20),
            step in 1u32..5,
        ) {
            let large: Vec<u32> = (0..100_000).step_by(step as usize).collect();
            let small: Vec<u32> = small.into_iter().collect();
            let (ss, sl) = (set(&small), set(&large));
            let i: Vec<u32> = ss.intersection(&sl).copied().collect();
            prop_assert_eq!(sorted_intersect(&small, &large), i.clone());
            prop_assert_eq!(sorted_intersect(&large, &small), i);
            let d: Vec<u32> = ss.difference(&sl).copied().collect();
            prop_assert_eq!(sorted_subtract(&small, &large), d);
            let d: Vec<u32> = sl.difference(&ss).copied().collect();
            prop_assert_eq!(sorted_subtract(&large, &small), d);
        }
    }

    proptest! {
        #[test]
        fn sort_dedup_runs_sorts(
            runs in prop::collection::vec(sorted_list(), 0..6),
            sparse in any::<bool>(),
        ) {
            let mut v: Vec<u32> = runs.concat();
            if sparse {
                v.iter_mut().for_each(|x| *x = x.wrapping_mul(100_003));
            }
            let want: Vec<u32> = v.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
            sort_dedup_runs(&mut v);
            prop_assert_eq!(v, want);
        }
    }

    #[test]
    fn literal_alternatives_cover_both_regex_ops() {
        let m = Matcher::new(MatchOp::RegexNoMatch, "a", "x|y").unwrap();
        assert_eq!(literal_alternatives(&m), Some(vec!["x", "y"]));
        let m = Matcher::new(MatchOp::RegexMatch, "a", "x|y.").unwrap();
        assert_eq!(literal_alternatives(&m), None);
        let m = Matcher::new(MatchOp::RegexNoMatch, "a", "x|").unwrap();
        assert_eq!(literal_alternatives(&m), None);
        assert_eq!(literal_alternatives(&Matcher::equal("a", "x")), None);
    }
}
