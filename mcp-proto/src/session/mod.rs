//! Client and server state machines.
//!
//! Both follow one contract. Input goes in through `handle_*` (bytes, whole messages, timer
//! expiry), application commands through plain methods (`respond`, `send_request`, ...), and
//! everything that results comes out through `poll_*`:
//!
//! 1. after any `handle_*` call or command, drain [`poll_transmit`](ServerSession::poll_transmit)
//!    and write each frame to its [`Route`];
//! 2. drain `poll_event` and act on each event;
//! 3. ask `poll_timeout` for the next deadline and call `handle_timeout` when it passes.
//!
//! Peer mistakes never surface as `Err`: they become JSON-RPC error frames or events. `Err`
//! ([`UsageError`]) is reserved for misuse of the API by the embedder.

mod client;
mod outbound;
mod outbox;
mod server;

pub use client::{
    ClientConfig, ClientEvent, ClientSession, ConnectError, EraPreference, RequestOptions,
    ServerDescription,
};
pub use outbound::Timeout;
pub use server::{
    DormantSession, RequestContext, ServerConfig, ServerEvent, ServerSession, SharedServerConfig,
    TaskParams,
};

use bytes::Bytes;

use crate::jsonrpc::{ErrorObject, RequestId};

/// Default largest frame accepted (4 MiB).
pub const DEFAULT_MAX_FRAME_LEN: usize = 4 * 1024 * 1024;

/// An encoded frame ready to be written, and where it belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct Transmit {
    /// Which stream the frame belongs on.
    pub route: Route,
    /// One JSON-RPC message followed by `\n` (ready for stdio; HTTP bodies may keep or trim it).
    pub frame: Bytes,
    /// What the frame is, so transports can tell when an exchange ends without parsing it.
    pub kind: FrameKind,
}

/// The kind of message a [`Transmit`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A request to the peer.
    Request,
    /// A notification.
    Notification,
    /// A successful response: on [`Route::Request`] it ends that exchange.
    Result,
    /// An error response with its code: on [`Route::Request`] it ends that exchange.
    Error(i64),
}

impl FrameKind {
    /// Whether this is a response (the last frame of its exchange).
    pub fn is_response(self) -> bool {
        matches!(self, FrameKind::Result | FrameKind::Error(_))
    }
}

/// Where a frame goes. On stdio every route is the same pipe; over HTTP each route is a
/// different response stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Route {
    /// The connection's general channel (stdio, or the legacy standalone GET stream).
    Session,
    /// The exchange of this incoming request: its response and its request-scoped messages.
    Request(RequestId),
}

/// Misuse of the API by the embedder (never caused by the peer).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UsageError {
    /// No in-flight request with this id (never received, or already answered).
    #[error("no in-flight request with id {0}")]
    UnknownRequest(RequestId),
    /// This message is not allowed in the session's current state or era.
    #[error("not allowed now: {0}")]
    NotAllowed(String),
    /// The peer did not declare the capability this needs.
    #[error("the peer did not declare capability {0}")]
    MissingCapability(&'static str),
    /// A configured limit was reached.
    #[error("limit reached: {0}")]
    Limit(&'static str),
    /// The value could not be encoded as JSON.
    #[error("encoding failed: {0}")]
    Encode(String),
    /// A progress value did not increase.
    #[error("progress must increase (last {last}, got {got})")]
    ProgressNotIncreasing {
        /// Previous value.
        last: f64,
        /// Refused value.
        got: f64,
    },
    /// The session is closed.
    #[error("session closed")]
    Closed,
}

/// How an outgoing request ended without a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// The peer answered with an error.
    #[error("peer error: {0}")]
    Rpc(ErrorObject),
    /// No answer in time (a cancellation was sent).
    #[error("request timed out")]
    Timeout,
    /// The result did not have the shape the method requires.
    #[error("malformed result: {0}")]
    Malformed(String),
    /// The peer ended it (a server tearing down a listen stream with `notifications/cancelled`).
    #[error("cancelled by the peer{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    CancelledByPeer(Option<String>),
    /// The session closed first.
    #[error("session closed")]
    Closed,
    /// The transport lost the request before the peer could read it (an HTTP stream
    /// resumed past what was kept); a cancellation was sent.
    #[error("request lost in transit: {0}")]
    Lost(String),
}

/// Something the peer did wrong that has no reply frame (a response to nothing, a malformed
/// notification, ...). Reported so embedders can log or count it.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerFault {
    /// What was wrong.
    pub message: String,
}

impl PeerFault {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        PeerFault {
            message: message.into(),
        }
    }
}
