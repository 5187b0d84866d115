//! Serving a connection: each request runs as its own task with a [`RequestCx`] for
//! cancellation, progress, logging and asking the client.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::io::{AsyncRead, AsyncWrite};
use mcp_proto::auth::Principal;
use mcp_proto::jsonrpc::{ErrorObject, RequestId};
use mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_proto::schema::lifecycle::ClientCapabilities;
use mcp_proto::schema::messages::{ClientRequest, ClientResult, ServerRequest, ServerResult};
use mcp_proto::schema::mrtr::{InputRequest, InputRequiredResult, InputResponse, InputResponses};
use mcp_proto::schema::roots::ListRootsResult;
use mcp_proto::schema::sampling::{CreateMessageRequestParams, CreateMessageResult};
use mcp_proto::schema::{Era, LoggingLevel, RequestParams};
use mcp_proto::session::{
    RequestContext, RequestError, ServerConfig, ServerEvent, ServerSession, SharedServerConfig,
    UsageError,
};
use serde_json::Value;

use crate::engine::abort::AbortFlag;
use crate::engine::{lock, stream, Backlog, Shared, Side};
use crate::mrtr::{BadState, Replay, StateKey};
use crate::oneshot;
use crate::runtime::{BoxFuture, OsEntropy, Runtime};
use crate::tasks::{
    Detached, TaskHub, TaskListener, TaskOptions, TaskPlan, TaskSlot, TaskStart, TaskSupport,
};

/// What a request handler returns.
pub type HandlerResult = Result<ServerResult, ErrorObject>;

/// Application logic behind a server: gets every request the session does not answer itself.
///
/// A handler that panics (in `handle` or in its future) answers its request with -32603
/// carrying the panic's message; the session goes on serving.
pub trait Handler: Send + Sync + 'static {
    /// Serves one request. Runs as its own task; dropped if the client cancels.
    fn handle(&self, request: ClientRequest, cx: RequestCx) -> BoxFuture<'static, HandlerResult>;

    /// Called once a legacy client finished its handshake.
    fn on_initialized(&self, _client: &mcp_proto::schema::Implementation) {}

    /// The tool arguments `tool` mirrors into `Mcp-Param-*` headers (its `x-mcp-header`
    /// annotations), checked against the body on 2026-07-28 HTTP requests.
    fn header_params(&self, _tool: &str) -> Option<Arc<[mcp_proto::http::HeaderParam]>> {
        None
    }

    /// Called when a connection starts serving, with its handle (keep it to send list-changed
    /// or resource-updated notifications later; it does not keep the connection alive).
    fn on_connection(&self, _handle: ServerHandle) {}

    /// Whether `request` (a `tools/call`) may run as a task, and how; `None` (the default):
    /// never. The driver then creates the task, runs [`handle`](Self::handle) detached from
    /// the request and turns its outcome into the task's (see [`crate::tasks`]).
    fn task_options(&self, _request: &ClientRequest) -> Option<TaskOptions> {
        None
    }
}

pub(crate) type ServerShared = Shared<ServerSession, ServerSide>;

/// Bookkeeping of the server side of a connection.
pub(crate) struct ServerSide {
    handler: Arc<dyn Handler>,
    state_key: StateKey,
    running: HashMap<RequestId, Arc<CancelFlag>>,
    asks: HashMap<RequestId, oneshot::Sender<Result<ClientResult, RequestError>>>,
    /// The transport's per-request streams, when it has them (HTTP).
    streams: Option<Arc<dyn StreamControl>>,
    /// The service's tasks.
    pub(crate) tasks: Arc<TaskHub>,
    /// Legacy tasks this session created: nobody else can reach them, so they end with it.
    legacy_tasks: Vec<String>,
    /// Data the transport attached to requests fed but not yet handed to their handler.
    request_data: HashMap<RequestId, RequestData>,
}

/// Data a transport attaches to one request for its handler (HTTP: the request's headers,
/// and who its access token speaks for); the handler's [`RequestCx`] carries it.
#[derive(Clone, Default)]
pub(crate) struct RequestData {
    /// Transport-specific data (HTTP: the header map).
    pub(crate) extra: Option<Arc<dyn Any + Send + Sync>>,
    /// The verified principal of a protected transport.
    pub(crate) principal: Option<Arc<Principal>>,
}

/// What a transport that answers each request on a stream of its own lets a handler do to
/// that stream.
pub(crate) trait StreamControl: Send + Sync {
    /// Ends the stream answering `id` while the request goes on, for the client to resume
    /// later; `false` when that stream cannot be resumed.
    fn close_for_polling(&self, id: &RequestId) -> bool;
}

impl ServerSide {
    /// Announces a session created unannounced (a legacy HTTP session, once it has its
    /// id): to the handler, and to the task hub for task-change notifications.
    pub(crate) fn announce(service: &Service, shared: &Arc<Mutex<ServerShared>>) {
        service.tasks.register_session(shared);
        service.handler.on_connection(handle_of(shared));
    }

    /// Handler tasks still running.
    pub(crate) fn running(&self) -> usize {
        self.running.len()
    }

    /// Attaches `data` to request `id`, fed next, for its handler.
    pub(crate) fn attach(&mut self, id: RequestId, data: RequestData) {
        self.request_data.insert(id, data);
    }
}

/// Set when the client cancels a request (or a task).
pub(crate) type CancelFlag = AbortFlag;

impl TaskListener for Mutex<ServerShared> {
    fn task_changed(&self, now: std::time::Instant, task_id: &str) {
        let mut g = lock(self);
        if g.closed {
            return;
        }
        g.session.task_changed(now, task_id);
        g.wake();
    }
}

