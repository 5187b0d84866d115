//! `roots/list`: the directories and files the client lets the server work on.
//!
//! The request's params are just [`RequestParams`](super::common::RequestParams) (and may be
//! absent). Deprecated in 2026-07-28, where it travels inside `InputRequiredResult`.

use serde::{Deserialize, Serialize};

use super::common::{Extra, Meta, ResultType};

/// Method name of the roots request.
pub const METHOD_LIST_ROOTS: &str = "roots/list";
/// Method name of the roots change notification (legacy era).
pub const METHOD_ROOTS_LIST_CHANGED: &str = "notifications/roots/list_changed";

/// A root: a `file://` URI and an optional display name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Root {
    /// The URI (currently always `file://`).
    pub uri: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Root {
    /// A root with a URI and a name.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Root {
            uri: uri.into(),
            name: Some(name.into()),
            ..Default::default()
        }
    }
}

/// The client's answer to `roots/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRootsResult {
    /// The roots.
    pub roots: Vec<Root>,
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

impl ListRootsResult {
    /// A result listing these roots.
    pub fn new(roots: Vec<Root>) -> Self {
        ListRootsResult {
            roots,
            ..Default::default()
        }
    }
}

crate::impl_wire_result!(ListRootsResult);
