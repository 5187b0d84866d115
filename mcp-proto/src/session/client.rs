//! The client side of a connection: era detection, request tracking, server asks.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::outbound::{Outbound, ProgressCheck, Timeout};
use super::outbox::Outbox;
use super::{PeerFault, RequestError, Route, Transmit, UsageError, DEFAULT_MAX_FRAME_LEN};
use crate::codec::{FrameError, LineDecoder};
use crate::jsonrpc::{ErrorObject, RawMessage, RequestId};
use crate::schema::common::{meta_keys, EmptyResult, Implementation, Meta, RequestParams};
use crate::schema::lifecycle::{ClientCapabilities, InitializeRequestParams, ServerCapabilities};
use crate::schema::messages::{
    method, ClientNotification, ClientRequest, ClientResult, ServerNotification, ServerRequest,
    ServerResult,
};
use crate::schema::notifications::{CancelledNotificationParams, ProgressNotificationParams};
use crate::schema::tasks::{self, TaskStatus};
use crate::schema::version::{Era, ProtocolVersion};

/// Which era to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EraPreference {
    /// Probe with `server/discover`, fall back to `initialize`.
    #[default]
    Auto,
    /// `initialize` only.
    Legacy,
    /// 2026-07-28 only; fail if the server does not speak it.
    Modern,
}

/// Static configuration of a client session.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Name and version reported to servers.
    pub info: Implementation,
    /// What the client offers (sampling, elicitation, roots, extensions ...).
    pub capabilities: ClientCapabilities,
    /// Versions spoken.
    pub versions: Vec<ProtocolVersion>,
    /// Era selection.
    pub era: EraPreference,
    /// How long the `server/discover` probe may take before falling back to `initialize`.
    pub probe_timeout: Duration,
    /// How long `initialize` may take.
    pub initialize_timeout: Duration,
    /// Default timeout of requests.
    pub request_timeout: Timeout,
    /// Largest frame accepted on `handle_bytes`.
    pub max_frame_len: usize,
    /// Most requests queued while connecting.
    pub max_queued: usize,
    /// Most server requests in flight (legacy asks).
    pub max_in_flight: usize,
    /// Log messages wanted with each 2026-07-28 request (`_meta` `logLevel`); `None` opts out.
    /// Legacy sessions use `logging/setLevel` instead.
    pub log_level: Option<crate::schema::LoggingLevel>,
    /// Output backlog limits of a byte-stream transport (see [`crate::codec::flow`]).
    pub watermarks: crate::codec::flow::Watermarks,
}

crate::__config_setters!(ClientConfig {
    with_info => info: Implementation,
    with_capabilities => capabilities: ClientCapabilities,
    with_versions => versions: Vec<ProtocolVersion>,
    with_era => era: EraPreference,
    with_probe_timeout => probe_timeout: Duration,
    with_initialize_timeout => initialize_timeout: Duration,
    with_request_timeout => request_timeout: Timeout,
    with_max_frame_len => max_frame_len: usize,
    with_max_queued => max_queued: usize,
    with_max_in_flight => max_in_flight: usize,
    with_log_level => log_level: Option<crate::schema::LoggingLevel>,
    with_watermarks => watermarks: crate::codec::flow::Watermarks,
});

impl ClientConfig {
    /// A config for a client called `name` at `version`, defaults for everything else: the
    /// one line most clients need.
    ///
    /// ```
    /// let config = mcp_proto::session::ClientConfig::named("my-client", "1.0");
    /// assert_eq!(config.info.name, "my-client");
    /// ```
    pub fn named(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self::new(Implementation::new(name, version))
    }

    /// A config with the given identity and defaults for everything else.
    pub fn new(info: Implementation) -> Self {
        ClientConfig {
            info,
            capabilities: ClientCapabilities::default(),
            versions: ProtocolVersion::ALL.to_vec(),
            era: EraPreference::Auto,
            probe_timeout: Duration::from_secs(5),
            initialize_timeout: Duration::from_secs(30),
            request_timeout: Timeout::default(),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_queued: 1024,
            max_in_flight: 256,
            log_level: None,
            watermarks: crate::codec::flow::Watermarks::default(),
        }
    }
}

/// What the client learned about the server when connecting.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerDescription {
    /// The era in use.
    pub era: Era,
    /// The version in use.
    pub version: ProtocolVersion,
    /// The server's identity, when it said.
    pub server_info: Option<Implementation>,
    /// What the server offers.
    pub capabilities: ServerCapabilities,
    /// Usage hints for the model.
    pub instructions: Option<String>,
}

/// Why connecting failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectError {
    /// The server offered only versions we do not speak.
    #[error("no common protocol version (server offered {offered:?})")]
    NoCommonVersion {
        /// What the server offered.
        offered: Vec<String>,
    },
    /// The server refused `initialize`.
    #[error("server refused initialize: {0}")]
    Rejected(ErrorObject),
    /// No answer to the handshake.
    #[error("handshake timed out")]
    Timeout,
    /// The answer could not be read.
    #[error("malformed handshake result: {0}")]
    Malformed(String),
}

