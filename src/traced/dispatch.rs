//! How a value is recorded is chosen by its type where the macro expands, without the user
//! choosing: JSON through serde where the type is `Serialize`, its `Debug` text where it is only
//! `Debug`, left out (and named) where it is neither; for a `Result`, the `Ok` value so, and the
//! `Err` as the error.
//!
//! The choice is made at compile time by method resolution on references ("autoref
//! specialisation"): `(&&&probe(&x)).hh_input()` finds the first of the traits below whose
//! receiver, with that many references, has an impl for `x`'s type. It yields a plain function
//! pointer ([`Render`]), which generic code (a future, a stream) can keep and call.

use std::fmt::{Debug, Display};
use std::marker::PhantomData;

use serde::Serialize;

use super::capture::Render;

/// The type a value has, to choose how it is recorded.
#[doc(hidden)]
pub struct Probe<T: ?Sized>(PhantomData<fn(&T)>);

/// The probe of `value`'s type.
#[doc(hidden)]
pub fn probe<T: ?Sized>(_: &T) -> Probe<T> {
    Probe(PhantomData)
}

/// The probe of what a closure returns.
#[doc(hidden)]
pub fn probe_return<R, F: FnOnce() -> R>(_: &F) -> Probe<R> {
    Probe(PhantomData)
}

/// The probe of what a future gives.
#[doc(hidden)]
pub fn probe_output<F: std::future::Future>(_: &F) -> Probe<F::Output> {
    Probe(PhantomData)
}

/// The probe of a stream's items.
#[doc(hidden)]
pub fn probe_item<S: futures_util::Stream>(_: &S) -> Probe<S::Item> {
    Probe(PhantomData)
}

/// `f`, its result declared as the function's return type, so that the body is inferred as the
/// signature has it (a `?` converts into the declared error).
#[doc(hidden)]
pub fn returning<R, F: FnOnce() -> R>(f: F) -> F {
    f
}

/// `f`, its output declared as the async function's return type.
#[doc(hidden)]
pub fn returning_future<R, F: std::future::Future<Output = R>>(f: F) -> F {
    f
}

// An argument: JSON, else `Debug`, else left out.

#[doc(hidden)]
pub trait InputSerde {
    type Value: ?Sized;
    fn hh_input(&self) -> Render<Self::Value>;
}
impl<T: Serialize + ?Sized> InputSerde for &&Probe<T> {
    type Value = T;
    fn hh_input(&self) -> Render<T> {
        |value, sink| sink.serde(value)
    }
}

#[doc(hidden)]
pub trait InputDebug {
    type Value: ?Sized;
    fn hh_input(&self) -> Render<Self::Value>;
}
impl<T: Debug + ?Sized> InputDebug for &Probe<T> {
    type Value = T;
    fn hh_input(&self) -> Render<T> {
        |value, sink| sink.debug(value)
    }
}

#[doc(hidden)]
pub trait InputNone {
    type Value: ?Sized;
    fn hh_input(&self) -> Render<Self::Value>;
}
impl<T: ?Sized> InputNone for Probe<T> {
    type Value = T;
    fn hh_input(&self) -> Render<T> {
        |value, sink| sink.omitted(value)
    }
}

// A result: a `Result` by its `Ok` value (JSON, `Debug`, left out) and its `Err` (`Display`,
// `Debug`, its type), else the value as an argument is recorded.

macro_rules! output_level {
    ($trait:ident, [$($refs:tt)*], <$($param:ident $(: $bound:path)?),*> $ty:ty => $render:expr) => {
        #[doc(hidden)]
        pub trait $trait {
            type Value;
            fn hh_output(&self) -> Render<Self::Value>;
        }
        impl<$($param $(: $bound)?),*> $trait for $($refs)* Probe<$ty> {
            type Value = $ty;
            fn hh_output(&self) -> Render<$ty> {
                $render
            }
        }
    };
}

macro_rules! result_level {
    ($trait:ident, [$($refs:tt)*], <T $(: $tb:path)?, E $(: $eb:path)?>, $ok:ident, $err:ident) => {
        output_level!($trait, [$($refs)*], <T $(: $tb)?, E $(: $eb)?> Result<T, E> =>
            |value, sink| match value {
                Ok(value) => sink.$ok(value),
                Err(error) => sink.$err(error),
            });
    };
}

result_level!(Output01, [&&&&&&&&&&&], <T: Serialize, E: Display>, serde, error_display);
result_level!(Output02, [&&&&&&&&&&], <T: Debug, E: Display>, debug, error_display);
result_level!(Output03, [&&&&&&&&&], <T, E: Display>, omitted, error_display);
result_level!(Output04, [&&&&&&&&], <T: Serialize, E: Debug>, serde, error_debug);
result_level!(Output05, [&&&&&&&], <T: Debug, E: Debug>, debug, error_debug);
result_level!(Output06, [&&&&&&], <T, E: Debug>, omitted, error_debug);
result_level!(Output07, [&&&&&], <T: Serialize, E>, serde, error_opaque);
result_level!(Output08, [&&&&], <T: Debug, E>, debug, error_opaque);
result_level!(Output09, [&&&], <T, E>, omitted, error_opaque);
output_level!(Output10, [&&], <T: Serialize> T => |value, sink| sink.serde(value));
output_level!(Output11, [&], <T: Debug> T => |value, sink| sink.debug(value));
output_level!(Output12, [], <T> T => |value, sink| sink.omitted(value));
