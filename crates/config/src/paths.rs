//! File name handling: joining with the config directory, glob patterns.

use std::path::{Path, PathBuf};

/// Joins a relative `file` with `dir` like Prometheus' `config.JoinDir`: empty and
/// absolute names are kept, and a `.`/empty directory adds nothing.
pub(crate) fn join_dir(dir: &Path, file: &str) -> String {
    if file.is_empty() || Path::new(file).is_absolute() {
        return file.to_owned();
    }
    if dir.as_os_str().is_empty() || dir == Path::new(".") {
        return file.to_owned();
    }
    dir.join(file).to_string_lossy().into_owned()
}

/// Prometheus allows one `*` wildcard, in the last path element only
/// (`^[^*]*(\*[^/]*)?$`), for `rule_files` and `scrape_config_files`.
pub(crate) fn is_valid_file_pattern(p: &str) -> bool {
    match p.find('*') {
        None => true,
        Some(i) => !p[i + 1..].contains(['*', '/']),
    }
}

/// Expands a glob pattern into the existing files it names, sorted. A pattern that
/// matches nothing gives an empty list; a malformed pattern is an error.
pub(crate) fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let paths = glob::glob(pattern).map_err(|e| format!("invalid glob {pattern:?}: {e}"))?;
    let mut out: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(is_valid_file_pattern("my_rule"));
        assert!(is_valid_file_pattern("my/*.rules"));
        assert!(is_valid_file_pattern("/etc/*"));
        assert!(!is_valid_file_pattern("my/*/rule"));
        assert!(!is_valid_file_pattern("a*b*"));
    }

    #[test]
    fn joins() {
        assert_eq!(join_dir(Path::new("."), "x.yml"), "x.yml");
        assert_eq!(join_dir(Path::new(""), "x.yml"), "x.yml");
        assert_eq!(join_dir(Path::new("/etc/p"), "x.yml"), "/etc/p/x.yml");
        assert_eq!(join_dir(Path::new("/etc/p"), "/abs"), "/abs");
        assert_eq!(join_dir(Path::new("/etc/p"), ""), "");
    }
}
