use super::*;
use crate::config::test_env as env;

/// A whole ingestion key: `hh_ingst_`, a 24-character id, `_`, a 64-character secret.
fn ingestion_key(id: &str, secret_char: char) -> String {
    let secret: String = std::iter::repeat_n(secret_char, 60)
        .chain("_-x9".chars())
        .collect();
    format!("hh_ingst_{id}_{secret}")
}

const ID: &str = "A1b2C3d4E5f6G7h8I9j0K1l2";
const PROJECT: &str = "hh_Pr0jectKeyQmW7vX2zR5tY8";
const LEGACY: &str = "hh_L3gacyKeyNb4Vc6Xz8Lk0J";
const GIVEN: &str = "hh_G1venKeyHs3Df5Gh7Jk9Lq2";

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
    assert!(parse_base_url("https://api.dp1.us.honeyhive.ai", false, "u").is_ok());
    for local in [
        "http://127.0.0.1:8787",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        assert!(parse_base_url(local, false, "u").is_ok(), "{local}");
    }
    let err = parse_base_url("http://api.example.com", false, "u").unwrap_err();
    assert!(err.to_string().contains("plain http"), "{err}");
    assert!(parse_base_url("http://api.example.com", true, "u").is_ok());
}

#[test]
fn malformed_urls_are_refused_with_the_reason() {
    for bad in ["not a url", "ftp://x", "https://h/?q=1", "https://h/#f"] {
        let err = parse_base_url(bad, false, "u").unwrap_err();
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

/// The key and source [`resolve_api_key_with`] settles on.
fn chosen(given: Option<&str>, pairs: &[(&str, &str)]) -> Option<(String, KeySource)> {
    resolve_api_key_with(given.map(ApiKey::new), &env(pairs))
        .unwrap_or_else(|e| panic!("{given:?} {pairs:?}: {e}"))
        .map(|(key, source)| (key.expose().to_owned(), source))
}

#[test]
fn the_key_comes_from_the_first_setting_set_in_the_documented_order() {
    use KeySource::*;
    let ing = ingestion_key(ID, 's');
    let (i, p, l) = (
        ("HH_INGESTION_API_KEY", ing.as_str()),
        ("HH_PROJECT_API_KEY", PROJECT),
        ("HH_API_KEY", LEGACY),
    );
    /// (given key, variables set, the key and source expected)
    type Case<'a> = (
        Option<&'a str>,
        Vec<(&'a str, &'a str)>,
        Option<(&'a str, KeySource)>,
    );
    let cases: Vec<Case<'_>> = vec![
        // Every pair of settings, the higher one winning.
        (Some(GIVEN), vec![i, p, l], Some((GIVEN, Given))),
        (Some(GIVEN), vec![i], Some((GIVEN, Given))),
        (Some(GIVEN), vec![p], Some((GIVEN, Given))),
        (Some(GIVEN), vec![l], Some((GIVEN, Given))),
        (None, vec![i, p, l], Some((&ing, IngestionVar))),
        (None, vec![i, p], Some((&ing, IngestionVar))),
        (None, vec![i, l], Some((&ing, IngestionVar))),
        (None, vec![p, l], Some((PROJECT, ProjectVar))),
        (None, vec![l], Some((LEGACY, LegacyVar))),
        (None, vec![], None),
        // Empty and blank count as unset, given or read.
        (
            Some(" \t"),
            vec![("HH_INGESTION_API_KEY", ""), p, l],
            Some((PROJECT, ProjectVar)),
        ),
        (
            Some(""),
            vec![
                ("HH_INGESTION_API_KEY", "  "),
                ("HH_PROJECT_API_KEY", "\n"),
                l,
            ],
            Some((LEGACY, LegacyVar)),
        ),
        (None, vec![("HH_API_KEY", " ")], None),
    ];
    for (given, pairs, expected) in cases {
        let expected = expected.map(|(key, source)| (key.to_owned(), source));
        assert_eq!(chosen(given, &pairs), expected, "{given:?} {pairs:?}");
    }
}

#[test]
fn keys_are_trimmed_wherever_they_come_from() {
    let ing = ingestion_key(ID, 's');
    let padded = format!("  {ing}\n");
    for pairs in [
        vec![("HH_INGESTION_API_KEY", padded.as_str())],
        vec![("HH_PROJECT_API_KEY", padded.as_str())],
        vec![("HH_API_KEY", padded.as_str())],
    ] {
        assert_eq!(chosen(None, &pairs).unwrap().0, ing, "{pairs:?}");
    }
    assert_eq!(chosen(Some(&padded), &[]).unwrap().0, ing);
}

#[test]
fn keys_without_a_shape_to_break_are_sent_as_given() {
    use KeySource::*;
    let ing = ingestion_key(ID, 's');
    let cases = [
        // A read-only project key: HoneyHive decides what it may do.
        (
            "HH_PROJECT_API_KEY",
            "hh_ro_R3adOnlyKeyAb12Cd34",
            ProjectVar,
        ),
        // A key of no HoneyHive shape, as a self-hosted or test server may issue.
        ("HH_API_KEY", "k", LegacyVar),
        // A whole ingestion key under the project key's name is still the right key.
        ("HH_PROJECT_API_KEY", ing.as_str(), ProjectVar),
    ];
    for (name, key, source) in cases {
        assert_eq!(
            chosen(None, &[(name, key)]),
            Some((key.to_owned(), source)),
            "{name}"
        );
    }
    // A variable below the key in use is not read, and not judged.
    let shadowed = [
        ("HH_PROJECT_API_KEY", "hh_fgdp_stale"),
        ("HH_API_KEY", "hh_ingst_x"),
    ];
    assert_eq!(chosen(Some(GIVEN), &shadowed).unwrap().1, Given);
}

/// Asserts `text` quotes no part of `key` longer than the prefix that names its kind.
fn assert_never_quotes(text: &str, key: &str) {
    let chars: Vec<char> = key.trim().chars().collect();
    const WINDOW: usize = 10;
    for start in 0..chars.len().saturating_sub(WINDOW - 1) {
        let piece: String = chars[start..start + WINDOW].iter().collect();
        assert!(
            !text.contains(&piece),
            "`{piece}` of the key is quoted in: {text}"
        );
    }
}

#[test]
fn a_key_of_the_wrong_shape_is_refused_naming_its_setting_and_never_quoting_it() {
    let ing = ingestion_key(ID, 's');
    let short = &ing[..ing.len() - 1];
    let long = format!("{ing}Q");
    let dotted = ing.replacen('x', ".", 1);
    let bad_id = ingestion_key("A1b2C3d4E5f6G7h8I9j0K1l-", 's');
    let fgdp = format!("hh_fgdp_{ID}_{}", "s".repeat(64));
    /// (given key, the variable set, the setting named, what the message says)
    type Case<'a> = (Option<&'a str>, (&'a str, &'a str), &'a str, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            None,
            ("HH_INGESTION_API_KEY", short),
            "HH_INGESTION_API_KEY",
            "not a whole ingestion key",
        ),
        (
            None,
            ("HH_INGESTION_API_KEY", &long),
            "HH_INGESTION_API_KEY",
            "not a whole ingestion key",
        ),
        (
            None,
            ("HH_INGESTION_API_KEY", &dotted),
            "HH_INGESTION_API_KEY",
            "not a whole ingestion key",
        ),
        (
            None,
            ("HH_INGESTION_API_KEY", &bad_id),
            "HH_INGESTION_API_KEY",
            "not a whole ingestion key",
        ),
        (
            None,
            ("HH_INGESTION_API_KEY", "hh_ingst_"),
            "HH_INGESTION_API_KEY",
            "not a whole",
        ),
        (
            None,
            ("HH_INGESTION_API_KEY", PROJECT),
            "HH_INGESTION_API_KEY",
            "another kind of HoneyHive key",
        ),
        (
            None,
            ("HH_INGESTION_API_KEY", "sk-proj-0123456789abcdefghij"),
            "HH_INGESTION_API_KEY",
            "not a HoneyHive API key",
        ),
        (
            None,
            ("HH_INGESTION_API_KEY", &fgdp),
            "HH_INGESTION_API_KEY",
            "never for sending traces",
        ),
        (
            None,
            ("HH_PROJECT_API_KEY", short),
            "HH_PROJECT_API_KEY",
            "not a whole ingestion key",
        ),
        (
            None,
            ("HH_PROJECT_API_KEY", &fgdp),
            "HH_PROJECT_API_KEY",
            "fine-grained data plane key",
        ),
        (
            None,
            ("HH_API_KEY", &fgdp),
            "HH_API_KEY",
            "fine-grained data plane key",
        ),
        (
            None,
            ("HH_API_KEY", "hh_fgcp_C0ntrolPlaneKey0123456789"),
            "HH_API_KEY",
            "control plane key",
        ),
        (
            None,
            ("HH_PROJECT_API_KEY", "hh_bad\nKeyWithAn3wline"),
            "HH_PROJECT_API_KEY",
            "HTTP header",
        ),
        (
            Some(short),
            ("HH_SOURCE", "x"),
            "with_api_key",
            "not a whole ingestion key",
        ),
        (
            Some(&fgdp),
            ("HH_SOURCE", "x"),
            "with_api_key",
            "fine-grained data plane key",
        ),
        (
            Some("hh_G1ven\u{7f}KeyHs3Df5Gh7"),
            ("HH_SOURCE", "x"),
            "with_api_key",
            "HTTP header",
        ),
        // The ingestion variable is judged even when a given key is used instead.
        (
            Some(GIVEN),
            ("HH_INGESTION_API_KEY", short),
            "HH_INGESTION_API_KEY",
            "not a whole",
        ),
    ];
    for (given, (name, key), setting, says) in cases {
        let err = resolve_api_key_with(given.map(ApiKey::new), &env(&[(name, key)]))
            .expect_err(&format!("{given:?} {name}"));
        let Error::InvalidConfig { field, reason } = &err else {
            panic!("{err}");
        };
        assert_eq!(*field, setting, "{err}");
        assert!(reason.contains(says), "{name}: {err}");
        let text = err.to_string();
        assert_never_quotes(&text, key);
        if let Some(given) = given {
            assert_never_quotes(&text, given);
        }
    }
}

