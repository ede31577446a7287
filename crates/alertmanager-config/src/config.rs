//! The `alertmanager.yml` document: decoding with positions, Alertmanager's semantic
//! checks, and filling global defaults into receivers.

use crate::error::ConfigError;
use crate::matchers::{Matcher, Matchers, parse_matchers};
use crate::receivers::{Pos, Receiver};
use crate::timeinterval::NamedTimeInterval;
use crate::values::{Duration, HostPort, HttpClientConfig, Secret, SecretUrl, TlsConfig, Url};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// The `global` section, with Alertmanager's defaults.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlobalConfig {
    /// Time after which an alert without updates is resolved (5m).
    pub resolve_timeout: Duration,
    /// Default HTTP client for notifiers.
    pub http_config: HttpClientConfig,
    /// SMTP sender.
    pub smtp_from: String,
    /// SMTP HELO name (`localhost`).
    pub smtp_hello: String,
    /// SMTP relay.
    pub smtp_smarthost: HostPort,
    /// SMTP user.
    pub smtp_auth_username: String,
    /// SMTP password.
    pub smtp_auth_password: Secret,
    /// File with the SMTP password.
    pub smtp_auth_password_file: String,
    /// CRAM-MD5 secret.
    pub smtp_auth_secret: Secret,
    /// File with the CRAM-MD5 secret.
    pub smtp_auth_secret_file: String,
    /// PLAIN identity.
    pub smtp_auth_identity: String,
    /// Require STARTTLS (true).
    pub smtp_require_tls: bool,
    /// SMTP TLS settings.
    pub smtp_tls_config: Option<TlsConfig>,
    /// Implicit TLS.
    pub smtp_force_implicit_tls: Option<bool>,
    /// Slack webhook URL.
    pub slack_api_url: Option<SecretUrl>,
    /// File with the Slack webhook URL.
    pub slack_api_url_file: String,
    /// Slack bot token.
    pub slack_app_token: Secret,
    /// File with the Slack bot token.
    pub slack_app_token_file: String,
    /// Slack `chat.postMessage` URL.
    pub slack_app_url: Option<Url>,
    /// PagerDuty events URL.
    pub pagerduty_url: Option<Url>,
    /// Opsgenie API URL.
    pub opsgenie_api_url: Option<Url>,
    /// Opsgenie API key.
    pub opsgenie_api_key: Secret,
    /// File with the Opsgenie API key.
    pub opsgenie_api_key_file: String,
    /// Telegram bot API URL.
    pub telegram_api_url: Option<Url>,
    /// Telegram bot token.
    pub telegram_bot_token: Secret,
    /// File with the Telegram bot token.
    pub telegram_bot_token_file: String,
    /// Webex API URL.
    pub webex_api_url: Option<Url>,
    /// WeChat API URL.
    pub wechat_api_url: Option<Url>,
    /// WeChat API secret.
    pub wechat_api_secret: Secret,
    /// File with the WeChat API secret.
    pub wechat_api_secret_file: String,
    /// WeChat corp id.
    pub wechat_api_corp_id: String,
    /// VictorOps API URL.
    pub victorops_api_url: Option<Url>,
    /// VictorOps API key.
    pub victorops_api_key: Secret,
    /// File with the VictorOps API key.
    pub victorops_api_key_file: String,
    /// Jira API URL.
    pub jira_api_url: Option<Url>,
    /// Rocket.Chat API URL.
    pub rocketchat_api_url: Option<Url>,
    /// Rocket.Chat token.
    pub rocketchat_token: Option<Secret>,
    /// File with the Rocket.Chat token.
    pub rocketchat_token_file: String,
    /// Rocket.Chat token id.
    pub rocketchat_token_id: Option<Secret>,
    /// File with the Rocket.Chat token id.
    pub rocketchat_token_id_file: String,
    /// Mattermost webhook URL.
    pub mattermost_webhook_url: Option<SecretUrl>,
    /// File with the Mattermost webhook URL.
    pub mattermost_webhook_url_file: String,
}

