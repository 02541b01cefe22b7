use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use super::*;
use crate::config::test_env as env;
use crate::config::{DEFAULT_TIMEOUT, KeySource};

#[test]
fn defaults_apply_when_nothing_is_set() {
    let client = Client::builder()
        .with_api_key("hh_key")
        .build_with_env(&env(&[]))
        .unwrap();
    assert_eq!(client.api_url(), "https://api.dp1.us.honeyhive.ai");
    assert_eq!(client.timeout, DEFAULT_TIMEOUT);
}

#[test]
fn environment_fills_unset_settings() {
    let client = Client::builder()
        .build_with_env(&env(&[
            ("HH_API_KEY", "hh_from_env"),
            ("HH_API_URL", "https://dp.example.com/"),
            ("HH_API_TIMEOUT", "2.5"),
        ]))
        .unwrap();
    assert_eq!(client.api_url(), "https://dp.example.com");
    assert_eq!(client.api_key.as_ref().unwrap().expose(), "hh_from_env");
    assert_eq!(client.timeout, Duration::from_millis(2500));
}

#[test]
fn explicit_settings_beat_the_environment() {
    let client = Client::builder()
        .with_api_key("hh_explicit")
        .with_api_url("https://explicit.example.com")
        .with_timeout(Duration::from_secs(1))
        .build_with_env(&env(&[
            ("HH_API_KEY", "hh_from_env"),
            ("HH_API_URL", "https://dp.example.com"),
            ("HH_API_TIMEOUT", "30"),
        ]))
        .unwrap();
    assert_eq!(client.api_url(), "https://explicit.example.com");
    assert_eq!(client.api_key.as_ref().unwrap().expose(), "hh_explicit");
    assert_eq!(client.timeout, Duration::from_secs(1));
}

#[test]
fn a_missing_key_is_refused_except_for_a_local_server() {
    let err = Client::builder().build_with_env(&env(&[])).unwrap_err();
    assert!(
        matches!(err, Error::InvalidConfig { field, .. } if field.contains("HH_API_KEY")),
        "{err}"
    );
    let empty = env(&[("HH_API_KEY", ""), ("HH_API_URL", "http://127.0.0.1:9")]);
    let local = Client::builder().build_with_env(&empty).unwrap();
    assert!(local.api_key.is_none());
}

/// A whole ingestion key.
fn ingestion_key() -> String {
    format!(
        "hh_ingst_{}_{}",
        "Id0123456789abcdefghijkl",
        "s3cr3t-_".repeat(8)
    )
}

#[test]
fn the_builder_takes_the_key_and_url_in_the_documented_order_and_says_where_from() {
    let ing = ingestion_key();
    let (i, p, l) = (
        ("HH_INGESTION_API_KEY", ing.as_str()),
        ("HH_PROJECT_API_KEY", "hh_project_key_0123"),
        ("HH_API_KEY", "hh_legacy_key_0123"),
    );
    let (dp, api) = (
        ("HH_DATA_PLANE_URL", "https://dp.example.com"),
        ("HH_API_URL", "https://api.example.com"),
    );
    let cases = [
        (
            vec![i, p, l, dp, api],
            &ing[..],
            KeySource::IngestionVar,
            dp.1,
        ),
        (vec![p, l, dp, api], p.1, KeySource::ProjectVar, dp.1),
        (vec![l, api], l.1, KeySource::LegacyVar, api.1),
        (
            vec![
                ("HH_INGESTION_API_KEY", " "),
                l,
                ("HH_DATA_PLANE_URL", ""),
                api,
            ],
            l.1,
            KeySource::LegacyVar,
            api.1,
        ),
    ];
    for (pairs, key, source, url) in cases {
        let client = Client::builder()
            .build_with_env(&env(&pairs))
            .unwrap_or_else(|e| panic!("{pairs:?}: {e}"));
        assert_eq!(client.api_key().unwrap().expose(), key, "{pairs:?}");
        assert_eq!(client.api_key_source(), Some(source), "{pairs:?}");
        assert_eq!(client.api_url(), url, "{pairs:?}");
    }
    let given = Client::builder()
        .with_api_key("hh_given_key_0123")
        .with_api_url("https://given.example.com")
        .build_with_env(&env(&[i, p, l, dp, api]))
        .unwrap();
    assert_eq!(given.api_key_source(), Some(KeySource::Given));
    assert_eq!(given.key_source(), "given with with_api_key");
    assert_eq!(given.api_url(), "https://given.example.com");
    let replaced = given.with_replaced_key(ApiKey::new("hh_new_key_0123"));
    assert_eq!(replaced.api_key_source(), Some(KeySource::Replaced));
}

