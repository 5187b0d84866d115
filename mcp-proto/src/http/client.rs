//! The streamable HTTP client as data: which HTTP requests a [`ClientSession`]'s frames
//! become, and what the responses mean.
//!
//! [`HttpClient`] sits between a [`ClientSession`] and an HTTP library. It takes the session's
//! [`Transmit`]s and answers with [`HttpRequest`]s (method, URL, headers, body); the transport
//! reports each response's head, body bytes and end (or failure), and the client hands back
//! the JSON-RPC messages to feed into [`ClientSession::handle_message`]. Everything that
//! depends on time (reconnection delays, backoff) is scheduled through
//! [`poll_timeout`](HttpClient::poll_timeout); nothing here reads a clock.
//!
//! What it does, per era:
//! - 2026-07-28: every message is a POST with `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`
//!   and the `Mcp-Param-*` headers that tools declare with `x-mcp-header` (learned from
//!   `tools/list`; tools with invalid annotations are removed from the list). Cancelling a
//!   request closes its stream instead of posting `notifications/cancelled`.
//! - 2025-03-26 … 2025-11-25: the `Mcp-Session-Id` the server assigns, the negotiated
//!   `MCP-Protocol-Version`, a standalone GET stream for server messages (405: the server has
//!   none), resumption of a response stream that ends early with GET + `Last-Event-ID` after
//!   the server's `retry`, re-initialization when the server answers 404 for the session, and
//!   DELETE on close.
//! - 2024-11-05 HTTP+SSE: when `initialize` is refused with 400, 404 or 405 and a body that is
//!   not a modern JSON-RPC error, a GET to the URL waits for the `endpoint` event; messages are
//!   then posted there and every answer arrives on the GET stream.
//!
//! Era detection itself is the session's (`server/discover`, then `initialize`); this layer
//! turns HTTP refusals of the probe into JSON-RPC errors the session understands, retries a
//! probe refused as an unsupported version when the server lists ours, and never lets a
//! refused request hang: every request ends with its response or with a JSON-RPC error whose
//! `data` carries the [`HttpError`] (see [`HttpError::from_error_object`]).
//!
//! Failures back off: a connection that cannot be opened is retried after
//! `backoff_initial`, doubling up to `backoff_max`, at most `max_attempts` times; a stream
//! reconnects no sooner than the server's `retry` (clamped to `backoff_max`, so a hostile
//! `retry: 99999999999` cannot park it forever) and gives up after `max_reconnects`
//! reconnections in a row that brought no message.
//!
//! Stalls are deadlines here too, reported through [`poll_timeout`](HttpClient::poll_timeout)
//! like everything else, so a stalled server cannot hold the transport's connections:
//! - *No response head*: an exchange that carries no request (a notification, an answer to
//!   the server, a GET stream, DELETE) fails or reconnects when its head has not come
//!   `response_timeout` after [`handle_sent`](HttpClient::handle_sent). A POST carrying a
//!   request is exempt: a server answering with JSON sends the head only with the result,
//!   and the session's own request timeout already bounds the wait (when it fires, the
//!   cancellation aborts the exchange).
//! - *A stalled JSON body*: no byte for `idle_timeout` once the head came.
//! - *A dead SSE stream*: what counts as alive is any byte. A stream that brought none for
//!   `stream_idle_timeout` (so not even a keep-alive comment: a vanished server, a broken
//!   path) is cut, then resumed with `Last-Event-ID` or reconnected when that loses nothing
//!   (the standalone stream, resumable response streams), and otherwise failed with
//!   [`HttpError::TimedOut`].
//! - *A stream saying nothing*: bytes that are only keep-alive comments (or never complete
//!   an event) for `stream_quiet_timeout` prove the connection, not the server's MCP layer.
//!   Such a stream is reconnected when that loses nothing; a stream that cannot be resumed is
//!   left to its request's timeout instead, because a 2026-07-28 listen stream or a long call
//!   may rightly carry only keep-alives for hours.
//!
//! [`ClientSession`]: crate::session::ClientSession
//! [`ClientSession::handle_message`]: crate::session::ClientSession::handle_message
//! [`Transmit`]: crate::session::Transmit

mod receive;
mod sessions;
mod stall;
mod tool_headers;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::{base64, header, Headers, Method};
use crate::codec::{SseDecoder, SseItem};
use crate::jsonrpc::{code, ErrorObject, RawMessage, RequestId};
use crate::schema::messages::method;
use crate::session::Transmit;
use tool_headers::ParamHeader;

/// The modern protocol version, as sent in headers.
const MODERN: &str = "2026-07-28";

/// Largest error body read from a refusal (only its JSON-RPC error or first words are used).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// How many characters of a non-JSON error body an [`HttpError::Status`] keeps.
const ERROR_SNIPPET: usize = 200;