fn url(s: &str) -> Option<Url> {
    Some(Url(s.to_string()))
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            resolve_timeout: Duration(5 * 60_000),
            http_config: HttpClientConfig::default(),
            smtp_from: String::new(),
            smtp_hello: "localhost".into(),
            smtp_smarthost: HostPort::default(),
            smtp_auth_username: String::new(),
            smtp_auth_password: Secret::default(),
            smtp_auth_password_file: String::new(),
            smtp_auth_secret: Secret::default(),
            smtp_auth_secret_file: String::new(),
            smtp_auth_identity: String::new(),
            smtp_require_tls: true,
            smtp_tls_config: None,
            smtp_force_implicit_tls: None,
            slack_api_url: None,
            slack_api_url_file: String::new(),
            slack_app_token: Secret::default(),
            slack_app_token_file: String::new(),
            slack_app_url: url("https://slack.com/api/chat.postMessage"),
            pagerduty_url: url("https://events.pagerduty.com/v2/enqueue"),
            opsgenie_api_url: url("https://api.opsgenie.com/"),
            opsgenie_api_key: Secret::default(),
            opsgenie_api_key_file: String::new(),
            telegram_api_url: url("https://api.telegram.org"),
            telegram_bot_token: Secret::default(),
            telegram_bot_token_file: String::new(),
            webex_api_url: url("https://webexapis.com/v1/messages"),
            wechat_api_url: url("https://qyapi.weixin.qq.com/cgi-bin/"),
            wechat_api_secret: Secret::default(),
            wechat_api_secret_file: String::new(),
            wechat_api_corp_id: String::new(),
            victorops_api_url: url(
                "https://alert.victorops.com/integrations/generic/20131114/alert/",
            ),
            victorops_api_key: Secret::default(),
            victorops_api_key_file: String::new(),
            jira_api_url: None,
            rocketchat_api_url: url("https://open.rocket.chat/"),
            rocketchat_token: None,
            rocketchat_token_file: String::new(),
            rocketchat_token_id: None,
            rocketchat_token_id_file: String::new(),
            mattermost_webhook_url: None,
            mattermost_webhook_url_file: String::new(),
        }
    }
}

/// `group_by` as written: label names, or `['...']` for "all labels".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupBy {
    /// Label names (empty when `all`).
    pub labels: Vec<String>,
    /// `...` was given.
    pub all: bool,
}

impl<'de> Deserialize<'de> for GroupBy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        let mut g = GroupBy::default();
        let mut seen = HashSet::new();
        for l in v {
            if l == "..." {
                g.all = true;
                continue;
            }
            if l.is_empty() {
                return Err(D::Error::custom(format!(
                    "invalid label name {l:?} in group_by list"
                )));
            }
            if !seen.insert(l.clone()) {
                return Err(D::Error::custom(format!(
                    "duplicated label {l:?} in group_by"
                )));
            }
            g.labels.push(l);
        }
        if g.all && !g.labels.is_empty() {
            return Err(D::Error::custom(
                "cannot have wildcard group_by (`...`) and other labels at the same time",
            ));
        }
        Ok(g)
    }
}

impl Serialize for GroupBy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.all {
            vec!["..."].serialize(s)
        } else {
            self.labels.serialize(s)
        }
    }
}

fn valid_classic_name(n: &str) -> bool {
    let mut cs = n.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A `matchers:` list (each entry may hold several comma-separated matchers).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatcherList(pub Matchers);

impl<'de> Deserialize<'de> for MatcherList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let lines = Vec::<String>::deserialize(d)?;
        let mut all = Vec::new();
        for l in &lines {
            all.extend(parse_matchers(l).map_err(|e| D::Error::custom(e.message()))?);
        }
        Ok(MatcherList(Matchers::new(all)))
    }
}

impl Serialize for MatcherList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<String> = self
            .0
            .iter()
            .map(crate::matchers::matcher_to_string)
            .collect();
        v.serialize(s)
    }
}

/// Legacy `match:` map with validated label names.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct MatchMap(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for MatchMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, String>::deserialize(d)?;
        if let Some(k) = m.keys().find(|k| !valid_classic_name(k)) {
            return Err(D::Error::custom(format!("invalid label name {k:?}")));
        }
        Ok(MatchMap(m))
    }
}

/// Legacy `match_re:` map; values compile as anchored regexes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct MatchReMap(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for MatchReMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, Option<String>>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for (k, v) in m {
            if !valid_classic_name(&k) {
                return Err(D::Error::custom(format!("invalid label name {k:?}")));
            }
            let v = v.ok_or_else(|| D::Error::custom(format!("invalid regexp value for {k:?}")))?;
            regex::Regex::new(&format!("^(?:{v})$"))
                .map_err(|e| D::Error::custom(format!("error parsing regexp: {e}")))?;
            out.insert(k, v);
        }
        Ok(MatchReMap(out))
    }
}

