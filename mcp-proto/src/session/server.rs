//! The server side of a connection, for both eras at once.
//!
//! A request carrying `_meta["io.modelcontextprotocol/protocolVersion"]` is served statelessly
//! by the 2026-07-28 rules; `initialize` opens a legacy session on the same connection. The
//! session answers the protocol's own requests itself (initialize, ping, server/discover,
//! logging/setLevel, resources/(un)subscribe, subscriptions/listen acknowledgements, every
//! `tasks/*` method) and hands the application only what needs application logic.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::outbound::{Outbound, ProgressCheck, Timeout};
use super::outbox::Outbox;
use super::{PeerFault, RequestError, Route, Transmit, UsageError, DEFAULT_MAX_FRAME_LEN};
use crate::codec::flow::Watermarks;
use crate::codec::{FrameError, LineDecoder};
use crate::entropy::Entropy;
use crate::jsonrpc::{code, ErrorObject, ProgressToken, RawBatch, RawMessage, RequestId};
use crate::schema::common::{meta_keys, Implementation, LoggingLevel, Meta, RequestParams};
use crate::schema::lifecycle::{
    ClientCapabilities, DiscoverResult, InitializeResult, ServerCapabilities,
};
use crate::schema::logging::LoggingMessageNotificationParams;
use crate::schema::messages::{
    method, ClientNotification, ClientRequest, ClientResult, ServerRequest, ServerResult,
};
use crate::schema::mrtr::{InputRequest, InputRequiredResult, InputResponses};
use crate::schema::notifications::{CancelledNotificationParams, ProgressNotificationParams};
use crate::schema::resources::ResourceUpdatedNotificationParams;
use crate::schema::subscriptions::{
    SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenResult,
};
use crate::schema::version::{Era, ProtocolVersion};
use crate::schema::{tasks, tasks_ext, EmptyResult};
use crate::tasks::{
    NewTask, TaskConfig, TaskEntry, TaskError, TaskOutcome, TaskStore, TaskTable, TaskTransition,
    WallClock,
};

/// Static configuration of a server session.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Name and version reported to clients.
    pub info: Implementation,
    /// What the server offers; requests for features not declared here get -32601.
    pub capabilities: ServerCapabilities,
    /// Usage hints for the model.
    pub instructions: Option<String>,
    /// Versions served, any order. Leave out 2026-07-28 for a legacy-only server, or every
    /// legacy version for a modern-only one.
    pub versions: Vec<ProtocolVersion>,
    /// Largest frame accepted on `handle_bytes`.
    pub max_frame_len: usize,
    /// Most client requests in flight at once; more get an error.
    pub max_in_flight: usize,
    /// Most concurrent `subscriptions/listen` streams.
    pub max_subscriptions: usize,
    /// Most resource URIs one legacy session may be subscribed to (`resources/subscribe`);
    /// a subscription past it is refused with -32603 and nothing is kept.
    pub max_resource_subscriptions: usize,
    /// Timeout of requests this server sends (legacy sampling, elicitation, roots).
    pub request_timeout: Timeout,
    /// How long a sampling or elicitation request the client runs as a task may take, from
    /// the task's creation to its result, before the server cancels it (30 minutes: a task
    /// is how an ask outlives `request_timeout`, for a slow user, not forever).
    pub client_task_deadline: Duration,
    /// Methods outside the spec this server wants to receive instead of -32601.
    pub custom_methods: Vec<String>,
    /// `ttlMs` on the `server/discover` result.
    pub discover_ttl_ms: u64,
    /// Task table limits.
    pub tasks: TaskConfig,
    /// Output backlog limits of a byte-stream transport (see [`crate::codec::flow`]).
    pub watermarks: Watermarks,
}

crate::__config_setters!(ServerConfig {
    with_info => info: Implementation,
    with_capabilities => capabilities: ServerCapabilities,
    with_instructions => instructions: Option<String>,
    with_versions => versions: Vec<ProtocolVersion>,
    with_max_frame_len => max_frame_len: usize,
    with_max_in_flight => max_in_flight: usize,
    with_max_subscriptions => max_subscriptions: usize,
    with_max_resource_subscriptions => max_resource_subscriptions: usize,
    with_request_timeout => request_timeout: Timeout,
    with_client_task_deadline => client_task_deadline: Duration,
    with_custom_methods => custom_methods: Vec<String>,
    with_discover_ttl_ms => discover_ttl_ms: u64,
    with_tasks => tasks: TaskConfig,
    with_watermarks => watermarks: Watermarks,
});

impl ServerConfig {
    /// A config with the given identity and capabilities and defaults for everything else.
    pub fn new(info: Implementation, capabilities: ServerCapabilities) -> Self {
        ServerConfig {
            info,
            capabilities,
            instructions: None,
            versions: ProtocolVersion::ALL.to_vec(),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_in_flight: 1024,
            max_subscriptions: 64,
            max_resource_subscriptions: 1024,
            request_timeout: Timeout::default(),
            client_task_deadline: Duration::from_secs(30 * 60),
            custom_methods: Vec::new(),
            discover_ttl_ms: 0,
            tasks: TaskConfig::default(),
            watermarks: Watermarks::default(),
        }
    }
}

/// A [`ServerConfig`] prepared once for many sessions: an HTTP server opens one session per
/// 2026-07-28 request, and each would otherwise copy the configuration and re-encode the
/// server's identity. Cheap to clone; reads as the config it holds.
#[derive(Debug, Clone)]
pub struct SharedServerConfig(Arc<Prepared>);

#[derive(Debug)]
struct Prepared {
    config: ServerConfig,
    /// `serverInfo` as stamped on every 2026-07-28 result.
    info: Value,
}

impl SharedServerConfig {
    /// Prepares `config`.
    pub fn new(config: ServerConfig) -> Self {
        let info = serde_json::to_value(&config.info).unwrap_or(Value::Null);
        SharedServerConfig(Arc::new(Prepared { config, info }))
    }
}

impl From<ServerConfig> for SharedServerConfig {
    fn from(config: ServerConfig) -> Self {
        SharedServerConfig::new(config)
    }
}

impl std::ops::Deref for SharedServerConfig {
    type Target = ServerConfig;
    fn deref(&self) -> &ServerConfig {
        &self.0.config
    }
}

/// What the application needs to know about a request besides its params.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestContext {
    /// The rules this request follows.
    pub era: Era,
    /// Its protocol version (per request in 2026-07-28, negotiated before).
    pub version: ProtocolVersion,
    /// Progress token, if the client asked for progress.
    pub progress_token: Option<ProgressToken>,
    /// Minimum log level the client wants for this request (2026-07-28 `logLevel`).
    pub log_level: Option<LoggingLevel>,
    /// The client's self-reported identity, if known.
    pub client_info: Option<Implementation>,
}

