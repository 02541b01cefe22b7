//! The web view: the local server's sessions in a browser, at `/` on the same port, live.
//!
//! A page of plain HTML, CSS and JavaScript embedded in the binary (`web/assets/`), reading the
//! JSON routes of [`api`] and following the server-sent events of `/api/live`. These routes sit
//! beside HoneyHive's and outside what a client's requests are checked and counted by: they are
//! not recorded, delayed nor answered by injected faults.
//!
//! Prompts and answers are private. No route sends a cross-origin header, so another site's
//! script cannot read them. When the server requires an API key or listens beyond loopback, the
//! view requires a token: the link the server prints carries it once (`/?token=…`), and the
//! answer moves it into a cookie (`HttpOnly`, `SameSite=Strict`) and out of the address bar; an
//! `Authorization: Bearer` header with the token or the API key is accepted too. Otherwise, on
//! loopback with no key, it requires the `Host` to be a loopback name, so that a web page whose
//! name was rebound to 127.0.0.1 cannot read it either.

mod api;
pub(crate) mod summary;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use uuid::Uuid;

use super::Shared;
use super::routes::same_secret;
use super::server::error;

/// The cookie that carries the view's token.
const COOKIE: &str = "hh_view";

/// Who may read the web view.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    /// The token required, when the server has a key or listens beyond loopback.
    token: Option<String>,
}

impl Access {
    /// A token is required when `api_key` is set or an address is not loopback.
    pub(crate) fn new(api_key: Option<&str>, addrs: &[SocketAddr]) -> Access {
        let open = api_key.is_none() && addrs.iter().all(|a| a.ip().is_loopback());
        Access {
            // 122 random bits from uuid's version 4 generator (a cryptographic one).
            token: (!open).then(|| Uuid::new_v4().simple().to_string()),
        }
    }

    /// The query that lets a browser in: `?token=…`, or nothing when none is required.
    pub(crate) fn link_query(&self) -> String {
        self.token
            .as_ref()
            .map_or_else(String::new, |t| format!("?token={t}"))
    }

    fn admits(&self, headers: &HeaderMap, api_key: Option<&str>) -> bool {
        let Some(token) = &self.token else {
            return headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .is_none_or(loopback_host);
        };
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == COOKIE && same_secret(value.as_bytes(), token.as_bytes()));
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                same_secret(given.as_bytes(), token.as_bytes())
                    || api_key.is_some_and(|key| same_secret(given.as_bytes(), key.as_bytes()))
            });
        cookie || bearer
    }
}

/// `localhost`, `127.0.0.1`, `[::1]` and the like, with or without a port.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a request is for the web view rather than HoneyHive's API.
pub(crate) fn is_view(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && (path == "/" || path.starts_with("/assets/") || path.starts_with("/api/"))
}

pub(crate) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(page).fallback(no_route))
        .route("/assets/{file}", get(asset).fallback(no_route))
        .merge(api::router())
        .route_layer(middleware::from_fn_with_state(shared, guard))
        .layer(middleware::map_response(private))
}

/// The page's files: (name, content type, content).
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", CSS, include_str!("web/assets/app.css")),
    ("app.mjs", JS, include_str!("web/assets/app.mjs")),
    ("chat.mjs", JS, include_str!("web/assets/chat.mjs")),
    ("dom.mjs", JS, include_str!("web/assets/dom.mjs")),
    ("event.mjs", JS, include_str!("web/assets/event.mjs")),
    ("list.mjs", JS, include_str!("web/assets/list.mjs")),
    ("model.mjs", JS, include_str!("web/assets/model.mjs")),
    ("session.mjs", JS, include_str!("web/assets/session.mjs")),
];
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Another method on a path of the view: as the API answers a path it does not have.
pub(super) async fn no_route() -> Response {
    error(StatusCode::NOT_FOUND, "Route not found")
}

async fn page() -> Response {
    let html = include_str!("web/assets/index.html");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, content)) => ([(header::CONTENT_TYPE, *kind)], *content).into_response(),
        None => error(StatusCode::NOT_FOUND, "Route not found"),
    }
}

/// Lets in who [`Access`] admits; turns the printed link's token into a cookie.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let access = &shared.access;
    if !is_view(request.method(), request.uri().path())
        || access.admits(request.headers(), shared.api_key.as_deref())
    {
        return next.run(request).await;
    }
    let given = request.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .map(str::to_owned)
    });
    if let (Some(given), Some(token)) = (given, &access.token) {
        if request.uri().path() == "/" && same_secret(given.as_bytes(), token.as_bytes()) {
            let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
            let mut answer = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            if let Ok(value) = HeaderValue::try_from(cookie) {
                answer.headers_mut().insert(header::SET_COOKIE, value);
            }
            return answer;
        }
    }
    match access.token {
        Some(_) => error(
            StatusCode::UNAUTHORIZED,
            "This view needs the link `honeyhive serve` printed at start (it carries a token)",
        ),
        None => error(
            StatusCode::FORBIDDEN,
            "This view answers only to a loopback host name (localhost, 127.0.0.1, [::1])",
        ),
    }
}

/// Headers on every answer of the view: nothing cached, framed, sniffed, referred, or loaded
/// from elsewhere.
async fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_told_from_others() {
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1:4318",
            "127.9.9.9",
            "[::1]:80",
            "[::1]",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:80",
            "10.0.0.1:80",
            "[::2]:80",
            "localhost.evil.example",
            "",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }

    #[test]
    fn a_token_is_required_with_a_key_or_beyond_loopback() {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 1));
        let wide = SocketAddr::from(([0, 0, 0, 0], 1));
        assert!(Access::new(None, &[loopback]).token.is_none());
        assert!(Access::new(Some("hh"), &[loopback]).token.is_some());
        assert!(Access::new(None, &[loopback, wide]).token.is_some());
        let a = Access::new(None, &[wide]).token.unwrap();
        let b = Access::new(None, &[wide]).token.unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }
}
