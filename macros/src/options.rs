//! The options of `#[trace(...)]` and `traced!(...)`, parsed with the span of every token kept,
//! so that a misuse is a compile error pointing at what is wrong.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitBool, LitStr, Path, Token, parenthesized};

/// The fields the expansion declares itself: a user field of the same name is refused.
pub(crate) const RESERVED: &[(&str, &str)] = &[
    ("honeyhive.inputs", "the arguments are recorded there"),
    ("honeyhive.outputs", "the result is recorded there"),
    ("error", "an `Err` or a panic is recorded there"),
    ("metadata.error_type", "the error's type is recorded there"),
    (
        "metadata.omitted",
        "values that cannot be recorded are named there",
    ),
    (
        "metadata.cancelled",
        "a future or stream dropped before its end is marked there",
    ),
    (
        "metadata.stream_items",
        "a stream's item count is recorded there",
    ),
    ("honeyhive.event_type", "use `event_type = \"...\"`"),
    ("honeyhive.event_name", "use `name = \"...\"`"),
];

/// An extra field: `config.model = "gpt-4o"`, `metadata.step = %step`.
pub(crate) struct Field {
    pub(crate) name: Vec<Ident>,
    /// `%` or `?`, passed on to `tracing`.
    pub(crate) sigil: Option<TokenStream>,
    pub(crate) value: Expr,
}

impl ToTokens for Field {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let name = &self.name;
        let sigil = &self.sigil;
        let value = &self.value;
        tokens.extend(quote!(#(#name).* = #sigil #value));
    }
}

/// One value recorded in `inputs` by `traced!`: a variable, or `name = expression`.
pub(crate) struct Input {
    pub(crate) name: Ident,
    pub(crate) value: Option<Expr>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = Ident::parse_any(input)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Input { name, value })
    }
}

/// Where the options are given: some only make sense on a function, others only on a block.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    Function,
    Block,
}

#[derive(Default)]
pub(crate) struct Options {
    pub(crate) name: Option<LitStr>,
    pub(crate) event_type: Option<LitStr>,
    pub(crate) level: Option<TokenStream>,
    pub(crate) target: Option<LitStr>,
    pub(crate) skip: Vec<Ident>,
    pub(crate) skip_all: bool,
    pub(crate) ret: Option<LitBool>,
    pub(crate) fields: Vec<Field>,
    pub(crate) inputs: Option<Vec<Input>>,
}

const KEYWORDS: &str = "`name`, `event_type`, `level`, `target`, `ret`";

