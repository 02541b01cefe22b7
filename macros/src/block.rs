//! `traced!`: a closure called at once, an async block or a stream, traced as `#[trace]` traces
//! a function, for code that cannot take an attribute (a block inside a function, a call through
//! a trait object, a streamed answer).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, ExprAsync, ExprClosure, Ident, LitStr, Token};

use crate::function::inputs_block;
use crate::options::{Options, Site};
use crate::{Kind, krate, output_dispatch, span_expr};

pub(crate) struct Traced {
    options: Options,
    body: Body,
}

enum Body {
    Closure(ExprClosure),
    Future(ExprAsync),
    Stream(Expr),
}

impl Parse for Traced {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = Options::default();
        let mut body = None;
        while !input.is_empty() {
            if body.is_some() {
                return Err(
                    input.error("the body comes last: `traced!(\"name\", options..., || body)`")
                );
            }
            if input.peek(Token![async]) && !input.peek2(Token![|]) && !input.peek2(Token![move]) {
                body = Some(Body::Future(input.parse()?));
            } else if input.peek(Token![async]) {
                let closure: ExprClosure = input.parse()?;
                return Err(syn::Error::new(
                    closure.asyncness.span(),
                    "give an async block (`async { ... }`) rather than an async closure",
                ));
            } else if input.peek(Token![|]) || input.peek(Token![||]) || input.peek(Token![move]) {
                let closure: ExprClosure = input.parse()?;
                if !closure.inputs.is_empty() {
                    return Err(syn::Error::new(
                        closure.inputs.span(),
                        "the closure takes no arguments: `traced!` calls it at once",
                    ));
                }
                body = Some(Body::Closure(closure));
            } else if input.peek(Ident) && input.peek2(Token![=]) && is_stream(input) {
                input.parse::<Ident>()?;
                input.parse::<Token![=]>()?;
                body = Some(Body::Stream(input.parse()?));
            } else {
                options.parse_one(input, Site::Block)?;
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        let Some(body) = body else {
            return Err(syn::Error::new(
                Span::call_site(),
                "`traced!` needs a body after its options: a closure (`|| ...`), an async block (`async { ... }`) or `stream = ...`",
            ));
        };
        if options.name.is_none() {
            return Err(syn::Error::new(
                Span::call_site(),
                "`traced!` needs a name: `traced!(\"rerank\", ...)`",
            ));
        }
        Ok(Traced { options, body })
    }
}

fn is_stream(input: ParseStream<'_>) -> bool {
    input.fork().parse::<Ident>().is_ok_and(|i| i == "stream")
}

pub(crate) fn expand(traced: Traced) -> syn::Result<TokenStream> {
    let Traced { options, body } = traced;
    let krate = krate();
    let name: LitStr = options.name.clone().expect("checked when parsed");
    let captures = options
        .inputs
        .iter()
        .flatten()
        .map(|input| {
            let ident = &input.name;
            let key = LitStr::new(&ident.to_string(), ident.span());
            match &input.value {
                None => quote_spanned! {ident.span()=>
                    __hh_inputs.arg(#key, &#ident, (&&&#krate::__private::probe(&#ident)).hh_input());
                },
                Some(value) => quote_spanned! {value.span()=>
                    {
                        let __hh_value = &(#value);
                        __hh_inputs.arg(#key, __hh_value, (&&&#krate::__private::probe(__hh_value)).hh_input());
                    }
                },
            }
        })
        .collect();
    let inputs = inputs_block(&krate, captures);
    let ret = options.ret.as_ref().is_none_or(syn::LitBool::value);
    let dispatch = output_dispatch(&krate);
    let (kind, run) = match body {
        Body::Closure(closure) => (
            Kind::Call,
            quote! {
                let __hh_body = #closure;
                #[allow(clippy::needless_borrow)]
                let __hh_render = {
                    #dispatch
                    (&&&&&&&&&&&&#krate::__private::probe_return(&__hh_body)).hh_output()
                };
                __hh_call.run(__hh_body, __hh_render, #ret)
            },
        ),
        Body::Future(future) => (
            Kind::Future,
            quote! {
                let __hh_body = #future;
                #[allow(clippy::needless_borrow)]
                let __hh_render = {
                    #dispatch
                    (&&&&&&&&&&&&#krate::__private::probe_output(&__hh_body)).hh_output()
                };
                __hh_call.future(__hh_body, __hh_render, #ret)
            },
        ),
        Body::Stream(stream) => (
            Kind::Stream,
            quote! {
                let __hh_body = #stream;
                #[allow(clippy::needless_borrow)]
                let __hh_render = {
                    #dispatch
                    (&&&&&&&&&&&&#krate::__private::probe_item(&__hh_body)).hh_output()
                };
                __hh_call.stream(__hh_body, __hh_render, #ret)
            },
        ),
    };
    let span = span_expr(&options, &name, &krate, kind);
    Ok(quote! {
        {
            let mut __hh_call = #krate::__private::Call::new(#span);
            #inputs
            #run
        }
    })
}
