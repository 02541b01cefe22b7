//! Configuration shared by the client and the layer: the API key, the base URL, timeouts, and
//! their resolution from `HH_*` environment variables.
//!
//! Precedence is always: a value given to a builder, then the environment variable, then the
//! default. An empty (or blank) environment variable counts as unset. Resolution happens once,
//! in `build()`.
//!
//! The API key and the base URL each have several variables, read in this order, as
//! HoneyHive's TypeScript SDK and CLI read them:
//!
//! - **API key**: `with_api_key`, else `HH_INGESTION_API_KEY` (an ingestion key, `hh_ingst_…`,
//!   made for exactly the writes this crate sends), else `HH_PROJECT_API_KEY` (a project key),
//!   else `HH_API_KEY` (the older name of `HH_PROJECT_API_KEY`). See [`resolve_api_key`].
//! - **Base URL**: `with_api_url`, else `HH_DATA_PLANE_URL`, else `HH_API_URL` (its older
//!   name), else [`DEFAULT_API_URL`].

use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::error::Error;

/// Default base URL of HoneyHive's data plane.
pub const DEFAULT_API_URL: &str = "https://api.dp1.us.honeyhive.ai";

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A HoneyHive API key. Its `Debug` and `Display` show at most a masked form (`hh_****abcd`,
/// or `hh_ingst_<key id>_******` for an ingestion key), never the key.
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

    /// The form safe to display, as HoneyHive's SDKs show keys. An ingestion (`hh_ingst_`) or
    /// fine-grained data plane (`hh_fgdp_`) key shows its prefix and key id and none of its
    /// secret (`hh_ingst_<id>_******`, as HoneyHive's app displays it), or `********` when its
    /// id is malformed; another key shows its kind's prefix (`hh_`, `hh_ro_`) and its last four
    /// characters, or `****` when it is too short to mask.
    pub fn masked(&self) -> String {
        let key = &self.0;
        if let Some(prefix) = HASHED_PREFIXES.iter().find(|p| key.starts_with(*p)) {
            let rest = &key[prefix.len()..];
            return match rest.split_at_checked(KEY_ID_LEN) {
                Some((id, secret)) if is_key_id(id) && secret.starts_with('_') => {
                    format!("{prefix}{id}_******")
                }
                _ => "********".to_owned(),
            };
        }
        let count = key.chars().count();
        if count < 16 {
            return "****".to_owned();
        }
        let prefix = ["hh_ro_", "hh_"]
            .into_iter()
            .find(|p| key.starts_with(p))
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

/// Where the API key in use came from; it never holds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySource {
    /// Given to a builder's `with_api_key` (the command line's `--api-key`).
    Given,
    /// `HH_INGESTION_API_KEY`.
    IngestionVar,
    /// `HH_PROJECT_API_KEY`.
    ProjectVar,
    /// `HH_API_KEY`, the older name of `HH_PROJECT_API_KEY`.
    LegacyVar,
    /// Replaced while running, with [`Handle::set_api_key`](crate::Handle::set_api_key).
    Replaced,
}

impl KeySource {
    /// The setting's name: `with_api_key`, `HH_INGESTION_API_KEY`, `HH_PROJECT_API_KEY`,
    /// `HH_API_KEY` or `Handle::set_api_key`.
    pub const fn name(self) -> &'static str {
        match self {
            KeySource::Given => "with_api_key",
            KeySource::IngestionVar => "HH_INGESTION_API_KEY",
            KeySource::ProjectVar => "HH_PROJECT_API_KEY",
            KeySource::LegacyVar => "HH_API_KEY",
            KeySource::Replaced => "Handle::set_api_key",
        }
    }

    /// Where the key came from, in words for a log line: `from HH_PROJECT_API_KEY`, `given
    /// with with_api_key`.
    pub(crate) const fn describe(self) -> &'static str {
        match self {
            KeySource::Given => "given with with_api_key",
            KeySource::IngestionVar => "from HH_INGESTION_API_KEY",
            KeySource::ProjectVar => "from HH_PROJECT_API_KEY",
            KeySource::LegacyVar => "from HH_API_KEY",
            KeySource::Replaced => "given with Handle::set_api_key",
        }
    }
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The variables the API key is read from when none is given, first one set wins.
const KEY_VARIABLES: [KeySource; 3] = [
    KeySource::IngestionVar,
    KeySource::ProjectVar,
    KeySource::LegacyVar,
];

