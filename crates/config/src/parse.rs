//! YAML deserialisation with file:line:column and field path in errors.

use crate::error::ConfigError;
use serde::de::DeserializeOwned;

/// Deserialises `text`, reporting failures as `name:line:col: path: message`.
pub(crate) fn from_yaml<T: DeserializeOwned>(text: &str, name: &str) -> Result<T, ConfigError> {
    let mut path = String::new();
    let result = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let loc = e.location();
        let plain = e.render_with_options(serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        });
        let mut message = match plain.rfind(" at line ") {
            Some(i) => plain[..i].to_owned(),
            None => plain,
        };
        // serde lists every known field; the field path already says where we are.
        if let Some(i) = message.find(", expected one of ") {
            message.truncate(i);
        }
        if path == "." {
            path.clear();
        }
        if message.contains("!!binary scalar is not valid UTF-8") {
            // Prometheus reports the offending label; say the same thing.
            let what = if path.ends_with(".?") {
                "label name"
            } else {
                "label value"
            };
            message = format!("!!binary data is not a valid UTF-8 {what}");
        }
        ConfigError::invalid(
            name,
            loc.map(|l| l.line()).filter(|l| *l > 0),
            loc.map(|l| l.column()).filter(|c| *c > 0),
            path,
            message,
        )
    })
}
