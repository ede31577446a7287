//! Sample lines: `name{labels} value [timestamp] [# {labels} value [timestamp]]`.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::escape::unescape_owned;
use crate::number::{NumError, parse_float, parse_int, parse_seconds_as_ms};
use crate::parser::{KnownSeries, Parser};
use crate::{Entry, Exemplar, LabelPair, ParseError, SampleEntry};

/// Byte classes, one bit each.
const NAME_START: u8 = 1; // [a-zA-Z_:]
pub(crate) const NAME_CHAR: u8 = 2; // [a-zA-Z0-9_:]
const LABEL_START: u8 = 4; // [a-zA-Z_]
pub(crate) const LABEL_CHAR: u8 = 8; // [a-zA-Z0-9_]
const QUOTED_STOP: u8 = 16; // '"', '\\', '\n'
const VALUE_STOP: u8 = 32; // ' ', '\t', '\n', '\r'
const OM_VALUE_STOP: u8 = 64; // ' ', '\n'

const fn byte_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let alpha = c.is_ascii_alphabetic() || c == b'_';
        let digit = c.is_ascii_digit();
        let mut v = 0;
        if alpha || c == b':' {
            v |= NAME_START | NAME_CHAR;
        }
        if digit {
            v |= NAME_CHAR | LABEL_CHAR;
        }
        if alpha {
            v |= LABEL_START | LABEL_CHAR;
        }
        if c == b'"' || c == b'\\' || c == b'\n' {
            v |= QUOTED_STOP;
        }
        if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' {
            v |= VALUE_STOP;
        }
        if c == b' ' || c == b'\n' {
            v |= OM_VALUE_STOP;
        }
        t[i] = v;
        i += 1;
    }
    t
}

static CLASSES: [u8; 256] = byte_classes();

#[inline]
pub(crate) fn is_name_start(c: u8) -> bool {
    CLASSES[c as usize] & NAME_START != 0
}

#[inline]
pub(crate) fn is_name_char(c: u8) -> bool {
    CLASSES[c as usize] & NAME_CHAR != 0
}

/// Label sets at least this large check duplicates with a hash set.
const LINEAR_DUP_CHECK_MAX: usize = 16;

/// Where a label set appears.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LabelSetKind {
    Series,
    Exemplar,
}

impl<'a> Parser<'a> {
    /// Parses one sample line starting at the cursor, including its line end.
    ///
    /// Returns the finished iterator item so that the (large) entry is built once,
    /// directly in the caller's return slot, instead of being moved through layers of
    /// `Result` and `Entry`.
    #[inline]
    pub(crate) fn sample_entry(
        &mut self,
        known: Option<KnownSeries<'_>>,
    ) -> Option<Result<Entry<'a>, ParseError>> {
        let line = self.line;
        let start = self.pos;
        let skipped = known.and_then(|known| {
            let (name_end, end) = self.scan_series()?;
            known(&self.input[start..end]).then_some((name_end, end))
        });
        let (name, labels, series_end) = match skipped {
            Some((name_end, end)) => {
                self.pos = end;
                (Cow::Borrowed(&self.text[start..name_end]), Vec::new(), end)
            }
            None => match self.series() {
                Ok(head) => head,
                Err(e) => return Some(Err(e)),
            },
        };
        let value = match self.value_token("value") {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        let (timestamp_ms, exemplar) = if self.om {
            match self.openmetrics_suffix() {
                Ok(suffix) => suffix,
                Err(e) => return Some(Err(e)),
            }
        } else {
            match self.text_suffix() {
                Ok(ts) => (ts, None),
                Err(e) => return Some(Err(e)),
            }
        };
        if self.om {
            self.family_sample(&name);
        }
        Some(Ok(Entry::Sample(SampleEntry {
            series: &self.input[start..series_end],
            name,
            labels,
            value,
            timestamp_ms,
            exemplar,
            line,
        })))
    }

    /// Finds the end of `name` and of the series bytes (`name` or `name{…}`, quotes
    /// respected) without parsing labels; `None` for a quoted name or when no
    /// closing brace is found on the line. The cursor is left unchanged.
    #[inline]
    fn scan_series(&mut self) -> Option<(usize, usize)> {
        let start = self.pos;
        let found = self.scan_series_from_cursor();
        self.pos = start;
        found
    }

