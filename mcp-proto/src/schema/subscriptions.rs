//! `subscriptions/listen` (2026-07-28): the long-lived stream that replaces the legacy GET
//! stream and `resources/subscribe`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{meta_keys, Extra, Meta, ResultType};
use crate::jsonrpc::RequestId;

/// Which notifications a listen stream carries. Every kind is opt-in.
///
/// Used both for what the client asks for and for what the server agreed to honour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// `notifications/resources/updated` for these URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
    /// `notifications/tasks` for these task ids (tasks extension,
    /// `io.modelcontextprotocol/tasks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_ids: Option<Vec<String>>,
    /// Unknown fields (other extensions' filters).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Params of `subscriptions/listen`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsListenRequestParams {
    /// `_meta` (the per-request protocol version, capabilities, client info).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The notifications asked for.
    pub notifications: SubscriptionFilter,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SubscriptionsListenRequestParams {
    /// Listens for the notifications in `filter`.
    pub fn new(filter: SubscriptionFilter) -> Self {
        SubscriptionsListenRequestParams {
            meta: None,
            notifications: filter,
            extra: Extra::new(),
        }
    }
}

/// Params of `notifications/subscriptions/acknowledged`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsAcknowledgedNotificationParams {
    /// `_meta` (carries `io.modelcontextprotocol/subscriptionId`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The subset of the requested notifications the server will send.
    pub notifications: SubscriptionFilter,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SubscriptionsAcknowledgedNotificationParams {
    /// Acknowledges the subscription opened by request `subscription_id`, honouring `filter`.
    pub fn new(subscription_id: &RequestId, filter: SubscriptionFilter) -> Self {
        SubscriptionsAcknowledgedNotificationParams {
            meta: Some(subscription_meta(subscription_id)),
            notifications: filter,
            extra: Extra::new(),
        }
    }
}

/// The result of `subscriptions/listen`, sent only when the server ends the stream gracefully.
/// `_meta` must carry `io.modelcontextprotocol/subscriptionId`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsListenResult {
    /// `_meta` (required on the wire; carries `io.modelcontextprotocol/subscriptionId`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SubscriptionsListenResult {
    /// Closes the subscription opened by request `subscription_id`.
    pub fn closed(subscription_id: &RequestId) -> Self {
        SubscriptionsListenResult {
            meta: Some(subscription_meta(subscription_id)),
            result_type: Some(ResultType::Complete),
            extra: Extra::new(),
        }
    }
}

fn subscription_meta(subscription_id: &RequestId) -> Meta {
    let mut meta = Meta::new();
    meta.insert(
        meta_keys::SUBSCRIPTION_ID,
        serde_json::to_value(subscription_id).unwrap_or(Value::Null),
    );
    meta
}

crate::impl_wire_result!(SubscriptionsListenResult);