/// Configuration of an [`HttpClient`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpClientConfig {
    /// The MCP endpoint (`http://host:port/path`).
    pub url: String,
    /// Largest JSON body or SSE event accepted; larger ones fail their exchange.
    pub max_body_len: usize,
    /// Reconnection delay of a stream whose server sent no `retry`.
    pub default_retry: Duration,
    /// First delay after a failed attempt; doubles per failure.
    pub backoff_initial: Duration,
    /// Longest delay between attempts.
    pub backoff_max: Duration,
    /// Attempts to send one message before it fails (connections refused, 5xx on streams).
    pub max_attempts: u32,
    /// Reconnections in a row of one stream that bring no message before it is given up.
    pub max_reconnects: u32,
    /// Re-initializations in a row (session expired again before anything succeeded).
    pub max_reinitializations: u32,
    /// Open the legacy standalone GET stream after initialization.
    pub standalone_stream: bool,
    /// Fall back to the 2024-11-05 HTTP+SSE transport when `initialize` is refused.
    pub legacy_sse_fallback: bool,
    /// Longest wait for the response head of an exchange carrying no request, counted from
    /// [`HttpClient::handle_sent`] (`None`: no limit).
    pub response_timeout: Option<Duration>,
    /// Longest gap between the bytes of a JSON (not SSE) response body.
    pub idle_timeout: Option<Duration>,
    /// Longest an SSE stream may send no byte at all before it counts as dead.
    pub stream_idle_timeout: Option<Duration>,
    /// Longest a stream that can be resumed or reopened without loss may carry only
    /// keep-alive comments (no event, `id` or `retry`) before it is reconnected.
    pub stream_quiet_timeout: Option<Duration>,
}

crate::__config_setters!(HttpClientConfig {
    with_url => url: String,
    with_max_body_len => max_body_len: usize,
    with_default_retry => default_retry: Duration,
    with_backoff_initial => backoff_initial: Duration,
    with_backoff_max => backoff_max: Duration,
    with_max_attempts => max_attempts: u32,
    with_max_reconnects => max_reconnects: u32,
    with_max_reinitializations => max_reinitializations: u32,
    with_standalone_stream => standalone_stream: bool,
    with_legacy_sse_fallback => legacy_sse_fallback: bool,
    with_response_timeout => response_timeout: Option<Duration>,
    with_idle_timeout => idle_timeout: Option<Duration>,
    with_stream_idle_timeout => stream_idle_timeout: Option<Duration>,
    with_stream_quiet_timeout => stream_quiet_timeout: Option<Duration>,
});

impl HttpClientConfig {
    /// Defaults for `url`: 4 MiB bodies, 1 s default retry, backoff from 250 ms to 30 s,
    /// 5 attempts, 10 quiet reconnections, 3 re-initializations; 30 s for a response head or
    /// a body gap, 90 s of silence for an SSE stream (six keep-alive periods of a server
    /// sending one every 15 s, and above the session's 60 s default request timeout, so it
    /// never fails a call the session would not), 10 minutes of keep-alives only.
    pub fn new(url: impl Into<String>) -> Self {
        HttpClientConfig {
            url: url.into(),
            max_body_len: crate::session::DEFAULT_MAX_FRAME_LEN,
            default_retry: Duration::from_secs(1),
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            max_attempts: 5,
            max_reconnects: 10,
            max_reinitializations: 3,
            standalone_stream: true,
            legacy_sse_fallback: true,
            response_timeout: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(30)),
            stream_idle_timeout: Some(Duration::from_secs(90)),
            stream_quiet_timeout: Some(Duration::from_secs(600)),
        }
    }
}

/// Identifies one HTTP exchange (one request and its response) between the client and the
/// transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExchangeId(pub u64);

/// One request header: a lowercase name and its value. Both are usually constants, so
/// building a request's headers allocates little.
pub type Header = (Cow<'static, str>, Cow<'static, str>);

/// An HTTP request to send.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// Report the response under this id.
    pub id: ExchangeId,
    /// POST, GET or DELETE.
    pub method: Method,
    /// Absolute URL (shared with the client's own copy, not copied per request).
    pub url: Arc<str>,
    /// Headers (lowercase names). The transport adds `host`, framing headers and its own
    /// (authorization, custom headers) unless already present.
    pub headers: Vec<Header>,
    /// Body (empty for GET and DELETE).
    pub body: Bytes,
    /// Whether the response may stay open indefinitely (an SSE stream the client listens
    /// on), so transports apply no whole-response timeout.
    pub long_lived: bool,
}

impl HttpRequest {
    /// The value of header `name`, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| &**v)
    }
}

/// How an exchange failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No connection could be opened: nothing was sent, so the request is safe to repeat.
    Connect,
    /// The connection broke after the request was (maybe) sent, or the response was cut.
    Io,
}

/// Why a request failed at the HTTP level. Carried in the `data` of the JSON-RPC error the
/// session receives, so callers can tell a refused token from a dead server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum HttpError {
    /// 401: the server wants (other) credentials. `www_authenticate` is the challenge an
    /// OAuth client needs to find the authorization server and scopes.
    #[error("unauthorized (HTTP 401)")]
    Unauthorized {
        /// The `WWW-Authenticate` header.
        www_authenticate: Option<String>,
    },
    /// 403: the credentials lack a permission (for OAuth: `insufficient_scope`).
    #[error("forbidden (HTTP 403)")]
    Forbidden {
        /// The `WWW-Authenticate` header.
        www_authenticate: Option<String>,
    },
    /// Another refusal without a JSON-RPC error body.
    #[error("HTTP {status}: {message}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the body.
        message: String,
    },
    /// No connection after every attempt.
    #[error("server unreachable after {attempts} attempts: {reason}")]
    Unreachable {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        reason: String,
    },
    /// The connection broke during the exchange.
    #[error("transport failed: {message}")]
    Transport {
        /// What broke.
        message: String,
    },
    /// The response stream ended before the response and cannot be resumed.
    #[error("the response stream ended before the response")]
    StreamEnded,
    /// Resuming the response stream failed every time.
    #[error("resuming the response stream failed {attempts} times")]
    ResumeFailed {
        /// Reconnections made.
        attempts: u32,
    },
    /// A body or event larger than the configured limit.
    #[error("response larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A response that is not what MCP allows here.
    #[error("unexpected response: {message}")]
    BadResponse {
        /// What was wrong.
        message: String,
    },
    /// The server ended the session and re-initializing failed.
    #[error("the session expired and could not be re-initialized")]
    SessionExpired,
    /// The server stalled: no response head, a body that stopped, a silent stream.
    #[error("timed out: {message}")]
    TimedOut {
        /// What did not come in time.
        message: String,
    },
}

