//! Tasks on the server side: which calls run as tasks, the store every session of a service
//! shares, and the tasks running right now.
//!
//! A tool registered as task-capable ([`TaskOptions`]) is written once, like any handler.
//! When a call may run as a task (a legacy client sent `params.task`; a 2026-07-28 client
//! declared the `io.modelcontextprotocol/tasks` extension on the request), the driver answers
//! the request with the created task and keeps the handler running, detached from the
//! request: its result or error becomes the task's outcome, `tasks/cancel` cancels it like a
//! dropped request, its progress keeps flowing (legacy), and its asks (`cx.elicit(..)`) become
//! the task's input requests (`input_required`, answered by `tasks/update` in 2026-07-28; a
//! server-to-client request tagged with the task in legacy).
//!
//! All sessions of one [`Service`](crate::Service) share one [`TaskStore`]: over HTTP every
//! 2026-07-28 request may reach a fresh session, so a task created on one must be found by
//! the next. The default store lives in memory and is bounded
//! ([`TaskConfig::max_tasks`](mcp_proto::tasks::TaskConfig)); **a restarted server has lost
//! its tasks** (clients polling an old id get -32602). Plug a store that outlives the process
//! in with [`Service::with_task_store`](crate::Service::with_task_store); a task that was
//! running when the process ended stays in its last status until its TTL frees it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use mcp_proto::jsonrpc::ErrorObject;
use mcp_proto::schema::mrtr::{InputResponse, InputResponses};
use mcp_proto::tasks::{TaskEntry, TaskError, TaskPage, TaskStore};

use crate::engine::abort::AbortFlag as CancelFlag;
use crate::engine::lock;
use crate::oneshot;

pub use mcp_proto::schema::tools::TaskSupport;

/// How a tool runs as a task. Built from a [`TaskSupport`]:
/// `TaskOptions::new(TaskSupport::Optional).poll_interval(Duration::from_millis(500))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskOptions {
    /// Whether calls may (`Optional`) or must (`Required`) run as tasks. Legacy clients see
    /// it as the tool's `execution.taskSupport`; for 2026-07-28 clients the server decides and
    /// runs every call as a task when the client allows it.
    pub support: TaskSupport,
    /// When the task is created.
    pub start: TaskStart,
    /// Time to live of the tool's tasks when the client asks for none (a legacy client may
    /// ask); the service's default when `None`.
    pub ttl: Option<Duration>,
    /// Suggested polling interval; the service's default when `None`.
    pub poll_interval: Option<Duration>,
}

impl TaskOptions {
    /// Options with this support, the task created before the handler runs.
    pub fn new(support: TaskSupport) -> Self {
        TaskOptions {
            support,
            start: TaskStart::Immediately,
            ttl: None,
            poll_interval: None,
        }
    }

    /// Sets when the task is created.
    pub fn start(mut self, start: TaskStart) -> Self {
        self.start = start;
        self
    }

    /// Sets the default time to live.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Sets the suggested polling interval.
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = Some(every);
        self
    }
}

/// When a call that runs as a task becomes one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TaskStart {
    /// Before the handler runs: the client gets the task at once and every ask of the
    /// handler is an input request of the task.
    #[default]
    Immediately,
    /// When the handler calls [`RequestCx::detach`](crate::RequestCx::detach). Until then it
    /// serves the request like any other: its asks are answered the request's way (a
    /// 2026-07-28 `input_required` round, a legacy server-to-client request). For tools that
    /// gather input before starting long work. A handler that finishes without detaching
    /// answers directly, or, if the call had to be a task, as a task that is already done.
    OnDetach,
}

/// What the driver knows, when a request starts, about running it as a task.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskPlan {
    pub options: TaskOptions,
    /// The TTL to ask the store for (the legacy client's `task.ttl`, else the tool's).
    pub ttl: Option<Duration>,
    /// The answer has to be a task (legacy `params.task`; 2026-07-28 `Required`).
    pub must: bool,
}

