//! The client handle: typed requests as futures (cancelled when dropped), server asks
//! answered by a [`ClientHandler`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_lite::io::{AsyncRead, AsyncWrite};
use mcp_proto::jsonrpc::{ErrorObject, RequestId};
use mcp_proto::schema::completion::{CompleteRequestParams, CompleteResult};
use mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_proto::schema::lifecycle::DiscoverResult;
use mcp_proto::schema::logging::SetLevelRequestParams;
use mcp_proto::schema::messages::{
    ClientRequest, ClientResult, ServerNotification, ServerRequest, ServerResult,
};
use mcp_proto::schema::mrtr::{InputRequest, InputResponse, InputResponses};
use mcp_proto::schema::notifications::ProgressNotificationParams;
use mcp_proto::schema::prompts::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt,
};
use mcp_proto::schema::resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, ResourceTemplate,
};
use mcp_proto::schema::resources::{SubscribeRequestParams, UnsubscribeRequestParams};
use mcp_proto::schema::roots::ListRootsResult;
use mcp_proto::schema::sampling::{CreateMessageRequestParams, CreateMessageResult};
use mcp_proto::schema::subscriptions::{SubscriptionFilter, SubscriptionsListenRequestParams};
use mcp_proto::schema::tools::{CallToolRequestParams, CallToolResult, ListToolsResult, Tool};
use mcp_proto::schema::LoggingLevel;
use mcp_proto::schema::{PaginatedRequestParams, Resource};
use mcp_proto::session::{
    ClientConfig, ClientEvent, ClientSession, ConnectError, RequestError, RequestOptions,
    ServerDescription,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::engine::{lock, stream, Backlog, Shared, Side};
use crate::oneshot;
use crate::queue;
use crate::runtime::{BoxFuture, OsEntropy, Runtime};

/// Answers what a server asks of the client. Every method has a refusing default, so a
/// client implements only what it declared in its capabilities.
///
/// A method that panics answers the server's request with -32603 (a panicking
/// `on_notification` loses that notification); the connection goes on.
pub trait ClientHandler: Send + Sync + 'static {
    /// `sampling/createMessage`.
    fn create_message(
        &self,
        _params: CreateMessageRequestParams,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>> {
        Box::pin(async { Err(ErrorObject::method_not_found("sampling/createMessage")) })
    }

    /// `elicitation/create`.
    fn elicit(
        &self,
        _params: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        Box::pin(async { Err(ErrorObject::method_not_found("elicitation/create")) })
    }

    /// `roots/list`.
    fn list_roots(&self) -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> {
        Box::pin(async { Err(ErrorObject::method_not_found("roots/list")) })
    }

    /// A notification from the server (list changes, resource updates, logs, listen streams).
    fn on_notification(&self, _notification: ServerNotification, _subscription: Option<RequestId>) {
    }
}

/// A handler that refuses every ask and ignores notifications.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHandler;

impl ClientHandler for NoHandler {}

/// A progress callback.
pub type ProgressFn = Box<dyn FnMut(ProgressNotificationParams) + Send>;

/// Most `input_required` rounds one call may take before giving up (a server that keeps
/// asking must not loop a client forever).
const MAX_INPUT_ROUNDS: usize = 16;
pub(crate) type ClientShared = Shared<ClientSession, ClientSide>;

/// Per task id: the waits registered on it (by wait number) and their queues.
pub(crate) type TaskWatches = HashMap<String, Vec<(u64, queue::Producer<Polled>)>>;

/// One poll of a watched task, as the session reported it.
pub(crate) type Polled = Result<ServerResult, RequestError>;

/// Hands a poll of `task_id` to the handles waiting on it.
fn route_poll(shared: &mut ClientShared, task_id: String, polled: Polled) {
    if let Some(watchers) = shared.side.task_watches.get(&task_id) {
        for (_, w) in watchers {
            w.push(polled.clone());
        }
    }
}

pub(crate) struct ClientSide {
    handler: Arc<dyn ClientHandler>,
    listens: HashMap<RequestId, queue::Producer<ServerNotification>>,
    waiters: HashMap<RequestId, oneshot::Sender<Result<ServerResult, RequestError>>>,
    progress: HashMap<RequestId, ProgressFn>,
    ready: Option<oneshot::Sender<Result<ServerDescription, ConnectError>>>,
    /// Task handles waiting on the session's polls of their task.
    pub(crate) task_watches: TaskWatches,
    /// Progress callbacks of legacy tasks, by task id, until the task ends.
    pub(crate) task_progress: HashMap<String, ProgressFn>,
}

impl<R: Runtime> Side<R> for ClientSide {
    type Session = ClientSession;

    fn on_events(
        shared: &mut ClientShared,
        this: &Arc<Mutex<ClientShared>>,
        rt: &R,
        tasks: &mut Vec<BoxFuture<'static, ()>>,
    ) {
        while let Some(ev) = shared.session.poll_event() {
            match ev {
                ClientEvent::Ready(desc) => {
                    crate::trace::event!(
                        info,
                        era = crate::trace::era(desc.era),
                        version = desc.version.as_str(),
                        server = desc.server_info.as_ref().map(|i| i.name.as_str()),
                        "connected"
                    );
                    if let Some(tx) = shared.side.ready.take() {
                        tx.send(Ok(desc));
                    }
                }
                ClientEvent::ConnectFailed(e) => {
                    crate::trace::event!(info, error = %e, "connect failed");
                    if let Some(tx) = shared.side.ready.take() {
                        tx.send(Err(e));
                    }
                }
                ClientEvent::Response { id, result } => {
                    let progress = shared.side.progress.remove(&id);
                    // A call answered with a legacy task keeps reporting progress, tied to
                    // the task, until the task ends.
                    if let (Some(f), Ok(ServerResult::CreateTask(t))) = (progress, &result) {
                        shared.side.task_progress.insert(t.task.task_id.clone(), f);
                    }
                    // A listen stream's response is its end.
                    shared.side.listens.remove(&id);
                    if let Some(tx) = shared.side.waiters.remove(&id) {
                        tx.send(result);
                    }
                }
                ClientEvent::Progress { id, params } => {
                    if let Some(f) = shared.side.progress.get_mut(&id) {
                        // A panicking callback loses this update, not the connection.
                        let _ = crate::unwind::call_caught(|| f(params));
                    }
                }
                ClientEvent::Request { id, request } => {
                    let span =
                        crate::trace::span!(debug_span, "request", method = request.method(), %id);
                    let handler = shared.side.handler.clone();
                    let this = this.clone();
                    // Asked as a task (and allowed): the server gets the task at once and
                    // polls it; the answer becomes the task's outcome.
                    let task = if shared.session.task_requested(&id) {
                        shared.session.create_task(rt.now(), &id).ok()
                    } else {
                        None
                    };
                    let clock = rt.clone();
                    tasks.push(Box::pin(crate::trace::instrument(
                        async move {
                            let answer = answer_ask(handler.as_ref(), request).await;
                            let mut g = lock(&this);
                            // A task cancelled meanwhile refuses its late outcome.
                            let _ = match (task, answer) {
                                (Some(t), answer) => g.session.finish_task(clock.now(), &t, answer),
                                (None, Ok(r)) => g.session.respond(&id, r),
                                (None, Err(e)) => g.session.respond_error(&id, e),
                            };
                            g.wake();
                        },
                        span,
                    )));
                }
                ClientEvent::TaskPolled {
                    task_id, detail, ..
                } => route_poll(shared, task_id, Ok(detail)),
                ClientEvent::TaskWatchFailed { task_id, error } => {
                    route_poll(shared, task_id, Err(error))
                }
                ClientEvent::TaskProgress { task_id, params } => {
                    if let Some(f) = shared.side.task_progress.get_mut(&task_id) {
                        let _ = crate::unwind::call_caught(|| f(params));
                    }
                }
                ClientEvent::Notification {
                    notification: ServerNotification::TaskStatus(s),
                    subscription,
                } => {
                    // A task that ended reports no more progress.
                    if s.task.status.is_terminal() {
                        shared.side.task_progress.remove(&s.task.task_id);
                    }
                    let handler = &shared.side.handler;
                    // A panicking callback loses its notification, not the connection.
                    let _ = crate::unwind::call_caught(|| {
                        handler.on_notification(ServerNotification::TaskStatus(s), subscription)
                    });
                }
                ClientEvent::Notification {
                    notification,
                    subscription,
                } => match subscription
                    .as_ref()
                    .and_then(|id| shared.side.listens.get(id))
                {
                    Some(q) => q.push(notification),
                    None => {
                        let handler = &shared.side.handler;
                        let _ = crate::unwind::call_caught(|| {
                            handler.on_notification(notification, subscription)
                        });
                    }
                },
                ClientEvent::PeerFault(_fault) => {
                    crate::trace::event!(warn, fault = %_fault.message, "peer fault");
                }
                _ => {}
            }
        }
    }

    fn on_closed(shared: &mut ClientShared, reason: &str) {
        crate::trace::event!(info, reason, "connection closed");
        if let Some(tx) = shared.side.ready.take() {
            tx.send(Err(ConnectError::Malformed(format!(
                "connection ended: {reason}"
            ))));
        }
        for (_, tx) in shared.side.waiters.drain() {
            tx.send(Err(RequestError::Closed));
        }
        shared.side.listens.clear();
        shared.side.task_watches.clear();
        shared.side.task_progress.clear();
    }
}

/// Answers a server's ask with `handler`; a handler that panics answers -32603.
pub(crate) async fn answer_ask(
    handler: &dyn ClientHandler,
    request: ServerRequest,
) -> Result<ClientResult, ErrorObject> {
    let mut answer = std::pin::pin!(ask_handler(handler, request));
    std::future::poll_fn(|cx| crate::unwind::poll_caught(answer.as_mut(), cx))
        .await
        .unwrap_or_else(|panic| {
            crate::trace::event!(error, %panic, "client handler panicked");
            Err(ErrorObject::internal(format!(
                "the client's handler panicked: {panic}"
            )))
        })
}

async fn ask_handler(
    handler: &dyn ClientHandler,
    request: ServerRequest,
) -> Result<ClientResult, ErrorObject> {
    match request {
        ServerRequest::CreateMessage(p) => handler
            .create_message(p)
            .await
            .map(ClientResult::CreateMessage),
        ServerRequest::Elicit(p) => handler.elicit(p).await.map(ClientResult::Elicit),
        ServerRequest::ListRoots(_) => handler.list_roots().await.map(ClientResult::ListRoots),
        other => Err(ErrorObject::method_not_found(other.method())),
    }
}

/// Why a typed call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The request failed (peer error, timeout, closed, malformed).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The request could not be sent (capability missing, wrong era, closed).
    #[error(transparent)]
    Usage(#[from] mcp_proto::session::UsageError),
    /// The server needs input first (2026-07-28 MRTR); answer and retry.
    #[error("the server needs input before it can answer")]
    InputRequired(Box<mcp_proto::schema::mrtr::InputRequiredResult>),
    /// Answering the server's ask failed in our own [`ClientHandler`].
    #[error("answering the server's request failed: {0}")]
    AskFailed(ErrorObject),
    /// The server answered with a result of another kind.
    #[error("unexpected result kind")]
    Unexpected,
    /// The task was cancelled before it produced a result.
    #[error("task {0} was cancelled")]
    TaskCancelled(String),
    /// The tool arguments did not serialize to a JSON object (nothing was sent).
    #[error("tool arguments must serialize to a JSON object or null: {0}")]
    Arguments(String),
}

/// Tool arguments as the wire carries them: an object, or none for `null`. Other values are
/// refused rather than wrapped, so what the server sees is what the caller wrote.
pub(crate) fn tool_arguments(
    arguments: impl Serialize,
) -> Result<Option<Map<String, Value>>, CallError> {
    match serde_json::to_value(arguments) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(Value::Null) => Ok(None),
        Ok(other) => Err(CallError::Arguments(format!(
            "got {}",
            match other {
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                _ => "an array",
            }
        ))),
        Err(e) => Err(CallError::Arguments(e.to_string())),
    }
}

