//! `traced!`: a closure called at once, an async block or a stream, traced as `#[trace]` traces
//! a function, for code that cannot take an attribute (a block inside a function, a call through
//! a trait object, a streamed answer).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, ExprAsync, ExprClosure, Ident, LitStr, Token};

use crate::function::{input_arg, inputs_block};
use crate::options::{Options, Site};
use crate::{Kind, krate, run_body, span_expr};

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
            let block_follows = input.peek2(syn::token::Brace)
                || (input.peek2(Token![move]) && input.peek3(syn::token::Brace));
            if input.peek(Token![async]) && block_follows {
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
                    return Err(syn::Error::new_spanned(
                        &closure.inputs,
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
                None => input_arg(&krate, &key, &quote_spanned!(ident.span()=> &#ident)),
                Some(value) => input_arg(&krate, &key, &quote_spanned!(value.span()=> &(#value))),
            }
        })
        .collect();
    let inputs = inputs_block(&krate, captures);
    let ret = options.ret.as_ref().is_none_or(syn::LitBool::value);
    let (kind, run) = match body {
        Body::Closure(closure) => (
            Kind::Call,
            run_body(&krate, quote!(#closure), "probe_return", "run", ret, false),
        ),
        Body::Future(future) => (
            Kind::Future,
            run_body(
                &krate,
                quote!(#future),
                "probe_output",
                "future",
                ret,
                false,
            ),
        ),
        Body::Stream(stream) => (
            Kind::Stream,
            run_body(&krate, quote!(#stream), "probe_item", "stream", ret, false),
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
