use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue};
use uuid::Uuid;

use super::SessionContext;

const SESSION: &str = "0b7a6b1c-5d4e-4f3a-9b2c-1d0e9f8a7b6c";
const PARENT: &str = "6f2c1a9e-4b1d-4c3e-9a57-0d2f8e1b7c44";

fn headers(values: &[&[u8]]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append("baggage", HeaderValue::from_bytes(value).unwrap());
    }
    headers
}

fn extract(values: &[&str]) -> SessionContext {
    let bytes: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
    SessionContext::extract(&headers(&bytes))
}

fn context(session: Option<&str>, parent: Option<&str>) -> SessionContext {
    SessionContext {
        session_id: session.map(str::to_owned),
        parent_id: parent.map(|p| Uuid::parse_str(p).unwrap()),
        ..SessionContext::default()
    }
}

#[test]
fn every_spelling_of_the_session_and_parent_is_read() {
    let table: &[(&str, Option<&str>, Option<&str>)] = &[
        ("session_id=<s>,parent_id=<p>", Some("<s>"), Some(PARENT)),
        ("honeyhive.session_id=<s>", Some("<s>"), None),
        (
            "honeyhive_session_id=<s>,honeyhive_parent_id=<p>",
            Some("<s>"),
            Some(PARENT),
        ),
        (
            "honeyhive.parent_id=<p>,honeyhive.session_id=<s>",
            Some("<s>"),
            Some(PARENT),
        ),
        // Lenient with whitespace, properties and encoding.
        (
            " session_id = <s> ;ttl=3 , parent_id=\t<p>\t;x",
            Some("<s>"),
            Some(PARENT),
        ),
        ("session_id=%20<s>%20", Some("<s>"), None),
        // The namespaced spelling wins over the plain one, the last of one key over the first.
        (
            "session_id=plain,honeyhive.session_id=<s>",
            Some("<s>"),
            None,
        ),
        (
            "honeyhive.session_id=first,honeyhive.session_id=<s>",
            Some("<s>"),
            None,
        ),
        // A parent that is not a UUID is passed over, for the next spelling.
        (
            "session_id=<s>,honeyhive.parent_id=caller-7,parent_id=<p>",
            Some("<s>"),
            Some(PARENT),
        ),
        ("session_id=<s>,parent_id=caller-7", Some("<s>"), None),
        // Empty values and other keys name nothing.
        ("session_id=,honeyhive.session_id=%20", None, None),
        ("user=alice,sessionid=<s>,Session_Id=<s>", None, None),
        ("", None, None),
    ];
    for (header, session, parent) in table {
        let header = header.replace("<s>", SESSION).replace("<p>", PARENT);
        let session = session.map(|s| s.replace("<s>", SESSION));
        assert_eq!(
            extract(&[&header]),
            context(session.as_deref(), *parent),
            "{header}"
        );
    }
}

#[test]
fn the_python_sdks_baggage_is_read_whole() {
    // What HoneyHive's Python SDK 1.5 puts on the wire: its decorator's `session_id`,
    // `honeyhive_tracer_id`, `project`, `source`, and `create_session`'s `session_name`,
    // encoded by OpenTelemetry's W3CBaggagePropagator (`quote_plus`).
    let header = format!(
        "session_id={SESSION},honeyhive_tracer_id=140234567890123,project=Support+Bot,\
         source=production,session_name=support+chat+%232"
    );
    let caller = extract(&[&header]);
    assert_eq!(caller.session_id.as_deref(), Some(SESSION));
    assert_eq!(caller.parent_id, None);
    assert_eq!(caller.project.as_deref(), Some("Support Bot"));
    assert_eq!(caller.source.as_deref(), Some("production"));
    assert_eq!(caller.session_name.as_deref(), Some("support chat #2"));
}

#[test]
fn several_baggage_headers_are_one_list() {
    let caller = extract(&[
        "user=alice",
        &format!("session_id={SESSION}, parent_id={PARENT}"),
    ]);
    assert_eq!(caller, context(Some(SESSION), Some(PARENT)));
}