/// A connected client. Cheap to clone; every clone talks over the same connection.
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Mutex<ClientShared>>,
    /// Drives the connection inline after a request is queued (in-process links).
    kick: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
    pub(crate) handler: Arc<dyn ClientHandler>,
    server: Arc<ServerDescription>,
    pub(crate) now: Arc<dyn Fn() -> std::time::Instant + Send + Sync>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// Cancels a request whose future was dropped before its answer.
struct Pending<'a> {
    id: Option<RequestId>,
    shared: &'a Arc<Mutex<ClientShared>>,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let mut g = lock(self.shared);
            g.side.waiters.remove(&id);
            g.side.progress.remove(&id);
            let _ = g.session.cancel(&id, Some("request dropped".into()));
            g.wake();
        }
    }
}

impl Client {
    pub(crate) fn set_kick(&mut self, kick: Arc<dyn Fn() -> bool + Send + Sync>) {
        self.kick = Some(kick);
    }

    /// What the server is: era, version, identity, capabilities, instructions.
    pub fn server(&self) -> &ServerDescription {
        &self.server
    }

    /// Sends any request and waits for its result. Dropping the future cancels the request.
    pub async fn request(&self, request: ClientRequest) -> Result<ServerResult, CallError> {
        self.request_with(request, RequestOptions::default(), None)
            .await
    }

