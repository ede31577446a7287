//! Sample lines: `name{labels} value [timestamp] [# {labels} value [timestamp]]`.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::escape::unescape_owned;
use crate::number::{NumError, parse_float, parse_int, parse_seconds_as_ms};
use crate::parser::Parser;
use crate::{Exemplar, LabelPair, ParseError, SampleEntry};

/// Byte classes, one bit each.
const NAME_START: u8 = 1; // [a-zA-Z_:]
const NAME_CHAR: u8 = 2; // [a-zA-Z0-9_:]
const LABEL_START: u8 = 4; // [a-zA-Z_]
const LABEL_CHAR: u8 = 8; // [a-zA-Z0-9_]
const QUOTED_STOP: u8 = 16; // '"', '\\', '\n'
const VALUE_STOP: u8 = 32; // ' ', '\t', '\n', '\r'

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
    pub(crate) fn sample(&mut self) -> Result<SampleEntry<'a>, ParseError> {
        let line = self.line;
        let start = self.pos;
        let mut name: Option<Cow<'a, str>> = None;
        match self.peek() {
            Some(c) if is_name_start(c) => {
                self.pos += 1;
                while self.peek().is_some_and(is_name_char) {
                    self.pos += 1;
                }
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
        let Some(name) = name else {
            return Err(self.error_at(start, "missing metric name"));
        };
        let value = self.value_token("value")?;
        let mut sample = SampleEntry {
            series: &self.input[start..series_end],
            name,
            labels,
            value,
            timestamp_ms: None,
            exemplar: None,
            line,
        };
        if self.om {
            self.openmetrics_suffix(&mut sample)?;
        } else {
            self.text_suffix(&mut sample)?;
        }
        Ok(sample)
    }

    /// The optional timestamp and the line end of a text-format sample.
    fn text_suffix(&mut self, sample: &mut SampleEntry<'a>) -> Result<(), ParseError> {
        self.skip_blanks();
        if !self.at_text_line_end() {
            let at = self.pos;
            let token = self.token();
            sample.timestamp_ms = Some(parse_int(token).map_err(|e| {
                self.error_at(at, number_error(e, "timestamp", token))
            })?);
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
        Ok(())
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
    fn openmetrics_suffix(&mut self, sample: &mut SampleEntry<'a>) -> Result<(), ParseError> {
        if self.peek() == Some(b' ') && self.input.get(self.pos + 1) != Some(&b'#') {
            sample.timestamp_ms = Some(self.seconds_token("timestamp")?);
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
            let timestamp_ms = if self.peek() == Some(b' ') {
                Some(self.seconds_token("exemplar timestamp")?)
            } else {
                None
            };
            sample.exemplar = Some(Exemplar {
                labels,
                value,
                timestamp_ms,
            });
        }
        self.openmetrics_line_end()
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
        if self.om {
            while let Some(c) = self.peek() {
                if c == b' ' || c == b'\n' {
                    break;
                }
                self.pos += 1;
            }
        } else {
            while let Some(c) = self.peek() {
                if CLASSES[c as usize] & VALUE_STOP != 0 {
                    break;
                }
                self.pos += 1;
            }
        }
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
                    while self
                        .peek()
                        .is_some_and(|c| CLASSES[c as usize] & LABEL_CHAR != 0)
                    {
                        self.pos += 1;
                    }
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

    /// Parses a double-quoted string at the cursor, unescaping it if needed.
    #[inline]
    fn quoted(&mut self, what: &str) -> Result<Cow<'a, str>, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            match self.input.get(self.pos) {
                Some(&c) if CLASSES[c as usize] & QUOTED_STOP == 0 => self.pos += 1,
                Some(b'"') => break,
                Some(b'\\') if !matches!(self.input.get(self.pos + 1), None | Some(b'\n')) => {
                    escaped = true;
                    self.pos += 2;
                }
                _ => return Err(self.error_at(open, format!("unterminated {what}"))),
            }
        }
        let raw = &self.text[start..self.pos];
        self.pos += 1;
        Ok(if escaped {
            Cow::Owned(unescape_owned(raw, true))
        } else {
            Cow::Borrowed(raw)
        })
    }
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
