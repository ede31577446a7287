//! The line driver: dispatches each line to metadata or sample parsing, and tracks
//! the OpenMetrics metric-family ordering rules.

use std::borrow::Cow;
use std::iter::FusedIterator;

use crate::escape::unescape;
use crate::sample::{NAME_CHAR, is_name_char, is_name_start};
use crate::{Entry, Format, MetricType, ParseError};

/// Asked by [`Parser::next_entry_skipping`] whether a series' bytes are known.
pub(crate) type KnownSeries<'k> = &'k mut dyn FnMut(&[u8]) -> bool;

/// A streaming parser over one exposition held in memory.
///
/// Iterate with [`Parser::next_entry`] or as an [`Iterator`]. Entries borrow from the
/// input. After the first error, or after OpenMetrics' `# EOF`, the parser yields
/// nothing more.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    /// The whole input.
    pub(crate) input: &'a [u8],
    /// The longest valid UTF-8 prefix of `input`; every line handed to the line
    /// parsers lies inside it, so slicing it at ASCII delimiters cannot fail.
    pub(crate) text: &'a str,
    /// Start of the line holding the first invalid UTF-8 byte (`usize::MAX` if none).
    bad_line_start: usize,
    /// Offset of the next byte to read.
    pub(crate) pos: usize,
    /// 1-based number of the line being parsed.
    pub(crate) line: usize,
    /// Offset of the first byte of the line being parsed.
    pub(crate) line_start: usize,
    /// Whether the format is OpenMetrics.
    pub(crate) om: bool,
    done: bool,
    family: Family<'a>,
}

/// Metadata bits seen for the current OpenMetrics family.
const SEEN_TYPE: u8 = 1;
const SEEN_HELP: u8 = 2;
const SEEN_UNIT: u8 = 4;
const SEEN_SAMPLES: u8 = 8;

/// The OpenMetrics family that the latest lines belong to.
#[derive(Debug, Clone)]
struct Family<'a> {
    name: Cow<'a, str>,
    kind: MetricType,
    seen: u8,
}

/// Which metadata line is being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meta {
    Help,
    Type,
    Unit,
}

impl Meta {
    fn keyword(self) -> &'static str {
        match self {
            Meta::Help => "HELP",
            Meta::Type => "TYPE",
            Meta::Unit => "UNIT",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Meta::Help => SEEN_HELP,
            Meta::Type => SEEN_TYPE,
            Meta::Unit => SEEN_UNIT,
        }
    }
}

impl<'a> Parser<'a> {
    /// Creates a parser over `input` in `format`.
    pub fn new(input: &'a [u8], format: Format) -> Self {
        let (text, bad_line_start) = match std::str::from_utf8(input) {
            Ok(text) => (text, usize::MAX),
            Err(e) => {
                let valid = &input[..e.valid_up_to()];
                let text = std::str::from_utf8(valid).unwrap_or_default();
                let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                (text, line_start)
            }
        };
        Parser {
            input,
            text,
            bad_line_start,
            pos: 0,
            line: 1,
            line_start: 0,
            om: format == Format::OpenMetrics,
            done: false,
            family: Family {
                name: Cow::Borrowed(""),
                kind: MetricType::Unknown,
                seen: 0,
            },
        }
    }

