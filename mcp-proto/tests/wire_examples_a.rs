//! Golden examples of the 2026-07-28 schema, part A (lifecycle, discover, tools, resources,
//! prompts, completion, logging, progress, cancellation, subscriptions, errors): each file is
//! decoded into our type, re-encoded, and must come back equal to the original.
//!
//! The spec is read in place from `$MCP_SPEC_DIR`, or else `../../shared/spec` relative to this
//! crate.

use std::fmt::Debug;
use std::fs;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use mcp_proto::jsonrpc::{code, ErrorObject, RequestId};
use mcp_proto::schema::completion::*;
use mcp_proto::schema::errors::*;
use mcp_proto::schema::lifecycle::*;
use mcp_proto::schema::logging::*;
use mcp_proto::schema::notifications::*;
use mcp_proto::schema::prompts::*;
use mcp_proto::schema::resources::*;
use mcp_proto::schema::subscriptions::*;
use mcp_proto::schema::tools::*;
use mcp_proto::schema::{Era, PaginatedRequestParams, RequestParams, ResultType};

fn spec_root() -> PathBuf {
    let root = match std::env::var_os("MCP_SPEC_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec"),
    };
    assert!(
        root.join("schema").is_dir(),
        "MCP spec not found: looked for {}/schema (set MCP_SPEC_DIR to the spec directory)",
        root.display()
    );
    root
}

/// The golden files of one example folder, as (file name, text).
fn examples(folder: &str) -> Vec<(String, String)> {
    let dir = spec_root().join("schema/2026-07-28/examples").join(folder);
    let entries = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read example folder {}: {e}", dir.display()));
    let mut files: Vec<(String, String)> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            (
                format!("{folder}/{}", p.file_name().unwrap().to_string_lossy()),
                text,
            )
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.json examples in {}", dir.display());
    files
}