    /// Like [`request`](Self::request), with options and a progress callback (progress is
    /// requested when a callback is given).
    ///
    /// A 2026-07-28 `input_required` answer is handled here: each input request goes to the
    /// [`ClientHandler`] and the request is retried with the answers and the server's
    /// `requestState` (echoed untouched), under a new id.
    pub async fn request_with(
        &self,
        mut request: ClientRequest,
        options: RequestOptions,
        on_progress: Option<ProgressFn>,
    ) -> Result<ServerResult, CallError> {
        let progress = on_progress.map(|f| Arc::new(Mutex::new(f)));
        for _ in 0..MAX_INPUT_ROUNDS {
            let forward: Option<ProgressFn> = progress.clone().map(|p| {
                Box::new(move |n: ProgressNotificationParams| (lock(&p))(n)) as ProgressFn
            });
            let ir = match self.send_once(request.clone(), options, forward).await {
                Err(CallError::InputRequired(ir)) => ir,
                other => return other,
            };
            let mut answers = InputResponses::new();
            for (key, ask) in ir.input_requests.clone().unwrap_or_default() {
                let as_request = match ask {
                    InputRequest::Elicit(p) => ServerRequest::Elicit(p),
                    InputRequest::CreateMessage(p) => ServerRequest::CreateMessage(p),
                    InputRequest::ListRoots(p) => ServerRequest::ListRoots(p.unwrap_or_default()),
                    _ => return Err(CallError::InputRequired(ir)),
                };
                let answer = match answer_ask(self.handler.as_ref(), as_request).await {
                    Ok(ClientResult::Elicit(r)) => InputResponse::from(r),
                    Ok(ClientResult::CreateMessage(r)) => InputResponse::from(r),
                    Ok(ClientResult::ListRoots(r)) => InputResponse::from(r),
                    Ok(_) => return Err(CallError::Unexpected),
                    Err(e) => return Err(CallError::AskFailed(e)),
                };
                answers.insert(key, answer);
            }
            let (responses, state) = match &mut request {
                ClientRequest::CallTool(p) => (&mut p.input_responses, &mut p.request_state),
                ClientRequest::GetPrompt(p) => (&mut p.input_responses, &mut p.request_state),
                ClientRequest::ReadResource(p) => (&mut p.input_responses, &mut p.request_state),
                _ => return Err(CallError::InputRequired(ir)),
            };
            *responses = (!answers.is_empty()).then_some(answers);
            *state = ir.request_state.clone();
        }
        Err(CallError::Request(RequestError::Malformed(format!(
            "server still needs input after {MAX_INPUT_ROUNDS} rounds"
        ))))
    }

