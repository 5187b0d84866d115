//! The client as a task receiver (2025-11-25, SEP-1686): a legacy server may send
//! `sampling/createMessage` or `elicitation/create` with `params.task`, when the client
//! declared `capabilities.tasks.requests.sampling.createMessage` /
//! `.elicitation.create`. The application turns such a request into a task with
//! [`ClientSession::create_task`] (the server gets a `CreateTaskResult` at once), answers the
//! user or model at its own pace and ends the task with [`ClientSession::finish_task`]; the
//! session answers the server's `tasks/get`, `tasks/result` (blocking until the task ends),
//! `tasks/list` and `tasks/cancel` itself.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use super::*;
use crate::entropy::Entropy;
use crate::schema::messages::ClientResult;
use crate::tasks::{
    format_iso8601, NewTask, TaskConfig, TaskEntry, TaskError, TaskOutcome, TaskTable, WallClock,
};

/// The tasks a client runs for its server.
pub(super) struct ClientTasks {
    table: TaskTable,
    clock: WallClock,
    entropy: Box<dyn Entropy>,
    /// Incoming requests that asked to run as a task (`params.task`), with the TTL asked.
    requested: HashMap<RequestId, Option<u64>>,
    /// `tasks/result` requests waiting for their task to end.
    waiters: HashMap<String, Vec<RequestId>>,
    /// Ids of our answers that are waiters (answered from `finish_task`).
    waiting: HashSet<RequestId>,
}

impl ClientTasks {
    /// The session ended: no request is open any more.
    pub(super) fn forget_requests(&mut self) {
        self.requested.clear();
    }
}

/// The `task` metadata of a task-augmentable server request, if it asked for a task.
pub(super) fn task_param(r: &ServerRequest) -> Option<&crate::schema::TaskMetadata> {
    use crate::schema::elicitation::ElicitRequestParams as E;
    match r {
        ServerRequest::CreateMessage(p) => p.task.as_ref(),
        ServerRequest::Elicit(E::Form(p)) => p.task.as_ref(),
        ServerRequest::Elicit(E::Url(p)) => p.task.as_ref(),
        _ => None,
    }
}

impl ClientSession {
    /// Runs task-augmented server requests as tasks from now on (see the module docs).
    /// `wall` is the wall-clock time at the `now` this session was created with (for task
    /// timestamps); `entropy` makes task ids unguessable. Requests only become tasks where
    /// the client's capabilities allow it.
    pub fn serve_tasks(&mut self, wall: SystemTime, entropy: Box<dyn Entropy>, config: TaskConfig) {
        self.tasks = Some(Box::new(ClientTasks {
            table: TaskTable::new(config),
            clock: WallClock::new(self.born, wall),
            entropy,
            requested: HashMap::new(),
            waiters: HashMap::new(),
            waiting: HashSet::new(),
        }));
    }

    /// The tasks this client runs for the server, once [`serve_tasks`](Self::serve_tasks)
    /// was called.
    pub fn served_tasks(&self) -> Option<&TaskTable> {
        self.tasks.as_ref().map(|t| &t.table)
    }

    /// Whether the server asked for request `id` to run as a task and the client's
    /// capabilities allow it for that request's type.
    pub fn task_requested(&self, id: &RequestId) -> bool {
        self.tasks
            .as_ref()
            .is_some_and(|t| t.requested.contains_key(id))
    }

    /// The server request `id` ended without becoming a task (answered directly, refused or
    /// cancelled): its note that a task was asked for goes, so a server sending many such
    /// requests cannot grow the table.
    pub(super) fn task_request_ended(&mut self, id: &RequestId) {
        if let Some(tasks) = self.tasks.as_mut() {
            tasks.requested.remove(id);
        }
    }