/// Decodes every example of `folder` as `T`, re-encodes it, and compares. Returns the decoded
/// values so callers can check more.
fn roundtrip<T: Serialize + DeserializeOwned>(folder: &str) -> Vec<T> {
    let files = examples(folder);
    let mut out = Vec::new();
    for (name, text) in &files {
        let original: Value =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        let decoded: T = serde_json::from_str(text).unwrap_or_else(|e| {
            panic!(
                "{name}: does not decode as {}: {e}",
                std::any::type_name::<T>()
            )
        });
        let encoded = serde_json::to_value(&decoded).expect("encode");
        assert_eq!(
            encoded,
            original,
            "{name}: re-encoded {} differs\n re-encoded: {}\n original:   {}",
            std::any::type_name::<T>(),
            serde_json::to_string_pretty(&encoded).unwrap(),
            serde_json::to_string_pretty(&original).unwrap()
        );
        out.push(decoded);
    }
    assert_eq!(out.len(), files.len());
    assert!(!out.is_empty(), "{folder}: nothing checked");
    out
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request<P> {
    jsonrpc: String,
    id: RequestId,
    method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<P>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Notification<P> {
    jsonrpc: String,
    method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<P>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultResponse<R> {
    jsonrpc: String,
    id: RequestId,
    result: R,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorResponse {
    jsonrpc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<RequestId>,
    error: ErrorObject,
}

fn request<P: Serialize + DeserializeOwned + Debug>(folder: &str, method: &str) -> Vec<P> {
    roundtrip::<Request<P>>(folder)
        .into_iter()
        .map(|r| {
            assert_eq!(r.jsonrpc, "2.0", "{folder}");
            assert_eq!(r.method, method, "{folder}");
            r.params
                .unwrap_or_else(|| panic!("{folder}: request without params"))
        })
        .collect()
}

fn notification<P: Serialize + DeserializeOwned + Debug>(folder: &str, method: &str) -> usize {
    let all = roundtrip::<Notification<P>>(folder);
    for n in &all {
        assert_eq!(n.jsonrpc, "2.0", "{folder}");
        assert_eq!(n.method, method, "{folder}");
    }
    all.len()
}

fn response<R: Serialize + DeserializeOwned + Debug>(folder: &str) -> Vec<R> {
    roundtrip::<ResultResponse<R>>(folder)
        .into_iter()
        .map(|r| {
            assert_eq!(r.jsonrpc, "2.0", "{folder}");
            r.result
        })
        .collect()
}

/// Full error responses; returns the error objects.
fn error_response(folder: &str, expected_code: i64) -> Vec<ErrorObject> {
    roundtrip::<ErrorResponse>(folder)
        .into_iter()
        .map(|r| {
            assert_eq!(r.error.code, expected_code, "{folder}");
            r.error
        })
        .collect()
}

/// Re-encodes `data` of `error` through `T` and compares it with the original.
fn data_roundtrip<T: Serialize + DeserializeOwned>(error: &ErrorObject) -> T {
    let original = error.data.clone().expect("error has data");
    let typed: T = typed_data(error, error.code).unwrap_or_else(|| {
        panic!(
            "data {original} does not decode as {}",
            std::any::type_name::<T>()
        )
    });
    assert_eq!(serde_json::to_value(&typed).unwrap(), original);
    typed
}

#[test]
fn capabilities() {
    let clients = roundtrip::<ClientCapabilities>("ClientCapabilities");
    assert!(clients.len() >= 7);
    let servers = roundtrip::<ServerCapabilities>("ServerCapabilities");
    assert!(servers.len() >= 11);

    let form_only: ClientCapabilities = serde_json::from_str(r#"{"elicitation":{}}"#).unwrap();
    assert!(form_only.supports_elicitation_form());
    assert!(!form_only.supports_elicitation_url());
    let url_only: ClientCapabilities =
        serde_json::from_str(r#"{"elicitation":{"url":{}}}"#).unwrap();
    assert!(!url_only.supports_elicitation_form());
    assert!(url_only.supports_elicitation_url());
    assert!(!ClientCapabilities::default().supports_elicitation_form());

    // Presence of an empty capability is kept.
    let logging: ServerCapabilities = serde_json::from_str(r#"{"logging":{}}"#).unwrap();
    assert!(logging.logging.is_some());
    assert_eq!(
        serde_json::to_string(&logging).unwrap(),
        r#"{"logging":{}}"#
    );
}

#[test]
fn discover() {
    let params = request::<RequestParams>("DiscoverRequest", "server/discover");
    assert!(params[0].meta.is_some());
    let results = roundtrip::<DiscoverResult>("DiscoverResult");
    assert_eq!(results[0].result_type, Some(ResultType::Complete));
    assert_eq!(results[0].supported_versions, vec!["2026-07-28".to_owned()]);
    assert!(results[0].ttl_ms.is_some() && results[0].cache_scope.is_some());
    assert!(!response::<DiscoverResult>("DiscoverResultResponse").is_empty());
}

#[test]
fn tools() {
    let tools = roundtrip::<Tool>("Tool");
    assert!(tools.iter().all(|t| t.input_schema.is_object()));
    let lists = roundtrip::<ListToolsResult>("ListToolsResult");
    assert_eq!(lists[0].next_cursor.as_deref(), Some("next-page-cursor"));
    let params = roundtrip::<CallToolRequestParams>("CallToolRequestParams");
    assert!(params.iter().all(|p| p.arguments.is_some()));
    let results = roundtrip::<CallToolResult>("CallToolResult");
    assert!(results.iter().any(|r| r.is_error == Some(true)));
    assert!(results
        .iter()
        .any(|r| matches!(r.structured_content, Some(Value::Array(_)))));

    let list_params = request::<PaginatedRequestParams>("ListToolsRequest", "tools/list");
    assert!(list_params[0].cursor.is_none());
    assert!(!response::<ListToolsResult>("ListToolsResultResponse").is_empty());
    let call = request::<CallToolRequestParams>("CallToolRequest", "tools/call");
    assert_eq!(call[0].name, "get_weather");
    assert!(!response::<CallToolResult>("CallToolResultResponse").is_empty());
    assert!(
        notification::<RequestParams>(
            "ToolListChangedNotification",
            "notifications/tools/list_changed"
        ) > 0
    );
}

#[test]
fn call_tool_result_helpers() {
    let ok = serde_json::to_value(CallToolResult::text("hi")).unwrap();
    assert_eq!(
        ok,
        serde_json::json!({"content": [{"type": "text", "text": "hi"}]})
    );
    let err = serde_json::to_value(CallToolResult::error_text("bad")).unwrap();
    assert_eq!(
        err,
        serde_json::json!({"content": [{"type": "text", "text": "bad"}], "isError": true})
    );
    let s = CallToolResult::structured(serde_json::json!({"t": 1}));
    assert_eq!(s.content[0].as_text(), Some(r#"{"t":1}"#));
    // A present `null` structuredContent survives a round trip.
    let text = r#"{"content":[],"structuredContent":null}"#;
    let r: CallToolResult = serde_json::from_str(text).unwrap();
    assert_eq!(r.structured_content, Some(Value::Null));
    assert_eq!(serde_json::to_string(&r).unwrap(), text);
}

#[test]
fn resources() {
    roundtrip::<ListResourcesResult>("ListResourcesResult");
    roundtrip::<ListResourceTemplatesResult>("ListResourceTemplatesResult");
    roundtrip::<ReadResourceResult>("ReadResourceResult");
    roundtrip::<ResourceUpdatedNotificationParams>("ResourceUpdatedNotificationParams");

    request::<PaginatedRequestParams>("ListResourcesRequest", "resources/list");
    response::<ListResourcesResult>("ListResourcesResultResponse");
    request::<PaginatedRequestParams>("ListResourceTemplatesRequest", "resources/templates/list");
    response::<ListResourceTemplatesResult>("ListResourceTemplatesResultResponse");
    let read = request::<ReadResourceRequestParams>("ReadResourceRequest", "resources/read");
    assert_eq!(read[0].uri, "file:///project/src/main.rs");
    let results = response::<ReadResourceResult>("ReadResourceResultResponse");
    assert!(results.len() >= 2);
    notification::<RequestParams>(
        "ResourceListChangedNotification",
        "notifications/resources/list_changed",
    );
    notification::<ResourceUpdatedNotificationParams>(
        "ResourceUpdatedNotification",
        "notifications/resources/updated",
    );
}

#[test]
fn prompts() {
    roundtrip::<ListPromptsResult>("ListPromptsResult");
    let params = roundtrip::<GetPromptRequestParams>("GetPromptRequestParams");
    assert_eq!(
        params[0]
            .arguments
            .as_ref()
            .and_then(|a| a.get("code"))
            .map(|s| s.as_str()),
        Some("def hello():\n    print('world')")
    );
    let results = roundtrip::<GetPromptResult>("GetPromptResult");
    assert_eq!(results[0].messages[0].role, mcp_proto::schema::Role::User);

    request::<PaginatedRequestParams>("ListPromptsRequest", "prompts/list");
    response::<ListPromptsResult>("ListPromptsResultResponse");
    request::<GetPromptRequestParams>("GetPromptRequest", "prompts/get");
    response::<GetPromptResult>("GetPromptResultResponse");
    notification::<RequestParams>(
        "PromptListChangedNotification",
        "notifications/prompts/list_changed",
    );
}

#[test]
fn completion() {
    let params = roundtrip::<CompleteRequestParams>("CompleteRequestParams");
    assert!(params.iter().all(
        |p| matches!(&p.reference, CompletionReference::Prompt(r) if r.name == "code_review")
    ));
    assert!(params.iter().any(|p| p.context.is_some()));
    let results = roundtrip::<CompleteResult>("CompleteResult");
    assert!(results.iter().any(|r| r.completion.has_more == Some(true)));
    request::<CompleteRequestParams>("CompleteRequest", "completion/complete");
    response::<CompleteResult>("CompleteResultResponse");

    let resource = CompleteRequestParams::new(
        CompletionReference::resource("file:///{path}"),
        "path",
        "sr",
    );
    let v = serde_json::to_value(&resource).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"ref": {"type": "ref/resource", "uri": "file:///{path}"},
                           "argument": {"name": "path", "value": "sr"}})
    );
    let bad = serde_json::from_value::<CompleteRequestParams>(serde_json::json!({
        "ref": {"type": "ref/unknown", "uri": "x"}, "argument": {"name": "a", "value": "b"}
    }));
    assert!(bad.is_err(), "an unknown ref type must not decode");
}

#[test]
fn logging_progress_cancel() {
    roundtrip::<LoggingMessageNotificationParams>("LoggingMessageNotificationParams");
    notification::<LoggingMessageNotificationParams>(
        "LoggingMessageNotification",
        "notifications/message",
    );
    let progress = roundtrip::<ProgressNotificationParams>("ProgressNotificationParams");
    assert_eq!(progress[0].progress, 50.0);
    assert_eq!(progress[0].total, Some(100.0));
    notification::<ProgressNotificationParams>("ProgressNotification", "notifications/progress");
    let cancelled = roundtrip::<CancelledNotificationParams>("CancelledNotificationParams");
    assert_eq!(cancelled[0].request_id, Some(RequestId::from("123")));
    notification::<CancelledNotificationParams>("CancelledNotification", "notifications/cancelled");

    // Fractional progress stays fractional; whole numbers are written as integers.
    let p = ProgressNotificationParams::new(RequestId::Number(7), 0.5, Some(2.0));
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        serde_json::json!({"progressToken": 7, "progress": 0.5, "total": 2})
    );
}

#[test]
fn subscriptions() {
    let params = request::<SubscriptionsListenRequestParams>(
        "SubscriptionsListenRequest",
        "subscriptions/listen",
    );
    assert_eq!(params[0].notifications.tools_list_changed, Some(true));
    let results = roundtrip::<SubscriptionsListenResult>("SubscriptionsListenResult");
    assert_eq!(
        results[0],
        SubscriptionsListenResult::closed(&RequestId::from("listen-1"))
    );
    response::<SubscriptionsListenResult>("SubscriptionsListenResultResponse");
    notification::<SubscriptionsAcknowledgedNotificationParams>(
        "SubscriptionsAcknowledgedNotification",
        "notifications/subscriptions/acknowledged",
    );

    // The tasks extension's filter field is modelled.
    let f: SubscriptionFilter =
        serde_json::from_str(r#"{"taskIds":["t1"],"com.example/x":true}"#).unwrap();
    assert_eq!(f.task_ids, Some(vec!["t1".to_owned()]));
    assert_eq!(f.extra.len(), 1);
}

#[test]
fn mcp_errors() {
    let unsupported = error_response(
        "UnsupportedProtocolVersionError",
        code::UNSUPPORTED_PROTOCOL_VERSION,
    );
    let data = data_roundtrip::<UnsupportedProtocolVersionData>(&unsupported[0]);
    assert_eq!(data.requested, "1900-01-01");
    let built = unsupported_protocol_version(Era::Modern, data.requested.clone(), data.supported);
    assert_eq!(built.code, unsupported[0].code);
    assert_eq!(built.data, unsupported[0].data);

    let missing = error_response(
        "MissingRequiredClientCapabilityError",
        code::MISSING_REQUIRED_CLIENT_CAPABILITY,
    );
    let data = data_roundtrip::<MissingRequiredClientCapabilityData>(&missing[0]);
    assert!(data.required_capabilities.elicitation.is_some());
    let built =
        missing_required_client_capability(missing[0].message.clone(), data.required_capabilities);
    assert_eq!(built, missing[0]);

    let mismatch = error_response("HeaderMismatchError", code::HEADER_MISMATCH);
    assert!(mismatch[0].data.is_none());
    assert_eq!(header_mismatch(mismatch[0].message.clone()), mismatch[0]);

    // Wrong code or wrong shape: no typed data.
    assert!(typed_data::<UnsupportedProtocolVersionData>(&missing[0], missing[0].code).is_none());
    assert!(
        typed_data::<UnsupportedProtocolVersionData>(&unsupported[0], code::INVALID_PARAMS)
            .is_none()
    );

    let legacy = unsupported_protocol_version(Era::Legacy, "1.0.0", vec!["2024-11-05".into()]);
    assert_eq!(legacy.code, code::INVALID_PARAMS);
    let nf = resource_not_found(Era::Legacy, "file:///nope");
    assert_eq!(nf.code, code::RESOURCE_NOT_FOUND);
    assert_eq!(
        typed_data::<ResourceNotFoundData>(&nf, code::RESOURCE_NOT_FOUND).map(|d| d.uri),
        Some("file:///nope".to_owned())
    );
    assert_eq!(
        resource_not_found(Era::Modern, "x").code,
        code::INVALID_PARAMS
    );
}

#[test]
fn url_elicitation_required_data() {
    let text = r#"{"elicitations":[{"mode":"url","message":"Sign in","url":"https://example.com/auth","elicitationId":"e1"}]}"#;
    let data: URLElicitationRequiredData = serde_json::from_str(text).unwrap();
    assert_eq!(data.elicitations.len(), 1);
    let original: Value = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_value(&data).unwrap(), original);
    let err = url_elicitation_required("Authorization required", data.elicitations);
    assert_eq!(err.code, code::URL_ELICITATION_REQUIRED);
    assert_eq!(err.data, Some(original));
}

#[test]
fn plain_error_objects() {
    for (folder, c) in [
        ("ParseError", code::PARSE_ERROR),
        ("InvalidParamsError", code::INVALID_PARAMS),
        ("MethodNotFoundError", code::METHOD_NOT_FOUND),
        ("InternalError", code::INTERNAL_ERROR),
    ] {
        let errors = roundtrip::<ErrorObject>(folder);
        assert!(errors.iter().all(|e| e.code == c), "{folder}");
    }
}

#[test]
fn paginated_request_params() {
    let p = roundtrip::<PaginatedRequestParams>("PaginatedRequestParams");
    assert!(p[0].cursor.is_some());
}
