//! Types shared by every area: `_meta`, implementation info, icons, annotations, pagination.
//!
//! Conventions for every wire type in [`crate::schema`]:
//! - field names follow the schema (`camelCase`), optional fields are `Option` and skipped when
//!   `None`;
//! - `_meta` is a [`Meta`], kept verbatim;
//! - fields we do not know land in `extra` and are written back, so a message survives a round
//!   trip through our types unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jsonrpc::ProgressToken;

/// Fields this crate does not model, preserved for re-encoding.
pub type Extra = Map<String, Value>;

/// Well-known `_meta` keys.
pub mod meta_keys {
    /// Per-request protocol version (2026-07-28).
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// Per-request client capabilities (2026-07-28).
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// Per-request client info (2026-07-28).
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// Per-request log level opt-in (2026-07-28, deprecated).
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// Server info on results (2026-07-28).
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// Subscription id on listen-stream notifications (2026-07-28).
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
    /// Progress opt-in (both eras).
    pub const PROGRESS_TOKEN: &str = "progressToken";
    /// Related task (2025-11-25 tasks).
    pub const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";
    /// Non-binding immediate response for a created task (2025-11-25 tasks).
    pub const MODEL_IMMEDIATE_RESPONSE: &str = "io.modelcontextprotocol/model-immediate-response";
}

/// The `_meta` object: an open map with typed accessors for the keys MCP defines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Meta(pub Map<String, Value>);

impl Meta {
    /// An empty `_meta`.
    pub fn new() -> Self {
        Meta(Map::new())
    }

    /// Raw access to a key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Sets a key, returning the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.0.insert(key.into(), value)
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key)
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `progressToken`, when present and well-formed.
    pub fn progress_token(&self) -> Option<ProgressToken> {
        self.0
            .get(meta_keys::PROGRESS_TOKEN)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Sets `progressToken`.
    pub fn set_progress_token(&mut self, token: ProgressToken) {
        self.0.insert(
            meta_keys::PROGRESS_TOKEN.into(),
            serde_json::to_value(token).unwrap_or(Value::Null),
        );
    }

    /// `io.modelcontextprotocol/protocolVersion` (raw: it may not be a string).
    pub fn protocol_version(&self) -> Option<&Value> {
        self.0.get(meta_keys::PROTOCOL_VERSION)
    }
}

/// The kind of a result (2026-07-28 `resultType`); absent means [`ResultType::Complete`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultType {
    /// The request is done.
    Complete,
    /// The server needs input first (MRTR).
    InputRequired,
    /// A task was created (tasks extension).
    Task,
    /// A value from an extension.
    Other(String),
}

impl ResultType {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            ResultType::Complete => "complete",
            ResultType::InputRequired => "input_required",
            ResultType::Task => "task",
            ResultType::Other(s) => s,
        }
    }
}

impl Serialize for ResultType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(match &*s {
            "complete" => ResultType::Complete,
            "input_required" => ResultType::InputRequired,
            "task" => ResultType::Task,
            _ => ResultType::Other(s.into_owned()),
        })
    }
}

/// Access to the fields every result shares, so the session can stamp `resultType` and
/// `_meta` (e.g. `serverInfo`) without knowing the concrete result.
pub trait WireResult {
    /// The `resultType` slot.
    fn result_type_mut(&mut self) -> &mut Option<ResultType>;
    /// The `_meta` slot.
    fn meta_mut(&mut self) -> &mut Option<Meta>;
}

/// Implements [`WireResult`] for structs with `result_type` and `meta` fields.
#[macro_export]
#[doc(hidden)]
macro_rules! impl_wire_result {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::schema::common::WireResult for $t {
            fn result_type_mut(&mut self) -> &mut Option<$crate::schema::common::ResultType> {
                &mut self.result_type
            }
            fn meta_mut(&mut self) -> &mut Option<$crate::schema::common::Meta> {
                &mut self.meta
            }
        }
    )*};
}

/// A result with no content beyond `_meta`/`resultType` (`{}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyResult {
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType` (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params that carry nothing but `_meta` (ping, list_changed notifications, discover ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestParams {
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of the paginated list requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaginatedRequestParams {
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Opaque cursor from a previous page; the empty string is a valid cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An icon (2025-11-25+).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Icon {
    /// URI of the icon (https or data:).
    pub src: String,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Sizes such as `"48x48"` or `"any"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Vec<String>>,
    /// `"light"` or `"dark"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Name and version of a client or server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// Programmatic name.
    pub name: String,
    /// Version string.
    pub version: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Icons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Implementation {
    /// Name and version, nothing else.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Implementation {
            name: name.into(),
            version: version.into(),
            ..Default::default()
        }
    }
}

/// Who a message is for or from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user.
    User,
    /// The assistant.
    Assistant,
}

/// Hints about how content is used or shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// Intended audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<Role>>,
    /// 0 (least) to 1 (most important).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<f64>,
    /// ISO 8601 timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Syslog severities used by logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoggingLevel {
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Notice.
    Notice,
    /// Warning.
    Warning,
    /// Error.
    Error,
    /// Critical.
    Critical,
    /// Alert.
    Alert,
    /// Emergency.
    Emergency,
}

impl_wire_result!(EmptyResult);

/// Who may share a cached result (2026-07-28 caching hints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// Any cache may hold it.
    Public,
    /// Only caches private to one authorization context.
    Private,
}

/// `params.task` on a task-augmented request (2025-11-25, SEP-1686).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskMetadata {
    /// Requested time-to-live in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}
