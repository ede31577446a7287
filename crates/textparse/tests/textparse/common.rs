//! Helpers shared by the golden-case modules.

use watchfire_textparse::{Entry, Format, Parser, SampleEntry};

/// Every entry of `input`, which must parse without error.
pub fn parse(input: &str, format: Format) -> Vec<Entry<'_>> {
    Parser::new(input.as_bytes(), format)
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

/// The sample entries of `input`.
pub fn samples(input: &str, format: Format) -> Vec<SampleEntry<'_>> {
    parse(input, format)
        .into_iter()
        .filter_map(|e| match e {
            Entry::Sample(s) => Some(s),
            _ => None,
        })
        .collect()
}
