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
