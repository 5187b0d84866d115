//! The optional `#[tool]` attribute of the mcp-rs SDK: a function or an impl block becomes
//! tools, expanded into the same [`ServerBuilder::tool`] calls one writes by hand (there is no
//! second code path).
//!
//! On an `async fn`, `#[tool]` keeps the function as it is and adds `<name>_tool`, a function
//! that registers it on a builder:
//!
//! ```ignore
//! /// Add two integers.
//! #[tool]
//! async fn add(a: i64, b: i64) -> Result<i64, ToolError> {
//!     Ok(a + b)
//! }
//!
//! let service = Server::builder("calc", "1.0").register(add_tool).build();
//! ```
//!
//! - The doc comment is the description (or `#[tool(description = "...")]`); the tool is
//!   named after the function (or `#[tool(name = "...")]`).
//! - Parameters whose type is an extractor of the builder (`State<S>`, `RequestCx`, `Args<T>`,
//!   `Uri`, `UriVars`) are extracted as in a closure; every other parameter becomes a property
//!   of the input schema, derived by schemars from a generated struct (attributes on a
//!   parameter, such as `#[serde(default)]` or `#[schemars(description = "...")]`, go to its
//!   field).
//! - The function returns `Result<T, E>` with `T` any tool result (`String`, numbers,
//!   `Json<T>`, content ...) and `E` convertible into `ToolError` (`ToolError` itself, or any
//!   error type).
//!
//! On an `impl` block, `#[tool]` turns its methods marked `#[tool]` into tools and adds
//! `fn tools(self) -> impl FnOnce(ServerBuilder) -> ServerBuilder`, which registers the value
//! as application state and every marked method as a tool: `&self` methods see that state.
//!
//! [`ServerBuilder::tool`]: https://docs.rs/mcp-driver/latest/mcp_driver/struct.ServerBuilder.html#method.tool

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, Expr, FnArg, Ident, ImplItem, ItemFn, ItemImpl, Lit, LitStr, Meta, Pat,
    ReturnType, Signature, Token, Type,
};

/// Turns an `async fn`, or the `#[tool]` methods of an `impl` block, into MCP tools. See the
/// crate docs.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr = TokenStream2::from(attr);
    let item = TokenStream2::from(item);
    let out = match syn::parse2::<syn::Item>(item) {
        Ok(syn::Item::Fn(f)) => expand_fn(attr, f),
        Ok(syn::Item::Impl(i)) => expand_impl(attr, i),
        Ok(other) => Err(Error::new(
            other.span(),
            "#[tool] goes on an `async fn` or on an `impl` block",
        )),
        Err(e) => Err(e),
    };
    out.unwrap_or_else(Error::into_compile_error).into()
}

/// `name = "..."` and `description = "..."` given to the attribute.
#[derive(Default)]
struct Options {
    name: Option<LitStr>,
    description: Option<LitStr>,
}

impl Options {
    fn parse(attr: TokenStream2) -> syn::Result<Options> {
        let mut options = Options::default();
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
        for meta in metas {
            let Meta::NameValue(nv) = &meta else {
                return Err(Error::new(
                    meta.span(),
                    "expected `name = \"...\"` or `description = \"...\"`",
                ));
            };
            let value = match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => s.clone(),
                other => return Err(Error::new(other.span(), "expected a string literal")),
            };
            if nv.path.is_ident("name") {
                options.name = Some(value);
            } else if nv.path.is_ident("description") {
                options.description = Some(value);
            } else {
                return Err(Error::new(
                    nv.path.span(),
                    "unknown option: expected `name` or `description`",
                ));
            }
        }
        Ok(options)
    }
}

/// The path of `mcp_driver` as the calling crate sees it: its own dependency, or the copy a
/// runtime crate re-exports.
fn driver_path() -> TokenStream2 {
    use proc_macro_crate::{crate_name, FoundCrate};
    for (package, reexported) in [
        ("mcp-driver", false),
        ("mcp-tokio", true),
        ("mcp-smol", true),
        ("mcp-async-std", true),
    ] {
        let Ok(found) = crate_name(package) else {
            continue;
        };
        // A package's own tests and examples name it like any dependent does.
        let name = match found {
            FoundCrate::Itself => package.replace('-', "_"),
            FoundCrate::Name(n) => n,
        };
        let ident = Ident::new(&name, Span::call_site());
        return if reexported {
            quote!(::#ident::mcp_driver)
        } else {
            quote!(::#ident)
        };
    }
    quote!(::mcp_driver)
}

/// The description from the doc comment: its lines, trimmed of the space after `///`.
fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).trim_end().to_owned())
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The builder's extractors, by the last segment of a parameter's type.
const EXTRACTORS: [&str; 5] = ["State", "RequestCx", "Args", "Uri", "UriVars"];

