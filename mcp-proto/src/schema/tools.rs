//! Tools: `tools/list` and `tools/call`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::common::{CacheScope, Extra, Icon, Meta, ResultType, TaskMetadata};
use super::content::ContentBlock;
use super::mrtr::InputResponses;

/// A tool the client can call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// Programmatic name.
    pub name: String,
    /// Display name (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does; a hint to the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments (`type: "object"` at the root; any 2020-12 keyword).
    pub input_schema: Value,
    /// JSON Schema of `structuredContent` (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Behaviour hints (2025-03-26+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Execution properties (2025-11-25 tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<ToolExecution>,
    /// Icons (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Tool {
    /// A tool with a name, a description and the JSON Schema of its arguments.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Tool {
            name: name.into(),
            description: Some(description.into()),
            input_schema,
            ..Default::default()
        }
    }
}

/// Hints about a tool's behaviour. Untrusted unless the server is trusted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may destroy data, when not read-only (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Repeating a call has no further effect, when not read-only (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool reaches an open world of external entities (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `execution` of a [`Tool`] (2025-11-25 tasks).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// Whether calls may be task-augmented; absent means forbidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<TaskSupport>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Whether a tool supports task-augmented calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskSupport {
    /// Never as a task (the default).
    #[default]
    Forbidden,
    /// Either way.
    Optional,
    /// Only as a task.
    Required,
}

/// The result of `tools/list` (paginated; cacheable in 2026-07-28).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType` (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// This page of tools.
    pub tools: Vec<Tool>,
    /// Cursor for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// How long the result may be cached, in milliseconds (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// Who may share the cached result (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of `tools/call`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolRequestParams {
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The tool's name.
    pub name: String,
    /// The arguments, an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Map<String, Value>>,
    /// Run as a task (2025-11-25 tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Answers to the server's input requests when retrying (2026-07-28 MRTR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// Opaque state echoed back when retrying (2026-07-28 MRTR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CallToolRequestParams {
    /// Calls `name` with `arguments` (`None` sends no `arguments` member).
    pub fn new(name: impl Into<String>, arguments: Option<Map<String, Value>>) -> Self {
        CallToolRequestParams {
            name: name.into(),
            arguments,
            ..Default::default()
        }
    }
}

/// The result of `tools/call`. Tool failures are reported here with `isError: true`, not as
/// JSON-RPC errors, so the model can see them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType` (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Unstructured result.
    pub content: Vec<ContentBlock>,
    /// Structured result (2025-06-18+): an object up to 2025-11-25, any JSON value in
    /// 2026-07-28. A present `null` is kept as `Some(Value::Null)`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub structured_content: Option<Value>,
    /// Whether the tool failed (absent means false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CallToolResult {
    /// A successful result with the given content.
    pub fn new(content: Vec<ContentBlock>) -> Self {
        CallToolResult {
            content,
            ..Default::default()
        }
    }

    /// A successful result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(vec![ContentBlock::text(text)])
    }

    /// A failed result (`isError: true`) with one text block describing the failure.
    pub fn error_text(text: impl Into<String>) -> Self {
        CallToolResult {
            is_error: Some(true),
            ..Self::text(text)
        }
    }

    /// A successful structured result, also serialized as JSON into one text block for
    /// clients that read only `content`.
    pub fn structured(value: Value) -> Self {
        CallToolResult {
            content: vec![ContentBlock::text(value.to_string())],
            structured_content: Some(value),
            ..Default::default()
        }
    }
}

impl CallToolResult {
    /// The structured content as a `T`: what a typed client reads from a tool with an output
    /// schema. A failed call (`isError: true`), a result without structured content, and
    /// content of another shape are each their own [`StructuredError`]; the text blocks are
    /// never parsed in place of structured content.
    ///
    /// ```
    /// # use mcp_proto::schema::tools::{CallToolResult, StructuredError};
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct Sum { sum: i64 }
    ///
    /// let result = CallToolResult::structured(serde_json::json!({"sum": 5}));
    /// assert_eq!(result.structured_as::<Sum>()?, Sum { sum: 5 });
    /// # Ok::<(), StructuredError>(())
    /// ```
    pub fn structured_as<T: DeserializeOwned>(&self) -> Result<T, StructuredError> {
        if self.is_error == Some(true) {
            let text: Vec<&str> = self.content.iter().filter_map(|c| c.as_text()).collect();
            return Err(StructuredError::ToolFailed(text.join("\n")));
        }
        let value = self
            .structured_content
            .as_ref()
            .ok_or(StructuredError::Missing)?;
        T::deserialize(value).map_err(|source| StructuredError::Mismatch {
            expected: std::any::type_name::<T>(),
            source,
        })
    }
}

/// Why [`CallToolResult::structured_as`] has no `T` to give.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StructuredError {
    /// The tool reported a failure (`isError: true`); its text content, joined by newlines.
    #[error("the tool failed: {0}")]
    ToolFailed(String),
    /// The result has no `structuredContent` (the tool declares no output schema, or the
    /// server predates 2025-06-18).
    #[error("the tool result has no structured content")]
    Missing,
    /// The structured content does not deserialize as the type asked for.
    #[error("the structured content is not a {expected}: {source}")]
    Mismatch {
        /// The Rust type asked for.
        expected: &'static str,
        /// What serde found wrong.
        source: serde_json::Error,
    },
}

/// Keeps a present `null` apart from an absent member.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

crate::impl_wire_result!(ListToolsResult, CallToolResult);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Sum {
        sum: i64,
    }

    #[test]
    fn structured_content_reads_as_the_type_asked_for() {
        let r = CallToolResult::structured(json!({"sum": 5}));
        assert_eq!(r.structured_as::<Sum>().unwrap(), Sum { sum: 5 });
        // 2026-07-28 allows any JSON value, not only objects.
        let r = CallToolResult::structured(json!([1, 2]));
        assert_eq!(r.structured_as::<Vec<u8>>().unwrap(), vec![1, 2]);
    }

    #[test]
    fn a_shape_mismatch_names_the_type_and_the_fault() {
        let r = CallToolResult::structured(json!({"total": 5}));
        let e = r.structured_as::<Sum>().unwrap_err();
        let StructuredError::Mismatch { expected, .. } = &e else {
            panic!("{e:?}");
        };
        assert!(expected.ends_with("Sum"), "{expected}");
        let text = e.to_string();
        assert!(
            text.contains("Sum") && text.contains("missing field `sum`"),
            "{text}"
        );
    }

    #[test]
    fn text_only_and_failed_results_are_not_parsed() {
        // JSON in a text block is not taken for structured content.
        let r = CallToolResult::text(r#"{"sum": 5}"#);
        assert!(matches!(
            r.structured_as::<Sum>(),
            Err(StructuredError::Missing)
        ));
        let mut r = CallToolResult::error_text("division by zero");
        r.structured_content = Some(json!({"sum": 0}));
        match r.structured_as::<Sum>() {
            Err(StructuredError::ToolFailed(text)) => assert_eq!(text, "division by zero"),
            other => panic!("{other:?}"),
        }
    }
}