/// The detached state of a request that became a task.
#[derive(Debug)]
pub(crate) struct Detached {
    pub task_id: String,
    /// The capabilities of the request that created it (the request is gone).
    pub capabilities: Option<mcp_proto::schema::lifecycle::ClientCapabilities>,
    /// Input keys this handler used, to keep them unique over the task's life.
    pub used_keys: std::collections::HashSet<String>,
    pub next_key: usize,
}

/// Per-request task state, shared by the handler's [`RequestCx`](crate::RequestCx) and the
/// driver. Lock it before the session, never the other way round.
#[derive(Debug, Default)]
pub(crate) struct TaskSlot {
    pub plan: Option<TaskPlan>,
    pub state: Mutex<Option<Detached>>,
}

impl TaskSlot {
    pub fn new(plan: Option<TaskPlan>) -> Self {
        TaskSlot {
            plan,
            state: Mutex::new(None),
        }
    }

    pub fn task_id(&self) -> Option<String> {
        lock(&self.state).as_ref().map(|d| d.task_id.clone())
    }

    /// A key for the next input request: the handler's own if unused in this task, else
    /// made unique with a suffix; `ask0`, `ask1`, ... for unnamed asks.
    pub fn next_key(&self, key: Option<String>) -> Option<(String, String)> {
        let mut st = lock(&self.state);
        let d = st.as_mut()?;
        let base = match key {
            Some(k) => k,
            None => {
                let k = format!("ask{}", d.next_key);
                d.next_key += 1;
                k
            }
        };
        let mut key = base.clone();
        let mut n = 2;
        while d.used_keys.contains(&key) {
            key = format!("{base}-{n}");
            n += 1;
        }
        d.used_keys.insert(key.clone());
        Some((d.task_id.clone(), key))
    }
}

/// A task that is running: how to stop it and where its answers go.
struct Runner {
    cancel: Arc<CancelFlag>,
    inputs: HashMap<String, oneshot::Sender<InputResponse>>,
}

/// A session that hears of tasks changed by other sessions of its service (its listen
/// streams may follow them).
pub(crate) trait TaskListener: Send + Sync {
    /// Task `task_id` changed. Called with no session locked.
    fn task_changed(&self, now: Instant, task_id: &str);
}

/// The tasks of one service: the shared store, the running tasks, the live sessions (to
/// tell the ones listening when a task changes).
pub(crate) struct TaskHub {
    store: Arc<Mutex<Box<dyn TaskStore>>>,
    runners: Mutex<HashMap<String, Runner>>,
    sessions: Mutex<Vec<Weak<dyn TaskListener>>>,
}

impl std::fmt::Debug for TaskHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskHub")
            .field("running", &lock(&self.runners).len())
            .finish_non_exhaustive()
    }
}

impl TaskHub {
    pub fn new(store: Box<dyn TaskStore>) -> Arc<Self> {
        Arc::new(TaskHub {
            store: Arc::new(Mutex::new(store)),
            runners: Mutex::new(HashMap::new()),
            sessions: Mutex::new(Vec::new()),
        })
    }

    /// A session's view of the shared store.
    pub fn session_store(&self) -> Box<dyn TaskStore> {
        Box::new(SharedStore(self.store.clone()))
    }