/// Something that happened on a server session.
#[allow(clippy::large_enum_variant)] // events are moved once; see `ClientRequest`
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// A legacy client completed the handshake (`notifications/initialized`).
    Initialized {
        /// Negotiated version.
        version: ProtocolVersion,
        /// Client identity.
        client_info: Implementation,
        /// Client capabilities.
        capabilities: ClientCapabilities,
    },
    /// A request for the application; answer with `respond` / `respond_error`.
    Request {
        /// Its id.
        id: RequestId,
        /// The typed request.
        request: ClientRequest,
        /// Era, version, progress token, ...
        context: RequestContext,
    },
    /// A client notification the application may care about (roots changed, custom).
    Notification(ClientNotification),
    /// The client cancelled a request; its answer will not be sent.
    Cancelled {
        /// The cancelled request.
        id: RequestId,
        /// The client's reason.
        reason: Option<String>,
    },
    /// The answer to a request this server sent (legacy).
    Response {
        /// Id of our request.
        id: RequestId,
        /// The typed result or why there is none.
        result: Result<ClientResult, RequestError>,
    },
    /// Progress on a request this server sent.
    Progress {
        /// Id of our request.
        id: RequestId,
        /// The notification.
        params: ProgressNotificationParams,
    },
    /// A `subscriptions/listen` stream opened and was acknowledged.
    SubscriptionOpened {
        /// Its id (the listen request's id).
        id: RequestId,
        /// What the server agreed to send.
        filter: SubscriptionFilter,
    },
    /// A listen stream ended (client cancel or server close).
    SubscriptionClosed {
        /// Its id.
        id: RequestId,
    },
    /// A legacy client subscribed to a resource.
    ResourceSubscribed {
        /// The URI.
        uri: String,
    },
    /// A legacy client unsubscribed.
    ResourceUnsubscribed {
        /// The URI.
        uri: String,
    },
    /// The client asked to cancel a task; the task is already `cancelled`, stop its work.
    TaskCancelRequested {
        /// The task.
        task_id: String,
    },
    /// Input for a task waiting in `input_required` (extension `tasks/update`).
    TaskInput {
        /// The task.
        task_id: String,
        /// The client's answers.
        responses: InputResponses,
    },
    /// A task changed status.
    Task(TaskTransition),
    /// A task's TTL ran out and it was removed.
    TaskExpired {
        /// The task.
        task_id: String,
    },
    /// The peer did something wrong that has no reply frame.
    PeerFault(PeerFault),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitingInitialize,
    AwaitingInitialized,
    Ready,
}

#[derive(Debug)]
struct Legacy {
    phase: Phase,
    version: ProtocolVersion,
    client_info: Implementation,
    capabilities: ClientCapabilities,
    log_level: Option<LoggingLevel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CallTool,
    MrtrCapable,
    Listen,
    TaskPayload,
    Other,
}

#[derive(Debug)]
struct Incoming {
    kind: Kind,
    era: Era,
    progress_token: Option<ProgressToken>,
    last_progress: Option<f64>,
    log_level: Option<LoggingLevel>,
    /// Per-request capabilities (2026-07-28); legacy requests use the session's.
    capabilities: Option<Box<ClientCapabilities>>,
    /// A legacy client asked for this request to run as a task (`params.task`).
    task_requested: bool,
}

#[derive(Debug)]
struct Subscription {
    filter: SubscriptionFilter,
}

