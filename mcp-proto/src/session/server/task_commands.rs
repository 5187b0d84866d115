//! Task commands and the `tasks/*` answers of [`ServerSession`].
//!
//! Who sees a task: a legacy (2025-11-25) client only the tasks its own session created (they
//! carry the session's scope); a 2026-07-28 client any extension task whose unguessable id it
//! holds. The store may be shared with other sessions (see
//! [`ServerSession::set_task_store`]); everything here reads it afresh on each call.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;

/// How a new task is set up, beyond what the table's configuration gives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskParams {
    /// Requested time to live (capped by the configured `max_ttl`); the configured default
    /// when `None`.
    pub ttl: Option<Duration>,
    /// Suggested polling interval; the configured one when `None`.
    pub poll_interval: Option<Duration>,
}

impl ServerSession {
    // ----- tasks ---------------------------------------------------------------------------

    /// Turns an in-flight `tools/call` into a task: answers the request with the created task
    /// (in the shape of the request's era) and returns the task id. The handler keeps running
    /// and later calls [`finish_task`](Self::finish_task).
    pub fn create_task(
        &mut self,
        now: Instant,
        id: &RequestId,
        requested_ttl: Option<Duration>,
    ) -> Result<String, UsageError> {
        let params = TaskParams {
            ttl: requested_ttl,
            poll_interval: None,
        };
        self.create_task_with(now, id, params)
    }

    /// [`create_task`](Self::create_task) with a polling interval of the caller's choosing.
    ///
    /// Refused unless the client allowed a task: a legacy request must carry `params.task`, a
    /// 2026-07-28 request must declare the `io.modelcontextprotocol/tasks` extension.
    pub fn create_task_with(
        &mut self,
        now: Instant,
        id: &RequestId,
        params: TaskParams,
    ) -> Result<String, UsageError> {
        let entry = self
            .incoming
            .get(id)
            .ok_or_else(|| UsageError::UnknownRequest(id.clone()))?;
        if entry.kind != Kind::CallTool {
            return Err(UsageError::NotAllowed(
                "only tools/call can become a task".into(),
            ));
        }
        let era = entry.era;
        match era {
            Era::Modern => {
                let declared = entry
                    .capabilities
                    .as_ref()
                    .and_then(|c| c.extensions.as_ref())
                    .is_some_and(|e| e.contains_key(tasks_ext::EXTENSION_ID));
                if !declared {
                    return Err(UsageError::MissingCapability(
                        "extensions.io.modelcontextprotocol/tasks",
                    ));
                }
            }
            Era::Legacy if !entry.task_requested => {
                return Err(UsageError::NotAllowed(
                    "the client did not ask for a task (no params.task)".into(),
                ));
            }
            Era::Legacy => {}
        }
        let owner = self.task_owner(era);
        let now_ms = self.now_ms(now);
        let spec = NewTask {
            method: method::TOOLS_CALL,
            ttl: params.ttl,
            poll_interval: params.poll_interval,
            owner,
        };
        let task = self
            .tasks
            .create(now_ms, spec, self.entropy.as_mut())
            .map_err(|e| match e {
                TaskError::Full(_) => UsageError::Limit("max_tasks"),
                TaskError::OwnerFull(_) => UsageError::Limit("max_tasks_per_owner"),
                other => UsageError::NotAllowed(other.to_string()),
            })?;
        let mut result = match era {
            Era::Legacy => {
                ServerResult::CreateTask(tasks::CreateTaskResult::new(legacy_task(&task)))
            }
            Era::Modern => {
                ServerResult::CreateTaskExt(tasks_ext::CreateTaskResult::new(ext_task(&task)))
            }
        };
        if era == Era::Modern {
            self.stamp(&mut result);
        }
        self.outbox
            .response(Route::Request(id.clone()), id, &result)?;
        if let Some(entry) = self.incoming.remove(id) {
            if let (Era::Legacy, Some(tok)) = (era, entry.progress_token) {
                self.task_progress
                    .insert(task.id.clone(), (tok, entry.last_progress));
            }
        }
        Ok(task.id)
    }

