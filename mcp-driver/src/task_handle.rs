//! Calling a tool as a task from the client, in either era: a [`TaskHandle`] to look at,
//! wait on, answer and cancel.
//!
//! Against a legacy (2025-11-25) server the call carries `params.task` when the server offers
//! task-augmented `tools/call`; against a 2026-07-28 server the call declares the
//! `io.modelcontextprotocol/tasks` extension for itself and the server decides. Either way
//! the server may answer directly, and the handle then simply holds the result.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use mcp_proto::jsonrpc::ErrorObject;
use mcp_proto::schema::common::meta_keys;
use mcp_proto::schema::messages::{ClientRequest, ClientResult, ServerRequest, ServerResult};
use mcp_proto::schema::mrtr::{InputRequest, InputRequests, InputResponse, InputResponses};
use mcp_proto::schema::notifications::ProgressNotificationParams;
use mcp_proto::schema::tasks::{
    CancelTaskRequestParams, GetTaskPayloadRequestParams, GetTaskRequestParams, TaskStatus,
};
use mcp_proto::schema::tasks_ext::{self, UpdateTaskRequestParams};
use mcp_proto::schema::tools::{CallToolRequestParams, CallToolResult};
use mcp_proto::schema::{Era, Meta, TaskMetadata};
use mcp_proto::session::{RequestError, RequestOptions};
use serde_json::{Map, Value};

use crate::client::{answer_ask, CallError, Client};
use crate::engine::lock;
use crate::queue;

/// Polling interval when the server suggests none.
const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// Numbers the waits on one connection, so each removes only its own registration.
static WATCH_IDS: AtomicU64 = AtomicU64::new(0);

/// A tool call that may be running as a task on the server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TaskHandle {
    client: Client,
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    /// The server answered directly (it decided against a task, or offers none).
    Done(Box<CallToolResult>),
    Task(std::sync::Arc<TaskRef>),
}

#[derive(Debug)]
struct TaskRef {
    id: String,
    era: Era,
    poll_interval: Option<Duration>,
    /// Input requests already answered: asked again in a later poll, they are not
    /// answered twice.
    answered: Mutex<BTreeSet<String>>,
}

/// A task as one look at it found it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskInfo {
    /// The task (`None` when the server answered directly).
    pub task_id: Option<String>,
    /// Its status.
    pub status: TaskStatus,
    /// The server's words on the status.
    pub status_message: Option<String>,
    /// How often the server suggests polling.
    pub poll_interval: Option<Duration>,
    /// How long the server keeps the task from its creation (`None`: unlimited or unsaid).
    pub ttl: Option<Duration>,
    /// What it waits for (2026-07-28 `input_required`); answer with
    /// [`TaskHandle::respond`]. A legacy server asks through the
    /// [`ClientHandler`](crate::ClientHandler) instead.
    pub input_requests: InputRequests,
}

impl Client {
    /// Calls a tool as a task where the server allows it, else as a plain call: the handle
    /// says which ([`TaskHandle::task_id`]) and gets the result either way
    /// ([`TaskHandle::wait`]). A 2026-07-28 `input_required` round before the task exists is
    /// answered by the [`ClientHandler`](crate::ClientHandler), as for any call.
    pub async fn call_tool_as_task(
        &self,
        name: &str,
        arguments: impl serde::Serialize,
    ) -> Result<TaskHandle, CallError> {
        self.call_tool_as_task_with(name, arguments, None).await
    }