#[test]
fn ingestion_keys_are_masked_to_their_id_and_never_show_their_secret() {
    let ing = ApiKey::new(ingestion_key(ID, 'S'));
    assert_eq!(ing.masked(), format!("hh_ingst_{ID}_******"));
    assert_eq!(format!("{ing:?}"), format!("ApiKey(hh_ingst_{ID}_******)"));
    let fgdp = ApiKey::new(format!("hh_fgdp_{ID}_{}", "S".repeat(64)));
    assert_eq!(fgdp.masked(), format!("hh_fgdp_{ID}_******"));
    // A mangled id could be secret material: nothing of it is shown.
    for mangled in [
        "hh_ingst_short_SSSS",
        "hh_ingst_",
        "hh_ingst_A1b2C3d4E5f6G7h8I9j0K1lé_S",
    ] {
        assert_eq!(ApiKey::new(mangled).masked(), "********", "{mangled}");
    }
    assert_eq!(
        ApiKey::new("hh_ro_R3adOnlyKeyAb12Cd34").masked(),
        "hh_ro_****Cd34"
    );
}

#[test]
fn the_url_comes_from_the_first_setting_set_and_its_error_names_that_setting() {
    let dp = ("HH_DATA_PLANE_URL", "https://dp.example.com/");
    let api = ("HH_API_URL", "https://api.example.com");
    let given = Some("https://given.example.com".to_owned());
    let url = |given: Option<String>, pairs: &[(&str, &str)]| {
        resolve_base_url(given, &env(pairs), false)
            .unwrap()
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    };
    assert_eq!(url(given.clone(), &[dp, api]), "https://given.example.com");
    assert_eq!(url(None, &[dp, api]), "https://dp.example.com");
    assert_eq!(url(None, &[api]), "https://api.example.com");
    assert_eq!(url(None, &[]), DEFAULT_API_URL);
    assert_eq!(
        url(Some(" ".into()), &[("HH_DATA_PLANE_URL", ""), api]),
        "https://api.example.com"
    );
    assert_eq!(url(None, &[("HH_API_URL", "\t")]), DEFAULT_API_URL);
    // A variable below the URL in use is not read.
    assert_eq!(
        url(None, &[dp, ("HH_API_URL", "not a url")]),
        "https://dp.example.com"
    );
    let field = |given: Option<&str>, pairs: &[(&str, &str)]| match resolve_base_url(
        given.map(str::to_owned),
        &env(pairs),
        false,
    ) {
        Err(Error::InvalidConfig { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let bad = "http://plain.example.com";
    assert_eq!(field(Some(bad), &[dp]), "with_api_url");
    assert_eq!(
        field(None, &[("HH_DATA_PLANE_URL", bad), api]),
        "HH_DATA_PLANE_URL"
    );
    assert_eq!(field(None, &[("HH_API_URL", "ftp://x")]), "HH_API_URL");
}

#[test]
fn key_sources_are_named_as_their_settings() {
    let names: Vec<&str> = [
        KeySource::Given,
        KeySource::IngestionVar,
        KeySource::ProjectVar,
        KeySource::LegacyVar,
        KeySource::Replaced,
    ]
    .iter()
    .map(|s| s.name())
    .collect();
    assert_eq!(
        names,
        [
            "with_api_key",
            "HH_INGESTION_API_KEY",
            "HH_PROJECT_API_KEY",
            "HH_API_KEY",
            "Handle::set_api_key"
        ]
    );
    assert_eq!(KeySource::ProjectVar.to_string(), "HH_PROJECT_API_KEY");
    assert_eq!(KeySource::Given.describe(), "given with with_api_key");
}