/// Builds the matcher list of legacy `match`/`match_re` plus `matchers`, sorted.
pub(crate) fn combined_matchers(m: &MatchMap, re: &MatchReMap, ms: &MatcherList) -> Matchers {
    let mut v: Vec<Matcher> = m.0.iter().map(|(k, v)| Matcher::equal(k, v)).collect();
    for (k, val) in &re.0 {
        // As Alertmanager: the legacy regex is wrapped once more, so its text in route keys
        // reads ^(?:...)$. The pattern compiled at decode time, so this cannot fail.
        if let Ok(m) = Matcher::new(
            watchfire_model::MatchOp::RegexMatch,
            k,
            format!("^(?:{val})$"),
        ) {
            v.push(m);
        }
    }
    v.extend(ms.0.0.iter().cloned());
    Matchers::new(v)
}

fn non_zero<'de, D: Deserializer<'de>>(
    d: D,
    what: &'static str,
) -> Result<Option<Duration>, D::Error> {
    let v = Duration::deserialize(d)?;
    if v.0 == 0 {
        return Err(D::Error::custom(format!("{what} cannot be zero")));
    }
    Ok(Some(v))
}
fn de_group_interval<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    non_zero(d, "group_interval")
}
fn de_repeat_interval<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    non_zero(d, "repeat_interval")
}

/// A `route` node as written (options not yet inherited; see [`crate::RouteTree`]).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Receiver name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// Grouping labels; `None` inherits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<GroupBy>,
    /// Legacy equality matchers.
    #[serde(default, rename = "match", skip_serializing_if = "is_empty_map")]
    pub match_: MatchMap,
    /// Legacy regex matchers.
    #[serde(default, skip_serializing_if = "is_empty_re")]
    pub match_re: MatchReMap,
    /// Matchers.
    #[serde(default, skip_serializing_if = "is_empty_list")]
    pub matchers: MatcherList,
    /// Keep matching siblings after this one matched.
    #[serde(default, rename = "continue")]
    pub continue_: bool,
    /// Child routes.
    #[serde(
        default,
        deserialize_with = "spanned_routes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub routes: Vec<RouteConfig>,
    /// Initial wait before the first notification of a group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<Duration>,
    /// Wait between notifications about new alerts in a group.
    #[serde(
        default,
        deserialize_with = "de_group_interval",
        skip_serializing_if = "Option::is_none"
    )]
    pub group_interval: Option<Duration>,
    /// Wait before repeating a notification.
    #[serde(
        default,
        deserialize_with = "de_repeat_interval",
        skip_serializing_if = "Option::is_none"
    )]
    pub repeat_interval: Option<Duration>,
    /// Intervals during which notifications are muted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<String>,
    /// Intervals outside of which notifications are muted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_time_intervals: Vec<String>,
    /// Position in the file.
    #[serde(skip)]
    pub pos: Pos,
}

fn is_empty_map(m: &MatchMap) -> bool {
    m.0.is_empty()
}
fn is_empty_re(m: &MatchReMap) -> bool {
    m.0.is_empty()
}
fn is_empty_list(m: &MatcherList) -> bool {
    m.0.is_empty()
}

fn pos_of<T>(s: &serde_saphyr::Spanned<T>) -> Pos {
    Pos {
        line: s.referenced.line(),
        column: s.referenced.column(),
    }
}

fn spanned_routes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RouteConfig>, D::Error> {
    let v = Vec::<serde_saphyr::Spanned<RouteConfig>>::deserialize(d)?;
    Ok(v.into_iter()
        .map(|s| {
            let p = pos_of(&s);
            let mut r = s.value;
            r.pos = p;
            r
        })
        .collect())
}

fn spanned_route<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RouteConfig>, D::Error> {
    let s = Option::<serde_saphyr::Spanned<RouteConfig>>::deserialize(d)?;
    Ok(s.map(|s| {
        let p = pos_of(&s);
        let mut r = s.value;
        r.pos = p;
        r
    }))
}

fn spanned_receivers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Receiver>, D::Error> {
    let v = Vec::<serde_saphyr::Spanned<Receiver>>::deserialize(d)?;
    Ok(v.into_iter()
        .map(|s| {
            let p = pos_of(&s);
            let mut r = s.value;
            r.pos = p;
            r
        })
        .collect())
}

impl RouteConfig {
    /// All matchers of the node (legacy `match`/`match_re` and `matchers`), sorted.
    pub fn all_matchers(&self) -> Matchers {
        combined_matchers(&self.match_, &self.match_re, &self.matchers)
    }
}

