//! The W3C `baggage` header (<https://www.w3.org/TR/baggage/>), read leniently and written
//! strictly. Pure functions over header bytes: no input, however hostile (not UTF-8, huge,
//! malformed percent-encoding, a million commas), panics or costs more than a pass over the
//! first [`MAX_BYTES`].

use std::borrow::Cow;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// The most bytes of baggage read, over all the `baggage` headers of a request, and written:
/// the specification's limit, up to which every platform must propagate baggage (OpenTelemetry's
/// Python propagator drops a longer header whole).
pub(crate) const MAX_BYTES: usize = 8192;

/// The most members read: the grammar's 180.
const MAX_MEMBERS_READ: usize = 180;

/// The most members written: the specification's 64.
const MAX_MEMBERS_WRITTEN: usize = 64;

/// A longer member is skipped, as OpenTelemetry's Python propagator skips it.
const MAX_MEMBER_BYTES: usize = 4096;

/// What a written value never carries raw: everything outside `baggage-octet`, the percent
/// sign, `=` (allowed, but some readers split at every `=`) and `+` (which HoneyHive's Python SDK
/// reads as a space, through OpenTelemetry's `unquote_plus`). Bytes past ASCII are always
/// encoded.
const ESCAPED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%')
    .add(b'=')
    .add(b'+');

/// One list member as sent: its key, its value still percent-encoded, its properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member<'a> {
    pub(crate) key: &'a str,
    /// Trimmed, still encoded: see [`decode`] and [`decode_plus`].
    pub(crate) value: &'a str,
    /// The properties after the first `;`, trimmed, or empty.
    pub(crate) properties: &'a str,
}

/// The members of a request's `baggage` header values, in order. Members past [`MAX_BYTES`]
/// or the 180th, longer than 4 KiB, not UTF-8, without `=` or whose key is not a token are left
/// out; whitespace around keys, values and properties is not part of them.
pub(crate) fn members<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Vec<Member<'a>> {
    let mut found = Vec::new();
    let mut budget = MAX_BYTES;
    for value in values {
        for raw in value.split(|&b| b == b',') {
            // An empty member costs a byte too, so that commas alone cannot run on.
            let Some(left) = budget.checked_sub(raw.len().max(1)) else {
                return found;
            };
            budget = left;
            if let Some(member) = member(raw) {
                found.push(member);
                if found.len() == MAX_MEMBERS_READ {
                    return found;
                }
            }
        }
    }
    found
}

/// One member, if it is one.
fn member(raw: &[u8]) -> Option<Member<'_>> {
    if raw.len() > MAX_MEMBER_BYTES {
        return None;
    }
    let text = std::str::from_utf8(raw).ok()?;
    let (pair, properties) = text.split_once(';').unwrap_or((text, ""));
    let (key, value) = pair.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.bytes().all(is_tchar) {
        return None;
    }
    Some(Member {
        key,
        value: value.trim(),
        properties: properties.trim(),
    })
}

/// Whether `byte` may be part of a key (`tchar`, RFC 7230 §3.2.6).
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// A value as the specification decodes it: percent-encoded bytes decoded, a sequence that is
/// not UTF-8 replaced by U+FFFD, a malformed `%` kept as it is, `+` a plus sign.
pub(crate) fn decode(value: &str) -> Cow<'_, str> {
    percent_decode_str(value).decode_utf8_lossy()
}

/// A value as HoneyHive's Python SDK encodes it (OpenTelemetry's `quote_plus`): as [`decode`],
/// but `+` is a space.
pub(crate) fn decode_plus(value: &str) -> Cow<'_, str> {
    if !value.contains('+') {
        return decode(value);
    }
    Cow::Owned(decode(&value.replace('+', " ")).into_owned())
}

