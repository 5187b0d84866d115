//! Tasks as 2025-11-25 defines them (SEP-1686, experimental): `params.task` on a request makes
//! the receiver answer with a [`CreateTaskResult`] at once and run the work in the background;
//! the requestor polls with `tasks/get`, fetches the outcome with `tasks/result`, and may list
//! and cancel tasks.
//!
//! [`TaskStatus`] and its state machine are shared with the 2026 extension
//! ([`super::tasks_ext`]).

use serde::{Deserialize, Deserializer, Serialize};

use super::common::{meta_keys, Extra, Meta, ResultType};

/// Method name of `tasks/get`.
pub const METHOD_GET_TASK: &str = "tasks/get";
/// Method name of `tasks/result`.
pub const METHOD_GET_TASK_PAYLOAD: &str = "tasks/result";
/// Method name of `tasks/list`.
pub const METHOD_LIST_TASKS: &str = "tasks/list";
/// Method name of `tasks/cancel`.
pub const METHOD_CANCEL_TASK: &str = "tasks/cancel";
/// Method name of `notifications/tasks/status`.
pub const METHOD_TASK_STATUS: &str = "notifications/tasks/status";

/// Where a task is in its life.
///
/// `working` and `input_required` may move to each other and to any terminal state;
/// `completed`, `failed` and `cancelled` are terminal and never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Being processed (every task starts here).
    Working,
    /// Waiting for input from the requestor (elicitation, sampling ...).
    InputRequired,
    /// Finished; the result is available.
    Completed,
    /// Finished unsuccessfully.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl TaskStatus {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Working => "working",
            TaskStatus::InputRequired => "input_required",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the status is final (`completed`, `failed`, `cancelled`).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }

    /// Whether a task in this status may move to `next`.
    ///
    /// Staying in the same non-terminal status is not a transition and returns `false`.
    pub fn can_transition_to(self, next: TaskStatus) -> bool {
        match self {
            TaskStatus::Working => next != TaskStatus::Working,
            TaskStatus::InputRequired => next != TaskStatus::InputRequired,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled => false,
        }
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads a field that is `number | null` and keeps `null` apart from "absent" (absent is
/// handled by `#[serde(default)]`, which gives `None`).
pub(crate) fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

/// A task (2025-11-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Task id.
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
    /// Retention from creation in milliseconds: `Some(Some(ms))`, `Some(None)` for `null`
    /// (unlimited), `None` when absent (the spec requires it; kept absent for fidelity).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttl: Option<Option<u64>>,
    /// Suggested polling interval in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<u64>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Task {
    /// A task with the required fields; `ttl` `None` means unlimited (`null`).
    pub fn new(
        task_id: impl Into<String>,
        status: TaskStatus,
        created_at: impl Into<String>,
        last_updated_at: impl Into<String>,
        ttl: Option<u64>,
    ) -> Self {
        Task {
            task_id: task_id.into(),
            status,
            status_message: None,
            created_at: created_at.into(),
            last_updated_at: last_updated_at.into(),
            ttl: Some(ttl),
            poll_interval: None,
            extra: Extra::new(),
        }
    }

    /// The retention in milliseconds; `None` if unlimited or not given.
    pub fn ttl_ms(&self) -> Option<u64> {
        self.ttl.flatten()
    }
}

/// The immediate answer to a task-augmented request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTaskResult {
    /// The new task.
    pub task: Task,
    /// `_meta` (may carry `io.modelcontextprotocol/model-immediate-response`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType` (not used in 2025-11-25; kept for uniformity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CreateTaskResult {
    /// A result for `task`.
    pub fn new(task: Task) -> Self {
        CreateTaskResult {
            task,
            meta: None,
            result_type: None,
            extra: Extra::new(),
        }
    }

    /// `_meta["io.modelcontextprotocol/model-immediate-response"]`, if it is a string.
    pub fn model_immediate_response(&self) -> Option<&str> {
        self.meta
            .as_ref()?
            .get(meta_keys::MODEL_IMMEDIATE_RESPONSE)?
            .as_str()
    }
}

crate::impl_wire_result!(CreateTaskResult);

/// Params that name one task: shared shape of `tasks/get`, `tasks/result`, `tasks/cancel`.
macro_rules! task_id_params {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The task.
            pub task_id: String,
            /// `_meta`.
            #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
            pub meta: Option<Meta>,
            /// Unknown fields.
            #[serde(flatten)]
            pub extra: Extra,
        }

        impl $name {
            /// Params for this task id.
            pub fn new(task_id: impl Into<String>) -> Self {
                $name {
                    task_id: task_id.into(),
                    ..Default::default()
                }
            }
        }
    };
}

task_id_params!(
    /// Params of `tasks/get`.
    GetTaskRequestParams
);
task_id_params!(
    /// Params of `tasks/result`.
    GetTaskPayloadRequestParams
);
task_id_params!(
    /// Params of `tasks/cancel`.
    CancelTaskRequestParams
);