    #[inline]
    fn scan_series_from_cursor(&mut self) -> Option<(usize, usize)> {
        if !self.peek().is_some_and(is_name_start) {
            return None;
        }
        self.pos += 1;
        self.skip_class(NAME_CHAR);
        let name_end = self.pos;
        if !self.om {
            self.skip_blanks();
        }
        if self.peek() != Some(b'{') {
            return Some((name_end, name_end));
        }
        let mut i = self.pos + 1;
        loop {
            let off = self.input[i..]
                .iter()
                .position(|&c| matches!(c, b'"' | b'}' | b'\n'))?;
            i += off;
            match self.input[i] {
                b'}' => return Some((name_end, i + 1)),
                b'"' => {
                    let mut j = i + 1;
                    loop {
                        j = find_quoted_stop(self.input, j);
                        match self.input.get(j) {
                            Some(b'"') => break,
                            Some(b'\\') if !matches!(self.input.get(j + 1), None | Some(b'\n')) => {
                                j += 2;
                            }
                            _ => return None,
                        }
                    }
                    i = j + 1;
                }
                _ => return None,
            }
        }
    }

    /// Parses `name`, `name{labels}` or `{"name", labels}`; returns the name, the
    /// labels and the end offset of the series bytes.
    #[inline]
    fn series(&mut self) -> Result<(Cow<'a, str>, Vec<LabelPair<'a>>, usize), ParseError> {
        let start = self.pos;
        let mut name: Option<Cow<'a, str>> = None;
        match self.peek() {
            Some(c) if is_name_start(c) => {
                self.pos += 1;
                self.skip_class(NAME_CHAR);
                name = Some(Cow::Borrowed(&self.text[start..self.pos]));
            }
            Some(b'{') => {}
            _ => return Err(self.error("expected metric name, '{' or comment")),
        }
        let mut series_end = self.pos;
        let mut labels = Vec::new();
        if !self.om && name.is_some() {
            self.skip_blanks();
        }
        if self.peek() == Some(b'{') {
            self.label_set(&mut name, &mut labels, LabelSetKind::Series)?;
            series_end = self.pos;
        }
        match name {
            Some(name) => Ok((name, labels, series_end)),
            None => Err(self.error_at(start, "missing metric name")),
        }
    }

    /// The optional timestamp and the line end of a text-format sample.
    fn text_suffix(&mut self) -> Result<Option<i64>, ParseError> {
        let mut timestamp_ms = None;
        self.skip_blanks();
        if !self.at_text_line_end() {
            let at = self.pos;
            let token = self.token();
            timestamp_ms = Some(
                parse_int(token)
                    .map_err(|e| self.error_at(at, number_error(e, "timestamp", token)))?,
            );
            self.skip_blanks();
            if !self.at_text_line_end() {
                return Err(self.error("unexpected text after timestamp"));
            }
        }
        if self.peek() == Some(b'\r') {
            self.pos += 1;
        }
        if self.peek() == Some(b'\n') {
            self.consume_newline();
        }
        Ok(timestamp_ms)
    }

    /// Whether the cursor is at `\n`, `\r\n`, a final `\r` or the end of input.
    #[inline]
    fn at_text_line_end(&self) -> bool {
        match self.peek() {
            None | Some(b'\n') => true,
            Some(b'\r') => matches!(self.input.get(self.pos + 1), None | Some(b'\n')),
            Some(_) => false,
        }
    }

    /// The optional timestamp, exemplar and line end of an OpenMetrics sample.
    fn openmetrics_suffix(&mut self) -> Result<(Option<i64>, Option<Exemplar<'a>>), ParseError> {
        let mut timestamp_ms = None;
        let mut exemplar = None;
        if self.peek() == Some(b' ') && self.input.get(self.pos + 1) != Some(&b'#') {
            timestamp_ms = Some(self.seconds_token("timestamp")?);
        }
        if self.peek() == Some(b' ') {
            self.pos += 1;
            if !self.input[self.pos..].starts_with(b"# {") {
                return Err(self.error("expected exemplar ('# {') or end of line"));
            }
            self.pos += 2;
            let mut no_name = None;
            let mut labels = Vec::new();
            self.label_set(&mut no_name, &mut labels, LabelSetKind::Exemplar)?;
            let value = self.value_token("exemplar value")?;
            let exemplar_ts = if self.peek() == Some(b' ') {
                Some(self.seconds_token("exemplar timestamp")?)
            } else {
                None
            };
            exemplar = Some(Exemplar {
                labels,
                value,
                timestamp_ms: exemplar_ts,
            });
        }
        self.openmetrics_line_end()?;
        Ok((timestamp_ms, exemplar))
    }