/// An `inhibit_rules` entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitRuleConfig {
    /// Legacy source equality matchers.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub source_match: MatchMap,
    /// Legacy source regex matchers.
    #[serde(default, skip_serializing_if = "is_empty_re")]
    pub source_match_re: MatchReMap,
    /// Source matchers.
    #[serde(default, skip_serializing_if = "is_empty_list")]
    pub source_matchers: MatcherList,
    /// Legacy target equality matchers.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub target_match: MatchMap,
    /// Legacy target regex matchers.
    #[serde(default, skip_serializing_if = "is_empty_re")]
    pub target_match_re: MatchReMap,
    /// Target matchers.
    #[serde(default, skip_serializing_if = "is_empty_list")]
    pub target_matchers: MatcherList,
    /// Labels that must be equal in source and target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equal: Vec<String>,
}

/// The whole `alertmanager.yml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Global settings (defaults when absent).
    #[serde(default)]
    pub global: GlobalConfig,
    /// Root route.
    #[serde(default, deserialize_with = "spanned_route")]
    pub route: Option<RouteConfig>,
    /// Inhibition rules.
    #[serde(default)]
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    /// Receivers.
    #[serde(default, deserialize_with = "spanned_receivers")]
    pub receivers: Vec<Receiver>,
    /// Template globs (joined with the config file's directory by `load_file`).
    #[serde(default)]
    pub templates: Vec<String>,
    /// Deprecated name of `time_intervals`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<NamedTimeInterval>,
    /// Named time intervals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_intervals: Vec<NamedTimeInterval>,
    /// OpenTelemetry tracing (0.28+); accepted, not used.
    #[serde(default, skip_serializing)]
    pub tracing: Option<serde_json::Value>,
    /// The YAML text as read, for the API's `config.original`.
    #[serde(skip)]
    pub original: String,
    /// Things accepted but not acted on (SNS `role_arn`, tracing).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, pos: Pos, field: impl Into<String>, msg: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            field: field.into(),
            message: msg.into(),
        }
    }
}

fn strip_span_segments(path: &str) -> String {
    // serde-saphyr's span wrapper shows up as a `.value` segment after the nodes we record
    // positions for; drop it so paths read like the YAML.
    let re = regex::Regex::new(r"(route|routes\[\d+\]|receivers\[\d+\])\.value(\.|$)");
    match re {
        Ok(re) => {
            let mut s = path.to_string();
            loop {
                let n = re.replace(&s, "$1$2").into_owned();
                if n == s {
                    break;
                }
                s = n;
            }
            s.trim_end_matches('.').replace(".?", "")
        }
        Err(_) => path.to_string(),
    }
}

impl Config {
    /// Parses YAML text; `file` names the source in errors.
    pub fn load_str(text: &str, file: &str) -> Result<Config, ConfigError> {
        let ctx = Ctx { file };
        let mut path = String::new();
        let decoded = serde_saphyr::with_deserializer_from_str(text, |de| {
            serde_path_to_error::deserialize::<_, Config>(de).map_err(|e| {
                path = e.path().to_string();
                e.into_inner()
            })
        });
        let mut cfg = match decoded {
            Ok(c) => c,
            Err(e) => {
                let (line, column) = e
                    .location()
                    .map(|l| (l.line(), l.column()))
                    .unwrap_or((0, 0));
                let msg = e.render_with_options(serde_saphyr::render_options! {
                    snippets: serde_saphyr::SnippetMode::Off,
                });
                let msg = match msg.rfind(" at line ") {
                    Some(i) => msg[..i].to_string(),
                    None => msg,
                };
                let field = strip_span_segments(&path);
                return Err(ctx.err(Pos { line, column }, field, msg));
            }
        };
        cfg.original = text.to_string();
        cfg.validate(&ctx)?;
        Ok(cfg)
    }