/// Why an ask to the client failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AskError {
    /// The client did not declare the capability, or the era does not allow this ask.
    #[error(transparent)]
    Refused(#[from] UsageError),
    /// The client answered with an error, timed out, or went away.
    #[error(transparent)]
    Failed(#[from] RequestError),
    /// The client answered with a result of the wrong kind.
    #[error("unexpected answer from client")]
    Unexpected,
    /// The client ran the ask as a task and it did not end within the deadline (the
    /// server's `client_task_deadline`, or [`Ask::task_deadline`]); the task was cancelled
    /// on the client, when it offers `tasks/cancel`.
    #[error("the client's task {task_id} did not end within {after:?}")]
    TaskDeadline {
        /// The client's task.
        task_id: String,
        /// The deadline that passed.
        after: Duration,
    },
}

/// A handler's view of its request and connection.
#[derive(Clone)]
pub struct RequestCx {
    id: RequestId,
    context: RequestContext,
    cancel: Arc<CancelFlag>,
    replay: Option<Arc<Replay>>,
    task: Arc<TaskSlot>,
    shared: Arc<Mutex<ServerShared>>,
    now: Arc<dyn Fn() -> std::time::Instant + Send + Sync>,
    sleep: Arc<dyn Fn(std::time::Instant) -> BoxFuture<'static, ()> + Send + Sync>,
    data: Option<RequestData>,
}

impl std::fmt::Debug for RequestCx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestCx")
            .field("id", &self.id)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl RequestCx {
    /// The request's id.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// What the transport attached to this request, if it is a `T`.
    pub(crate) fn request_data<T: Any>(&self) -> Option<&T> {
        self.data.as_ref()?.extra.as_deref()?.downcast_ref()
    }

    /// Who calls: the principal the access token of this request was verified for, on a
    /// server protected with OAuth (`None` on an unprotected one, and on stdio).
    pub fn principal(&self) -> Option<&Principal> {
        self.data.as_ref()?.principal.as_deref()
    }

    /// Era, version, progress token, log level, client identity.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// The era of this request.
    pub fn era(&self) -> Era {
        self.context.era
    }

    /// The capabilities that apply to this request (to the request that created the task,
    /// once detached).
    pub fn client_capabilities(&self) -> Option<ClientCapabilities> {
        if let Some(d) = lock(&self.task.state).as_ref() {
            return d.capabilities.clone();
        }
        lock(&self.shared)
            .session
            .client_capabilities(&self.id)
            .cloned()
    }

    /// The task this handler runs as, once it runs as one.
    pub fn task_id(&self) -> Option<String> {
        self.task.task_id()
    }

    /// Runs the rest of this handler as a task, if the call may be one: the request is
    /// answered now with the created task, and what the handler returns later becomes the
    /// task's outcome. Returns the task id, or `None` when the call does not run as a task
    /// (a tool without task support, a client that did not allow tasks); then nothing
    /// changes and the handler answers the request as usual.
    ///
    /// Tools registered with [`TaskStart::Immediately`] (the default) are tasks before
    /// their handler runs, and this only returns the id. With [`TaskStart::OnDetach`] the
    /// handler calls it once it has what it needs from the client: asks made before it are
    /// answered the request's way (a 2026-07-28 `input_required` round), asks after it
    /// become input requests of the task. Errors when the task store is full.
    pub fn detach(&self) -> Result<Option<String>, UsageError> {
        let Some(plan) = self.task.plan else {
            return Ok(None);
        };
        let mut st = lock(&self.task.state);
        if let Some(d) = st.as_ref() {
            return Ok(Some(d.task_id.clone()));
        }
        let mut g = lock(&self.shared);
        let now = (self.now)();
        let detached = start_task(&mut g, &self.id, self.era(), &plan, &self.cancel, now)?;
        let task_id = detached.task_id.clone();
        *st = Some(detached);
        g.wake();
        Ok(Some(task_id))
    }

    /// Ends this request's HTTP response stream while the request goes on (SEP-1699
    /// polling, legacy sessions on 2025-11-25 or later): the client reconnects after the
    /// announced `retry` and resumes with `Last-Event-ID`, missing nothing. Lets servers
    /// behind proxies with short timeouts free connections during long work. `false` (and
    /// nothing happens) when the request is not on a resumable SSE stream: stdio,
    /// 2026-07-28, JSON responses.
    pub fn close_sse_stream(&self) -> bool {
        let streams = lock(&self.shared).side.streams.clone();
        streams.is_some_and(|s| s.close_for_polling(&self.id))
    }

    /// Whether the client cancelled this request.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_set()
    }

    /// Completes when the client cancels this request. The handler gets one more poll after
    /// the cancel (so a `select` on this future can run immediate cleanup) and is then
    /// dropped; longer work it spawned should watch this future itself.
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + 'static {
        Cancelled(self.cancel.clone())
    }

    /// Reports progress, if the client asked for it (otherwise does nothing). Values must
    /// increase.
    ///
    /// A legacy task keeps reporting on the call's progress token until it ends; the
    /// 2026-07-28 tasks extension has no progress, so there it does nothing once detached.
    pub fn progress(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> Result<(), UsageError> {
        if self.context.progress_token.is_none() {
            return Ok(());
        }
        if let Some(task_id) = self.task.task_id() {
            if self.era() == Era::Modern {
                return Ok(());
            }
            let mut g = lock(&self.shared);
            let r = g
                .session
                .notify_task_progress(&task_id, progress, total, message);
            g.wake();
            return r;
        }
        let mut g = lock(&self.shared);
        let r = g
            .session
            .notify_progress(&self.id, progress, total, message);
        g.wake();
        r
    }

    /// Sends a log message tied to this request (when the client's level allows it).
    pub fn log(
        &self,
        level: LoggingLevel,
        logger: Option<&str>,
        data: Value,
    ) -> Result<bool, UsageError> {
        let detached = self.task.task_id().is_some();
        let mut g = lock(&self.shared);
        let r = match (detached, self.era()) {
            // The request is gone: a legacy task logs on the session, a 2026-07-28 one not
            // at all (no channel outlives its request).
            (true, Era::Legacy) => g.session.log(level, logger, data),
            (true, Era::Modern) => Ok(false),
            (false, _) => g.session.log_for(&self.id, level, logger, data),
        };
        g.wake();
        r
    }

    /// Sends a request to the client and waits for its answer (legacy sessions).
    ///
    /// A sampling or elicitation request goes out as a task when the client declared
    /// task-augmented requests of that kind (`capabilities.tasks.requests`): the client
    /// answers at once with a task, which is polled at the client's `pollInterval` and read
    /// with `tasks/result` once it ended, so a slow user or model never hits the request
    /// timeout. Dropping the future cancels that task (when the client offers
    /// `tasks/cancel`).
    pub async fn request(&self, request: ServerRequest) -> Result<ClientResult, AskError> {
        self.request_within(request, None).await
    }

    /// [`request`](Self::request), with a task deadline other than the server's
    /// `client_task_deadline`.
    async fn request_within(
        &self,
        request: ServerRequest,
        task_deadline: Option<Duration>,
    ) -> Result<ClientResult, AskError> {
        match self.as_client_task(&request) {
            Some(augmented) => self.request_as_task(augmented, task_deadline).await,
            None => self.request_once(request).await,
        }
    }

    /// `request` with `params.task`, when the client runs requests of its kind as tasks.
    fn as_client_task(&self, request: &ServerRequest) -> Option<ServerRequest> {
        use mcp_proto::schema::elicitation::ElicitRequestParams as E;
        if self.era() != Era::Legacy {
            return None;
        }
        let caps = self.client_capabilities()?;
        let requests = caps.tasks.as_ref()?.requests.as_ref()?;
        let mut r = request.clone();
        let slot = match &mut r {
            ServerRequest::CreateMessage(p)
                if requests.sampling.as_ref()?.create_message.is_some() =>
            {
                &mut p.task
            }
            ServerRequest::Elicit(E::Form(p))
                if requests.elicitation.as_ref()?.create.is_some() =>
            {
                &mut p.task
            }
            ServerRequest::Elicit(E::Url(p)) if requests.elicitation.as_ref()?.create.is_some() => {
                &mut p.task
            }
            _ => return None,
        };
        slot.get_or_insert_with(Default::default);
        Some(r)
    }

    /// Runs a request as a task of the client: created, polled until it ends, read; all
    /// within `deadline` from creation (else the server's `client_task_deadline`), past which
    /// the task is cancelled and the ask fails with [`AskError::TaskDeadline`].
    async fn request_as_task(
        &self,
        request: ServerRequest,
        deadline: Option<Duration>,
    ) -> Result<ClientResult, AskError> {
        use mcp_proto::schema::tasks::{GetTaskPayloadRequestParams, GetTaskRequestParams};
        let method = request.method().to_owned();
        let task = match self.request_once(request).await? {
            ClientResult::CreateTask(r) => r.task,
            // The client may answer directly after all.
            other => return Ok(other),
        };
        let after =
            deadline.unwrap_or_else(|| lock(&self.shared).session.config().client_task_deadline);
        let ends = (self.now)() + after;
        let guard = ClientTaskGuard {
            task_id: Some(task.task_id.clone()),
            cx: self,
        };
        let poll = async {
            let mut status = task.status;
            let mut every = task.poll_interval;
            while !status.is_terminal() {
                let wait = Duration::from_millis(every.unwrap_or(1000).max(10));
                (self.sleep)((self.now)() + wait).await;
                let get = ServerRequest::GetTask(GetTaskRequestParams::new(task.task_id.clone()));
                match self.request_once(get).await? {
                    ClientResult::GetTask(t) => {
                        status = t.task.status;
                        every = t.task.poll_interval.or(every);
                    }
                    _ => return Err(AskError::Unexpected),
                }
            }
            let payload = GetTaskPayloadRequestParams::new(task.task_id.clone());
            self.request_once(ServerRequest::GetTaskPayload(payload))
                .await
        };
        // Past the deadline the poll (and any request of it in flight) is dropped, and the
        // guard cancels the task on the client.
        let out = futures_lite::future::or(poll, async {
            (self.sleep)(ends).await;
            Err(AskError::TaskDeadline {
                task_id: task.task_id.clone(),
                after,
            })
        })
        .await;
        if matches!(out, Err(AskError::TaskDeadline { .. })) {
            return out;
        }
        guard.disarm();
        let value = match out? {
            ClientResult::Other(v) => v,
            _ => return Err(AskError::Unexpected),
        };
        let typed = match method.as_str() {
            "sampling/createMessage" => {
                serde_json::from_value(value).map(ClientResult::CreateMessage)
            }
            _ => serde_json::from_value(value).map(ClientResult::Elicit),
        };
        typed.map_err(|e| AskError::Failed(RequestError::Malformed(e.to_string())))
    }

    async fn request_once(&self, request: ServerRequest) -> Result<ClientResult, AskError> {
        let (tx, rx) = oneshot::channel();
        let task_id = self.task.task_id();
        let ask_id = {
            let mut g = lock(&self.shared);
            if g.closed {
                return Err(AskError::Failed(RequestError::Closed));
            }
            let now = (self.now)();
            let id = match &task_id {
                Some(t) => g.session.send_task_request(now, t, request)?,
                None => g.session.send_request(now, request, Some(&self.id))?,
            };
            g.side.asks.insert(id.clone(), tx);
            g.wake();
            id
        };
        let guard = AskGuard {
            id: Some(ask_id),
            shared: &self.shared,
        };
        let out = rx.await;
        guard.disarm();
        match out {
            Some(r) => r.map_err(AskError::Failed),
            None => Err(AskError::Failed(RequestError::Closed)),
        }
    }

    /// Asks the client's model for a completion (`sampling/createMessage`). Works in both
    /// eras (see [`elicit`](Self::elicit)).
    pub async fn sample(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, AskError> {
        self.sample_keyed(None, None, params).await
    }

    /// Asks the user for input (`elicitation/create`, form or URL mode).
    ///
    /// On a legacy session this is a server-to-client request. On a 2026-07-28 request it is
    /// an `input_required` round: the handler stops here, the client answers and retries, and
    /// the handler runs again from the start with this ask answered. Ask in a deterministic
    /// order and keep side effects after the asks. Asks awaited together (joined) go to the
    /// client in one round; to choose the key an ask has in that round, see
    /// [`ask`](Self::ask).
    pub async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, AskError> {
        self.elicit_keyed(None, None, params).await
    }

    /// Asks the client for its roots (`roots/list`). Works in both eras.
    pub async fn list_roots(&self) -> Result<ListRootsResult, AskError> {
        self.list_roots_keyed(None).await
    }

    /// An ask with a key of the handler's choosing: on a 2026-07-28 request the ask appears
    /// under `key` in `inputRequests`, and its answer is looked up under `key` in the retry's
    /// `inputResponses` (unnamed asks are keyed `ask0`, `ask1`, ... in order). Use distinct
    /// keys within one request. Legacy sessions ignore the key.
    ///
    /// ```
    /// # use mcp_driver::{AskError, RequestCx};
    /// # use mcp_driver::mcp_proto::schema::elicitation::{ElicitRequestParams, RequestedSchema};
    /// # async fn handler(cx: RequestCx) -> Result<(), AskError> {
    /// let form = ElicitRequestParams::form("What is your name?", RequestedSchema::new());
    /// let answer = cx.ask("user_name").elicit(form).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn ask(&self, key: impl Into<String>) -> Ask<'_> {
        Ask {
            cx: self,
            key: key.into(),
            task_deadline: None,
        }
    }

    async fn sample_keyed(
        &self,
        key: Option<String>,
        task_deadline: Option<Duration>,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, AskError> {
        if self.context.era == Era::Modern {
            return match self
                .ask_input(key, InputRequest::CreateMessage(params))
                .await?
            {
                InputResponse::CreateMessage(r) => Ok(r),
                _ => Err(AskError::Unexpected),
            };
        }
        match self
            .request_within(ServerRequest::CreateMessage(params), task_deadline)
            .await?
        {
            ClientResult::CreateMessage(r) => Ok(r),
            _ => Err(AskError::Unexpected),
        }
    }

    async fn elicit_keyed(
        &self,
        key: Option<String>,
        task_deadline: Option<Duration>,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, AskError> {
        if self.context.era == Era::Modern {
            return match self.ask_input(key, InputRequest::Elicit(params)).await? {
                InputResponse::Elicit(r) => Ok(r),
                _ => Err(AskError::Unexpected),
            };
        }
        match self
            .request_within(ServerRequest::Elicit(params), task_deadline)
            .await?
        {
            ClientResult::Elicit(r) => Ok(r),
            _ => Err(AskError::Unexpected),
        }
    }

    async fn list_roots_keyed(&self, key: Option<String>) -> Result<ListRootsResult, AskError> {
        if self.context.era == Era::Modern {
            return match self.ask_input(key, InputRequest::ListRoots(None)).await? {
                InputResponse::ListRoots(r) => Ok(r),
                _ => Err(AskError::Unexpected),
            };
        }
        match self
            .request(ServerRequest::ListRoots(RequestParams::default()))
            .await?
        {
            ClientResult::ListRoots(r) => Ok(r),
            _ => Err(AskError::Unexpected),
        }
    }

    /// One MRTR ask: the recorded answer, or stop the handler so the request is answered
    /// `input_required`.
    async fn ask_input(
        &self,
        key: Option<String>,
        request: InputRequest,
    ) -> Result<InputResponse, AskError> {
        let detached = self.task.task_id().is_some();
        let Some(replay) = self.replay.as_ref().filter(|_| !detached) else {
            if detached {
                check_declared(&self.client_capabilities().unwrap_or_default(), &request)?;
                return self.task_ask(key, request).await;
            }
            return Err(AskError::Refused(UsageError::NotAllowed(
                "in 2026-07-28 only tools/call, prompts/get and resources/read can ask the client"
                    .into(),
            )));
        };
        check_declared(&self.client_capabilities().unwrap_or_default(), &request)?;
        match replay.ask(key, request) {
            Some(answer) => Ok(answer),
            // The wrapper around the handler sees the pending ask and ends this run.
            None => std::future::pending().await,
        }
    }
}

impl RequestCx {
    /// An ask of a detached 2026-07-28 task: an input request of the task, answered by the
    /// client's `tasks/update` (on whichever session it arrives).
    async fn task_ask(
        &self,
        key: Option<String>,
        request: InputRequest,
    ) -> Result<InputResponse, AskError> {
        let Some((task_id, key)) = self.task.next_key(key) else {
            return Err(AskError::Failed(RequestError::Closed));
        };
        let (tx, rx) = oneshot::channel();
        let now = (self.now)();
        let hub = {
            let mut g = lock(&self.shared);
            g.side.tasks.expect_input(&task_id, &key, tx);
            let mut asks = mcp_proto::schema::mrtr::InputRequests::new();
            asks.insert(key.clone(), request);
            if let Err(e) = g.session.task_requires_input(now, &task_id, asks, None) {
                g.side.tasks.drop_input(&task_id, &key);
                return Err(AskError::Refused(e));
            }
            g.wake();
            g.side.tasks.clone()
        };
        hub.broadcast(now, &task_id, Some(&*self.shared));
        let guard = TaskAskGuard {
            task_id: &task_id,
            key: Some(&key),
            cx: self,
        };
        let answer = rx.await;
        guard.disarm();
        answer.ok_or(AskError::Failed(RequestError::Closed))
    }
}

/// Withdraws a task's input request whose ask was dropped before the answer came.
struct TaskAskGuard<'a> {
    task_id: &'a str,
    key: Option<&'a str>,
    cx: &'a RequestCx,
}

impl TaskAskGuard<'_> {
    fn disarm(mut self) {
        self.key = None;
    }
}