#[test]
fn a_bad_key_or_url_in_the_environment_is_refused_by_build_naming_the_variable() {
    let short = &ingestion_key()[..50];
    let cases = [
        ("HH_INGESTION_API_KEY", short, "HH_INGESTION_API_KEY"),
        (
            "HH_INGESTION_API_KEY",
            "hh_project_key_0123",
            "HH_INGESTION_API_KEY",
        ),
        ("HH_PROJECT_API_KEY", short, "HH_PROJECT_API_KEY"),
        (
            "HH_API_KEY",
            "hh_fgdp_Id0123456789abcdefghijkl_x",
            "HH_API_KEY",
        ),
        (
            "HH_DATA_PLANE_URL",
            "http://dp.example.com",
            "HH_DATA_PLANE_URL",
        ),
        ("HH_API_URL", "not a url", "HH_API_URL"),
    ];
    for (name, value, named) in cases {
        // A URL is judged with a good key at hand; a key variable alone.
        let mut pairs = vec![(name, value)];
        if name.ends_with("URL") {
            pairs.push(("HH_PROJECT_API_KEY", "hh_fine_0123"));
        }
        let err = Client::builder().build_with_env(&env(&pairs)).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidConfig { field, .. } if *field == named),
            "{name}: {err}"
        );
        if name.ends_with("KEY") {
            assert!(!err.to_string().contains(&value[9..]), "{err}");
        }
    }
}

#[test]
fn bad_settings_name_the_setting() {
    let key = || Client::builder().with_api_key("hh_k");
    let cases: Vec<(ClientBuilder, &str)> = vec![
        (key().with_api_url("http://api.example.com"), "api_url"),
        (Client::builder().with_api_key("hh_\nkey\u{7f}x"), "api_key"),
        (key().with_timeout(Duration::ZERO), "timeout"),
    ];
    for (builder, field) in cases {
        let err = builder.build_with_env(&env(&[])).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidConfig { field: f, .. } if f.contains(field)),
            "{err}"
        );
    }
    let err = Client::builder()
        .with_api_key("hh_k")
        .build_with_env(&env(&[("HH_API_TIMEOUT", "soon")]))
        .unwrap_err();
    assert!(err.to_string().contains("HH_API_TIMEOUT"), "{err}");
}

#[test]
fn debug_output_redacts_the_key() {
    let secret = "hh_0123456789abcdefghijklmnop";
    let builder = Client::builder().with_api_key(secret);
    assert!(!format!("{builder:?}").contains(secret));
    let client = builder.build_with_env(&env(&[])).unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains(secret), "{shown}");
    assert!(shown.contains("hh_****mnop"), "{shown}");
}

#[test]
fn json_error_bodies_give_the_server_message() {
    let body = br#"{"statusCode":400,"message":"events[0].inputs: expected object","success":false,"errorCode":"VALIDATION"}"#;
    let (message, code) = describe_error_body(StatusCode::BAD_REQUEST, body);
    assert_eq!(message, "events[0].inputs: expected object");
    assert_eq!(code.as_deref(), Some("VALIDATION"));
}

#[test]
fn html_error_bodies_give_their_title() {
    let body = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>";
    let (message, code) = describe_error_body(StatusCode::BAD_GATEWAY, body);
    assert_eq!(message, "Bad Gateway (HTML page: 502 Bad Gateway)");
    assert_eq!(code, None);
}

#[test]
fn other_error_bodies_give_a_bounded_single_line_excerpt() {
    let long = format!("upstream\nfailed {}", "x".repeat(1000));
    let (message, _) = describe_error_body(StatusCode::SERVICE_UNAVAILABLE, long.as_bytes());
    assert!(message.starts_with("Service Unavailable (non-JSON body: upstream failed x"));
    assert!(message.len() < 260 && !message.contains('\n'), "{message}");
    let (empty, _) = describe_error_body(StatusCode::INTERNAL_SERVER_ERROR, b"");
    assert_eq!(empty, "Internal Server Error (empty body)");
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
    assert_eq!(
        parse_retry_after("120", now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        parse_retry_after(" 1.5 ", now),
        Some(Duration::from_millis(1500))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    for bad in ["-1", "soon", "NaN", ""] {
        assert_eq!(parse_retry_after(bad, now), None, "{bad}");
    }
}

#[test]
fn the_headers_built_once_carry_the_key_marked_sensitive_and_the_client_headers() {
    let key = ApiKey::new("hh_0123456789abcdef");
    let headers = Client::headers(Some(&key), true).unwrap();
    let auth = &headers[AUTHORIZATION];
    assert_eq!(auth.to_str().unwrap(), "Bearer hh_0123456789abcdef");
    assert!(auth.is_sensitive(), "never shown by debug output");
    assert_eq!(headers[reqwest::header::USER_AGENT], USER_AGENT);
    assert_eq!(headers["hh-client-language"], "rust");
    let plain = Client::headers(None, false).unwrap();
    assert!(!plain.contains_key(AUTHORIZATION));
    assert!(!plain.contains_key("hh-client-package"));
    assert!(Client::headers(Some(&ApiKey::new("hh_bad\nkey")), true).is_none());
    // A replaced key replaces the header.
    let client = Client::builder()
        .with_api_key("hh_first_key_0000")
        .build_with_env(&env(&[]))
        .unwrap()
        .with_replaced_key(key);
    let headers = client.headers.as_ref().unwrap();
    assert_eq!(headers[AUTHORIZATION], "Bearer hh_0123456789abcdef");
}