    /// [`call_tool_as_task`](Self::call_tool_as_task), reporting progress to `on_progress`:
    /// before the task exists, and for a legacy task until it ends (the tasks extension has
    /// no progress on tasks).
    pub async fn call_tool_as_task_with(
        &self,
        name: &str,
        arguments: impl serde::Serialize,
        on_progress: Option<crate::ProgressFn>,
    ) -> Result<TaskHandle, CallError> {
        let arguments = crate::client::tool_arguments(arguments)?;
        let mut params = CallToolRequestParams::new(name, arguments);
        let era = self.server().era;
        match era {
            Era::Legacy => {
                let offered = self
                    .server()
                    .capabilities
                    .tasks
                    .as_ref()
                    .and_then(|t| t.requests.as_ref())
                    .and_then(|r| r.tools.as_ref())
                    .is_some_and(|t| t.call.is_some());
                if offered {
                    params.task = Some(TaskMetadata::default());
                }
            }
            Era::Modern => {
                // The per-request opt-in: this call allows a task whatever the client
                // declares elsewhere.
                let mut caps = serde_json::to_value(lock(&self.shared).session.capabilities())
                    .unwrap_or_else(|_| Value::Object(Map::new()));
                add_tasks_extension(&mut caps);
                params
                    .meta
                    .get_or_insert_with(Meta::new)
                    .insert(meta_keys::CLIENT_CAPABILITIES, caps);
            }
        }
        let handle = |inner| TaskHandle {
            client: self.clone(),
            inner,
        };
        let progress = on_progress.map(|f| std::sync::Arc::new(Mutex::new(f)));
        let forward = || -> Option<crate::ProgressFn> {
            progress.clone().map(|p| {
                Box::new(move |n: ProgressNotificationParams| (lock(&p))(n)) as crate::ProgressFn
            })
        };
        let call = |params: CallToolRequestParams| {
            self.request_with(
                ClientRequest::CallTool(params),
                RequestOptions::default(),
                forward(),
            )
        };
        let answer = match call(params.clone()).await {
            // A legacy tool without task support refuses the task (-32601): call it plainly.
            Err(CallError::Request(RequestError::Rpc(e)))
                if params.task.is_some()
                    && e.code == mcp_proto::jsonrpc::code::METHOD_NOT_FOUND =>
            {
                params.task = None;
                call(params).await?
            }
            other => other?,
        };

        match answer {
            ServerResult::CallTool(r) => Ok(handle(Inner::Done(Box::new(r)))),
            ServerResult::CreateTask(r) => Ok(handle(Inner::Task(std::sync::Arc::new(TaskRef {
                id: r.task.task_id,
                era,
                poll_interval: r.task.poll_interval.map(Duration::from_millis),
                answered: Mutex::new(BTreeSet::new()),
            })))),
            ServerResult::CreateTaskExt(r) => {
                Ok(handle(Inner::Task(std::sync::Arc::new(TaskRef {
                    id: r.task.task_id,
                    era,
                    poll_interval: r.task.poll_interval_ms.map(Duration::from_millis),
                    answered: Mutex::new(BTreeSet::new()),
                }))))
            }
            _ => Err(CallError::Unexpected),
        }
    }
}

impl Client {
    /// A handle on a task created earlier, by this connection or another (its id kept, say,
    /// across a client restart). A 2026-07-28 server finds the task by id alone; a legacy
    /// server only on the session that created it.
    pub fn resume_task(&self, task_id: &str) -> TaskHandle {
        TaskHandle {
            client: self.clone(),
            inner: Inner::Task(std::sync::Arc::new(TaskRef {
                id: task_id.to_owned(),
                era: self.server().era,
                poll_interval: None,
                answered: Mutex::new(BTreeSet::new()),
            })),
        }
    }
}

impl TaskHandle {
    /// The task's id; `None` when the server answered directly.
    pub fn task_id(&self) -> Option<&str> {
        match &self.inner {
            Inner::Done(_) => None,
            Inner::Task(t) => Some(&t.id),
        }
    }

    /// Asks the server how the task is doing (`tasks/get`).
    pub async fn status(&self) -> Result<TaskInfo, CallError> {
        let t = match &self.inner {
            Inner::Done(_) => return Ok(done_info()),
            Inner::Task(t) => t,
        };
        let r = self
            .client
            .request(ClientRequest::GetTask(GetTaskRequestParams::new(
                t.id.clone(),
            )))
            .await?;
        info_of(&r).ok_or(CallError::Unexpected)
    }