/// The `data` key under which a synthesized error carries its [`HttpError`].
const DATA_KEY: &str = "httpTransport";

impl HttpError {
    /// The JSON-RPC error a request fails with when this happens to it.
    pub fn to_error_object(&self) -> ErrorObject {
        let mut data = serde_json::Map::new();
        data.insert(
            DATA_KEY.into(),
            serde_json::to_value(self).unwrap_or(Value::Null),
        );
        ErrorObject {
            code: code::INTERNAL_ERROR,
            message: self.to_string(),
            data: Some(Value::Object(data)),
        }
    }

    /// The transport failure behind a request's error, if it was one.
    pub fn from_error_object(e: &ErrorObject) -> Option<HttpError> {
        let v = e.data.as_ref()?.get(DATA_KEY)?;
        HttpError::deserialize(v).ok()
    }
}

/// Something the embedder may want to know or log.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpClientEvent {
    /// The connection cannot go on (handshake refused, server unreachable, session lost):
    /// close the session with this reason.
    Failed(HttpError),
    /// The server speaks the 2024-11-05 HTTP+SSE transport; messages now go to `endpoint`.
    LegacySseTransport {
        /// Where messages are posted.
        endpoint: String,
    },
    /// The server ended the session (404); a new one is being initialized.
    SessionExpired,
    /// The new session is ready; held messages were sent.
    Reinitialized,
    /// A tool was removed from a `tools/list` result for invalid `x-mcp-header` annotations.
    ToolRejected {
        /// The tool.
        tool: String,
        /// Why.
        reason: String,
    },
    /// An exchange that no request waits for failed (a notification, an answer to the
    /// server, the standalone stream).
    ExchangeFailed {
        /// The message's method, or the stream's role.
        what: String,
        /// Why.
        error: HttpError,
    },
}

/// What an exchange is for.
#[derive(Debug, Clone)]
enum Purpose {
    /// A message POST.
    Post(Post),
    /// The legacy standalone GET stream.
    Standalone,
    /// Resumption of response streams that ended early; waits for these requests.
    Resume(Vec<RequestId>),
    /// The 2024-11-05 GET stream.
    SseConnect,
    /// Ending the legacy session.
    Delete,
}

#[derive(Debug, Clone)]
struct Post {
    /// The request's id when the message is a request.
    rpc: Option<RequestId>,
    method: Cow<'static, str>,
    frame: Bytes,
    /// Carries 2026-07-28 `_meta`.
    modern: bool,
    /// What a 2026-07-28 `Mcp-Name` names: the tool, prompt, resource or task.
    target: Option<String>,
    internal: Internal,
    /// Already re-sent once after an unsupported-version refusal.
    version_retried: bool,
}

/// A call refused for its `Mcp-Param-*` headers, waiting for the tool list to be re-read.
#[derive(Debug)]
struct Refresh {
    post: Post,
    /// The refusal, reported if the list cannot be read.
    refusal: Bytes,
}

/// The refusal of `post` as the error response the session would have received.
fn rpc_error_bytes_for(post: &Post, e: &ErrorObject) -> Bytes {
    match &post.rpc {
        Some(id) => rpc_error_bytes(id, e),
        None => Bytes::new(),
    }
}

/// Messages this layer sends on its own (re-initialization), whose answers the session
/// must not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Internal {
    No,
    Reinit,
    ReinitNotify,
}

#[derive(Debug)]
enum BodyState {
    /// No response head yet.
    Head,
    /// Collecting a JSON body; `error` is the status of a refusal.
    Json {
        buf: BytesMut,
        error: Option<u16>,
    },
    Sse {
        dec: SseDecoder,
        buf: BytesMut,
    },
    Discard,
}

#[derive(Debug)]
struct Exchange {
    purpose: Purpose,
    method: Method,
    url: Arc<str>,
    headers: Vec<Header>,
    body: Bytes,
    /// Attempts in a row that brought nothing (connection failures, quiet streams).
    failures: u32,
    state: BodyState,
    /// When set, the exchange waits to be (re)sent.
    due: Option<Instant>,
    www_authenticate: Option<String>,
    delivered: bool,
    last_event_id: String,
    retry: Option<Duration>,
    /// When the current wait began: the request went out, the head came, the last byte.
    /// `None` until [`HttpClient::handle_sent`]: no stall deadline runs before that.
    active: Option<Instant>,
    /// When the stream last carried more than keep-alives (an event, `id` or `retry`).
    spoke: Option<Instant>,
}

/// What an exchange is waiting for when its deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stall {
    Head,
    Body,
    Silent,
    Quiet,
}

impl Stall {
    fn describe(self) -> &'static str {
        match self {
            Stall::Head => "no response head",
            Stall::Body => "the response body stopped",
            Stall::Silent => "the stream went silent",
            Stall::Quiet => "the stream carried only keep-alives",
        }
    }
}

#[derive(Debug)]
struct Outstanding {
    method: Cow<'static, str>,
    modern: bool,
    /// The exchange the response is expected on.
    exchange: ExchangeId,
}

