//! What handlers return: tool results, prompt messages, resource contents, and the two
//! error types.

use std::borrow::Cow;
use std::fmt;

use mcp_proto::jsonrpc::ErrorObject;
use mcp_proto::schema::content::{
    BlobResourceContents, ContentBlock, ResourceContents, TextResourceContents,
};
use mcp_proto::schema::errors::{missing_required_client_capability, resource_not_found};
use mcp_proto::schema::lifecycle::ClientCapabilities;
use mcp_proto::schema::prompts::{GetPromptResult, PromptMessage};
use mcp_proto::schema::resources::ReadResourceResult;
use mcp_proto::schema::tools::CallToolResult;
use mcp_proto::schema::Era;
use mcp_proto::session::UsageError;
use serde_json::{Map, Value};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::server::AskError;

/// A tool failure. Usually one the model gets to see: answered as a `tools/call` result
/// with `isError: true` and the message as text, not as a JSON-RPC error.
///
/// Any `std::error::Error` converts into it, so `?` works in tool handlers; for a message of
/// your own use [`ToolError::new`]. Two failures are about the request rather than the tool's
/// work, and are answered as JSON-RPC errors instead:
///
/// - an ask the client cannot take ([`AskError`] for a capability the client did not
///   declare, e.g. `cx.sample(..).await?` to a client without `sampling`): -32021 with
///   `data.requiredCapabilities` on a 2026-07-28 request (the spec's
///   MissingRequiredClientCapability); an `isError` result on a legacy session, which has no
///   such error;
/// - [`ToolError::rpc`], an error object of your own.
pub struct ToolError {
    kind: ToolErrorKind,
}

enum ToolErrorKind {
    Message(String),
    Rpc(ErrorObject),
    MissingCapability {
        capability: &'static str,
        message: String,
    },
}