/// The server half of an MCP connection, as a pure state machine.
///
/// Methods come in four kinds:
/// - `handle_*` feed input: [`handle_bytes`](Self::handle_bytes) (stdio framing),
///   [`handle_message`](Self::handle_message) (one JSON-RPC message, e.g. an HTTP body),
///   [`handle_timeout`](Self::handle_timeout);
/// - commands from the application: [`respond`](Self::respond),
///   [`respond_error`](Self::respond_error), [`send_request`](Self::send_request),
///   [`notify_progress`](Self::notify_progress), [`log`](Self::log), list-changed and
///   resource-updated notifications, task commands;
/// - `poll_*` drain output: [`poll_transmit`](Self::poll_transmit) first, then
///   [`poll_event`](Self::poll_event), then [`poll_timeout`](Self::poll_timeout);
/// - getters: [`legacy_version`](Self::legacy_version), [`tasks`](Self::tasks), ...
///
/// Methods served, by who answers them: the session answers `initialize`, `ping`,
/// `server/discover`, `logging/setLevel`, `resources/subscribe`/`unsubscribe`,
/// `subscriptions/listen` (acknowledgement and bookkeeping) and `tasks/*`; it emits
/// [`ServerEvent::Request`] for `tools/*`, `prompts/*`, `resources/list|read|templates/list`,
/// `completion/complete` and configured custom methods.
pub struct ServerSession {
    config: SharedServerConfig,
    entropy: Box<dyn Entropy>,
    decoder: LineDecoder,
    outbox: Outbox,
    events: VecDeque<ServerEvent>,
    legacy: Option<Legacy>,
    incoming: HashMap<RequestId, Incoming>,
    /// Requests the client cancelled, so a late `respond` is a quiet no-op. Bounded.
    cancelled: VecDeque<RequestId>,
    outgoing: Outbound<&'static str>,
    subscriptions: HashMap<RequestId, Subscription>,
    resource_subscriptions: BTreeSet<String>,
    tasks: TaskTable,
    /// Maps the monotonic clock to the wall-clock milliseconds task entries are kept in.
    clock: WallClock,
    /// This session's owner tag on legacy tasks: a legacy client sees only its own. Drawn on
    /// first use: most sessions (every 2026-07-28 HTTP request) never need one.
    scope: Option<String>,
    /// Who the transport authenticated (a [`Principal::key`](crate::auth::Principal::key)):
    /// tasks are then owned by it, in both eras, and capped per principal.
    principal: Option<String>,
    /// Our legacy requests made on a task's behalf (elicitation, sampling ...), by id.
    task_asks: HashMap<RequestId, String>,
    /// The latest time an input carried, for commands that take none.
    last_now: Instant,
    /// Progress tokens of requests that became tasks: progress keeps flowing until terminal.
    task_progress: HashMap<String, (ProgressToken, Option<f64>)>,
    /// `tasks/result` requests waiting for their task to end.
    task_waiters: HashMap<String, Vec<RequestId>>,
    closed: bool,
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("legacy", &self.legacy)
            .field("in_flight", &self.incoming.len())
            .field("subscriptions", &self.subscriptions.len())
            .field("tasks", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

mod dormant;
mod lost;
mod notify;
mod task_commands;
pub use dormant::DormantSession;
pub use task_commands::TaskParams;

const CANCELLED_MEMORY: usize = 256;

#[derive(Deserialize)]
struct MetaProbe {
    #[serde(rename = "_meta", default)]
    meta: Option<Meta>,
}

impl ServerSession {
    /// A new session. `wall` is the wall-clock time at `now` (for task timestamps); `entropy`
    /// makes task ids unguessable.
    pub fn new(
        config: impl Into<SharedServerConfig>,
        now: Instant,
        wall: SystemTime,
        entropy: Box<dyn Entropy>,
    ) -> Self {
        let config = config.into();
        ServerSession {
            decoder: LineDecoder::new(config.max_frame_len),
            tasks: TaskTable::new(config.tasks.clone()),
            clock: WallClock::new(now, wall),
            scope: None,
            principal: None,
            task_asks: HashMap::new(),
            last_now: now,
            config,
            entropy,
            outbox: Outbox::default(),
            events: VecDeque::new(),
            legacy: None,
            incoming: HashMap::new(),
            cancelled: VecDeque::new(),
            outgoing: Outbound::new(CANCELLED_MEMORY),
            subscriptions: HashMap::new(),
            resource_subscriptions: BTreeSet::new(),
            task_progress: HashMap::new(),
            task_waiters: HashMap::new(),
            closed: false,
        }
    }

    /// The legacy task owner tag, drawn now if this is its first use.
    fn scope(&mut self) -> &str {
        let entropy = &mut self.entropy;
        self.scope
            .get_or_insert_with(|| crate::entropy::random_hex(entropy.as_mut(), 16))
    }

    /// Who owns the tasks a request of `era` creates and may see: the authenticated
    /// principal when there is one; else this legacy session (its tag), or nobody for a
    /// 2026-07-28 request (its task id, unguessable, is then the only key).
    fn task_owner(&mut self, era: Era) -> Option<String> {
        match (&self.principal, era) {
            (Some(p), _) => Some(p.clone()),
            (None, Era::Legacy) => Some(self.scope().to_owned()),
            (None, Era::Modern) => None,
        }
    }

    /// Binds this session to an authenticated principal (its
    /// [`Principal::key`](crate::auth::Principal::key)): the tasks its requests create are
    /// owned by the principal, only its requests see them, and the per-owner task cap
    /// applies to it across sessions and eras. Call before feeding the first request.
    pub fn set_principal(&mut self, key: Option<String>) {
        self.principal = key;
    }

    /// The principal set by [`Self::set_principal`].
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    // ----- getters -------------------------------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The version of the legacy session, once `initialize` succeeded.
    pub fn legacy_version(&self) -> Option<ProtocolVersion> {
        self.legacy
            .as_ref()
            .filter(|l| l.phase != Phase::AwaitingInitialize)
            .map(|l| l.version)
    }

    /// The capabilities that apply to an in-flight request: its own (2026-07-28) or the
    /// legacy session's.
    pub fn client_capabilities(&self, id: &RequestId) -> Option<&ClientCapabilities> {
        match self.incoming.get(id) {
            Some(Incoming {
                capabilities: Some(c),
                ..
            }) => Some(c),
            Some(_) => self.legacy.as_ref().map(|l| &l.capabilities),
            None => None,
        }
    }

    /// Number of client requests awaiting an answer.
    pub fn in_flight(&self) -> usize {
        self.incoming.len()
    }

    /// Whether `id` is a client request awaiting an answer.
    pub fn is_in_flight(&self, id: &RequestId) -> bool {
        self.incoming.contains_key(id)
    }

    /// The task table (read-only view).
    pub fn tasks(&self) -> &TaskTable {
        &self.tasks
    }

    /// Keeps tasks in `store` instead of the session's own in-memory one: a store shared by
    /// several sessions lets a task created on one be polled, answered or cancelled on
    /// another (2026-07-28 over HTTP, where every request may reach a fresh session), and a
    /// store that outlives the process keeps tasks across restarts. Call before serving.
    pub fn set_task_store(&mut self, store: Box<dyn TaskStore>) {
        self.tasks.set_store(store);
    }

    /// The wall clock task timestamps are taken from.
    pub fn wall_clock(&self) -> &WallClock {
        &self.clock
    }

    /// Ids of open listen streams.
    pub fn subscriptions(&self) -> impl Iterator<Item = &RequestId> {
        self.subscriptions.keys()
    }

    // ----- polls ---------------------------------------------------------------------------

    /// Next frame to write. Call after every `handle_*` or command until it returns `None`.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop()
    }

    /// Next event for the application. Call after draining `poll_transmit`.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When `handle_timeout` must be called next, if ever. Ask again after every change.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let expiry = self.tasks.next_expiry().map(|ms| self.clock.instant_at(ms));
        match (self.outgoing.next_deadline(), expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- input ---------------------------------------------------------------------------

    /// Feeds bytes from a newline-framed stream (stdio, TCP). Consumes every complete frame
    /// in `buf` and leaves a partial tail for the next call.
    ///
    /// A batch (2025-03-26) read here is answered with one JSON array on [`Route::Session`]
    /// once every request in it is answered, as JSON-RPC 2.0 requires of a byte stream.
    pub fn handle_bytes(&mut self, now: Instant, buf: &mut BytesMut) {
        while let Some(frame) = self.decoder.decode(buf) {
            match frame {
                Ok(bytes) => self.handle_frame(now, &bytes, true),
                Err(e) => self.frame_error(e),
            }
        }
    }

    /// Feeds the final bytes at end of stream (a last line without a newline).
    pub fn handle_eof(&mut self, now: Instant, buf: &mut BytesMut) {
        self.handle_bytes(now, buf);
        if let Some(frame) = self.decoder.finish(buf) {
            match frame {
                Ok(bytes) => self.handle_frame(now, &bytes, true),
                Err(e) => self.frame_error(e),
            }
        }
    }

    fn frame_error(&mut self, e: FrameError) {
        let error = match e {
            FrameError::InvalidUtf8 { .. } => ErrorObject::parse_error("frame is not valid UTF-8"),
            other => ErrorObject::invalid_request(other.to_string()),
        };
        self.outbox.error(Route::Session, None, &error);
    }

    /// Feeds one whole message from a message-framed transport (a WebSocket, a channel):
    /// exactly what one line is to [`handle_bytes`](Self::handle_bytes), the
    /// `max_frame_len` limit and its answer included, and batches answered as one array.
    /// A trailing newline is ignored.
    pub fn handle_framed(&mut self, now: Instant, message: &[u8]) {
        if self.closed {
            return;
        }
        let message = message.strip_suffix(b"\n").unwrap_or(message);
        let max_frame_len = self.decoder.max_frame_len();
        if message.len() > max_frame_len {
            return self.frame_error(FrameError::TooLong { max_frame_len });
        }
        self.handle_frame(now, message, true);
    }

    /// Feeds one complete JSON-RPC message (or a 2025-03-26 batch, handled as by
    /// [`handle_batch`](Self::handle_batch): each answer on its own request's route).
    pub fn handle_message(&mut self, now: Instant, bytes: &[u8]) {
        self.handle_frame(now, bytes, false);
    }

    fn handle_frame(&mut self, now: Instant, bytes: &[u8], stream: bool) {
        if self.closed {
            return;
        }
        self.expire_tasks(now);
        let Ok(text) = std::str::from_utf8(bytes) else {
            let e = ErrorObject::parse_error("message is not valid UTF-8");
            self.outbox.error(Route::Session, None, &e);
            return;
        };
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') {
            match RawBatch::parse(trimmed) {
                Ok(batch) => self.dispatch_batch(now, batch, stream),
                Err(e) => self.outbox.error(Route::Session, None, &e.error),
            }
            return;
        }
        match RawMessage::parse(text) {
            Ok(msg) => self.dispatch(now, msg),
            Err(e) => {
                if e.reply {
                    let route = e.id.clone().map_or(Route::Session, Route::Request);
                    self.outbox.error(route, e.id.as_ref(), &e.error);
                } else {
                    self.fault(e.error.message);
                }
            }
        }
    }

    /// Like [`handle_message`](Self::handle_message), for one message the transport already
    /// parsed (an HTTP front door reads it to route the request): the body is not parsed twice.
    pub fn handle_parsed(&mut self, now: Instant, msg: RawMessage<'_>) {
        if self.closed {
            return;
        }
        self.expire_tasks(now);
        self.dispatch(now, msg);
    }

    /// Feeds a 2025-03-26 batch the transport already parsed. Each answer leaves on its own
    /// [`Route::Request`] (an id-less error about an item on [`Route::Session`]), so an HTTP
    /// server can gather them into one array or stream them; [`RawBatch::answers_owed`] says
    /// how many to expect. On another version the whole batch is refused with one error on
    /// [`Route::Session`].
    pub fn handle_batch(&mut self, now: Instant, batch: RawBatch<'_>) {
        if self.closed {
            return;
        }
        self.expire_tasks(now);
        self.dispatch_batch(now, batch, false);
    }

    /// `gather`: answer with one array (byte streams) instead of one frame per answer.
    fn dispatch_batch(&mut self, now: Instant, batch: RawBatch<'_>, gather: bool) {
        let batches_ok = self
            .legacy
            .as_ref()
            .is_some_and(|l| l.version.accepts_batches());
        if !batches_ok {
            let err = ErrorObject::invalid_request(
                "JSON-RPC batches are only accepted on a 2025-03-26 session",
            );
            self.outbox.error(Route::Session, None, &err);
            return;
        }
        if gather {
            let owed = batch.items().iter().filter_map(|i| match i {
                Ok(RawMessage::Request { id, .. }) => Some(id),
                Err(e) if e.reply => e.id.as_ref(),
                _ => None,
            });
            self.outbox.open_batch(owed);
        }
        for item in batch.into_items() {
            match item {
                Ok(RawMessage::Request { id, ref method, .. }) if method == method::INITIALIZE => {
                    let err = ErrorObject::invalid_request("initialize must not be batched");
                    self.reply_error(&id, err);
                }
                Ok(msg) => self.dispatch(now, msg),
                Err(e) if e.reply => {
                    let route = e.id.clone().map_or(Route::Session, Route::Request);
                    self.outbox.error(route, e.id.as_ref(), &e.error);
                }
                Err(e) => self.fault(e.error.message),
            }
        }
        if gather {
            self.outbox.seal_batch();
        }
    }

    /// Advances time: times out our requests and expires tasks.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((id, pending)) = self.outgoing.pop_expired(now) {
            let params = CancelledNotificationParams {
                request_id: Some(id.clone()),
                reason: Some("timed out".into()),
                ..Default::default()
            };
            let _ = self
                .outbox
                .notification(Route::Session, method::CANCELLED, Some(&params));
            let _ = pending;
            self.task_ask_settled(now, &id);
            self.events.push_back(ServerEvent::Response {
                id,
                result: Err(RequestError::Timeout),
            });
        }
        self.expire_tasks(now);
    }

    /// The transport lost the stream this request was answering on, and losing it means
    /// cancellation (a closed 2026-07-28 HTTP response stream). Handled as if the client had
    /// sent `notifications/cancelled`: the application gets [`ServerEvent::Cancelled`] (or
    /// [`ServerEvent::SubscriptionClosed`]) and nothing more is sent for `id`.
    pub fn abandon(&mut self, now: Instant, id: &RequestId) {
        let params = CancelledNotificationParams {
            request_id: Some(id.clone()),
            reason: Some("response stream closed".into()),
            ..Default::default()
        };
        self.on_client_notification(now, ClientNotification::Cancelled(params));
    }

    /// Serves legacy requests without a handshake, as if `initialize` had negotiated
    /// `version` with a client that declared no capabilities: for stateless HTTP servers,
    /// where every request may reach a fresh session.
    pub fn assume_initialized(&mut self, version: ProtocolVersion) {
        self.legacy = Some(Legacy {
            phase: Phase::Ready,
            version,
            client_info: Implementation::default(),
            capabilities: ClientCapabilities::default(),
            log_level: None,
        });
    }

    /// Ends the session: every request still open is answered with an error (or, for
    /// listen streams, closed gracefully) and our own requests fail with `Closed`.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        // Sorted so that what a close emits does not depend on hash order.
        let mut ids: Vec<RequestId> = self.incoming.keys().cloned().collect();
        ids.sort();
        for id in ids {
            if self.subscriptions.contains_key(&id) {
                let _ = self.close_subscription(&id);
            } else {
                let _ = self.respond_error(&id, ErrorObject::internal("server shutting down"));
            }
        }
        let mut drained = self.outgoing.drain();
        drained.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, _) in drained {
            self.events.push_back(ServerEvent::Response {
                id,
                result: Err(RequestError::Closed),
            });
        }
        self.closed = true;
    }

    fn fault(&mut self, message: impl Into<String>) {
        self.events
            .push_back(ServerEvent::PeerFault(PeerFault::new(message)));
    }

    fn dispatch(&mut self, now: Instant, msg: RawMessage<'_>) {
        match msg {
            RawMessage::Request { id, method, params } => self.on_request(now, id, &method, params),
            RawMessage::Notification { method, params } => {
                self.on_notification(now, &method, params)
            }
            RawMessage::Response { id, result } => {
                let Some(p) = self.outgoing.remove(&id) else {
                    if !self.outgoing.was_closed(&id) {
                        self.fault(format!("response to unknown request {id}"));
                    }
                    return;
                };
                let result =
                    ClientResult::decode(p.method, result).map_err(RequestError::Malformed);
                self.task_ask_settled(now, &id);
                self.events.push_back(ServerEvent::Response { id, result });
            }
            RawMessage::Error { id, error } => match id {
                Some(id) if self.outgoing.is_pending(&id) => {
                    self.outgoing.remove(&id);
                    self.task_ask_settled(now, &id);
                    self.events.push_back(ServerEvent::Response {
                        id,
                        result: Err(RequestError::Rpc(error)),
                    });
                }
                Some(id) if self.outgoing.was_closed(&id) => {}
                _ => self.fault(format!("error from peer: {error}")),
            },
        }
    }

    // ----- requests ------------------------------------------------------------------------

    fn reply_error(&mut self, id: &RequestId, error: ErrorObject) {
        self.outbox
            .error(Route::Request(id.clone()), Some(id), &error);
    }

    fn on_request(&mut self, now: Instant, id: RequestId, method: &str, params: Option<&RawValue>) {
        if self.incoming.contains_key(&id) {
            // The original keeps its slot; only the duplicate is refused.
            let e = ErrorObject::invalid_request(format!("request id {id} is already in flight"));
            self.reply_error(&id, e);
            return;
        }
        if self.incoming.len() >= self.config.max_in_flight {
            let e = ErrorObject::internal("server busy: too many requests in flight");
            self.reply_error(&id, e);
            return;
        }
        let request = match ClientRequest::decode(method, params) {
            Ok(r) => r,
            Err(err) => {
                // Version problems outrank param problems for 2026-07-28 requests.
                let meta = params
                    .and_then(|p| serde_json::from_str::<MetaProbe>(p.get()).ok())
                    .and_then(|p| p.meta);
                if let Some(v) = meta.as_ref().and_then(|m| m.protocol_version()) {
                    if let Some(e) = self.version_error(v) {
                        self.reply_error(&id, e);
                        return;
                    }
                }
                self.reply_error(&id, err);
                return;
            }
        };
        let modern_version = request.meta().and_then(|m| m.protocol_version()).cloned();
        match modern_version {
            Some(v) if !matches!(request, ClientRequest::Initialize(_)) => {
                self.on_modern_request(now, id, request, &v)
            }
            _ => self.on_legacy_request(now, id, request),
        }
    }

    fn supports(&self, v: ProtocolVersion) -> bool {
        self.config.versions.contains(&v)
    }

    fn supported_strings(&self) -> Vec<&'static str> {
        let mut v: Vec<ProtocolVersion> = self.config.versions.clone();
        v.sort();
        v.dedup();
        v.iter().rev().map(|v| v.as_str()).collect()
    }

    /// -32022 unless `v` is a modern version we serve.
    fn version_error(&self, v: &Value) -> Option<ErrorObject> {
        let parsed = v.as_str().and_then(ProtocolVersion::parse);
        match parsed {
            Some(p) if p.era() == Era::Modern && self.supports(p) => None,
            _ => {
                let supported: Vec<&str> = self
                    .supported_strings()
                    .into_iter()
                    .filter(|s| ProtocolVersion::parse(s).is_some_and(|p| p.era() == Era::Modern))
                    .collect();
                Some(
                    ErrorObject::new(
                        code::UNSUPPORTED_PROTOCOL_VERSION,
                        "unsupported protocol version",
                    )
                    .with_data(json!({ "supported": supported, "requested": v })),
                )
            }
        }
    }

    /// The server capability a method needs, as -32601 when missing.
    fn gate(&self, req: &ClientRequest, era: Era) -> Result<(), ErrorObject> {
        let caps = &self.config.capabilities;
        let ok = match req {
            ClientRequest::ListTools(_) | ClientRequest::CallTool(_) => caps.tools.is_some(),
            ClientRequest::ListPrompts(_) | ClientRequest::GetPrompt(_) => caps.prompts.is_some(),
            ClientRequest::ListResources(_)
            | ClientRequest::ListResourceTemplates(_)
            | ClientRequest::ReadResource(_) => caps.resources.is_some(),
            ClientRequest::Subscribe(_) | ClientRequest::Unsubscribe(_) => caps
                .resources
                .as_ref()
                .is_some_and(|r| r.subscribe == Some(true)),
            ClientRequest::Complete(_) => caps.completions.is_some(),
            ClientRequest::SetLevel(_) => caps.logging.is_some(),
            ClientRequest::GetTask(_) | ClientRequest::CancelTask(_) if era == Era::Modern => {
                self.serves_task_extension()
            }
            ClientRequest::UpdateTask(_) => self.serves_task_extension(),
            ClientRequest::GetTask(_) | ClientRequest::GetTaskPayload(_) => caps.tasks.is_some(),
            ClientRequest::ListTasks(_) => caps.tasks.as_ref().is_some_and(|t| t.list.is_some()),
            ClientRequest::CancelTask(_) => caps.tasks.as_ref().is_some_and(|t| t.cancel.is_some()),
            ClientRequest::Custom(c) => self.config.custom_methods.contains(&c.method),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(ErrorObject::method_not_found(req.method()))
        }
    }

    fn serves_task_extension(&self) -> bool {
        self.config
            .capabilities
            .extensions
            .as_ref()
            .is_some_and(|e| e.contains_key(tasks_ext::EXTENSION_ID))
    }

    fn on_modern_request(
        &mut self,
        now: Instant,
        id: RequestId,
        request: ClientRequest,
        v: &Value,
    ) {
        if let Some(e) = self.version_error(v) {
            return self.reply_error(&id, e);
        }
        let version = ProtocolVersion::LATEST;
        // Read `_meta` in place: cloning it per request would cost more than the request.
        let no_meta = Meta::new();
        let meta = request.meta().unwrap_or(&no_meta);
        let progress_token = meta.progress_token();
        let caps = match meta.get(meta_keys::CLIENT_CAPABILITIES) {
            None => {
                let e = ErrorObject::invalid_params(format!(
                    "missing required _meta field {}",
                    meta_keys::CLIENT_CAPABILITIES
                ));
                return self.reply_error(&id, e);
            }
            Some(c) => match ClientCapabilities::deserialize(c) {
                Ok(c) => c,
                Err(err) => {
                    let e =
                        ErrorObject::invalid_params(format!("invalid clientCapabilities: {err}"));
                    return self.reply_error(&id, e);
                }
            },
        };
        let log_level = match meta.get(meta_keys::LOG_LEVEL) {
            None => None,
            Some(l) => match LoggingLevel::deserialize(l) {
                Ok(l) => Some(l),
                Err(_) => {
                    let e = ErrorObject::invalid_params("invalid logLevel");
                    return self.reply_error(&id, e);
                }
            },
        };
        let client_info = meta
            .get(meta_keys::CLIENT_INFO)
            .and_then(|i| Implementation::deserialize(i).ok());
        // Methods that 2026-07-28 removed.
        if method::REMOVED_IN_MODERN.contains(&request.method()) {
            return self.reply_error(&id, ErrorObject::method_not_found(request.method()));
        }
        if let Err(e) = self.gate(&request, Era::Modern) {
            return self.reply_error(&id, e);
        }
        let declares_tasks = caps
            .extensions
            .as_ref()
            .is_some_and(|e| e.contains_key(tasks_ext::EXTENSION_ID));
        if matches!(
            request,
            ClientRequest::GetTask(_) | ClientRequest::CancelTask(_) | ClientRequest::UpdateTask(_)
        ) && !declares_tasks
        {
            return self.reply_error(&id, missing_task_extension());
        }
        let context = RequestContext {
            era: Era::Modern,
            version,
            progress_token,
            log_level,
            client_info,
        };
        let incoming = Incoming {
            kind: kind_of(&request),
            era: Era::Modern,
            progress_token: context.progress_token.clone(),
            last_progress: None,
            log_level,
            capabilities: Some(Box::new(caps)),
            task_requested: false,
        };
        self.accept(now, id, request, context, incoming);
    }

    fn on_legacy_request(&mut self, now: Instant, id: RequestId, request: ClientRequest) {
        if let ClientRequest::Initialize(p) = &request {
            return self.on_initialize(&id, p.protocol_version.clone(), p);
        }
        let Some(legacy) = self.legacy.as_ref() else {
            if let ClientRequest::Ping(_) = request {
                let _ =
                    self.outbox
                        .response(Route::Request(id.clone()), &id, &EmptyResult::default());
                return;
            }
            let e = ErrorObject::invalid_params(format!(
                "missing _meta {} and no initialized session: send initialize first \
                 (2025-11-25 and older) or per-request _meta (2026-07-28)",
                meta_keys::PROTOCOL_VERSION
            ));
            return self.reply_error(&id, e);
        };
        let version = legacy.version;
        if matches!(
            request,
            ClientRequest::Discover(_) | ClientRequest::Listen(_) | ClientRequest::UpdateTask(_)
        ) {
            return self.reply_error(&id, ErrorObject::method_not_found(request.method()));
        }
        if let Err(e) = self.gate(&request, Era::Legacy) {
            return self.reply_error(&id, e);
        }
        let progress_token = request.meta().and_then(Meta::progress_token);
        let task_requested = matches!(&request, ClientRequest::CallTool(p) if p.task.is_some());
        let context = RequestContext {
            era: Era::Legacy,
            version,
            progress_token: progress_token.clone(),
            log_level: legacy.log_level,
            client_info: Some(legacy.client_info.clone()),
        };
        let incoming = Incoming {
            kind: kind_of(&request),
            era: Era::Legacy,
            progress_token,
            last_progress: None,
            log_level: None,
            capabilities: None,
            task_requested,
        };
        self.accept(now, id, request, context, incoming);
    }

    fn on_initialize(
        &mut self,
        id: &RequestId,
        requested: String,
        p: &crate::schema::lifecycle::InitializeRequestParams,
    ) {
        if self
            .legacy
            .as_ref()
            .is_some_and(|l| l.phase != Phase::AwaitingInitialize)
        {
            let e = ErrorObject::invalid_request("session already initialized");
            return self.reply_error(id, e);
        }
        let legacy_versions: Vec<ProtocolVersion> = self
            .config
            .versions
            .iter()
            .copied()
            .filter(|v| v.era() == Era::Legacy)
            .collect();
        let chosen = match ProtocolVersion::parse(&requested) {
            Some(v) if v.era() == Era::Legacy && legacy_versions.contains(&v) => Some(v),
            _ => legacy_versions.iter().max().copied(),
        };
        let Some(version) = chosen else {
            let e =
                ErrorObject::invalid_params("this server does not speak initialize-based versions")
                    .with_data(
                        json!({ "supported": self.supported_strings(), "requested": requested }),
                    );
            return self.reply_error(id, e);
        };
        // The 2026-07-28 tasks extension is not for initialize-era clients (they get the
        // legacy `tasks` capability).
        let mut capabilities = self.config.capabilities.clone();
        if let Some(ext) = capabilities.extensions.as_mut() {
            ext.remove(tasks_ext::EXTENSION_ID);
            if ext.is_empty() {
                capabilities.extensions = None;
            }
        }
        let result = InitializeResult {
            protocol_version: version.as_str().to_owned(),
            capabilities,
            server_info: self.config.info.clone(),
            instructions: self.config.instructions.clone(),
            ..Default::default()
        };
        let _ = self
            .outbox
            .response(Route::Request(id.clone()), id, &result);
        self.legacy = Some(Legacy {
            phase: Phase::AwaitingInitialized,
            version,
            client_info: p.client_info.clone(),
            capabilities: p.capabilities.clone(),
            log_level: None,
        });
    }

    /// Routes a validated request: answered here, or handed to the application.
    fn accept(
        &mut self,
        now: Instant,
        id: RequestId,
        request: ClientRequest,
        context: RequestContext,
        incoming: Incoming,
    ) {
        let route = Route::Request(id.clone());
        let era = context.era;
        match request {
            ClientRequest::Ping(_) => {
                let _ = self.outbox.response(route, &id, &EmptyResult::default());
            }
            ClientRequest::Discover(_) => {
                let mut result = ServerResult::Discover(DiscoverResult {
                    supported_versions: self
                        .supported_strings()
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                    // 2026-07-28 has no `tasks` capability: tasks are the extension's.
                    capabilities: ServerCapabilities {
                        tasks: None,
                        ..self.config.capabilities.clone()
                    },
                    instructions: self.config.instructions.clone(),
                    ttl_ms: Some(self.config.discover_ttl_ms),
                    cache_scope: Some(crate::schema::CacheScope::Public),
                    ..Default::default()
                });
                self.stamp(&mut result);
                let _ = self.outbox.response(route, &id, &result);
            }
            ClientRequest::SetLevel(p) => {
                if let Some(l) = self.legacy.as_mut() {
                    l.log_level = Some(p.level);
                }
                let _ = self.outbox.response(route, &id, &EmptyResult::default());
            }
            ClientRequest::Subscribe(p) => {
                if self.resource_subscriptions.len() >= self.config.max_resource_subscriptions
                    && !self.resource_subscriptions.contains(&p.uri)
                {
                    let e = ErrorObject::internal(format!(
                        "too many resource subscriptions (at most {})",
                        self.config.max_resource_subscriptions
                    ));
                    self.reply_error(&id, e);
                    return;
                }
                self.resource_subscriptions.insert(p.uri.clone());
                let _ = self.outbox.response(route, &id, &EmptyResult::default());
                self.events
                    .push_back(ServerEvent::ResourceSubscribed { uri: p.uri });
            }
            ClientRequest::Unsubscribe(p) => {
                self.resource_subscriptions.remove(&p.uri);
                let _ = self.outbox.response(route, &id, &EmptyResult::default());
                self.events
                    .push_back(ServerEvent::ResourceUnsubscribed { uri: p.uri });
            }
            ClientRequest::Listen(p) => self.open_subscription(id, p.notifications, incoming),
            ClientRequest::GetTask(p) => self.answer_get_task(now, &id, &p.task_id, era),
            ClientRequest::CancelTask(p) => self.answer_cancel_task(now, &id, &p.task_id, era),
            ClientRequest::ListTasks(p) => self.answer_list_tasks(now, &id, p.cursor.as_deref()),
            ClientRequest::GetTaskPayload(p) => {
                self.answer_task_payload(now, id, p.task_id, incoming)
            }
            ClientRequest::UpdateTask(p) => {
                self.answer_update_task(now, &id, p.task_id, p.input_responses)
            }
            request => {
                self.incoming.insert(id.clone(), incoming);
                self.events.push_back(ServerEvent::Request {
                    id,
                    request,
                    context,
                });
            }
        }
    }

    /// Adds what every 2026-07-28 result carries.
    fn stamp(&self, result: &mut ServerResult) {
        result.stamp_modern(&[(meta_keys::SERVER_INFO, &self.config.0.info)]);
    }

    // ----- notifications -------------------------------------------------------------------

    fn on_notification(&mut self, now: Instant, method: &str, params: Option<&RawValue>) {
        let n = match ClientNotification::decode(method, params) {
            Ok(n) => n,
            Err(e) => return self.fault(format!("malformed {method} notification: {}", e.message)),
        };
        self.on_client_notification(now, n);
    }

    fn on_client_notification(&mut self, now: Instant, n: ClientNotification) {
        match n {
            ClientNotification::Initialized(_) => match self.legacy.as_mut() {
                Some(l) if l.phase == Phase::AwaitingInitialized => {
                    l.phase = Phase::Ready;
                    self.events.push_back(ServerEvent::Initialized {
                        version: l.version,
                        client_info: l.client_info.clone(),
                        capabilities: l.capabilities.clone(),
                    });
                }
                _ => self.fault("notifications/initialized without a pending initialize"),
            },
            ClientNotification::Cancelled(p) => {
                let Some(id) = p.request_id else { return };
                if self.subscriptions.remove(&id).is_some() {
                    self.incoming.remove(&id);
                    self.events
                        .push_back(ServerEvent::SubscriptionClosed { id });
                    return;
                }
                let cancellable = self
                    .incoming
                    .get(&id)
                    .is_some_and(|i| i.kind != Kind::TaskPayload);
                if cancellable {
                    self.incoming.remove(&id);
                    self.outbox.forget(&id);
                    self.remember_cancelled(id.clone());
                    self.events.push_back(ServerEvent::Cancelled {
                        id,
                        reason: p.reason,
                    });
                }
                // Unknown or finished ids: a race the spec says to ignore.
            }
            ClientNotification::Progress(p) => {
                match self.outgoing.progress(now, &p.progress_token, p.progress) {
                    ProgressCheck::Accepted(id) => self
                        .events
                        .push_back(ServerEvent::Progress { id, params: p }),
                    ProgressCheck::Unknown => {}
                    ProgressCheck::NotIncreasing(_) => self.fault("progress did not increase"),
                }
            }
            other => self.events.push_back(ServerEvent::Notification(other)),
        }
    }

    fn remember_cancelled(&mut self, id: RequestId) {
        if self.cancelled.len() == CANCELLED_MEMORY {
            self.cancelled.pop_front();
        }
        self.cancelled.push_back(id);
    }

    // ----- answering -----------------------------------------------------------------------

    /// Answers a request from [`ServerEvent::Request`].
    ///
    /// Answering a request the client already cancelled is accepted and sends nothing.
    pub fn respond(
        &mut self,
        id: &RequestId,
        result: impl Into<ServerResult>,
    ) -> Result<(), UsageError> {
        let mut result = result.into();
        let Some(entry) = self.incoming.get(id) else {
            return self.unknown(id);
        };
        if entry.kind == Kind::Listen {
            return Err(UsageError::NotAllowed(
                "listen streams are ended with close_subscription".into(),
            ));
        }
        match &result {
            ServerResult::InputRequired(ir) => self.check_input_required(id, entry, ir)?,
            ServerResult::CreateTaskExt(_) | ServerResult::CreateTask(_) => {
                return Err(UsageError::NotAllowed(
                    "create tasks with create_task, not by hand".into(),
                ))
            }
            _ => {}
        }
        if entry.era == Era::Modern {
            self.stamp(&mut result);
        }
        self.outbox
            .response(Route::Request(id.clone()), id, &result)?;
        self.incoming.remove(id);
        Ok(())
    }

    /// Answers a request with a JSON-RPC error.
    pub fn respond_error(&mut self, id: &RequestId, error: ErrorObject) -> Result<(), UsageError> {
        if self.incoming.remove(id).is_none() {
            return self.unknown(id);
        }
        self.subscriptions.remove(id);
        self.reply_error(id, error);
        Ok(())
    }

    fn unknown(&self, id: &RequestId) -> Result<(), UsageError> {
        if self.cancelled.contains(id) {
            Ok(())
        } else {
            Err(UsageError::UnknownRequest(id.clone()))
        }
    }

    fn check_input_required(
        &self,
        id: &RequestId,
        entry: &Incoming,
        ir: &InputRequiredResult,
    ) -> Result<(), UsageError> {
        if entry.era != Era::Modern {
            return Err(UsageError::NotAllowed(
                "input_required results exist only in 2026-07-28; use send_request on legacy sessions"
                    .into(),
            ));
        }
        if !matches!(entry.kind, Kind::CallTool | Kind::MrtrCapable) {
            return Err(UsageError::NotAllowed(
                "input_required is only for tools/call, prompts/get and resources/read".into(),
            ));
        }
        if ir.input_requests.is_none() && ir.request_state.is_none() {
            return Err(UsageError::NotAllowed(
                "input_required needs inputRequests or requestState".into(),
            ));
        }
        let caps = self.client_capabilities(id);
        if let Some(reqs) = &ir.input_requests {
            for r in reqs.values() {
                check_input_capability(caps, r)?;
            }
        }
        Ok(())
    }

    /// Reports progress on an in-flight request (or on the task it became).
    ///
    /// Errors if the client did not ask for progress, the request is gone, or the value does
    /// not increase.
    pub fn notify_progress(
        &mut self,
        id: &RequestId,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> Result<(), UsageError> {
        let entry = self
            .incoming
            .get_mut(id)
            .ok_or_else(|| UsageError::UnknownRequest(id.clone()))?;
        let token = entry.progress_token.clone().ok_or(UsageError::NotAllowed(
            "the client did not ask for progress".into(),
        ))?;
        check_increasing(&mut entry.last_progress, progress)?;
        let params = ProgressNotificationParams {
            meta: None,
            progress_token: token,
            progress,
            total,
            message,
            extra: Default::default(),
        };
        self.outbox
            .notification(Route::Request(id.clone()), method::PROGRESS, Some(&params))
    }

    /// Sends a log message tied to a request: on 2026-07-28 only if that request opted in
    /// with a `logLevel` at or below `level`; on a legacy session if the session level allows.
    /// Returns whether a message was sent.
    pub fn log_for(
        &mut self,
        id: &RequestId,
        level: LoggingLevel,
        logger: Option<&str>,
        data: Value,
    ) -> Result<bool, UsageError> {
        let entry = self
            .incoming
            .get(id)
            .ok_or_else(|| UsageError::UnknownRequest(id.clone()))?;
        let threshold = match entry.era {
            Era::Modern => match entry.log_level {
                Some(l) => Some(l),
                None => return Ok(false),
            },
            Era::Legacy => self.legacy.as_ref().and_then(|l| l.log_level),
        };
        if self.config.capabilities.logging.is_none() || threshold.is_some_and(|t| level < t) {
            return Ok(false);
        }
        let params = LoggingMessageNotificationParams {
            level,
            logger: logger.map(str::to_owned),
            data,
            meta: None,
            extra: Default::default(),
        };
        self.outbox
            .notification(Route::Request(id.clone()), method::MESSAGE, Some(&params))?;
        Ok(true)
    }

    /// Sends a session-wide log message to a legacy client (the 2026-07-28 era has no such
    /// channel: use [`log_for`](Self::log_for)). Returns whether it was sent.
    pub fn log(
        &mut self,
        level: LoggingLevel,
        logger: Option<&str>,
        data: Value,
    ) -> Result<bool, UsageError> {
        let Some(l) = self
            .legacy
            .as_ref()
            .filter(|l| l.phase != Phase::AwaitingInitialize)
        else {
            return Ok(false);
        };
        if self.config.capabilities.logging.is_none() || l.log_level.is_some_and(|t| level < t) {
            return Ok(false);
        }
        let params = LoggingMessageNotificationParams {
            level,
            logger: logger.map(str::to_owned),
            data,
            meta: None,
            extra: Default::default(),
        };
        self.outbox
            .notification(Route::Session, method::MESSAGE, Some(&params))?;
        Ok(true)
    }

    // ----- server-to-client requests (legacy) ----------------------------------------------

    /// Sends a request to a legacy client (sampling, elicitation, roots, ping). `related` ties
    /// it to the client request being served, so over HTTP it travels on that request's stream.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: ServerRequest,
        related: Option<&RequestId>,
    ) -> Result<RequestId, UsageError> {
        let legacy = self
            .legacy
            .as_ref()
            .filter(|l| l.phase != Phase::AwaitingInitialize)
            .ok_or_else(|| {
                UsageError::NotAllowed(
                    "server requests need a legacy session; 2026-07-28 uses input_required results"
                        .into(),
                )
            })?;
        check_server_request_capability(&legacy.capabilities, &request)?;
        let id = self.outgoing.next_id();
        let method_name = method_static(request.method());
        let route = related.cloned().map_or(Route::Session, Route::Request);
        self.outbox
            .request(route, &id, request.method(), Some(&request))?;
        self.outgoing.insert(
            now,
            id.clone(),
            method_name,
            Some(self.config.request_timeout),
            false,
        );
        Ok(id)
    }

    /// Gives up on one of our requests: sends `notifications/cancelled` and forgets it.
    pub fn cancel_request(
        &mut self,
        id: &RequestId,
        reason: Option<String>,
    ) -> Result<(), UsageError> {
        self.outgoing
            .close(id)
            .ok_or_else(|| UsageError::UnknownRequest(id.clone()))?;
        self.task_ask_settled(self.last_now, id);
        let params = CancelledNotificationParams {
            request_id: Some(id.clone()),
            reason,
            ..Default::default()
        };
        self.outbox
            .notification(Route::Session, method::CANCELLED, Some(&params))
    }
}
fn missing_task_extension() -> ErrorObject {
    ErrorObject::new(
        code::MISSING_REQUIRED_CLIENT_CAPABILITY,
        "this request needs the io.modelcontextprotocol/tasks extension",
    )
    .with_data(json!({
        "requiredCapabilities": { "extensions": { tasks_ext::EXTENSION_ID: {} } }
    }))
}

