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
mod tests;