impl Drop for TaskAskGuard<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let now = (self.cx.now)();
            let mut g = lock(&self.cx.shared);
            g.side.tasks.drop_input(self.task_id, key);
            let _ = g
                .session
                .withdraw_task_input(now, self.task_id, &[key.to_owned()]);
            g.wake();
        }
    }
}

/// Refuses an ask the request's client capabilities do not cover: the same rules the
/// session applies to what it sends (sampling with tools needs `sampling.tools`, URL-mode
/// elicitation `elicitation.url`), checked before the handler stops for the answer, so a
/// refusal reaches the handler instead of an `input_required` the session would not send.
fn check_declared(caps: &ClientCapabilities, request: &InputRequest) -> Result<(), AskError> {
    let missing = match request {
        InputRequest::Elicit(ElicitRequestParams::Form(_)) if !caps.supports_elicitation_form() => {
            Some("elicitation")
        }
        InputRequest::Elicit(ElicitRequestParams::Url(_)) if !caps.supports_elicitation_url() => {
            Some("elicitation.url")
        }
        InputRequest::CreateMessage(_) if caps.sampling.is_none() => Some("sampling"),
        InputRequest::CreateMessage(p)
            if (p.tools.is_some() || p.tool_choice.is_some())
                && caps.sampling.as_ref().is_some_and(|s| s.tools.is_none()) =>
        {
            Some("sampling.tools")
        }
        InputRequest::ListRoots(_) if caps.roots.is_none() => Some("roots"),
        InputRequest::Elicit(_) | InputRequest::CreateMessage(_) | InputRequest::ListRoots(_) => {
            None
        }
        _ => Some("an ask this server cannot make"),
    };
    match missing {
        None => Ok(()),
        Some(capability) => Err(AskError::Refused(UsageError::MissingCapability(capability))),
    }
}