fn subscription_meta(id: &RequestId) -> Meta {
    let mut m = Meta::new();
    m.insert(
        meta_keys::SUBSCRIPTION_ID,
        serde_json::to_value(id).unwrap_or(Value::Null),
    );
    m
}

fn kind_of(r: &ClientRequest) -> Kind {
    match r {
        ClientRequest::CallTool(_) => Kind::CallTool,
        ClientRequest::GetPrompt(_) | ClientRequest::ReadResource(_) => Kind::MrtrCapable,
        ClientRequest::Listen(_) => Kind::Listen,
        ClientRequest::GetTaskPayload(_) => Kind::TaskPayload,
        _ => Kind::Other,
    }
}

fn check_increasing(last: &mut Option<f64>, value: f64) -> Result<(), UsageError> {
    if value.is_nan() || last.is_some_and(|l| value.partial_cmp(&l) != Some(Ordering::Greater)) {
        return Err(UsageError::ProgressNotIncreasing {
            last: last.unwrap_or(f64::NAN),
            got: value,
        });
    }
    *last = Some(value);
    Ok(())
}

fn check_input_capability(
    caps: Option<&ClientCapabilities>,
    r: &InputRequest,
) -> Result<(), UsageError> {
    let caps = caps.ok_or(UsageError::MissingCapability("clientCapabilities"))?;
    match r {
        InputRequest::Elicit(p) => check_elicit(caps, p),
        InputRequest::CreateMessage(p) => check_sampling(caps, p),
        InputRequest::ListRoots(_) => caps
            .roots
            .as_ref()
            .map(|_| ())
            .ok_or(UsageError::MissingCapability("roots")),
        _ => Ok(()),
    }
}

