//! Typed `data` payloads of the MCP-specific errors, and constructors for the error objects.
//!
//! The codes live in [`crate::jsonrpc::code`]. [`typed_data`] reads a payload back out of a
//! received [`ErrorObject`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::Extra;
use super::elicitation::ElicitRequestURLParams;
use super::lifecycle::ClientCapabilities;
use super::version::Era;
use crate::jsonrpc::{code, ErrorObject};

/// `data` of an unsupported-protocol-version error: -32022 in 2026-07-28, -32602 from a
/// legacy `initialize`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnsupportedProtocolVersionData {
    /// Versions the server speaks; the client should retry with one of them.
    pub supported: Vec<String>,
    /// The version the client asked for.
    pub requested: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `data` of a missing-required-client-capability error (-32021, 2026-07-28).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingRequiredClientCapabilityData {
    /// The capabilities the request needs from the client.
    pub required_capabilities: ClientCapabilities,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `data` of a URL-elicitation-required error (-32042, 2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct URLElicitationRequiredData {
    /// The URL elicitations to complete before retrying.
    pub elicitations: Vec<ElicitRequestURLParams>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `data` of a resource-not-found error (-32002 in legacy versions, -32602 in 2026-07-28).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceNotFoundData {
    /// The URI that was not found.
    pub uri: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

fn with_typed_data<T: Serialize>(error: ErrorObject, data: &T) -> ErrorObject {
    error.with_data(serde_json::to_value(data).unwrap_or(Value::Null))
}

/// Reads `data` of `error` as `T`, if the code is `code` and the payload has that shape.
pub fn typed_data<T: DeserializeOwned>(error: &ErrorObject, code: i64) -> Option<T> {
    if error.code != code {
        return None;
    }
    error.data.as_ref().and_then(|d| T::deserialize(d).ok())
}

/// The requested protocol version is not supported: -32022 (modern) or -32602 (legacy
/// `initialize`), with `data: {supported, requested}`.
pub fn unsupported_protocol_version(
    era: Era,
    requested: impl Into<String>,
    supported: Vec<String>,
) -> ErrorObject {
    let code = match era {
        Era::Modern => code::UNSUPPORTED_PROTOCOL_VERSION,
        Era::Legacy => code::INVALID_PARAMS,
    };
    let data = UnsupportedProtocolVersionData {
        supported,
        requested: requested.into(),
        extra: Extra::new(),
    };
    with_typed_data(
        ErrorObject::new(code, "Unsupported protocol version"),
        &data,
    )
}

/// The request needs client capabilities it did not declare: -32021 with
/// `data: {requiredCapabilities}` (2026-07-28).
pub fn missing_required_client_capability(
    message: impl Into<String>,
    required: ClientCapabilities,
) -> ErrorObject {
    let data = MissingRequiredClientCapabilityData {
        required_capabilities: required,
        extra: Extra::new(),
    };
    with_typed_data(
        ErrorObject::new(code::MISSING_REQUIRED_CLIENT_CAPABILITY, message),
        &data,
    )
}

/// An HTTP header disagrees with the body, or a required header is missing or malformed:
/// -32020, no `data` (2026-07-28).
pub fn header_mismatch(message: impl Into<String>) -> ErrorObject {
    ErrorObject::new(code::HEADER_MISMATCH, message)
}

/// URL-mode elicitation must happen first: -32042 with `data: {elicitations}` (2025-11-25
/// only; later versions use MRTR instead).
pub fn url_elicitation_required(
    message: impl Into<String>,
    elicitations: Vec<ElicitRequestURLParams>,
) -> ErrorObject {
    let data = URLElicitationRequiredData {
        elicitations,
        extra: Extra::new(),
    };
    with_typed_data(
        ErrorObject::new(code::URL_ELICITATION_REQUIRED, message),
        &data,
    )
}

/// The resource does not exist: -32002 (legacy) or -32602 (2026-07-28), with `data: {uri}`.
pub fn resource_not_found(era: Era, uri: impl Into<String>) -> ErrorObject {
    let code = match era {
        Era::Modern => code::INVALID_PARAMS,
        Era::Legacy => code::RESOURCE_NOT_FOUND,
    };
    let data = ResourceNotFoundData {
        uri: uri.into(),
        extra: Extra::new(),
    };
    with_typed_data(ErrorObject::new(code, "Resource not found"), &data)
}
