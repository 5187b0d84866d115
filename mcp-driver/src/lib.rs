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

pub mod accept;
mod builder;
mod client;
mod engine;
pub mod http;
mod linked;
pub mod messages;
mod mrtr;
mod oneshot;
pub mod process;
mod queue;
mod runtime;
mod server;
mod task_handle;
pub mod tasks;
mod unwind;

pub use builder::{
    Args, ArgumentsInfo, FromRequest, HandlerFn, IntoPromptResult, IntoResourceContents,
    IntoToolResult, Json, Rejection, RequestParts, RpcError, Server, ServerBuilder, ServerControl,
    State, ToolError, Uri, UriVars,
};
pub use client::{connect, CallError, Client, ClientHandler, NoHandler, ProgressFn, Subscription};
pub use engine::Backlog;
pub use linked::connect_in_process;
pub use messages::{connect_messages, serve_messages};
pub use mrtr::StateKey;
pub use runtime::{BoxFuture, OsEntropy, Runtime};
pub use server::{
    serve, Ask, AskError, Handler, HandlerResult, RequestCx, ServerHandle, Service,
    WeakServerHandle,
};
pub use task_handle::{TaskHandle, TaskInfo};
pub use tasks::{TaskOptions, TaskStart, TaskSupport};

pub use bytes::Bytes;
pub use mcp_proto;
pub use schemars;
pub use serde;