fn check_elicit(
    caps: &ClientCapabilities,
    p: &crate::schema::elicitation::ElicitRequestParams,
) -> Result<(), UsageError> {
    use crate::schema::elicitation::ElicitRequestParams as E;
    let e = caps
        .elicitation
        .as_ref()
        .ok_or(UsageError::MissingCapability("elicitation"))?;
    match p {
        // `{}` declares form mode only.
        E::Form(_) if e.form.is_some() || e.url.is_none() => Ok(()),
        E::Form(_) => Err(UsageError::MissingCapability("elicitation.form")),
        E::Url(_) if e.url.is_some() => Ok(()),
        E::Url(_) => Err(UsageError::MissingCapability("elicitation.url")),
    }
}

fn check_sampling(
    caps: &ClientCapabilities,
    p: &crate::schema::sampling::CreateMessageRequestParams,
) -> Result<(), UsageError> {
    let s = caps
        .sampling
        .as_ref()
        .ok_or(UsageError::MissingCapability("sampling"))?;
    if (p.tools.is_some() || p.tool_choice.is_some()) && s.tools.is_none() {
        return Err(UsageError::MissingCapability("sampling.tools"));
    }
    Ok(())
}

fn check_server_request_capability(
    caps: &ClientCapabilities,
    r: &ServerRequest,
) -> Result<(), UsageError> {
    match r {
        ServerRequest::CreateMessage(p) => check_sampling(caps, p),
        ServerRequest::Elicit(p) => check_elicit(caps, p),
        ServerRequest::ListRoots(_) => caps
            .roots
            .as_ref()
            .map(|_| ())
            .ok_or(UsageError::MissingCapability("roots")),
        ServerRequest::ListTasks(_) => caps
            .tasks
            .as_ref()
            .and_then(|t| t.list.as_ref())
            .map(|_| ())
            .ok_or(UsageError::MissingCapability("tasks.list")),
        ServerRequest::CancelTask(_) => caps
            .tasks
            .as_ref()
            .and_then(|t| t.cancel.as_ref())
            .map(|_| ())
            .ok_or(UsageError::MissingCapability("tasks.cancel")),
        _ => Ok(()),
    }
}

/// Interns method names of server requests so the request table stores `&'static str`.
fn method_static(m: &str) -> &'static str {
    match m {
        method::PING => method::PING,
        method::SAMPLING_CREATE_MESSAGE => method::SAMPLING_CREATE_MESSAGE,
        method::ELICITATION_CREATE => method::ELICITATION_CREATE,
        method::ROOTS_LIST => method::ROOTS_LIST,
        method::TASKS_GET => method::TASKS_GET,
        method::TASKS_RESULT => method::TASKS_RESULT,
        method::TASKS_LIST => method::TASKS_LIST,
        method::TASKS_CANCEL => method::TASKS_CANCEL,
        _ => "custom",
    }
}