fn is_extractor(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| EXTRACTORS.iter().any(|e| s.ident == e)),
        _ => false,
    }
}

/// Whether `ty` is written as some `Result<..>`.
fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Result"),
        _ => false,
    }
}

/// How the handler reaches the function.
enum Receiver {
    /// A free function, or an associated function without `self`: called by path.
    None,
    /// `&self` or `self`: called on the state value.
    State,
}

/// One tool, read from a function's signature.
struct ToolFn {
    name: String,
    description: String,
    /// The closure's parameters, in order (extractors first as written, then `Args`).
    params: Vec<TokenStream2>,
    /// The call's arguments, in the function's order.
    call_args: Vec<TokenStream2>,
    /// The generated arguments struct, if the function takes any.
    args_struct: Option<TokenStream2>,
    receiver: Receiver,
    ident: Ident,
}

fn read_fn(
    driver: &TokenStream2,
    options: Options,
    attrs: &[Attribute],
    sig: &mut Signature,
    in_impl: bool,
) -> syn::Result<ToolFn> {
    if sig.asyncness.is_none() {
        return Err(Error::new(
            sig.fn_token.span(),
            "a #[tool] function must be `async fn`",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(Error::new(
            sig.generics.span(),
            "a #[tool] function cannot be generic: the input schema is derived from concrete types",
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(Error::new(
            v.span(),
            "a #[tool] function cannot be variadic",
        ));
    }
    match &sig.output {
        ReturnType::Type(_, ty) if is_result(ty) => {}
        other => {
            return Err(Error::new(
                other.span(),
                "a #[tool] function returns `Result<T, E>`: `T` a tool result (`String`, a number, `Json<T>`, ...), `E` convertible into `ToolError`",
            ))
        }
    }
    let name = options
        .name
        .map(|n| n.value())
        .unwrap_or_else(|| sig.ident.to_string());
    let description = match options.description.map(|d| d.value()).or_else(|| doc_text(attrs)) {
        Some(d) => d,
        None => {
            return Err(Error::new(
                sig.ident.span(),
                "a #[tool] needs a description: write a doc comment or `#[tool(description = \"...\")]`",
            ))
        }
    };

    let args_ident = format_ident!("{}Args", camel(&sig.ident.to_string()));
    let mut params = Vec::new();
    let mut call_args = Vec::new();
    let mut fields = Vec::new();
    let mut field_names = Vec::new();
    let mut receiver = Receiver::None;
    for (i, input) in sig.inputs.iter_mut().enumerate() {
        match input {
            FnArg::Receiver(r) => {
                if !in_impl {
                    return Err(Error::new(r.span(), "`self` outside an impl block"));
                }
                if r.mutability.is_some() && r.reference.is_some() {
                    return Err(Error::new(
                        r.span(),
                        "a #[tool] method takes `&self` or `self`, not `&mut self`: the state is shared by concurrent calls",
                    ));
                }
                receiver = Receiver::State;
            }
            FnArg::Typed(pt) => {
                let ty = &pt.ty;
                if is_extractor(ty) {
                    let x = format_ident!("__mcp_x{}", i);
                    params.push(quote!(#x: #ty));
                    call_args.push(quote!(#x));
                    continue;
                }
                let field = match &*pt.pat {
                    Pat::Ident(p) if p.subpat.is_none() => p.ident.clone(),
                    other => {
                        return Err(Error::new(
                            other.span(),
                            "a tool argument is a plain name (`a: i64`): it becomes a property of the input schema",
                        ))
                    }
                };
                // Attributes on the parameter (serde, schemars) belong to the field.
                let field_attrs = std::mem::take(&mut pt.attrs);
                fields.push(quote!(#(#field_attrs)* #field: #ty));
                call_args.push(quote!(#field));
                field_names.push(field);
            }
        }
    }
    let args_struct = if fields.is_empty() {
        None
    } else {
        let serde_path = format!("{}::serde", path_string(driver));
        let schemars_path = format!("{}::schemars", path_string(driver));
        params.push(quote!(
            #driver::Args(#args_ident { #(#field_names),* }): #driver::Args<#args_ident>
        ));
        Some(quote! {
            #[derive(#driver::serde::Deserialize, #driver::schemars::JsonSchema)]
            #[serde(crate = #serde_path)]
            #[schemars(crate = #schemars_path)]
            struct #args_ident {
                #(#fields,)*
            }
        })
    };
    if params.len() + usize::from(matches!(receiver, Receiver::State)) > 3 {
        return Err(Error::new(
            sig.inputs.span(),
            "a #[tool] function takes at most 3 extractors (its plain arguments count as one, `Args`, and `&self` as one, `State<Self>`)",
        ));
    }
    Ok(ToolFn {
        name,
        description,
        params,
        call_args,
        args_struct,
        receiver,
        ident: sig.ident.clone(),
    })
}

/// `add_numbers` -> `AddNumbers`.
fn camel(s: &str) -> String {
    s.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// A path as the string serde's and schemars' `crate = "..."` take.
fn path_string(path: &TokenStream2) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// The `.tool(...)` call registering `t` on `builder`.
fn tool_call(driver: &TokenStream2, t: &ToolFn, self_ty: Option<&Type>) -> TokenStream2 {
    let ToolFn {
        name,
        description,
        params,
        call_args,
        args_struct,
        receiver,
        ident,
    } = t;
    let mut params = params.clone();
    let call = match (receiver, self_ty) {
        (Receiver::State, Some(ty)) => {
            params.insert(0, quote!(#driver::State(__mcp_this): #driver::State<#ty>));
            quote!(__mcp_this.#ident(#(#call_args),*))
        }
        (_, Some(ty)) => quote!(<#ty>::#ident(#(#call_args),*)),
        (_, None) => quote!(#ident(#(#call_args),*)),
    };
    quote! {
        {
            #args_struct
            builder.tool(#name, #description, move |#(#params),*| async move {
                let result: ::core::result::Result<_, #driver::ToolError> =
                    ::core::result::Result::map_err(#call.await, ::core::convert::Into::into);
                result
            })
        }
    }
}

fn expand_fn(attr: TokenStream2, mut f: ItemFn) -> syn::Result<TokenStream2> {
    let driver = driver_path();
    let options = Options::parse(attr)?;
    let t = read_fn(&driver, options, &f.attrs, &mut f.sig, false)?;
    let register = format_ident!("{}_tool", f.sig.ident);
    let vis = &f.vis;
    let call = tool_call(&driver, &t, None);
    let doc = format!(
        "Registers [`{}`] as the MCP tool `{}`.",
        f.sig.ident, t.name
    );
    Ok(quote! {
        #f

        #[doc = #doc]
        #vis fn #register(builder: #driver::ServerBuilder) -> #driver::ServerBuilder {
            #call
        }
    })
}

fn expand_impl(attr: TokenStream2, mut block: ItemImpl) -> syn::Result<TokenStream2> {
    if !attr.is_empty() {
        return Err(Error::new(
            attr.span(),
            "#[tool] on an impl block takes no options: give them to the methods",
        ));
    }
    if block.trait_.is_some() {
        return Err(Error::new(
            block.span(),
            "#[tool] goes on an inherent impl block, not a trait impl",
        ));
    }
    if !block.generics.params.is_empty() {
        return Err(Error::new(
            block.generics.span(),
            "#[tool] cannot be used on a generic impl block",
        ));
    }
    let driver = driver_path();
    let self_ty = (*block.self_ty).clone();
    let mut calls = Vec::new();
    let mut uses_state = false;
    for item in &mut block.items {
        let ImplItem::Fn(m) = item else { continue };
        let Some(pos) = m.attrs.iter().position(|a| a.path().is_ident("tool")) else {
            continue;
        };
        let marker = m.attrs.remove(pos);
        let options = match &marker.meta {
            Meta::Path(_) => Options::default(),
            Meta::List(l) => Options::parse(l.tokens.clone())?,
            Meta::NameValue(nv) => {
                return Err(Error::new(
                    nv.span(),
                    "expected `#[tool]` or `#[tool(...)]`",
                ))
            }
        };
        let t = read_fn(&driver, options, &m.attrs, &mut m.sig, true)?;
        uses_state |= matches!(t.receiver, Receiver::State);
        calls.push(tool_call(&driver, &t, Some(&self_ty)));
    }
    if calls.is_empty() {
        return Err(Error::new(
            block.self_ty.span(),
            "no method of this impl block is marked #[tool]",
        ));
    }
    let state = uses_state.then(|| quote!(let builder = builder.state(self);));
    let unused = (!uses_state).then(|| quote!(let _ = self;));
    Ok(quote! {
        #block

        impl #self_ty {
            /// Registers this value as application state and its `#[tool]` methods as MCP
            /// tools: pass the result to `ServerBuilder::register`.
            pub fn tools(self) -> impl ::core::ops::FnOnce(#driver::ServerBuilder) -> #driver::ServerBuilder {
                move |builder: #driver::ServerBuilder| {
                    #unused
                    #state
                    #(let builder = #calls;)*
                    builder
                }
            }
        }
    })
}
