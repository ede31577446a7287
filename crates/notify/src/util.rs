//! Small helpers shared by the notifiers: group-key hashing, rune truncation,
//! and the group status.

use watchfire_template::NotificationData;

/// Alertmanager's `Key.Hash`: the SHA-256 of the group key in lower-case hex,
/// used where receivers limit the length of deduplication keys.
pub(crate) fn hash_key(key: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Alertmanager's `TruncateInRunes`: at most `n` characters, the last one
/// replaced by `…` when something was cut.
pub(crate) fn truncate_runes(s: &str, n: usize) -> (String, bool) {
    let count = s.chars().count();
    if count <= n {
        return (s.to_string(), false);
    }
    if n <= 3 {
        return (s.chars().take(n).collect(), true);
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    (out, true)
}

/// Alertmanager's `TruncateInBytes`: at most `n` bytes, cut on a character
/// boundary and ending in `…` when something was cut.
pub(crate) fn truncate_bytes(s: &str, n: usize) -> (String, bool) {
    if s.len() <= n {
        return (s.to_string(), false);
    }
    if n < 3 {
        return (".".repeat(n), true);
    }
    let mut end = n - 3;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (format!("{}…", &s[..end]), true)
}

/// Whether the group is firing: any alert firing (Alertmanager's `Alerts.Status`).
pub(crate) fn is_firing(data: &NotificationData) -> bool {
    if data.alerts.is_empty() {
        return data.status == "firing";
    }
    data.alerts.iter().any(|a| a.status == "firing")
}

/// The group key, which every notifier needs (Alertmanager fails without it).
pub(crate) fn group_key(data: &NotificationData) -> Result<&str, crate::NotifyError> {
    if data.group_key.is_empty() {
        return Err(crate::NotifyError::permanent("group key missing"));
    }
    Ok(&data.group_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_group_key() {
        // sha256("") and sha256("abc") from FIPS 180-2.
        assert_eq!(
            hash_key(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn truncation_in_runes() {
        assert_eq!(truncate_runes("abc", 3), ("abc".into(), false));
        assert_eq!(truncate_runes("abcdef", 4), ("abc…".into(), true));
        assert_eq!(truncate_runes("äöüß", 2), ("äö".into(), true));
        assert_eq!(truncate_bytes("abc", 3), ("abc".into(), false));
        assert_eq!(truncate_bytes("abcdefgh", 6), ("abc…".into(), true));
        // "ä" is two bytes: it fits in the 3 bytes left before the marker, not in 2.
        assert_eq!(truncate_bytes("aääää", 6), ("aä…".into(), true));
        assert_eq!(truncate_bytes("aääää", 5), ("a…".into(), true));
        assert_eq!(truncate_bytes("abcd", 3), ("…".into(), true));
        assert_eq!(truncate_bytes("abcd", 2), ("..".into(), true));
    }
}