    /// Remembers a session, to tell it when a task changes elsewhere.
    pub fn register_session<L: TaskListener + 'static>(&self, session: &Arc<L>) {
        let mut s = lock(&self.sessions);
        s.retain(|w| w.strong_count() > 0);
        s.push(Arc::downgrade(session) as Weak<dyn TaskListener>);
    }

    /// A task started running.
    pub fn start(&self, task_id: &str, cancel: Arc<CancelFlag>) {
        lock(&self.runners).insert(
            task_id.to_owned(),
            Runner {
                cancel,
                inputs: HashMap::new(),
            },
        );
    }

    /// A task stopped running.
    pub fn stopped(&self, task_id: &str) {
        lock(&self.runners).remove(task_id);
    }

    /// Stops a running task (cancelled, expired, its session gone).
    pub fn cancel(&self, task_id: &str) {
        let runner = lock(&self.runners).remove(task_id);
        if let Some(r) = runner {
            r.cancel.fire();
        }
    }

    /// Stops a task and forgets it (its legacy session ended: nobody can reach it).
    pub fn forget(&self, task_id: &str) {
        self.cancel(task_id);
        lock(&self.store).remove(task_id);
    }

    /// A running task waits for the answer to input request `key`.
    pub fn expect_input(&self, task_id: &str, key: &str, tx: oneshot::Sender<InputResponse>) {
        if let Some(r) = lock(&self.runners).get_mut(task_id) {
            r.inputs.insert(key.to_owned(), tx);
        }
    }

    /// The task no longer waits for `key` (its ask was dropped).
    pub fn drop_input(&self, task_id: &str, key: &str) {
        if let Some(r) = lock(&self.runners).get_mut(task_id) {
            r.inputs.remove(key);
        }
    }

    /// Hands the client's answers (already checked against the outstanding keys) to the
    /// asks waiting for them.
    pub fn deliver(&self, task_id: &str, responses: InputResponses) {
        let mut runners = lock(&self.runners);
        let Some(r) = runners.get_mut(task_id) else {
            return;
        };
        for (key, answer) in responses {
            if let Some(tx) = r.inputs.remove(&key) {
                tx.send(answer);
            }
        }
    }

    /// Tells every live session but `except` that a task changed (their listen streams may
    /// follow it). Call with no session locked.
    pub fn broadcast(&self, now: Instant, task_id: &str, except: Option<&dyn TaskListener>) {
        let sessions: Vec<Arc<dyn TaskListener>> = {
            let mut s = lock(&self.sessions);
            s.retain(|w| w.strong_count() > 0);
            s.iter().filter_map(Weak::upgrade).collect()
        };
        for listener in sessions {
            if except.is_some_and(|e| std::ptr::addr_eq(e, Arc::as_ptr(&listener))) {
                continue;
            }
            listener.task_changed(now, task_id);
        }
    }
}

/// A session's handle on the store the service shares: each call locks it once, and
/// [`TaskStore::update`] runs under that one lock, so two sessions never interleave a
/// read-modify-write.
struct SharedStore(Arc<Mutex<Box<dyn TaskStore>>>);

impl TaskStore for SharedStore {
    fn insert(&mut self, now_ms: u64, entry: TaskEntry) -> Result<(), TaskError> {
        lock(&self.0).insert(now_ms, entry)
    }

    fn get(&self, id: &str) -> Option<TaskEntry> {
        lock(&self.0).get(id)
    }

    fn update(
        &mut self,
        id: &str,
        f: &mut dyn FnMut(&mut TaskEntry) -> Result<(), TaskError>,
    ) -> Result<TaskEntry, TaskError> {
        lock(&self.0).update(id, f)
    }

    fn remove(&mut self, id: &str) -> Option<TaskEntry> {
        lock(&self.0).remove(id)
    }

    fn list(
        &self,
        now_ms: u64,
        owner: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TaskPage, TaskError> {
        lock(&self.0).list(now_ms, owner, cursor, limit)
    }

    fn expire(&mut self, now_ms: u64) -> Vec<String> {
        lock(&self.0).expire(now_ms)
    }

    fn next_expiry(&self) -> Option<u64> {
        lock(&self.0).next_expiry()
    }

    fn len(&self) -> usize {
        lock(&self.0).len()
    }
}

/// -32021 for a call that must run as a task from a client without the tasks extension.
pub(crate) fn missing_extension() -> ErrorObject {
    ErrorObject::new(
        mcp_proto::jsonrpc::code::MISSING_REQUIRED_CLIENT_CAPABILITY,
        "this tool runs only as a task: declare the io.modelcontextprotocol/tasks extension",
    )
    .with_data(serde_json::json!({
        "requiredCapabilities": {
            "extensions": { mcp_proto::schema::tasks_ext::EXTENSION_ID: {} }
        }
    }))
}
