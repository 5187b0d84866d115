//! Task commands and the `tasks/*` answers of [`ServerSession`].

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;

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
        if era == Era::Modern {
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
        let task = self
            .tasks
            .create(
                now,
                method::TOOLS_CALL,
                requested_ttl,
                self.entropy.as_mut(),
            )
            .map_err(|_| UsageError::Limit("max_tasks"))?
            .clone();
        let mut result = match era {
            Era::Legacy => {
                ServerResult::CreateTask(tasks::CreateTaskResult::new(self.legacy_task(&task)))
            }
            Era::Modern => {
                ServerResult::CreateTaskExt(tasks_ext::CreateTaskResult::new(self.ext_task(&task)))
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
        let tr = self
            .tasks
            .transition(now, task_id, status, message)
            .map_err(task_usage)?;
        self.after_transition(tr);
        Ok(())
    }

    /// Puts a 2026 task into `input_required` with the requests the client must answer with
    /// `tasks/update`.
    pub fn task_requires_input(
        &mut self,
        now: Instant,
        task_id: &str,
        input_requests: crate::schema::mrtr::InputRequests,
        message: Option<String>,
    ) -> Result<(), UsageError> {
        let v =
            serde_json::to_value(&input_requests).map_err(|e| UsageError::Encode(e.to_string()))?;
        let tr = self
            .tasks
            .require_input(now, task_id, v, message)
            .map_err(task_usage)?;
        self.after_transition(tr);
        Ok(())
    }

    /// Ends a task with the underlying request's result or error.
    pub fn finish_task(
        &mut self,
        now: Instant,
        task_id: &str,
        outcome: Result<ServerResult, ErrorObject>,
    ) -> Result<(), UsageError> {
        let outcome = match outcome {
            Ok(r) => TaskOutcome::Result(
                serde_json::to_value(&r).map_err(|e| UsageError::Encode(e.to_string()))?,
            ),
            Err(e) => TaskOutcome::Error(e),
        };
        let tr = self
            .tasks
            .finish(now, task_id, outcome)
            .map_err(task_usage)?;
        self.after_transition(tr);
        Ok(())
    }

    pub(super) fn after_transition(&mut self, tr: TaskTransition) {
        let Some(task) = self.tasks.get(&tr.task_id).cloned() else {
            return;
        };
        // Legacy status notification on the session channel.
        if self
            .legacy
            .as_ref()
            .is_some_and(|l| l.phase != Phase::AwaitingInitialize)
            && task.method == method::TOOLS_CALL
        {
            let p = serde_json::to_value(self.legacy_task(&task)).unwrap_or(Value::Null);
            let _ = self
                .outbox
                .notification(Route::Session, method::TASKS_STATUS, Some(&p));
        }
        // Extension notification on listen streams that asked for this task.
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
            let mut p = self.ext_detailed(&task);
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
        if tr.to.is_terminal() {
            self.task_progress.remove(&task.id);
            if let Some(waiters) = self.task_waiters.remove(&task.id) {
                for w in waiters {
                    self.incoming.remove(&w);
                    self.send_task_payload(&w, &task);
                }
            }
        }
        self.events.push_back(ServerEvent::Task(tr));
    }

    fn legacy_task(&self, t: &TaskEntry) -> tasks::Task {
        let clock = self.tasks.clock();
        let mut task = tasks::Task::new(
            t.id.clone(),
            t.status,
            clock.iso8601(t.created),
            clock.iso8601(t.updated),
            t.ttl.map(|d| d.as_millis() as u64),
        );
        task.status_message = t.status_message.clone();
        task.poll_interval = Some(t.poll_interval.as_millis() as u64);
        task
    }

    fn ext_task(&self, t: &TaskEntry) -> tasks_ext::Task {
        let clock = self.tasks.clock();
        let mut task = tasks_ext::Task::new(
            t.id.clone(),
            t.status,
            clock.iso8601(t.created),
            clock.iso8601(t.updated),
            t.ttl.map(|d| d.as_millis() as u64),
        );
        task.status_message = t.status_message.clone();
        task.poll_interval_ms = Some(t.poll_interval.as_millis() as u64);
        task
    }

    /// The extension's `DetailedTask` as JSON: the task plus input requests, result or error.
    fn ext_detailed(&self, t: &TaskEntry) -> Value {
        let mut v = serde_json::to_value(self.ext_task(t)).unwrap_or(Value::Null);
        if let Value::Object(o) = &mut v {
            if let Some(ir) = &t.input_requests {
                o.insert("inputRequests".into(), ir.clone());
            }
            match &t.outcome {
                Some(TaskOutcome::Result(r)) => {
                    o.insert("result".into(), r.clone());
                }
                Some(TaskOutcome::Error(e)) => {
                    o.insert(
                        "error".into(),
                        serde_json::to_value(e).unwrap_or(Value::Null),
                    );
                }
                None => {}
            }
        }
        v
    }

    pub(super) fn answer_get_task(&mut self, id: &RequestId, task_id: &str, era: Era) {
        let Some(task) = self.tasks.get(task_id).cloned() else {
            let e = ErrorObject::invalid_params(format!("unknown task {task_id}"));
            return self.reply_error(id, e);
        };
        let route = Route::Request(id.clone());
        match era {
            Era::Legacy => {
                let r = tasks::GetTaskResult::from(self.legacy_task(&task));
                let _ = self.outbox.response(route, id, &r);
            }
            Era::Modern => {
                let mut v = self.ext_detailed(&task);
                if let Value::Object(o) = &mut v {
                    o.insert("resultType".into(), "complete".into());
                    o.insert(
                        "_meta".into(),
                        json!({ meta_keys::SERVER_INFO: self.server_info_value }),
                    );
                }
                let _ = self.outbox.response(route, id, &v);
            }
        }
    }

    pub(super) fn answer_cancel_task(
        &mut self,
        now: Instant,
        id: &RequestId,
        task_id: &str,
        era: Era,
    ) {
        let Some(status) = self.tasks.get(task_id).map(|t| t.status) else {
            let e = ErrorObject::invalid_params(format!("unknown task {task_id}"));
            return self.reply_error(id, e);
        };
        if status.is_terminal() {
            let e = ErrorObject::invalid_params(format!(
                "task {task_id} is already {} and cannot be cancelled",
                status.as_str()
            ));
            return self.reply_error(id, e);
        }
        let Ok(tr) = self
            .tasks
            .transition(now, task_id, tasks::TaskStatus::Cancelled, None)
        else {
            return self.reply_error(id, ErrorObject::internal("task could not be cancelled"));
        };
        let route = Route::Request(id.clone());
        match era {
            Era::Legacy => {
                let task = self.tasks.get(task_id).cloned();
                if let Some(task) = task {
                    let r = tasks::GetTaskResult::from(self.legacy_task(&task));
                    let _ = self.outbox.response(route, id, &r);
                }
            }
            Era::Modern => {
                let mut r = ServerResult::Empty(EmptyResult::default());
                self.stamp(&mut r);
                let _ = self.outbox.response(route, id, &r);
            }
        }
        self.events.push_back(ServerEvent::TaskCancelRequested {
            task_id: task_id.to_owned(),
        });
        self.after_transition(tr);
    }

    pub(super) fn answer_list_tasks(&mut self, id: &RequestId, cursor: Option<&str>) {
        let page = match self.tasks.list(cursor) {
            Ok(p) => p,
            Err(_) => return self.reply_error(id, ErrorObject::invalid_params("invalid cursor")),
        };
        let tasks: Vec<tasks::Task> = page.0.iter().map(|t| self.legacy_task(t)).collect();
        let r = tasks::ListTasksResult {
            tasks,
            next_cursor: page.1,
            ..Default::default()
        };
        let _ = self.outbox.response(Route::Request(id.clone()), id, &r);
    }

    pub(super) fn answer_task_payload(
        &mut self,
        id: RequestId,
        task_id: String,
        incoming: Incoming,
    ) {
        let Some(task) = self.tasks.get(&task_id).cloned() else {
            let e = ErrorObject::invalid_params(format!("unknown task {task_id}"));
            return self.reply_error(&id, e);
        };
        if task.status.is_terminal() {
            return self.send_task_payload(&id, &task);
        }
        // Blocks until the task ends; answered from after_transition.
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

fn task_usage(e: TaskError) -> UsageError {
    match e {
        TaskError::Unknown(id) => UsageError::NotAllowed(format!("unknown task {id}")),
        other => UsageError::NotAllowed(other.to_string()),
    }
}