    /// Reads and parses a file, then joins relative paths with its directory the way
    /// Alertmanager does (template globs and every `http_config`; see
    /// [`Config::resolve_paths`]).
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cfg = Config::load_str(&text, &path.display().to_string())?;
        cfg.resolve_paths(path.parent().unwrap_or(Path::new("")));
        Ok(cfg)
    }

    /// Looks up a receiver by name.
    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name == name)
    }

    /// All named time intervals (legacy `mute_time_intervals` first).
    pub fn named_time_intervals(&self) -> impl Iterator<Item = &NamedTimeInterval> {
        self.mute_time_intervals.iter().chain(&self.time_intervals)
    }

    fn validate(&mut self, ctx: &Ctx<'_>) -> Result<(), ConfigError> {
        let g = &self.global;
        let top = Pos { line: 1, column: 1 };
        let both = |a: bool, b: bool, what: &str| -> Result<(), ConfigError> {
            if a && b {
                Err(ctx.err(
                    top,
                    "global",
                    format!("at most one of {what} must be configured"),
                ))
            } else {
                Ok(())
            }
        };
        both(
            !g.slack_app_token.is_empty(),
            !g.slack_app_token_file.is_empty(),
            "slack_app_token & slack_app_token_file",
        )?;
        both(
            g.slack_api_url.is_some(),
            !g.slack_api_url_file.is_empty(),
            "slack_api_url & slack_api_url_file",
        )?;
        both(
            !g.opsgenie_api_key.is_empty(),
            !g.opsgenie_api_key_file.is_empty(),
            "opsgenie_api_key & opsgenie_api_key_file",
        )?;
        both(
            !g.victorops_api_key.is_empty(),
            !g.victorops_api_key_file.is_empty(),
            "victorops_api_key & victorops_api_key_file",
        )?;
        both(
            !g.telegram_bot_token.is_empty(),
            !g.telegram_bot_token_file.is_empty(),
            "telegram_bot_token & telegram_bot_token_file",
        )?;
        both(
            !g.smtp_auth_password.is_empty(),
            !g.smtp_auth_password_file.is_empty(),
            "smtp_auth_password & smtp_auth_password_file",
        )?;
        both(
            !g.smtp_auth_secret.is_empty(),
            !g.smtp_auth_secret_file.is_empty(),
            "smtp_auth_secret & smtp_auth_secret_file",
        )?;
        both(
            !g.wechat_api_secret.is_empty(),
            !g.wechat_api_secret_file.is_empty(),
            "wechat_api_secret & wechat_api_secret_file",
        )?;
        both(
            g.rocketchat_token.is_some(),
            !g.rocketchat_token_file.is_empty(),
            "rocketchat_token & rocketchat_token_file",
        )?;
        both(
            g.rocketchat_token_id.is_some(),
            !g.rocketchat_token_id_file.is_empty(),
            "rocketchat_token_id & rocketchat_token_id_file",
        )?;
        both(
            g.mattermost_webhook_url.is_some(),
            !g.mattermost_webhook_url_file.is_empty(),
            "mattermost_webhook_url & mattermost_webhook_url_file",
        )?;
        self.global
            .http_config
            .validate()
            .map_err(|m| ctx.err(top, "global.http_config", m))?;

        let mut names = HashSet::new();
        let global = self.global.clone();
        for (i, rcv) in self.receivers.iter_mut().enumerate() {
            let field = format!("receivers[{i}]");
            if rcv.name.is_empty() {
                return Err(ctx.err(rcv.pos, field, "missing name in receiver"));
            }
            if !names.insert(rcv.name.clone()) {
                return Err(ctx.err(
                    rcv.pos,
                    field,
                    format!("notification config name {:?} is not unique", rcv.name),
                ));
            }
            if let Some(v) = rcv.labels.get("name")
                && *v != rcv.name
            {
                return Err(ctx.err(
                    rcv.pos,
                    format!("{field}.labels"),
                    format!(
                        "receiver label \"name\" must match receiver name {:?}, got {v:?}",
                        rcv.name
                    ),
                ));
            }
            rcv.labels.insert("name".into(), rcv.name.clone());
            fill_receiver(rcv, &global)
                .map_err(|(f, m)| ctx.err(rcv.pos, format!("{field}.{f}"), m))?;
            self.warnings
                .extend(crate::receivers_wechat_sns::warnings(rcv));
        }
        if self.tracing.is_some() {
            self.warnings
                .push("tracing: the section is accepted but ignored".into());
        }

        let Some(root) = &self.route else {
            return Err(ctx.err(top, "route", "no route provided in config"));
        };
        if root.receiver.as_deref().unwrap_or("").is_empty() {
            return Err(ctx.err(
                root.pos,
                "route",
                "root route must specify a default receiver",
            ));
        }
        if !root.all_matchers().is_empty() {
            return Err(ctx.err(root.pos, "route", "root route must not have any matchers"));
        }
        if !root.mute_time_intervals.is_empty() {
            return Err(ctx.err(
                root.pos,
                "route",
                "root route must not have any mute time intervals",
            ));
        }
        if !root.active_time_intervals.is_empty() {
            return Err(ctx.err(
                root.pos,
                "route",
                "root route must not have any active time intervals",
            ));
        }
        check_receivers(root, "route", &names, ctx)?;

        let mut ti = HashSet::new();
        for (i, m) in self.mute_time_intervals.iter().enumerate() {
            if m.name.is_empty() {
                return Err(ctx.err(
                    top,
                    format!("mute_time_intervals[{i}]"),
                    "missing name in mute time interval",
                ));
            }
            if !ti.insert(m.name.clone()) {
                return Err(ctx.err(
                    top,
                    format!("mute_time_intervals[{i}]"),
                    format!("mute time interval {:?} is not unique", m.name),
                ));
            }
        }
        for (i, m) in self.time_intervals.iter().enumerate() {
            if m.name.is_empty() {
                return Err(ctx.err(
                    top,
                    format!("time_intervals[{i}]"),
                    "missing name in time interval",
                ));
            }
            if !ti.insert(m.name.clone()) {
                return Err(ctx.err(
                    top,
                    format!("time_intervals[{i}]"),
                    format!("time interval {:?} is not unique", m.name),
                ));
            }
        }
        check_intervals(root, "route", &ti, ctx)?;
        if root.continue_ {
            return Err(ctx.err(root.pos, "route", "cannot have continue in root route"));
        }
        Ok(())
    }
}