/// `key=value`, the value percent-encoded; `None` for a key that is not a token.
pub(crate) fn encode(key: &str, value: &str) -> Option<String> {
    if key.is_empty() || !key.bytes().all(is_tchar) {
        return None;
    }
    let mut member = String::with_capacity(key.len() + 1 + value.len());
    member.push_str(key);
    member.push('=');
    member.extend(utf8_percent_encode(value, ESCAPED));
    Some(member)
}

/// The value of a `baggage` header: the members of the `existing` header values that parse and
/// whose key `keep` accepts, as they were sent, then `entries` (encoded members). Within the
/// specification's limits: `entries` first, then as many of the others, in order, as fit.
pub(crate) fn merge<'a>(
    existing: impl IntoIterator<Item = &'a [u8]>,
    keep: impl Fn(&str) -> bool,
    entries: &[String],
) -> String {
    let ours: usize = entries.iter().map(|e| e.len() + 1).sum();
    let mut room = MAX_BYTES.saturating_sub(ours);
    let mut slots = MAX_MEMBERS_WRITTEN.saturating_sub(entries.len());
    let mut merged = String::with_capacity(ours);
    for value in existing {
        for raw in value.split(|&b| b == b',') {
            if slots == 0 {
                break;
            }
            // Printable ASCII only: what a header value may hold and baggage is made of.
            if !raw.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)) {
                continue;
            }
            let Some(member) = member(raw) else {
                continue;
            };
            if !keep(member.key) {
                continue;
            }
            let text = std::str::from_utf8(raw).unwrap_or_default().trim();
            if text.len() + 1 > room {
                continue;
            }
            room -= text.len() + 1;
            slots -= 1;
            push(&mut merged, text);
        }
    }
    for entry in entries {
        push(&mut merged, entry);
    }
    merged
}

