//! Every golden example of 2026-07-28 decodes into our types and re-encodes to equal JSON.
//!
//! Whole JSON-RPC messages go through the same path the sessions use (envelope, then dispatch
//! on `method`); standalone values go through the type named by their folder. A folder with
//! no entry in the table fails the test, so new examples cannot slip by untested.

use std::path::PathBuf;

use mcp_proto::jsonrpc::{ErrorObject, RawMessage};
use mcp_proto::schema::completion::*;
use mcp_proto::schema::content::*;
use mcp_proto::schema::elicitation::*;
use mcp_proto::schema::lifecycle::*;
use mcp_proto::schema::logging::*;
use mcp_proto::schema::messages::{ClientRequest, ServerNotification, ServerResult};
use mcp_proto::schema::mrtr::*;
use mcp_proto::schema::notifications::*;
use mcp_proto::schema::prompts::*;
use mcp_proto::schema::resources::*;
use mcp_proto::schema::roots::*;
use mcp_proto::schema::sampling::*;
use mcp_proto::schema::subscriptions::*;
use mcp_proto::schema::tools::*;
use mcp_proto::schema::{Era, PaginatedRequestParams};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

fn examples_dir() -> PathBuf {
    let root = std::env::var_os("MCP_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec"));
    let dir = root.join("schema/2026-07-28/examples");
    assert!(
        dir.is_dir(),
        "spec examples not found at {} (set MCP_SPEC_DIR to the spec folder)",
        dir.display()
    );
    dir
}

fn typed<T: Serialize + DeserializeOwned>(v: &Value) -> Value {
    let t: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("decode: {e}\n{v:#}"));
    serde_json::to_value(&t).unwrap()
}

/// Method answered by a `*ResultResponse` folder.
fn method_of_response(folder: &str) -> &'static str {
    match folder {
        "CallToolResultResponse" => "tools/call",
        "CompleteResultResponse" => "completion/complete",
        "DiscoverResultResponse" => "server/discover",
        "GetPromptResultResponse" => "prompts/get",
        "ListPromptsResultResponse" => "prompts/list",
        "ListResourceTemplatesResultResponse" => "resources/templates/list",
        "ListResourcesResultResponse" => "resources/list",
        "ListToolsResultResponse" => "tools/list",
        "ReadResourceResultResponse" => "resources/read",
        "SubscriptionsListenResultResponse" => "subscriptions/listen",
        other => panic!("no method known for {other}"),
    }
}

/// Decodes a whole JSON-RPC message the way the sessions do and re-encodes it.
fn envelope(folder: &str, text: &str) -> Value {
    let original: Value = serde_json::from_str(text).unwrap();
    match RawMessage::parse(text).unwrap_or_else(|e| panic!("{folder}: {e:?}")) {
        RawMessage::Request { id, method, params } => {
            let req = ClientRequest::decode(&method, params).unwrap();
            assert!(
                !matches!(req, ClientRequest::Custom(_)),
                "{folder}: {method} not modelled"
            );
            let mut v = json!({"jsonrpc": "2.0", "id": id, "method": req.method()});
            if original.get("params").is_some() {
                v["params"] = serde_json::to_value(&req).unwrap();
            }
            v
        }
        RawMessage::Notification { method, params } => {
            let n = ServerNotification::decode(&method, params).unwrap();
            assert!(
                !matches!(n, ServerNotification::Custom(_)),
                "{folder}: {method} not modelled"
            );
            let mut v = json!({"jsonrpc": "2.0", "method": n.method()});
            if original.get("params").is_some() {
                v["params"] = serde_json::to_value(&n).unwrap();
            }
            v
        }
        RawMessage::Response { id, result } => {
            let r = ServerResult::decode(method_of_response(folder), Era::Modern, result).unwrap();
            assert!(
                !matches!(r, ServerResult::Other(_)),
                "{folder}: result not typed"
            );
            json!({"jsonrpc": "2.0", "id": id, "result": r})
        }
        RawMessage::Error { id, error } => json!({"jsonrpc": "2.0", "id": id, "error": error}),
    }
}