    /// Waits until the task ends and returns its result, polling at the server's
    /// `pollInterval`. Input the task asks for (2026-07-28 `input_required`) is answered by
    /// the connection's [`ClientHandler`](crate::ClientHandler), each request once; a
    /// legacy server asks the handler directly. A task that failed gives the error the call
    /// itself would have given (`CallError::Request(RequestError::Rpc(..))`); a cancelled
    /// one [`CallError::TaskCancelled`].
    ///
    /// Dropping the future stops polling; the task goes on.
    pub async fn wait(&self) -> Result<CallToolResult, CallError> {
        let t = match &self.inner {
            Inner::Done(r) => return Ok((**r).clone()),
            Inner::Task(t) => t.clone(),
        };
        let (tx, rx) = queue::queue();
        let wid = WATCH_IDS.fetch_add(1, Ordering::Relaxed);
        {
            let mut g = lock(&self.client.shared);
            if g.closed {
                return Err(CallError::Request(RequestError::Closed));
            }
            g.side
                .task_watches
                .entry(t.id.clone())
                .or_default()
                .push((wid, tx));
            let now = (self.client.now)();
            let every = t.poll_interval.unwrap_or(FALLBACK_POLL);
            let watched = g.session.watch_task(now, &t.id, every);
            g.wake();
            watched?;
        }
        let _guard = WatchGuard {
            client: &self.client,
            task_id: &t.id,
            wid,
        };
        loop {
            let polled = futures_lite::future::poll_fn(|cx| rx.poll_next(cx))
                .await
                .ok_or(CallError::Request(RequestError::Closed))?;
            let detail = polled?;
            let info = info_of(&detail).ok_or(CallError::Unexpected)?;
            match info.status {
                TaskStatus::Working => {}
                TaskStatus::InputRequired => self.answer_new(&t, info.input_requests).await?,
                TaskStatus::Cancelled => {
                    self.forget_progress(&t.id);
                    return Err(CallError::TaskCancelled(t.id.clone()));
                }
                TaskStatus::Completed | TaskStatus::Failed => {
                    self.forget_progress(&t.id);
                    return self.outcome(&t, detail).await;
                }
            }
        }
    }

    fn forget_progress(&self, task_id: &str) {
        lock(&self.client.shared).side.task_progress.remove(task_id);
    }

    /// Same as [`wait`](Self::wait): the task's result once it has one.
    pub async fn result(&self) -> Result<CallToolResult, CallError> {
        self.wait().await
    }

    /// Asks the server to cancel the task (`tasks/cancel`). A legacy server refuses a task
    /// that already ended (-32602); a 2026-07-28 server acknowledges and leaves it as it is.
    /// Does nothing when the server answered directly.
    pub async fn cancel(&self) -> Result<(), CallError> {
        let t = match &self.inner {
            Inner::Done(_) => return Ok(()),
            Inner::Task(t) => t,
        };
        self.client
            .request(ClientRequest::CancelTask(CancelTaskRequestParams::new(
                t.id.clone(),
            )))
            .await
            .map(|_| ())
    }

    /// Answers input requests of a 2026-07-28 task (`tasks/update`); keys the task no longer
    /// waits on are ignored by the server.
    pub async fn respond(&self, responses: InputResponses) -> Result<(), CallError> {
        let t = match &self.inner {
            Inner::Done(_) => return Ok(()),
            Inner::Task(t) => t,
        };
        if t.era != Era::Modern {
            return Err(CallError::Usage(
                mcp_proto::session::UsageError::NotAllowed(
                    "a legacy server asks with requests of its own, not tasks/update".into(),
                ),
            ));
        }
        lock(&t.answered).extend(responses.keys().cloned());
        let params = UpdateTaskRequestParams::new(t.id.clone(), responses);
        self.client
            .request(ClientRequest::UpdateTask(params))
            .await
            .map(|_| ())
    }

    /// Answers, through the handler, the input requests not answered yet.
    async fn answer_new(&self, t: &TaskRef, requests: InputRequests) -> Result<(), CallError> {
        if t.era != Era::Modern {
            return Ok(());
        }
        let fresh: Vec<(String, InputRequest)> = {
            let answered = lock(&t.answered);
            requests
                .into_iter()
                .filter(|(k, _)| !answered.contains(k))
                .collect()
        };
        if fresh.is_empty() {
            return Ok(());
        }
        let mut answers = InputResponses::new();
        for (key, ask) in fresh {
            let request = match ask {
                InputRequest::Elicit(p) => ServerRequest::Elicit(p),
                InputRequest::CreateMessage(p) => ServerRequest::CreateMessage(p),
                InputRequest::ListRoots(p) => ServerRequest::ListRoots(p.unwrap_or_default()),
                InputRequest::Other { method, .. } => {
                    return Err(CallError::AskFailed(ErrorObject::method_not_found(&method)))
                }
            };
            let answer = match answer_ask(self.client.handler.as_ref(), request).await {
                Ok(ClientResult::Elicit(r)) => InputResponse::from(r),
                Ok(ClientResult::CreateMessage(r)) => InputResponse::from(r),
                Ok(ClientResult::ListRoots(r)) => InputResponse::from(r),
                Ok(_) => return Err(CallError::Unexpected),
                Err(e) => return Err(CallError::AskFailed(e)),
            };
            answers.insert(key, answer);
        }
        self.respond(answers).await
    }