/// The transport in use.
#[derive(Debug, Clone, PartialEq)]
enum Transport {
    Streamable,
    /// 2024-11-05: the endpoint once known.
    LegacySse(Option<String>),
}

/// The client side of streamable HTTP (both eras, and the 2024-11-05 fallback) as a state
/// machine over HTTP exchanges.
///
/// Inputs: [`handle_transmit`](Self::handle_transmit) for each frame the session produces,
/// then per exchange [`handle_response`](Self::handle_response),
/// [`handle_body`](Self::handle_body) and [`handle_end`](Self::handle_end) or
/// [`handle_failure`](Self::handle_failure); [`handle_timeout`](Self::handle_timeout) when
/// [`poll_timeout`](Self::poll_timeout) passes. Outputs, drained after every input in this
/// order: [`poll_abort`](Self::poll_abort) (stop reading and drop these exchanges),
/// [`poll_request`](Self::poll_request) (send), [`poll_message`](Self::poll_message) (feed to
/// the session), [`poll_event`](Self::poll_event).
#[derive(Debug)]
pub struct HttpClient {
    config: HttpClientConfig,
    next_id: u64,
    exchanges: BTreeMap<ExchangeId, Exchange>,
    outstanding: HashMap<RequestId, Outstanding>,
    requests: VecDeque<HttpRequest>,
    aborts: VecDeque<ExchangeId>,
    messages: VecDeque<Bytes>,
    events: VecDeque<HttpClientEvent>,
    transport: Transport,
    session_id: Option<String>,
    /// Negotiated legacy version.
    version: Option<String>,
    /// The `initialize` frame and its id, replayed to re-initialize or on the SSE endpoint.
    init: Option<(RequestId, Bytes, String)>,
    initialized_frame: Option<Bytes>,
    probe: Option<RequestId>,
    /// Messages held while a new session or the SSE endpoint is being set up.
    held: Option<Vec<Post>>,
    reinits: u32,
    /// The refusal of `initialize` to report if the 2024-11-05 fallback fails.
    init_refusal: Option<ErrorObject>,
    /// `x-mcp-header` parameters per tool name, from `tools/list`.
    tool_headers: HashMap<String, Vec<ParamHeader>>,
    /// A handshake answer arrived: failures are no longer fatal.
    connected: bool,
    /// `server/discover` succeeded: 2026-07-28 is spoken.
    modern_era: bool,
    /// Internal `tools/list` requests (after a `HeaderMismatch`) and the calls waiting on them.
    refreshes: HashMap<RequestId, Refresh>,
    closed: bool,
    /// `config.url`, shared by every request to it.
    url: Arc<str>,
}

impl HttpClient {
    /// A client for `config.url`; nothing is sent until the session's first frame.
    pub fn new(config: HttpClientConfig) -> Self {
        HttpClient {
            url: Arc::from(config.url.as_str()),
            config,
            next_id: 0,
            exchanges: BTreeMap::new(),
            outstanding: HashMap::new(),
            requests: VecDeque::new(),
            aborts: VecDeque::new(),
            messages: VecDeque::new(),
            events: VecDeque::new(),
            transport: Transport::Streamable,
            session_id: None,
            version: None,
            init: None,
            initialized_frame: None,
            probe: None,
            held: None,
            reinits: 0,
            init_refusal: None,
            tool_headers: HashMap::new(),
            connected: false,
            modern_era: false,
            refreshes: HashMap::new(),
            closed: false,
        }
    }

    // ----- getters -------------------------------------------------------------------------

    /// The legacy session id, once the server assigned one.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// Whether the 2024-11-05 HTTP+SSE transport is in use.
    pub fn is_legacy_sse(&self) -> bool {
        matches!(self.transport, Transport::LegacySse(_))
    }

    /// Exchanges sent or waiting to be sent (after [`close`](Self::close): 0 once the DELETE
    /// is done).
    pub fn exchanges(&self) -> usize {
        self.exchanges.len()
    }

    // ----- polls ---------------------------------------------------------------------------

    /// Next HTTP request to send. Drain after every input.
    #[must_use]
    pub fn poll_request(&mut self) -> Option<HttpRequest> {
        self.requests.pop_front()
    }

    /// Next exchange to abandon: stop reading its response and report nothing more for it.
    #[must_use]
    pub fn poll_abort(&mut self) -> Option<ExchangeId> {
        self.aborts.pop_front()
    }

    /// Next JSON-RPC message for the session's `handle_message`.
    #[must_use]
    pub fn poll_message(&mut self) -> Option<Bytes> {
        self.messages.pop_front()
    }