    async fn send_once(
        &self,
        request: ClientRequest,
        mut options: RequestOptions,
        on_progress: Option<ProgressFn>,
    ) -> Result<ServerResult, CallError> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut g = lock(&self.shared);
            if g.closed {
                return Err(CallError::Request(RequestError::Closed));
            }
            options.progress |= on_progress.is_some();
            let id = g.session.send_request((self.now)(), request, options)?;
            g.side.waiters.insert(id.clone(), tx);
            if let Some(f) = on_progress {
                g.side.progress.insert(id.clone(), f);
            }
            if self.kick.is_none() {
                g.wake();
            }
            id
        };
        // In-process links: move the request now; if the link is busy, wake its task instead.
        if let Some(kick) = &self.kick {
            if !kick() {
                lock(&self.shared).wake();
            }
        }
        let mut pending = Pending {
            id: Some(id),
            shared: &self.shared,
        };
        let out = rx.await;
        pending.id = None;
        match out {
            Some(Ok(ServerResult::InputRequired(ir))) => {
                Err(CallError::InputRequired(Box::new(ir)))
            }
            Some(r) => r.map_err(CallError::Request),
            None => Err(CallError::Request(RequestError::Closed)),
        }
    }

    /// One page of tools.
    pub async fn list_tools(&self, cursor: Option<String>) -> Result<ListToolsResult, CallError> {
        match self.request(ClientRequest::ListTools(page(cursor))).await? {
            ServerResult::ListTools(r) => Ok(r),
            _ => Err(CallError::Unexpected),
        }
    }

    /// Every tool, following `nextCursor` (an empty string is a cursor, not the end).
    pub async fn list_all_tools(&self) -> Result<Vec<Tool>, CallError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let r = self.list_tools(cursor).await?;
            all.extend(r.tools);
            match r.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// Calls a tool. `arguments` is anything that serializes to a JSON object (a struct, a
    /// map, `json!({..})`), or to `null` (`()`) for none; anything else is refused with
    /// [`CallError::Arguments`] before a request is sent. Read a typed answer with
    /// [`CallToolResult::structured_as`].
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<CallToolResult, CallError> {
        self.call_tool_with(name, arguments, None).await
    }

    /// Calls a tool, reporting progress to `on_progress`.
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: impl Serialize,
        on_progress: Option<ProgressFn>,
    ) -> Result<CallToolResult, CallError> {
        let arguments = tool_arguments(arguments)?;
        let params = CallToolRequestParams {
            name: name.to_owned(),
            arguments,
            ..Default::default()
        };
        match self
            .request_with(
                ClientRequest::CallTool(params),
                RequestOptions::default(),
                on_progress,
            )
            .await?
        {
            ServerResult::CallTool(r) => Ok(r),
            _ => Err(CallError::Unexpected),
        }
    }

    /// One page of resources.
    pub async fn list_resources(
        &self,
        cursor: Option<String>,
    ) -> Result<ListResourcesResult, CallError> {
        match self
            .request(ClientRequest::ListResources(page(cursor)))
            .await?
        {
            ServerResult::ListResources(r) => Ok(r),
            _ => Err(CallError::Unexpected),
        }
    }

    /// Every resource.
    pub async fn list_all_resources(&self) -> Result<Vec<Resource>, CallError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let r = self.list_resources(cursor).await?;
            all.extend(r.resources);
            match r.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// One page of resource templates.
    pub async fn list_resource_templates(
        &self,
        cursor: Option<String>,
    ) -> Result<ListResourceTemplatesResult, CallError> {
        match self
            .request(ClientRequest::ListResourceTemplates(page(cursor)))
            .await?
        {
            ServerResult::ListResourceTemplates(r) => Ok(r),
            _ => Err(CallError::Unexpected),
        }
    }

    /// Every resource template.
    pub async fn list_all_resource_templates(&self) -> Result<Vec<ResourceTemplate>, CallError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let r = self.list_resource_templates(cursor).await?;
            all.extend(r.resource_templates);
            match r.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// Reads a resource.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, CallError> {
        let params = ReadResourceRequestParams {
            uri: uri.to_owned(),
            ..Default::default()
        };
        match self.request(ClientRequest::ReadResource(params)).await? {
            ServerResult::ReadResource(r) => Ok(r),
            _ => Err(CallError::Unexpected),
        }
    }

    /// One page of prompts.
    pub async fn list_prompts(
        &self,
        cursor: Option<String>,
    ) -> Result<ListPromptsResult, CallError> {
        match self
            .request(ClientRequest::ListPrompts(page(cursor)))
            .await?
        {
            ServerResult::ListPrompts(r) => Ok(r),
            _ => Err(CallError::Unexpected),
        }
    }

    /// Every prompt.
    pub async fn list_all_prompts(&self) -> Result<Vec<Prompt>, CallError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let r = self.list_prompts(cursor).await?;
            all.extend(r.prompts);
            match r.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// Gets a prompt with string arguments.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: &[(&str, &str)],
    ) -> Result<GetPromptResult, CallError> {
        let params = GetPromptRequestParams {
            name: name.to_owned(),
            arguments: (!arguments.is_empty()).then(|| {
                arguments
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect()
            }),
            ..Default::default()
        };
        match self.request(ClientRequest::GetPrompt(params)).await? {
            ServerResult::GetPrompt(r) => Ok(r),
            _ => Err(CallError::Unexpected),
        }
    }

    /// Asks for completions of an argument.
    pub async fn complete(
        &self,
        params: CompleteRequestParams,
    ) -> Result<CompleteResult, CallError> {
        match self.request(ClientRequest::Complete(params)).await? {
            ServerResult::Complete(r) => Ok(r),
            _ => Err(CallError::Unexpected),
        }
    }

    /// Opens a 2026-07-28 `subscriptions/listen` stream. The returned [`Subscription`] yields
    /// its notifications (the acknowledgement first) until the server closes it; dropping it
    /// cancels the stream. Legacy servers deliver list changes to
    /// [`ClientHandler::on_notification`] instead.
    pub fn listen(&self, filter: SubscriptionFilter) -> Result<Subscription, CallError> {
        let (tx, rx) = queue::queue();
        let mut g = lock(&self.shared);
        if g.closed {
            return Err(CallError::Request(RequestError::Closed));
        }
        let params = SubscriptionsListenRequestParams {
            notifications: filter,
            ..Default::default()
        };
        let id = g.session.send_request(
            (self.now)(),
            ClientRequest::Listen(params),
            RequestOptions::default(),
        )?;
        g.side.listens.insert(id.clone(), tx);
        g.wake();
        Ok(Subscription {
            id,
            rx,
            shared: self.shared.clone(),
        })
    }

    /// Subscribes to a resource's updates on a legacy session (`resources/subscribe`); they
    /// arrive at [`ClientHandler::on_notification`]. 2026-07-28 uses [`listen`](Self::listen).
    pub async fn subscribe_resource(&self, uri: &str) -> Result<(), CallError> {
        let params = SubscribeRequestParams {
            uri: uri.to_owned(),
            ..Default::default()
        };
        self.request(ClientRequest::Subscribe(params))
            .await
            .map(|_| ())
    }

    /// Ends a legacy resource subscription (`resources/unsubscribe`).
    pub async fn unsubscribe_resource(&self, uri: &str) -> Result<(), CallError> {
        let params = UnsubscribeRequestParams {
            uri: uri.to_owned(),
            ..Default::default()
        };
        self.request(ClientRequest::Unsubscribe(params))
            .await
            .map(|_| ())
    }

    /// Sets the legacy session's log level (`logging/setLevel`). For 2026-07-28 set
    /// `ClientConfig::log_level` instead: the level travels with each request.
    pub async fn set_log_level(&self, level: LoggingLevel) -> Result<(), CallError> {
        let params = SetLevelRequestParams {
            level,
            meta: None,
            extra: Default::default(),
        };
        self.request(ClientRequest::SetLevel(params))
            .await
            .map(|_| ())
    }

    /// Asks a 2026-07-28 server to describe itself again (`server/discover`).
    pub async fn discover(&self) -> Result<DiscoverResult, CallError> {
        match self
            .request(ClientRequest::Discover(Default::default()))
            .await?
        {
            ServerResult::Discover(r) => Ok(r),
            _ => Err(CallError::Unexpected),
        }
    }

    /// Ends the connection: pending requests fail with `Closed`. Returns at once; await
    /// [`Client::closed`] to know when it is over.
    pub fn close(&self) {
        let mut g = lock(&self.shared);
        g.shutdown = true;
        g.wake();
    }

    /// Output waiting for the server on a byte-stream connection (zero over HTTP and
    /// in-process links): what a server that stopped reading costs this client.
    pub fn backlog(&self) -> Backlog {
        lock(&self.shared).backlog
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared).closed
    }

    /// Completes once the connection has ended, however it ends: after [`Client::close`]
    /// once the last frames are out (over HTTP, the session's DELETE included), or when the
    /// server goes away.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + '_ {
        std::future::poll_fn(move |cx| lock(&self.shared).poll_closed(cx.waker()))
    }
}