/// Creates the task of request `id`, answering it, and moves its handler from the request
/// to the task (so the end of the request's session does not cancel it).
fn start_task(
    g: &mut ServerShared,
    id: &RequestId,
    era: Era,
    plan: &TaskPlan,
    cancel: &Arc<CancelFlag>,
    now: std::time::Instant,
) -> Result<Detached, UsageError> {
    let capabilities = g.session.client_capabilities(id).cloned();
    let params = mcp_proto::session::TaskParams {
        ttl: plan.ttl,
        poll_interval: plan.options.poll_interval,
    };
    let task_id = g.session.create_task_with(now, id, params)?;
    g.side.running.remove(id);
    g.side.tasks.start(&task_id, cancel.clone());
    if era == Era::Legacy {
        g.side.legacy_tasks.push(task_id.clone());
    }
    Ok(Detached {
        task_id,
        capabilities,
        used_keys: Default::default(),
        next_key: 0,
    })
}

/// An ask under a key of the handler's choosing, from [`RequestCx::ask`]. Each method makes
/// the ask exactly as the [`RequestCx`] method of the same name does.
#[derive(Debug)]
#[must_use = "an Ask does nothing until one of its methods is awaited"]
pub struct Ask<'a> {
    cx: &'a RequestCx,
    key: String,
    task_deadline: Option<Duration>,
}