    /// Turns the server request `id` (one that asked for a task) into a task: answers it with
    /// the created task and returns the task id. End the task with
    /// [`finish_task`](Self::finish_task).
    pub fn create_task(&mut self, now: Instant, id: &RequestId) -> Result<String, UsageError> {
        let Some(tasks) = self.tasks.as_mut() else {
            return Err(UsageError::NotAllowed(
                "serve_tasks was not called on this session".into(),
            ));
        };
        let Some(ttl) = tasks.requested.get(id).copied() else {
            return Err(UsageError::NotAllowed(
                "the server did not ask for this request to run as a task".into(),
            ));
        };
        if !self.incoming.contains_key(id) {
            return Err(UsageError::UnknownRequest(id.clone()));
        }
        let now_ms = tasks.clock.unix_ms(now);
        let method = self.incoming.get(id).copied().unwrap_or("custom");
        let spec = NewTask {
            method,
            ttl: ttl.map(Duration::from_millis),
            poll_interval: None,
            owner: None,
        };
        let task = tasks
            .table
            .create(now_ms, spec, tasks.entropy.as_mut())
            .map_err(|e| match e {
                TaskError::Full(_) => UsageError::Limit("max_tasks"),
                other => UsageError::NotAllowed(other.to_string()),
            })?;
        tasks.requested.remove(id);
        self.incoming.remove(id);
        let r = crate::schema::tasks::CreateTaskResult::new(legacy_task(&task));
        self.outbox.response(Route::Session, id, &r)?;
        Ok(task.id)
    }

    /// Ends a task with the answer to the server's request (or an error). Refused once the
    /// task is terminal (cancelled meanwhile, say).
    pub fn finish_task(
        &mut self,
        now: Instant,
        task_id: &str,
        outcome: Result<ClientResult, ErrorObject>,
    ) -> Result<(), UsageError> {
        let Some(tasks) = self.tasks.as_mut() else {
            return Err(UsageError::NotAllowed(format!("unknown task {task_id}")));
        };
        let outcome = match outcome {
            Ok(r) => TaskOutcome::Result(
                serde_json::to_value(&r).map_err(|e| UsageError::Encode(e.to_string()))?,
            ),
            Err(e) => TaskOutcome::Error(e),
        };
        let now_ms = tasks.clock.unix_ms(now);
        tasks
            .table
            .finish(now_ms, task_id, outcome)
            .map_err(|e| UsageError::NotAllowed(e.to_string()))?;
        self.after_task_change(now_ms, task_id);
        Ok(())
    }

    /// A task-augmentable request came in: remember whether it asked for a task the client
    /// may run.
    pub(super) fn note_task_request(&mut self, id: &RequestId, r: &ServerRequest) {
        let Some(tasks) = self.tasks.as_mut() else {
            return;
        };
        let Some(meta) = task_param(r) else {
            return;
        };
        let requests = self
            .config
            .capabilities
            .tasks
            .as_ref()
            .and_then(|t| t.requests.as_ref());
        let allowed = match r {
            ServerRequest::CreateMessage(_) => requests
                .and_then(|q| q.sampling.as_ref())
                .is_some_and(|s| s.create_message.is_some()),
            ServerRequest::Elicit(_) => requests
                .and_then(|q| q.elicitation.as_ref())
                .is_some_and(|e| e.create.is_some()),
            _ => false,
        };
        if allowed {
            tasks.requested.insert(id.clone(), meta.ttl);
        }
    }