fn page(cursor: Option<String>) -> PaginatedRequestParams {
    PaginatedRequestParams {
        cursor,
        ..Default::default()
    }
}

/// Connects over a byte stream: spawns the connection on `rt`, performs the handshake (era
/// detection included) and returns the client once the server is ready.
pub async fn connect<R, Rd, Wr>(
    rt: R,
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
    reader: Rd,
    writer: Wr,
) -> Result<Client, ConnectError>
where
    R: Runtime,
    Rd: AsyncRead + Unpin + Send + 'static,
    Wr: AsyncWrite + Unpin + Send + 'static,
{
    let now = rt.now();
    // Requests written by callers themselves carry deadlines at least this far out.
    let horizon = config.request_timeout.idle;
    let mut session = ClientSession::new(config, now);
    session
        .connect(now)
        .map_err(|e| ConnectError::Malformed(e.to_string()))?;
    let (shared, rx) = new_shared(session, handler);
    let conn = stream::engine::<R, ClientSide, Rd, Wr>(rt.clone(), shared.clone(), reader, writer)
        .with_idle_horizon(horizon);
    let kick = conn.kick();
    let span = crate::trace::span!(info_span, "connection", side = "client");
    rt.spawn(Box::pin(crate::trace::instrument(
        async move {
            let _ = conn.await;
        },
        span,
    )));
    let mut client = finish_connect(rt, shared, rx).await?;
    // Callers write their own requests when the writer is free: no hop to the connection.
    client.set_kick(Arc::new(kick));
    Ok(client)
}

