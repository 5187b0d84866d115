//! The runtime-agnostic driver for [`mcp_proto`] sessions, written once for every runtime.
//!
//! A runtime crate (`mcp-tokio`, `mcp-smol`) supplies a [`Runtime`] (clock, timer, spawn) and
//! byte streams; this crate runs one connection future per connection (the quinn pattern:
//! shared session state behind a mutex plus a stored waker), spawns one task per incoming
//! request, and gives handlers and clients typed, cancellable futures.
//!
//! MCP tasks (SEP-1686 for 2025-11-25 peers, the `io.modelcontextprotocol/tasks` extension
//! for 2026-07-28 ones) are handled here for both sides: task tools of the builder run
//! detached from their request ([`tasks`]), and [`Client::call_tool_as_task`] returns a
//! [`TaskHandle`] to poll, wait on, answer and cancel.

//! # Cargo features
//!
//! All on by default except `tracing` and `macros`. A stdio-only server needs only
//! `server` (plus `schemars` for typed arguments): no hyper, rustls or ring is built.
//!
//! | feature | gives |
//! |---|---|
//! | `server` | [`serve`], the typed [`Server`] builder, MCP tasks |
//! | `client` | [`connect`], [`Client`], [`process`] (child-process servers) |
//! | `http` | streamable HTTP on hyper ([`http`], [`accept`]) for the enabled sides |
//! | `http2` | HTTP/2 next to HTTP/1.1 on the HTTP server |
//! | `tls` | `https://` URLs for the HTTP client (rustls, ring, Mozilla's roots) |
//! | `auth` | OAuth 2.1 for the HTTP client ([`http::oauth`]) |
//! | `schemars` | typed arguments and outputs ([`Args`], [`Json`]) with derived schemas |
//! | `macros` | the `#[tool]` attribute (on a function or an impl block), expanding to builder calls |
//! | `tracing` | spans and events through `tracing` (target `mcp`); nothing without it |

// The engine and helpers serve every side and transport; a build with some of them off
// leaves parts unused. The full build (the default, which CI lints) still flags dead code.
#![cfg_attr(
    not(all(feature = "server", feature = "client", feature = "http")),
    allow(dead_code)
)]

#[cfg(feature = "http")]
pub mod accept;
#[cfg(feature = "server")]
mod builder;
#[cfg(feature = "client")]
mod client;
mod engine;
#[cfg(feature = "http")]
pub mod http;
#[cfg(all(feature = "server", feature = "client"))]
mod linked;
#[cfg(any(feature = "server", feature = "client"))]
pub mod messages;
#[cfg(feature = "server")]
mod mrtr;
mod oneshot;
#[cfg(feature = "client")]
pub mod process;
#[cfg(feature = "client")]
mod queue;
mod runtime;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "client")]
mod task_handle;
#[cfg(feature = "server")]
pub mod tasks;
mod trace;
mod unwind;

#[cfg(feature = "server")]
pub use builder::{
    Args, ArgumentsInfo, FromRequest, HandlerFn, IntoPromptResult, IntoResourceContents,
    IntoToolResult, Json, Rejection, RequestParts, RpcError, Server, ServerBuilder, ServerControl,
    State, ToolError, Uri, UriVars,
};
#[cfg(feature = "client")]
pub use client::{connect, CallError, Client, ClientHandler, NoHandler, ProgressFn, Subscription};
pub use engine::Backlog;
#[cfg(all(feature = "server", feature = "client"))]
pub use linked::connect_in_process;
#[cfg(feature = "client")]
pub use messages::connect_messages;
#[cfg(feature = "server")]
pub use messages::serve_messages;
#[cfg(feature = "server")]
pub use mrtr::StateKey;
pub use runtime::{BoxFuture, OsEntropy, Runtime};
#[cfg(feature = "server")]
pub use server::{
    serve, Ask, AskError, Handler, HandlerResult, RequestCx, ServerHandle, Service,
    WeakServerHandle,
};
#[cfg(feature = "client")]
pub use task_handle::{TaskHandle, TaskInfo};
#[cfg(feature = "server")]
pub use tasks::{TaskOptions, TaskStart, TaskSupport};

pub use bytes::Bytes;
#[cfg(feature = "macros")]
pub use mcp_macros::tool;
pub use mcp_proto;
#[cfg(feature = "schemars")]
pub use schemars;
pub use serde;
