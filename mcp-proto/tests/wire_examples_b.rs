//! Golden examples of the spec, decoded into our types and re-encoded unchanged.
//!
//! Areas: sampling, elicitation, roots, MRTR, content blocks (`schema/2026-07-28/examples`), and
//! the tasks extension (the JSON examples of `ext-tasks/specification/draft/tasks.md`).
//! The spec is read in place: `$MCP_SPEC_DIR`, else `../../shared/spec` from this crate.

use std::fs;
use std::path::{Path, PathBuf};

use mcp_proto::schema::common::RequestParams;
use mcp_proto::schema::content::{
    BlobResourceContents, ContentBlock, Resource, ResourceContents, TextResourceContents,
};
use mcp_proto::schema::elicitation::{
    BooleanSchema, ElicitRequestFormParams, ElicitRequestParams, ElicitRequestURLParams,
    ElicitResult, NumberSchema, PrimitiveSchemaDefinition, StringSchema,
    TitledMultiSelectEnumSchema, TitledSingleSelectEnumSchema, UntitledMultiSelectEnumSchema,
    UntitledSingleSelectEnumSchema,
};
use mcp_proto::schema::mrtr::{InputRequest, InputRequests, InputRequiredResult, InputResponses};
use mcp_proto::schema::roots::{ListRootsResult, Root};
use mcp_proto::schema::sampling::{
    CreateMessageRequestParams, CreateMessageResult, ModelPreferences, SamplingMessage,
};
use mcp_proto::schema::tasks_ext;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

fn spec_dir() -> PathBuf {
    let dir = match std::env::var_os("MCP_SPEC_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec"),
    };
    assert!(
        dir.join("schema").is_dir(),
        "MCP spec not found: looked in {} (set MCP_SPEC_DIR to the spec root, the folder that \
         holds schema/ and ext-tasks/)",
        dir.display()
    );
    dir
}

fn examples_dir() -> PathBuf {
    spec_dir().join("schema/2026-07-28/examples")
}

/// The JSON files of one example folder, as (name, text).
fn example_files(folder: &str) -> Vec<(String, String)> {
    let dir = examples_dir().join(folder);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.json in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let text = fs::read_to_string(&p).unwrap();
            (
                format!("{folder}/{}", p.file_name().unwrap().to_string_lossy()),
                text,
            )
        })
        .collect()
}

/// Decodes `text` as `T` (straight from the text, as a transport would) and checks that it
/// re-encodes to the same JSON value.
fn round_trip<T: Serialize + DeserializeOwned>(name: &str, text: &str) -> T {
    let original: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
    let typed: T = serde_json::from_str(text).unwrap_or_else(|e| {
        panic!(
            "{name}: does not decode as {}: {e}",
            std::any::type_name::<T>()
        )
    });
    let again = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        again,
        original,
        "{name}: {} does not round-trip",
        std::any::type_name::<T>()
    );
    typed
}

/// Round-trips every file of `folder` as `T`, runs `check` on each, returns the file count.
fn folder<T: Serialize + DeserializeOwned>(name: &str, check: impl Fn(&str, &T)) -> usize {
    let files = example_files(name);
    for (file, text) in &files {
        let t: T = round_trip(file, text);
        check(file, &t);
    }
    files.len()
}

fn any<T>(_: &str, _: &T) {}

/// A request as the examples write it: `jsonrpc` and `id` are optional (the embedded MRTR
/// requests have neither), `params` may be absent.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(deserialize = "P: Deserialize<'de>"))]
struct Envelope<P> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jsonrpc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<Value>,
    method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    params: Option<P>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

fn envelope<P: Serialize + DeserializeOwned>(name: &str, method: &'static str) -> usize {
    folder::<Envelope<P>>(name, |file, e| {
        assert_eq!(e.method, method, "{file}");
        assert!(
            e.extra.is_empty(),
            "{file}: unexpected envelope keys {:?}",
            e.extra
        );
    })
}

