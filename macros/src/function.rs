//! `#[trace]` on a function: its body runs in a `tracing` span whose arguments and result are
//! recorded by `tracing_honeyhive::__private`, the ordinary, tested functions of the main crate.

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, LitStr, Pat, ReturnType, Type};

use crate::options::Options;
use crate::{Kind, krate, run_body, span_expr};

pub(crate) fn expand(options: Options, item: ItemFn) -> syn::Result<TokenStream> {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = item;
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new(
            constness.span(),
            "#[trace] cannot trace a `const fn`: a span is not a constant",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "#[trace] cannot trace a variadic function",
        ));
    }
    let krate = krate();
    let bindings = arguments(&sig.inputs);
    for skipped in &options.skip {
        if !bindings.iter().any(|b| b.unraw_eq(skipped)) {
            return Err(syn::Error::new(
                skipped.span(),
                format!("`skip` names `{skipped}`, which is not an argument of this function"),
            ));
        }
    }
    let captured: Vec<&Ident> = if options.skip_all {
        Vec::new()
    } else {
        bindings
            .iter()
            .filter(|b| !options.skip.iter().any(|s| b.unraw_eq(s)))
            .map(|b| &b.0)
            .collect()
    };
    let captures = captured.iter().map(|ident| {
        let name = LitStr::new(&ident.unraw_string(), ident.span());
        let value = quote_spanned!(ident.span()=> &#ident);
        input_arg(&krate, &name, &value)
    });
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| LitStr::new(&sig.ident.unraw_string(), sig.ident.span()));
    let is_async = sig.asyncness.is_some();
    let kind = if is_async { Kind::Future } else { Kind::Call };
    let span = span_expr(&options, &name, &krate, kind);
    let ret = options.ret.as_ref().is_none_or(syn::LitBool::value);
    let returns = match &sig.output {
        ReturnType::Type(_, ty) if nameable(ty) => quote!(#ty),
        _ => quote!(_),
    };
    let unsafety = sig.unsafety.map(|_| quote!(unsafe));
    // An async block takes its output type from its first `return`, not from what it is passed
    // to: a first, unreachable `return` of the declared type lets the body's own returns and tail
    // coerce to it (a `Box<MyError>` into a `Box<dyn Error>`), as `#[instrument]` does.
    let hint = match &sig.output {
        ReturnType::Type(_, ty) if nameable(ty) => quote! {
            #[allow(
                unknown_lints, unreachable_code, clippy::diverging_sub_expression,
                clippy::empty_loop, clippy::let_unit_value, clippy::let_with_type_underscore,
                clippy::needless_return, clippy::unreachable
            )]
            if false {
                let __hh_declared: #ty = loop {};
                return __hh_declared;
            }
        },
        _ => quote!(),
    };
    let body = if is_async {
        let future = quote! {
            #krate::__private::returning_future::<#returns, _>(async move {
                #hint
                #block
            })
        };
        run_body(&krate, future, "probe_output", "future", ret, true)
    } else {
        let closure = quote!(#krate::__private::returning::<#returns, _>(move || #unsafety #block));
        run_body(&krate, closure, "probe_return", "run", ret, false)
    };
    let inputs = inputs_block(&krate, captures.collect());
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            let mut __hh_call = #krate::__private::Call::new(#span);
            #inputs
            #body
        }
    })
}

/// One argument for `Call::inputs`: its name, a reference to its value, and the way its type is
/// recorded, chosen where the type is known.
pub(crate) fn input_arg(krate: &TokenStream, name: &LitStr, value: &TokenStream) -> TokenStream {
    quote_spanned! {name.span()=>
        &#krate::__private::Arg::new(#name, #value, (&&&#krate::__private::probe(#value)).hh_input())
            as &dyn #krate::__private::InputArg
    }
}

/// The statement that records the inputs, when the span is recorded at all.
pub(crate) fn inputs_block(krate: &TokenStream, captures: Vec<TokenStream>) -> TokenStream {
    if captures.is_empty() {
        return quote!();
    }
    // Each reference of `&&&probe(..)` counts: the first impl found with that many chooses.
    quote! {
        #[allow(clippy::needless_borrow)]
        let () = if __hh_call.is_recording() {
            #[allow(unused_imports)]
            use #krate::__private::{InputDebug as _, InputNone as _, InputSerde as _};
            __hh_call.inputs(&[#(#captures),*]);
        };
    }
}

/// A variable an argument binds (every identifier of a destructuring pattern).
pub(crate) struct Binding(pub(crate) Ident);

impl Binding {
    fn unraw_eq(&self, other: &Ident) -> bool {
        self.0.unraw_string() == other.unraw_string()
    }
}

trait Unraw {
    fn unraw_string(&self) -> String;
}

impl Unraw for Ident {
    fn unraw_string(&self) -> String {
        let s = self.to_string();
        s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
    }
}

/// The variables the arguments bind, `self` left out.
fn arguments(inputs: &syn::punctuated::Punctuated<FnArg, syn::Token![,]>) -> Vec<Binding> {
    let mut out = Vec::new();
    for input in inputs {
        if let FnArg::Typed(typed) = input {
            bind(&typed.pat, &mut out);
        }
    }
    out
}

fn bind(pat: &Pat, out: &mut Vec<Binding>) {
    match pat {
        Pat::Ident(p) => {
            if p.ident != "self" {
                out.push(Binding(p.ident.clone()));
            }
            if let Some((_, sub)) = &p.subpat {
                bind(sub, out);
            }
        }
        Pat::Tuple(p) => p.elems.iter().for_each(|e| bind(e, out)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|e| bind(e, out)),
        Pat::Struct(p) => p.fields.iter().for_each(|f| bind(&f.pat, out)),
        Pat::Slice(p) => p.elems.iter().for_each(|e| bind(e, out)),
        Pat::Reference(p) => bind(&p.pat, out),
        Pat::Paren(p) => bind(&p.pat, out),
        Pat::Type(p) => bind(&p.pat, out),
        _ => {}
    }
}

/// Whether a return type can be written inside the body (`impl Trait` cannot), to steer the
/// body's type inference as the signature does.
fn nameable(ty: &Type) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().all(|t| match t {
            TokenTree::Ident(i) => i != "impl",
            TokenTree::Group(g) => walk(g.stream()),
            _ => true,
        })
    }
    !matches!(ty, Type::Never(_)) && walk(quote!(#ty))
}
