//! The procedural macros of [tracing-honeyhive](https://docs.rs/tracing-honeyhive): `#[trace]`
//! and `traced!`. Use them through `tracing_honeyhive::trace` and `tracing_honeyhive::traced!`,
//! where they are documented: the expansion calls functions of that crate
//! (`tracing_honeyhive::__private`), and only declares a `tracing` span and passes values.

mod block;
mod function;
mod options;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{ItemFn, LitStr, parse_macro_input};

use options::Options;

/// Traces a function the HoneyHive way: see `tracing_honeyhive::trace`.
#[proc_macro_attribute]
pub fn trace(args: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse_macro_input!(args as options::FunctionOptions).0;
    let item = parse_macro_input!(item as ItemFn);
    function::expand(options, item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Traces a closure, an async block or a stream: see `tracing_honeyhive::traced`.
#[proc_macro]
pub fn traced(input: TokenStream) -> TokenStream {
    let call = parse_macro_input!(input as block::Traced);
    block::expand(call)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The main crate, as the application names it.
fn krate() -> Tokens {
    quote!(::tracing_honeyhive)
}

/// What is traced: a call, which ends when it returns, or a future or a stream, which may also
/// be dropped before its end (cancelled).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Call,
    Future,
    Stream,
}

/// The span of a traced call: the fields the runtime records into, declared empty, then the
/// user's own.
fn span_expr(options: &Options, name: &LitStr, krate: &Tokens, kind: Kind) -> Tokens {
    let level = options.level(krate);
    let target = match &options.target {
        Some(target) => quote!(#target),
        None => quote!(::core::module_path!()),
    };
    let event_type = options
        .event_type
        .as_ref()
        .map(|t| quote!(honeyhive.event_type = #t,));
    let empty = quote!(#krate::__private::tracing::field::Empty);
    let cancelled = (kind != Kind::Call).then(|| quote!(metadata.cancelled = #empty,));
    let items = (kind == Kind::Stream).then(|| quote!(metadata.stream_items = #empty,));
    let fields = &options.fields;
    quote! {
        #krate::__private::tracing::span!(
            target: #target,
            #level,
            #name,
            #event_type
            honeyhive.inputs = #krate::__private::tracing::field::Empty,
            honeyhive.outputs = #krate::__private::tracing::field::Empty,
            error = #krate::__private::tracing::field::Empty,
            metadata.error_type = #krate::__private::tracing::field::Empty,
            metadata.omitted = #krate::__private::tracing::field::Empty,
            #cancelled
            #items
            #(#fields,)*
        )
    }
}

/// The end of an expansion: `body` bound, the way its result is recorded chosen by its type
/// (through the probe function `probe`), and the call made by `Call::<method>` — awaited for
/// an `async fn`.
fn run_body(
    krate: &Tokens,
    body: Tokens,
    probe: &str,
    method: &str,
    ret: bool,
    awaited: bool,
) -> Tokens {
    let dispatch = output_dispatch(krate);
    let probe = syn::Ident::new(probe, proc_macro2::Span::call_site());
    let method = syn::Ident::new(method, proc_macro2::Span::call_site());
    let awaited = awaited.then(|| quote!(.await));
    // Each reference of `&&&…probe(..)` counts: the first impl found with that many chooses.
    quote! {
        let __hh_body = #body;
        #[allow(clippy::needless_borrow)]
        let __hh_render = {
            #dispatch
            (&&&&&&&&&&&&#krate::__private::#probe(&__hh_body)).hh_output()
        };
        __hh_call.#method(__hh_body, __hh_render, #ret) #awaited
    }
}

/// The traits that choose, by the type of a result, how it is recorded (most specific first).
fn output_dispatch(krate: &Tokens) -> Tokens {
    quote! {
        #[allow(unused_imports)]
        use #krate::__private::{
            Output01 as _, Output02 as _, Output03 as _, Output04 as _, Output05 as _,
            Output06 as _, Output07 as _, Output08 as _, Output09 as _, Output10 as _,
            Output11 as _, Output12 as _,
        };
    }
}