    /// Reports progress on a legacy task (its token stays valid until the task is terminal).
    pub fn notify_task_progress(
        &mut self,
        task_id: &str,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> Result<(), UsageError> {
        let (token, last) = self
            .task_progress
            .get_mut(task_id)
            .ok_or(UsageError::NotAllowed(
                "no progress token for this task".into(),
            ))?;
        check_increasing(last, progress)?;
        let mut meta = Meta::new();
        meta.insert(meta_keys::RELATED_TASK, json!({ "taskId": task_id }));
        let params = ProgressNotificationParams {
            meta: Some(meta),
            progress_token: token.clone(),
            progress,
            total,
            message,
            extra: Default::default(),
        };
        self.outbox
            .notification(Route::Session, method::PROGRESS, Some(&params))
    }

    /// Changes a task's status (e.g. a status message while working).
    pub fn update_task(
        &mut self,
        now: Instant,
        task_id: &str,
        status: tasks::TaskStatus,
        message: Option<String>,
    ) -> Result<(), UsageError> {
        let now_ms = self.now_ms(now);
        let tr = self
            .tasks
            .transition(now_ms, task_id, status, message)
            .map_err(task_usage)?;
        self.after_change(now_ms, task_id, Some(tr));
        Ok(())
    }

    /// Puts a 2026 task into `input_required` with requests the client must answer with
    /// `tasks/update` (added to any it already waits on). Keys must be new to the task.
    pub fn task_requires_input(
        &mut self,
        now: Instant,
        task_id: &str,
        input_requests: crate::schema::mrtr::InputRequests,
        message: Option<String>,
    ) -> Result<(), UsageError> {
        let now_ms = self.now_ms(now);
        let tr = self
            .tasks
            .require_input(now_ms, task_id, input_requests, message)
            .map_err(task_usage)?;
        self.after_change(now_ms, task_id, tr);
        Ok(())
    }

    /// Withdraws input requests a task no longer waits on (the work that asked gave up);
    /// the task goes back to `working` when none remain.
    pub fn withdraw_task_input(
        &mut self,
        now: Instant,
        task_id: &str,
        keys: &[String],
    ) -> Result<(), UsageError> {
        let now_ms = self.now_ms(now);
        let tr = self
            .tasks
            .withdraw_input(now_ms, task_id, keys)
            .map_err(task_usage)?;
        self.after_change(now_ms, task_id, tr);
        Ok(())
    }

    /// Ends a task with the underlying request's result or error. Refused once the task is
    /// terminal (e.g. cancelled meanwhile): terminal states never change.
    pub fn finish_task(
        &mut self,
        now: Instant,
        task_id: &str,
        outcome: Result<ServerResult, ErrorObject>,
    ) -> Result<(), UsageError> {
        let outcome = match outcome {
            Ok(r) => {
                let mut v =
                    serde_json::to_value(&r).map_err(|e| UsageError::Encode(e.to_string()))?;
                // The stored result is era-neutral; each era's rendering adds its own fields.
                if let Value::Object(o) = &mut v {
                    o.remove("resultType");
                }
                TaskOutcome::Result(v)
            }
            Err(e) => TaskOutcome::Error(e),
        };
        let now_ms = self.now_ms(now);
        let tr = self
            .tasks
            .finish(now_ms, task_id, outcome)
            .map_err(task_usage)?;
        self.after_change(now_ms, task_id, Some(tr));
        Ok(())
    }

    /// Sends a legacy server-to-client request on a task's behalf (an elicitation or a
    /// sampling request the task needs): it carries the `related-task` metadata, travels on a
    /// `tasks/result` stream waiting on the task if there is one (else the session's), and the
    /// task shows `input_required` until every such request is answered.
    pub fn send_task_request(
        &mut self,
        now: Instant,
        task_id: &str,
        mut request: ServerRequest,
    ) -> Result<RequestId, UsageError> {
        let now_ms = self.now_ms(now);
        let owner = self.task_owner(Era::Legacy);
        let Some(task) = self.tasks.get_owned(now_ms, task_id, owner.as_deref()) else {
            return Err(UsageError::NotAllowed(format!("unknown task {task_id}")));
        };
        if task.status.is_terminal() {
            return Err(UsageError::NotAllowed(format!(
                "task {task_id} is already {}",
                task.status
            )));
        }
        request
            .meta_mut()
            .get_or_insert_with(Meta::new)
            .insert(meta_keys::RELATED_TASK, json!({ "taskId": task_id }));
        let route_via = self
            .task_waiters
            .get(task_id)
            .and_then(|w| w.first())
            .cloned();
        let id = self.send_request(now, request, route_via.as_ref())?;
        self.task_asks.insert(id.clone(), task_id.to_owned());
        if task.status == tasks::TaskStatus::Working {
            if let Ok(tr) =
                self.tasks
                    .transition(now_ms, task_id, tasks::TaskStatus::InputRequired, None)
            {
                self.after_change(now_ms, task_id, Some(tr));
            }
        }
        Ok(id)
    }

    /// Another session changed a task kept in a store this session shares: tells this
    /// session's listen streams that follow it, and answers its `tasks/result` waiters once
    /// the task is terminal, or with an error once it is gone (another session's sweep
    /// expired it, or it was removed).
    pub fn task_changed(&mut self, now: Instant, task_id: &str) {
        let now_ms = self.now_ms(now);
        if self.tasks.get(now_ms, task_id).is_none() {
            self.task_gone(task_id);
            return;
        }
        self.notify_task(now_ms, task_id, false);
    }

    /// The task left the store: its `tasks/result` waiters get an error, the application a
    /// [`ServerEvent::TaskExpired`] (only if this session was waiting on it, so a sweep seen
    /// twice is reported once).
    fn task_gone(&mut self, task_id: &str) {
        self.task_progress.remove(task_id);
        if let Some(waiters) = self.task_waiters.remove(task_id) {
            let err = ErrorObject::invalid_params(format!("task {task_id} expired"));
            for w in waiters {
                if self.incoming.remove(&w).is_some() {
                    self.outbox.error(Route::Request(w.clone()), Some(&w), &err);
                }
            }
            self.events.push_back(ServerEvent::TaskExpired {
                task_id: task_id.to_owned(),
            });
        }
    }

    /// One of our task requests was answered, failed or given up: with none left, the task
    /// goes back to `working`.
    pub(super) fn task_ask_settled(&mut self, now: Instant, id: &RequestId) {
        let Some(task_id) = self.task_asks.remove(id) else {
            return;
        };
        if self.task_asks.values().any(|t| *t == task_id) {
            return;
        }
        let now_ms = self.now_ms(now);
        let waiting = self
            .tasks
            .get(now_ms, &task_id)
            .is_some_and(|t| t.status == tasks::TaskStatus::InputRequired);
        if waiting {
            if let Ok(tr) =
                self.tasks
                    .transition(now_ms, &task_id, tasks::TaskStatus::Working, None)
            {
                self.after_change(now_ms, &task_id, Some(tr));
            }
        }
    }

    /// Removes the tasks whose TTL ran out (a sweep on the session's clock): their
    /// `tasks/result` waiters get an error and the application a [`ServerEvent::TaskExpired`].
    pub(super) fn expire_tasks(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
        let now_ms = self.now_ms(now);
        if self.tasks.next_expiry().is_some_and(|at| at <= now_ms) {
            for task_id in self.tasks.expire(now_ms) {
                self.task_progress.remove(&task_id);
                if let Some(waiters) = self.task_waiters.remove(&task_id) {
                    let err = ErrorObject::invalid_params(format!("task {task_id} expired"));
                    for w in waiters {
                        self.incoming.remove(&w);
                        self.outbox.error(Route::Request(w.clone()), Some(&w), &err);
                    }
                }
                self.events.push_back(ServerEvent::TaskExpired { task_id });
            }
        }
        // A store shared with other sessions may have lost a task to their sweep: this
        // session's waiters on it are answered now at the latest.
        if !self.task_waiters.is_empty() {
            let mut gone: Vec<String> = self
                .task_waiters
                .keys()
                .filter(|t| self.tasks.get(now_ms, t).is_none())
                .cloned()
                .collect();
            gone.sort();
            for task_id in gone {
                self.task_gone(&task_id);
            }
        }
    }

    fn now_ms(&self, now: Instant) -> u64 {
        self.clock.unix_ms(now)
    }

    /// What a change means for this session: notifications, waiters, the event.
    fn after_change(&mut self, now_ms: u64, task_id: &str, tr: Option<TaskTransition>) {
        self.notify_task(now_ms, task_id, tr.is_some());
        if let Some(tr) = tr {
            self.events.push_back(ServerEvent::Task(tr));
        }
    }

    fn notify_task(&mut self, now_ms: u64, task_id: &str, status_changed: bool) {
        let Some(task) = self.tasks.get(now_ms, task_id) else {
            return;
        };
        let ours = task.owner.is_some()
            && (task.owner == self.scope
                || (self.principal.is_some() && task.owner == self.principal));
        // Legacy status notification on the session channel, to the session that owns it.
        if status_changed
            && ours
            && self
                .legacy
                .as_ref()
                .is_some_and(|l| l.phase != Phase::AwaitingInitialize)
        {
            let p = serde_json::to_value(legacy_task(&task)).unwrap_or(Value::Null);
            let _ = self
                .outbox
                .notification(Route::Session, method::TASKS_STATUS, Some(&p));
        }
        // Extension notification on listen streams that asked for this task.
        if task.owner.is_none() || task.owner == self.principal {
            let mut targets: Vec<RequestId> = self
                .subscriptions
                .iter()
                .filter(|(_, s)| {
                    s.filter
                        .task_ids
                        .as_ref()
                        .is_some_and(|t| t.contains(&task.id))
                })
                .map(|(id, _)| id.clone())
                .collect::<Vec<_>>();
            // Sorted so the order of notifications does not depend on hash order.
            targets.sort();
            for sub in targets {
                let mut p = ext_detailed(&task);
                if let Value::Object(o) = &mut p {
                    o.insert(
                        "_meta".into(),
                        serde_json::to_value(subscription_meta(&sub)).unwrap_or(Value::Null),
                    );
                }
                let _ = self.outbox.notification(
                    Route::Request(sub.clone()),
                    method::TASKS_NOTIFICATION,
                    Some(&p),
                );
            }
        }
        if task.status.is_terminal() {
            self.task_progress.remove(&task.id);
            if let Some(waiters) = self.task_waiters.remove(&task.id) {
                for w in waiters {
                    self.incoming.remove(&w);
                    self.send_task_payload(&w, &task);
                }
            }
        }
    }

    /// The task a request of `era` may see, if any.
    fn visible_task(&mut self, now: Instant, task_id: &str, era: Era) -> Option<TaskEntry> {
        let owner = self.task_owner(era);
        self.tasks
            .get_owned(self.now_ms(now), task_id, owner.as_deref())
    }

    pub(super) fn answer_get_task(
        &mut self,
        now: Instant,
        id: &RequestId,
        task_id: &str,
        era: Era,
    ) {
        let Some(task) = self.visible_task(now, task_id, era) else {
            return self.reply_error(id, unknown_task(task_id));
        };
        let route = Route::Request(id.clone());
        match era {
            Era::Legacy => {
                let r = tasks::GetTaskResult::from(legacy_task(&task));
                let _ = self.outbox.response(route, id, &r);
            }
            Era::Modern => {
                let mut v = ext_detailed(&task);
                if let Value::Object(o) = &mut v {
                    o.insert("resultType".into(), "complete".into());
                    o.insert(
                        "_meta".into(),
                        json!({ meta_keys::SERVER_INFO: self.config.0.info }),
                    );
                }
                let _ = self.outbox.response(route, id, &v);
            }
        }
    }

    /// `tasks/cancel`. Legacy: a terminal task is refused with -32602 and the answer is the
    /// cancelled task. 2026-07-28: the answer is an empty acknowledgement either way (a
    /// terminal task stays as it is).
    pub(super) fn answer_cancel_task(
        &mut self,
        now: Instant,
        id: &RequestId,
        task_id: &str,
        era: Era,
    ) {
        let Some(task) = self.visible_task(now, task_id, era) else {
            return self.reply_error(id, unknown_task(task_id));
        };
        let route = Route::Request(id.clone());
        if task.status.is_terminal() {
            if era == Era::Modern {
                let mut r = ServerResult::Empty(tasks_ext::ack());
                self.stamp(&mut r);
                let _ = self.outbox.response(route, id, &r);
                return;
            }
            let e = ErrorObject::invalid_params(format!(
                "task {task_id} is already {} and cannot be cancelled",
                task.status.as_str()
            ));
            return self.reply_error(id, e);
        }
        let now_ms = self.now_ms(now);
        let message = Some("The task was cancelled by request.".to_owned());
        let Ok(tr) = self
            .tasks
            .transition(now_ms, task_id, tasks::TaskStatus::Cancelled, message)
        else {
            return self.reply_error(id, ErrorObject::internal("task could not be cancelled"));
        };
        match era {
            Era::Legacy => {
                if let Some(task) = self.tasks.get(now_ms, task_id) {
                    let r = tasks::CancelTaskResult::from(legacy_task(&task));
                    let _ = self.outbox.response(route, id, &r);
                }
            }
            Era::Modern => {
                let mut r = ServerResult::Empty(tasks_ext::ack());
                self.stamp(&mut r);
                let _ = self.outbox.response(route, id, &r);
            }
        }
        self.events.push_back(ServerEvent::TaskCancelRequested {
            task_id: task_id.to_owned(),
        });
        self.after_change(now_ms, task_id, Some(tr));
    }

    /// `tasks/update` (2026-07-28): answers for outstanding input requests are taken, the
    /// rest ignored; always an empty acknowledgement for a known task.
    pub(super) fn answer_update_task(
        &mut self,
        now: Instant,
        id: &RequestId,
        task_id: String,
        responses: InputResponses,
    ) {
        if self.visible_task(now, &task_id, Era::Modern).is_none() {
            return self.reply_error(id, unknown_task(&task_id));
        }
        let now_ms = self.now_ms(now);
        let answered = self.tasks.answer_input(now_ms, &task_id, responses);
        let mut r = ServerResult::Empty(tasks_ext::ack());
        self.stamp(&mut r);
        let _ = self.outbox.response(Route::Request(id.clone()), id, &r);
        if let Ok((accepted, tr)) = answered {
            if !accepted.is_empty() || tr.is_some() {
                self.after_change(now_ms, &task_id, tr);
            }
            if !accepted.is_empty() {
                self.events.push_back(ServerEvent::TaskInput {
                    task_id,
                    responses: accepted,
                });
            }
        }
    }

    pub(super) fn answer_list_tasks(&mut self, now: Instant, id: &RequestId, cursor: Option<&str>) {
        let now_ms = self.now_ms(now);
        let owner = self.task_owner(Era::Legacy);
        let page = match self.tasks.list(now_ms, owner.as_deref(), cursor) {
            Ok(p) => p,
            Err(_) => return self.reply_error(id, ErrorObject::invalid_params("invalid cursor")),
        };
        let r = tasks::ListTasksResult {
            tasks: page.tasks.iter().map(legacy_task).collect(),
            next_cursor: page.next_cursor,
            ..Default::default()
        };
        let _ = self.outbox.response(Route::Request(id.clone()), id, &r);
    }

    pub(super) fn answer_task_payload(
        &mut self,
        now: Instant,
        id: RequestId,
        task_id: String,
        incoming: Incoming,
    ) {
        let Some(task) = self.visible_task(now, &task_id, Era::Legacy) else {
            return self.reply_error(&id, unknown_task(&task_id));
        };
        if task.status.is_terminal() {
            return self.send_task_payload(&id, &task);
        }
        // Blocks until the task ends; answered from notify_task.
        self.incoming.insert(id.clone(), incoming);
        self.task_waiters.entry(task_id).or_default().push(id);
    }

    fn send_task_payload(&mut self, id: &RequestId, task: &TaskEntry) {
        let related = json!({ meta_keys::RELATED_TASK: { "taskId": task.id } });
        match &task.outcome {
            Some(TaskOutcome::Result(r)) => {
                let mut r = r.clone();
                if let Value::Object(o) = &mut r {
                    let m = o.entry("_meta").or_insert_with(|| json!({}));
                    if let (Value::Object(m), Value::Object(rel)) = (m, &related) {
                        m.extend(rel.clone());
                    }
                }
                let _ = self.outbox.response(Route::Request(id.clone()), id, &r);
            }
            Some(TaskOutcome::Error(e)) => {
                let mut e = e.clone();
                if e.data.is_none() {
                    e.data = Some(json!({ "_meta": related }));
                }
                self.reply_error(id, e);
            }
            None => {
                let e = ErrorObject::invalid_params(format!(
                    "task {} ended as {} without a result",
                    task.id,
                    task.status.as_str()
                ));
                self.reply_error(id, e);
            }
        }
    }
}

fn unknown_task(task_id: &str) -> ErrorObject {
    ErrorObject::invalid_params(format!("Failed to retrieve task: unknown task {task_id}"))
}

fn legacy_task(t: &TaskEntry) -> tasks::Task {
    let mut task = tasks::Task::new(
        t.id.clone(),
        t.status,
        crate::tasks::format_iso8601(t.created_ms),
        crate::tasks::format_iso8601(t.updated_ms),
        t.ttl_ms,
    );
    task.status_message = t.status_message.clone();
    task.poll_interval = Some(t.poll_interval_ms);
    task
}

fn ext_task(t: &TaskEntry) -> tasks_ext::Task {
    let mut task = tasks_ext::Task::new(
        t.id.clone(),
        t.status,
        crate::tasks::format_iso8601(t.created_ms),
        crate::tasks::format_iso8601(t.updated_ms),
        t.ttl_ms,
    );
    task.status_message = t.status_message.clone();
    task.poll_interval_ms = Some(t.poll_interval_ms);
    task
}

/// The extension's `DetailedTask` as JSON: the task plus input requests, result or error.
fn ext_detailed(t: &TaskEntry) -> Value {
    let mut v = serde_json::to_value(ext_task(t)).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        if t.status == tasks::TaskStatus::InputRequired && !t.input_requests.is_empty() {
            o.insert(
                "inputRequests".into(),
                serde_json::to_value(&t.input_requests).unwrap_or(Value::Null),
            );
        }
        match &t.outcome {
            Some(TaskOutcome::Result(r)) if t.status == tasks::TaskStatus::Completed => {
                o.insert("result".into(), r.clone());
            }
            Some(TaskOutcome::Error(e)) if t.status == tasks::TaskStatus::Failed => {
                o.insert(
                    "error".into(),
                    serde_json::to_value(e).unwrap_or(Value::Null),
                );
            }
            _ => {}
        }
    }
    v
}

fn task_usage(e: TaskError) -> UsageError {
    match e {
        TaskError::Unknown(id) => UsageError::NotAllowed(format!("unknown task {id}")),
        other => UsageError::NotAllowed(other.to_string()),
    }
}
