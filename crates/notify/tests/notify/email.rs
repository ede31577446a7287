//! E-mail through a tiny fake SMTP server on loopback (no TLS).

use crate::common::*;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Default, Debug, Clone)]
struct Session {
    commands: Vec<String>,
    data: String,
}

/// Serves one SMTP session advertising `ehlo_extensions`, recording commands
/// and the DATA payload.
async fn smtp_server(ehlo_extensions: &'static [&'static str]) -> (String, Arc<Mutex<Session>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let session: Arc<Mutex<Session>> = Arc::default();
    let s = session.clone();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            let cmd = line.trim_end().to_string();
            s.lock().unwrap().commands.push(cmd.clone());
            let upper = cmd.to_ascii_uppercase();
            let reply: String = if upper.starts_with("EHLO") {
                let mut out = String::from("250-fake\r\n");
                for e in ehlo_extensions {
                    out.push_str(&format!("250-{e}\r\n"));
                }
                out.push_str("250 SMTPUTF8\r\n");
                out
            } else if upper.starts_with("AUTH") {
                "235 2.7.0 ok\r\n".into()
            } else if upper.starts_with("DATA") {
                w.write_all(b"354 go ahead\r\n").await.unwrap();
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).await.unwrap() == 0 || l == ".\r\n" {
                        break;
                    }
                    data.push_str(&l);
                }
                s.lock().unwrap().data = data;
                "250 2.0.0 queued\r\n".into()
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                "250 ok\r\n".into()
            };
            w.write_all(reply.as_bytes()).await.unwrap();
        }
    });
    (addr, session)
}

fn qp_decode(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap().replace("\r\n", "\n")
}

fn header<'a>(data: &'a str, name: &str) -> &'a str {
    let head = data.split("\r\n\r\n").next().unwrap();
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} header in {head}"))
}

#[tokio::test]
async fn email_multipart_without_tls() {
    let (addr, session) = smtp_server(&["8BITMIME"]).await;
    let r = receiver(
        &format!(
            "  smtp_smarthost: '{addr}'\n  smtp_from: 'Watchfire <am@example.org>'\n  smtp_require_tls: false\n  smtp_hello: wf.example"
        ),
        "- name: r\n  email_configs:\n  - to: 'ops@example.org, Dev Team <dev@example.org>'\n    text: 'Text {{ .Status }} für {{ .CommonLabels.severity }}'\n    headers:\n      x-team: '{{ .GroupLabels.alertname }}'\n",
    );
    let ints = build(&r);
    assert_eq!(ints[0].name(), "email");
    assert!(!ints[0].send_resolved());
    ints[0].notify(&firing_data()).await.unwrap();
    let s = session.lock().unwrap().clone();
    assert_eq!(s.commands[0], "EHLO wf.example");
    assert!(s.commands.iter().all(|c| !c.starts_with("AUTH")));
    assert!(
        s.commands
            .contains(&"MAIL FROM:<am@example.org>".to_string()),
        "{:?}",
        s.commands
    );
    assert!(
        s.commands
            .contains(&"RCPT TO:<ops@example.org>".to_string())
    );
    assert!(
        s.commands
            .contains(&"RCPT TO:<dev@example.org>".to_string())
    );
    assert_eq!(s.commands.last().unwrap(), "QUIT");

    let d = &s.data;
    assert_eq!(header(d, "Subject"), "[FIRING:2] InstanceDown (page)");
    assert_eq!(
        header(d, "To"),
        "ops@example.org, Dev Team <dev@example.org>"
    );
    assert_eq!(header(d, "From"), "Watchfire <am@example.org>");
    assert_eq!(header(d, "X-Team"), "InstanceDown");
    assert_eq!(header(d, "MIME-Version"), "1.0");
    assert!(header(d, "Message-Id").starts_with('<'));
    let ct = header(d, "Content-Type");
    let boundary = ct
        .strip_prefix("multipart/alternative;  boundary=")
        .unwrap_or_else(|| panic!("{ct}"));
    let body = d.split_once("\r\n\r\n").unwrap().1;
    let parts: Vec<&str> = body.split(&format!("--{boundary}")).collect();
    // preamble, text, html, closing "--"
    assert_eq!(parts.len(), 4, "{body}");
    assert!(parts[3].starts_with("--"));
    let (text_head, text_body) = parts[1].split_once("\r\n\r\n").unwrap();
    assert!(text_head.contains("Content-Type: text/plain; charset=UTF-8"));
    assert!(text_head.contains("Content-Transfer-Encoding: quoted-printable"));
    assert_eq!(
        qp_decode(text_body.trim_end_matches("\r\n")),
        "Text firing für page"
    );
    let (html_head, html_body) = parts[2].split_once("\r\n\r\n").unwrap();
    assert!(html_head.contains("Content-Type: text/html; charset=UTF-8"));
    let html = qp_decode(html_body);
    assert!(
        html.contains("<html") || html.contains("<!DOCTYPE"),
        "{html}"
    );
    assert!(html.contains("InstanceDown"), "{html}");
    // Every line of the message is 7-bit and at most 998 characters.
    assert!(d.is_ascii());
}

#[tokio::test]
async fn email_auth_plain_when_offered() {
    let (addr, session) = smtp_server(&["AUTH LOGIN PLAIN"]).await;
    let r = receiver(
        &format!(
            "  smtp_smarthost: '{addr}'\n  smtp_from: am@example.org\n  smtp_require_tls: false\n  smtp_auth_username: u\n  smtp_auth_password: p"
        ),
        "- name: r\n  email_configs:\n  - to: ops@example.org\n",
    );
    build(&r)[0].notify(&firing_data()).await.unwrap();
    let s = session.lock().unwrap().clone();
    // base64("\0u\0p")
    assert!(
        s.commands.contains(&"AUTH PLAIN AHUAcA==".to_string()),
        "{:?}",
        s.commands
    );
}

#[tokio::test]
async fn email_require_tls_without_starttls_fails_retryably() {
    let (addr, _session) = smtp_server(&[]).await;
    let r = receiver(
        &format!("  smtp_smarthost: '{addr}'\n  smtp_from: am@example.org"),
        "- name: r\n  email_configs:\n  - to: ops@example.org\n",
    );
    let e = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(e.retry);
    assert!(e.message.contains("STARTTLS"), "{}", e.message);
}

#[tokio::test]
async fn email_cram_md5_only_is_a_clear_error() {
    let (addr, _session) = smtp_server(&["AUTH CRAM-MD5"]).await;
    let r = receiver(
        &format!(
            "  smtp_smarthost: '{addr}'\n  smtp_from: am@example.org\n  smtp_require_tls: false\n  smtp_auth_username: u\n  smtp_auth_secret: s"
        ),
        "- name: r\n  email_configs:\n  - to: ops@example.org\n",
    );
    let e = build(&r)[0].notify(&firing_data()).await.unwrap_err();
    assert!(!e.retry);
    assert!(e.message.contains("CRAM-MD5"), "{}", e.message);
}