impl Ask<'_> {
    /// How long the client may take when it runs this ask as a task (legacy sessions whose
    /// client declared task-augmented sampling or elicitation), instead of the server's
    /// `client_task_deadline`.
    pub fn task_deadline(mut self, deadline: Duration) -> Self {
        self.task_deadline = Some(deadline);
        self
    }

    /// [`RequestCx::sample`] under this key.
    pub async fn sample(
        self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, AskError> {
        self.cx
            .sample_keyed(Some(self.key), self.task_deadline, params)
            .await
    }

    /// [`RequestCx::elicit`] under this key.
    pub async fn elicit(self, params: ElicitRequestParams) -> Result<ElicitResult, AskError> {
        self.cx
            .elicit_keyed(Some(self.key), self.task_deadline, params)
            .await
    }

    /// [`RequestCx::list_roots`] under this key.
    pub async fn list_roots(self) -> Result<ListRootsResult, AskError> {
        self.cx.list_roots_keyed(Some(self.key)).await
    }
}

/// Cancels the client's task of an ask whose future was dropped before the task ended.
struct ClientTaskGuard<'a> {
    task_id: Option<String>,
    cx: &'a RequestCx,
}

impl ClientTaskGuard<'_> {
    fn disarm(mut self) {
        self.task_id = None;
    }
}

impl Drop for ClientTaskGuard<'_> {
    fn drop(&mut self) {
        let Some(task_id) = self.task_id.take() else {
            return;
        };
        let cancel = ServerRequest::CancelTask(
            mcp_proto::schema::tasks::CancelTaskRequestParams::new(task_id),
        );
        let now = (self.cx.now)();
        let mut g = lock(&self.cx.shared);
        // Nobody waits for the answer; a client without tasks/cancel is left alone.
        let _ = g.session.send_request(now, cancel, None);
        g.wake();
    }
}

/// Cancels an ask whose future was dropped before the answer came.
struct AskGuard<'a> {
    id: Option<RequestId>,
    shared: &'a Arc<Mutex<ServerShared>>,
}

impl AskGuard<'_> {
    fn disarm(mut self) {
        self.id = None;
    }
}

impl Drop for AskGuard<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let mut g = lock(self.shared);
            g.side.asks.remove(&id);
            let _ = g
                .session
                .cancel_request(&id, Some("no longer needed".into()));
            g.wake();
        }
    }
}

struct Cancelled(Arc<CancelFlag>);

impl Future for Cancelled {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.register(cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// How a handler run ended.
#[allow(clippy::large_enum_variant)] // one per request, moved once
enum Outcome {
    Done(HandlerResult),
    Cancelled,
    /// 2026-07-28 asks with no answer yet (at least one): answer `input_required`.
    NeedsInput(Vec<(String, InputRequest)>),
}

/// Runs a handler future until it finishes, its request is cancelled (its [`AbortFlag`]), or
/// it asks for input it does not have yet (then drops it).
struct HandlerRun {
    inner: BoxFuture<'static, HandlerResult>,
    cancel: Arc<CancelFlag>,
    replay: Option<Arc<Replay>>,
}

impl Future for HandlerRun {
    type Output = Outcome;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        if self.cancel.register(cx.waker()) {
            // One last poll lets a handler's own `cx.cancelled()` branch run its immediate
            // cleanup; whatever it returns (or a panic) is discarded, and the handler is
            // then dropped.
            let _ = crate::unwind::poll_caught(self.inner.as_mut(), cx);
            return Poll::Ready(Outcome::Cancelled);
        }
        match crate::unwind::poll_caught(self.inner.as_mut(), cx) {
            Poll::Ready(Ok(r)) => Poll::Ready(Outcome::Done(r)),
            // The request still gets its one answer, and the session serves on.
            Poll::Ready(Err(panic)) => {
                crate::trace::event!(error, %panic, "handler panicked");
                Poll::Ready(Outcome::Done(Err(ErrorObject::internal(format!(
                    "the handler panicked: {panic}"
                )))))
            }
            Poll::Pending => {
                let asks = self
                    .replay
                    .as_ref()
                    .map(|r| r.take_pending())
                    .unwrap_or_default();
                if asks.is_empty() {
                    Poll::Pending
                } else {
                    Poll::Ready(Outcome::NeedsInput(asks))
                }
            }
        }
    }
}

/// The MRTR target of a 2026-07-28 request that may ask the client, with its retry inputs.
fn replay_inputs(
    request: &ClientRequest,
) -> Option<(&'static str, String, Option<&str>, Option<&InputResponses>)> {
    match request {
        ClientRequest::CallTool(p) => Some((
            "tools/call",
            p.name.clone(),
            p.request_state.as_deref(),
            p.input_responses.as_ref(),
        )),
        ClientRequest::GetPrompt(p) => Some((
            "prompts/get",
            p.name.clone(),
            p.request_state.as_deref(),
            p.input_responses.as_ref(),
        )),
        ClientRequest::ReadResource(p) => Some((
            "resources/read",
            p.uri.clone(),
            p.request_state.as_deref(),
            p.input_responses.as_ref(),
        )),
        _ => None,
    }
}

impl<R: Runtime> Side<R> for ServerSide {
    type Session = ServerSession;