/// Shared state of a new client connection, and the handshake's outcome to await.
pub(crate) fn new_shared(
    mut session: ClientSession,
    handler: Arc<dyn ClientHandler>,
) -> (
    Arc<Mutex<ClientShared>>,
    oneshot::Receiver<Result<ServerDescription, ConnectError>>,
) {
    let (tx, rx) = oneshot::channel();
    // A client that declared task-augmented sampling or elicitation runs them as tasks.
    let runs_tasks = session
        .capabilities()
        .tasks
        .as_ref()
        .is_some_and(|t| t.requests.is_some());
    if runs_tasks {
        let config = mcp_proto::tasks::TaskConfig::default();
        session.serve_tasks(std::time::SystemTime::now(), Box::new(OsEntropy), config);
    }
    let side = ClientSide {
        handler,
        listens: HashMap::new(),
        waiters: HashMap::new(),
        progress: HashMap::new(),
        ready: Some(tx),
        task_watches: HashMap::new(),
        task_progress: HashMap::new(),
    };
    (Arc::new(Mutex::new(Shared::new(session, side))), rx)
}

/// Waits for the handshake and builds the handle.
pub(crate) async fn finish_connect<R: Runtime>(
    rt: R,
    shared: Arc<Mutex<ClientShared>>,
    ready: oneshot::Receiver<Result<ServerDescription, ConnectError>>,
) -> Result<Client, ConnectError> {
    let server = match ready.await {
        Some(r) => r?,
        None => {
            return Err(ConnectError::Malformed(
                "connection ended during the handshake".into(),
            ))
        }
    };
    let clock = rt.clone();
    let handler = lock(&shared).side.handler.clone();
    Ok(Client {
        handler,
        kick: None,
        shared,
        server: Arc::new(server),
        now: Arc::new(move || clock.now()),
    })
}

/// An open `subscriptions/listen` stream.
pub struct Subscription {
    id: RequestId,
    rx: queue::Consumer<ServerNotification>,
    shared: Arc<Mutex<ClientShared>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// The subscription id (the listen request's id).
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// The next notification; `None` once the stream ended (server close or disconnect).
    pub async fn next(&mut self) -> Option<ServerNotification> {
        futures_lite::future::poll_fn(|cx| self.rx.poll_next(cx)).await
    }

    /// Notifications dropped because the application read too slowly (the queue is bounded).
    pub fn dropped(&self) -> u64 {
        self.rx.dropped()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut g = lock(&self.shared);
        if g.side.listens.remove(&self.id).is_some() {
            let _ = g.session.cancel(&self.id, None);
            g.wake();
        }
    }
}
