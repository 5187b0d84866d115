//! JSON-RPC 2.0 envelope: ids, error objects and the raw message shapes.
//!
//! Decoding is two-stage on purpose: [`RawMessage::parse`] reads only the envelope and keeps
//! `params` / `result` as borrowed [`RawValue`]s, so the session can dispatch on `method` and
//! deserialize the params once, straight into the right typed struct.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// The only JSON-RPC version MCP speaks.
pub const JSONRPC_VERSION: &str = "2.0";

/// Standard JSON-RPC and MCP error codes.
pub mod code {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON sent is not a valid request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist, or its capability was not advertised.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters (also: missing `_meta`, unknown tool, bad cursor, ...).
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Legacy (<= 2025-11-25) resource-not-found.
    pub const RESOURCE_NOT_FOUND: i64 = -32002;
    /// 2025-11-25 only: URL-mode elicitation is required first.
    pub const URL_ELICITATION_REQUIRED: i64 = -32042;
    /// 2026-07-28: an HTTP header disagrees with the body.
    pub const HEADER_MISMATCH: i64 = -32020;
    /// 2026-07-28: the request needs a client capability it did not declare.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
    /// 2026-07-28: the requested protocol version is not supported.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
}

/// A request id: a string or an integer, never null.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(String),
}

