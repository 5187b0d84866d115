//! Streamable HTTP as data: which request is acceptable, what it means, and what goes back.
//!
//! The transport (hyper, or anything else) parses HTTP and hands this module the method, the
//! path, a view of the headers and the body. [`HttpServer::classify`] answers with either a
//! finished [`Response`] (a refusal: 403, 404, 413 ...) or an [`Exchange`] that says which
//! session serves the message. [`HttpEndpoint`] wraps it with the legacy session table and
//! the stream limits: every admission decision of a server is made there. Per session, [`HttpStreams`] routes the session's
//! [`Transmit`](crate::session::Transmit)s onto response streams: JSON bodies, SSE streams
//! with event ids and priming events, resumption from an [`EventStore`], keep-alives.
//! [`SessionTable`] keeps legacy sessions with their limits and idle expiry.
//!
//! Both eras are served at one endpoint:
//! - 2025-03-26 … 2025-11-25: `Mcp-Session-Id` sessions opened by `initialize`, a GET stream
//!   for server messages, DELETE to end a session, resumable SSE streams;
//! - 2026-07-28: every POST stands alone, `Mcp-Method`/`Mcp-Name` must match the body, and
//!   closing a response stream cancels its request.

pub mod base64;
mod client;
mod endpoint;
mod gate;
mod params;
mod sessions;
mod streams;

pub use client::{
    ExchangeId, FailureKind, Header, HttpClient, HttpClientConfig, HttpClientEvent, HttpError,
    HttpRequest,
};
pub use endpoint::{session_not_found, Admitted, HttpEndpoint, Opened, StreamSlot};
pub use gate::{Exchange, HttpServer, HttpServerConfig, Origins};
pub use params::{check_param_headers, header_params, BadAnnotation, HeaderParam};
pub use sessions::{Inserted, SessionFull, SessionTable};
pub use streams::{Chunk, EventStore, Head, HttpStreams, MemoryEventStore, StreamConfig, StreamId};

use bytes::Bytes;

/// Header names used by MCP, lowercase (HTTP header names are case-insensitive).
pub mod header {
    /// Session id of a legacy session.
    pub const SESSION_ID: &str = "mcp-session-id";
    /// Protocol version of the request.
    pub const PROTOCOL_VERSION: &str = "mcp-protocol-version";
    /// 2026-07-28: the JSON-RPC method of the body.
    pub const METHOD: &str = "mcp-method";
    /// 2026-07-28: `params.name` or `params.uri` of the body.
    pub const NAME: &str = "mcp-name";
    /// SSE resumption point.
    pub const LAST_EVENT_ID: &str = "last-event-id";
    /// Browser origin (DNS-rebinding protection).
    pub const ORIGIN: &str = "origin";
    /// Target host (DNS-rebinding protection).
    pub const HOST: &str = "host";
    /// Media types the client accepts.
    pub const ACCEPT: &str = "accept";
    /// Media type of the body.
    pub const CONTENT_TYPE: &str = "content-type";
    /// Bearer tokens.
    pub const AUTHORIZATION: &str = "authorization";
}

/// The HTTP methods MCP uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Messages from the client.
    Post,
    /// Legacy: the server-message stream, or resumption of a stream.
    Get,
    /// Legacy: ends a session.
    Delete,
    /// Anything else (answered with 405).
    Other,
}

impl Method {
    /// From the method token.
    pub fn parse(s: &str) -> Method {
        match s {
            "POST" => Method::Post,
            "GET" => Method::Get,
            "DELETE" => Method::Delete,
            _ => Method::Other,
        }
    }
}

/// Read access to request headers; implement it over the transport's header map so nothing
/// is copied.
pub trait Headers {
    /// The first value of header `name` (given in lowercase), if present.
    fn get(&self, name: &str) -> Option<&[u8]>;

    /// The value as text, if present and visible ASCII.
    fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }
}

impl Headers for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_bytes())
    }
}

impl<const N: usize> Headers for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<&[u8]> {
        Headers::get(self.as_slice(), name)
    }
}

/// A response to write: status, headers, body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Headers besides the framing ones the transport adds (`content-length` ...).
    pub headers: Vec<(&'static str, String)>,
    /// What follows the head.
    pub body: Body,
}

/// A response body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// No body.
    Empty,
    /// A complete body (JSON).
    Full(Bytes),
    /// An SSE stream: pull its chunks from the session's [`HttpStreams`].
    Stream(StreamId),
}

impl Response {
    /// A response with no body.
    pub fn status(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A JSON body (`application/json`).
    pub fn json(status: u16, body: Bytes) -> Response {
        Response {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: Body::Full(body),
        }
    }

    /// A JSON-RPC error response with no id, as JSON.
    pub fn rpc_error(status: u16, error: &crate::jsonrpc::ErrorObject) -> Response {
        Self::rpc_error_for(status, None, error)
    }

    /// A JSON-RPC error response for `id`, as JSON.
    pub fn rpc_error_for(
        status: u16,
        id: Option<&crate::jsonrpc::RequestId>,
        error: &crate::jsonrpc::ErrorObject,
    ) -> Response {
        let body = serde_json::to_vec(&crate::jsonrpc::OutError {
            jsonrpc: crate::jsonrpc::JSONRPC_VERSION,
            id,
            error,
        })
        .unwrap_or_default();
        Response::json(status, Bytes::from(body))
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of header `name`, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The status a 2026-07-28 server gives a JSON-RPC error that ends a request by itself.
pub fn modern_error_status(code: i64) -> u16 {
    use crate::jsonrpc::code;
    match code {
        code::METHOD_NOT_FOUND => 404,
        code::PARSE_ERROR | code::INVALID_REQUEST => 400,
        code::HEADER_MISMATCH
        | code::MISSING_REQUIRED_CLIENT_CAPABILITY
        | code::UNSUPPORTED_PROTOCOL_VERSION => 400,
        _ => 200,
    }
}

/// Decodes the `=?base64?…?=` sentinel form of `Mcp-Name` and `Mcp-Param-*` values; plain
/// values come back as they are. `None` when the value is not valid (bad base64, not UTF-8,
/// or characters a header may not carry).
pub fn decode_header_value(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    if let Some(inner) = text
        .strip_prefix("=?base64?")
        .and_then(|t| t.strip_suffix("?="))
    {
        let bytes = base64::decode(inner)?;
        return String::from_utf8(bytes).ok();
    }
    if text
        .bytes()
        .all(|b| b == b'\t' || (0x20..=0x7e).contains(&b))
    {
        Some(text.trim_matches([' ', '\t']).to_owned())
    } else {
        None
    }
}
