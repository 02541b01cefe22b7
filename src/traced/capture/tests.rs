// The autoref dispatch is the point of these tests: every reference is needed to choose.
#![allow(clippy::needless_borrow)]

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use super::*;

fn written<'a>(
    mode: Mode,
    write: impl FnOnce(&mut Sink<'_>) -> Outcome<'a>,
) -> (Outcome<'a>, String) {
    let mut buf = Vec::new();
    let outcome = write(&mut Sink::new(&mut buf, mode, 0));
    (outcome, String::from_utf8(buf).unwrap())
}

#[test]
fn text_is_escaped_as_json_reads_it() {
    let text = "quote \" backslash \\ newline \n tab \t bell \u{7} é 🦀";
    let mut buf = Vec::new();
    write_json_str(&mut buf, text);
    let parsed: String = serde_json::from_slice(&buf).unwrap();
    assert_eq!(parsed, text);
}

#[test]
fn a_serializable_value_is_json_and_a_unit_leaves_nothing() {
    let (outcome, json) = written(Mode::Content, |s| s.serde(&vec![1, 2]));
    assert_eq!((outcome, json.as_str()), (Outcome::Value, "[1,2]"));
    let (outcome, json) = written(Mode::Content, |s| s.serde(&()));
    assert_eq!((outcome, json.as_str()), (Outcome::Unit, ""));
    // `None` is not of zero size: it is a value, `null`.
    let (outcome, json) = written(Mode::Content, |s| s.serde(&None::<u8>));
    assert_eq!((outcome, json.as_str()), (Outcome::Value, "null"));
}

#[test]
fn hidden_content_serialises_nothing_and_skip_writes_nothing() {
    struct Counted(#[allow(dead_code)] u8);
    impl Serialize for Counted {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            panic!("serialised although content is hidden");
        }
    }
    let (outcome, json) = written(Mode::Hidden, |s| s.serde(&Counted(1)));
    assert_eq!((outcome, json.as_str()), (Outcome::Value, "\"[hidden]\""));
    let (outcome, json) = written(Mode::Skip, |s| s.serde(&Counted(1)));
    assert_eq!((outcome, json.as_str()), (Outcome::Value, ""));
}

#[test]
fn a_failing_or_panicking_serialize_is_a_marker_never_a_panic() {
    let mut map = BTreeMap::new();
    map.insert(vec![1u8], 1);
    let (_, json) = written(Mode::Content, |s| s.serde(&map));
    let text: String = serde_json::from_str(&json).unwrap();
    assert!(
        text.starts_with("[not serialisable: key must be a string"),
        "{text}"
    );

    struct Panics;
    impl Serialize for Panics {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            panic!("boom");
        }
    }
    let (_, json) = written(Mode::Content, |s| s.serde(&Panics));
    assert_eq!(json, "\"[not serialisable: its Serialize panicked]\"");
}

#[test]
fn a_value_larger_than_an_event_is_fitted_largest_parts_first() {
    let big =
        serde_json::json!({"small": "kept", "large": "x".repeat(2 * limits::MAX_EVENT_BYTES)});
    let (outcome, json) = written(Mode::Content, |s| s.serde(&big));
    assert_eq!(outcome, Outcome::Value);
    assert!(json.len() < limits::MAX_EVENT_BYTES, "{}", json.len());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["small"], "kept");
    assert!(value["large"].as_str().unwrap().len() < 1000, "{value}");
}

#[test]
fn a_debug_text_is_a_json_string_cut_at_the_field_limit() {
    let (_, json) = written(Mode::Content, |s| s.debug(&Some("a\"b")));
    assert_eq!(
        serde_json::from_str::<String>(&json).unwrap(),
        "Some(\"a\\\"b\")"
    );
    let long = "y".repeat(FIELD_BYTES + 10);
    let (_, json) = written(Mode::Content, |s| s.debug(&long));
    let text: String = serde_json::from_str(&json).unwrap();
    assert!(
        text.ends_with("…[truncated 12 bytes]"),
        "{}",
        &text[text.len() - 40..]
    );
}

#[test]
fn errors_keep_their_text_and_type_and_a_panicking_display_is_a_marker() {
    let error = std::io::Error::other("disk full");
    let (outcome, _) = written(Mode::Content, |s| s.error_display(&error));
    let Outcome::Error {
        error: text,
        type_name,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (text.to_string().as_str(), type_name),
        ("disk full", "std::io::error::Error")
    );

    struct Opaque;
    let (outcome, _) = written(Mode::Content, |s| s.error_opaque(&Opaque));
    let Outcome::Error { error: text, .. } = outcome else {
        panic!("{outcome:?}")
    };
    let text = text.to_string();
    assert!(
        text.starts_with("an error of type ") && text.ends_with("Opaque"),
        "{text}"
    );

    struct Panics;
    impl std::fmt::Display for Panics {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("boom")
        }
    }
    let (outcome, _) = written(Mode::Content, |s| s.error_display(&Panics));
    let Outcome::Error { error: text, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        text.to_string(),
        "[not recordable: its formatting panicked]"
    );
}

#[test]
fn the_dispatch_chooses_by_type_most_specific_first() {
    #[derive(Debug)]
    struct D;
    struct N;
    fn kind<T>(render: Render<T>, value: &T) -> (Outcome<'_>, String) {
        written(Mode::Content, |s| render(value, s))
    }
    use crate::traced::__private::*;
    let v = 5u8;
    assert_eq!(kind((&&&probe(&v)).hh_input(), &v).1, "5");
    assert_eq!(kind((&&&probe(&D)).hh_input(), &D).1, "\"D\"");
    assert_eq!(kind((&&&probe(&N)).hh_input(), &N).0, Outcome::Omitted);

    let ok: Result<u8, std::io::Error> = Ok(3);
    assert_eq!(kind((&&&&&&&&&&&&probe(&ok)).hh_output(), &ok).1, "3");
    let err: Result<D, N> = Err(N);
    assert!(matches!(
        kind((&&&&&&&&&&&&probe(&err)).hh_output(), &err).0,
        Outcome::Error { .. }
    ));
    let debug_err: Result<N, D> = Err(D);
    let (outcome, _) = kind((&&&&&&&&&&&&probe(&debug_err)).hh_output(), &debug_err);
    let Outcome::Error { error, type_name } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (error.to_string().as_str(), type_name),
        ("D", std::any::type_name::<D>())
    );
    assert_eq!(
        kind((&&&&&&&&&&&&probe(&N)).hh_output(), &N).0,
        Outcome::Omitted
    );
    assert_eq!(kind((&&&&&&&&&&&&probe(&D)).hh_output(), &D).1, "\"D\"");
}
