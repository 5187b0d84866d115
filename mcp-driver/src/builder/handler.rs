//! Handler functions and the extractors they take as arguments.
//!
//! A handler is an async closure taking zero to three extractors, in any order:
//!
//! | extractor | gives |
//! |---|---|
//! | [`Args<T>`] | the tool's arguments, the prompt's arguments, or a template's variables, deserialized into `T` |
//! | [`State<S>`] | a clone of the application state of type `S` given to [`ServerBuilder::state`](super::ServerBuilder::state) |
//! | [`RequestCx`] | the request's context: cancellation, progress, logging, asks to the client |
//! | [`UriVars`] | the variables a resource template matched, by name |
//! | [`Uri`] | the URI being read |
//!
//! Annotate the argument types (`|Args(a): Args<MyArgs>| async move { ... }`): closures
//! passed to a generic method do not get their argument types inferred.

use std::any::{type_name, Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use mcp_proto::jsonrpc::{code, ErrorObject};
use serde_json::{Map, Value};

use super::schema::ArgumentsInfo;
use crate::runtime::BoxFuture;
use crate::server::RequestCx;

/// Application state by type.
pub(crate) type StateMap = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// What a handler's extractors read from: the request's context, its input and the
/// application state.
pub struct RequestParts {
    pub(crate) cx: RequestCx,
    pub(crate) state: Arc<StateMap>,
    pub(crate) input: Input,
}

/// The input of a request, by kind.
pub(crate) enum Input {
    /// Tool or prompt arguments (an object).
    Arguments(Value),
    /// A resource read: the URI and the template variables it matched (none for a fixed
    /// resource).
    Resource {
        uri: String,
        vars: BTreeMap<String, String>,
    },
}

impl std::fmt::Debug for RequestParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestParts")
            .field("cx", &self.cx)
            .finish_non_exhaustive()
    }
}

impl RequestParts {
    /// The request's context.
    pub fn cx(&self) -> &RequestCx {
        &self.cx
    }

    /// The arguments as a JSON object: a tool's or prompt's arguments, or a template's
    /// variables (as strings).
    pub fn arguments(&self) -> Value {
        match &self.input {
            Input::Arguments(v) => v.clone(),
            Input::Resource { vars, .. } => Value::Object(
                vars.iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    /// The URI being read, for resource handlers.
    pub fn uri(&self) -> Option<&str> {
        match &self.input {
            Input::Resource { uri, .. } => Some(uri),
            Input::Arguments(_) => None,
        }
    }

    /// The variables a resource template matched, for resource handlers.
    pub fn uri_vars(&self) -> Option<&BTreeMap<String, String>> {
        match &self.input {
            Input::Resource { vars, .. } => Some(vars),
            Input::Arguments(_) => None,
        }
    }

    /// A clone of the application state of type `S`, if one was registered.
    pub fn state<S: Clone + Send + Sync + 'static>(&self) -> Option<S> {
        self.state
            .get(&TypeId::of::<S>())
            .and_then(|s| s.downcast_ref::<S>())
            .cloned()
    }
}

/// Why an extractor could not produce its value. Tools report it as a failed result
/// (`isError: true`) the model can read; prompts and resources answer with the JSON-RPC
/// error it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    code: i64,
    message: String,
}

impl Rejection {
    /// The request's input is wrong (-32602): bad arguments, missing variables.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Rejection {
            code: code::INVALID_PARAMS,
            message: message.into(),
        }
    }

    /// The server is set up wrong (-32603), e.g. a state type that was never registered.
    pub fn internal(message: impl Into<String>) -> Self {
        Rejection {
            code: code::INTERNAL_ERROR,
            message: message.into(),
        }
    }

    /// The readable reason.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON-RPC error this rejection answers with.
    pub fn into_error_object(self) -> ErrorObject {
        ErrorObject::new(self.code, self.message)
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A value a handler takes as an argument, produced from the request before the handler
/// runs. Implemented by [`Args`], [`State`], [`RequestCx`], [`UriVars`] and [`Uri`];
/// implement it to write your own.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be taken as an argument by an MCP handler",
    label = "not an extractor",
    note = "handler arguments must be extractors: `Args<T>`, `State<S>`, `RequestCx`, `UriVars` or `Uri`"
)]
pub trait FromRequest: Sized {
    /// Extracts the value, or says why it cannot.
    fn from_request(parts: &RequestParts) -> Result<Self, Rejection>;

    /// The arguments this extractor reads, if it reads any (`Args<T>` does).
    fn arguments() -> Option<ArgumentsInfo> {
        None
    }
}

/// The request's arguments (a tool's or prompt's), or a resource template's variables,
/// deserialized into `T`. The JSON Schema of `T` (from schemars) is advertised as the tool's
/// `inputSchema` and becomes the prompt's argument list.
///
/// Arguments that do not deserialize make a tool answer `isError: true` with serde's message
/// (so the model can correct itself), and a prompt or resource answer -32602.
///
/// An extractor with the `schemars` feature (on by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Args<T>(pub T);

