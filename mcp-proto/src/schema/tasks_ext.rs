//! The tasks extension `io.modelcontextprotocol/tasks` (2026-07-28, SEP-2663).
//!
//! A server that the client allowed to (by declaring the extension on the request) may answer
//! `tools/call` with a [`CreateTaskResult`] (`resultType: "task"`, the task flattened into the
//! result). The client then polls `tasks/get` for a [`DetailedTask`], answers its
//! `inputRequests` with `tasks/update`, and may `tasks/cancel`. Status updates arrive as
//! `notifications/tasks` on a `subscriptions/listen` stream.
//!
//! Names mirror the extension's schema, which is why this is a separate module from the
//! 2025-11-25 [`super::tasks`]; the status enum and its state machine are shared.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{EmptyResult, Extra, Meta, ResultType};
use super::mrtr::{InputRequests, InputResponses};
use super::tasks::nullable;
use crate::jsonrpc::ErrorObject;

pub use super::tasks::TaskStatus;

/// The extension identifier, the key under `capabilities.extensions`.
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/tasks";
/// Method name of `tasks/get`.
pub const METHOD_GET_TASK: &str = "tasks/get";
/// Method name of `tasks/update`.
pub const METHOD_UPDATE_TASK: &str = "tasks/update";
/// Method name of `tasks/cancel`.
pub const METHOD_CANCEL_TASK: &str = "tasks/cancel";
/// Method name of `notifications/tasks`.
pub const METHOD_TASK_STATUS: &str = "notifications/tasks";

/// A task (extension shape: durations are `ttlMs` / `pollIntervalMs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Task id (unguessable).
    pub task_id: String,
    /// Status.
    pub status: TaskStatus,
    /// Human-readable detail on the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 time of the last change.
    pub last_updated_at: String,
    /// Time to live from creation in milliseconds: `Some(Some(ms))`, `Some(None)` for `null`
    /// (unlimited), `None` when absent (the spec requires it; kept absent for fidelity).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttl_ms: Option<Option<u64>>,
    /// Suggested polling interval in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Task {
    /// A task with the required fields; `ttl_ms` `None` means unlimited (`null`).
    pub fn new(
        task_id: impl Into<String>,
        status: TaskStatus,
        created_at: impl Into<String>,
        last_updated_at: impl Into<String>,
        ttl_ms: Option<u64>,
    ) -> Self {
        Task {
            task_id: task_id.into(),
            status,
            status_message: None,
            created_at: created_at.into(),
            last_updated_at: last_updated_at.into(),
            ttl_ms: Some(ttl_ms),
            poll_interval_ms: None,
            extra: Extra::new(),
        }
    }

    /// The time to live in milliseconds; `None` if unlimited or not given.
    pub fn ttl(&self) -> Option<u64> {
        self.ttl_ms.flatten()
    }
}

/// A task with the fields its status calls for: `inputRequests` when `input_required`,
/// `result` when `completed`, `error` when `failed`.
///
/// One struct stands for the schema's `DetailedTask` union (`WorkingTask`, `InputRequiredTask`,
/// `CompletedTask`, `FailedTask`, `CancelledTask`), which differ only by `status` and these
/// fields; [`DetailedTask::is_consistent`] checks that they agree. Unknown fields land in
/// `task.extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailedTask {
    /// The common task fields, flattened.
    #[serde(flatten)]
    pub task: Task,
    /// Requests the client should answer with `tasks/update` (`input_required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// The final result of the original request, e.g. a `CallToolResult` (`completed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Map<String, Value>>,
    /// The JSON-RPC error the request ended with (`failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

impl DetailedTask {
    /// A `working` or `cancelled` task (no status-specific fields).
    pub fn plain(task: Task) -> Self {
        DetailedTask {
            task,
            input_requests: None,
            result: None,
            error: None,
        }
    }

    /// Sets status `input_required` with these requests.
    pub fn input_required(mut task: Task, requests: InputRequests) -> Self {
        task.status = TaskStatus::InputRequired;
        DetailedTask {
            input_requests: Some(requests),
            ..Self::plain(task)
        }
    }

    /// Sets status `completed` with the final result (anything that serializes to an object).
    pub fn completed<T: Serialize>(mut task: Task, result: &T) -> Result<Self, serde_json::Error> {
        task.status = TaskStatus::Completed;
        Ok(DetailedTask {
            result: Some(serde_json::from_value(serde_json::to_value(result)?)?),
            ..Self::plain(task)
        })
    }

    /// Sets status `failed` with the error.
    pub fn failed(mut task: Task, error: ErrorObject) -> Self {
        task.status = TaskStatus::Failed;
        DetailedTask {
            error: Some(error),
            ..Self::plain(task)
        }
    }

    /// Decodes `result` as the result type of the original request.
    pub fn result_as<T: serde::de::DeserializeOwned>(
        &self,
    ) -> Option<Result<T, serde_json::Error>> {
        let r = self.result.as_ref()?;
        Some(serde_json::from_value(Value::Object(r.clone())))
    }

    /// Whether exactly the field the status calls for is present.
    pub fn is_consistent(&self) -> bool {
        let (i, r, e) = (
            self.input_requests.is_some(),
            self.result.is_some(),
            self.error.is_some(),
        );
        match self.task.status {
            TaskStatus::Working | TaskStatus::Cancelled => !i && !r && !e,
            TaskStatus::InputRequired => i && !r && !e,
            TaskStatus::Completed => !i && r && !e,
            TaskStatus::Failed => !i && !r && e,
        }
    }
}