impl Options {
    /// The tokens of one option, at the head of `input`, added to `self`.
    pub(crate) fn parse_one(&mut self, input: ParseStream<'_>, site: Site) -> syn::Result<()> {
        if input.peek(LitStr) {
            let name: LitStr = input.parse()?;
            return set(&mut self.name, name, "name");
        }
        let key = Ident::parse_any(input)?;
        let word = key.to_string();
        if input.peek(Token![.]) {
            return self.parse_field(key, input);
        }
        match word.as_str() {
            "skip_all" if site == Site::Function => {
                if self.skip_all || !self.skip.is_empty() {
                    return Err(syn::Error::new(
                        key.span(),
                        "`skip_all` is given with another skip: give either `skip_all` or `skip(...)`, once",
                    ));
                }
                self.skip_all = true;
                Ok(())
            }
            "skip" if site == Site::Function => {
                let content;
                parenthesized!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                if self.skip_all || !self.skip.is_empty() {
                    return Err(syn::Error::new(
                        key.span(),
                        "`skip` is given with another skip: give either `skip_all` or `skip(...)`, once",
                    ));
                }
                if names.is_empty() {
                    return Err(syn::Error::new(key.span(), "`skip()` names no argument"));
                }
                self.skip = names.into_iter().collect();
                Ok(())
            }
            "inputs" if site == Site::Block && input.peek(syn::token::Paren) => {
                let content;
                parenthesized!(content in input);
                let inputs = Punctuated::<Input, Token![,]>::parse_terminated(&content)?;
                if self.inputs.is_some() {
                    return Err(syn::Error::new(key.span(), "`inputs` is given twice"));
                }
                self.inputs = Some(inputs.into_iter().collect());
                Ok(())
            }
            "name" | "event_type" | "target" | "level" | "ret" => {
                input.parse::<Token![=]>()?;
                match word.as_str() {
                    "name" => set(&mut self.name, input.parse()?, "name"),
                    "target" => set(&mut self.target, input.parse()?, "target"),
                    "ret" => set(&mut self.ret, input.parse()?, "ret"),
                    "event_type" => {
                        let value: LitStr = input.parse()?;
                        if !matches!(value.value().as_str(), "model" | "tool" | "chain") {
                            return Err(syn::Error::new(
                                value.span(),
                                "`event_type` is \"model\", \"tool\" or \"chain\"",
                            ));
                        }
                        set(&mut self.event_type, value, "event_type")
                    }
                    _ => {
                        let level = parse_level(input)?;
                        set(&mut self.level, level, "level")
                    }
                }
            }
            _ if RESERVED.iter().any(|(n, _)| *n == word) => {
                let (_, why) = RESERVED.iter().find(|(n, _)| *n == word).expect("found");
                Err(syn::Error::new(
                    key.span(),
                    format!("`{word}` is set by #[trace] itself: {why}"),
                ))
            }
            _ => {
                let expected = match site {
                    Site::Function => format!("{KEYWORDS}, `skip(...)`, `skip_all`"),
                    Site::Block => format!("{KEYWORDS}, `inputs(...)`"),
                };
                Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown option `{word}`: expected {expected}, or a field with a dotted name such as `metadata.step = 2`"
                    ),
                ))
            }
        }
    }

    fn parse_field(&mut self, first: Ident, input: ParseStream<'_>) -> syn::Result<()> {
        let mut name = vec![first];
        while input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            name.push(Ident::parse_any(input)?);
        }
        let joined = name
            .iter()
            .map(|i| i.unraw().to_string())
            .collect::<Vec<_>>()
            .join(".");
        let spanned = name.iter().fold(TokenStream::new(), |mut t, i| {
            i.to_tokens(&mut t);
            t
        });
        if let Some((_, why)) = RESERVED.iter().find(|(n, _)| *n == joined) {
            return Err(syn::Error::new_spanned(
                spanned,
                format!("`{joined}` is set by #[trace] itself: {why}"),
            ));
        }
        if self.fields.iter().any(|f| same_name(&f.name, &name)) {
            return Err(syn::Error::new_spanned(
                spanned,
                format!("the field `{joined}` is given twice"),
            ));
        }
        input.parse::<Token![=]>()?;
        let sigil = if input.peek(Token![%]) {
            Some(input.parse::<Token![%]>()?.into_token_stream())
        } else if input.peek(Token![?]) {
            Some(input.parse::<Token![?]>()?.into_token_stream())
        } else {
            None
        };
        if input.is_empty() || input.peek(Token![,]) {
            return Err(match &sigil {
                Some(sigil) => syn::Error::new_spanned(sigil, "a value must follow `%` or `?`"),
                None => syn::Error::new_spanned(spanned, "the field has no value"),
            });
        }
        let value = input.parse()?;
        self.fields.push(Field { name, sigil, value });
        Ok(())
    }

    /// The level as a `tracing::Level` constant, INFO unless given.
    pub(crate) fn level(&self, krate: &TokenStream) -> TokenStream {
        let level = self
            .level
            .clone()
            .unwrap_or_else(|| Ident::new("INFO", Span::call_site()).into_token_stream());
        quote!(#krate::__private::tracing::Level::#level)
    }
}

fn same_name(a: &[Ident], b: &[Ident]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.unraw() == y.unraw())
}

fn set<T: ToTokens>(slot: &mut Option<T>, value: T, what: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new_spanned(
            value,
            format!("`{what}` is given twice"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// `"debug"` (any case), `Level::DEBUG`, `tracing::Level::DEBUG`, as `#[instrument]` takes it.
fn parse_level(input: ParseStream<'_>) -> syn::Result<TokenStream> {
    const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];
    let (word, span) = if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        (lit.value().to_ascii_uppercase(), lit.span())
    } else {
        let path: Path = input.parse()?;
        let last = path.segments.last().map(|s| s.ident.to_string());
        (
            last.unwrap_or_default(),
            path.segments
                .last()
                .map_or_else(Span::call_site, |s| s.ident.span()),
        )
    };
    if !LEVELS.contains(&word.as_str()) {
        return Err(syn::Error::new(
            span,
            "`level` is \"trace\", \"debug\", \"info\", \"warn\" or \"error\" (or `Level::DEBUG`, ...)",
        ));
    }
    Ok(Ident::new(&word, span).into_token_stream())
}

/// `#[trace(...)]`'s arguments.
pub(crate) struct FunctionOptions(pub(crate) Options);

impl Parse for FunctionOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = Options::default();
        while !input.is_empty() {
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                return Err(syn::Error::new(
                    lit.span(),
                    "give the event's name as `name = \"...\"`",
                ));
            }
            options.parse_one(input, Site::Function)?;
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(FunctionOptions(options))
    }
}
