//! Alertmanager notification templates.

use std::collections::BTreeMap;
use std::path::Path;

use watchfire_template::{AlertData, NotificationData, NotificationTemplates};

fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A realistic two-alert group: one firing, one resolved.
fn data() -> NotificationData {
    NotificationData {
        receiver: "team-x.pager".into(),
        status: "firing".into(),
        alerts: vec![
            AlertData {
                status: "firing".into(),
                labels: m(&[
                    ("alertname", "HighLoad"),
                    ("instance", "node1"),
                    ("severity", "critical"),
                    ("env", "prod"),
                ]),
                annotations: m(&[("summary", "High load"), ("description", "node1 load is 9")]),
                starts_at: "2026-01-02T15:04:05.123Z".into(),
                ends_at: "0001-01-01T00:00:00Z".into(),
                generator_url: "http://prom:9090/graph?g0.expr=load".into(),
                fingerprint: "a1b2c3d4e5f60718".into(),
            },
            AlertData {
                status: "resolved".into(),
                labels: m(&[
                    ("alertname", "HighLoad"),
                    ("instance", "node2"),
                    ("severity", "critical"),
                    ("env", "prod"),
                ]),
                annotations: m(&[("summary", "High load"), ("description", "node2 load is 7")]),
                starts_at: "2026-01-02T14:00:00Z".into(),
                ends_at: "2026-01-02T15:00:00Z".into(),
                generator_url: "http://prom:9090/graph?g0.expr=load".into(),
                fingerprint: "0102030405060708".into(),
            },
        ],
        group_labels: m(&[("alertname", "HighLoad")]),
        common_labels: m(&[
            ("alertname", "HighLoad"),
            ("severity", "critical"),
            ("env", "prod"),
        ]),
        common_annotations: m(&[("summary", "High load")]),
        external_url: "http://am:9093".into(),
        group_key: "{}:{alertname=\"HighLoad\"}".into(),
        truncated_alerts: 0,
    }
}

fn tmpl() -> NotificationTemplates {
    NotificationTemplates::new(&[], Path::new(".")).unwrap()
}

fn run(text: &str) -> String {
    tmpl().execute_text(text, &data()).unwrap()
}

