//! Multi round-trip requests (2026-07-28, MRTR).
//!
//! Instead of sending requests of its own, a server answers `tools/call`, `prompts/get` or
//! `resources/read` with an [`InputRequiredResult`] listing [`InputRequests`]; the client
//! fulfils them and retries the original request with the matching [`InputResponses`] (and the
//! opaque `requestState`). The tasks extension reuses both maps for `tasks/get` and
//! `tasks/update`.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{Extra, Meta, RequestParams, ResultType};
use super::elicitation::{ElicitRequestParams, ElicitResult, METHOD_ELICIT};
use super::roots::{ListRootsResult, METHOD_LIST_ROOTS};
use super::sampling::{CreateMessageRequestParams, CreateMessageResult, METHOD_CREATE_MESSAGE};

/// Server-assigned key → request the client must fulfil.
pub type InputRequests = BTreeMap<String, InputRequest>;

/// Key (from [`InputRequests`]) → the client's result for that request.
pub type InputResponses = BTreeMap<String, InputResponse>;

/// One embedded server request: `{method, params}`, without `jsonrpc` or `id`.
///
/// Keys other than `method` and `params` are not kept.
#[derive(Debug, Clone, PartialEq)]
pub enum InputRequest {
    /// `elicitation/create`.
    Elicit(ElicitRequestParams),
    /// `sampling/createMessage` (deprecated).
    CreateMessage(CreateMessageRequestParams),
    /// `roots/list` (deprecated); `params` may be absent.
    ListRoots(Option<RequestParams>),
    /// A method this crate does not know, verbatim.
    Other {
        /// The method.
        method: String,
        /// The params, if any.
        params: Option<Value>,
    },
}

impl InputRequest {
    /// The method name.
    pub fn method(&self) -> &str {
        match self {
            InputRequest::Elicit(_) => METHOD_ELICIT,
            InputRequest::CreateMessage(_) => METHOD_CREATE_MESSAGE,
            InputRequest::ListRoots(_) => METHOD_LIST_ROOTS,
            InputRequest::Other { method, .. } => method,
        }
    }

    /// A `roots/list` request without params.
    pub fn list_roots() -> Self {
        InputRequest::ListRoots(None)
    }
}

impl From<ElicitRequestParams> for InputRequest {
    fn from(p: ElicitRequestParams) -> Self {
        InputRequest::Elicit(p)
    }
}

impl From<CreateMessageRequestParams> for InputRequest {
    fn from(p: CreateMessageRequestParams) -> Self {
        InputRequest::CreateMessage(p)
    }
}

impl Serialize for InputRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let has_params = match self {
            InputRequest::ListRoots(p) => p.is_some(),
            InputRequest::Other { params, .. } => params.is_some(),
            _ => true,
        };
        let mut map = s.serialize_map(Some(1 + usize::from(has_params)))?;
        map.serialize_entry("method", self.method())?;
        match self {
            InputRequest::Elicit(p) => map.serialize_entry("params", p)?,
            InputRequest::CreateMessage(p) => map.serialize_entry("params", p)?,
            InputRequest::ListRoots(Some(p)) => map.serialize_entry("params", p)?,
            InputRequest::Other {
                params: Some(p), ..
            } => map.serialize_entry("params", p)?,
            _ => {}
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for InputRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            method: String,
            #[serde(default)]
            params: Option<Value>,
        }
        let Raw { method, params } = Raw::deserialize(d)?;
        fn decode<T: de::DeserializeOwned, E: de::Error>(
            method: &str,
            params: Option<Value>,
        ) -> Result<T, E> {
            let params = params.ok_or_else(|| E::custom(format!("{method}: missing params")))?;
            serde_json::from_value(params).map_err(|e| E::custom(format!("{method}: {e}")))
        }
        Ok(match method.as_str() {
            METHOD_ELICIT => InputRequest::Elicit(decode(&method, params)?),
            METHOD_CREATE_MESSAGE => InputRequest::CreateMessage(decode(&method, params)?),
            METHOD_LIST_ROOTS => InputRequest::ListRoots(match params {
                None => None,
                Some(p) => Some(decode(&method, Some(p))?),
            }),
            _ => InputRequest::Other { method, params },
        })
    }
}

/// The client's result for one [`InputRequest`].
///
/// The wire carries no tag; the shape is recognised by its keys: `action` → elicitation,
/// `roots` → roots, `model` (or `role` with `content`) → sampling. An object with none of these
/// is kept as [`InputResponse::Other`]; one that has the key but is malformed is an error.
// Wire values are built once and moved rarely; boxing would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum InputResponse {
    /// Answer to `elicitation/create`.
    Elicit(ElicitResult),
    /// Answer to `sampling/createMessage`.
    CreateMessage(CreateMessageResult),
    /// Answer to `roots/list`.
    ListRoots(ListRootsResult),
    /// Something else, verbatim.
    Other(Value),
}

impl InputResponse {
    /// The elicitation result, if this is one.
    pub fn as_elicit(&self) -> Option<&ElicitResult> {
        match self {
            InputResponse::Elicit(r) => Some(r),
            _ => None,
        }
    }

