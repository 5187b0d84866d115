//! Streamable HTTP over hyper, for every runtime: the runtime supplies byte streams (accepted
//! or connected sockets, as futures-io) and this module runs HTTP/1.1 on them, with the
//! protocol decisions made by [`mcp_proto::http`].

#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
mod io;
#[cfg(feature = "auth")]
pub mod oauth;
#[cfg(feature = "server")]
pub mod server;

/// The header map of an HTTP request, as a handler sees it in
/// [`RequestCx::http_headers`](crate::RequestCx::http_headers).
pub use hyper::HeaderMap;
pub use io::{HyperIo, RtExecutor, RtTimer};
