//! Finding the source position of a field path after deserialisation.
//!
//! Semantic checks (duplicate job names, timeouts longer than intervals, ...) run on
//! the deserialised structs, which carry no positions. Instead of threading spans
//! through every public type, a failing check names the field path (in the same
//! `a.b[0].c` notation `serde_path_to_error` uses) and this module walks the YAML
//! event stream once to find where that path is written.

use serde_saphyr::granit_parser::{Event, Parser};

enum Frame {
    Map {
        path: String,
        key: Option<String>,
        expecting_key: bool,
    },
    Seq {
        path: String,
        index: usize,
    },
}

/// Returns the 1-based (line, column) where `wanted` (or its longest located prefix)
/// appears in `text`.
pub(crate) fn locate(text: &str, wanted: &str) -> Option<(u64, u64)> {
    let mut best: Option<(usize, (u64, u64))> = None;
    let mut consider = |path: &str, pos: (u64, u64)| {
        if is_prefix_path(path, wanted) && best.is_none_or(|(len, _)| path.len() > len) {
            best = Some((path.len(), pos));
        }
    };
    let mut stack: Vec<Frame> = Vec::new();
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else { break };
        let pos = (span.start.line() as u64, span.start.col() as u64 + 1);
        let is_node = matches!(
            event,
            Event::Scalar(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
                | Event::Alias(_)
        );
        // Work out the path of a node starting here, and record it.
        let mut node_path = None;
        if is_node {
            match stack.last_mut() {
                None => node_path = Some(String::new()),
                Some(Frame::Seq { path, index }) => {
                    let p = format!("{path}[{index}]");
                    *index += 1;
                    consider(&p, pos);
                    node_path = Some(p);
                }
                Some(Frame::Map {
                    path,
                    key,
                    expecting_key,
                }) => {
                    if *expecting_key {
                        let name = match &event {
                            Event::Scalar(v, ..) => v.to_string(),
                            _ => "?".to_owned(),
                        };
                        let p = join(path, &name);
                        consider(&p, pos);
                        *key = Some(name);
                        *expecting_key = false;
                        node_path = Some(p);
                    } else {
                        node_path = Some(join(path, key.as_deref().unwrap_or("?")));
                        *expecting_key = true;
                    }
                }
            }
        }
        match event {
            Event::MappingStart(..) => stack.push(Frame::Map {
                path: node_path.unwrap_or_default(),
                key: None,
                expecting_key: true,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Seq {
                path: node_path.unwrap_or_default(),
                index: 0,
            }),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
    best.map(|(_, pos)| pos)
}

/// `parent.key`, or `key` at the top level.
fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Whether `prefix` is `path` or a whole-segment prefix of it.
fn is_prefix_path(prefix: &str, path: &str) -> bool {
    if prefix.is_empty() {
        return false;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('.') || rest.starts_with('['),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn finds_nested_paths() {
        let text = "global:\n  scrape_interval: 1m\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    relabel_configs:\n      - {target_label: x}\n      - regex: y\n";
        assert_eq!(locate(text, "global.scrape_interval"), Some((2, 3)));
        assert_eq!(locate(text, "scrape_configs[1].job_name"), Some((5, 5)));
        assert_eq!(locate(text, "scrape_configs[1]"), Some((5, 5)));
        assert_eq!(
            locate(text, "scrape_configs[1].relabel_configs[1].regex"),
            Some((8, 9))
        );
        // Missing leaf: the closest located ancestor.
        assert_eq!(
            locate(text, "scrape_configs[0].scrape_timeout"),
            Some((4, 5))
        );
        assert_eq!(locate(text, "nothing"), None);
    }
}