/// Every example folder this file is responsible for, with the check that covers it.
const FOLDERS: &[&str] = &[
    "CreateMessageRequest",
    "CreateMessageRequestParams",
    "CreateMessageResult",
    "SamplingMessage",
    "ModelPreferences",
    "ToolUseContent",
    "ToolResultContent",
    "ElicitRequest",
    "ElicitRequestFormParams",
    "ElicitRequestURLParams",
    "ElicitResult",
    "StringSchema",
    "NumberSchema",
    "BooleanSchema",
    "UntitledSingleSelectEnumSchema",
    "TitledSingleSelectEnumSchema",
    "UntitledMultiSelectEnumSchema",
    "TitledMultiSelectEnumSchema",
    "ListRootsRequest",
    "ListRootsResult",
    "Root",
    "InputRequests",
    "InputResponses",
    "InputRequiredResult",
    "TextContent",
    "ImageContent",
    "AudioContent",
    "ResourceLink",
    "EmbeddedResource",
    "TextResourceContents",
    "BlobResourceContents",
    "Resource",
];

#[test]
fn every_folder_of_our_areas_is_listed() {
    let mut missing = Vec::new();
    for entry in fs::read_dir(examples_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let ours = ["CreateMessage", "Elicit", "ListRoots", "Input", "Sampling"]
            .iter()
            .any(|p| name.starts_with(p))
            || name.ends_with("Schema");
        if ours && !FOLDERS.contains(&name.as_str()) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "example folders without a test: {missing:?}"
    );
}

#[test]
fn sampling_examples() {
    let mut n = 0;
    n += envelope::<CreateMessageRequestParams>("CreateMessageRequest", "sampling/createMessage");
    n += folder::<CreateMessageRequestParams>("CreateMessageRequestParams", any);
    n += folder::<CreateMessageResult>("CreateMessageResult", any);
    n += folder::<SamplingMessage>("SamplingMessage", any);
    n += folder::<ModelPreferences>("ModelPreferences", any);
    n += folder::<ContentBlock>("ToolUseContent", |f, b| {
        assert!(matches!(b, ContentBlock::ToolUse(_)), "{f}")
    });
    n += folder::<ContentBlock>("ToolResultContent", |f, b| {
        assert!(matches!(b, ContentBlock::ToolResult(_)), "{f}")
    });
    assert!(n >= 7);
}

#[test]
fn elicitation_examples() {
    envelope::<ElicitRequestParams>("ElicitRequest", "elicitation/create");
    folder::<ElicitRequestFormParams>("ElicitRequestFormParams", any);
    folder::<ElicitRequestParams>("ElicitRequestFormParams", |f, p| {
        assert!(matches!(p, ElicitRequestParams::Form(_)), "{f}")
    });
    folder::<ElicitRequestURLParams>("ElicitRequestURLParams", any);
    folder::<ElicitRequestParams>("ElicitRequestURLParams", |f, p| {
        assert!(matches!(p, ElicitRequestParams::Url(_)), "{f}")
    });
    folder::<ElicitResult>("ElicitResult", any);
}

#[test]
fn elicitation_schema_examples() {
    use PrimitiveSchemaDefinition as P;
    type Check = fn(&P) -> bool;
    let cases: [(&str, Check); 7] = [
        ("StringSchema", |p| matches!(p, P::String(_))),
        ("NumberSchema", |p| matches!(p, P::Number(_))),
        ("BooleanSchema", |p| matches!(p, P::Boolean(_))),
        ("UntitledSingleSelectEnumSchema", |p| {
            matches!(p, P::UntitledSingleSelectEnum(_))
        }),
        ("TitledSingleSelectEnumSchema", |p| {
            matches!(p, P::TitledSingleSelectEnum(_))
        }),
        ("UntitledMultiSelectEnumSchema", |p| {
            matches!(p, P::UntitledMultiSelectEnum(_))
        }),
        ("TitledMultiSelectEnumSchema", |p| {
            matches!(p, P::TitledMultiSelectEnum(_))
        }),
    ];
    for (name, check) in cases {
        folder::<P>(name, |f, p| assert!(check(p), "{f}: decoded as {p:?}"));
    }
    folder::<StringSchema>("StringSchema", any);
    folder::<NumberSchema>("NumberSchema", any);
    folder::<BooleanSchema>("BooleanSchema", any);
    folder::<UntitledSingleSelectEnumSchema>("UntitledSingleSelectEnumSchema", any);
    folder::<TitledSingleSelectEnumSchema>("TitledSingleSelectEnumSchema", any);
    folder::<UntitledMultiSelectEnumSchema>("UntitledMultiSelectEnumSchema", any);
    folder::<TitledMultiSelectEnumSchema>("TitledMultiSelectEnumSchema", any);
}