impl ToolError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            kind: ToolErrorKind::Message(message.into()),
        }
    }

    /// Answers the call with the JSON-RPC error `error` instead of a result: for a request
    /// that is wrong as such (not a failure of the tool's work, which the model should see).
    pub fn rpc(error: ErrorObject) -> Self {
        ToolError {
            kind: ToolErrorKind::Rpc(error),
        }
    }

    /// The readable message.
    pub fn message(&self) -> &str {
        match &self.kind {
            ToolErrorKind::Message(m) | ToolErrorKind::MissingCapability { message: m, .. } => m,
            ToolErrorKind::Rpc(e) => &e.message,
        }
    }

    /// What to answer a call of `era` with: a result, or a JSON-RPC error.
    pub(crate) fn into_answer(self, era: Era) -> Result<CallToolResult, ErrorObject> {
        match self.kind {
            ToolErrorKind::Rpc(e) => Err(e),
            ToolErrorKind::MissingCapability { capability, .. } if era == Era::Modern => {
                Err(missing_capability_error(capability))
            }
            _ => Ok(self.into()),
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for ToolError {
    /// The error's message followed by those of its sources (`outer: inner`); an ask refused
    /// for want of a client capability is kept as such (see the type's docs).
    fn from(error: E) -> Self {
        if let Some(capability) = missing_capability(&error) {
            return ToolError {
                kind: ToolErrorKind::MissingCapability {
                    capability,
                    message: missing_capability_message(capability),
                },
            };
        }
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        ToolError::new(message)
    }
}

impl fmt::Debug for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ToolErrorKind::Message(m) => f.debug_tuple("ToolError").field(m).finish(),
            ToolErrorKind::Rpc(e) => f.debug_tuple("ToolError::Rpc").field(e).finish(),
            ToolErrorKind::MissingCapability { capability, .. } => f
                .debug_tuple("ToolError::MissingCapability")
                .field(capability)
                .finish(),
        }
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl From<ToolError> for CallToolResult {
    /// The failure as an `isError` result with its message (whatever its kind).
    fn from(error: ToolError) -> Self {
        CallToolResult::error_text(error.message().to_owned())
    }
}

/// The client capability an ask was refused for, if `error` is such a refusal.
fn missing_capability(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    match error.downcast_ref::<AskError>()? {
        AskError::Refused(UsageError::MissingCapability(c)) => Some(c),
        _ => None,
    }
}

fn missing_capability_message(capability: &str) -> String {
    format!("the client did not declare the `{capability}` capability this request needs")
}

/// -32021 for a capability named as a path (`sampling`, `elicitation.form`): its
/// `requiredCapabilities` hold that path as nested empty objects, `{"sampling": {}}`.
pub(crate) fn missing_capability_error(capability: &str) -> ErrorObject {
    let mut required = Value::Object(Map::new());
    // `clientCapabilities` itself (none declared at all) names no one capability.
    if capability != "clientCapabilities" {
        for part in capability.rsplit('.') {
            let mut outer = Map::new();
            outer.insert(part.to_owned(), required);
            required = Value::Object(outer);
        }
    }
    let required: ClientCapabilities = serde_json::from_value(required).unwrap_or_default();
    missing_required_client_capability(missing_capability_message(capability), required)
}

/// A prompt or resource failure, answered as a JSON-RPC error.
///
/// Any `std::error::Error` converts into it as an internal error (-32603), except an
/// [`ErrorObject`], which is sent as it is, and an [`AskError`] refused for a client
/// capability the client did not declare, which is -32021 with `data.requiredCapabilities`
/// on a 2026-07-28 request (an internal error on a legacy session).
pub struct RpcError {
    kind: RpcErrorKind,
}

enum RpcErrorKind {
    Object(ErrorObject),
    ResourceNotFound(String),
    MissingCapability(&'static str),
}

impl RpcError {
    /// A JSON-RPC error object, sent as it is.
    pub fn new(error: ErrorObject) -> Self {
        RpcError {
            kind: RpcErrorKind::Object(error),
        }
    }

    /// The request's params are wrong (-32602).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorObject::invalid_params(message))
    }

    /// Something failed inside the server (-32603).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorObject::internal(message))
    }

    /// There is no resource at `uri`: -32602 in 2026-07-28, -32002 before, chosen by the
    /// request's era.
    pub fn resource_not_found(uri: impl Into<String>) -> Self {
        RpcError {
            kind: RpcErrorKind::ResourceNotFound(uri.into()),
        }
    }

    /// The error object to send for a request of `era`.
    pub fn into_error_object(self, era: Era) -> ErrorObject {
        match self.kind {
            RpcErrorKind::Object(e) => e,
            RpcErrorKind::ResourceNotFound(uri) => resource_not_found(era, uri),
            RpcErrorKind::MissingCapability(c) => match era {
                Era::Modern => missing_capability_error(c),
                Era::Legacy => ErrorObject::internal(missing_capability_message(c)),
            },
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for RpcError {
    fn from(error: E) -> Self {
        if let Some(capability) = missing_capability(&error) {
            return RpcError {
                kind: RpcErrorKind::MissingCapability(capability),
            };
        }
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
        match boxed.downcast::<ErrorObject>() {
            Ok(object) => RpcError::new(*object),
            Err(other) => RpcError::internal(other.to_string()),
        }
    }
}

impl fmt::Debug for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RpcErrorKind::Object(e) => f.debug_tuple("RpcError").field(e).finish(),
            RpcErrorKind::ResourceNotFound(uri) => f
                .debug_struct("ResourceNotFound")
                .field("uri", uri)
                .finish(),
            RpcErrorKind::MissingCapability(c) => {
                f.debug_tuple("MissingCapability").field(c).finish()
            }
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RpcErrorKind::Object(e) => fmt::Display::fmt(e, f),
            RpcErrorKind::ResourceNotFound(uri) => write!(f, "resource not found: {uri}"),
            RpcErrorKind::MissingCapability(c) => f.write_str(&missing_capability_message(c)),
        }
    }
}

/// Structured tool output: `T` is serialized into `structuredContent` (and, as JSON text,
/// into one text block for clients that read only `content`), and the tool advertises the
/// schemars schema of `T` as its `outputSchema`.
///
/// The spec wants an object there: when `T`'s schema is not an object schema (a number, a
/// list, an enum ...), both the schema and the value are wrapped as `{"result": ...}`.
///
/// A tool result with the `schemars` feature (on by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