fn check_receivers(
    r: &RouteConfig,
    path: &str,
    names: &HashSet<String>,
    ctx: &Ctx<'_>,
) -> Result<(), ConfigError> {
    for (i, c) in r.routes.iter().enumerate() {
        check_receivers(c, &format!("{path}.routes[{i}]"), names, ctx)?;
    }
    match r.receiver.as_deref() {
        Some(n) if !n.is_empty() && !names.contains(n) => Err(ctx.err(
            r.pos,
            format!("{path}.receiver"),
            format!("undefined receiver {n:?} used in route"),
        )),
        _ => Ok(()),
    }
}

fn check_intervals(
    r: &RouteConfig,
    path: &str,
    names: &HashSet<String>,
    ctx: &Ctx<'_>,
) -> Result<(), ConfigError> {
    for (i, c) in r.routes.iter().enumerate() {
        check_intervals(c, &format!("{path}.routes[{i}]"), names, ctx)?;
    }
    for (field, list) in [
        ("active_time_intervals", &r.active_time_intervals),
        ("mute_time_intervals", &r.mute_time_intervals),
    ] {
        if let Some(n) = list.iter().find(|n| !names.contains(*n)) {
            return Err(ctx.err(
                r.pos,
                format!("{path}.{field}"),
                format!("undefined time interval {n:?} used in route"),
            ));
        }
    }
    Ok(())
}

type FillErr = (String, String);

fn fill_http(
    h: &mut Option<HttpClientConfig>,
    g: &GlobalConfig,
    field: &str,
) -> Result<(), FillErr> {
    if let Some(h) = h.as_mut() {
        h.validate()
            .map_err(|m| (format!("{field}.http_config"), m))?;
    }
    if h.is_none() {
        *h = Some(g.http_config.clone());
    }
    Ok(())
}

