//! Relative file paths in a loaded `alertmanager.yml`, joined with the file's directory.
//!
//! Alertmanager (`LoadFile` → `resolveFilepaths`) rewrites exactly these after decoding
//! and after global defaults have been copied into receivers: the `templates` globs, the
//! global `http_config`, and every integration's `http_config` (Prometheus common's
//! `SetDirectory`: TLS `ca_file`/`cert_file`/`key_file`, `basic_auth` `username_file` and
//! `password_file`, `authorization.credentials_file`, `bearer_token_file`, `oauth2`
//! `client_secret_file` and its `tls_config`, `http_headers` `files`). Other `*_file`
//! settings (`url_file`, `api_url_file`, `smtp_auth_password_file`, e-mail `tls_config`…)
//! are read as written, relative to the working directory, so they are left alone here
//! too: resolving them would make a drop-in configuration read different files.
//!
//! Unlike Alertmanager, which shares one global `http_config` between receivers and can
//! join it twice when the config path is relative, every copy is joined exactly once.

use crate::config::Config;
use crate::values::HttpClientConfig;
use std::path::{Component, Path, PathBuf};

/// `dir` joined with `path` and cleaned lexically (`.` dropped, `..` folded), like Go's
/// `filepath.Join`; empty and absolute paths are returned unchanged.
pub(crate) fn join_dir(dir: &Path, path: &str) -> String {
    if path.is_empty() || Path::new(path).is_absolute() {
        return path.to_string();
    }
    let mut out: Vec<Component<'_>> = Vec::new();
    let joined = dir.join(path);
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        return ".".to_string();
    }
    out.iter().collect::<PathBuf>().display().to_string()
}

/// Prometheus common's `HTTPClientConfig.SetDirectory`, with Go's `filepath.Join`.
fn resolve_http(dir: &Path, h: &mut HttpClientConfig) {
    h.resolve_paths(|p| join_dir(dir, p));
}

fn resolve_http_opt(dir: &Path, h: &mut Option<HttpClientConfig>) {
    if let Some(h) = h {
        resolve_http(dir, h);
    }
}

impl Config {
    /// Joins the relative paths Alertmanager resolves (see the module docs) with `dir`.
    /// [`Config::load_file`] calls it with the config file's directory; call it yourself
    /// only for text that [`Config::load_str`] read from a file by other means. Run it once:
    /// with a relative `dir`, a second call would join again.
    pub fn resolve_paths(&mut self, dir: &Path) {
        for t in &mut self.templates {
            *t = join_dir(dir, t);
        }
        resolve_http(dir, &mut self.global.http_config);
        for r in &mut self.receivers {
            for c in &mut r.webhook_configs {
                resolve_http_opt(dir, &mut c.http_config);
            }
            for c in &mut r.slack_configs {
                resolve_http_opt(dir, &mut c.http_config);
            }
            for c in &mut r.pagerduty_configs {
                resolve_http_opt(dir, &mut c.http_config);
            }
            for c in &mut r.msteams_configs {
                resolve_http_opt(dir, &mut c.http_config);
            }
            for c in &mut r.discord_configs {
                resolve_http_opt(dir, &mut c.http_config);
            }
            for c in &mut r.telegram_configs {
                resolve_http_opt(dir, &mut c.http_config);
            }
            for c in &mut r.opsgenie_configs {
                resolve_http_opt(dir, &mut c.http_config);
            }
            crate::receivers_chat_paging::resolve_http_paths(r, &|p| join_dir(dir, p));
            crate::receivers_wechat_sns::resolve_http_paths(r, &|p| join_dir(dir, p));
            crate::receivers_jira::resolve_http_paths(r, &|p| join_dir(dir, p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::join_dir;
    use std::path::Path;

    #[test]
    fn join_dir_cleans_like_go() {
        let d = Path::new("/etc/am");
        assert_eq!(join_dir(d, "x/y"), "/etc/am/x/y");
        assert_eq!(join_dir(d, "./x"), "/etc/am/x");
        assert_eq!(join_dir(d, "../x"), "/etc/x");
        assert_eq!(join_dir(d, "../../../x"), "/x");
        assert_eq!(join_dir(d, "/abs/x"), "/abs/x");
        assert_eq!(join_dir(d, ""), "");
        assert_eq!(join_dir(Path::new(""), "x"), "x");
        assert_eq!(join_dir(Path::new("."), "x"), "x");
        assert_eq!(join_dir(Path::new("conf"), "../x"), "x");
        assert_eq!(join_dir(Path::new("conf"), "../../x"), "../x");
        assert_eq!(join_dir(Path::new("conf"), ".."), ".");
        assert_eq!(join_dir(d, "tmpl/*.tmpl"), "/etc/am/tmpl/*.tmpl");
    }
}