    fn on_events(
        shared: &mut ServerShared,
        this: &Arc<Mutex<ServerShared>>,
        rt: &R,
        tasks: &mut Vec<BoxFuture<'static, ()>>,
    ) {
        while let Some(ev) = shared.session.poll_event() {
            match ev {
                ServerEvent::Request {
                    id,
                    request,
                    context,
                } => {
                    let principal = shared
                        .side
                        .request_data
                        .get(&id)
                        .and_then(|d| d.principal.as_ref())
                        .map(|p| p.key());
                    let replay = match (context.era, replay_inputs(&request)) {
                        (Era::Modern, Some((method, target, state, responses))) => {
                            // A state sealed for one principal does not open for another.
                            let target = match principal {
                                Some(p) => format!("{target}\u{0}{p}"),
                                None => target,
                            };
                            match Replay::new(
                                &shared.side.state_key,
                                method,
                                target,
                                state,
                                responses,
                            ) {
                                Ok(r) => Some(Arc::new(r)),
                                Err(BadState) => {
                                    crate::trace::event!(info, %id, "refused: invalid or tampered requestState");
                                    let e = ErrorObject::invalid_params(
                                        "invalid or tampered requestState",
                                    );
                                    let _ = shared.session.respond_error(&id, e);
                                    continue;
                                }
                            }
                        }
                        _ => None,
                    };
                    let plan = match plan_task(shared, &id, &request, context.era) {
                        Ok(p) => p,
                        Err(e) => {
                            crate::trace::event!(info, %id, reason = %e.message, "refused: task mode");
                            let _ = shared.session.respond_error(&id, e);
                            continue;
                        }
                    };
                    let cancel = Arc::new(CancelFlag::default());
                    shared.side.running.insert(id.clone(), cancel.clone());
                    let now = rt.now();
                    let slot = Arc::new(TaskSlot::new(plan));
                    if let Some(plan) = plan.filter(|p| p.options.start == TaskStart::Immediately) {
                        match start_task(shared, &id, context.era, &plan, &cancel, now) {
                            Ok(d) => *lock(&slot.state) = Some(d),
                            // A full store: an optional task runs as a plain call instead.
                            Err(_) if !plan.must => {}
                            Err(e) => {
                                crate::trace::event!(info, %id, error = %e, "refused: cannot start a task");
                                shared.side.running.remove(&id);
                                let e = ErrorObject::internal(format!("cannot start a task: {e}"));
                                let _ = shared.session.respond_error(&id, e);
                                continue;
                            }
                        }
                    }
                    let clock = rt.clone();
                    let timer = rt.clone();
                    let era = context.era;
                    let cx = RequestCx {
                        id: id.clone(),
                        context,
                        cancel: cancel.clone(),
                        replay: replay.clone(),
                        task: slot.clone(),
                        shared: this.clone(),
                        now: Arc::new(move || clock.now()),
                        sleep: Arc::new(move |at| timer.sleep_until(at)),
                        data: shared.side.request_data.remove(&id),
                    };
                    let span = crate::trace::span!(
                        debug_span,
                        "request",
                        method = request.method(),
                        %id,
                        tool = match &request {
                            ClientRequest::CallTool(p) => Some(p.name.as_str()),
                            _ => None,
                        },
                        era = crate::trace::era(era),
                    );
                    let handler = &shared.side.handler;
                    // A `handle` that panics before returning its future answers like one
                    // whose future panics.
                    let inner = crate::unwind::call_caught(|| handler.handle(request, cx))
                        .unwrap_or_else(|panic| {
                            crate::trace::event!(error, %panic, "handler panicked");
                            let e = ErrorObject::internal(format!("the handler panicked: {panic}"));
                            Box::pin(std::future::ready(Err(e)))
                        });
                    let fut = HandlerRun {
                        inner,
                        cancel: cancel.clone(),
                        replay: replay.clone(),
                    };
                    let this = this.clone();
                    let key = shared.side.state_key.clone();
                    let clock = rt.clone();
                    let fut = crate::trace::instrument(fut, span);
                    tasks.push(Box::pin(async move {
                        let outcome = fut.await;
                        let done = Finished {
                            id,
                            era,
                            slot,
                            cancel,
                        };
                        done.conclude(&this, clock.now(), outcome, |g, id, asks| {
                            let mut ir = InputRequiredResult::new();
                            for (ask, request) in asks {
                                ir = ir.with_request(ask, request);
                            }
                            ir.request_state = replay.as_deref().map(|r| r.seal(&key));
                            g.session.respond(id, ir)
                        });
                    }));
                }
                ServerEvent::Cancelled { id, .. } => {
                    if let Some(flag) = shared.side.running.remove(&id) {
                        flag.fire();
                    }
                }
                ServerEvent::TaskCancelRequested { task_id } => {
                    shared.side.tasks.cancel(&task_id);
                    tasks.push(broadcast(shared, this, rt.now(), task_id));
                }
                ServerEvent::TaskInput { task_id, responses } => {
                    shared.side.tasks.deliver(&task_id, responses);
                    tasks.push(broadcast(shared, this, rt.now(), task_id));
                }
                ServerEvent::TaskExpired { task_id } => {
                    shared.side.tasks.cancel(&task_id);
                    // The other sessions sharing the store may be blocked in `tasks/result`
                    // on it: their own sweep will not see it any more.
                    tasks.push(broadcast(shared, this, rt.now(), task_id));
                }
                ServerEvent::Response { id, result } => {
                    if let Some(tx) = shared.side.asks.remove(&id) {
                        tx.send(result);
                    }
                }
                ServerEvent::Initialized { client_info, .. } => {
                    crate::trace::event!(info, client = %client_info.name, version = %client_info.version, "initialized");
                    shared.side.handler.on_initialized(&client_info);
                }
                ServerEvent::PeerFault(_fault) => {
                    crate::trace::event!(warn, fault = %_fault.message, "peer fault");
                }
                _ => {}
            }
        }
        // Every request fed so far reached its handler (or was refused without one): data
        // left behind belongs to nobody.
        if !shared.side.request_data.is_empty() {
            shared.side.request_data.clear();
        }
    }

    fn on_closed(shared: &mut ServerShared, _reason: &str) {
        crate::trace::event!(info, reason = _reason, "connection closed");
        for (_, flag) in shared.side.running.drain() {
            flag.fire();
        }
        for task_id in shared.side.legacy_tasks.drain(..) {
            shared.side.tasks.forget(&task_id);
        }
        for (_, tx) in shared.side.asks.drain() {
            tx.send(Err(RequestError::Closed));
        }
    }
}

/// Tells the service's other sessions, once this one's lock is released, that a task
/// changed.
fn broadcast(
    shared: &ServerShared,
    this: &Arc<Mutex<ServerShared>>,
    now: std::time::Instant,
    task_id: String,
) -> BoxFuture<'static, ()> {
    let hub = shared.side.tasks.clone();
    let this = this.clone();
    Box::pin(async move { hub.broadcast(now, &task_id, Some(&*this)) })
}