    /// Answers the server's `tasks/*` requests about the client's tasks. Returns `false` when
    /// the session does not serve tasks (the request then goes on as before).
    pub(super) fn answer_task_request(
        &mut self,
        now: Instant,
        id: &RequestId,
        request: &ServerRequest,
    ) -> bool {
        let Some(tasks) = self.tasks.as_mut() else {
            return false;
        };
        tasks.sweep(now);
        let now_ms = tasks.clock.unix_ms(now);
        let unknown = |task_id: &str| {
            ErrorObject::invalid_params(format!("Failed to retrieve task: unknown task {task_id}"))
        };
        match request {
            ServerRequest::GetTask(p) => match tasks.table.get(now_ms, &p.task_id) {
                Some(t) => {
                    let r = crate::schema::tasks::GetTaskResult::from(legacy_task(&t));
                    let _ = self.outbox.response(Route::Session, id, &r);
                }
                None => self
                    .outbox
                    .error(Route::Session, Some(id), &unknown(&p.task_id)),
            },
            ServerRequest::GetTaskPayload(p) => match tasks.table.get(now_ms, &p.task_id) {
                Some(t) if t.status.is_terminal() => self.send_payload(id, &t),
                Some(_) => {
                    tasks
                        .waiters
                        .entry(p.task_id.clone())
                        .or_default()
                        .push(id.clone());
                    tasks.waiting.insert(id.clone());
                }
                None => self
                    .outbox
                    .error(Route::Session, Some(id), &unknown(&p.task_id)),
            },
            ServerRequest::ListTasks(p) => {
                match tasks.table.list(now_ms, None, p.cursor.as_deref()) {
                    Ok(page) => {
                        let r = crate::schema::tasks::ListTasksResult {
                            tasks: page.tasks.iter().map(legacy_task).collect(),
                            next_cursor: page.next_cursor,
                            ..Default::default()
                        };
                        let _ = self.outbox.response(Route::Session, id, &r);
                    }
                    Err(_) => {
                        let e = ErrorObject::invalid_params("invalid cursor");
                        self.outbox.error(Route::Session, Some(id), &e);
                    }
                }
            }
            ServerRequest::CancelTask(p) => {
                let Some(t) = tasks.table.get(now_ms, &p.task_id) else {
                    self.outbox
                        .error(Route::Session, Some(id), &unknown(&p.task_id));
                    return true;
                };
                if t.status.is_terminal() {
                    let e = ErrorObject::invalid_params(format!(
                        "task {} is already {} and cannot be cancelled",
                        t.id, t.status
                    ));
                    self.outbox.error(Route::Session, Some(id), &e);
                    return true;
                }
                let message = Some("The task was cancelled by request.".to_owned());
                let cancelled =
                    tasks
                        .table
                        .transition(now_ms, &p.task_id, TaskStatus::Cancelled, message);
                match (cancelled, tasks.table.get(now_ms, &p.task_id)) {
                    (Ok(_), Some(t)) => {
                        let r = crate::schema::tasks::CancelTaskResult::from(legacy_task(&t));
                        let _ = self.outbox.response(Route::Session, id, &r);
                        self.events.push_back(ClientEvent::TaskCancelRequested {
                            task_id: p.task_id.clone(),
                        });
                        self.after_task_change(now_ms, &p.task_id);
                    }
                    _ => {
                        let e = ErrorObject::internal("task could not be cancelled");
                        self.outbox.error(Route::Session, Some(id), &e);
                    }
                }
            }
            _ => return false,
        }
        true
    }

    /// Tells the server the task changed, and answers its waiters once it ended.
    fn after_task_change(&mut self, now_ms: u64, task_id: &str) {
        let Some(tasks) = self.tasks.as_mut() else {
            return;
        };
        let Some(task) = tasks.table.get(now_ms, task_id) else {
            return;
        };
        let p = serde_json::to_value(legacy_task(&task)).unwrap_or(Value::Null);
        let _ = self
            .outbox
            .notification(Route::Session, method::TASKS_STATUS, Some(&p));
        if task.status.is_terminal() {
            let waiters = tasks.waiters.remove(task_id).unwrap_or_default();
            for w in &waiters {
                tasks.waiting.remove(w);
            }
            for w in waiters {
                self.send_payload(&w, &task);
            }
        }
    }

    fn send_payload(&mut self, id: &RequestId, task: &TaskEntry) {
        let related = json!({ meta_keys::RELATED_TASK: { "taskId": task.id } });
        match &task.outcome {
            Some(TaskOutcome::Result(r)) => {
                let mut r = r.clone();
                if let (Value::Object(o), Value::Object(rel)) = (&mut r, &related) {
                    let m = o.entry("_meta").or_insert_with(|| json!({}));
                    if let Value::Object(m) = m {
                        m.extend(rel.clone());
                    }
                }
                let _ = self.outbox.response(Route::Session, id, &r);
            }
            Some(TaskOutcome::Error(e)) => self.outbox.error(Route::Session, Some(id), e),
            None => {
                let e = ErrorObject::invalid_params(format!(
                    "task {} ended as {} without a result",
                    task.id, task.status
                ));
                self.outbox.error(Route::Session, Some(id), &e);
            }
        }
    }
}

impl ClientTasks {
    /// Drops the tasks whose TTL ran out; their `tasks/result` waiters are forgotten with
    /// them (the server asked about a task that no longer exists).
    fn sweep(&mut self, now: Instant) {
        let now_ms = self.clock.unix_ms(now);
        for id in self.table.expire(now_ms) {
            for w in self.waiters.remove(&id).unwrap_or_default() {
                self.waiting.remove(&w);
            }
        }
    }
}

fn legacy_task(t: &TaskEntry) -> crate::schema::tasks::Task {
    let mut task = crate::schema::tasks::Task::new(
        t.id.clone(),
        t.status,
        format_iso8601(t.created_ms),
        format_iso8601(t.updated_ms),
        t.ttl_ms,
    );
    task.status_message = t.status_message.clone();
    task.poll_interval = Some(t.poll_interval_ms);
    task
}