#[test]
fn roots_examples() {
    envelope::<RequestParams>("ListRootsRequest", "roots/list");
    folder::<ListRootsResult>("ListRootsResult", |f, r| {
        assert!(!r.roots.is_empty(), "{f}")
    });
    folder::<Root>("Root", any);
}

#[test]
fn mrtr_examples() {
    folder::<InputRequests>("InputRequests", |f, r| {
        assert!(
            matches!(r.get("github_login"), Some(InputRequest::Elicit(_))),
            "{f}"
        );
        assert!(
            matches!(
                r.get("capital_of_france"),
                Some(InputRequest::CreateMessage(_))
            ),
            "{f}"
        );
    });
    folder::<InputResponses>("InputResponses", |f, r| {
        assert!(r["github_login"].as_elicit().is_some(), "{f}");
        assert!(r["capital_of_france"].as_create_message().is_some(), "{f}");
    });
    folder::<InputRequiredResult>("InputRequiredResult", |f, r| {
        assert!(
            r.input_requests.is_some() || r.request_state.is_some(),
            "{f}"
        );
        if let Some(reqs) = &r.input_requests {
            assert!(
                reqs.values()
                    .all(|q| !matches!(q, InputRequest::Other { .. })),
                "{f}"
            );
        }
    });
}

#[test]
fn content_examples() {
    type Check = fn(&ContentBlock) -> bool;
    let kinds: [(&str, Check); 5] = [
        ("TextContent", |b| matches!(b, ContentBlock::Text(_))),
        ("ImageContent", |b| matches!(b, ContentBlock::Image(_))),
        ("AudioContent", |b| matches!(b, ContentBlock::Audio(_))),
        ("ResourceLink", |b| {
            matches!(b, ContentBlock::ResourceLink(_))
        }),
        ("EmbeddedResource", |b| {
            matches!(b, ContentBlock::Resource(_))
        }),
    ];
    for (name, check) in kinds {
        folder::<ContentBlock>(name, |f, b| assert!(check(b), "{f}: decoded as {b:?}"));
    }
    folder::<TextResourceContents>("TextResourceContents", any);
    folder::<ResourceContents>("TextResourceContents", |f, c| {
        assert!(matches!(c, ResourceContents::Text(_)), "{f}")
    });
    folder::<BlobResourceContents>("BlobResourceContents", any);
    folder::<ResourceContents>("BlobResourceContents", |f, c| {
        assert!(matches!(c, ResourceContents::Blob(_)), "{f}")
    });
    folder::<Resource>("Resource", any);
}