/// Whether a `tools/call` runs as a task: `None` for a plain call, an error when it cannot
/// be served the way the client asked.
fn plan_task(
    shared: &ServerShared,
    id: &RequestId,
    request: &ClientRequest,
    era: Era,
) -> Result<Option<TaskPlan>, ErrorObject> {
    let ClientRequest::CallTool(p) = request else {
        return Ok(None);
    };
    let options = shared.side.handler.task_options(request);
    let support = options.map_or(TaskSupport::Forbidden, |o| o.support);
    let options = options.unwrap_or(TaskOptions::new(TaskSupport::Forbidden));
    let caps = &shared.session.config().capabilities;
    match era {
        Era::Legacy => {
            let offered = caps
                .tasks
                .as_ref()
                .and_then(|t| t.requests.as_ref())
                .and_then(|r| r.tools.as_ref())
                .is_some_and(|t| t.call.is_some());
            // A server that does not offer tasks serves the call as if `task` were absent.
            if !offered {
                return Ok(None);
            }
            match (&p.task, support) {
                (Some(_), TaskSupport::Forbidden) => Err(ErrorObject::new(
                    mcp_proto::jsonrpc::code::METHOD_NOT_FOUND,
                    format!("tool {} does not support task-augmented calls", p.name),
                )),
                (None, TaskSupport::Required) => Err(ErrorObject::new(
                    mcp_proto::jsonrpc::code::METHOD_NOT_FOUND,
                    format!("tool {} must be called as a task", p.name),
                )),
                (Some(t), _) => Ok(Some(TaskPlan {
                    options,
                    ttl: t.ttl.map(std::time::Duration::from_millis).or(options.ttl),
                    must: true,
                })),
                (None, _) => Ok(None),
            }
        }
        Era::Modern => {
            let served = caps
                .extensions
                .as_ref()
                .is_some_and(|e| e.contains_key(mcp_proto::schema::tasks_ext::EXTENSION_ID));
            if !served || support == TaskSupport::Forbidden {
                return Ok(None);
            }
            let allowed = shared
                .session
                .client_capabilities(id)
                .and_then(|c| c.extensions.as_ref())
                .is_some_and(|e| e.contains_key(mcp_proto::schema::tasks_ext::EXTENSION_ID));
            match (allowed, support) {
                (true, _) => Ok(Some(TaskPlan {
                    options,
                    ttl: options.ttl,
                    must: support == TaskSupport::Required,
                })),
                (false, TaskSupport::Required) => Err(crate::tasks::missing_extension()),
                (false, _) => Ok(None),
            }
        }
    }
}

/// A handler run that ended, and what it was to the request.
struct Finished {
    id: RequestId,
    era: Era,
    slot: Arc<TaskSlot>,
    cancel: Arc<CancelFlag>,
}

impl Finished {
    /// Answers the request, or ends the task the request became, with the run's outcome.
    fn conclude(
        self,
        this: &Arc<Mutex<ServerShared>>,
        now: std::time::Instant,
        outcome: Outcome,
        input_required: impl FnOnce(
            &mut ServerShared,
            &RequestId,
            Vec<(String, InputRequest)>,
        ) -> Result<(), UsageError>,
    ) {
        let mut st = lock(&self.slot.state);
        let mut g = lock(this);
        g.side.running.remove(&self.id);
        // A call that had to be a task and finished before detaching: a task that is done.
        if st.is_none() {
            if let (Some(plan), Outcome::Done(_)) = (self.slot.plan, &outcome) {
                if plan.must {
                    match start_task(&mut g, &self.id, self.era, &plan, &self.cancel, now) {
                        Ok(d) => *st = Some(d),
                        Err(e) => {
                            let e = ErrorObject::internal(format!("cannot start a task: {e}"));
                            let _ = g.session.respond_error(&self.id, e);
                            g.wake();
                            return;
                        }
                    }
                }
            }
        }
        let Some(task_id) = st.as_ref().map(|d| d.task_id.clone()) else {
            drop(st);
            let sent = match outcome {
                Outcome::Done(Ok(result)) => g.session.respond(&self.id, result),
                Outcome::Done(Err(error)) => g.session.respond_error(&self.id, error),
                Outcome::NeedsInput(asks) => input_required(&mut g, &self.id, asks),
                Outcome::Cancelled => Ok(()),
            };
            match sent {
                // Gone already (a cancel raced the answer) or closed: nothing is owed.
                Ok(()) | Err(UsageError::UnknownRequest(_) | UsageError::Closed) => {}
                // The session refused the answer itself: the request is still owed one.
                Err(refused) => {
                    let e = ErrorObject::internal(format!(
                        "the handler's answer was refused: {refused}"
                    ));
                    let _ = g.session.respond_error(&self.id, e);
                }
            }
            g.wake();
            return;
        };
        drop(st);
        g.side.tasks.stopped(&task_id);
        // A task cancelled or expired meanwhile refuses its late outcome: terminal is final.
        let _ = match outcome {
            Outcome::Done(r) => g.session.finish_task(now, &task_id, r),
            Outcome::NeedsInput(_) => g.session.finish_task(
                now,
                &task_id,
                Err(ErrorObject::internal("the task stopped waiting for input")),
            ),
            Outcome::Cancelled => Ok(()),
        };
        g.wake();
        let hub = g.side.tasks.clone();
        drop(g);
        hub.broadcast(now, &task_id, Some(&**this));
    }
}