/// Fills unset notifier fields from `global` and applies Alertmanager's per-notifier checks.
fn fill_receiver(rcv: &mut Receiver, g: &GlobalConfig) -> Result<(), FillErr> {
    let e = |f: String, m: &str| -> FillErr { (f, m.to_string()) };
    for (i, c) in rcv.webhook_configs.iter_mut().enumerate() {
        let f = format!("webhook_configs[{i}]");
        fill_http(&mut c.http_config, g, &f)?;
        match (&c.url, &c.url_file) {
            (None, None) => return Err(e(f, "one of url or url_file must be configured")),
            (Some(_), Some(_)) => {
                return Err(e(f, "at most one of url & url_file must be configured"));
            }
            _ => {}
        }
    }
    for (i, c) in rcv.email_configs.iter_mut().enumerate() {
        let f = format!("email_configs[{i}]");
        if c.to.is_empty() {
            return Err(e(f, "missing to address in email config"));
        }
        if c.tls_config.is_none() {
            c.tls_config = g.smtp_tls_config.clone();
        }
        if c.smarthost.is_empty() {
            c.smarthost = g.smtp_smarthost.clone();
        }
        if c.smarthost.is_empty() {
            return Err(e(f, "no global SMTP smarthost set"));
        }
        if c.from.is_empty() {
            c.from = g.smtp_from.clone();
        }
        if c.from.is_empty() {
            return Err(e(f, "no global SMTP from set"));
        }
        if c.hello.is_empty() {
            c.hello = g.smtp_hello.clone();
        }
        if c.auth_username.is_empty() {
            c.auth_username = g.smtp_auth_username.clone();
        }
        if !c.auth_password.is_empty() && !c.auth_password_file.is_empty() {
            return Err(e(
                f,
                "at most one of auth_password & auth_password_file must be configured",
            ));
        }
        if c.auth_password.is_empty() && c.auth_password_file.is_empty() {
            c.auth_password = g.smtp_auth_password.clone();
            c.auth_password_file = g.smtp_auth_password_file.clone();
        }
        if c.auth_secret.is_empty() && c.auth_secret_file.is_empty() {
            c.auth_secret = g.smtp_auth_secret.clone();
            c.auth_secret_file = g.smtp_auth_secret_file.clone();
        }
        if c.auth_identity.is_empty() {
            c.auth_identity = g.smtp_auth_identity.clone();
        }
        if c.require_tls.is_none() {
            c.require_tls = Some(g.smtp_require_tls);
        }
        if c.force_implicit_tls.is_none() {
            c.force_implicit_tls = g.smtp_force_implicit_tls;
        }
        let mut seen = HashSet::new();
        for k in c.headers.keys() {
            let n = canonical_header(k);
            if !seen.insert(n.clone()) {
                return Err(e(f, &format!("duplicate header {n:?} in email config")));
            }
        }
    }
    for (i, c) in rcv.slack_configs.iter_mut().enumerate() {
        let f = format!("slack_configs[{i}]");
        if c.api_url.is_some() && c.api_url_file.is_some() {
            return Err(e(
                f,
                "at most one of api_url & api_url_file must be configured",
            ));
        }
        if c.app_token.is_some() && c.app_token_file.is_some() {
            return Err(e(
                f,
                "at most one of app_token & app_token_file must be configured",
            ));
        }
        if (c.api_url.is_some() || c.api_url_file.is_some())
            && (c.app_token.is_some() || c.app_token_file.is_some())
        {
            return Err(e(
                f,
                "at most one of api_url/api_url_file & app_token/app_token_file must be configured",
            ));
        }
        if let Some(h) = &mut c.http_config {
            h.validate().map_err(|m| (format!("{f}.http_config"), m))?;
        }
        if c.app_url.is_none() {
            c.app_url = g.slack_app_url.clone();
        }
        let local_auth = c
            .http_config
            .as_ref()
            .is_some_and(|h| h.authorization.is_some());
        if c.app_token.is_none() && c.app_token_file.is_none() && !local_auth && c.api_url.is_none()
        {
            if !g.slack_app_token.is_empty() {
                c.app_token = Some(g.slack_app_token.clone());
            }
            if !g.slack_app_token_file.is_empty() {
                c.app_token_file = Some(g.slack_app_token_file.clone());
            }
        }
        if c.api_url.is_none() && c.api_url_file.is_none() {
            c.api_url = g.slack_api_url.clone();
            if !g.slack_api_url_file.is_empty() {
                c.api_url_file = Some(g.slack_api_url_file.clone());
            }
        }
        if c.api_url.is_none()
            && c.api_url_file.is_none()
            && c.app_token.is_none()
            && c.app_token_file.is_none()
        {
            return Err(e(
                f,
                "no Slack API URL nor App token set either inline or in a file",
            ));
        }
        if c.http_config.is_none() {
            c.http_config = Some(g.http_config.clone());
        }
        if c.app_token.is_some() || c.app_token_file.is_some() {
            let h = c.http_config.get_or_insert_with(HttpClientConfig::default);
            if h.authorization.is_some() {
                return Err(e(
                    f,
                    "http authorization can't be set when using Slack App tokens",
                ));
            }
            h.authorization = Some(crate::values::Authorization {
                kind: "Bearer".into(),
                credentials: c.app_token.clone().unwrap_or_default(),
                credentials_file: c.app_token_file.clone().unwrap_or_default(),
            });
            c.api_url = c.app_url.as_ref().map(|u| SecretUrl(u.0.clone()));
        }
    }
    for (i, c) in rcv.pagerduty_configs.iter_mut().enumerate() {
        let f = format!("pagerduty_configs[{i}]");
        fill_http(&mut c.http_config, g, &f)?;
        if c.routing_key.is_some() && c.routing_key_file.is_some() {
            return Err(e(
                f,
                "at most one of routing_key & routing_key_file must be configured",
            ));
        }
        if c.service_key.is_some() && c.service_key_file.is_some() {
            return Err(e(
                f,
                "at most one of service_key & service_key_file must be configured",
            ));
        }
        if c.routing_key.is_none()
            && c.service_key.is_none()
            && c.routing_key_file.is_none()
            && c.service_key_file.is_none()
        {
            return Err(e(f, "missing service or routing key in PagerDuty config"));
        }
        if c.url.is_none() {
            c.url = g.pagerduty_url.clone();
        }
        if c.url.is_none() {
            return Err(e(f, "no global PagerDuty URL set"));
        }
    }
    for (i, c) in rcv.opsgenie_configs.iter_mut().enumerate() {
        let f = format!("opsgenie_configs[{i}]");
        fill_http(&mut c.http_config, g, &f)?;
        if c.api_key.is_some() && c.api_key_file.is_some() {
            return Err(e(
                f,
                "at most one of api_key & api_key_file must be configured",
            ));
        }
        if c.api_url.is_none() {
            c.api_url = g.opsgenie_api_url.clone();
        }
        if let Some(u) = &mut c.api_url
            && !u.0.ends_with('/')
        {
            u.0.push('/');
        }
        if c.api_key.is_none() && !g.opsgenie_api_key.is_empty() {
            c.api_key = Some(g.opsgenie_api_key.clone());
        }
        if c.api_key_file.is_none() && !g.opsgenie_api_key_file.is_empty() {
            c.api_key_file = Some(g.opsgenie_api_key_file.clone());
        }
        if c.api_key.is_none() && c.api_key_file.is_none() {
            return Err(e(
                f,
                "no global OpsGenie API Key set either inline or in a file",
            ));
        }
    }
    for (i, c) in rcv.telegram_configs.iter_mut().enumerate() {
        let f = format!("telegram_configs[{i}]");
        fill_http(&mut c.http_config, g, &f)?;
        if c.api_url.is_none() {
            c.api_url = g.telegram_api_url.clone();
        }
        if c.bot_token.is_some() && c.bot_token_file.is_some() {
            return Err(e(
                f,
                "at most one of bot_token & bot_token_file must be configured",
            ));
        }
        if c.bot_token.is_none() && c.bot_token_file.is_none() {
            if g.telegram_bot_token.is_empty() && g.telegram_bot_token_file.is_empty() {
                return Err(e(
                    f,
                    "missing bot_token or bot_token_file on telegram_config",
                ));
            }
            if !g.telegram_bot_token.is_empty() {
                c.bot_token = Some(g.telegram_bot_token.clone());
            }
            if !g.telegram_bot_token_file.is_empty() {
                c.bot_token_file = Some(g.telegram_bot_token_file.clone());
            }
        }
        if c.chat_id == 0 {
            return Err(e(f, "missing chat_id on telegram_config"));
        }
        if !["", "Markdown", "MarkdownV2", "HTML"].contains(&c.parse_mode.as_str()) {
            return Err(e(
                f,
                "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string",
            ));
        }
    }
    for (i, c) in rcv.discord_configs.iter_mut().enumerate() {
        let f = format!("discord_configs[{i}]");
        fill_http(&mut c.http_config, g, &f)?;
        if c.webhook_url.is_some() && c.webhook_url_file.is_some() {
            return Err(e(
                f,
                "at most one of webhook_url & webhook_url_file must be configured",
            ));
        }
        if c.webhook_url.is_none() && c.webhook_url_file.is_none() {
            return Err(e(f, "no discord webhook URL or URLFile provided"));
        }
    }
    for (i, c) in rcv.msteams_configs.iter_mut().enumerate() {
        let f = format!("msteams_configs[{i}]");
        fill_http(&mut c.http_config, g, &f)?;
        if c.webhook_url.is_some() && c.webhook_url_file.is_some() {
            return Err(e(
                f,
                "at most one of webhook_url & webhook_url_file must be configured",
            ));
        }
        if c.webhook_url.is_none() && c.webhook_url_file.is_none() {
            return Err(e(f, "no msteams webhook URL or URLFile provided"));
        }
    }
    crate::receivers_chat_paging::fill(rcv, g)?;
    crate::receivers_wechat_sns::fill(rcv, g)?;
    crate::receivers_jira::fill(rcv, g)
}

/// Go's `textproto.CanonicalMIMEHeaderKey` for ASCII header names.
fn canonical_header(k: &str) -> String {
    let mut up = true;
    k.chars()
        .map(|c| {
            let o = if up {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            up = c == '-';
            o
        })
        .collect()
}