    /// Parses the next entry: `None` at the end of the input (or after an error or
    /// `# EOF`), otherwise the entry or the error that ends the parse.
    pub fn next_entry(&mut self) -> Option<Result<Entry<'a>, ParseError>> {
        self.next_entry_inner(None)
    }

    /// Like [`Parser::next_entry`], but first hands each sample line's series bytes
    /// ([`SampleEntry::series`](crate::SampleEntry::series)) to `known`. When it
    /// returns `true`, the label set is skipped: neither parsed nor validated, so
    /// [`SampleEntry::labels`](crate::SampleEntry::labels) is empty (no allocation)
    /// and [`SampleEntry::name`](crate::SampleEntry::name) is the metric name. The
    /// value, timestamp, exemplar and line structure are parsed as usual.
    ///
    /// This is for scrape caches holding series bytes that parsed successfully
    /// before *in the same format*: identical bytes always parse to identical
    /// labels. Lines whose metric name is quoted inside the braces, and lines whose
    /// label set is not terminated, are always parsed in full without asking.
    pub fn next_entry_skipping(
        &mut self,
        known: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Option<Result<Entry<'a>, ParseError>> {
        self.next_entry_inner(Some(known))
    }

    #[inline]
    fn next_entry_inner(
        &mut self,
        known: Option<KnownSeries<'_>>,
    ) -> Option<Result<Entry<'a>, ParseError>> {
        if self.done {
            return None;
        }
        let res = if self.om {
            self.next_openmetrics(known)
        } else {
            self.next_text(known)
        };
        if !matches!(&res, Some(Ok(entry)) if !matches!(entry, Entry::Eof)) {
            self.done = true;
        }
        res
    }

    // ---- cursor helpers -------------------------------------------------------

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// Skips spaces and tabs.
    #[inline]
    pub(crate) fn skip_blanks(&mut self) {
        while let Some(b' ' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// Builds an error located at byte offset `at` of the current line.
    #[cold]
    #[inline(never)]
    pub(crate) fn error_at(&self, at: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            column: at.saturating_sub(self.line_start) + 1,
            message: message.into(),
        }
    }

    /// Builds an error located at the cursor.
    #[cold]
    #[inline(never)]
    pub(crate) fn error(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.pos, message)
    }

    /// Marks the byte at the cursor, a `\n`, as consumed.
    #[inline]
    pub(crate) fn consume_newline(&mut self) {
        self.pos += 1;
        self.line += 1;
        self.line_start = self.pos;
    }

    /// The offset of the end of the current line (its `\n`, or the end of input).
    fn line_end(&self) -> usize {
        self.input[self.pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.input.len(), |i| self.pos + i)
    }

    /// Moves past the rest of the current line, including its `\n`.
    fn skip_line(&mut self) {
        self.pos = self.line_end();
        if self.pos < self.input.len() {
            self.consume_newline();
        }
    }

    /// Returns a parse error if the current line holds the first invalid UTF-8 byte.
    #[inline]
    fn check_utf8(&self) -> Result<(), ParseError> {
        if self.pos < self.bad_line_start {
            return Ok(());
        }
        let bad = self.text.len();
        Err(self.error_at(bad, "invalid UTF-8"))
    }

    // ---- Prometheus text format ------------------------------------------------

    fn next_text(
        &mut self,
        known: Option<KnownSeries<'_>>,
    ) -> Option<Result<Entry<'a>, ParseError>> {
        loop {
            if let Err(e) = self.check_utf8() {
                return Some(Err(e));
            }
            self.line_start = self.pos;
            self.skip_blanks();
            match self.peek() {
                None => return None,
                Some(b'\n') => self.consume_newline(),
                Some(b'\r') if matches!(self.input.get(self.pos + 1), None | Some(b'\n')) => {
                    self.pos += 1;
                    if self.peek().is_some() {
                        self.consume_newline();
                    }
                }
                Some(b'#') => match self.text_comment() {
                    Ok(None) => {}
                    Ok(Some(entry)) => return Some(Ok(entry)),
                    Err(e) => return Some(Err(e)),
                },
                Some(_) => return self.sample_entry(known),
            }
        }
    }

    /// Parses a `#` line; `None` for a plain comment.
    fn text_comment(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        self.pos += 1;
        let after_hash = self.pos;
        self.skip_blanks();
        if self.pos > after_hash {
            let rest = &self.input[self.pos..];
            let meta = if rest.starts_with(b"HELP") {
                Some(Meta::Help)
            } else if rest.starts_with(b"TYPE") {
                Some(Meta::Type)
            } else {
                None
            };
            if let Some(meta) = meta
                && matches!(rest.get(4), Some(b' ' | b'\t'))
            {
                self.pos += 4;
                self.skip_blanks();
                return self.text_metadata(meta).map(Some);
            }
        }
        self.skip_line();
        Ok(None)
    }

    /// Parses the part of a `# HELP` or `# TYPE` line after the keyword.
    fn text_metadata(&mut self, meta: Meta) -> Result<Entry<'a>, ParseError> {
        let family = self.family_name(meta)?;
        if !matches!(self.peek(), None | Some(b' ' | b'\t' | b'\n' | b'\r')) {
            return Err(self.error(format!(
                "unexpected character after metric family name \"{family}\""
            )));
        }
        let start = self.pos;
        let end = self.line_end();
        let content_end = if end > start && self.input[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        let raw = &self.text[start..content_end];
        let entry = match meta {
            Meta::Help => {
                let raw = raw.strip_prefix([' ', '\t']).unwrap_or(raw);
                Entry::Help {
                    family,
                    text: unescape(raw, false),
                }
            }
            _ => {
                let word = raw.trim_matches([' ', '\t']);
                let kind = match word {
                    "counter" => MetricType::Counter,
                    "gauge" => MetricType::Gauge,
                    "histogram" => MetricType::Histogram,
                    "summary" => MetricType::Summary,
                    "untyped" => MetricType::Unknown,
                    _ => {
                        let at = start + (raw.len() - raw.trim_start_matches([' ', '\t']).len());
                        return Err(self.error_at(at, format!("invalid metric type \"{word}\"")));
                    }
                };
                Entry::Type { family, kind }
            }
        };
        self.pos = end;
        if self.pos < self.input.len() {
            self.consume_newline();
        }
        Ok(entry)
    }

    /// Parses the family name of a metadata line: a metric name or a quoted string
    /// (returned as written between the quotes).
    fn family_name(&mut self, meta: Meta) -> Result<&'a str, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                loop {
                    match self.peek() {
                        Some(b'"') => break,
                        Some(b'\\')
                            if !matches!(self.input.get(self.pos + 1), None | Some(b'\n')) =>
                        {
                            self.pos += 2;
                        }
                        None | Some(b'\n') => {
                            return Err(self.error_at(start, "unterminated quoted metric name"));
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                let name = &self.text[start + 1..self.pos];
                self.pos += 1;
                if name.is_empty() {
                    return Err(self.error_at(start, "empty metric name"));
                }
                Ok(name)
            }
            Some(c) if is_name_start(c) => {
                self.pos += 1;
                self.skip_class(NAME_CHAR);
                Ok(&self.text[start..self.pos])
            }
            _ => Err(self.error(format!("expected metric name after {}", meta.keyword()))),
        }
    }

    // ---- OpenMetrics -----------------------------------------------------------

    fn next_openmetrics(
        &mut self,
        known: Option<KnownSeries<'_>>,
    ) -> Option<Result<Entry<'a>, ParseError>> {
        if let Err(e) = self.check_utf8() {
            return Some(Err(e));
        }
        self.line_start = self.pos;
        match self.peek() {
            None => Some(Err(self.error("missing # EOF"))),
            Some(b'#') => Some(self.openmetrics_comment()),
            Some(b'\n') => Some(Err(self.error("empty line (not allowed in OpenMetrics)"))),
            Some(_) => self.sample_entry(known),
        }
    }

    /// Parses a `# …` line of OpenMetrics.
    fn openmetrics_comment(&mut self) -> Result<Entry<'a>, ParseError> {
        let rest = &self.input[self.pos..];
        if rest.starts_with(b"# EOF") {
            self.pos += 5;
            match self.peek() {
                None => return Ok(Entry::Eof),
                Some(b'\n') => {
                    self.consume_newline();
                    if self.peek().is_none() {
                        return Ok(Entry::Eof);
                    }
                }
                Some(_) => {}
            }
            return Err(self.error("unexpected data after # EOF"));
        }
        let meta = if rest.starts_with(b"# HELP ") {
            Meta::Help
        } else if rest.starts_with(b"# TYPE ") {
            Meta::Type
        } else if rest.starts_with(b"# UNIT ") {
            Meta::Unit
        } else {
            return Err(self.error(
                "invalid comment: OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF",
            ));
        };
        self.pos += 7;
        let name_at = self.pos;
        let family = self.family_name(meta)?;
        match self.peek() {
            Some(b' ') => self.pos += 1,
            Some(b'\n') => {}
            None => return Err(self.error("missing # EOF")),
            Some(_) => {
                return Err(self.error(format!(
                    "expected ' ' after metric family name \"{family}\""
                )));
            }
        }
        let start = self.pos;
        let end = self.line_end();
        if end == self.input.len() {
            return Err(self.error_at(end, "missing # EOF"));
        }
        let raw = &self.text[start..end];
        let entry = match meta {
            Meta::Help => Entry::Help {
                family,
                text: unescape(raw, true),
            },
            Meta::Type => {
                let kind = match raw {
                    "counter" => MetricType::Counter,
                    "gauge" => MetricType::Gauge,
                    "histogram" => MetricType::Histogram,
                    "gaugehistogram" => MetricType::GaugeHistogram,
                    "summary" => MetricType::Summary,
                    "info" => MetricType::Info,
                    "stateset" => MetricType::StateSet,
                    "unknown" => MetricType::Unknown,
                    _ => return Err(self.error_at(start, format!("invalid metric type \"{raw}\""))),
                };
                Entry::Type { family, kind }
            }
            Meta::Unit => {
                if let Some(i) = raw.bytes().position(|c| !is_name_char(c)) {
                    return Err(self.error_at(start + i, format!("invalid unit \"{raw}\"")));
                }
                let is_suffix = family
                    .strip_suffix(raw)
                    .is_some_and(|head| head.ends_with('_'));
                if !raw.is_empty() && !is_suffix {
                    return Err(self.error_at(
                        start,
                        format!("unit \"{raw}\" is not a suffix of metric family \"{family}\""),
                    ));
                }
                Entry::Unit { family, unit: raw }
            }
        };
        self.family_metadata(meta, family, &entry, name_at)?;
        self.pos = end;
        self.consume_newline();
        Ok(entry)
    }

    /// Applies the OpenMetrics rule that a family's metadata comes once, before its
    /// samples.
    fn family_metadata(
        &mut self,
        meta: Meta,
        family: &'a str,
        entry: &Entry<'a>,
        name_at: usize,
    ) -> Result<(), ParseError> {
        if self.family.name == family {
            if self.family.seen & SEEN_SAMPLES != 0 {
                return Err(self.error_at(
                    name_at,
                    format!(
                        "# {} for metric family \"{family}\" must come before its samples",
                        meta.keyword()
                    ),
                ));
            }
            if self.family.seen & meta.bit() != 0 {
                return Err(self.error_at(
                    name_at,
                    format!(
                        "duplicate # {} for metric family \"{family}\"",
                        meta.keyword()
                    ),
                ));
            }
        } else {
            self.family = Family {
                name: Cow::Borrowed(family),
                kind: MetricType::Unknown,
                seen: 0,
            };
        }
        self.family.seen |= meta.bit();
        if let Entry::Type { kind, .. } = entry {
            self.family.kind = *kind;
        }
        Ok(())
    }

    /// Records a sample for the OpenMetrics family rules: it either continues the
    /// current family or starts a new, metadata-less one.
    #[inline]
    #[allow(clippy::ptr_arg)] // The Cow is cloned to keep an owned name alive.
    pub(crate) fn family_sample(&mut self, name: &Cow<'a, str>) {
        if !belongs_to_family(&self.family.name, self.family.kind, name) {
            self.family = Family {
                name: name.clone(),
                kind: MetricType::Unknown,
                seen: 0,
            };
        }
        self.family.seen |= SEEN_SAMPLES;
    }
}

/// Whether a sample called `name` is part of the family `family` of type `kind`.
fn belongs_to_family(family: &str, kind: MetricType, name: &str) -> bool {
    let Some(suffix) = name.strip_prefix(family) else {
        return false;
    };
    if suffix.is_empty() {
        return !family.is_empty();
    }
    let allowed: &[&str] = match kind {
        MetricType::Counter => &["_total", "_created"],
        MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
        MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
        MetricType::Summary => &["_count", "_sum", "_created"],
        MetricType::Info => &["_info"],
        MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[],
    };
    allowed.contains(&suffix)
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry()
    }
}

impl FusedIterator for Parser<'_> {}