/// Defines a result that is `Result & Task`: the task's fields at the top level.
macro_rules! task_result {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        ///
        /// Unknown fields land in `task.extra`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The task, flattened into the result.
            #[serde(flatten)]
            pub task: Task,
            /// `_meta`.
            #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
            pub meta: Option<Meta>,
            /// `resultType` (not used in 2025-11-25; kept for uniformity).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub result_type: Option<ResultType>,
        }

        impl From<Task> for $name {
            fn from(task: Task) -> Self {
                $name {
                    task,
                    meta: None,
                    result_type: None,
                }
            }
        }

        crate::impl_wire_result!($name);
    };
}

task_result!(
    /// Answer to `tasks/get`: the task.
    GetTaskResult
);
task_result!(
    /// Answer to `tasks/cancel`: the task, now `cancelled`.
    CancelTaskResult
);

/// Answer to `tasks/result`: whatever the original request returns (e.g. a `CallToolResult`),
/// kept as fields; decode it with [`GetTaskPayloadResult::into_result`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskPayloadResult {
    /// `_meta` (must carry `io.modelcontextprotocol/related-task`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The fields of the underlying result.
    #[serde(flatten)]
    pub extra: Extra,
}

impl GetTaskPayloadResult {
    /// Wraps a concrete result (anything that serializes to an object).
    pub fn from_result<T: Serialize>(result: &T) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::to_value(result)?)
    }

    /// Decodes the payload as the result type of the original request.
    pub fn into_result<T: serde::de::DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        serde_json::from_value(serde_json::to_value(self)?)
    }
}

crate::impl_wire_result!(GetTaskPayloadResult);

/// Answer to `tasks/list` (params are [`PaginatedRequestParams`](super::common::PaginatedRequestParams)).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTasksResult {
    /// The tasks on this page.
    pub tasks: Vec<Task>,
    /// Cursor of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::impl_wire_result!(ListTasksResult);

/// Params of `notifications/tasks/status`: the task, flattened. Unknown fields land in
/// `task.extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStatusNotificationParams {
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl From<Task> for TaskStatusNotificationParams {
    fn from(task: Task) -> Self {
        TaskStatusNotificationParams { task, meta: None }
    }
}

/// `_meta["io.modelcontextprotocol/related-task"]`: ties a message to a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedTaskMetadata {
    /// The task.
    pub task_id: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl RelatedTaskMetadata {
    /// Metadata for this task id.
    pub fn new(task_id: impl Into<String>) -> Self {
        RelatedTaskMetadata {
            task_id: task_id.into(),
            extra: Extra::new(),
        }
    }

    /// Reads the related task from a `_meta`, if present and well-formed.
    pub fn from_meta(meta: &Meta) -> Option<Self> {
        serde_json::from_value(meta.get(meta_keys::RELATED_TASK)?.clone()).ok()
    }

    /// Writes this as the related task of a `_meta`.
    pub fn insert_into(&self, meta: &mut Meta) {
        if let Ok(v) = serde_json::to_value(self) {
            meta.insert(meta_keys::RELATED_TASK, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use TaskStatus::*;

    const ALL: [TaskStatus; 5] = [Working, InputRequired, Completed, Failed, Cancelled];

    #[test]
    fn terminal_states() {
        let terminal: Vec<_> = ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [Completed, Failed, Cancelled]);
    }

    #[test]
    fn transitions() {
        let legal = [
            (Working, InputRequired),
            (Working, Completed),
            (Working, Failed),
            (Working, Cancelled),
            (InputRequired, Working),
            (InputRequired, Completed),
            (InputRequired, Failed),
            (InputRequired, Cancelled),
        ];
        for from in ALL {
            for to in ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    legal.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn status_strings() {
        for s in ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
        }
    }

    #[test]
    fn ttl_null_absent_and_number_are_distinct() {
        let base =
            json!({"taskId": "t", "status": "working", "createdAt": "a", "lastUpdatedAt": "b"});
        let mut with_null = base.clone();
        with_null["ttl"] = Value::Null;
        let mut with_num = base.clone();
        with_num["ttl"] = json!(60000);
        for (v, want) in [
            (base, None),
            (with_null, Some(None)),
            (with_num, Some(Some(60000))),
        ] {
            let t: Task = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(t.ttl, want);
            assert_eq!(serde_json::to_value(&t).unwrap(), v);
        }
    }

    #[test]
    fn flattened_results_keep_unknown_fields_once() {
        let v = json!({"taskId": "t", "status": "cancelled", "createdAt": "a",
                       "lastUpdatedAt": "b", "ttl": null, "_meta": {"m": 1}, "x-extra": true});
        let r: CancelTaskResult = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.task.extra.len(), 1);
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }
}