/// What a tool handler may return inside `Ok`: converted into a `tools/call` result.
///
/// | type | result |
/// |---|---|
/// | `String`, `&'static str`, `Cow<'static, str>` | one text block |
/// | integers, floats, `bool`, `char` | one text block with the value |
/// | `()` | no content |
/// | `ContentBlock`, `Vec<ContentBlock>` | that content |
/// | [`Json<T>`] | `structuredContent` plus its JSON text; advertises `outputSchema` |
/// | `CallToolResult` | as it is |
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a tool",
    label = "not convertible into a tool result",
    note = "return `Ok(..)` of a `String`, `&'static str`, a number, a `bool`, `Json<T>` (structured output), `ContentBlock`s or a `CallToolResult`"
)]
pub trait IntoToolResult: Send + 'static {
    /// The result to send.
    fn into_tool_result(self) -> CallToolResult;

    /// The tool's `outputSchema`, for structured output.
    fn output_schema() -> Option<Value> {
        None
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> CallToolResult {
        self
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::text(self)
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::text(self)
    }
}

impl IntoToolResult for Cow<'static, str> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::text(self)
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::new(Vec::new())
    }
}

impl IntoToolResult for ContentBlock {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::new(vec![self])
    }
}

impl IntoToolResult for Vec<ContentBlock> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::new(self)
    }
}

macro_rules! display_results {
    ($($t:ty),*) => {$(
        impl IntoToolResult for $t {
            fn into_tool_result(self) -> CallToolResult {
                CallToolResult::text(self.to_string())
            }
        }
    )*};
}

display_results!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, char
);

/// What a prompt handler may return inside `Ok`.
///
/// | type | result |
/// |---|---|
/// | `GetPromptResult` | as it is (its description defaults to the prompt's) |
/// | `Vec<PromptMessage>`, `PromptMessage` | those messages |
/// | `String`, `&'static str` | one user message with that text |
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a prompt",
    label = "not convertible into a prompt result",
    note = "return `Ok(..)` of a `Vec<PromptMessage>`, a `PromptMessage`, a `String` or a `GetPromptResult`"
)]
pub trait IntoPromptResult: Send + 'static {
    /// The result to send.
    fn into_prompt_result(self) -> GetPromptResult;
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> GetPromptResult {
        self
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> GetPromptResult {
        GetPromptResult::new(self)
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> GetPromptResult {
        GetPromptResult::new(vec![self])
    }
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> GetPromptResult {
        GetPromptResult::new(vec![PromptMessage::user_text(self)])
    }
}

impl IntoPromptResult for &'static str {
    fn into_prompt_result(self) -> GetPromptResult {
        GetPromptResult::new(vec![PromptMessage::user_text(self)])
    }
}

/// What a resource handler may return inside `Ok`: the contents at the URI read, with the
/// resource's MIME type.
///
/// | type | contents |
/// |---|---|
/// | `String`, `&'static str` | `text` |
/// | `Vec<u8>`, `&'static [u8]`, `bytes::Bytes` | `blob` (base64) |
/// | `ResourceContents`, `Vec<ResourceContents>`, `ReadResourceResult` | as they are |
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a resource",
    label = "not convertible into resource contents",
    note = "return `Ok(..)` of a `String` (text), a `Vec<u8>` (binary), `ResourceContents` or a `ReadResourceResult`"
)]
pub trait IntoResourceContents: Send + 'static {
    /// The result to send for a read of `uri`, whose MIME type is `mime_type`.
    fn into_read_result(self, uri: &str, mime_type: Option<&str>) -> ReadResourceResult;
}

fn text_contents(uri: &str, mime_type: Option<&str>, text: String) -> ReadResourceResult {
    ReadResourceResult::new(vec![ResourceContents::Text(TextResourceContents {
        uri: uri.to_owned(),
        mime_type: mime_type.map(str::to_owned),
        text,
        ..Default::default()
    })])
}

fn blob_contents(uri: &str, mime_type: Option<&str>, bytes: &[u8]) -> ReadResourceResult {
    ReadResourceResult::new(vec![ResourceContents::Blob(BlobResourceContents {
        uri: uri.to_owned(),
        mime_type: mime_type.map(str::to_owned),
        blob: BASE64.encode(bytes),
        ..Default::default()
    })])
}

