//! AWS Signature Version 4 for the SNS notifier, and the credentials it signs
//! with.
//!
//! The signature follows AWS's published algorithm: a canonical request
//! (method, URI-encoded path, sorted query, sorted lower-case headers, signed
//! header list, SHA-256 of the payload), a string to sign naming the scope
//! `date/region/service/aws4_request`, and an HMAC-SHA256 chain that derives
//! the signing key from the secret. SHA-256 and HMAC come from `ring`, already
//! used by the crate.
//!
//! Credentials are looked up the way the AWS SDK for Go v2 does for the cases
//! Watchfire supports: keys written in the config win; then a profile named in
//! the config or `AWS_PROFILE` is read from the shared files; else the
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` variables;
//! else the `default` profile. Instance metadata, web identity, SSO,
//! `credential_process` and role chaining are not implemented.

use crate::NotifyError;
use ring::{digest, hmac};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Keys to sign with.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    /// Empty unless the keys are temporary.
    pub session_token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `data` in lower-case hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&k, data).as_ref().to_vec()
}

/// The key of one day, region and service: `HMAC` chained over the scope.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// SigV4's URI encoding: everything but `A-Za-z0-9-_.~` as `%XX` (upper case);
/// `/` too unless `keep_slash`.
pub(crate) fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What is signed about one request.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    /// The path as sent (percent-encoded); services other than S3 encode it again.
    pub path: &'a str,
    /// Decoded query parameters.
    pub query: Vec<(String, String)>,
    /// Headers to sign (any case); `host` and `x-amz-date` must be among them.
    pub headers: Vec<(String, String)>,
    pub payload: &'a [u8],
}

/// The parts of a signature; the intermediate ones are checked by the tests.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Signature {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub signature: String,
    /// The `Authorization` header value.
    pub authorization: String,
}

/// Signs `req` at `amz_date` (`YYYYMMDDTHHMMSSZ`) for `region` and `service`.
pub(crate) fn sign(
    req: &Request<'_>,
    creds: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
) -> Signature {
    let path = if req.path.is_empty() { "/" } else { req.path };
    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    // Values trimmed, inner runs of spaces folded; repeated names joined by `,`.
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in &req.headers {
        let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
        headers.entry(k.to_ascii_lowercase()).or_default().push(v);
    }
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.join(",")))
        .collect();
    let signed_headers = headers.keys().cloned().collect::<Vec<_>>().join(";");
    let canonical_request = format!(
        "{}\n{}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method,
        uri_encode(path, true),
        sha256_hex(req.payload)
    );
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let key = signing_key(&creds.secret_key, date, region, service);
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key
    );
    Signature {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
        authorization,
    }
}

/// The current time as SigV4 writes it.
pub(crate) fn amz_date_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// Where credentials and the region come from besides the config: the
/// environment and the shared files. A trait so tests can supply their own.
pub(crate) trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    fn read(&self, path: &std::path::Path) -> Option<String>;
}

/// The process environment and file system.
pub(crate) struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
    fn read(&self, path: &std::path::Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

/// The settings of one profile of the shared files (`credentials` over `config`).
#[derive(Default)]
struct Profile {
    values: BTreeMap<String, String>,
}

/// The `[section]` of an INI file whose name is `want` after trimming.
fn ini_section(text: &str, want: &str) -> Option<BTreeMap<String, String>> {
    let mut found = None;
    let mut current: Option<BTreeMap<String, String>> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if let Some(done) = current.take() {
                found = Some(done);
            }
            if name.trim() == want {
                current = Some(BTreeMap::new());
            }
            continue;
        }
        if let (Some(map), Some((k, v))) = (current.as_mut(), line.split_once('=')) {
            map.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    current.or(found)
}

fn home(env: &dyn Environment) -> PathBuf {
    PathBuf::from(env.var("HOME").unwrap_or_default())
}

fn load_profile(env: &dyn Environment, name: &str) -> Option<Profile> {
    let config_path = env
        .var("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home(env).join(".aws/config"));
    let creds_path = env
        .var("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home(env).join(".aws/credentials"));
    // The config file names profiles `[profile x]`, except `[default]`.
    let config_section = if name == "default" {
        "default".to_string()
    } else {
        format!("profile {name}")
    };
    let from_config = env
        .read(&config_path)
        .and_then(|t| ini_section(&t, &config_section));
    let from_creds = env.read(&creds_path).and_then(|t| ini_section(&t, name));
    if from_config.is_none() && from_creds.is_none() {
        return None;
    }
    let mut values = from_config.unwrap_or_default();
    values.extend(from_creds.unwrap_or_default());
    Some(Profile { values })
}

impl Profile {
    fn credentials(&self) -> Option<Credentials> {
        let get = |k: &str| self.values.get(k).cloned().unwrap_or_default();
        let (access_key, secret_key) = (get("aws_access_key_id"), get("aws_secret_access_key"));
        if access_key.is_empty() || secret_key.is_empty() {
            return None;
        }
        Some(Credentials {
            access_key,
            secret_key,
            session_token: get("aws_session_token"),
        })
    }
}

/// Resolved signing settings: credentials and region.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub credentials: Credentials,
    pub region: String,
}

/// Finds credentials and the region for a `sigv4` block (see the module docs).
pub(crate) fn resolve(
    cfg: &watchfire_alertmanager_config::SigV4Config,
    env: &dyn Environment,
) -> Result<Resolved, NotifyError> {
    if !cfg.role_arn.is_empty() {
        return Err(NotifyError::permanent(
            "sigv4.role_arn: assuming a role through STS is not supported by Watchfire",
        ));
    }
    let profile_name = if cfg.profile.is_empty() {
        env.var("AWS_PROFILE")
    } else {
        Some(cfg.profile.clone())
    };
    let profile = load_profile(env, profile_name.as_deref().unwrap_or("default"));
    let from_env = || {
        let access_key = env
            .var("AWS_ACCESS_KEY_ID")
            .or_else(|| env.var("AWS_ACCESS_KEY"))?;
        let secret_key = env
            .var("AWS_SECRET_ACCESS_KEY")
            .or_else(|| env.var("AWS_SECRET_KEY"))?;
        Some(Credentials {
            access_key,
            secret_key,
            session_token: env.var("AWS_SESSION_TOKEN").unwrap_or_default(),
        })
    };
    let credentials = if !cfg.access_key.is_empty() {
        Credentials {
            access_key: cfg.access_key.clone(),
            secret_key: cfg.secret_key.expose().to_string(),
            session_token: String::new(),
        }
    } else if let Some(name) = &profile_name {
        // A profile that was asked for must provide the keys itself.
        match profile.as_ref().and_then(Profile::credentials) {
            Some(c) => c,
            None => {
                return Err(NotifyError::permanent(format!(
                    "AWS profile {name:?} has no aws_access_key_id/aws_secret_access_key in the shared credentials or config file (other credential sources of a profile are not supported by Watchfire)"
                )));
            }
        }
    } else if let Some(c) = from_env().or_else(|| profile.as_ref().and_then(Profile::credentials)) {
        c
    } else {
        return Err(NotifyError::permanent(
            "no AWS credentials: set sigv4.access_key and sigv4.secret_key, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or keys in a shared credentials file profile",
        ));
    };
    let region = [
        (!cfg.region.is_empty()).then(|| cfg.region.clone()),
        env.var("AWS_REGION"),
        env.var("AWS_DEFAULT_REGION"),
        profile
            .as_ref()
            .and_then(|p| p.values.get("region").cloned()),
    ]
    .into_iter()
    .flatten()
    .find(|r| !r.is_empty());
    let Some(region) = region else {
        return Err(NotifyError::permanent(
            "region not configured in sns.sigv4.region or in default credentials chain",
        ));
    };
    Ok(Resolved {
        credentials,
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use watchfire_alertmanager_config::{Secret, SigV4Config};

    /// AWS's example credentials from the SigV4 documentation and test suite.
    fn example() -> Credentials {
        Credentials {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: String::new(),
        }
    }

    fn vanilla(method: &str, query: &[(&str, &str)]) -> Signature {
        let req = Request {
            method,
            path: "/",
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            headers: vec![
                ("Host".into(), "example.amazonaws.com".into()),
                ("X-Amz-Date".into(), "20150830T123600Z".into()),
            ],
            payload: b"",
        };
        sign(&req, &example(), "us-east-1", "service", "20150830T123600Z")
    }

    /// The expected values are AWS's published ones (SigV4 test suite
    /// `get-vanilla`, `get-vanilla-query-order-key-case`, `post-vanilla`, and the
    /// documentation's IAM `ListUsers` example); the empty-payload hash is
    /// FIPS 180-2's SHA-256 of "".
    #[test]
    fn aws_published_vectors() {
        assert_eq!(
            hex(&signing_key(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "20150830",
                "us-east-1",
                "service"
            )),
            "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"
        );
        let s = vanilla("GET", &[]);
        assert_eq!(
            s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        let s = vanilla("GET", &[("Param2", "value2"), ("Param1", "value1")]);
        assert_eq!(
            s.signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
        let s = vanilla("POST", &[]);
        assert_eq!(
            s.signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );

        // IAM ListUsers, with a signed Content-Type.
        let req = Request {
            method: "GET",
            path: "/",
            query: vec![
                ("Action".into(), "ListUsers".into()),
                ("Version".into(), "2010-05-08".into()),
            ],
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded; charset=utf-8".into(),
                ),
                ("Host".into(), "iam.amazonaws.com".into()),
                ("X-Amz-Date".into(), "20150830T123600Z".into()),
            ],
            payload: b"",
        };
        let s = sign(&req, &example(), "us-east-1", "iam", "20150830T123600Z");
        assert_eq!(
            hex(&signing_key(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "20150830",
                "us-east-1",
                "iam"
            )),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        assert_eq!(
            sha256_hex(s.canonical_request.as_bytes()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(s.signed_headers, "content-type;host;x-amz-date");
        assert_eq!(
            s.signature,
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(uri_encode("a b/c~d*", true), "a%20b/c~d%2A");
        assert_eq!(uri_encode("a/é", false), "a%2F%C3%A9");
        // An already encoded path is encoded again (non-S3 services).
        assert_eq!(uri_encode("/x%20y", true), "/x%2520y");
    }

    struct FakeEnv {
        vars: HashMap<&'static str, String>,
        files: HashMap<PathBuf, String>,
    }

    impl Environment for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).cloned()
        }
        fn read(&self, path: &std::path::Path) -> Option<String> {
            self.files.get(path).cloned()
        }
    }

    fn env(vars: &[(&'static str, &str)], files: &[(&str, &str)]) -> FakeEnv {
        FakeEnv {
            vars: vars.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            files: files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
        }
    }

    const CREDS: &str = "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\n[ops]\naws_access_key_id=OPS\naws_secret_access_key=opssecret\naws_session_token=opstoken\n";
    const CONFIG: &str =
        "[default]\nregion = eu-west-1\n[profile ops]\nregion = ap-south-1\n# comment\n";

    #[test]
    fn credential_sources_in_sdk_order() {
        let files = [("/h/.aws/credentials", CREDS), ("/h/.aws/config", CONFIG)];
        let cfg = |f: &dyn Fn(&mut SigV4Config)| {
            let mut c = SigV4Config::default();
            f(&mut c);
            c
        };
        // Static keys and region win over everything.
        let e = env(
            &[
                ("HOME", "/h"),
                ("AWS_ACCESS_KEY_ID", "ENV"),
                ("AWS_SECRET_ACCESS_KEY", "envsecret"),
                ("AWS_REGION", "us-west-2"),
            ],
            &files,
        );
        let r = resolve(
            &cfg(&|c| {
                c.access_key = "CFG".into();
                c.secret_key = Secret::new("cfgsecret");
                c.region = "eu-central-1".into();
            }),
            &e,
        )
        .unwrap();
        assert_eq!(r.credentials.access_key, "CFG");
        assert_eq!(r.credentials.secret_key, "cfgsecret");
        assert_eq!(r.region, "eu-central-1");
        // Environment keys before the default profile; AWS_REGION before its region.
        let r = resolve(&SigV4Config::default(), &e).unwrap();
        assert_eq!(r.credentials.access_key, "ENV");
        assert_eq!(r.region, "us-west-2");
        // A named profile beats the environment keys.
        let r = resolve(&cfg(&|c| c.profile = "ops".into()), &e).unwrap();
        assert_eq!(
            (
                r.credentials.access_key.as_str(),
                r.credentials.session_token.as_str()
            ),
            ("OPS", "opstoken")
        );
        // Without environment: the default profile and its region.
        let e = env(&[("HOME", "/h")], &files);
        let r = resolve(&SigV4Config::default(), &e).unwrap();
        assert_eq!(r.credentials.access_key, "DEF");
        assert_eq!(r.region, "eu-west-1");
        let e = env(&[("HOME", "/h"), ("AWS_PROFILE", "ops")], &files);
        let r = resolve(&SigV4Config::default(), &e).unwrap();
        assert_eq!(
            (r.credentials.access_key.as_str(), r.region.as_str()),
            ("OPS", "ap-south-1")
        );
        // Failures.
        let e = env(&[("HOME", "/h")], &files);
        let err = resolve(&cfg(&|c| c.profile = "nope".into()), &e).unwrap_err();
        assert!(err.message.contains("AWS profile \"nope\""), "{err}");
        let err = resolve(&cfg(&|c| c.role_arn = "arn:x".into()), &e).unwrap_err();
        assert!(err.message.contains("role_arn"), "{err}");
        let e = env(
            &[("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "B")],
            &[],
        );
        let err = resolve(&SigV4Config::default(), &e).unwrap_err();
        assert_eq!(
            err.message,
            "region not configured in sns.sigv4.region or in default credentials chain"
        );
        let err = resolve(&SigV4Config::default(), &env(&[], &[])).unwrap_err();
        assert!(err.message.starts_with("no AWS credentials"), "{err}");
    }
}
