//! Small encoders shared by the clients: base64 for basic auth, Go's
//! `url.QueryEscape`/`url.Values.Encode` for token requests, URL redaction and
//! error-chain formatting for messages.

use std::collections::BTreeMap;

/// Standard base64 with padding (RFC 4648), as basic auth uses.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub use watchfire_model::go_query_escape as query_escape;

/// Go's `url.Values.Encode` for single-valued keys: sorted by key, `k=v` joined
/// with `&`.
pub fn form_encode(values: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in values {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&query_escape(k));
        out.push('=');
        out.push_str(&query_escape(v));
    }
    out
}

/// Decodes an `application/x-www-form-urlencoded` body (`+` is a space);
/// the first value of a repeated key wins, as Go's `Values.Get` does.
pub fn form_decode(body: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.entry(unescape(k)).or_insert_with(|| unescape(v));
    }
    out
}

fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| char::from(c).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        // Both digits are below 16, so this fits a byte.
                        out.push(((h << 4) | l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL with its password replaced by `xxxxx`, like Go's `URL.Redacted`, so
/// messages can name it without leaking credentials.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("xxxxx"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The error and its sources, joined like Go's wrapped errors (a source whose
/// text is already included is skipped).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// The body as trimmed text, cut at `max` bytes on a character boundary.
pub fn truncate_body(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn query_escape_matches_go() {
        assert_eq!(query_escape("a b&c=d/é~"), "a+b%26c%3Dd%2F%C3%A9~");
        let mut m = BTreeMap::new();
        m.insert("scope".to_string(), "read write".to_string());
        m.insert("grant_type".to_string(), "client_credentials".to_string());
        assert_eq!(
            form_encode(&m),
            "grant_type=client_credentials&scope=read+write"
        );
    }

    #[test]
    fn form_decode_roundtrip() {
        let m = form_decode("access_token=a%2Bb+c&token_type=bearer&x=%zz&access_token=no");
        assert_eq!(m["access_token"], "a+b c");
        assert_eq!(m["token_type"], "bearer");
        assert_eq!(m["x"], "%zz");
        assert_eq!(
            form_decode("a=%4"),
            BTreeMap::from([("a".into(), "%4".into())])
        );
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_url("https://u:secret@h/token"),
            "https://u:xxxxx@h/token"
        );
        assert_eq!(redact_url("http://h:1/t?a=b"), "http://h:1/t?a=b");
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate_body(b" short ", 10), "short");
        assert_eq!(truncate_body("ééé".as_bytes(), 3), "é…");
    }
}