/// Something that happened on a client session.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// Connected: requests now go out.
    Ready(ServerDescription),
    /// Connecting failed; every queued request failed with `Closed`.
    ConnectFailed(ConnectError),
    /// The outcome of a request.
    Response {
        /// Its id.
        id: RequestId,
        /// Result or error.
        result: Result<ServerResult, RequestError>,
    },
    /// The server cancelled a task this client runs for it (`tasks/cancel`); the task is
    /// already `cancelled`: stop its work.
    TaskCancelRequested {
        /// The task.
        task_id: String,
    },
    /// Progress on a legacy task after its call was answered with the task: the call's
    /// progress token stays valid until the task ends, and the server ties each
    /// notification to the task (`_meta` `related-task`).
    TaskProgress {
        /// The task.
        task_id: String,
        /// The notification.
        params: ProgressNotificationParams,
    },
    /// Progress on a request.
    Progress {
        /// The request.
        id: RequestId,
        /// The notification.
        params: ProgressNotificationParams,
    },
    /// A legacy server's request (sampling, elicitation, roots ...): answer with `respond`.
    Request {
        /// Its id.
        id: RequestId,
        /// The typed request.
        request: ServerRequest,
    },
    /// The server cancelled one of its requests.
    Cancelled {
        /// The request.
        id: RequestId,
        /// Why.
        reason: Option<String>,
    },
    /// A notification; `subscription` is set for those on a listen stream.
    Notification {
        /// The notification.
        notification: ServerNotification,
        /// The listen stream it belongs to.
        subscription: Option<RequestId>,
    },
    /// A watched task was polled (see [`ClientSession::watch_task`]): its latest state.
    /// After a terminal status the watch ends.
    TaskPolled {
        /// The task.
        task_id: String,
        /// Its status now.
        status: TaskStatus,
        /// The full `tasks/get` result (legacy task or extension detailed task).
        detail: ServerResult,
    },
    /// Polling a watched task failed (unknown task, expired, ...); the watch ended.
    TaskWatchFailed {
        /// The task.
        task_id: String,
        /// Why.
        error: RequestError,
    },
    /// The peer did something wrong that has no reply frame.
    PeerFault(PeerFault),
}

#[derive(Debug)]
struct Watch {
    /// Next poll, or `None` while a `tasks/get` is in flight.
    next_poll: Option<Instant>,
    interval: Duration,
}

/// Per-request options.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Overrides the default timeout; `Some(None)` disables it (listen streams).
    pub timeout: Option<Option<Timeout>>,
    /// Ask the server for progress notifications.
    pub progress: bool,
}

crate::__config_setters!(RequestOptions {
    with_timeout => timeout: Option<Option<Timeout>>,
    with_progress => progress: bool,
});

#[derive(Debug, Clone, PartialEq)]
enum State {
    Idle,
    Probing(RequestId),
    Initializing(RequestId),
    Ready(Box<ServerDescription>),
    Failed,
    Closed,
}

/// The client half of an MCP connection, as a pure state machine.
///
/// Method kinds, as on [`ServerSession`](super::ServerSession): `handle_*` for input,
/// [`connect`](Self::connect) / [`send_request`](Self::send_request) /
/// [`respond`](Self::respond) / [`cancel`](Self::cancel) as commands, `poll_*` for output.
///
/// Taxonomy: the session sends `server/discover` (probe) and `initialize` /
/// `notifications/initialized` itself, answers a legacy server's `ping`, stamps the
/// 2026-07-28 per-request `_meta` on every request, and emits everything else.
pub struct ClientSession {
    config: ClientConfig,
    state: State,
    decoder: LineDecoder,
    outbox: Outbox,
    events: VecDeque<ClientEvent>,
    outgoing: Outbound<Cow<'static, str>>,
    queued: VecDeque<(RequestId, ClientRequest, RequestOptions)>,
    incoming: HashMap<RequestId, &'static str>,
    watches: HashMap<String, Watch>,
    watch_polls: HashMap<RequestId, String>,
    client_info_value: Value,
    capabilities_value: Value,
    /// The 2026-07-28 per-request `_meta` object, encoded once (it is the same on every
    /// request that adds nothing of its own).
    modern_meta_json: Box<str>,
    /// When the session was created (the base of task timestamps).
    born: Instant,
    /// Tasks run for the server (task-augmented sampling and elicitation), once enabled.
    tasks: Option<Box<receiver::ClientTasks>>,
}

mod receiver;

impl std::fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSession")
            .field("state", &self.state)
            .field("pending", &self.outgoing.len())
            .finish_non_exhaustive()
    }
}

/// Adds the 2026-07-28 per-request entries (version, capabilities, identity, log level).
fn modern_meta(config: &ClientConfig, capabilities: &Value, info: &Value, meta: &mut Option<Meta>) {
    let m = meta.get_or_insert_with(Meta::new);
    m.insert(
        meta_keys::PROTOCOL_VERSION,
        Value::String(ProtocolVersion::V2026_07_28.as_str().into()),
    );
    m.insert(meta_keys::CLIENT_CAPABILITIES, capabilities.clone());
    m.insert(meta_keys::CLIENT_INFO, info.clone());
    if let Some(level) = config.log_level {
        if let Ok(v) = serde_json::to_value(level) {
            m.insert(meta_keys::LOG_LEVEL, v);
        }
    }
}