impl IntoResourceContents for String {
    fn into_read_result(self, uri: &str, mime_type: Option<&str>) -> ReadResourceResult {
        text_contents(uri, mime_type, self)
    }
}

impl IntoResourceContents for &'static str {
    fn into_read_result(self, uri: &str, mime_type: Option<&str>) -> ReadResourceResult {
        text_contents(uri, mime_type, self.to_owned())
    }
}

impl IntoResourceContents for Vec<u8> {
    fn into_read_result(self, uri: &str, mime_type: Option<&str>) -> ReadResourceResult {
        blob_contents(uri, mime_type, &self)
    }
}

impl IntoResourceContents for &'static [u8] {
    fn into_read_result(self, uri: &str, mime_type: Option<&str>) -> ReadResourceResult {
        blob_contents(uri, mime_type, self)
    }
}

impl IntoResourceContents for bytes::Bytes {
    fn into_read_result(self, uri: &str, mime_type: Option<&str>) -> ReadResourceResult {
        blob_contents(uri, mime_type, &self)
    }
}

impl IntoResourceContents for ResourceContents {
    fn into_read_result(self, _uri: &str, _mime_type: Option<&str>) -> ReadResourceResult {
        ReadResourceResult::new(vec![self])
    }
}

impl IntoResourceContents for Vec<ResourceContents> {
    fn into_read_result(self, _uri: &str, _mime_type: Option<&str>) -> ReadResourceResult {
        ReadResourceResult::new(self)
    }
}

impl IntoResourceContents for ReadResourceResult {
    fn into_read_result(self, _uri: &str, _mime_type: Option<&str>) -> ReadResourceResult {
        self
    }
}

#[cfg(test)]
mod tests {
    use mcp_proto::session::RequestError;

    use super::*;
    use serde_json::json;

    fn refused(capability: &'static str) -> AskError {
        AskError::Refused(UsageError::MissingCapability(capability))
    }

    #[test]
    fn a_refused_ask_is_32021_in_2026_and_a_result_before() {
        let e = ToolError::from(refused("sampling"))
            .into_answer(Era::Modern)
            .unwrap_err();
        assert_eq!(e.code, -32021);
        assert_eq!(
            e.data,
            Some(json!({"requiredCapabilities": {"sampling": {}}}))
        );

        let r = ToolError::from(refused("sampling"))
            .into_answer(Era::Legacy)
            .unwrap();
        assert_eq!(r.is_error, Some(true));
        let text = r.content[0].as_text().unwrap();
        assert!(text.contains("`sampling`"), "{text}");
    }

    #[test]
    fn nested_capabilities_nest() {
        let e = missing_capability_error("elicitation.url");
        assert_eq!(
            e.data,
            Some(json!({"requiredCapabilities": {"elicitation": {"url": {}}}}))
        );
        let e = missing_capability_error("clientCapabilities");
        assert_eq!(e.data, Some(json!({"requiredCapabilities": {}})));
    }

    #[test]
    fn other_failures_stay_results_unless_rpc() {
        let failed = AskError::Failed(RequestError::Closed);
        for era in [Era::Modern, Era::Legacy] {
            let r = ToolError::from(failed.clone()).into_answer(era).unwrap();
            assert_eq!(r.is_error, Some(true));
            let e = ToolError::rpc(ErrorObject::invalid_params("no"))
                .into_answer(era)
                .unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (-32602, "no"));
        }
        assert_eq!(ToolError::rpc(ErrorObject::internal("x")).message(), "x");
    }

    #[test]
    fn prompts_and_resources_refused_an_ask_answer_by_era() {
        let modern = RpcError::from(refused("elicitation")).into_error_object(Era::Modern);
        assert_eq!(modern.code, -32021);
        assert_eq!(
            modern.data,
            Some(json!({"requiredCapabilities": {"elicitation": {}}}))
        );
        let legacy = RpcError::from(refused("elicitation")).into_error_object(Era::Legacy);
        assert_eq!(legacy.code, -32603);
    }
}