#[test]
fn fields_and_methods() {
    assert_eq!(
        run("[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}"),
        "[FIRING] HighLoad"
    );
    assert_eq!(
        run("{{ .Alerts.Firing | len }}/{{ len .Alerts.Resolved }}/{{ len .Alerts }}"),
        "1/1/2"
    );
    assert_eq!(
        run("{{ range .Alerts.Firing }}{{ .Labels.instance }}{{ end }}"),
        "node1"
    );
    assert_eq!(
        run("{{ range .Alerts.Resolved }}{{ .Labels.instance }}{{ end }}"),
        "node2"
    );
    // KV.SortedPairs puts alertname first (Alertmanager template.go).
    assert_eq!(
        run("{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}"),
        "alertname=HighLoad;env=prod;severity=critical;"
    );
    assert_eq!(
        run(r#"{{ .CommonLabels.Names | join "," }}"#),
        "alertname,env,severity"
    );
    assert_eq!(
        run(r#"{{ join " " .CommonLabels.Values }}"#),
        "HighLoad prod critical"
    );
    assert_eq!(
        run(r#"{{ .CommonLabels.SortedPairs.Values.Join "," }}"#),
        "HighLoad,prod,critical"
    );
    assert_eq!(
        run(
            r#"{{ range $k, $v := .CommonLabels.Remove (stringSlice "env" "severity") }}{{ $k }}={{ $v }}{{ end }}"#
        ),
        "alertname=HighLoad"
    );
    assert_eq!(
        run(
            r#"{{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}"#
        ),
        "prod critical"
    );
    // Printing a KV uses its String() method; ranging a map sorts keys.
    assert_eq!(
        run("{{ .CommonLabels }}"),
        "alertname=HighLoad, env=prod, severity=critical"
    );
    assert_eq!(
        run("{{ .CommonLabels.SortedPairs }}"),
        "alertname=HighLoad, env=prod, severity=critical"
    );
    assert_eq!(
        run("{{ range $k, $v := .CommonLabels }}{{ $k }} {{ end }}"),
        "alertname env severity "
    );
    // missingkey=zero: "" for label maps, <no value> for interface maps.
    assert_eq!(run("[{{ .CommonLabels.nope }}]"), "[]");
    assert_eq!(run(r#"{{ (dict "a" 1).b }}"#), "<no value>");
    assert_eq!(run("{{ .GroupKey }}"), "{}:{alertname=\"HighLoad\"}");
    // Receiver is regexp.QuoteMeta'd like Alertmanager's Data().
    assert_eq!(run("{{ .Receiver }}"), r"team-x\.pager");
    assert_eq!(
        run("{{ range .Alerts }}{{ .Fingerprint }} {{ end }}"),
        "a1b2c3d4e5f60718 0102030405060708 "
    );
}

#[test]
fn times() {
    // Printing a time.Time gives Go's Time.String().
    assert_eq!(
        run("{{ (index .Alerts 0).StartsAt }}"),
        "2026-01-02 15:04:05.123 +0000 UTC"
    );
    assert_eq!(
        run("{{ (index .Alerts 0).EndsAt }}"),
        "0001-01-01 00:00:00 +0000 UTC"
    );
    assert_eq!(
        run(r#"{{ (index .Alerts 0).StartsAt.Format "2006-01-02T15:04:05Z07:00" }}"#),
        "2026-01-02T15:04:05Z"
    );
    assert_eq!(
        run(r#"{{ range .Alerts }}{{ date "Jan _2 15:04:05.000 MST" .StartsAt }}|{{ end }}"#),
        "Jan  2 15:04:05.123 UTC|Jan  2 14:00:00.000 UTC|"
    );
    assert_eq!(
        run(r#"{{ range .Alerts }}{{ .StartsAt | tz "Europe/Paris" }}|{{ end }}"#),
        "2026-01-02 16:04:05.123 +0100 CET|2026-01-02 15:00:00 +0100 CET|"
    );
    assert_eq!(
        run(
            r#"{{ (index .Alerts 0).StartsAt | tz "America/New_York" | date "Monday 3:04PM -07:00" }}"#
        ),
        "Friday 10:04AM -05:00"
    );
    assert_eq!(run("{{ (index .Alerts 1).EndsAt.Unix }}"), "1767366000");
    assert_eq!(run("{{ (index .Alerts 0).EndsAt.IsZero }}"), "true");
    let since = run("{{ since (index .Alerts 1).StartsAt | humanizeDuration }}");
    assert!(since.ends_with('s') && since.contains('d'), "{since}");
    let e = tmpl()
        .execute_text(
            r#"{{ tz "Mars/Base" (index .Alerts 0).StartsAt }}"#,
            &data(),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("error calling tz: unknown time zone Mars/Base"),
        "{e}"
    );
}

#[test]
fn alertmanager_functions() {
    // cases.Title without NoLower lowercases the rest of each word.
    assert_eq!(run(r#"{{ "aa bb CC" | title }}"#), "Aa Bb Cc");
    assert_eq!(
        run(r#"{{ "  x  " | trimSpace }}|{{ urlUnescape "a%20b+c" }}"#),
        "x|a b c"
    );
    assert_eq!(
        run(r#"{{ match "^High" .CommonLabels.alertname }}"#),
        "true"
    );
    assert_eq!(
        run(r#"{{ reReplaceAll "(\\w+)Load" "$1-load" "HighLoad" }}"#),
        "High-load"
    );
    assert_eq!(
        run(r#"{{ toJson .CommonLabels }}"#),
        r#"{"alertname":"HighLoad","env":"prod","severity":"critical"}"#
    );
    assert_eq!(
        run(r#"{{ toJson (index .Alerts 1) }}"#),
        r#"{"status":"resolved","labels":{"alertname":"HighLoad","env":"prod","instance":"node2","severity":"critical"},"annotations":{"description":"node2 load is 7","summary":"High load"},"startsAt":"2026-01-02T14:00:00Z","endsAt":"2026-01-02T15:00:00Z","generatorURL":"http://prom:9090/graph?g0.expr=load","fingerprint":"0102030405060708"}"#
    );
    assert_eq!(
        run(r#"{{ toJson (list 1 1.5 "<a>" true nil) }}"#),
        r#"[1,1.5,"\u003ca\u003e",true,null]"#
    );
    assert_eq!(
        run(r#"{{ base64encode "hello?" }}|{{ base64decode "aGVsbG8_" }}"#),
        "aGVsbG8_|hello?"
    );
    assert_eq!(
        run(r#"{{ range append (list "a") "b" }}{{ . }}{{ end }}"#),
        "ab"
    );
    assert_eq!(
        run(r#"{{ with dict "k" "v" "n" 2 }}{{ .k }}{{ .n }}{{ end }}"#),
        "v2"
    );
    assert_eq!(
        run(r#"{{ printf "%s/%d" .Receiver 3 }}"#),
        r"team-x\.pager/3"
    );
    assert_eq!(run("{{ 1e6 }} {{ 2.5 }}"), "1e+06 2.5");
    assert_eq!(run(r#"{{ humanizeDuration 3661 }}"#), "1h 1m 1s");
}

#[test]
fn html_escaping() {
    let t = tmpl();
    let mut d = data();
    d.common_labels
        .insert("alertname".into(), "<script>x</script>".into());
    let out = t
        .execute_html(r#"<p>{{ .CommonLabels.alertname }}</p>{{ "<b>ok</b>" | safeHtml }}<a href="{{ .ExternalURL }}/x?a=1&b=2">l</a>[{{ .Nope }}]"#, &d)
        .unwrap();
    assert_eq!(
        out,
        r#"<p>&lt;script&gt;x&lt;/script&gt;</p><b>ok</b><a href="http://am:9093/x?a=1&b=2">l</a>[]"#
    );
    // Text mode does not escape.
    assert_eq!(
        t.execute_text("{{ .CommonLabels.alertname }}", &d).unwrap(),
        "<script>x</script>"
    );
    let html = t
        .execute_html(r#"{{ template "email.default.html" . }}"#, &data())
        .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        html.contains("<title>[FIRING:1] HighLoad (prod critical)</title>"),
        "{html}"
    );
    assert!(
        html.contains("[1] Firing") && html.contains("[1] Resolved"),
        "{html}"
    );
    assert!(
        html.contains("instance = node1<br>") && html.contains("instance = node2<br>"),
        "{html}"
    );
    assert!(
        html.contains(r#"href="http://am:9093/#/alerts?receiver=team-x%5C.pager""#),
        "{html}"
    );
}

#[test]
fn default_templates_render_two_alert_group() {
    let t = tmpl();
    let d = data();
    let r = |s: &str| t.execute_text(s, &d).unwrap();
    // __subject as in Alertmanager's default.tmpl: group label values, then
    // the remaining common label values in parentheses.
    assert_eq!(
        r(r#"{{ template "slack.default.title" . }}"#),
        "[FIRING:1] HighLoad (prod critical)"
    );
    assert_eq!(
        r(r#"{{ template "email.default.subject" . }}"#),
        "[FIRING:1] HighLoad (prod critical)"
    );
    assert_eq!(
        r(r#"{{ template "slack.default.username" . }}"#),
        "Alertmanager"
    );
    assert_eq!(
        r(r#"{{ template "slack.default.titlelink" . }}"#),
        r"http://am:9093/#/alerts?receiver=team-x%5C.pager"
    );
    assert_eq!(
        r(r#"{{ template "slack.default.fallback" . }}"#),
        r"[FIRING:1] HighLoad (prod critical) | http://am:9093/#/alerts?receiver=team-x%5C.pager"
    );
    assert_eq!(r(r#"{{ template "slack.default.color" . }}"#), "danger");
    assert_eq!(r(r#"{{ template "jira.default.priority" . }}"#), "High");
    let list1 = "Labels:\n - alertname = HighLoad\n - env = prod\n - instance = node1\n - severity = critical\nAnnotations:\n - description = node1 load is 9\n - summary = High load\nSource: http://prom:9090/graph?g0.expr=load\n";
    let list2 = "Labels:\n - alertname = HighLoad\n - env = prod\n - instance = node2\n - severity = critical\nAnnotations:\n - description = node2 load is 7\n - summary = High load\nSource: http://prom:9090/graph?g0.expr=load\n";
    assert_eq!(
        r(r#"{{ template "__text_alert_list" .Alerts }}"#),
        format!("{list1}{list2}")
    );
    // Derived by reading Alertmanager's default.tmpl opsgenie.default.description.
    assert_eq!(
        r(r#"{{ template "opsgenie.default.description" . }}"#),
        format!("High load\nAlerts Firing:\n{list1}\nAlerts Resolved:\n{list2}")
    );
    let tg = r(r#"{{ template "telegram.default.message" . }}"#);
    assert!(
        tg.contains(&format!("Alerts Firing:\n{list1}"))
            && tg.contains(&format!("Alerts Resolved:\n{list2}")),
        "{tg}"
    );
    let teams = r(r#"{{ template "msteams.default.text" . }}"#);
    assert!(
        teams.contains("# Alerts Firing:") && teams.contains("  - instance = node1"),
        "{teams}"
    );
    // Every integration default named in Alertmanager's default.tmpl exists and renders.
    for name in [
        "__description",
        "slack.default.callbackid",
        "slack.default.pretext",
        "slack.default.iconemoji",
        "slack.default.iconurl",
        "slack.default.text",
        "slack.default.footer",
        "pagerduty.default.description",
        "pagerduty.default.client",
        "pagerduty.default.clientURL",
        "pagerduty.default.instances",
        "opsgenie.default.message",
        "opsgenie.default.source",
        "wechat.default.message",
        "wechat.default.to_user",
        "wechat.default.to_party",
        "wechat.default.to_tag",
        "wechat.default.agent_id",
        "victorops.default.state_message",
        "victorops.default.entity_display_name",
        "victorops.default.monitoring_tool",
        "pushover.default.title",
        "pushover.default.message",
        "pushover.default.url",
        "sns.default.subject",
        "sns.default.message",
        "discord.default.content",
        "discord.default.title",
        "discord.default.message",
        "webex.default.message",
        "msteams.default.summary",
        "msteams.default.title",
        "msteamsv2.default.title",
        "msteamsv2.default.text",
        "jira.default.summary",
        "jira.default.description",
        "rocketchat.default.title",
        "rocketchat.default.alias",
        "rocketchat.default.titlelink",
        "rocketchat.default.emoji",
        "rocketchat.default.iconurl",
        "rocketchat.default.text",
        "mattermost.default.color",
        "mattermost.default.username",
        "mattermost.default.title",
        "mattermost.default.titlelink",
        "mattermost.default.fallback",
        "mattermost.default.text",
        "email.default.html",
    ] {
        assert!(
            t.template_names().iter().any(|n| n == name),
            "missing {name}"
        );
        // pagerduty.default.instances takes a list of alerts, as in Alertmanager's config defaults.
        let arg = if name == "pagerduty.default.instances" {
            ".Alerts.Firing"
        } else {
            "."
        };
        r(&format!("{{{{ template {name:?} {arg} }}}}"));
    }
    // A resolved-only group.
    let mut res = data();
    res.status = "resolved".into();
    res.alerts.remove(0);
    assert_eq!(
        t.execute_text(r#"{{ template "__subject" . }}"#, &res)
            .unwrap(),
        "[RESOLVED] HighLoad (prod critical)"
    );
    assert_eq!(
        t.execute_text(r#"{{ template "slack.default.color" . }}"#, &res)
            .unwrap(),
        "good"
    );
}

#[test]
fn user_templates_override_and_extend() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.tmpl"),
        r#"{{ define "slack.default.title" }}custom {{ .CommonLabels.alertname }}{{ end }}{{ define "my.t" }}{{ len .Alerts }} alerts{{ end }}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("b.txt"), "ignored").unwrap();
    let t = NotificationTemplates::new(
        &["*.tmpl".to_string(), "none/*.tmpl".to_string()],
        dir.path(),
    )
    .unwrap();
    let d = data();
    assert_eq!(
        t.execute_text(r#"{{ template "slack.default.title" . }}"#, &d)
            .unwrap(),
        "custom HighLoad"
    );
    assert_eq!(
        t.execute_text(r#"{{ template "my.t" . }}!"#, &d).unwrap(),
        "2 alerts!"
    );
    assert_eq!(t.execute_text("", &d).unwrap(), "");
    // A broken user file fails with its name and line.
    std::fs::write(
        dir.path().join("c.tmpl"),
        "{{ define \"x\" }}\n{{ nope }}{{ end }}",
    )
    .unwrap();
    let e = NotificationTemplates::new(&["*.tmpl".to_string()], dir.path()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"template: c.tmpl:2: function "nope" not defined"#
    );
    // Errors inside a user define point into that file.
    std::fs::write(
        dir.path().join("c.tmpl"),
        "{{ define \"x\" }}\n  {{ .Status.X }}{{ end }}",
    )
    .unwrap();
    let t = NotificationTemplates::new(&["*.tmpl".to_string()], dir.path()).unwrap();
    let e = t.execute_text(r#"{{ template "x" . }}"#, &d).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"template: c.tmpl:2:5: executing "x" at <.Status.X>: can't evaluate field X in type string"#
    );
}

#[test]
fn list_methods_on_empty_maps_and_lists() {
    let t = tmpl();
    let d = NotificationData {
        receiver: "r".into(),
        ..Default::default()
    };
    let out = t
        .execute_text(
            "[{{ .CommonAnnotations.SortedPairs.Values | join \" \" }}][{{ len .Alerts.Firing }}][{{ .CommonLabels.SortedPairs.Names }}]",
            &d,
        )
        .unwrap();
    assert_eq!(out, "[][0][[]]");
    // The default Opsgenie description uses the pattern above.
    t.execute_text("{{ template \"opsgenie.default.description\" . }}", &d)
        .unwrap();
}