/// The ```json blocks of the extension's spec page (```jsonc blocks carry comments and
/// placeholders, so they are skipped).
fn ext_tasks_examples() -> Vec<(String, Value)> {
    let path = spec_dir().join("ext-tasks/specification/draft/tasks.md");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut out = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut block {
            None if line.trim() == "```json" => block = Some((i + 1, String::new())),
            None => {}
            Some((start, body)) if line.trim() == "```" => {
                let name = format!("tasks.md:{start}");
                let v =
                    serde_json::from_str(body).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
                out.push((name, v));
                block = None;
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    out
}

fn value_round_trip<T: Serialize + DeserializeOwned>(name: &str, v: &Value) -> T {
    round_trip(name, &v.to_string())
}

#[test]
fn ext_tasks_spec_examples() {
    use tasks_ext::*;
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for (name, msg) in ext_tasks_examples() {
        let kind = if let Some(method) = msg.get("method").and_then(Value::as_str) {
            let params = &msg["params"];
            match method {
                METHOD_GET_TASK => {
                    value_round_trip::<GetTaskRequestParams>(&name, params);
                    "tasks/get"
                }
                METHOD_UPDATE_TASK => {
                    let p: UpdateTaskRequestParams = value_round_trip(&name, params);
                    assert!(!p.input_responses.is_empty(), "{name}");
                    "tasks/update"
                }
                METHOD_CANCEL_TASK => {
                    value_round_trip::<CancelTaskRequestParams>(&name, params);
                    "tasks/cancel"
                }
                METHOD_TASK_STATUS => {
                    let p: TaskStatusNotificationParams = value_round_trip(&name, params);
                    assert!(p.task.is_consistent(), "{name}");
                    "notifications/tasks"
                }
                _ => continue, // tools/call etc.: not this file's types
            }
        } else if let Some(result) = msg.get("result") {
            match result.get("resultType").and_then(Value::as_str) {
                Some("task")
                    if ["result", "error", "inputRequests"]
                        .iter()
                        .any(|k| result.get(k).is_some()) =>
                {
                    // The page's "Task Execution Errors" examples answer `tasks/get` with
                    // `resultType: "task"` (the schema says "complete"); read them as what
                    // they are, a detailed task, and also check `CreateTaskResult` keeps the
                    // extra fields.
                    let r: GetTaskResult = value_round_trip(&name, result);
                    assert!(r.task.is_consistent(), "{name}: status and fields disagree");
                    let c: CreateTaskResult = value_round_trip(&name, result);
                    assert!(!c.task.extra.is_empty(), "{name}");
                    "GetTaskResult"
                }
                Some("task") => {
                    let r: CreateTaskResult = value_round_trip(&name, result);
                    assert!(r.task.extra.is_empty(), "{name}: {:?}", r.task.extra);
                    "CreateTaskResult"
                }
                Some("complete") if result.get("taskId").is_some() => {
                    let r: GetTaskResult = value_round_trip(&name, result);
                    assert!(r.task.is_consistent(), "{name}: status and fields disagree");
                    assert!(
                        r.task.task.extra.is_empty(),
                        "{name}: {:?}",
                        r.task.task.extra
                    );
                    "GetTaskResult"
                }
                Some("complete") if result.get("content").is_none() => {
                    value_round_trip::<UpdateTaskResult>(&name, result);
                    "ack"
                }
                _ => continue, // CallToolResult: not this file's types
            }
        } else {
            continue; // error responses
        };
        *seen.entry(kind).or_default() += 1;
    }
    // The page has no JSON example of tasks/cancel: see `ext_tasks_hand_written`.
    for kind in [
        "tasks/get",
        "tasks/update",
        "notifications/tasks",
        "CreateTaskResult",
        "GetTaskResult",
        "ack",
    ] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) > 0,
            "no example of {kind} found in tasks.md (saw {seen:?})"
        );
    }
}

/// Extension messages the spec page describes without a JSON example.
#[test]
fn ext_tasks_hand_written() {
    use serde_json::json;
    use tasks_ext::*;
    let id = "786512e2-9e0d-44bd-8f29-789f320fe840";
    let p: CancelTaskRequestParams =
        value_round_trip("tasks/cancel params", &json!({ "taskId": id }));
    assert_eq!(p.task_id, id);
    value_round_trip::<CancelTaskResult>("tasks/cancel ack", &json!({"resultType": "complete"}));
    let cancelled = json!({
        "taskId": id, "status": "cancelled", "statusMessage": "Cancelled by the client.",
        "createdAt": "2025-11-25T10:30:00Z", "lastUpdatedAt": "2025-11-25T10:35:00Z",
        "ttlMs": null, "_meta": {"x": 1}
    });
    let n: TaskStatusNotificationParams = value_round_trip("notifications/tasks", &cancelled);
    assert_eq!(n.task.task.ttl_ms, Some(None));
    assert!(n.task.is_consistent());
    let input = json!({
        "taskId": id, "status": "input_required",
        "createdAt": "2025-11-25T10:30:00Z", "lastUpdatedAt": "2025-11-25T10:35:00Z",
        "ttlMs": 3600000,
        "inputRequests": {"roots": {"method": "roots/list"}}
    });
    let n: TaskStatusNotificationParams = value_round_trip("notifications/tasks", &input);
    assert!(n.task.is_consistent());
    value_round_trip::<TaskSubscriptionNotifications>("listen filter", &json!({"taskIds": [id]}));
    value_round_trip::<TaskSubscriptionAcknowledgedNotifications>(
        "acknowledged",
        &json!({"taskIds": [id]}),
    );
    value_round_trip::<TasksExtensionCapability>("capability", &json!({}));
    assert_eq!(EXTENSION_ID, "io.modelcontextprotocol/tasks");
}