    /// Next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<HttpClientEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next (a delayed retry or
    /// reconnection, or the stall deadline of an exchange in progress).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.exchanges
            .values()
            .filter_map(|e| e.due.or_else(|| self.stall_deadline(e).map(|(t, _)| t)))
            .min()
    }

    // ----- input: the session ----------------------------------------------------------------

    /// Turns one of the session's frames into HTTP (or, for a 2026-07-28 cancellation, into
    /// closing the cancelled request's stream).
    pub fn handle_transmit(&mut self, now: Instant, transmit: Transmit) {
        let _ = now;
        if self.closed {
            return;
        }
        let frame = transmit.frame;
        let Ok(text) = std::str::from_utf8(&frame) else {
            return;
        };
        let Ok(msg) = RawMessage::parse(text.trim_end()) else {
            return;
        };
        let (rpc, method_name, params) = match &msg {
            RawMessage::Request { id, method, params } => {
                (Some(id.clone()), method::cow(method), *params)
            }
            RawMessage::Notification { method, params } => (None, method::cow(method), *params),
            RawMessage::Response { .. } | RawMessage::Error { .. } => {
                (None, Cow::Borrowed("response"), None)
            }
        };
        // One pass over the params for everything the transport needs from them.
        let probe = params
            .and_then(|p| serde_json::from_str::<ParamsProbe<'_>>(p.get()).ok())
            .unwrap_or_default();
        let modern = probe
            .meta
            .and_then(|m| serde_json::from_str::<MetaProbe>(m.get()).ok())
            .is_some_and(|m| m.version.is_some());
        let target = modern.then(|| probe.target(&method_name)).flatten();

        if method_name == method::CANCELLED {
            let cancelled = probe
                .request_id
                .and_then(|r| serde_json::from_str::<RequestId>(r.get()).ok());
            if let Some(id) = cancelled {
                let was_modern = self.outstanding.get(&id).is_some_and(|o| o.modern);
                self.forget_request(&id);
                if was_modern || self.modern_era {
                    // 2026-07-28 over HTTP: closing the stream is the cancellation.
                    return;
                }
            }
        }
        let post = Post {
            rpc: rpc.clone(),
            method: method_name.clone(),
            frame: frame.clone(),
            modern,
            target,
            internal: Internal::No,
            version_retried: false,
        };
        if method_name == method::INITIALIZE {
            if let Some(id) = &rpc {
                let version = probe
                    .protocol_version
                    .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
                    .unwrap_or_default();
                self.init = Some((id.clone(), post.frame.clone(), version));
            }
            // The probe is over once the session falls back (timed out or refused).
            if let Some(probe) = self.probe.take() {
                self.forget_request(&probe);
            }
        }
        if method_name == method::DISCOVER && self.probe.is_none() && !self.connected {
            self.probe = rpc.clone();
        }
        let initialized = method_name == method::INITIALIZED;
        if initialized {
            self.initialized_frame = Some(post.frame.clone());
        }
        if let Some(held) = &mut self.held {
            if let Some(id) = &rpc {
                self.outstanding.insert(
                    id.clone(),
                    Outstanding {
                        method: method_name,
                        modern,
                        exchange: ExchangeId(u64::MAX),
                    },
                );
            }
            held.push(post);
            return;
        }
        self.send_post(post);
        if initialized {
            self.open_standalone();
        }
    }

    /// Ends the connection: DELETE for a legacy session, every stream closed. Keep driving
    /// until [`exchanges`](Self::exchanges) is 0 (or give up after a grace period).
    pub fn close(&mut self, now: Instant) {
        let _ = now;
        if self.closed {
            return;
        }
        self.closed = true;
        let ids: Vec<ExchangeId> = self.exchanges.keys().copied().collect();
        for id in ids {
            self.abort(id);
        }
        self.outstanding.clear();
        self.held = None;
        if let (Some(sid), Transport::Streamable) = (&self.session_id, &self.transport) {
            let mut headers = vec![hdr(header::SESSION_ID, sid.clone())];
            if let Some(v) = &self.version {
                headers.push(hdr(header::PROTOCOL_VERSION, v.clone()));
            }
            self.start(
                Purpose::Delete,
                Method::Delete,
                self.url.clone(),
                headers,
                Bytes::new(),
            );
        }
    }

    // ----- input: the transport ---------------------------------------------------------------

    /// The request of exchange `id` went out (the transport has a connection for it): from
    /// now on its response head is awaited against `response_timeout`. A transport that
    /// never calls this gets no response-head deadlines.
    pub fn handle_sent(&mut self, now: Instant, id: ExchangeId) {
        if let Some(ex) = self.exchanges.get_mut(&id) {
            ex.active = Some(now);
        }
    }

    /// The response head of exchange `id`.
    pub fn handle_response<H: Headers + ?Sized>(
        &mut self,
        now: Instant,
        id: ExchangeId,
        status: u16,
        headers: &H,
    ) {
        let legacy_sse = matches!(self.transport, Transport::LegacySse(_));
        let limit = self.config.max_body_len;
        let Some(ex) = self.exchanges.get_mut(&id) else {
            return;
        };
        ex.active = Some(now);
        ex.spoke = Some(now);
        ex.www_authenticate = headers.get_str("www-authenticate").map(str::to_owned);
        let content_type = headers
            .get_str(header::CONTENT_TYPE)
            .unwrap_or("")
            .to_ascii_lowercase();
        let sse = content_type.starts_with("text/event-stream");
        let ok = (200..300).contains(&status);
        let sse_state = || BodyState::Sse {
            dec: SseDecoder::new(limit),
            buf: BytesMut::new(),
        };
        let json = content_type.starts_with("application/json") || !matches!(status, 202 | 204);
        let (post_internal, assigns) = match &ex.purpose {
            Purpose::Post(p) => (Some(p.internal), p.method == method::INITIALIZE),
            _ => (None, false),
        };
        match post_internal {
            Some(_) if ok => {
                ex.state = if legacy_sse {
                    BodyState::Discard
                } else if sse {
                    sse_state()
                } else if json {
                    BodyState::Json {
                        buf: BytesMut::new(),
                        error: None,
                    }
                } else {
                    BodyState::Discard
                };
                if assigns && !legacy_sse {
                    if let Some(sid) = headers.get_str(header::SESSION_ID) {
                        self.session_id = Some(sid.to_owned());
                    }
                }
            }
            Some(internal) => {
                let expired = status == 404
                    && internal == Internal::No
                    && ex.headers.iter().any(|(k, _)| k == header::SESSION_ID);
                if !expired {
                    ex.state = BodyState::Json {
                        buf: BytesMut::new(),
                        error: Some(status),
                    };
                    return;
                }
                self.aborts.push_back(id);
                let sent = ex.headers.clone();
                let stale = self.sent_on_older_session(&sent);
                if let Some(Exchange {
                    purpose: Purpose::Post(post),
                    ..
                }) = self.exchanges.remove(&id)
                {
                    if stale {
                        // A newer session already replaced the one this went out on.
                        self.send_post(post);
                    } else {
                        self.session_expired(now, Some(post));
                    }
                }
            }
            None if matches!(ex.purpose, Purpose::Delete) => ex.state = BodyState::Discard,
            None if ok && sse => ex.state = sse_state(),
            None => {
                self.aborts.push_back(id);
                if let Some(ex) = self.exchanges.remove(&id) {
                    self.stream_refused(now, ex, status);
                }
            }
        }
    }

    /// Body bytes of exchange `id`.
    pub fn handle_body(&mut self, now: Instant, id: ExchangeId, data: &[u8]) {
        let Some(ex) = self.exchanges.get_mut(&id) else {
            return;
        };
        let mut events = Vec::new();
        let mut too_large = false;
        if !data.is_empty() {
            ex.active = Some(now);
        }
        match &mut ex.state {
            BodyState::Head | BodyState::Discard => {}
            BodyState::Json { buf, error } => {
                let limit = if error.is_some() {
                    MAX_ERROR_BODY.min(self.config.max_body_len)
                } else {
                    self.config.max_body_len
                };
                if buf.len().saturating_add(data.len()) > limit {
                    if error.is_some() {
                        // Only the start of a refusal matters.
                        let room = limit.saturating_sub(buf.len());
                        buf.extend_from_slice(&data[..room.min(data.len())]);
                    } else {
                        too_large = true;
                    }
                } else {
                    buf.extend_from_slice(data);
                }
            }
            BodyState::Sse { dec, buf } => {
                buf.extend_from_slice(data);
                while let Some(item) = dec.decode(buf) {
                    events.push(item);
                }
            }
        }
        if too_large {
            let limit = self.config.max_body_len;
            self.fail_exchange(now, id, HttpError::BodyTooLarge { limit });
            return;
        }
        for item in events {
            self.sse_item(now, id, item);
        }
    }

    /// The response of exchange `id` ended normally.
    pub fn handle_end(&mut self, now: Instant, id: ExchangeId) {
        let Some(ex) = self.exchanges.get_mut(&id) else {
            return;
        };
        let mut tail = Vec::new();
        if let BodyState::Sse { dec, buf } = &mut ex.state {
            while let Some(item) = dec.finish(buf) {
                tail.push(item);
            }
        }
        for item in tail {
            self.sse_item(now, id, item);
        }
        let Some(ex) = self.exchanges.remove(&id) else {
            return;
        };
        match ex.purpose {
            Purpose::Post(ref post) => {
                let post = post.clone();
                self.post_ended(now, id, ex, post)
            }
            Purpose::Standalone | Purpose::Resume(_) => {
                let ex = Exchange {
                    state: BodyState::Head,
                    ..ex
                };
                self.reconnect(now, ex, None);
            }
            Purpose::SseConnect => {
                self.lost_legacy_stream(HttpError::StreamEnded);
            }
            Purpose::Delete => {}
        }
    }

    /// Exchange `id` failed below HTTP.
    pub fn handle_failure(
        &mut self,
        now: Instant,
        id: ExchangeId,
        kind: FailureKind,
        reason: &str,
    ) {
        let Some(ex) = self.exchanges.remove(&id) else {
            return;
        };
        let resumable = matches!(&ex.state, BodyState::Sse { .. });
        match (&ex.purpose, kind) {
            (Purpose::Post(_), FailureKind::Connect) => self.retry_post(now, ex, reason),
            (Purpose::Post(post), FailureKind::Io) => {
                if resumable && self.can_resume(post, &ex.last_event_id) {
                    return self.resume(now, post.rpc.iter().cloned().collect(), &ex);
                }
                let error = HttpError::Transport {
                    message: reason.to_owned(),
                };
                let post = post.clone();
                self.post_failed(&post, error);
            }
            (Purpose::Standalone | Purpose::Resume(_), _) => {
                let ex = Exchange {
                    state: BodyState::Head,
                    ..ex
                };
                self.reconnect(now, ex, Some(reason));
            }
            (Purpose::SseConnect, _) => {
                if matches!(self.transport, Transport::LegacySse(Some(_))) {
                    self.lost_legacy_stream(HttpError::Transport {
                        message: reason.to_owned(),
                    });
                } else {
                    self.legacy_sse_failed();
                }
            }
            (Purpose::Delete, _) => {}
        }
    }

    /// Sends what is due (retries after backoff, reconnections after `retry`) and ends
    /// exchanges whose stall deadline passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        let stalled: Vec<(ExchangeId, Stall)> = self
            .exchanges
            .iter()
            .filter(|(_, e)| e.due.is_none())
            .filter_map(|(id, e)| match self.stall_deadline(e) {
                Some((t, why)) if t <= now => Some((*id, why)),
                _ => None,
            })
            .collect();
        for (id, why) in stalled {
            self.stalled(now, id, why);
        }
        let due: Vec<ExchangeId> = self
            .exchanges
            .iter()
            .filter(|(_, e)| e.due.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(ex) = self.exchanges.get_mut(&id) {
                ex.due = None;
                let req = HttpRequest {
                    id,
                    method: ex.method,
                    url: ex.url.clone(),
                    headers: ex.headers.clone(),
                    body: ex.body.clone(),
                    long_lived: !matches!(ex.purpose, Purpose::Post(_) | Purpose::Delete),
                };
                self.requests.push_back(req);
            }
        }
    }

    // ----- internals: sending ------------------------------------------------------------------

    fn alloc(&mut self) -> ExchangeId {
        self.next_id += 1;
        ExchangeId(self.next_id)
    }

    /// Registers an exchange and queues its request now.
    fn start(
        &mut self,
        purpose: Purpose,
        method: Method,
        url: Arc<str>,
        headers: Vec<Header>,
        body: Bytes,
    ) -> ExchangeId {
        let id = self.alloc();
        let long_lived = !matches!(purpose, Purpose::Post(_) | Purpose::Delete);
        self.requests.push_back(HttpRequest {
            id,
            method,
            url: url.clone(),
            headers: headers.clone(),
            body: body.clone(),
            long_lived,
        });
        self.exchanges.insert(
            id,
            Exchange {
                purpose,
                method,
                url,
                headers,
                body,
                failures: 0,
                state: BodyState::Head,
                due: None,
                www_authenticate: None,
                delivered: false,
                last_event_id: String::new(),
                retry: None,
                active: None,
                spoke: None,
            },
        );
        id
    }

    /// Re-registers `ex` under a new id, to be sent at `due`.
    fn schedule(&mut self, mut ex: Exchange, due: Instant) -> ExchangeId {
        let id = self.alloc();
        ex.due = Some(due);
        ex.state = BodyState::Head;
        ex.delivered = false;
        ex.active = None;
        ex.spoke = None;
        self.exchanges.insert(id, ex);
        id
    }

    fn post_headers(&self, post: &Post) -> Vec<Header> {
        let mut h = vec![
            hdr(header::CONTENT_TYPE, "application/json"),
            hdr(header::ACCEPT, "application/json, text/event-stream"),
        ];
        if matches!(self.transport, Transport::LegacySse(_)) {
            return h;
        }
        if post.modern {
            h.push(hdr(header::PROTOCOL_VERSION, MODERN));
            h.push(hdr(header::METHOD, post.method.clone()));
            h.extend(self.modern_name_headers(post));
            return h;
        }
        let version = if post.method == method::INITIALIZE {
            self.init.as_ref().map(|(_, _, v)| v.clone())
        } else {
            self.version.clone()
        };
        if let Some(v) = version.filter(|v| !v.is_empty()) {
            h.push(hdr(header::PROTOCOL_VERSION, v));
        }
        if post.method != method::INITIALIZE {
            if let Some(sid) = &self.session_id {
                h.push(hdr(header::SESSION_ID, sid.clone()));
            }
        }
        h
    }

    /// `Mcp-Name` and the `Mcp-Param-*` headers of a 2026-07-28 request.
    fn modern_name_headers(&self, post: &Post) -> Vec<Header> {
        let mut out = Vec::new();
        let Some(name) = post.target.as_deref() else {
            return out;
        };
        out.push(hdr(header::NAME, base64::header_value(name)));
        if post.method == method::TOOLS_CALL {
            if let Some(declared) = self.tool_headers.get(name) {
                // Only calls of tools that declare parameter headers read their arguments.
                #[derive(Deserialize)]
                struct Frame {
                    params: Option<Params>,
                }
                #[derive(Deserialize)]
                struct Params {
                    arguments: Option<Value>,
                }
                let args = serde_json::from_slice::<Frame>(&post.frame)
                    .ok()
                    .and_then(|f| f.params)
                    .and_then(|p| p.arguments);
                for (k, val) in tool_headers::headers_for_call(declared, args.as_ref()) {
                    out.push((Cow::Owned(k), Cow::Owned(val)));
                }
            }
        }
        out
    }

    /// Whether a request went out with a session id other than the current one (so its
    /// 404 says nothing about the current session).
    pub(super) fn sent_on_older_session(&self, headers: &[Header]) -> bool {
        let sent = headers
            .iter()
            .find(|(k, _)| k == header::SESSION_ID)
            .map(|(_, v)| &**v);
        match (sent, self.session_id.as_deref()) {
            (Some(sent), Some(current)) => sent != current,
            _ => false,
        }
    }

    fn post_url(&self) -> Arc<str> {
        match &self.transport {
            Transport::LegacySse(Some(endpoint)) => Arc::from(endpoint.as_str()),
            _ => self.url.clone(),
        }
    }

    fn send_post(&mut self, post: Post) {
        let headers = self.post_headers(&post);
        let url = self.post_url();
        let rpc = post.rpc.clone();
        let (method_name, modern) = (post.method.clone(), post.modern);
        let body = trim_frame(&post.frame);
        let id = self.start(Purpose::Post(post), Method::Post, url, headers, body);
        if let Some(rpc) = rpc {
            self.outstanding.insert(
                rpc,
                Outstanding {
                    method: method_name,
                    modern,
                    exchange: id,
                },
            );
        }
    }

    fn open_standalone(&mut self) {
        if !self.config.standalone_stream
            || self.transport != Transport::Streamable
            || self.closed
            || self
                .exchanges
                .values()
                .any(|e| matches!(e.purpose, Purpose::Standalone))
        {
            return;
        }
        let headers = self.stream_headers(None);
        self.start(
            Purpose::Standalone,
            Method::Get,
            self.url.clone(),
            headers,
            Bytes::new(),
        );
    }

    fn stream_headers(&self, last_event_id: Option<&str>) -> Vec<Header> {
        let mut h = vec![hdr(header::ACCEPT, "text/event-stream")];
        if let Some(v) = &self.version {
            h.push(hdr(header::PROTOCOL_VERSION, v.clone()));
        }
        if let Some(sid) = &self.session_id {
            h.push(hdr(header::SESSION_ID, sid.clone()));
        }
        if let Some(last) = last_event_id.filter(|l| !l.is_empty()) {
            h.push(hdr(header::LAST_EVENT_ID, last.to_owned()));
        }
        h
    }

    fn abort(&mut self, id: ExchangeId) {
        if let Some(ex) = self.exchanges.remove(&id) {
            if ex.due.is_none() {
                self.aborts.push_back(id);
            }
        }
    }

    /// Drops a request: it was answered elsewhere, cancelled or failed. Its stream closes
    /// unless other requests still wait on it.
    fn forget_request(&mut self, id: &RequestId) {
        let Some(o) = self.outstanding.remove(id) else {
            return;
        };
        let close = match self.exchanges.get_mut(&o.exchange) {
            Some(Exchange {
                purpose: Purpose::Post(p),
                ..
            }) => p.rpc.as_ref() == Some(id),
            Some(Exchange {
                purpose: Purpose::Resume(ids),
                ..
            }) => {
                ids.retain(|x| x != id);
                ids.is_empty()
            }
            _ => false,
        };
        if close {
            self.abort(o.exchange);
        }
    }
}