/// Prefixes of HoneyHive's hashed keys, `<prefix><24-character id>_<64-character secret>`.
const HASHED_PREFIXES: [&str; 2] = ["hh_ingst_", "hh_fgdp_"];
const INGESTION_PREFIX: &str = "hh_ingst_";
const KEY_ID_LEN: usize = 24;
const KEY_SECRET_LEN: usize = 64;

/// Whether `id` is a hashed key's id: exactly 24 ASCII letters and digits.
fn is_key_id(id: &str) -> bool {
    id.len() == KEY_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether `key` is a whole ingestion key: `hh_ingst_`, the id, `_`, and a 64-character secret
/// of letters, digits, `_` and `-`.
fn is_ingestion_key(key: &str) -> bool {
    let Some(rest) = key.strip_prefix(INGESTION_PREFIX) else {
        return false;
    };
    let Some((id, secret)) = rest.split_at_checked(KEY_ID_LEN) else {
        return false;
    };
    let secret = secret.strip_prefix('_').unwrap_or_default();
    is_key_id(id)
        && secret.len() == KEY_SECRET_LEN
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Why `key`, read from `source`, cannot send this crate's writes, if it cannot. Never quotes
/// the key.
///
/// A prefix that declares a kind is held to it: `hh_ingst_` must begin a whole ingestion key,
/// and fine-grained keys (`hh_fgdp_`, `hh_fgcp_`) cannot send traces at all.
/// `HH_INGESTION_API_KEY` must hold an ingestion key. A project key (`hh_…`, `hh_ro_…`) has
/// no shape HoneyHive publishes: it is sent as given, and the server decides.
fn key_problem(key: &str, source: KeySource) -> Option<String> {
    const USE_INSTEAD: &str = "use an ingestion key (`hh_ingst_…`, HH_INGESTION_API_KEY) or a \
                               project key (HH_PROJECT_API_KEY)";
    if key.starts_with(INGESTION_PREFIX) {
        return (!is_ingestion_key(key)).then(|| {
            format!(
                "begins with `{INGESTION_PREFIX}` but is not a whole ingestion key, which is \
                 `{INGESTION_PREFIX}`, a {KEY_ID_LEN}-character id of letters and digits, `_`, \
                 and a {KEY_SECRET_LEN}-character secret; it looks cut short or altered"
            )
        });
    }
    if key.starts_with("hh_fgdp_") {
        return Some(format!(
            "is a fine-grained data plane key (`hh_fgdp_…`), which HoneyHive accepts only on \
             project-scoped routes and never for sending traces or events; {USE_INSTEAD}"
        ));
    }
    if key.starts_with("hh_fgcp_") {
        return Some(format!(
            "is a control plane key (`hh_fgcp_…`), which the data plane does not accept; \
             {USE_INSTEAD}"
        ));
    }
    if source == KeySource::IngestionVar {
        let looks = if key.starts_with("hh_") {
            "looks like another kind of HoneyHive key: a project key goes in HH_PROJECT_API_KEY"
        } else {
            "is not a HoneyHive API key"
        };
        return Some(format!(
            "must be an ingestion key, which begins with `{INGESTION_PREFIX}`; the value {looks}"
        ));
    }
    if !ApiKey(key.to_owned()).is_sendable() {
        return Some("contains characters not allowed in an HTTP header".to_owned());
    }
    None
}

/// Checks `key`, from `source`, with [`key_problem`].
fn check_key(key: &ApiKey, source: KeySource) -> Result<(), Error> {
    match key_problem(key.expose(), source) {
        Some(reason) => Err(Error::config(source.name(), reason)),
        None => Ok(()),
    }
}

/// The API key a client built now would send, and where it came from: `given` (what
/// `with_api_key` or the command line's `--api-key` received) unless blank, else
/// `HH_INGESTION_API_KEY`, else `HH_PROJECT_API_KEY`, else `HH_API_KEY`, each trimmed, a blank
/// one counting as unset. `None` when none is set.
///
/// The key is refused, naming where it came from and never quoting it, when its prefix
/// declares a kind it does not have (`hh_ingst_` that is not a whole ingestion key), when it is
/// a fine-grained key, which cannot send traces (`hh_fgdp_`, `hh_fgcp_`), or when a header cannot
/// carry it. `HH_INGESTION_API_KEY` is refused whenever it is set and is not an ingestion key,
/// even when a given key is used instead, as HoneyHive's own SDKs refuse it: a stale typed key
/// is a deployment mistake better found at start.
///
/// [`ClientBuilder::build`](crate::client::ClientBuilder::build), and through it the layer and
/// the OpenTelemetry exporter, resolve the key with this function, as does the `honeyhive`
/// command line.
pub fn resolve_api_key(given: Option<&str>) -> Result<Option<(ApiKey, KeySource)>, Error> {
    resolve_api_key_with(given.map(ApiKey::new), &process_env)
}

/// [`resolve_api_key`] in the environment `env`.
pub(crate) fn resolve_api_key_with(
    given: Option<ApiKey>,
    env: EnvLookup<'_>,
) -> Result<Option<(ApiKey, KeySource)>, Error> {
    let read = |source: KeySource| env_value(env, source.name()).map(|v| (ApiKey::new(v), source));
    if let Some((key, source)) = read(KeySource::IngestionVar) {
        check_key(&key, source)?;
    }
    let given = given
        .filter(|key| !key.expose().is_empty())
        .map(|key| (key, KeySource::Given));
    let chosen = given.or_else(|| KEY_VARIABLES.into_iter().find_map(read));
    if let Some((key, source)) = &chosen {
        check_key(key, *source)?;
    }
    Ok(chosen)
}

/// The base URL requests go to: `given` (what `with_api_url` received) unless blank, else
/// `HH_DATA_PLANE_URL`, else `HH_API_URL`, else [`DEFAULT_API_URL`]; checked with
/// [`parse_base_url`], whose error names the setting it came from.
pub(crate) fn resolve_base_url(
    given: Option<String>,
    env: EnvLookup<'_>,
    allow_insecure_http: bool,
) -> Result<Url, Error> {
    let given = given
        .filter(|v| !v.trim().is_empty())
        .map(|v| (v, "with_api_url"));
    let (value, source) = given
        .or_else(|| {
            ["HH_DATA_PLANE_URL", "HH_API_URL"]
                .into_iter()
                .find_map(|name| env_value(env, name).map(|v| (v, name)))
        })
        .unwrap_or_else(|| (DEFAULT_API_URL.to_owned(), "the default URL"));
    parse_base_url(&value, allow_insecure_http, source)
}

/// Reads one environment variable; tests pass a map instead of the process environment.
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, with empty values treated as unset.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Whether the span's subscriber sends content: the layer's setting when it has the layer, else
/// `HH_CAPTURE_CONTENT` (on by default).
pub(crate) fn captures_content(span: &tracing::Span) -> bool {
    span.with_subscriber(|(_, dispatch)| {
        dispatch
            .downcast_ref::<crate::HoneyHiveLayer>()
            .map(crate::HoneyHiveLayer::capture_content)
    })
    .flatten()
    .unwrap_or_else(|| {
        static FROM_ENV: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *FROM_ENV.get_or_init(|| {
            flag(&process_env, "HH_CAPTURE_CONTENT")
                .ok()
                .flatten()
                .unwrap_or(true)
        })
    })
}

/// A boolean environment variable: `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`.
pub(crate) fn flag(env: EnvLookup<'_>, name: &'static str) -> Result<Option<bool>, Error> {
    let Some(text) = env_or(None, env, name) else {
        return Ok(None);
    };
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(Some(true)),
        "false" | "0" | "no" | "off" => Ok(Some(false)),
        _ => Err(Error::config(
            name,
            format!("`{text}` is not true or false"),
        )),
    }
}

/// `explicit`, else the non-empty variable `name`.
pub(crate) fn env_or(explicit: Option<String>, env: EnvLookup<'_>, name: &str) -> Option<String> {
    explicit.or_else(|| env_value(env, name))
}

/// The variable `name`, unless unset or blank.
fn env_value(env: EnvLookup<'_>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
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
/// Errors name `source`, the setting the URL came from (`with_api_url`, `HH_DATA_PLANE_URL`,
/// …).
pub(crate) fn parse_base_url(
    value: &str,
    allow_insecure_http: bool,
    source: &'static str,
) -> Result<Url, Error> {
    let url =
        Url::parse(value.trim()).map_err(|e| Error::config(source, format!("`{value}`: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(Error::config(
                source,
                format!(
                    "`{value}` is plain http to a host that is not loopback, which would send the \
                     API key in clear; use https, or allow it explicitly with \
                     `with_allow_insecure_http(true)`"
                ),
            ));
        }
        other => {
            return Err(Error::config(
                source,
                format!("`{value}`: scheme `{other}` is not http or https"),
            ));
        }
    }
    if url.host().is_none() {
        return Err(Error::config(source, format!("`{value}` has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(
            source,
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