/// A progress token has the same shape as a request id (string or integer).
pub type ProgressToken = RequestId;

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::String(s.to_owned())
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        RequestId::String(s)
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Number(n) => s.serialize_i64(*n),
            RequestId::String(v) => s.serialize_str(v),
        }
    }
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = RequestId;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an integer")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RequestId, E> {
        Ok(RequestId::Number(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RequestId, E> {
        i64::try_from(v)
            .map(RequestId::Number)
            .map_err(|_| E::custom("integer id out of range"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestId, E> {
        Ok(RequestId::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RequestId, E> {
        Ok(RequestId::String(v))
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

/// The `error` member of a JSON-RPC error response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// Error code (see [`code`]).
    pub code: i64,
    /// One short sentence.
    pub message: String,
    /// Extra, code-specific information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and a message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attach `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// -32700.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(code::PARSE_ERROR, message)
    }

    /// -32600.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_REQUEST, message)
    }

    /// -32601.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            code::METHOD_NOT_FOUND,
            format!("method not found: {method}"),
        )
    }

    /// -32602.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_PARAMS, message)
    }

    /// -32603.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(code::INTERNAL_ERROR, message)
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ErrorObject {}

/// The `id` member as found on the wire: absent, `null`, valid, or of a forbidden type.
#[derive(Debug, Clone, PartialEq)]
pub enum WireId {
    /// `"id": null`.
    Null,
    /// A valid id.
    Id(RequestId),
    /// A float, boolean, object or array: never valid.
    Invalid,
}

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC id")
            }
            fn visit_unit<E: de::Error>(self) -> Result<WireId, E> {
                Ok(WireId::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<WireId, E> {
                Ok(WireId::Null)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireId, E> {
                Ok(WireId::Id(RequestId::Number(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireId, E> {
                Ok(i64::try_from(v)
                    .map(|n| WireId::Id(RequestId::Number(n)))
                    .unwrap_or(WireId::Invalid))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<WireId, E> {
                Ok(WireId::Invalid)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<WireId, E> {
                Ok(WireId::Invalid)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireId, E> {
                Ok(WireId::Id(RequestId::String(v.to_owned())))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<WireId, A::Error> {
                while a.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(WireId::Invalid)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<WireId, A::Error> {
                while a.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(WireId::Invalid)
            }
        }
        d.deserialize_any(V)
    }
}

impl WireId {
    /// The id, if it is a valid one.
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            WireId::Id(id) => Some(id),
            _ => None,
        }
    }
}

/// Keeps `"id": null` apart from an absent id (plain `Option` would fold both into `None`).
fn present_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<WireId>, D::Error> {
    WireId::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow, deserialize_with = "crate::borrowed::option_cow")]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present_id")]
    id: Option<WireId>,
    #[serde(default, borrow, deserialize_with = "crate::borrowed::option_cow")]
    method: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

/// One JSON-RPC message with its payload still raw, borrowed from the input.
#[derive(Debug)]
pub enum RawMessage<'a> {
    /// A request: has `method` and a valid `id`.
    Request {
        /// The id.
        id: RequestId,
        /// The method name.
        method: Cow<'a, str>,
        /// Params, untouched.
        params: Option<&'a RawValue>,
    },
    /// A notification: `method` and no `id`.
    Notification {
        /// The method name.
        method: Cow<'a, str>,
        /// Params, untouched.
        params: Option<&'a RawValue>,
    },
    /// A successful response.
    Response {
        /// The id of the request answered.
        id: RequestId,
        /// The result, untouched.
        result: &'a RawValue,
    },
    /// An error response; `id` is `None` when the peer could not read ours.
    Error {
        /// The id of the request answered, if any.
        id: Option<RequestId>,
        /// The error.
        error: ErrorObject,
    },
}

/// Why a frame is not a JSON-RPC message; carries what a reply needs.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeError {
    /// The id, when it could be read (the reply should echo it).
    pub id: Option<RequestId>,
    /// The error to send back (-32700 or -32600).
    pub error: ErrorObject,
    /// Whether a reply is owed at all (not for malformed responses or notifications).
    pub reply: bool,
}

impl<'a> RawMessage<'a> {
    /// Parses one JSON-RPC message (not a batch) from `text`.
    ///
    /// Only a JSON object is a message: serde would otherwise read an array such as
    /// `["2.0",1,"ping"]` positionally into the envelope's fields.
    pub fn parse(text: &'a str) -> Result<RawMessage<'a>, EnvelopeError> {
        if !text.trim_start_matches(JSON_WS).starts_with('{') {
            let error = match serde_json::from_str::<de::IgnoredAny>(text) {
                Ok(_) => ErrorObject::invalid_request("a JSON-RPC message must be an object"),
                Err(e) => ErrorObject::parse_error(format!("parse error: {e}")),
            };
            return Err(EnvelopeError {
                id: None,
                error,
                reply: true,
            });
        }
        let env: Envelope<'a> = match serde_json::from_str(text) {
            Ok(env) => env,
            Err(e) => {
                let is_syntax = matches!(
                    e.classify(),
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof
                );
                let error = if is_syntax {
                    ErrorObject::parse_error(format!("parse error: {e}"))
                } else {
                    ErrorObject::invalid_request(format!("invalid request: {e}"))
                };
                return Err(EnvelopeError {
                    id: None,
                    error,
                    // A notification is never answered, even when malformed.
                    reply: is_syntax || !looks_like_notification(text),
                });
            }
        };
        Self::classify(env)
    }

    fn classify(env: Envelope<'a>) -> Result<RawMessage<'a>, EnvelopeError> {
        let id = env.id.as_ref().and_then(|w| w.id().cloned());
        let bad = |id: Option<RequestId>, msg: &str, reply: bool| EnvelopeError {
            id,
            error: ErrorObject::invalid_request(msg.to_owned()),
            reply,
        };
        // A message with a method and no `id` member is a notification: never answered,
        // even when malformed (JSON-RPC 2.0, section 4.1).
        let has_id = env.id.is_some();
        if env.jsonrpc.as_deref() != Some(JSONRPC_VERSION) {
            return Err(bad(
                id,
                "jsonrpc must be \"2.0\"",
                env.method.is_some() && has_id,
            ));
        }
        if let Some(method) = env.method {
            if env.result.is_some() || env.error.is_some() {
                return Err(bad(id, "a request cannot carry result or error", has_id));
            }
            if let Some(p) = env.params {
                let first = p.get().as_bytes().first().copied();
                if !matches!(first, Some(b'{') | Some(b'[')) {
                    return Err(bad(id, "params must be an object or an array", has_id));
                }
            }
            return match env.id {
                None => Ok(RawMessage::Notification {
                    method,
                    params: env.params,
                }),
                Some(WireId::Id(id)) => Ok(RawMessage::Request {
                    id,
                    method,
                    params: env.params,
                }),
                Some(WireId::Null) => Err(bad(None, "request id must not be null", true)),
                Some(WireId::Invalid) => {
                    Err(bad(None, "request id must be a string or an integer", true))
                }
            };
        }
        match (env.result, env.error) {
            (Some(result), None) => match id {
                Some(id) => Ok(RawMessage::Response { id, result }),
                None => Err(bad(None, "response without a valid id", false)),
            },
            (None, Some(err)) => match serde_json::from_str::<ErrorObject>(err.get()) {
                Ok(error) => Ok(RawMessage::Error { id, error }),
                Err(_) => Err(bad(id, "malformed error object", false)),
            },
            (Some(_), Some(_)) => Err(bad(id, "response has both result and error", false)),
            (None, None) => Err(bad(id, "neither a request nor a response", true)),
        }
    }
}

/// Whitespace as JSON defines it (RFC 8259, section 2).
const JSON_WS: &[char] = &[' ', '\t', '\n', '\r'];

/// Whether `text`, which did not fit the envelope, is an object with a `method` member and
/// no `id` member: a malformed notification, which gets no reply.
fn looks_like_notification(text: &str) -> bool {
    serde_json::from_str::<serde_json::Map<String, Value>>(text)
        .is_ok_and(|m| m.contains_key("method") && !m.contains_key("id"))
}

/// A JSON-RPC batch (2025-03-26 only): each item parsed on its own, in order.
///
/// An item that is not a valid message keeps its [`EnvelopeError`] so the reply to the batch
/// can carry one error per bad item; an item that is not an object is such an error.
#[derive(Debug)]
pub struct RawBatch<'a> {
    items: Vec<Result<RawMessage<'a>, EnvelopeError>>,
}

impl<'a> RawBatch<'a> {
    /// Parses a batch. `Err` is the single error object that answers the whole batch: the
    /// text is not JSON (-32700), not an array, or an empty array (-32600).
    pub fn parse(text: &'a str) -> Result<RawBatch<'a>, EnvelopeError> {
        let whole = |error| EnvelopeError {
            id: None,
            error,
            reply: true,
        };
        if !text.trim_start_matches(JSON_WS).starts_with('[') {
            return Err(whole(ErrorObject::invalid_request(
                "a batch must be an array",
            )));
        }
        let raw: Vec<&'a RawValue> = serde_json::from_str(text)
            .map_err(|e| whole(ErrorObject::parse_error(format!("parse error: {e}"))))?;
        if raw.is_empty() {
            return Err(whole(ErrorObject::invalid_request("empty batch")));
        }
        Ok(RawBatch {
            items: raw
                .into_iter()
                .map(|r| RawMessage::parse(r.get()))
                .collect(),
        })
    }

    /// The items, in the order they were sent.
    pub fn items(&self) -> &[Result<RawMessage<'a>, EnvelopeError>] {
        &self.items
    }

    /// Takes the items out.
    pub fn into_items(self) -> Vec<Result<RawMessage<'a>, EnvelopeError>> {
        self.items
    }

    /// How many items owe an answer: requests, and invalid items that are not notifications.
    /// Zero means the batch is answered with nothing at all (HTTP: 202).
    pub fn answers_owed(&self) -> usize {
        self.items
            .iter()
            .filter(|i| match i {
                Ok(RawMessage::Request { .. }) => true,
                Ok(_) => false,
                Err(e) => e.reply,
            })
            .count()
    }

    /// Ids of the requests in the batch, in order (an HTTP server can route their answers).
    pub fn request_ids(&self) -> impl Iterator<Item = &RequestId> {
        self.items.iter().filter_map(|i| match i {
            Ok(RawMessage::Request { id, .. }) => Some(id),
            _ => None,
        })
    }
}

/// Serializes a request envelope around already-typed params.
#[derive(Serialize)]
pub(crate) struct OutRequest<'a, P: Serialize> {
    pub jsonrpc: &'static str,
    pub id: &'a RequestId,
    pub method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<&'a P>,
}

/// Serializes a notification envelope.
#[derive(Serialize)]
pub(crate) struct OutNotification<'a, P: Serialize> {
    pub jsonrpc: &'static str,
    pub method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<&'a P>,
}

/// Serializes a success response.
#[derive(Serialize)]
pub(crate) struct OutResponse<'a, R: Serialize> {
    pub jsonrpc: &'static str,
    pub id: &'a RequestId,
    pub result: &'a R,
}

/// Serializes an error response (`id: null` when unknown).
#[derive(Serialize)]
pub(crate) struct OutError<'a> {
    pub jsonrpc: &'static str,
    pub id: Option<&'a RequestId>,
    pub error: &'a ErrorObject,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_shape() {
        let m = RawMessage::parse(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        assert!(matches!(
            m,
            RawMessage::Request {
                id: RequestId::Number(1),
                ..
            }
        ));
        let m = RawMessage::parse(r#"{"jsonrpc":"2.0","method":"x","params":{}}"#).unwrap();
        assert!(matches!(m, RawMessage::Notification { .. }));
        let m = RawMessage::parse(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert!(matches!(m, RawMessage::Response { .. }));
        let m = RawMessage::parse(
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#,
        )
        .unwrap();
        assert!(matches!(m, RawMessage::Error { id: None, .. }));
    }

    #[test]
    fn rejects_bad_envelopes_with_the_right_code() {
        let e = RawMessage::parse("{nope").unwrap_err();
        assert_eq!(e.error.code, code::PARSE_ERROR);
        let e = RawMessage::parse(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
        assert!(e.reply);
        let e = RawMessage::parse(r#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#).unwrap_err();
        assert_eq!(e.id, Some(RequestId::Number(3)));
        let e = RawMessage::parse(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
        let e =
            RawMessage::parse(r#"{"jsonrpc":"2.0","id":1,"method":"p","params":3}"#).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
        let e = RawMessage::parse(r#"[1,2]"#).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
    }

    #[test]
    fn an_array_is_never_read_as_a_message() {
        // serde reads a struct from an array positionally: this was accepted as a ping.
        let e = RawMessage::parse(r#"["2.0",1,"ping"]"#).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
        assert!(e.reply);
        let e = RawMessage::parse(" [\"2.0\",1,").unwrap_err();
        assert_eq!(e.error.code, code::PARSE_ERROR);
        let e = RawMessage::parse("3").unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
        let b = RawBatch::parse(r#"[["2.0",1,"ping"],{"jsonrpc":"2.0","id":2,"method":"ping"}]"#)
            .unwrap();
        assert!(b.items()[0].is_err());
        assert!(b.items()[1].is_ok());
        assert_eq!(b.answers_owed(), 2);
        assert_eq!(b.request_ids().collect::<Vec<_>>(), [&RequestId::Number(2)]);
    }

    #[test]
    fn a_malformed_notification_is_not_answered() {
        for text in [
            r#"{"jsonrpc":"1.0","method":"notifications/x"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/x","params":3}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/x","result":{}}"#,
            r#"{"jsonrpc":"2.0","method":7}"#,
        ] {
            let e = RawMessage::parse(text).unwrap_err();
            assert!(!e.reply, "{text} must not be answered");
        }
        // The same faults on a request are answered.
        for text in [
            r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
        ] {
            assert!(RawMessage::parse(text).unwrap_err().reply, "{text}");
        }
    }

    #[test]
    fn whole_batch_errors() {
        assert_eq!(
            RawBatch::parse("[").unwrap_err().error.code,
            code::PARSE_ERROR
        );
        assert_eq!(
            RawBatch::parse("[]").unwrap_err().error.code,
            code::INVALID_REQUEST
        );
        let b = RawBatch::parse(r#"[{"jsonrpc":"2.0","method":"n"}]"#).unwrap();
        assert_eq!(b.answers_owed(), 0);
    }
}