#[test]
fn hostile_header_values_are_ignored_without_panicking() {
    let huge = "x".repeat(1 << 20);
    let late = format!("{}session_id={SESSION}", "k=v,".repeat(3000));
    let cases: Vec<Vec<u8>> = vec![
        b"session_id=\xff\xfe".to_vec(),
        b"\xff=\xff,session_id=\x80".to_vec(),
        format!("session_id={huge}").into_bytes(),
        format!("session_id={SESSION}{huge}").into_bytes(),
        late.into_bytes(),
        b"session_id=%,parent_id=%zz%".to_vec(),
        b"session_id=%FF%FE".to_vec(),
        ",".repeat(1 << 16).into_bytes(),
        b";;;===,,,".to_vec(),
    ];
    for case in &cases {
        let caller = SessionContext::extract(&headers(&[case]));
        assert_eq!(caller.parent_id, None);
        if let Some(id) = &caller.session_id {
            assert!(id.len() < 64, "{id}");
        }
    }
    // Not UTF-8 after decoding: the replacement character, as the specification says.
    let caller = SessionContext::extract(&headers(&[b"session_id=%FF%FEx"]));
    assert_eq!(caller.session_id.as_deref(), Some("\u{FFFD}\u{FFFD}x"));
}

#[test]
fn injecting_writes_both_spellings_and_keeps_the_other_baggage() {
    let mut map = headers(&[
        b"user=alice;p, honeyhive_session_id=stale",
        b"parent_id=stale, source=old",
    ]);
    let mut session = context(Some(SESSION), Some(PARENT));
    session.source = Some("production".into());
    session.inject(&mut map);
    let written: Vec<&HeaderValue> = map.get_all("baggage").iter().collect();
    assert_eq!(written.len(), 1, "one header, all Python's extractor reads");
    assert_eq!(
        written[0],
        &format!(
            "user=alice;p,session_id={SESSION},honeyhive.session_id={SESSION},\
             parent_id={PARENT},source=production,honeyhive.source=production"
        )
    );
    assert_eq!(SessionContext::extract(&map), session);
}

#[test]
fn injecting_without_a_session_leaves_the_headers_alone() {
    let mut map = headers(&[b"user=alice", b"session_id=kept"]);
    let before = map.clone();
    context(None, Some(PARENT)).inject(&mut map);
    context(Some("  "), None).inject(&mut map);
    assert_eq!(map, before);
}

#[test]
fn a_key_that_is_not_a_uuid_is_written_as_the_session_it_names() {
    let mut map = HeaderMap::new();
    context(Some("conversation-7"), None).inject(&mut map);
    let expected = crate::ids::session_id_for_key("conversation-7").to_string();
    assert_eq!(
        SessionContext::extract(&map).session_id.as_deref(),
        Some(expected.as_str())
    );
}

#[test]
fn long_texts_are_cut_at_a_character() {
    let mut session = context(Some(SESSION), None);
    session.session_name = Some("é".repeat(300));
    let mut map = HeaderMap::new();
    session.inject(&mut map);
    let name = SessionContext::extract(&map).session_name.unwrap();
    assert_eq!(name, "é".repeat(128));
}

proptest! {
    #[test]
    fn any_bytes_extract_without_panicking(values in prop::collection::vec(
        prop::collection::vec(any::<u8>(), 0..300), 0..4,
    )) {
        let mut map = HeaderMap::new();
        for value in &values {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                map.append("baggage", value);
            }
        }
        let caller = SessionContext::extract(&map);
        // Whatever was read can be written again and read back the same.
        let mut again = HeaderMap::new();
        caller.inject(&mut again);
        if caller.session_id.as_deref().is_some_and(crate::ids::is_uuid) {
            let read = SessionContext::extract(&again);
            prop_assert_eq!(read.parent_id, caller.parent_id);
            let expected = caller.session_name.as_deref().map(super::cut).map(str::trim);
            prop_assert_eq!(read.session_name.as_deref(), expected.filter(|n| !n.is_empty()));
        }
    }

    #[test]
    fn texts_round_trip(name in "\\PC{1,60}", source in "[ -~]{1,40}") {
        let mut session = context(Some(SESSION), Some(PARENT));
        session.session_name = Some(name.clone());
        session.source = Some(source.clone());
        let mut map = HeaderMap::new();
        session.inject(&mut map);
        let read = SessionContext::extract(&map);
        let trimmed = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
        prop_assert_eq!(read.session_name, trimmed(&name));
        prop_assert_eq!(read.source, trimmed(&source));
        prop_assert_eq!(read.session_id.as_deref(), Some(SESSION));
    }
}
