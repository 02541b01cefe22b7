//! Attribute names, interned. OpenTelemetry's `Key` cannot lend its text for `'static`, so each
//! name would otherwise be copied for every attribute of every span converted. An application
//! uses few distinct names, so each is copied once, for the life of the process: at most
//! [`MAX_NAMES`] names of at most [`MAX_NAME_BYTES`] bytes (under 128 KiB in all). A name beyond
//! either bound is copied per use, as before.

use std::sync::{LazyLock, RwLock};

use foldhash::HashSet;

use crate::recorded::Name;

/// The most names interned.
pub(crate) const MAX_NAMES: usize = 1024;
/// The longest name interned.
pub(crate) const MAX_NAME_BYTES: usize = 96;

static NAMES: LazyLock<RwLock<HashSet<&'static str>>> = LazyLock::new(Default::default);

/// `name` as the neutral form's name: borrowed from the interned copy when there is one (or
/// room for one), else owned.
pub(crate) fn intern(name: &str) -> Name {
    if name.len() > MAX_NAME_BYTES {
        return Name::Owned(name.to_owned());
    }
    let known = NAMES.read().unwrap_or_else(|e| e.into_inner());
    if let Some(interned) = known.get(name) {
        return Name::Borrowed(interned);
    }
    drop(known);
    let mut known = NAMES.write().unwrap_or_else(|e| e.into_inner());
    if let Some(interned) = known.get(name) {
        return Name::Borrowed(interned);
    }
    if known.len() >= MAX_NAMES {
        return Name::Owned(name.to_owned());
    }
    let interned: &'static str = Box::leak(name.into());
    known.insert(interned);
    Name::Borrowed(interned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_copied_once_and_bounds_hold() {
        let (Name::Borrowed(first), Name::Borrowed(again)) =
            (intern("names.test.key"), intern("names.test.key"))
        else {
            panic!("a short name is interned");
        };
        assert!(std::ptr::eq(first, again), "the same copy both times");
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        assert!(matches!(intern(&long), Name::Owned(n) if n == long));
        // Fill what is left of the table: every name stays right, borrowed or owned.
        for i in 0..MAX_NAMES + 8 {
            let name = format!("names.test.{i}");
            assert_eq!(intern(&name), name.as_str());
        }
        assert!(NAMES.read().unwrap().len() <= MAX_NAMES);
        assert!(matches!(intern("names.test.overflow"), Name::Owned(_)));
    }
}