/// A clone of the application state of type `S`, registered with
/// [`ServerBuilder::state`](super::ServerBuilder::state). Put shared mutable things behind an
/// `Arc` in `S`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State<S>(pub S);

impl<S: Clone + Send + Sync + 'static> FromRequest for State<S> {
    fn from_request(parts: &RequestParts) -> Result<Self, Rejection> {
        parts.state::<S>().map(State).ok_or_else(|| {
            Rejection::internal(format!(
                "no state of type `{}` was registered with ServerBuilder::state",
                type_name::<S>()
            ))
        })
    }
}

impl FromRequest for RequestCx {
    fn from_request(parts: &RequestParts) -> Result<Self, Rejection> {
        Ok(parts.cx.clone())
    }
}

/// The variables a resource template matched, by name (percent-decoded). Empty for a fixed
/// resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UriVars(pub BTreeMap<String, String>);

impl FromRequest for UriVars {
    fn from_request(parts: &RequestParts) -> Result<Self, Rejection> {
        parts
            .uri_vars()
            .cloned()
            .map(UriVars)
            .ok_or_else(|| Rejection::internal("UriVars is only available to resource handlers"))
    }
}

/// The URI being read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uri(pub String);

impl FromRequest for Uri {
    fn from_request(parts: &RequestParts) -> Result<Self, Rejection> {
        parts
            .uri()
            .map(|u| Uri(u.to_owned()))
            .ok_or_else(|| Rejection::internal("Uri is only available to resource handlers"))
    }
}

/// An async function usable as a tool, prompt or resource handler: `Fn(A) -> impl Future`
/// for zero to three extractor arguments (each [`FromRequest`]), `Send + Sync + 'static`,
/// returning a `Send + 'static` future.
///
/// The accepted shapes, with `X` the tuple of argument types:
///
/// ```text
/// Fn() -> Fut                      X = ()
/// Fn(A) -> Fut                     X = (A,)
/// Fn(A, B) -> Fut                  X = (A, B)
/// Fn(A, B, C) -> Fut               X = (A, B, C)
/// ```
///
/// What the future must output depends on where the handler is registered: tools return
/// `Result<impl IntoToolResult, ToolError>`, prompts `Result<impl IntoPromptResult,
/// RpcError>`, resources `Result<impl IntoResourceContents, RpcError>`.
///
/// Closures and `async fn`s both qualify:
///
/// ```
/// use mcp_driver::{Args, Json, RequestCx, Server, State, ToolError};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone)]
/// struct Index(std::sync::Arc<Vec<String>>);
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Query {
///     /// Text to look for.
///     text: String,
/// }
///
/// #[derive(Serialize, JsonSchema)]
/// struct Hits {
///     count: usize,
/// }
///
/// async fn search(
///     State(Index(index)): State<Index>,
///     Args(q): Args<Query>,
///     cx: RequestCx,
/// ) -> Result<Json<Hits>, ToolError> {
///     cx.progress(0.5, Some(1.0), None)?;
///     let count = index.iter().filter(|s| s.contains(&q.text)).count();
///     Ok(Json(Hits { count }))
/// }
///
/// let service = Server::builder("search", "1.0.0")
///     .state(Index(std::sync::Arc::new(vec!["alpha".into(), "beta".into()])))
///     .tool("search", "Count matching entries", search)
///     .build();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a usable MCP handler",
    label = "expected an async closure taking up to 3 extractors",
    note = "write `|Args(a): Args<MyArgs>, State(s): State<MyState>, cx: RequestCx| async move {{ ... }}`: annotate every argument type, take at most 3, each an extractor (`Args`, `State`, `RequestCx`, `UriVars`, `Uri`), and make the future `Send + 'static` (use `async move`)"
)]
pub trait HandlerFn<X>: Send + Sync + 'static {
    /// What the handler's future outputs.
    type Output: Send + 'static;

    /// Runs the extractors, then starts the handler.
    fn call(&self, parts: &RequestParts) -> Result<BoxFuture<'static, Self::Output>, Rejection>;

    /// The arguments the handler's extractors read (from the first extractor that reads any).
    fn arguments() -> Option<ArgumentsInfo>;
}

macro_rules! impl_handler_fn {
    ($($x:ident),*) => {
        impl<F, Fut, $($x,)*> HandlerFn<($($x,)*)> for F
        where
            F: Fn($($x),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: Send + 'static,
            $($x: FromRequest,)*
        {
            type Output = Fut::Output;

            #[allow(non_snake_case, unused_variables)]
            fn call(
                &self,
                parts: &RequestParts,
            ) -> Result<BoxFuture<'static, Self::Output>, Rejection> {
                $(let $x = <$x as FromRequest>::from_request(parts)?;)*
                Ok(Box::pin((self)($($x),*)))
            }

            fn arguments() -> Option<ArgumentsInfo> {
                None $(.or_else(<$x as FromRequest>::arguments))*
            }
        }
    };
}

impl_handler_fn!();
impl_handler_fn!(A);
impl_handler_fn!(A, B);
impl_handler_fn!(A, B, C);
