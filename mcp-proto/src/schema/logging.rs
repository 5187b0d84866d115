//! Logging: `logging/setLevel` (legacy) and `notifications/message`.
//!
//! In 2026-07-28 the level is chosen per request through
//! `_meta["io.modelcontextprotocol/logLevel"]` instead of `logging/setLevel`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{Extra, LoggingLevel, Meta};

/// Params of the legacy `logging/setLevel` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetLevelRequestParams {
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The lowest severity the client wants to receive.
    pub level: LoggingLevel,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SetLevelRequestParams {
    /// Params asking for messages at `level` and above.
    pub fn new(level: LoggingLevel) -> Self {
        SetLevelRequestParams {
            meta: None,
            level,
            extra: Extra::new(),
        }
    }
}

/// Params of `notifications/message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingMessageNotificationParams {
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Severity.
    pub level: LoggingLevel,
    /// Name of the logger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// The payload: a string or any JSON value.
    pub data: Value,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl LoggingMessageNotificationParams {
    /// A message at `level` carrying `data`.
    pub fn new(level: LoggingLevel, data: impl Into<Value>) -> Self {
        LoggingMessageNotificationParams {
            meta: None,
            level,
            logger: None,
            data: data.into(),
            extra: Extra::new(),
        }
    }
}
