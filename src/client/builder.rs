//! [`ClientBuilder`]: settings, their `HH_*` environment variables, and their checks.

use std::time::Duration;

use super::Client;
use crate::config::{self, ApiKey, DEFAULT_TIMEOUT, EnvLookup};
use crate::error::Error;

/// Builds a [`Client`].
///
/// Each setting resolves once, in [`build`](Self::build): a value given here, else the first
/// of its environment variables that is set (an empty or blank one counts as unset), else the
/// default.
///
/// | setting | builder method | environment variables, first set wins | default |
/// |---|---|---|---|
/// | API key | [`with_api_key`](Self::with_api_key) | `HH_INGESTION_API_KEY`, `HH_PROJECT_API_KEY`, `HH_API_KEY` | none: required unless the URL is loopback |
/// | base URL | [`with_api_url`](Self::with_api_url) | `HH_DATA_PLANE_URL`, `HH_API_URL` | `https://api.dp1.us.honeyhive.ai` |
/// | request timeout | [`with_timeout`](Self::with_timeout) | `HH_API_TIMEOUT` (seconds) | 10 s |
///
/// The variables are those of HoneyHive's TypeScript SDK and CLI. `HH_INGESTION_API_KEY` holds
/// an ingestion key (`hh_ingst_…`), which HoneyHive makes for exactly the writes this crate
/// sends (creating sessions, sending and updating events); `HH_PROJECT_API_KEY` a project key;
/// `HH_API_KEY` is the older name of `HH_PROJECT_API_KEY`, read last; `HH_API_URL` is the
/// older name of `HH_DATA_PLANE_URL`. Keys are trimmed. A key is refused at build, with an
/// [`Error::InvalidConfig`] naming the method or variable it came from and never quoting it,
/// when its prefix declares a kind it does not have, when it is a fine-grained key that cannot
/// send traces, or when `HH_INGESTION_API_KEY` holds anything but an ingestion key; see
/// [`config::resolve_api_key`]. A URL that cannot be used is refused naming its variable too.
#[derive(Default, Clone)]
#[must_use]
pub struct ClientBuilder {
    api_key: Option<ApiKey>,
    api_url: Option<String>,
    timeout: Option<Duration>,
    allow_insecure_http: bool,
    without_client_headers: bool,
    http: Option<reqwest::Client>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key)
            .field("api_url", &self.api_url)
            .field("timeout", &self.timeout)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API key, sent as `Authorization: Bearer`; a blank one counts as unset. Default:
    /// `HH_INGESTION_API_KEY`, else `HH_PROJECT_API_KEY`, else `HH_API_KEY`.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// The base URL, such as a dedicated data plane or a local server.
    /// Default: `HH_DATA_PLANE_URL`, else `HH_API_URL`, else `https://api.dp1.us.honeyhive.ai`.
    pub fn with_api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// The longest wait for one request, answer body included. Default: `HH_API_TIMEOUT`
    /// (seconds), else 10 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Allows plain `http://` to a host that is not loopback, which sends the API key
    /// unencrypted. Default: refused.
    pub fn with_allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Whether to send the optional `hh-client-package`, `hh-client-version` and
    /// `hh-client-language` headers, and `hh-client-timestamp` (the time each request is made,
    /// in Unix nanoseconds, by which HoneyHive orders the requests of one client, as its Python
    /// SDK sends it). Default: sent.
    pub fn with_client_headers(mut self, send: bool) -> Self {
        self.without_client_headers = !send;
        self
    }

    /// Uses `http` for requests, to share a pool or to set proxies or TLS roots. Its own
    /// redirect policy applies; the default client follows no redirect, so the API key never
    /// reaches another host.
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Resolves the settings against the `HH_*` environment and checks them.
    pub fn build(self) -> Result<Client, Error> {
        self.build_with_env(&config::process_env)
    }

    pub(crate) fn build_with_env(self, env: EnvLookup<'_>) -> Result<Client, Error> {
        let base = config::resolve_base_url(self.api_url, env, self.allow_insecure_http)?;
        let resolved = config::resolve_api_key_with(self.api_key, env)?;
        if resolved.is_none() && !config::is_loopback(&base) {
            return Err(Error::config(
                "api_key (with_api_key, HH_INGESTION_API_KEY, HH_PROJECT_API_KEY, HH_API_KEY)",
                format!(
                    "no API key for {}: set HH_INGESTION_API_KEY (an ingestion key) or \
                     HH_PROJECT_API_KEY, or call with_api_key",
                    base.as_str().trim_end_matches('/')
                ),
            ));
        }
        let (api_key, key_source) = resolved.unzip();
        let timeout = match (self.timeout, config::env_or(None, env, "HH_API_TIMEOUT")) {
            (Some(timeout), _) if timeout.is_zero() => {
                return Err(Error::config("timeout", "must be longer than zero"));
            }
            (Some(timeout), _) => timeout,
            (None, Some(seconds)) => config::parse_seconds("HH_API_TIMEOUT", &seconds)?,
            (None, None) => DEFAULT_TIMEOUT,
        };
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(timeout)
                .build()
                .map_err(|e| Error::config("http_client", e.to_string()))?,
        };
        let client_headers = !self.without_client_headers;
        Ok(Client {
            http,
            base,
            headers: Client::headers(api_key.as_ref(), client_headers),
            api_key,
            key_source,
            timeout,
            client_headers,
        })
    }
}