    /// The sampling result, if this is one.
    pub fn as_create_message(&self) -> Option<&CreateMessageResult> {
        match self {
            InputResponse::CreateMessage(r) => Some(r),
            _ => None,
        }
    }

    /// The roots result, if this is one.
    pub fn as_list_roots(&self) -> Option<&ListRootsResult> {
        match self {
            InputResponse::ListRoots(r) => Some(r),
            _ => None,
        }
    }

    /// Whether this is the kind of result `request` asks for.
    pub fn answers(&self, request: &InputRequest) -> bool {
        matches!(
            (self, request),
            (InputResponse::Elicit(_), InputRequest::Elicit(_))
                | (
                    InputResponse::CreateMessage(_),
                    InputRequest::CreateMessage(_)
                )
                | (InputResponse::ListRoots(_), InputRequest::ListRoots(_))
                | (InputResponse::Other(_), InputRequest::Other { .. })
        )
    }
}

impl From<ElicitResult> for InputResponse {
    fn from(r: ElicitResult) -> Self {
        InputResponse::Elicit(r)
    }
}

impl From<CreateMessageResult> for InputResponse {
    fn from(r: CreateMessageResult) -> Self {
        InputResponse::CreateMessage(r)
    }
}

impl From<ListRootsResult> for InputResponse {
    fn from(r: ListRootsResult) -> Self {
        InputResponse::ListRoots(r)
    }
}

impl Serialize for InputResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            InputResponse::Elicit(r) => r.serialize(s),
            InputResponse::CreateMessage(r) => r.serialize(s),
            InputResponse::ListRoots(r) => r.serialize(s),
            InputResponse::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for InputResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let Some(obj) = value.as_object() else {
            return Ok(InputResponse::Other(value));
        };
        fn decode<T: de::DeserializeOwned, E: de::Error>(kind: &str, v: Value) -> Result<T, E> {
            serde_json::from_value(v).map_err(|e| E::custom(format!("{kind}: {e}")))
        }
        if obj.contains_key("action") {
            decode("ElicitResult", value).map(InputResponse::Elicit)
        } else if obj.contains_key("roots") {
            decode("ListRootsResult", value).map(InputResponse::ListRoots)
        } else if obj.contains_key("model")
            || (obj.contains_key("role") && obj.contains_key("content"))
        {
            decode("CreateMessageResult", value).map(InputResponse::CreateMessage)
        } else {
            Ok(InputResponse::Other(value))
        }
    }
}

/// The server needs input before it can finish the request (`resultType: "input_required"`).
///
/// At least one of `inputRequests` and `requestState` must be present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// Requests the client must fulfil before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// Opaque state to send back with the retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType`: `"input_required"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl InputRequiredResult {
    /// An empty result with `resultType: "input_required"`; add requests and/or state.
    pub fn new() -> Self {
        InputRequiredResult {
            result_type: Some(ResultType::InputRequired),
            ..Default::default()
        }
    }

    /// Adds an input request under `key`.
    pub fn with_request(
        mut self,
        key: impl Into<String>,
        request: impl Into<InputRequest>,
    ) -> Self {
        self.input_requests
            .get_or_insert_with(InputRequests::new)
            .insert(key.into(), request.into());
        self
    }

    /// Sets `requestState`.
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.request_state = Some(state.into());
        self
    }
}

crate::impl_wire_result!(InputRequiredResult);

/// The MRTR fields a client adds when it retries a request (the base of the params of
/// `tools/call`, `prompts/get` and `resources/read` in 2026-07-28).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputResponseRequestParams {
    /// Answers, one per key of the server's `inputRequests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// The `requestState` the server returned, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_round_trip_and_unknown_methods_survive() {
        let v = json!({
            "a": {"method": "roots/list"},
            "b": {"method": "roots/list", "params": {"_meta": {"k": 1}}},
            "c": {"method": "x/y", "params": {"q": [1]}},
            "d": {"method": "elicitation/create", "params": {"message": "m",
                  "requestedSchema": {"type": "object", "properties": {}}}}
        });
        let r: InputRequests = serde_json::from_value(v.clone()).unwrap();
        assert!(matches!(r["a"], InputRequest::ListRoots(None)));
        assert!(matches!(r["c"], InputRequest::Other { .. }));
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
        let bad = json!({"method": "sampling/createMessage"});
        assert!(serde_json::from_value::<InputRequest>(bad).is_err());
    }

    #[test]
    fn responses_by_shape() {
        let v = json!({
            "e": {"action": "decline"},
            "r": {"roots": []},
            "s": {"role": "assistant", "content": [], "model": "m"},
            "o": {"something": "else"},
            "n": 7
        });
        let r: InputResponses = serde_json::from_value(v.clone()).unwrap();
        assert!(r["e"].as_elicit().is_some());
        assert!(r["r"].as_list_roots().is_some());
        assert!(r["s"].as_create_message().is_some());
        assert!(matches!(r["o"], InputResponse::Other(_)));
        assert!(matches!(r["n"], InputResponse::Other(_)));
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
        let malformed = json!({"action": "maybe"});
        assert!(serde_json::from_value::<InputResponse>(malformed).is_err());
    }
}
