//! The MIME encodings of Alertmanager's e-mails: RFC 2047 "Q" encoded words for
//! header values and quoted-printable bodies, both as Go's `mime` packages
//! produce them.

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Go's `mime.QEncoding.Encode("utf-8", s)`: `s` unchanged when it is plain
/// printable ASCII, else encoded words of at most 75 characters joined by spaces.
pub(crate) fn q_encode(s: &str) -> String {
    if !s.bytes().any(|b| !(b' '..=b'~').contains(&b) && b != b'\t') {
        return s.to_string();
    }
    const PREFIX: &str = "=?utf-8?q?";
    const SUFFIX: &str = "?=";
    let max_content = 75 - PREFIX.len() - SUFFIX.len();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        let mut enc = String::new();
        let mut buf = [0u8; 4];
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            match b {
                b' ' => enc.push('_'),
                b'!'..=b'~' if b != b'=' && b != b'?' && b != b'_' => enc.push(b as char),
                _ => {
                    enc.push('=');
                    enc.push(HEX[usize::from(b >> 4)] as char);
                    enc.push(HEX[usize::from(b & 15)] as char);
                }
            }
        }
        if !cur.is_empty() && cur.len() + enc.len() > max_content {
            words.push(format!("{PREFIX}{cur}{SUFFIX}"));
            cur.clear();
        }
        cur.push_str(&enc);
    }
    words.push(format!("{PREFIX}{cur}{SUFFIX}"));
    words.join(" ")
}

/// Quoted-printable body with CRLF line ends and soft breaks keeping lines at
/// 76 characters; whitespace ending a line is encoded (Go's
/// `quotedprintable.Writer` in text mode).
pub(crate) fn quoted_printable(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + body.len() / 8);
    let lines: Vec<&str> = body.split('\n').collect();
    for (n, line) in lines.iter().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let bytes = line.as_bytes();
        let mut len = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal = match b {
                b'!'..=b'~' => b != b'=',
                b' ' | b'\t' => !last,
                _ => false,
            };
            let token_len = if literal { 1 } else { 3 };
            if len + token_len > 75 {
                out.push_str("=\r\n");
                len = 0;
            }
            if literal {
                out.push(b as char);
            } else {
                out.push('=');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
            len += token_len;
        }
        if n + 1 < lines.len() {
            out.push_str("\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_headers_stay_plain() {
        assert_eq!(q_encode("[FIRING:1] Disk full"), "[FIRING:1] Disk full");
    }

    #[test]
    fn non_ascii_headers_are_q_encoded() {
        assert_eq!(q_encode("Größe ok"), "=?utf-8?q?Gr=C3=B6=C3=9Fe_ok?=");
        let long = "é".repeat(40);
        let enc = q_encode(&long);
        assert!(enc.split(' ').all(|w| w.len() <= 75), "{enc}");
        assert!(enc.split(' ').count() > 1);
    }

    #[test]
    fn quoted_printable_like_go() {
        assert_eq!(quoted_printable("a=b\nc \n"), "a=3Db\r\nc=20\r\n");
        assert_eq!(quoted_printable("ü"), "=C3=BC");
        let long = "x".repeat(100);
        let enc = quoted_printable(&long);
        assert!(enc.split("\r\n").all(|l| l.len() <= 76), "{enc}");
        assert_eq!(enc.replace("=\r\n", ""), long);
    }
}