    /// The result (or error) of a task that ended `completed` or `failed`.
    async fn outcome(
        &self,
        t: &TaskRef,
        detail: ServerResult,
    ) -> Result<CallToolResult, CallError> {
        match detail {
            ServerResult::GetTaskExt(d) => {
                if let Some(e) = d.task.error {
                    return Err(CallError::Request(RequestError::Rpc(e)));
                }
                match d.task.result_as::<CallToolResult>() {
                    Some(Ok(r)) => Ok(r),
                    Some(Err(e)) => Err(CallError::Request(RequestError::Malformed(e.to_string()))),
                    None => Err(CallError::Unexpected),
                }
            }
            // Legacy: the payload comes from tasks/result, exactly what the call would
            // have returned (a failed task's error included).
            _ => {
                let params = GetTaskPayloadRequestParams::new(t.id.clone());
                match self
                    .client
                    .request(ClientRequest::GetTaskPayload(params))
                    .await?
                {
                    ServerResult::Other(v) => serde_json::from_value(v)
                        .map_err(|e| CallError::Request(RequestError::Malformed(e.to_string()))),
                    ServerResult::CallTool(r) => Ok(r),
                    _ => Err(CallError::Unexpected),
                }
            }
        }
    }
}

/// Ends a wait's registration (and the session's polling when nobody else waits).
struct WatchGuard<'a> {
    client: &'a Client,
    task_id: &'a str,
    wid: u64,
}

impl Drop for WatchGuard<'_> {
    fn drop(&mut self) {
        let mut g = lock(&self.client.shared);
        let empty = match g.side.task_watches.get_mut(self.task_id) {
            Some(ws) => {
                ws.retain(|(id, _)| *id != self.wid);
                ws.is_empty()
            }
            None => true,
        };
        if empty {
            g.side.task_watches.remove(self.task_id);
            g.session.unwatch_task(self.task_id);
        }
    }
}

fn done_info() -> TaskInfo {
    TaskInfo {
        task_id: None,
        status: TaskStatus::Completed,
        status_message: None,
        poll_interval: None,
        ttl: None,
        input_requests: InputRequests::new(),
    }
}

/// What a `tasks/get` (or `tasks/cancel`) result says, in either era's shape.
fn info_of(r: &ServerResult) -> Option<TaskInfo> {
    match r {
        ServerResult::GetTask(t) => Some(TaskInfo {
            task_id: Some(t.task.task_id.clone()),
            status: t.task.status,
            status_message: t.task.status_message.clone(),
            poll_interval: t.task.poll_interval.map(Duration::from_millis),
            ttl: t.task.ttl_ms().map(Duration::from_millis),
            input_requests: InputRequests::new(),
        }),
        ServerResult::GetTaskExt(t) => Some(TaskInfo {
            task_id: Some(t.task.task.task_id.clone()),
            status: t.task.task.status,
            status_message: t.task.task.status_message.clone(),
            poll_interval: t.task.task.poll_interval_ms.map(Duration::from_millis),
            ttl: t.task.task.ttl().map(Duration::from_millis),
            input_requests: t.task.input_requests.clone().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// Adds `extensions["io.modelcontextprotocol/tasks"]` to a capabilities object.
fn add_tasks_extension(caps: &mut Value) {
    if !caps.is_object() {
        *caps = Value::Object(Map::new());
    }
    if let Value::Object(c) = caps {
        let ext = c
            .entry("extensions")
            .or_insert_with(|| Value::Object(Map::new()));
        if !ext.is_object() {
            *ext = Value::Object(Map::new());
        }
        if let Value::Object(e) = ext {
            e.entry(tasks_ext::EXTENSION_ID)
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
}