fn standalone(folder: &str, v: &Value) -> Option<Value> {
    Some(match folder {
        "AudioContent" | "ImageContent" | "TextContent" | "ResourceLink" | "EmbeddedResource"
        | "ToolUseContent" | "ToolResultContent" => typed::<ContentBlock>(v),
        "BlobResourceContents" => typed::<BlobResourceContents>(v),
        "TextResourceContents" => typed::<TextResourceContents>(v),
        "Resource" => typed::<Resource>(v),
        "BooleanSchema" => typed::<BooleanSchema>(v),
        "NumberSchema" => typed::<NumberSchema>(v),
        "StringSchema" => typed::<StringSchema>(v),
        "TitledMultiSelectEnumSchema" => typed::<TitledMultiSelectEnumSchema>(v),
        "TitledSingleSelectEnumSchema" => typed::<TitledSingleSelectEnumSchema>(v),
        "UntitledMultiSelectEnumSchema" => typed::<UntitledMultiSelectEnumSchema>(v),
        "UntitledSingleSelectEnumSchema" => typed::<UntitledSingleSelectEnumSchema>(v),
        "CallToolRequestParams" => typed::<CallToolRequestParams>(v),
        "CallToolResult" => typed::<CallToolResult>(v),
        "CancelledNotificationParams" => typed::<CancelledNotificationParams>(v),
        "ClientCapabilities" => typed::<ClientCapabilities>(v),
        "ServerCapabilities" => typed::<ServerCapabilities>(v),
        "CompleteRequestParams" => typed::<CompleteRequestParams>(v),
        "CompleteResult" => typed::<CompleteResult>(v),
        "CreateMessageRequestParams" => typed::<CreateMessageRequestParams>(v),
        "CreateMessageResult" => typed::<CreateMessageResult>(v),
        "DiscoverResult" => typed::<DiscoverResult>(v),
        "ElicitRequestFormParams" | "ElicitRequestURLParams" => typed::<ElicitRequestParams>(v),
        "ElicitResult" => typed::<ElicitResult>(v),
        "GetPromptRequestParams" => typed::<GetPromptRequestParams>(v),
        "GetPromptResult" => typed::<GetPromptResult>(v),
        "InputRequests" => typed::<InputRequests>(v),
        "InputResponses" => typed::<InputResponses>(v),
        "InputRequiredResult" => typed::<InputRequiredResult>(v),
        "InternalError" | "InvalidParamsError" | "MethodNotFoundError" | "ParseError" => {
            typed::<ErrorObject>(v)
        }
        "ListPromptsResult" => typed::<ListPromptsResult>(v),
        "ListResourceTemplatesResult" => typed::<ListResourceTemplatesResult>(v),
        "ListResourcesResult" => typed::<ListResourcesResult>(v),
        "ListRootsResult" => typed::<ListRootsResult>(v),
        "ListToolsResult" => typed::<ListToolsResult>(v),
        "LoggingMessageNotificationParams" => typed::<LoggingMessageNotificationParams>(v),
        "ModelPreferences" => typed::<ModelPreferences>(v),
        "PaginatedRequestParams" => typed::<PaginatedRequestParams>(v),
        "ProgressNotificationParams" => typed::<ProgressNotificationParams>(v),
        "ReadResourceResult" => typed::<ReadResourceResult>(v),
        "ResourceUpdatedNotificationParams" => typed::<ResourceUpdatedNotificationParams>(v),
        "Root" => typed::<Root>(v),
        "SamplingMessage" => typed::<SamplingMessage>(v),
        "SubscriptionsListenResult" => typed::<SubscriptionsListenResult>(v),
        "Tool" => typed::<Tool>(v),
        // Embedded (MRTR) requests: `{method, params}` with no envelope, or `{id, method}`.
        "CreateMessageRequest" | "ElicitRequest" => typed::<InputRequest>(v),
        "ListRootsRequest" => {
            let mut rest = v.clone();
            let id = rest.as_object_mut().unwrap().remove("id");
            let mut out = typed::<InputRequest>(&rest);
            if let Some(id) = id {
                out["id"] = id;
            }
            out
        }
        _ => return None,
    })
}

#[test]
fn every_example_round_trips() {
    let mut folders = 0;
    let mut files = 0;
    let mut untested = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(examples_dir())
        .unwrap()
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let folder = entry.file_name().to_string_lossy().into_owned();
        let mut in_folder = 0;
        for file in std::fs::read_dir(entry.path()).unwrap().flatten() {
            let text = std::fs::read_to_string(file.path()).unwrap();
            let original: Value = serde_json::from_str(&text).unwrap();
            let again = if original.get("jsonrpc").is_some() {
                envelope(&folder, &text)
            } else {
                match standalone(&folder, &original) {
                    Some(v) => v,
                    None => {
                        untested.push(folder.clone());
                        break;
                    }
                }
            };
            assert_eq!(
                again,
                original,
                "{folder}/{}",
                file.file_name().to_string_lossy()
            );
            in_folder += 1;
        }
        if in_folder > 0 {
            folders += 1;
            files += in_folder;
        }
    }
    assert!(
        untested.is_empty(),
        "example folders without a decoder: {untested:?}"
    );
    assert!(
        folders >= 88 && files >= 129,
        "only {folders} folders / {files} files checked"
    );
}
