use serde_json::json;

use super::*;

#[test]
fn times_are_whole_milliseconds_in_any_number_notation() {
    assert_eq!(
        whole_milliseconds("t", "1712025501605").ok(),
        Some(1_712_025_501_605)
    );
    assert_eq!(whole_milliseconds("t", " -5 ").ok(), Some(-5));
    assert_eq!(whole_milliseconds("t", "1.7e3").ok(), Some(1700));
    for (bad, why) in [
        ("now", "is not a number"),
        ("", "is not a number"),
        ("NaN", "is not a number"),
        ("-inf", "is not a number"),
        ("0.5", "not a whole number"),
        ("9.3e18", "out of range"),
    ] {
        let message = whole_milliseconds("start-time", bad).unwrap_err().message;
        assert!(message.starts_with("--start-time: "), "{message}");
        assert!(message.contains(why), "{bad}: {message}");
    }
}

#[test]
fn a_flag_value_becomes_the_kind_its_schema_names() {
    let of = |kind: &str, raw: &str| convert("f", raw, &json!({ "type": kind }));
    assert_eq!(of("string", "{not json}").ok(), Some(json!("{not json}")));
    assert_eq!(of("integer", "12").ok(), Some(json!(12)));
    assert_eq!(of("number", "12").ok(), Some(json!(12)));
    assert_eq!(of("number", "2.5").ok(), Some(json!(2.5)));
    assert_eq!(of("object", r#"{"a": [1]}"#).ok(), Some(json!({"a": [1]})));
    assert_eq!(of("array", "[]").ok(), Some(json!([])));
    let message = of("object", "{\n\"a\" 1}").unwrap_err().message;
    assert_eq!(
        message,
        "--f: invalid JSON at line 2, column 5: expected `:`"
    );
}

#[test]
fn paths_and_kinds_read_as_a_person_writes_them() {
    let segments = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        path(&segments(&["events", "0", "inputs"])),
        "events[0].inputs"
    );
    assert_eq!(path(&segments(&["0", "event_type"])), "[0].event_type");
    assert_eq!(kinds(&json!(["string", "null"])), "a string or null");
    assert_eq!(kind_of(&json!([1])), "an array ([1])");
    assert_eq!(kind_of(&Value::Null), "null");
    assert_eq!(quote(&"x".repeat(100)).chars().count(), QUOTE_CHARS);
}

#[test]
fn input_is_read_up_to_the_limit_and_refused_one_byte_past_it() {
    assert_eq!(read_bounded(&b"abcd"[..], 4).ok().as_deref(), Some("abcd"));
    assert_eq!(read_bounded(&b""[..], 0).ok().as_deref(), Some(""));
    assert!(matches!(
        read_bounded(&b"abcde"[..], 4),
        Err(Unread::TooLarge)
    ));
    // An endless reader stops at the limit.
    assert!(matches!(
        read_bounded(std::io::repeat(b' '), 1024),
        Err(Unread::TooLarge)
    ));
    let invalid = read_bounded(&[0xff, 0xfe][..], 4).unwrap_err();
    assert!(matches!(&invalid, Unread::Io(e) if e.to_string().contains("valid UTF-8")));
}