/// Controls a served connection from outside its handlers.
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<Mutex<ServerShared>>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle").finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// Runs `f` on the session and wakes the connection to send what it produced.
    pub fn with_session<T>(&self, f: impl FnOnce(&mut ServerSession) -> T) -> T {
        let mut g = lock(&self.shared);
        let out = f(&mut g.session);
        g.wake();
        out
    }

    /// Tells the client the tool list changed.
    pub fn notify_tools_list_changed(&self) {
        self.with_session(ServerSession::notify_tools_list_changed)
    }

    /// Tells the client the prompt list changed.
    pub fn notify_prompts_list_changed(&self) {
        self.with_session(ServerSession::notify_prompts_list_changed)
    }

    /// Tells the client the resource list changed.
    pub fn notify_resources_list_changed(&self) {
        self.with_session(ServerSession::notify_resources_list_changed)
    }

    /// Tells subscribers a resource changed.
    pub fn notify_resource_updated(&self, uri: &str) {
        self.with_session(|s| s.notify_resource_updated(uri))
    }

    /// Tells the client the URL-mode elicitation `elicitation_id` finished (2025-11-25
    /// sessions whose client declared URL mode; see
    /// [`ServerSession::notify_elicitation_complete`]); returns whether it was sent.
    pub fn notify_elicitation_complete(&self, elicitation_id: &str) -> bool {
        self.with_session(|s| s.notify_elicitation_complete(elicitation_id))
    }

    /// Stops serving: answers what is in flight, flushes, ends the connection future.
    pub fn shutdown(&self) {
        let mut g = lock(&self.shared);
        g.shutdown = true;
        g.wake();
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared).closed
    }

    /// Output waiting for the client on a byte-stream connection (zero over HTTP and
    /// in-process links): what a client that stopped reading costs this server.
    pub fn backlog(&self) -> Backlog {
        lock(&self.shared).backlog
    }

    /// A handle that does not keep the connection's state alive: registries of connections
    /// should hold these, so finished connections are freed.
    pub fn downgrade(&self) -> WeakServerHandle {
        WeakServerHandle {
            shared: Arc::downgrade(&self.shared),
        }
    }
}

/// A [`ServerHandle`] that lets its connection be freed once it ends.
#[derive(Clone)]
pub struct WeakServerHandle {
    shared: std::sync::Weak<Mutex<ServerShared>>,
}

impl std::fmt::Debug for WeakServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakServerHandle").finish_non_exhaustive()
    }
}

impl WeakServerHandle {
    /// Whether the connection's state has been freed (every strong reference is gone); for
    /// leak checks.
    pub fn is_freed(&self) -> bool {
        self.shared.strong_count() == 0
    }

    /// The handle, while the connection is still open.
    pub fn upgrade(&self) -> Option<ServerHandle> {
        let shared = self.shared.upgrade()?;
        if lock(&shared).closed {
            return None;
        }
        Some(ServerHandle { shared })
    }
}

/// A server ready to serve connections: its configuration and its handler. Cheap to clone;
/// every connection gets its own session.
#[derive(Clone)]
pub struct Service {
    /// Identity, capabilities, limits (prepared once, shared by every session).
    pub config: SharedServerConfig,
    /// The application logic.
    pub handler: Arc<dyn Handler>,
    /// Seals 2026-07-28 `requestState`; share one key across instances behind a balancer.
    pub state_key: StateKey,
    /// The tasks of every connection of this service (shared by its clones).
    tasks: Arc<TaskHub>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// A service from a config and a handler.
    pub fn new(config: ServerConfig, handler: impl Handler) -> Self {
        let store = mcp_proto::tasks::MemoryTaskStore::new(config.tasks.max_tasks);
        Service {
            config: SharedServerConfig::new(config),
            handler: Arc::new(handler),
            state_key: StateKey::random(),
            tasks: TaskHub::new(Box::new(store)),
        }
    }

    /// Keeps this service's tasks in `store` instead of the default in-memory one (which is
    /// bounded by `config.tasks.max_tasks` and loses every task when the process ends): e.g.
    /// a store that survives restarts. Every connection of the service, and every clone of
    /// it made afterwards, shares it.
    pub fn with_task_store(self, store: impl mcp_proto::tasks::TaskStore + 'static) -> Self {
        self.with_boxed_task_store(Box::new(store))
    }

    pub(crate) fn with_boxed_task_store(
        mut self,
        store: Box<dyn mcp_proto::tasks::TaskStore>,
    ) -> Self {
        self.tasks = TaskHub::new(store);
        self
    }
}

/// Serves one connection over a byte stream (stdio, TCP, a pipe). Returns the handle and the
/// connection future; the future completes when the peer disconnects or `shutdown` is called.
pub fn serve<R, Rd, Wr>(
    rt: R,
    service: Service,
    reader: Rd,
    writer: Wr,
) -> (
    ServerHandle,
    impl Future<Output = std::io::Result<()>> + Send + 'static,
)
where
    R: Runtime,
    Rd: AsyncRead + Unpin + Send + 'static,
    Wr: AsyncWrite + Unpin + Send + 'static,
{
    let (handle, shared) = new_shared(&rt, service);
    let conn = stream::engine::<R, ServerSide, Rd, Wr>(rt, shared, reader, writer);
    let span = crate::trace::span!(info_span, "connection", side = "server");
    (handle, crate::trace::instrument(conn, span))
}

/// Shared state of a new server connection (announced to the handler).
pub(crate) fn new_shared<R: Runtime>(
    rt: &R,
    service: Service,
) -> (ServerHandle, Arc<Mutex<ServerShared>>) {
    new_shared_with(rt, &service, None, true)
}

/// A handle on an existing connection's state.
pub(crate) fn handle_of(shared: &Arc<Mutex<ServerShared>>) -> ServerHandle {
    ServerHandle {
        shared: shared.clone(),
    }
}

/// Like [`new_shared`], over a transport with per-request streams if `streams`, and announcing the connection to the
/// handler only when `announce` (a one-request HTTP exchange that can never receive a
/// notification is not worth registering).
pub(crate) fn new_shared_with<R: Runtime>(
    rt: &R,
    service: &Service,
    streams: Option<Arc<dyn StreamControl>>,
    announce: bool,
) -> (ServerHandle, Arc<Mutex<ServerShared>>) {
    let now = rt.now();
    let mut session =
        ServerSession::new(service.config.clone(), now, rt.wall(), Box::new(OsEntropy));
    session.set_task_store(service.tasks.session_store());
    let side = ServerSide {
        handler: service.handler.clone(),
        state_key: service.state_key.clone(),
        running: HashMap::new(),
        asks: HashMap::new(),
        streams,
        tasks: service.tasks.clone(),
        legacy_tasks: Vec::new(),
        request_data: HashMap::new(),
    };
    let shared = Arc::new(Mutex::new(Shared::new(session, side)));
    // Sessions that can hear of task changes later register; a one-request HTTP exchange
    // cannot (and registering every one would serialize requests on the hub's lock).
    if announce {
        service.tasks.register_session(&shared);
    }
    let handle = ServerHandle {
        shared: shared.clone(),
    };
    if announce {
        service.handler.on_connection(handle.clone());
    }
    (handle, shared)
}
