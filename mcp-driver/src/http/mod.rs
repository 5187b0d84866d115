//! Streamable HTTP over hyper, for every runtime: the runtime supplies byte streams (accepted
//! or connected sockets, as futures-io) and this module runs HTTP/1.1 on them, with the
//! protocol decisions made by [`mcp_proto::http`].

pub mod client;
mod io;
pub mod oauth;
pub mod server;

pub use io::{HyperIo, RtExecutor, RtTimer};
