//! Deterministic session ids: a grouping key names the same session every time it is given, in
//! every process, so that several requests of one conversation become one session.
//!
//! A key that is a UUID is the session id itself (lowercased). Any other key — a conversation id,
//! a chat thread's name, a user's session token — becomes the name-based (version 5) UUID of the
//! key in the URL namespace, `uuid5(NAMESPACE_URL, key)`: the derivation HoneyHive's guides give
//! every language, so that a Python, a TypeScript and a Rust service keyed by the same
//! conversation id land in one session. It is valid where HoneyHive requires a UUID and never
//! collides with a random one.
//!
//! Trace and span ids of the OpenTelemetry exporter are derived in this crate's own
//! [`NAMESPACE`].
//!
//! ```
//! use tracing_honeyhive::ids::session_id_for_key;
//!
//! let id = session_id_for_key("conversation-4711");
//! assert_eq!(id, session_id_for_key("conversation-4711"), "the same key, the same session");
//! assert_eq!(id.get_version_num(), 5);
//! let given = "6F2C1A9E-4B1D-4C3E-9A57-0D2F8E1B7C44";
//! assert_eq!(session_id_for_key(given).to_string(), given.to_lowercase());
//! ```

use uuid::Uuid;

/// The namespace of the UUIDs this crate derives: the version 5 UUID of the URL
/// `https://github.com/tracing-honeyhive/tracing-honeyhive/ids`.
pub const NAMESPACE: Uuid = uuid::uuid!("06701b46-06d5-5d7c-ba89-3b5d1530679c");

/// The session id a grouping key names: the key when it is a UUID (surrounding whitespace
/// ignored), else `uuid5(NAMESPACE_URL, key)` of the key exactly as given, as HoneyHive's SDKs
/// derive it in every language.
///
/// Sessions keyed before version 0.2 were derived in this crate's own namespace
/// (`uuid5(NAMESPACE, "session:" + key)`): a conversation that began before the upgrade
/// continues in a new session after it. The key itself stays in the session's metadata
/// (`honeyhive.session_key`), where both can be found.
pub fn session_id_for_key(key: &str) -> Uuid {
    Uuid::parse_str(key.trim())
        .unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_URL, key.as_bytes()))
}

/// The session an OpenTelemetry trace becomes: the version 5 UUID of `trace:{trace id}` in
/// [`NAMESPACE`], the trace id as 32 lowercase hex digits. Every exporter of every service
/// derives the same id from the same trace.
pub fn session_id_for_trace(trace_id: [u8; 16]) -> Uuid {
    let mut name = [0u8; 6 + 32];
    name[..6].copy_from_slice(b"trace:");
    hex(&trace_id, &mut name[6..]);
    Uuid::new_v5(&NAMESPACE, &name)
}

/// `bytes` as lowercase hex digits into `out` (twice as long), without formatting machinery:
/// every exported span derives two ids.
fn hex(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
}

/// The event an OpenTelemetry span becomes: the version 5 UUID of `span:{trace id}{span id}` in
/// [`NAMESPACE`] (32 and 16 lowercase hex digits), so that a child names its parent's event
/// before the parent has been seen.
///
/// ```
/// use tracing_honeyhive::ids::{event_id_for_span, session_id_for_trace};
///
/// let trace = 0x4bf92f3577b34da6a3ce929d0e0e4736_u128.to_be_bytes();
/// let span = 0x00f067aa0ba902b7_u64.to_be_bytes();
/// assert_eq!(event_id_for_span(trace, span), event_id_for_span(trace, span));
/// assert_ne!(event_id_for_span(trace, span).to_string(), session_id_for_trace(trace).to_string());
/// ```
pub fn event_id_for_span(trace_id: [u8; 16], span_id: [u8; 8]) -> Uuid {
    let mut name = [0u8; 5 + 32 + 16];
    name[..5].copy_from_slice(b"span:");
    hex(&trace_id, &mut name[5..37]);
    hex(&span_id, &mut name[37..]);
    Uuid::new_v5(&NAMESPACE, &name)
}

/// Whether `key` is a UUID, used as it is.
pub(crate) fn is_uuid(key: &str) -> bool {
    Uuid::parse_str(key.trim()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `str(uuid.uuid5(uuid.NAMESPACE_URL, "conversation-1"))`, computed with CPython 3.
    const PYTHON_CONVERSATION_1: &str = "71b2ddd8-44d4-5470-bf3c-f6e30ee9c9e0";

    #[test]
    fn the_namespace_is_the_documented_name_based_uuid() {
        let url = "https://github.com/tracing-honeyhive/tracing-honeyhive/ids";
        assert_eq!(
            NAMESPACE,
            Uuid::new_v5(&Uuid::NAMESPACE_URL, url.as_bytes())
        );
    }

    #[test]
    fn keys_map_to_stable_distinct_version_5_uuids() {
        let a = session_id_for_key("conversation-1");
        let b = session_id_for_key("conversation-2");
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 5);
        // Pinned to the value Python's `uuid.uuid5(uuid.NAMESPACE_URL, "conversation-1")` gives,
        // so that a change of scheme cannot pass unnoticed: a Python or TypeScript service keyed
        // by the same id must land in the same session.
        assert_eq!(a.to_string(), PYTHON_CONVERSATION_1);
        assert_ne!(
            a,
            session_id_for_key(" conversation-1"),
            "the key is taken exactly as given, as the other SDKs take it"
        );
        assert!(!is_uuid("conversation-1"));
    }

    #[test]
    fn trace_and_span_ids_are_pinned() {
        let trace = 0x4bf92f3577b34da6a3ce929d0e0e4736_u128.to_be_bytes();
        let span = 0x00f067aa0ba902b7_u64.to_be_bytes();
        assert_eq!(
            session_id_for_trace(trace),
            Uuid::new_v5(&NAMESPACE, b"trace:4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(
            event_id_for_span(trace, span),
            Uuid::new_v5(
                &NAMESPACE,
                b"span:4bf92f3577b34da6a3ce929d0e0e473600f067aa0ba902b7"
            )
        );
    }

    #[test]
    fn a_uuid_key_is_the_session_id_itself() {
        let id = Uuid::new_v4();
        assert_eq!(session_id_for_key(&id.to_string().to_uppercase()), id);
        assert!(is_uuid(&id.to_string()));
    }
}