fn push(list: &mut String, member: &str) {
    if !list.is_empty() {
        list.push(',');
    }
    list.push_str(member);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_values(header: &str) -> Vec<(String, String)> {
        members([header.as_bytes()])
            .into_iter()
            .map(|m| (m.key.to_owned(), decode(m.value).into_owned()))
            .collect()
    }

    #[test]
    fn members_are_read_as_the_specification_writes_them() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let table: &[(&str, &[(&str, &str)])] = &[
            ("session_id=abc", &[("session_id", "abc")]),
            (
                "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
                &[("key1", "value1"), ("key2", "value2"), ("key3", "value3")],
            ),
            (
                "userId=Am%C3%A9lie,serverNode=DF%2028",
                &[("userId", "Amélie"), ("serverNode", "DF 28")],
            ),
            (" \t k \t = \t v \t ", &[("k", "v")]),
            ("k=a=b==", &[("k", "a=b==")]),
            ("k=", &[("k", "")]),
            ("k=1+1", &[("k", "1+1")]),
            // Malformed percent-encoding stays as it was; bytes that are not UTF-8 become U+FFFD.
            (
                "k=100%,j=%zz%4,i=%",
                &[("k", "100%"), ("j", "%zz%4"), ("i", "%")],
            ),
            ("k=%FF%FEok", &[("k", "\u{FFFD}\u{FFFD}ok")]),
            // Not members: no `=`, an empty or invalid key; the others still are.
            ("novalue,=v,bad key=v,(k)=v,ok=1", &[("ok", "1")]),
            (",,, ,ok=1,", &[("ok", "1")]),
            ("", &[]),
            (";=;", &[]),
        ];
        for (header, expected) in table {
            assert_eq!(keys_values(header), pairs(expected), "{header:?}");
        }
    }

    #[test]
    fn properties_are_kept_apart_from_the_value() {
        let found = members([b"k = v ; p1 ; p2=x".as_slice()]);
        assert_eq!(
            found,
            [Member {
                key: "k",
                value: "v",
                properties: "p1 ; p2=x"
            }]
        );
    }

    #[test]
    fn several_headers_are_one_list() {
        let found = members([b"a=1".as_slice(), b"b=2, c=3".as_slice()]);
        let keys: Vec<&str> = found.iter().map(|m| m.key).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn hostile_input_is_passed_over_without_panicking() {
        let huge = "x".repeat(1 << 20);
        let many = "k=v,".repeat(100_000);
        let commas = ",".repeat(1 << 20);
        let cases: Vec<Vec<u8>> = vec![
            vec![0xff, 0xfe, b'=', 0x80],
            b"k=\xff\xfe".to_vec(),
            format!("big={huge}").into_bytes(),
            format!("{huge}=1,ok=1").into_bytes(),
            many.clone().into_bytes(),
            commas.into_bytes(),
            b"k=%".to_vec(),
            b"k=%%%%%%%%".to_vec(),
            b"\0=\0,k=\0".to_vec(),
            "k=\u{202e}\u{0}".as_bytes().to_vec(),
        ];
        for case in &cases {
            let found = members([case.as_slice()]);
            for member in &found {
                let _ = decode(member.value);
                let _ = decode_plus(member.value);
            }
            assert!(found.len() <= MAX_MEMBERS_READ);
        }
        assert_eq!(keys_values(&format!("big={huge}")), []);
        assert_eq!(members([many.as_bytes()]).len(), MAX_MEMBERS_READ);
        // Past the byte budget, nothing more is read.
        let late = format!("{},session_id=s", "k=v,".repeat(4096));
        assert!(members([late.as_bytes()]).iter().all(|m| m.key == "k"));
    }

    #[test]
    fn plus_is_a_space_only_where_the_python_sdk_put_it() {
        assert_eq!(decode("support+chat"), "support+chat");
        assert_eq!(decode_plus("support+chat"), "support chat");
        assert_eq!(decode_plus("a%2Bb+c"), "a+b c");
        assert_eq!(decode_plus("plain"), "plain");
    }

    #[test]
    fn written_values_are_encoded_so_that_every_reader_gets_them_back() {
        let value = "support chat, \"v2\"; 50% = ½+";
        let member = encode("session_name", value).unwrap();
        assert!(
            member["session_name=".len()..]
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b",;\"\\=+ ".contains(&b)),
            "{member}"
        );
        let read = members([member.as_bytes()]);
        assert_eq!(decode(read[0].value), value);
        assert_eq!(
            decode_plus(read[0].value),
            value,
            "as Python's unquote_plus"
        );
        assert_eq!(encode("bad key", "v"), None);
        assert_eq!(encode("", "v"), None);
    }

    #[test]
    fn merging_keeps_the_other_members_and_replaces_ours() {
        let ours = vec![encode("session_id", "s").unwrap()];
        let merged = merge(
            [
                b"user=alice;p, session_id=old".as_slice(),
                b"other = x ".as_slice(),
            ],
            |key| key != "session_id",
            &ours,
        );
        assert_eq!(merged, "user=alice;p,other = x,session_id=s");
        assert_eq!(merge([], |_| true, &ours), "session_id=s");
        // Members that do not parse or could not be sent are dropped.
        let merged = merge(
            [b"broken, ok=1,k=\xff".as_slice(), b"=x".as_slice()],
            |_| true,
            &ours,
        );
        assert_eq!(merged, "ok=1,session_id=s");
    }

    #[test]
    fn merging_stays_within_the_limits_giving_ours_priority() {
        let ours = vec![encode("session_id", "s").unwrap()];
        let crowd = "k=v,".repeat(100);
        let merged = merge([crowd.as_bytes()], |_| true, &ours);
        assert_eq!(merged.split(',').count(), MAX_MEMBERS_WRITTEN);
        assert!(merged.ends_with("session_id=s"));
        let big = format!("a={},b={}", "x".repeat(4000), "y".repeat(4000));
        let more = format!("c={}", "z".repeat(4000));
        let merged = merge([big.as_bytes(), more.as_bytes()], |_| true, &ours);
        assert!(merged.len() <= MAX_BYTES, "{}", merged.len());
        assert!(merged.starts_with("a=") && merged.ends_with(",session_id=s"));
        assert!(!merged.contains("c="));
    }
}