    fn openmetrics_line_end(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'\n') => {
                self.consume_newline();
                Ok(())
            }
            None => Err(self.error("missing # EOF")),
            Some(_) => Err(self.error("expected end of line")),
        }
    }

    /// Scans a whitespace-delimited token (value or timestamp).
    #[inline]
    fn token(&mut self) -> &'a [u8] {
        let start = self.pos;
        let om = self.om;
        let mut i = start;
        while let Some(chunk) = self.input.get(i..i + 8) {
            let mut arr = [0u8; 8];
            arr.copy_from_slice(chunk);
            let word = u64::from_le_bytes(arr);
            let mut stops = bytes_equal(word, b' ') | bytes_equal(word, b'\n');
            if !om {
                stops |= bytes_equal(word, b'\t') | bytes_equal(word, b'\r');
            }
            if stops != 0 {
                self.pos = i + (stops.trailing_zeros() / 8) as usize;
                return &self.input[start..self.pos];
            }
            i += 8;
        }
        let stop = if om { OM_VALUE_STOP } else { VALUE_STOP };
        let rest = &self.input[i..];
        self.pos = i + rest
            .iter()
            .position(|&c| CLASSES[c as usize] & stop != 0)
            .unwrap_or(rest.len());
        &self.input[start..self.pos]
    }

    /// Consumes the separator before a value and parses the value.
    fn value_token(&mut self, what: &str) -> Result<f64, ParseError> {
        if self.om {
            if self.peek() != Some(b' ') {
                return Err(self.error(format!("expected ' ' before {what}")));
            }
            self.pos += 1;
        } else {
            self.skip_blanks();
        }
        let at = self.pos;
        let token = self.token();
        if token.is_empty() {
            return Err(self.error(format!("expected {what}")));
        }
        parse_float(token).map_err(|e| self.error_at(at, number_error(e, what, token)))
    }

    /// Consumes `' '` and an OpenMetrics float-seconds timestamp, in milliseconds.
    fn seconds_token(&mut self, what: &str) -> Result<i64, ParseError> {
        self.pos += 1;
        let at = self.pos;
        let token = self.token();
        if token.is_empty() {
            return Err(self.error(format!("expected {what}")));
        }
        parse_seconds_as_ms(token).map_err(|e| self.error_at(at, number_error(e, what, token)))
    }

    /// Parses `{…}` at the cursor into `labels`; a lone quoted string sets `name`.
    fn label_set(
        &mut self,
        name: &mut Option<Cow<'a, str>>,
        labels: &mut Vec<LabelPair<'a>>,
        kind: LabelSetKind,
    ) -> Result<(), ParseError> {
        let open = self.pos;
        self.pos += 1;
        if labels.capacity() == 0 && self.peek() != Some(b'}') {
            // One allocation covers the usual label set.
            labels.reserve_exact(4);
        }
        let mut seen: Option<HashSet<Cow<'a, str>>> = None;
        loop {
            self.skip_blanks();
            let label_at = self.pos;
            let label: Cow<'a, str> = match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'"') => {
                    let quoted = self.quoted("label name")?;
                    self.skip_blanks();
                    let next = self.peek();
                    if kind == LabelSetKind::Series && matches!(next, Some(b',' | b'}')) {
                        if name.is_some() {
                            return Err(self.error_at(label_at, "metric name already set"));
                        }
                        if quoted.is_empty() {
                            return Err(self.error_at(label_at, "empty metric name"));
                        }
                        *name = Some(quoted);
                        if next == Some(b',') {
                            self.pos += 1;
                        }
                        continue;
                    }
                    if quoted.is_empty() {
                        return Err(self.error_at(label_at, "empty label name"));
                    }
                    quoted
                }
                Some(c) if CLASSES[c as usize] & LABEL_START != 0 => {
                    self.pos += 1;
                    self.skip_class(LABEL_CHAR);
                    Cow::Borrowed(&self.text[label_at..self.pos])
                }
                None | Some(b'\n') => {
                    return Err(self.error_at(open, "unterminated label set"));
                }
                Some(_) => return Err(self.error("expected label name or '}'")),
            };
            self.skip_blanks();
            if self.peek() != Some(b'=') {
                return Err(self.error(format!("expected '=' after label name \"{label}\"")));
            }
            self.pos += 1;
            self.skip_blanks();
            if self.peek() != Some(b'"') {
                return Err(self.error(format!(
                    "expected '\"' to start the value of label \"{label}\""
                )));
            }
            let value = self.quoted("label value")?;

            // Duplicate check: linear for the usual small sets, hashed beyond.
            let duplicate = if label == "__name__" && kind == LabelSetKind::Series {
                true
            } else if let Some(set) = seen.as_mut() {
                !set.insert(label.clone())
            } else {
                let dup = labels.iter().any(|(l, _)| *l == label);
                if !dup && labels.len() >= LINEAR_DUP_CHECK_MAX {
                    let mut set: HashSet<Cow<'a, str>> =
                        labels.iter().map(|(l, _)| l.clone()).collect();
                    set.insert(label.clone());
                    seen = Some(set);
                }
                dup
            };
            if duplicate {
                return Err(self.error_at(label_at, format!("duplicate label name \"{label}\"")));
            }
            labels.push((label, value));

            self.skip_blanks();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                // Like Prometheus, the text format tolerates a missing comma.
                _ if !self.om => {}
                _ => return Err(self.error("expected ',' or '}' after label value")),
            }
        }
    }

    /// Advances the cursor past bytes of the given class: [`NAME_CHAR`] or
    /// [`LABEL_CHAR`].
    #[inline]
    pub(crate) fn skip_class(&mut self, class: u8) {
        // ':' is 0x3a, right after the digits: names take it, label names do not.
        let last_digit = if class == NAME_CHAR { b':' } else { b'9' };
        let mut i = self.pos;
        while let Some(chunk) = self.input.get(i..i + 8) {
            let mut arr = [0u8; 8];
            arr.copy_from_slice(chunk);
            let misses = name_char_misses(u64::from_le_bytes(arr), last_digit);
            if misses != 0 {
                self.pos = i + (misses.trailing_zeros() / 8) as usize;
                return;
            }
            i += 8;
        }
        let rest = &self.input[i..];
        self.pos = i + rest
            .iter()
            .position(|&c| CLASSES[c as usize] & class == 0)
            .unwrap_or(rest.len());
    }

    /// Parses a double-quoted string at the cursor, unescaping it if needed.
    #[inline(always)]
    fn quoted(&mut self, what: &str) -> Result<Cow<'a, str>, ParseError> {
        let open = self.pos;
        let start = open + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = find_quoted_stop(self.input, i);
            match self.input.get(i) {
                Some(b'"') => break,
                Some(b'\\') if !matches!(self.input.get(i + 1), None | Some(b'\n')) => {
                    escaped = true;
                    i += 2;
                }
                _ => return Err(self.error_at(open, format!("unterminated {what}"))),
            }
        }
        let raw = &self.text[start..i];
        self.pos = i + 1;
        Ok(if escaped {
            Cow::Owned(unescape_owned(raw, true))
        } else {
            Cow::Borrowed(raw)
        })
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Flags (high bit of each byte) the bytes of `word` equal to `b`; only the lowest
/// flag is reliable.
#[inline]
fn bytes_equal(word: u64, b: u8) -> u64 {
    let x = word ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Flags (high bit of each byte) the bytes of `word` that are not in
/// `[a-zA-Z_0-9]` nor in `(b'9', last_digit]`; exact for every byte.
#[inline]
fn name_char_misses(word: u64, last_digit: u8) -> u64 {
    let ascii = !word & HIGHS;
    // Bytes are < 0x80 where it matters, so these sums never carry across bytes.
    let low7 = word & !HIGHS;
    let in_range = |x: u64, lo: u8, hi: u64| {
        (x + ONES * u64::from(0x80 - lo)) & !(x + ONES * (0x7f - hi)) & HIGHS
    };
    // Folding case maps letters onto 'a'..='z'; '_' (0x5f) becomes 0x7f, as DEL
    // does, so '_' is matched on the original byte instead.
    let folded = low7 | (ONES * 0x20);
    let letters = in_range(folded, b'a', u64::from(b'z'));
    let digits = in_range(low7, b'0', u64::from(last_digit));
    let underscores = eq_exact(low7, b'_');
    !(ascii & (letters | digits | underscores)) & HIGHS
}

/// Flags (high bit of each byte) the bytes of a word of 7-bit bytes equal to `b`;
/// exact for every byte.
#[inline]
fn eq_exact(low7: u64, b: u8) -> u64 {
    let x = low7 ^ (ONES * u64::from(b));
    // x's bytes are < 0x80: adding 0x7f sets the high bit iff the byte is non-zero.
    !(x + ONES * 0x7f) & HIGHS
}

/// The offset of the first `"`, `\\` or `\n` at or after `from`, or the input length.
///
/// Looks at eight bytes at a time (SWAR): label values are often long paths or URLs.
#[inline]
fn find_quoted_stop(input: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = input.get(i..i + 8) {
        let mut arr = [0u8; 8];
        arr.copy_from_slice(chunk);
        let word = u64::from_le_bytes(arr);
        let hits = bytes_equal(word, b'"') | bytes_equal(word, b'\\') | bytes_equal(word, b'\n');
        if hits != 0 {
            // The lowest flagged byte is always a true match.
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = input.get(i) {
        if CLASSES[c as usize] & QUOTED_STOP != 0 {
            break;
        }
        i += 1;
    }
    i
}

/// The message for a number that did not parse.
#[cold]
fn number_error(e: NumError, what: &str, token: &[u8]) -> String {
    let token = String::from_utf8_lossy(token);
    match e {
        NumError::Syntax => format!("invalid {what} \"{token}\""),
        NumError::Range => format!("{what} \"{token}\" out of range"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_name_scan_matches_table() {
        for class in [NAME_CHAR, LABEL_CHAR] {
            let last = if class == NAME_CHAR { b':' } else { b'9' };
            for b in 0..=255u8 {
                for pos in 0..8 {
                    let mut word = *b"aZ_09:zA";
                    if class == LABEL_CHAR {
                        word[5] = b'x';
                    }
                    word[pos] = b;
                    let misses = name_char_misses(u64::from_le_bytes(word), last);
                    let want = word
                        .iter()
                        .position(|&c| CLASSES[c as usize] & class == 0)
                        .map_or(0, |i| i as u32 * 8 + 7);
                    let got = if misses == 0 {
                        0
                    } else {
                        misses.trailing_zeros()
                    };
                    assert_eq!(got, want, "byte {b:#x} at {pos}");
                }
            }
        }
    }

    use crate::{Entry, Format};

    /// Series bytes, number of labels parsed, name, value, timestamp.
    type Seen = (String, usize, String, f64, Option<i64>);

    /// Collects what the parser returns with `known` deciding.
    fn skipping(body: &str, format: Format, known: &[&str]) -> Vec<Result<Seen, String>> {
        let mut p = Parser::new(body.as_bytes(), format);
        let mut out = Vec::new();
        while let Some(e) = p.next_entry_skipping(&mut |s| known.iter().any(|k| k.as_bytes() == s))
        {
            match e {
                Ok(Entry::Sample(s)) => out.push(Ok((
                    String::from_utf8(s.series.to_vec()).unwrap(),
                    s.labels.len(),
                    s.name.to_string(),
                    s.value,
                    s.timestamp_ms,
                ))),
                Ok(_) => {}
                Err(e) => out.push(Err(e.to_string())),
            }
        }
        out
    }

    #[test]
    fn skipping_known_series_matches_full_parse_boundaries() {
        let body = "a{x=\"}\\\"{\",y=\"2\"} 1 5\nb 2\nc {z=\"3\"}\t3\n{\"q.name\"} 4\n";
        let full = skipping(body, Format::PrometheusText, &[]);
        let keys: Vec<String> = full.iter().map(|r| r.as_ref().unwrap().0.clone()).collect();
        assert_eq!(keys[0], "a{x=\"}\\\"{\",y=\"2\"}");
        assert_eq!(keys[2], "c {z=\"3\"}");
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let skipped = skipping(body, Format::PrometheusText, &key_refs);
        for (f, s) in full.iter().zip(&skipped) {
            let (f, s) = (f.as_ref().unwrap(), s.as_ref().unwrap());
            assert_eq!((&f.0, &f.3, &f.4), (&s.0, &s.3, &s.4));
        }
        // Labels are skipped for known lines, except a quoted name (always parsed).
        assert_eq!(skipped[0].as_ref().unwrap().1, 0);
        assert_eq!(skipped[0].as_ref().unwrap().2, "a");
        assert_eq!(skipped[2].as_ref().unwrap().1, 0);
        assert_eq!(skipped[3].as_ref().unwrap().2, "q.name");
    }

    #[test]
    fn skipping_still_checks_values_and_unterminated_sets() {
        let r = skipping("a{x=\"1\"} oops\n", Format::PrometheusText, &["a{x=\"1\"}"]);
        assert!(r[0].is_err());
        let r = skipping("a{x=\"1\" 1\n", Format::PrometheusText, &["a{x=\"1\" 1"]);
        assert!(r[0].is_err());
        let r = skipping(
            "# TYPE a counter\na_total{x=\"1\"} 1\n# EOF\n",
            Format::OpenMetrics,
            &["a_total{x=\"1\"}"],
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].as_ref().unwrap().2, "a_total");
    }

    #[test]
    fn swar_quoted_scan_matches_naive() {
        let mut input = Vec::new();
        for i in 0..600u32 {
            input.push((i.wrapping_mul(2_654_435_761) >> 24) as u8);
        }
        for from in 0..input.len() {
            let want = input[from..]
                .iter()
                .position(|&c| matches!(c, b'"' | b'\\' | b'\n'))
                .map_or(input.len(), |i| from + i);
            assert_eq!(find_quoted_stop(&input, from), want);
        }
    }
}