#[derive(Deserialize)]
struct SubscriptionProbe {
    #[serde(rename = "_meta", default)]
    meta: Option<Meta>,
}

impl ClientSession {
    /// A new, unconnected session.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let client_info_value = serde_json::to_value(&config.info).unwrap_or(Value::Null);
        let capabilities_value = serde_json::to_value(&config.capabilities).unwrap_or(Value::Null);
        let mut meta = None;
        modern_meta(&config, &capabilities_value, &client_info_value, &mut meta);
        let modern_meta_json = serde_json::to_string(&meta)
            .unwrap_or_else(|_| "{}".into())
            .into_boxed_str();
        ClientSession {
            born: now,
            tasks: None,
            decoder: LineDecoder::new(config.max_frame_len),
            client_info_value,
            capabilities_value,
            modern_meta_json,
            config,
            state: State::Idle,
            outbox: Outbox::default(),
            events: VecDeque::new(),
            outgoing: Outbound::new(256),
            queued: VecDeque::new(),
            incoming: HashMap::new(),
            watches: HashMap::new(),
            watch_polls: HashMap::new(),
        }
    }

    // ----- getters -------------------------------------------------------------------------

    /// What the server is, once connected.
    pub fn server(&self) -> Option<&ServerDescription> {
        match &self.state {
            State::Ready(d) => Some(d),
            _ => None,
        }
    }

    /// Whether requests go out immediately.
    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// The capabilities this client declares (per request in 2026-07-28, where a request
    /// may widen them in its own `_meta`).
    pub fn capabilities(&self) -> &ClientCapabilities {
        &self.config.capabilities
    }

    /// The output backlog limits a byte-stream transport applies to this session.
    pub fn watermarks(&self) -> crate::codec::flow::Watermarks {
        self.config.watermarks
    }

    /// Requests sent and not yet answered.
    pub fn pending(&self) -> usize {
        self.outgoing.len()
    }

    // ----- polls ---------------------------------------------------------------------------

    /// Next frame to write. Drain after every input or command.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop()
    }

    /// Next event. Drain after `poll_transmit`.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When to call `handle_timeout` next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let polls = self.watches.values().filter_map(|w| w.next_poll).min();
        match (self.outgoing.next_deadline(), polls) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Polls a task with `tasks/get` until it is terminal, at the server's `pollInterval`
    /// (or `fallback` when it gives none). Each answer is a [`ClientEvent::TaskPolled`]; the
    /// polls are scheduled through [`poll_timeout`](Self::poll_timeout).
    pub fn watch_task(
        &mut self,
        now: Instant,
        task_id: &str,
        fallback: Duration,
    ) -> Result<(), UsageError> {
        if !self.is_ready() {
            return Err(UsageError::NotAllowed("not connected".into()));
        }
        self.watches.insert(
            task_id.to_owned(),
            Watch {
                next_poll: Some(now),
                interval: fallback,
            },
        );
        self.run_watches(now);
        Ok(())
    }

    /// Stops polling a task.
    pub fn unwatch_task(&mut self, task_id: &str) {
        self.watches.remove(task_id);
        self.watch_polls.retain(|_, t| t != task_id);
    }

    fn run_watches(&mut self, now: Instant) {
        let due: Vec<String> = self
            .watches
            .iter()
            .filter(|(_, w)| w.next_poll.is_some_and(|t| t <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for task_id in due {
            let req = ClientRequest::GetTask(tasks::GetTaskRequestParams::new(task_id.clone()));
            match self.send_request(now, req, RequestOptions::default()) {
                Ok(id) => {
                    if let Some(w) = self.watches.get_mut(&task_id) {
                        w.next_poll = None;
                    }
                    self.watch_polls.insert(id, task_id);
                }
                Err(e) => {
                    self.watches.remove(&task_id);
                    self.events.push_back(ClientEvent::TaskWatchFailed {
                        task_id,
                        error: RequestError::Malformed(e.to_string()),
                    });
                }
            }
        }
    }

    /// Turns the answer to a watch poll into a `TaskPolled` event and schedules the next poll.
    fn on_watch_result(
        &mut self,
        now: Instant,
        task_id: String,
        result: Result<ServerResult, RequestError>,
    ) {
        let Some(watch) = self.watches.get_mut(&task_id) else {
            return;
        };
        let (status, interval) = match &result {
            Ok(ServerResult::GetTask(t)) => (t.task.status, t.task.poll_interval),
            Ok(ServerResult::GetTaskExt(t)) => (t.task.task.status, t.task.task.poll_interval_ms),
            Ok(_) => {
                self.watches.remove(&task_id);
                let error = RequestError::Malformed("tasks/get returned no task".into());
                return self
                    .events
                    .push_back(ClientEvent::TaskWatchFailed { task_id, error });
            }
            Err(e) => {
                let error = e.clone();
                self.watches.remove(&task_id);
                return self
                    .events
                    .push_back(ClientEvent::TaskWatchFailed { task_id, error });
            }
        };
        if status.is_terminal() {
            self.watches.remove(&task_id);
        } else {
            let every = interval
                .map(Duration::from_millis)
                .unwrap_or(watch.interval);
            // Never poll in a tight loop, whatever the server suggests.
            watch.next_poll = Some(now + every.max(Duration::from_millis(10)));
        }
        if let Ok(detail) = result {
            self.events.push_back(ClientEvent::TaskPolled {
                task_id,
                status,
                detail,
            });
        }
    }

    // ----- commands ------------------------------------------------------------------------

    /// Starts the handshake (probe, then `initialize` if needed).
    pub fn connect(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.state != State::Idle {
            return Err(UsageError::NotAllowed("connect was already called".into()));
        }
        let modern = self.config.versions.contains(&ProtocolVersion::V2026_07_28);
        let legacy = self.config.versions.iter().any(|v| v.era() == Era::Legacy);
        match self.config.era {
            EraPreference::Auto | EraPreference::Modern if modern => self.send_probe(now),
            EraPreference::Auto | EraPreference::Legacy if legacy => self.send_initialize(now),
            _ => Err(UsageError::NotAllowed(
                "no configured version fits the era preference".into(),
            )),
        }
    }

    fn modern_meta(&self, meta: &mut Option<Meta>) {
        modern_meta(
            &self.config,
            &self.capabilities_value,
            &self.client_info_value,
            meta,
        );
    }

    fn send_probe(&mut self, now: Instant) -> Result<(), UsageError> {
        let id = self.outgoing.next_id();
        let mut params = RequestParams::default();
        self.modern_meta(&mut params.meta);
        self.outbox
            .request(Route::Session, &id, method::DISCOVER, Some(&params))?;
        let t = Timeout::fixed(self.config.probe_timeout);
        self.outgoing.insert(
            now,
            id.clone(),
            Cow::Borrowed(method::DISCOVER),
            Some(t),
            false,
        );
        self.state = State::Probing(id);
        Ok(())
    }

    fn send_initialize(&mut self, now: Instant) -> Result<(), UsageError> {
        let latest = self
            .config
            .versions
            .iter()
            .copied()
            .filter(|v| v.era() == Era::Legacy)
            .max()
            .unwrap_or(ProtocolVersion::LATEST_LEGACY);
        let id = self.outgoing.next_id();
        let params = InitializeRequestParams {
            protocol_version: latest.as_str().to_owned(),
            capabilities: self.config.capabilities.clone(),
            client_info: self.config.info.clone(),
            ..Default::default()
        };
        self.outbox
            .request(Route::Session, &id, method::INITIALIZE, Some(&params))?;
        let t = Timeout::fixed(self.config.initialize_timeout);
        self.outgoing.insert(
            now,
            id.clone(),
            Cow::Borrowed(method::INITIALIZE),
            Some(t),
            false,
        );
        self.state = State::Initializing(id);
        Ok(())
    }

    /// Sends a request (queued until connected). Returns its id; the outcome arrives as
    /// [`ClientEvent::Response`].
    pub fn send_request(
        &mut self,
        now: Instant,
        request: ClientRequest,
        options: RequestOptions,
    ) -> Result<RequestId, UsageError> {
        match &self.state {
            State::Failed | State::Closed => return Err(UsageError::Closed),
            State::Ready(_) => {}
            _ => {
                if self.queued.len() >= self.config.max_queued {
                    return Err(UsageError::Limit("max_queued"));
                }
                let id = self.outgoing.next_id();
                // Reserve the id so nothing else takes it while queued.
                self.outgoing
                    .insert(now, id.clone(), Cow::Borrowed("queued"), None, false);
                self.queued.push_back((id.clone(), request, options));
                return Ok(id);
            }
        }
        let id = self.outgoing.next_id();
        self.transmit_request(now, id.clone(), request, options)?;
        Ok(id)
    }

    fn transmit_request(
        &mut self,
        now: Instant,
        id: RequestId,
        mut request: ClientRequest,
        options: RequestOptions,
    ) -> Result<(), UsageError> {
        let Some(desc) = self.server() else {
            return Err(UsageError::NotAllowed("not connected".into()));
        };
        check_request_allowed(desc, &request)?;
        let era = desc.era;
        let tasks_method = matches!(
            request,
            ClientRequest::GetTask(_) | ClientRequest::UpdateTask(_) | ClientRequest::CancelTask(_)
        );
        if era == Era::Modern && request.meta().is_none() && !tasks_method && !options.progress {
            // The common case: nothing of the request's own goes into `_meta`, so the
            // session-wide entries are spliced in already encoded.
            self.outbox.request_with_meta(
                Route::Session,
                &id,
                request.method(),
                &request,
                &self.modern_meta_json,
            )?;
        } else {
            self.encode_request(&id, &mut request, tasks_method, options.progress, era)?;
        }
        let timeout = match (options.timeout, &request) {
            (Some(t), _) => t,
            (None, ClientRequest::Listen(_)) => None,
            (None, _) => Some(self.config.request_timeout),
        };
        let name = match request {
            ClientRequest::Custom(c) => Cow::Owned(c.method),
            other => Cow::Borrowed(static_method(other.method())),
        };
        self.outgoing
            .insert(now, id, name, timeout, options.progress);
        Ok(())
    }

    /// Encodes a request whose `_meta` needs building: its own entries, a progress token, or
    /// the tasks extension's capability next to the session's.
    fn encode_request(
        &mut self,
        id: &RequestId,
        request: &mut ClientRequest,
        tasks_method: bool,
        progress: bool,
        era: Era,
    ) -> Result<(), UsageError> {
        if era == Era::Modern {
            // Capabilities the caller put on this request (a per-request opt-in) win.
            let own = request
                .meta()
                .and_then(|m| m.get(meta_keys::CLIENT_CAPABILITIES))
                .cloned();
            let meta = request.meta_mut();
            self.modern_meta(meta);
            let m = meta.get_or_insert_with(Meta::new);
            if let Some(caps) = own {
                m.insert(meta_keys::CLIENT_CAPABILITIES, caps);
            }
            // Whoever polls, answers or cancels a task speaks the tasks extension.
            if tasks_method {
                let mut caps = m
                    .get(meta_keys::CLIENT_CAPABILITIES)
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Default::default()));
                with_tasks_extension(&mut caps);
                m.insert(meta_keys::CLIENT_CAPABILITIES, caps);
            }
        }
        if progress {
            request
                .meta_mut()
                .get_or_insert_with(Meta::new)
                .set_progress_token(id.clone());
        }
        self.outbox
            .request(Route::Session, id, request.method(), Some(&*request))
    }

    /// Cancels a request: sends `notifications/cancelled` and forgets it. A late answer is
    /// dropped quietly. (Over HTTP in 2026-07-28, closing the stream is the cancel.)
    pub fn cancel(&mut self, id: &RequestId, reason: Option<String>) -> Result<(), UsageError> {
        if let Some(pos) = self.queued.iter().position(|(q, _, _)| q == id) {
            self.queued.remove(pos);
            self.outgoing.close(id);
            return Ok(());
        }
        let p = self
            .outgoing
            .get(id)
            .ok_or_else(|| UsageError::UnknownRequest(id.clone()))?;
        if p.method == method::INITIALIZE {
            return Err(UsageError::NotAllowed(
                "initialize must not be cancelled".into(),
            ));
        }
        self.outgoing.close(id);
        let params = CancelledNotificationParams {
            request_id: Some(id.clone()),
            reason,
            ..Default::default()
        };
        self.outbox
            .notification(Route::Session, method::CANCELLED, Some(&params))
    }

    /// Answers a legacy server's request.
    pub fn respond(&mut self, id: &RequestId, result: ClientResult) -> Result<(), UsageError> {
        if self.incoming.remove(id).is_none() {
            return Err(UsageError::UnknownRequest(id.clone()));
        }
        self.task_request_ended(id);
        self.outbox.response(Route::Session, id, &result)
    }

    /// Answers a legacy server's request with an error.
    pub fn respond_error(&mut self, id: &RequestId, error: ErrorObject) -> Result<(), UsageError> {
        if self.incoming.remove(id).is_none() {
            return Err(UsageError::UnknownRequest(id.clone()));
        }
        self.task_request_ended(id);
        self.outbox.error(Route::Session, Some(id), &error);
        Ok(())
    }

    /// Sends a notification (legacy: e.g. `notifications/roots/list_changed`).
    pub fn notify(&mut self, notification: ClientNotification) -> Result<(), UsageError> {
        self.outbox
            .notification(Route::Session, notification.method(), Some(&notification))
    }

    /// Ends the session: every pending request fails with `Closed`.
    pub fn close(&mut self) {
        self.queued.clear();
        let mut drained = self.outgoing.drain();
        // Sorted so that what a close emits does not depend on hash order.
        drained.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, p) in drained {
            if p.method == "queued"
                || !matches!(self.state, State::Probing(_) | State::Initializing(_))
            {
                self.events.push_back(ClientEvent::Response {
                    id,
                    result: Err(RequestError::Closed),
                });
            }
        }
        self.incoming.clear();
        if let Some(tasks) = self.tasks.as_mut() {
            tasks.forget_requests();
        }
        self.watches.clear();
        self.watch_polls.clear();
        self.state = State::Closed;
    }

    // ----- input ---------------------------------------------------------------------------

    /// Feeds bytes from a newline-framed stream.
    pub fn handle_bytes(&mut self, now: Instant, buf: &mut BytesMut) {
        while let Some(frame) = self.decoder.decode(buf) {
            match frame {
                Ok(bytes) => self.handle_message(now, &bytes),
                Err(e) => self.frame_fault(e),
            }
        }
    }

    /// Feeds the final bytes at end of stream.
    pub fn handle_eof(&mut self, now: Instant, buf: &mut BytesMut) {
        self.handle_bytes(now, buf);
        if let Some(frame) = self.decoder.finish(buf) {
            match frame {
                Ok(bytes) => self.handle_message(now, &bytes),
                Err(e) => self.frame_fault(e),
            }
        }
    }

    fn frame_fault(&mut self, e: FrameError) {
        self.fault(format!("bad frame from server: {e}"));
    }

    fn fault(&mut self, message: impl Into<String>) {
        self.events
            .push_back(ClientEvent::PeerFault(PeerFault::new(message)));
    }

    /// Feeds one whole message from a message-framed transport (a WebSocket, a channel):
    /// exactly what one line is to [`handle_bytes`](Self::handle_bytes), the
    /// `max_frame_len` limit included. A trailing newline is ignored.
    pub fn handle_framed(&mut self, now: Instant, message: &[u8]) {
        let message = message.strip_suffix(b"\n").unwrap_or(message);
        let max_frame_len = self.decoder.max_frame_len();
        if message.len() > max_frame_len {
            return self.frame_fault(FrameError::TooLong { max_frame_len });
        }
        self.handle_message(now, message);
    }

    /// Feeds one complete JSON-RPC message.
    pub fn handle_message(&mut self, now: Instant, bytes: &[u8]) {
        if self.state == State::Closed {
            return;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return self.fault("message is not valid UTF-8");
        };
        if text.trim_start().starts_with('[') {
            match serde_json::from_str::<Vec<&RawValue>>(text) {
                Ok(items) if !items.is_empty() => {
                    for item in items {
                        self.handle_one(now, item.get());
                    }
                }
                _ => self.fault("malformed batch"),
            }
            return;
        }
        self.handle_one(now, text);
    }

    fn handle_one(&mut self, now: Instant, text: &str) {
        match RawMessage::parse(text) {
            Ok(RawMessage::Response { id, result }) => self.on_result(now, id, Ok(result)),
            Ok(RawMessage::Error {
                id: Some(id),
                error,
            }) => self.on_result(now, id, Err(error)),
            Ok(RawMessage::Error { id: None, error }) => {
                self.fault(format!("server error without id: {error}"))
            }
            Ok(RawMessage::Request { id, method, params }) => {
                self.on_request(now, id, &method, params)
            }
            Ok(RawMessage::Notification { method, params }) => {
                self.on_notification(now, &method, params)
            }
            Err(e) => {
                if e.reply && self.era() != Some(Era::Modern) {
                    self.outbox.error(Route::Session, e.id.as_ref(), &e.error);
                } else {
                    self.fault(e.error.message);
                }
            }
        }
    }

    fn era(&self) -> Option<Era> {
        self.server().map(|s| s.era)
    }

    /// Advances time: handshake fallbacks and request timeouts.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((id, p)) = self.outgoing.pop_expired(now) {
            match &self.state {
                State::Probing(probe) if *probe == id => {
                    if self.config.era == EraPreference::Modern {
                        self.fail(ConnectError::Timeout);
                    } else {
                        let _ = self.send_initialize(now);
                    }
                }
                State::Initializing(init) if *init == id => self.fail(ConnectError::Timeout),
                _ => {
                    let params = CancelledNotificationParams {
                        request_id: Some(id.clone()),
                        reason: Some("timed out".into()),
                        ..Default::default()
                    };
                    let _ =
                        self.outbox
                            .notification(Route::Session, method::CANCELLED, Some(&params));
                    let _ = p;
                    if let Some(task_id) = self.watch_polls.remove(&id) {
                        self.on_watch_result(now, task_id, Err(RequestError::Timeout));
                        continue;
                    }
                    self.events.push_back(ClientEvent::Response {
                        id,
                        result: Err(RequestError::Timeout),
                    });
                }
            }
        }
        self.run_watches(now);
    }

    fn fail(&mut self, e: ConnectError) {
        self.state = State::Failed;
        for (id, _, _) in std::mem::take(&mut self.queued) {
            self.outgoing.remove(&id);
            self.events.push_back(ClientEvent::Response {
                id,
                result: Err(RequestError::Closed),
            });
        }
        self.events.push_back(ClientEvent::ConnectFailed(e));
    }

    fn on_result(&mut self, now: Instant, id: RequestId, outcome: Result<&RawValue, ErrorObject>) {
        let Some(p) = self.outgoing.get(&id) else {
            if !self.outgoing.was_closed(&id) {
                self.fault(format!("response to unknown request {id}"));
            }
            return;
        };
        if p.method == "queued" {
            return self.fault(format!("response to unsent request {id}"));
        }
        let Some(p) = self.outgoing.remove(&id) else {
            return;
        };
        match &self.state {
            State::Probing(probe) if *probe == id => return self.on_probe(now, outcome),
            State::Initializing(init) if *init == id => return self.on_initialize(now, outcome),
            _ => {}
        }
        let era = self.era().unwrap_or(Era::Legacy);
        let result = match outcome {
            Ok(raw) => ServerResult::decode(&p.method, era, raw).map_err(RequestError::Malformed),
            Err(e) => Err(RequestError::Rpc(e)),
        };
        if let Some(task_id) = self.watch_polls.remove(&id) {
            return self.on_watch_result(now, task_id, result);
        }
        self.events.push_back(ClientEvent::Response { id, result });
    }

    fn on_probe(&mut self, now: Instant, outcome: Result<&RawValue, ErrorObject>) {
        let discovered = outcome.ok().and_then(|raw| {
            match ServerResult::decode(method::DISCOVER, Era::Modern, raw) {
                Ok(ServerResult::Discover(d)) => Some(d),
                _ => None,
            }
        });
        if let Some(d) = discovered {
            let common = d
                .supported_versions
                .iter()
                .filter_map(|s| ProtocolVersion::parse(s))
                .filter(|v| v.era() == Era::Modern && self.config.versions.contains(v))
                .max();
            if let Some(version) = common {
                let server_info = d
                    .meta
                    .as_ref()
                    .and_then(|m| m.get(meta_keys::SERVER_INFO))
                    .and_then(|v| Implementation::deserialize(v).ok());
                let desc = ServerDescription {
                    era: Era::Modern,
                    version,
                    server_info,
                    capabilities: d.capabilities,
                    instructions: d.instructions,
                };
                return self.become_ready(now, desc);
            }
            if self.config.era == EraPreference::Modern {
                return self.fail(ConnectError::NoCommonVersion {
                    offered: d.supported_versions,
                });
            }
        } else if self.config.era == EraPreference::Modern {
            return self.fail(ConnectError::Malformed(
                "server/discover did not return a usable result".into(),
            ));
        }
        // Any other answer means an initialize-era server; not keyed on one error code.
        if self.config.versions.iter().any(|v| v.era() == Era::Legacy) {
            let _ = self.send_initialize(now);
        } else {
            self.fail(ConnectError::NoCommonVersion { offered: vec![] });
        }
    }

    fn on_initialize(&mut self, now: Instant, outcome: Result<&RawValue, ErrorObject>) {
        let raw = match outcome {
            Ok(raw) => raw,
            Err(e) => return self.fail(ConnectError::Rejected(e)),
        };
        let r = match ServerResult::decode(method::INITIALIZE, Era::Legacy, raw) {
            Ok(ServerResult::Initialize(r)) => r,
            Ok(_) => return self.fail(ConnectError::Malformed("not an initialize result".into())),
            Err(e) => return self.fail(ConnectError::Malformed(e)),
        };
        let version = ProtocolVersion::parse(&r.protocol_version)
            .filter(|v| v.era() == Era::Legacy && self.config.versions.contains(v));
        let Some(version) = version else {
            return self.fail(ConnectError::NoCommonVersion {
                offered: vec![r.protocol_version],
            });
        };
        let _ = self.outbox.notification(
            Route::Session,
            method::INITIALIZED,
            Some(&RequestParams::default()),
        );
        let desc = ServerDescription {
            era: Era::Legacy,
            version,
            server_info: Some(r.server_info),
            capabilities: r.capabilities,
            instructions: r.instructions,
        };
        self.become_ready(now, desc);
    }

    fn become_ready(&mut self, now: Instant, desc: ServerDescription) {
        self.state = State::Ready(Box::new(desc.clone()));
        self.events.push_back(ClientEvent::Ready(desc));
        for (id, request, options) in std::mem::take(&mut self.queued) {
            self.outgoing.remove(&id);
            if let Err(e) = self.transmit_request(now, id.clone(), request, options) {
                let result = Err(match e {
                    UsageError::MissingCapability(c) => RequestError::Rpc(
                        ErrorObject::method_not_found(&format!("(server lacks {c})")),
                    ),
                    other => RequestError::Malformed(other.to_string()),
                });
                self.events.push_back(ClientEvent::Response { id, result });
            }
        }
    }

    fn on_request(
        &mut self,
        now: Instant,
        id: RequestId,
        method_name: &str,
        params: Option<&RawValue>,
    ) {
        if self.era() == Some(Era::Modern) {
            return self.fault(format!(
                "2026-07-28 servers must not send requests ({method_name})"
            ));
        }
        let request = match ServerRequest::decode(method_name, params) {
            Ok(r) => r,
            Err(e) => return self.outbox.error(Route::Session, Some(&id), &e),
        };
        if let ServerRequest::Ping(_) = request {
            let _ = self
                .outbox
                .response(Route::Session, &id, &EmptyResult::default());
            return;
        }
        let caps = &self.config.capabilities;
        let allowed = match &request {
            ServerRequest::CreateMessage(_) => caps.sampling.is_some(),
            ServerRequest::Elicit(_) => caps.elicitation.is_some(),
            ServerRequest::ListRoots(_) => caps.roots.is_some(),
            ServerRequest::GetTask(_) | ServerRequest::GetTaskPayload(_) => caps.tasks.is_some(),
            ServerRequest::ListTasks(_) => caps.tasks.as_ref().is_some_and(|t| t.list.is_some()),
            ServerRequest::CancelTask(_) => caps.tasks.as_ref().is_some_and(|t| t.cancel.is_some()),
            ServerRequest::Ping(_) | ServerRequest::Custom(_) => false,
        };
        if !allowed {
            return self.outbox.error(
                Route::Session,
                Some(&id),
                &ErrorObject::method_not_found(method_name),
            );
        }
        if self.incoming.contains_key(&id) {
            let e = ErrorObject::invalid_request(format!("request id {id} is already in flight"));
            return self.outbox.error(Route::Session, Some(&id), &e);
        }
        if self.incoming.len() >= self.config.max_in_flight {
            let e = ErrorObject::internal("client busy: too many server requests in flight");
            return self.outbox.error(Route::Session, Some(&id), &e);
        }
        // The client's own tasks: answered here when the session serves tasks.
        if matches!(
            request,
            ServerRequest::GetTask(_)
                | ServerRequest::GetTaskPayload(_)
                | ServerRequest::ListTasks(_)
                | ServerRequest::CancelTask(_)
        ) && self.answer_task_request(now, &id, &request)
        {
            return;
        }
        self.incoming.insert(id.clone(), static_method(method_name));
        self.note_task_request(&id, &request);
        self.events.push_back(ClientEvent::Request { id, request });
    }

    fn on_notification(&mut self, now: Instant, method_name: &str, params: Option<&RawValue>) {
        let subscription = params
            .and_then(|p| serde_json::from_str::<SubscriptionProbe>(p.get()).ok())
            .and_then(|p| p.meta)
            .and_then(|m| m.get(meta_keys::SUBSCRIPTION_ID).cloned())
            .and_then(|v| serde_json::from_value::<RequestId>(v).ok());
        let n = match ServerNotification::decode(method_name, params) {
            Ok(n) => n,
            Err(e) => {
                return self.fault(format!(
                    "malformed {method_name} notification: {}",
                    e.message
                ))
            }
        };
        match n {
            ServerNotification::Progress(p) => {
                match self.outgoing.progress(now, &p.progress_token, p.progress) {
                    ProgressCheck::Accepted(id) => self
                        .events
                        .push_back(ClientEvent::Progress { id, params: p }),
                    ProgressCheck::Unknown => {
                        let task = p
                            .meta
                            .as_ref()
                            .and_then(tasks::RelatedTaskMetadata::from_meta);
                        if let Some(t) = task {
                            self.events.push_back(ClientEvent::TaskProgress {
                                task_id: t.task_id,
                                params: p,
                            });
                        }
                    }
                    ProgressCheck::NotIncreasing(_) => self.fault("progress did not increase"),
                }
            }
            ServerNotification::Cancelled(p) => {
                let Some(id) = p.request_id.clone() else {
                    return;
                };
                if self.incoming.remove(&id).is_some() {
                    self.task_request_ended(&id);
                    self.events.push_back(ClientEvent::Cancelled {
                        id,
                        reason: p.reason,
                    });
                } else if self
                    .outgoing
                    .get(&id)
                    .is_some_and(|q| q.method == method::SUBSCRIPTIONS_LISTEN)
                {
                    // A server tearing down a listen stream: that is the request's outcome.
                    self.outgoing.remove(&id);
                    self.events.push_back(ClientEvent::Response {
                        id,
                        result: Err(RequestError::CancelledByPeer(p.reason)),
                    });
                }
            }
            notification => self.events.push_back(ClientEvent::Notification {
                notification,
                subscription,
            }),
        }
    }
}