/// A header with a fixed name.
fn hdr(name: &'static str, value: impl Into<Cow<'static, str>>) -> Header {
    (Cow::Borrowed(name), value.into())
}

fn trim_frame(frame: &Bytes) -> Bytes {
    let mut end = frame.len();
    while end > 0 && matches!(frame[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    frame.slice(..end)
}

fn response_id(msg: &RawMessage<'_>) -> Option<RequestId> {
    match msg {
        RawMessage::Response { id, .. } => Some(id.clone()),
        RawMessage::Error { id, .. } => id.clone(),
        _ => None,
    }
}

fn rpc_error_bytes(id: &RequestId, error: &ErrorObject) -> Bytes {
    let v = serde_json::json!({"jsonrpc": "2.0", "id": id, "error": error});
    Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
}

fn rpc_error(id: &RequestId, error: &ErrorObject) -> Bytes {
    rpc_error_bytes(id, error)
}

/// Resolves the 2024-11-05 `endpoint` (absolute, absolute-path or relative) against the
/// stream's URL.
fn resolve_url(base: &str, reference: &str) -> Option<String> {
    if reference.is_empty() || reference.contains(['\r', '\n']) {
        return None;
    }
    if reference.starts_with("http://") || reference.starts_with("https://") {
        return Some(reference.to_owned());
    }
    let scheme_end = base.find("://")? + 3;
    let authority_end = base[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(base.len(), |i| scheme_end + i);
    let origin = &base[..authority_end];
    if let Some(rest) = reference.strip_prefix("//") {
        return Some(format!("{}//{rest}", &base[..scheme_end - 2]));
    }
    if reference.starts_with('/') {
        return Some(format!("{origin}{reference}"));
    }
    let path = &base[authority_end..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
    Some(format!("{origin}{dir}{reference}"))
}

/// Scheme, host and port of an absolute `http(s)` URL, lower-cased, the port made explicit.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Userinfo ends at the last `@`: `http://h:1@evil/` is a request to `evil`.
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None | Some("") => default_port,
        Some(p) => p.parse().ok()?,
    };
    Some((scheme, host.to_ascii_lowercase(), port))
}

/// Whether `url` is on the same scheme, host and port as `base`: the 2024-11-05 `endpoint`
/// event may only move messages (and the credentials on them) within the configured origin.
fn same_origin(base: &str, url: &str) -> bool {
    matches!((origin(base), origin(url)), (Some(a), Some(b)) if a == b)
}

/// What the transport reads from an outgoing message's params. Every field is kept raw, so
/// an odd value in one (a custom method's numeric `name`, say) cannot hide the others.
#[derive(Deserialize, Default)]
struct ParamsProbe<'a> {
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<&'a RawValue>,
    #[serde(rename = "requestId", borrow, default)]
    request_id: Option<&'a RawValue>,
    #[serde(rename = "protocolVersion", borrow, default)]
    protocol_version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    uri: Option<&'a RawValue>,
    #[serde(rename = "taskId", borrow, default)]
    task_id: Option<&'a RawValue>,
}

impl ParamsProbe<'_> {
    /// The `Mcp-Name` of a 2026-07-28 request of this method, if it has one.
    fn target(&self, method_name: &str) -> Option<String> {
        let raw = match method_name {
            method::TOOLS_CALL | method::PROMPTS_GET => self.name,
            method::RESOURCES_READ => self.uri,
            // The tasks extension routes on the task (SEP-2663).
            method::TASKS_GET | method::TASKS_UPDATE | method::TASKS_CANCEL => self.task_id,
            _ => None,
        }?;
        serde_json::from_str(raw.get()).ok()
    }
}

/// Whether `_meta` carries the 2026-07-28 protocol version (its value is not needed).
#[derive(Deserialize)]
struct MetaProbe {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", default)]
    version: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct InitProbe {
    #[serde(rename = "protocolVersion", default)]
    protocol_version: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorObject,
}

#[cfg(test)]
mod tests;