impl From<Task> for DetailedTask {
    fn from(task: Task) -> Self {
        DetailedTask::plain(task)
    }
}

/// Returned instead of the normal result when the server runs the request as a task:
/// `resultType: "task"` and the task's fields at the top level. Unknown fields land in
/// `task.extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTaskResult {
    /// The new task, flattened.
    #[serde(flatten)]
    pub task: Task,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType`: `"task"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
}

impl CreateTaskResult {
    /// The result for a new task, with `resultType: "task"`.
    pub fn new(task: Task) -> Self {
        CreateTaskResult {
            task,
            meta: None,
            result_type: Some(ResultType::Task),
        }
    }
}

crate::impl_wire_result!(CreateTaskResult);

/// Answer to `tasks/get`: the detailed task with `resultType: "complete"`. Unknown fields land
/// in `task.task.extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskResult {
    /// The task, flattened.
    #[serde(flatten)]
    pub task: DetailedTask,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType`: `"complete"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
}

impl GetTaskResult {
    /// The answer for this task, with `resultType: "complete"`.
    pub fn new(task: impl Into<DetailedTask>) -> Self {
        GetTaskResult {
            task: task.into(),
            meta: None,
            result_type: Some(ResultType::Complete),
        }
    }
}

crate::impl_wire_result!(GetTaskResult);

/// Params of `tasks/get`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskRequestParams {
    /// The task.
    pub task_id: String,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl GetTaskRequestParams {
    /// Params for this task id.
    pub fn new(task_id: impl Into<String>) -> Self {
        GetTaskRequestParams {
            task_id: task_id.into(),
            ..Default::default()
        }
    }
}

/// Params of `tasks/update`: answers to the task's outstanding `inputRequests`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTaskRequestParams {
    /// The task.
    pub task_id: String,
    /// Answers keyed as the task's `inputRequests`.
    pub input_responses: InputResponses,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl UpdateTaskRequestParams {
    /// Params sending these responses to this task.
    pub fn new(task_id: impl Into<String>, input_responses: InputResponses) -> Self {
        UpdateTaskRequestParams {
            task_id: task_id.into(),
            input_responses,
            ..Default::default()
        }
    }
}

/// Params of `tasks/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTaskRequestParams {
    /// The task.
    pub task_id: String,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CancelTaskRequestParams {
    /// Params for this task id.
    pub fn new(task_id: impl Into<String>) -> Self {
        CancelTaskRequestParams {
            task_id: task_id.into(),
            ..Default::default()
        }
    }
}

/// Answer to `tasks/update`: an empty acknowledgement with `resultType: "complete"`.
pub type UpdateTaskResult = EmptyResult;

/// Answer to `tasks/cancel`: an empty acknowledgement with `resultType: "complete"`.
pub type CancelTaskResult = EmptyResult;

/// The acknowledgement `tasks/update` and `tasks/cancel` return (`{"resultType":"complete"}`).
pub fn ack() -> EmptyResult {
    EmptyResult {
        result_type: Some(ResultType::Complete),
        ..Default::default()
    }
}

/// Params of `notifications/tasks`: the full detailed task, as `tasks/get` would return it.
/// Unknown fields land in `task.task.extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStatusNotificationParams {
    /// The task, flattened.
    #[serde(flatten)]
    pub task: DetailedTask,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl From<DetailedTask> for TaskStatusNotificationParams {
    fn from(task: DetailedTask) -> Self {
        TaskStatusNotificationParams { task, meta: None }
    }
}

/// What the extension adds to the `notifications` filter of `subscriptions/listen`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSubscriptionNotifications {
    /// Tasks whose `notifications/tasks` the client wants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_ids: Option<Vec<String>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What the extension adds to `notifications/subscriptions/acknowledged`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSubscriptionAcknowledgedNotifications {
    /// Tasks the server agreed to report on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_ids: Option<Vec<String>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The extension's capability value (`{}`: no settings are defined yet).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TasksExtensionCapability {
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detailed_task_consistency() {
        let t = Task::new("t", TaskStatus::Working, "a", "b", None);
        assert!(DetailedTask::plain(t.clone()).is_consistent());
        let f = DetailedTask::failed(t.clone(), ErrorObject::internal("boom"));
        assert!(f.is_consistent());
        let c = DetailedTask::completed(t.clone(), &json!({"content": []})).unwrap();
        assert!(c.is_consistent());
        let mut wrong = c.clone();
        wrong.task.status = TaskStatus::Failed;
        assert!(!wrong.is_consistent());
        let v = serde_json::to_value(GetTaskResult::new(c)).unwrap();
        assert_eq!(v["resultType"], "complete");
        assert_eq!(v["status"], "completed");
        assert_eq!(v["ttlMs"], Value::Null);
        assert_eq!(v["result"], json!({"content": []}));
    }

    #[test]
    fn create_task_result_is_flat() {
        let r = CreateTaskResult::new(Task::new("t", TaskStatus::Working, "a", "b", Some(5)));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            json!({"resultType": "task", "taskId": "t", "status": "working",
                   "createdAt": "a", "lastUpdatedAt": "b", "ttlMs": 5})
        );
        assert_eq!(
            serde_json::to_value(ack()).unwrap(),
            json!({"resultType": "complete"})
        );
    }
}
