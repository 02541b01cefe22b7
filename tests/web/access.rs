//! Who may read the view: on loopback with no key, a loopback host name; with a key (or beyond
//! loopback), the token of the printed link, as a cookie or a bearer, or the API key as a bearer.

use serde_json::json;
use tracing_honeyhive::emulator::Emulator;
use uuid::Uuid;

use crate::{KEY, get, session, status};

const PATHS: [&str; 4] = ["/", "/api/sessions", "/assets/app.mjs", "/api/live"];

#[tokio::test]
async fn a_keyed_server_refuses_the_view_without_its_token() {
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    let id = Uuid::new_v4().to_string();
    session(&server, Some(KEY), &id, "private", 1.0, json!([])).await;
    let link = server.view_url();
    let token = link
        .split_once("?token=")
        .expect("the link carries a token")
        .1
        .to_owned();
    assert_eq!(token.len(), 32);
    assert!(!link.contains(KEY), "the link never carries the API key");

    for path in PATHS
        .iter()
        .copied()
        .chain([&*format!("/api/sessions/{id}")])
    {
        let url = format!("{}{path}", server.url());
        let refused = get(&url, &[]).await;
        assert_eq!(refused.status, 401, "{path}");
        assert!(
            refused.json()["message"]
                .as_str()
                .unwrap()
                .contains("printed at start")
        );
        assert!(!refused.text.contains(&token) && !refused.text.contains(KEY));
        for wrong in [
            (
                "cookie",
                "hh_view=0123456789abcdef0123456789abcdef".to_owned(),
            ),
            ("cookie", format!("hh_view={}", &token[..31])),
            ("authorization", "Bearer not-the-key".to_owned()),
            ("authorization", format!("Basic {token}")),
        ] {
            assert_eq!(
                get(&url, &[(wrong.0, &wrong.1)]).await.status,
                401,
                "{path} {wrong:?}"
            );
        }
        let cookie = format!("other=1; hh_view={token}");
        assert_eq!(
            status(&url, &[("cookie", &cookie)]).await,
            200,
            "{path}: the cookie"
        );
        let bearer = format!("Bearer {token}");
        assert_eq!(
            status(&url, &[("authorization", &bearer)]).await,
            200,
            "{path}"
        );
        let key = format!("Bearer {KEY}");
        assert_eq!(
            status(&url, &[("authorization", &key)]).await,
            200,
            "{path}: the key"
        );
    }
    // The token in a link is good for the page only, and only once it is moved into a cookie.
    let api = get(&format!("{}/api/sessions?token={token}", server.url()), &[]).await;
    assert_eq!(api.status, 401);
}

#[tokio::test]
async fn the_printed_link_moves_its_token_into_a_strict_cookie() {
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    let opened = get(&server.view_url(), &[]).await;
    assert_eq!(opened.status, 303);
    assert_eq!(
        opened.header("location"),
        Some("/"),
        "the token leaves the address bar"
    );
    let cookie = opened.header("set-cookie").unwrap();
    let token = server
        .view_url()
        .split_once("?token=")
        .unwrap()
        .1
        .to_owned();
    assert_eq!(
        cookie,
        format!("hh_view={token}; Path=/; HttpOnly; SameSite=Strict")
    );
    let wrong = get(
        &format!("{}/?token=0123456789abcdef0123456789abcdef", server.url()),
        &[],
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
}

#[tokio::test]
async fn an_open_server_answers_loopback_names_only() {
    let server = Emulator::builder().start().unwrap();
    assert_eq!(
        server.view_url(),
        format!("{}/", server.url()),
        "no token on loopback, no key"
    );
    let port = server.addr().port();
    for path in PATHS {
        let url = format!("{}{path}", server.url());
        for host in ["evil.example", "evil.example:80", "localhost.evil.example"] {
            let refused = get(&url, &[("host", host)]).await;
            assert_eq!(
                refused.status, 403,
                "{path} as {host}: a rebound name is refused"
            );
        }
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            "[::1]".into(),
        ] {
            assert_eq!(status(&url, &[("host", &host)]).await, 200, "{path} {host}");
        }
    }
}

#[tokio::test]
async fn a_server_beyond_loopback_wants_a_token_even_without_a_key() {
    let wide = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    let server = Emulator::builder().with_addr(wide).start().unwrap();
    let link = server.view_url();
    assert!(link.contains("?token="), "{link}");
    let local = format!("http://127.0.0.1:{}/api/sessions", server.addr().port());
    assert_eq!(get(&local, &[]).await.status, 401);
    // The API itself still takes any key or none, as configured.
    let id = Uuid::new_v4().to_string();
    let created = crate::http()
        .post(format!(
            "http://127.0.0.1:{}/v1/sessions",
            server.addr().port()
        ))
        .json(&json!({"session_id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
}
