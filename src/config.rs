//! Configuration shared by the client and the layer: the API key, the base URL, timeouts, and
//! their resolution from `HH_*` environment variables.
//!
//! Precedence is always: a value given to a builder, then the environment variable, then the
//! default. An empty environment variable counts as unset. Resolution happens once, in `build()`.

use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::error::Error;

/// Default base URL of HoneyHive's data plane.
pub const DEFAULT_API_URL: &str = "https://api.dp1.us.honeyhive.ai";

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A HoneyHive API key. Its `Debug` and `Display` show at most a masked form (`hh_****abcd`),
/// never the key.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps `key`. Surrounding whitespace is trimmed.
    pub fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        ApiKey(key.trim().to_owned())
    }

    /// The key itself, for the `Authorization` header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the key can be sent: not empty, and only characters an HTTP header may carry.
    pub(crate) fn is_sendable(&self) -> bool {
        !self.0.is_empty() && reqwest::header::HeaderValue::try_from(self.0.as_str()).is_ok()
    }

    /// The form safe to display: HoneyHive's key-kind prefix (`hh_`, `hh_ro_`, `hh_ingst_`,
    /// `hh_fgdp_`) and the last four characters, or `****` for a key too short to mask.
    pub fn masked(&self) -> String {
        const PREFIXES: [&str; 4] = ["hh_ingst_", "hh_fgdp_", "hh_ro_", "hh_"];
        let key = &self.0;
        let count = key.chars().count();
        if count < 16 {
            return "****".to_owned();
        }
        let prefix = PREFIXES
            .iter()
            .find(|p| key.starts_with(*p))
            .copied()
            .unwrap_or("");
        let tail: String = key.chars().skip(count - 4).collect();
        format!("{prefix}****{tail}")
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

impl std::fmt::Display for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Reads one environment variable; tests pass a map instead of the process environment.
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, with empty values treated as unset.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `explicit`, else the non-empty variable `name`.
pub(crate) fn env_or(explicit: Option<String>, env: EnvLookup<'_>, name: &str) -> Option<String> {
    explicit.or_else(|| env(name).filter(|v| !v.trim().is_empty()))
}

/// A duration given in (possibly fractional) seconds, as HoneyHive's SDKs read `HH_API_TIMEOUT`.
pub(crate) fn parse_seconds(field: &'static str, value: &str) -> Result<Duration, Error> {
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| Error::config(field, format!("`{value}` is not a number of seconds")))?;
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0) {
        return Err(Error::config(
            field,
            format!("`{value}` must be a positive number of seconds, at most a day"),
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Checks and normalises a base URL: `http` or `https`, no query or fragment, no trailing `/`.
/// Plain `http` is refused for a host that is not loopback unless `allow_insecure_http`.
pub(crate) fn parse_base_url(value: &str, allow_insecure_http: bool) -> Result<Url, Error> {
    const FIELD: &str = "api_url (HH_API_URL)";
    let url =
        Url::parse(value.trim()).map_err(|e| Error::config(FIELD, format!("`{value}`: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(Error::config(
                FIELD,
                format!(
                    "`{value}` is plain http to a host that is not loopback, which would send the \
                     API key in clear; use https, or allow it explicitly with \
                     `with_allow_insecure_http(true)`"
                ),
            ));
        }
        other => {
            return Err(Error::config(
                FIELD,
                format!("`{value}`: scheme `{other}` is not http or https"),
            ));
        }
    }
    if url.host().is_none() {
        return Err(Error::config(FIELD, format!("`{value}` has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(
            FIELD,
            format!("`{value}` must not have a query or a fragment"),
        ));
    }
    Ok(url)
}

/// Whether `url` points at this machine: `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            domain.eq_ignore_ascii_case("localhost") || domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// An environment made of `pairs`, for tests.
#[cfg(test)]
pub(crate) fn test_env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_sendable_only_when_a_header_can_carry_it() {
        assert!(ApiKey::new("hh_0123456789abcdef").is_sendable());
        assert!(!ApiKey::new("   ").is_sendable(), "empty once trimmed");
        assert!(!ApiKey::new("hh_bad\nkey").is_sendable());
        assert!(!ApiKey::new("hh_\u{7f}key").is_sendable());
    }

    #[test]
    fn api_key_debug_and_display_never_show_the_key() {
        let key = ApiKey::new("hh_abcdefghijklmnopqrstuvwxyz123456");
        assert_eq!(format!("{key:?}"), "ApiKey(hh_****3456)");
        assert_eq!(key.to_string(), "hh_****3456");
        let ingestion = ApiKey::new(format!("hh_ingst_{}_{}", "a".repeat(24), "Z".repeat(64)));
        assert!(!format!("{ingestion:?}").contains("aaaa"));
        assert!(format!("{ingestion:?}").ends_with("ZZZZ)"));
        assert_eq!(format!("{:?}", ApiKey::new("short-key")), "ApiKey(****)");
        assert_eq!(
            format!("{:?}", ApiKey::new("nounderscoreatallinthiskey")),
            "ApiKey(****skey)"
        );
    }

    #[test]
    fn api_key_is_trimmed() {
        assert_eq!(ApiKey::new("  hh_key\n").expose(), "hh_key");
    }

    #[test]
    fn https_urls_are_accepted_and_http_only_on_loopback() {
        assert!(parse_base_url("https://api.dp1.us.honeyhive.ai", false).is_ok());
        for local in [
            "http://127.0.0.1:8787",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(parse_base_url(local, false).is_ok(), "{local}");
        }
        let err = parse_base_url("http://api.example.com", false).unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
        assert!(parse_base_url("http://api.example.com", true).is_ok());
    }

    #[test]
    fn malformed_urls_are_refused_with_the_reason() {
        for bad in ["not a url", "ftp://x", "https://h/?q=1", "https://h/#f"] {
            let err = parse_base_url(bad, false).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn seconds_parse_fractions_and_refuse_nonsense() {
        assert_eq!(
            parse_seconds("t", "2.5").unwrap(),
            Duration::from_millis(2500)
        );
        for bad in ["0", "-1", "NaN", "inf", "abc", "1e9"] {
            assert!(parse_seconds("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn explicit_value_beats_env_and_empty_env_is_unset() {
        let env = |name: &str| match name {
            "SET" => Some("from-env".to_owned()),
            "EMPTY" => Some("  ".to_owned()),
            _ => None,
        };
        assert_eq!(env_or(Some("x".into()), &env, "SET").as_deref(), Some("x"));
        assert_eq!(env_or(None, &env, "SET").as_deref(), Some("from-env"));
        assert_eq!(env_or(None, &env, "EMPTY"), None);
        assert_eq!(env_or(None, &env, "UNSET"), None);
    }
}