/// Refuses requests the server cannot serve (unadvertised capability, other era's method).
/// Adds `extensions["io.modelcontextprotocol/tasks"]` to a capabilities object.
pub(crate) fn with_tasks_extension(caps: &mut Value) {
    if !caps.is_object() {
        *caps = Value::Object(Default::default());
    }
    if let Value::Object(c) = caps {
        let ext = c
            .entry("extensions")
            .or_insert_with(|| Value::Object(Default::default()));
        if !ext.is_object() {
            *ext = Value::Object(Default::default());
        }
        if let Value::Object(e) = ext {
            e.entry(crate::schema::tasks_ext::EXTENSION_ID)
                .or_insert_with(|| Value::Object(Default::default()));
        }
    }
}

fn check_request_allowed(desc: &ServerDescription, r: &ClientRequest) -> Result<(), UsageError> {
    let caps = &desc.capabilities;
    let legacy_only = matches!(
        r,
        ClientRequest::Ping(_)
            | ClientRequest::SetLevel(_)
            | ClientRequest::Subscribe(_)
            | ClientRequest::Unsubscribe(_)
            | ClientRequest::GetTaskPayload(_)
            | ClientRequest::ListTasks(_)
            | ClientRequest::Initialize(_)
    );
    let modern_only = matches!(
        r,
        ClientRequest::Discover(_) | ClientRequest::Listen(_) | ClientRequest::UpdateTask(_)
    );
    if desc.era == Era::Modern && legacy_only {
        return Err(UsageError::NotAllowed(format!(
            "{} does not exist in 2026-07-28",
            r.method()
        )));
    }
    if desc.era == Era::Legacy && modern_only {
        return Err(UsageError::NotAllowed(format!(
            "{} needs a 2026-07-28 server",
            r.method()
        )));
    }
    let need = match r {
        ClientRequest::ListTools(_) | ClientRequest::CallTool(_) => {
            caps.tools.is_some().then_some(()).ok_or("tools")
        }
        ClientRequest::ListPrompts(_) | ClientRequest::GetPrompt(_) => {
            caps.prompts.is_some().then_some(()).ok_or("prompts")
        }
        ClientRequest::ListResources(_)
        | ClientRequest::ListResourceTemplates(_)
        | ClientRequest::ReadResource(_) => {
            caps.resources.is_some().then_some(()).ok_or("resources")
        }
        ClientRequest::Subscribe(_) | ClientRequest::Unsubscribe(_) => caps
            .resources
            .as_ref()
            .and_then(|r| r.subscribe)
            .filter(|s| *s)
            .map(|_| ())
            .ok_or("resources.subscribe"),
        ClientRequest::Complete(_) => caps
            .completions
            .is_some()
            .then_some(())
            .ok_or("completions"),
        ClientRequest::SetLevel(_) => caps.logging.is_some().then_some(()).ok_or("logging"),
        _ => Ok(()),
    };
    need.map_err(UsageError::MissingCapability)
}

fn static_method(m: &str) -> &'static str {
    method::known(m).unwrap_or("custom")
}
