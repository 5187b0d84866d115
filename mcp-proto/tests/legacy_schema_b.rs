//! Values built with our types, serialized, and validated against the published JSON Schemas:
//! `schema/<version>/schema.json` for every version that defines the message (legacy versions
//! first, plus 2026-07-28 for MRTR), and `ext-tasks/schema/draft/schema.json` for the tasks
//! extension. Areas: sampling, elicitation, roots, MRTR, 2025-11-25 tasks, content blocks.
//!
//! The spec is read in place: `$MCP_SPEC_DIR`, else `../../shared/spec` from this crate.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mcp_proto::jsonrpc::ErrorObject;
use mcp_proto::schema::common::{Meta, PaginatedRequestParams, RequestParams, Role, TaskMetadata};
use mcp_proto::schema::content::{
    ContentBlock, EmbeddedResource, Resource, ResourceContents, TextResourceContents,
    ToolResultContent, ToolUseContent,
};
use mcp_proto::schema::elicitation::{
    BooleanSchema, ElicitRequestParams, ElicitRequestURLParams, ElicitResult, ElicitValue,
    ElicitationCompleteNotificationParams, LegacyTitledEnumSchema, NumberSchema, NumberType,
    RequestedSchema, StringSchema, TitledEnumItems, TitledEnumOption, TitledMultiSelectEnumSchema,
    TitledSingleSelectEnumSchema, UntitledEnumItems, UntitledMultiSelectEnumSchema,
    UntitledSingleSelectEnumSchema,
};
use mcp_proto::schema::mrtr::{InputRequest, InputRequiredResult, InputResponses};
use mcp_proto::schema::roots::{ListRootsResult, Root};
use mcp_proto::schema::sampling::{
    CreateMessageRequestParams, CreateMessageResult, IncludeContext, ModelHint, ModelPreferences,
    SamplingContent, SamplingMessage, StopReason, ToolChoice, ToolChoiceMode,
};
use mcp_proto::schema::tasks::{self, Task, TaskStatus};
use mcp_proto::schema::tasks_ext;
use mcp_proto::schema::tools::Tool;
use serde::Serialize;
use serde_json::{json, Value};

const V2024: &str = "2024-11-05";
const V2025_03: &str = "2025-03-26";
const V2025_06: &str = "2025-06-18";
const V2025_11: &str = "2025-11-25";
const V2026: &str = "2026-07-28";
const EXT: &str = "ext-tasks";
const ALL_LEGACY: &[&str] = &[V2024, V2025_03, V2025_06, V2025_11];

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

/// The schema documents, loaded once: version (or `ext-tasks`) → root document.
fn documents() -> &'static HashMap<&'static str, Value> {
    static DOCS: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let root = spec_dir();
        let mut docs = HashMap::new();
        for v in [V2024, V2025_03, V2025_06, V2025_11, V2026, EXT] {
            let path = if v == EXT {
                root.join("ext-tasks/schema/draft/schema.json")
            } else {
                root.join("schema").join(v).join("schema.json")
            };
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            docs.insert(v, serde_json::from_str(&text).unwrap());
        }
        docs
    })
}

/// `definitions` (draft-07 documents) or `$defs` (2020-12 documents).
fn defs_key(doc: &Value) -> &'static str {
    if doc.get("$defs").is_some() {
        "$defs"
    } else {
        "definitions"
    }
}

/// Validation errors of `instance` against definition `def` of document `version`.
fn errors(version: &str, def: &str, instance: &Value) -> Vec<String> {
    let doc = &documents()[version];
    let key = defs_key(doc);
    assert!(
        doc[key].get(def).is_some(),
        "{version} has no definition {def}"
    );
    let mut schema = doc.clone();
    schema["$ref"] = Value::String(format!("#/{key}/{def}"));
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{version}: schema does not compile: {e}"));
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Serializes `value` and asserts it is valid as `def` in each of `versions`.
fn valid<T: Serialize>(def: &str, value: &T, versions: &[&str]) -> Value {
    let instance = serde_json::to_value(value).unwrap();
    for v in versions {
        let errs = errors(v, def, &instance);
        assert!(
            errs.is_empty(),
            "{def} invalid against {v}:\n  {}\ninstance: {instance:#}",
            errs.join("\n  ")
        );
    }
    instance
}

/// Serializes `value` and asserts it is NOT valid as `def` in `version`.
fn invalid<T: Serialize>(def: &str, value: &T, version: &str) {
    let instance = serde_json::to_value(value).unwrap();
    assert!(
        !errors(version, def, &instance).is_empty(),
        "{def} unexpectedly valid against {version}: {instance:#}"
    );
}

/// A JSON-RPC request around typed params.
fn request<P: Serialize>(method: &str, params: &P) -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
}

/// A JSON-RPC notification around typed params.
fn notification<P: Serialize>(method: &str, params: &P) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

fn meta(key: &str, value: Value) -> Option<Meta> {
    let mut m = Meta::new();
    m.insert(key, value);
    Some(m)
}

fn basic_sampling_params() -> CreateMessageRequestParams {
    CreateMessageRequestParams {
        model_preferences: Some(ModelPreferences {
            hints: Some(vec![ModelHint::new("claude"), ModelHint::new("sonnet")]),
            cost_priority: Some(0.2),
            speed_priority: Some(0.5),
            intelligence_priority: Some(0.9),
            ..Default::default()
        }),
        system_prompt: Some("Be brief.".into()),
        include_context: Some(IncludeContext::ThisServer),
        temperature: Some(0.7),
        stop_sequences: Some(vec!["\n\n".into()]),
        metadata: Some(json!({"provider": {"k": 1}}).as_object().unwrap().clone()),
        ..CreateMessageRequestParams::new(
            vec![
                SamplingMessage::user_text("What is the capital of France?"),
                SamplingMessage::new(Role::User, ContentBlock::image("aGVsbG8=", "image/png")),
            ],
            100,
        )
    }
}

fn weather_tool() -> Tool {
    Tool::new(
        "get_weather",
        "Weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

fn tool_use(id: &str, city: &str) -> ContentBlock {
    ContentBlock::ToolUse(ToolUseContent {
        id: id.into(),
        name: "get_weather".into(),
        input: json!({ "city": city }),
        meta: None,
        extra: Default::default(),
    })
}

fn tool_result(id: &str, text: &str) -> ContentBlock {
    ContentBlock::ToolResult(ToolResultContent {
        tool_use_id: id.into(),
        content: vec![ContentBlock::text(text)],
        structured_content: Some(json!({"temperature": 18})),
        is_error: Some(false),
        meta: None,
        extra: Default::default(),
    })
}

#[test]
fn sampling_against_every_version() {
    let basic = basic_sampling_params();
    valid(
        "CreateMessageRequest",
        &request("sampling/createMessage", &basic),
        ALL_LEGACY,
    );
    // 2026-07-28 embeds it without jsonrpc/id.
    valid(
        "CreateMessageRequest",
        &InputRequest::CreateMessage(basic.clone()),
        &[V2026],
    );
    valid("CreateMessageRequestParams", &basic, &[V2025_11, V2026]);

    let with_audio = CreateMessageRequestParams::new(
        vec![SamplingMessage::new(
            Role::User,
            ContentBlock::audio("UklGRg==", "audio/wav"),
        )],
        10,
    );
    valid(
        "CreateMessageRequest",
        &request("sampling/createMessage", &with_audio),
        &[V2025_03, V2025_06, V2025_11],
    );
    invalid(
        "CreateMessageRequest",
        &request("sampling/createMessage", &with_audio),
        V2024,
    );

    let text_result = CreateMessageResult::new(
        "claude-3-sonnet",
        ContentBlock::text("Paris."),
        Some(StopReason::EndTurn),
    );
    valid("CreateMessageResult", &text_result, ALL_LEGACY);
    let mut other_reason = text_result.clone();
    other_reason.stop_reason = Some(StopReason::Other("refusal".into()));
    other_reason.meta = meta("k", json!("v"));
    valid("CreateMessageResult", &other_reason, ALL_LEGACY);
    valid(
        "SamplingMessage",
        &SamplingMessage::assistant_text("hi"),
        ALL_LEGACY,
    );
}

#[test]
fn sampling_with_tools_2025_11_25() {
    let params = CreateMessageRequestParams {
        tools: Some(vec![weather_tool()]),
        tool_choice: Some(ToolChoice::new(ToolChoiceMode::Required)),
        task: Some(TaskMetadata {
            ttl: Some(60_000),
            ..Default::default()
        }),
        meta: meta("progressToken", json!("p1")),
        ..CreateMessageRequestParams::new(
            vec![
                SamplingMessage::user_text("Weather in Paris and London?"),
                SamplingMessage::new(Role::Assistant, ContentBlock::text("placeholder")),
                SamplingMessage {
                    role: Role::User,
                    content: SamplingContent::Multiple(vec![
                        tool_result("c1", "18°C"),
                        tool_result("c2", "15°C"),
                    ]),
                    meta: None,
                    extra: Default::default(),
                },
            ],
            1000,
        )
    };
    let mut params = params;
    params.messages[1].content =
        SamplingContent::Multiple(vec![tool_use("c1", "Paris"), tool_use("c2", "London")]);
    valid(
        "CreateMessageRequest",
        &request("sampling/createMessage", &params),
        &[V2025_11],
    );
    valid("CreateMessageRequestParams", &params, &[V2025_11]);

    let tool_result_msg = CreateMessageResult::new(
        "claude-3-sonnet",
        vec![tool_use("c1", "Paris"), tool_use("c2", "London")],
        Some(StopReason::ToolUse),
    );
    valid("CreateMessageResult", &tool_result_msg, &[V2025_11, V2026]);
    // Content arrays did not exist before 2025-11-25.
    invalid("CreateMessageResult", &tool_result_msg, V2025_06);
}

fn legacy_form_schema() -> RequestedSchema {
    RequestedSchema::new()
        .with_property(
            "name",
            StringSchema {
                title: Some("Name".into()),
                min_length: Some(1),
                max_length: Some(50),
                format: Some("email".into()),
                ..Default::default()
            },
            true,
        )
        .with_property(
            "age",
            NumberSchema {
                type_: NumberType::Integer,
                minimum: Some(18.into()),
                maximum: Some(150.into()),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "subscribe",
            BooleanSchema {
                default: Some(true),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "size",
            LegacyTitledEnumSchema {
                enum_: vec!["s".into(), "m".into()],
                enum_names: Some(vec!["Small".into(), "Medium".into()]),
                ..Default::default()
            },
            false,
        )
}

#[test]
fn elicitation_against_every_version() {
    // 2025-06-18 shape: no mode.
    let mut form = ElicitRequestParams::form("Who are you?", legacy_form_schema());
    if let ElicitRequestParams::Form(f) = &mut form {
        f.mode = None;
    }
    valid(
        "ElicitRequest",
        &request("elicitation/create", &form),
        &[V2025_06, V2025_11],
    );

    // 2025-11-25 shape: explicit mode, new enum schemas, defaults, task.
    let schema = legacy_form_schema()
        .with_property(
            "color",
            UntitledSingleSelectEnumSchema {
                enum_: vec!["red".into(), "green".into()],
                default: Some("red".into()),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "color2",
            TitledSingleSelectEnumSchema {
                one_of: vec![TitledEnumOption::new("#f00", "Red")],
                ..Default::default()
            },
            false,
        )
        .with_property(
            "colors",
            UntitledMultiSelectEnumSchema {
                min_items: Some(1),
                items: UntitledEnumItems {
                    enum_: vec!["a".into(), "b".into()],
                    ..Default::default()
                },
                default: Some(vec!["a".into()]),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "colors2",
            TitledMultiSelectEnumSchema {
                max_items: Some(2),
                items: TitledEnumItems {
                    any_of: vec![
                        TitledEnumOption::new("a", "A"),
                        TitledEnumOption::new("b", "B"),
                    ],
                    ..Default::default()
                },
                ..Default::default()
            },
            false,
        );
    let mut form = ElicitRequestParams::form("More, please", schema);
    if let ElicitRequestParams::Form(f) = &mut form {
        f.task = Some(TaskMetadata::default());
        f.requested_schema.schema = Some("https://json-schema.org/draft/2020-12/schema".into());
    }
    valid(
        "ElicitRequest",
        &request("elicitation/create", &form),
        &[V2025_11],
    );
    valid("ElicitRequestParams", &form, &[V2025_11]);
    valid("ElicitRequestFormParams", &form, &[V2025_11]);
    valid(
        "ElicitRequest",
        &InputRequest::Elicit(form.clone()),
        &[V2026],
    );

    let url = ElicitRequestParams::Url(ElicitRequestURLParams {
        elicitation_id: Some("e-1".into()),
        ..match ElicitRequestParams::url("Sign in", "https://example.com/auth") {
            ElicitRequestParams::Url(u) => u,
            _ => unreachable!(),
        }
    });
    valid(
        "ElicitRequest",
        &request("elicitation/create", &url),
        &[V2025_11],
    );
    valid("ElicitRequestURLParams", &url, &[V2025_11]);
    // Without elicitationId it is a 2026-07-28 URL request, not a 2025-11-25 one.
    let mut url_2026 = url.clone();
    if let ElicitRequestParams::Url(u) = &mut url_2026 {
        u.elicitation_id = None;
    }
    invalid("ElicitRequestURLParams", &url_2026, V2025_11);
    valid("ElicitRequestURLParams", &url_2026, &[V2026]);

    let mut content = BTreeMap::new();
    content.insert("name".to_string(), ElicitValue::from("octocat"));
    content.insert("age".to_string(), ElicitValue::from(30));
    content.insert("subscribe".to_string(), ElicitValue::from(true));
    let accept = ElicitResult::accept(content.clone());
    valid("ElicitResult", &accept, &[V2025_06, V2025_11, V2026]);
    for r in [
        ElicitResult::decline(),
        ElicitResult::cancel(),
        ElicitResult::accept_url(),
    ] {
        valid("ElicitResult", &r, &[V2025_06, V2025_11, V2026]);
    }
    content.insert(
        "colors".to_string(),
        ElicitValue::from(vec!["a".to_string()]),
    );
    let multi = ElicitResult::accept(content);
    valid("ElicitResult", &multi, &[V2025_11, V2026]);
    invalid("ElicitResult", &multi, V2025_06);

    let done = ElicitationCompleteNotificationParams {
        elicitation_id: "e-1".into(),
        ..Default::default()
    };
    valid(
        "ElicitationCompleteNotification",
        &notification("notifications/elicitation/complete", &done),
        &[V2025_11],
    );
}

#[test]
fn roots_against_every_version() {
    valid(
        "ListRootsRequest",
        &json!({"jsonrpc": "2.0", "id": 1, "method": "roots/list"}),
        ALL_LEGACY,
    );
    valid(
        "ListRootsRequest",
        &request("roots/list", &RequestParams::default()),
        ALL_LEGACY,
    );
    valid("ListRootsRequest", &InputRequest::list_roots(), &[V2026]);
    let result = ListRootsResult::new(vec![
        Root::new("file:///home/u/a", "A"),
        Root {
            uri: "file:///home/u/b".into(),
            ..Default::default()
        },
    ]);
    valid("ListRootsResult", &result, ALL_LEGACY);
    valid("ListRootsResult", &result, &[V2026]);
    valid("Root", &result.roots[0], ALL_LEGACY);
    invalid(
        "ListRootsResult",
        &json!({"roots": [{"name": "no uri"}]}),
        V2025_11,
    );
}

#[test]
fn content_blocks_against_every_version() {
    valid("TextContent", &ContentBlock::text("hi"), ALL_LEGACY);
    valid(
        "ImageContent",
        &ContentBlock::image("aGk=", "image/png"),
        ALL_LEGACY,
    );
    let audio = ContentBlock::audio("aGk=", "audio/wav");
    valid(
        "AudioContent",
        &audio,
        &[V2025_03, V2025_06, V2025_11, V2026],
    );
    let embedded = ContentBlock::Resource(EmbeddedResource {
        resource: ResourceContents::Text(TextResourceContents {
            uri: "file:///a.txt".into(),
            mime_type: Some("text/plain".into()),
            text: "a".into(),
            meta: None,
            extra: Default::default(),
        }),
        annotations: None,
        meta: None,
        extra: Default::default(),
    });
    valid("EmbeddedResource", &embedded, ALL_LEGACY);
    let link = ContentBlock::ResourceLink(Resource {
        uri: "file:///a.txt".into(),
        name: "a.txt".into(),
        ..Default::default()
    });
    valid("ResourceLink", &link, &[V2025_06, V2025_11, V2026]);
    valid("ContentBlock", &link, &[V2025_06, V2025_11, V2026]);
    valid(
        "ToolUseContent",
        &tool_use("c1", "Paris"),
        &[V2025_11, V2026],
    );
    valid(
        "ToolResultContent",
        &tool_result("c1", "18°C"),
        &[V2025_11, V2026],
    );
    valid(
        "SamplingMessageContentBlock",
        &tool_result("c1", "18°C"),
        &[V2025_11, V2026],
    );
    // A tool_use block is no `ContentBlock` (tool/prompt content).
    invalid("ContentBlock", &tool_use("c1", "Paris"), V2025_11);
}

fn task(status: TaskStatus) -> Task {
    Task {
        status_message: Some("status".into()),
        poll_interval: Some(5000),
        ..Task::new(
            "t-1",
            status,
            "2025-11-25T10:30:00Z",
            "2025-11-25T10:40:00Z",
            Some(60_000),
        )
    }
}

#[test]
fn tasks_2025_11_25() {
    let v = &[V2025_11];
    for status in [
        TaskStatus::Working,
        TaskStatus::InputRequired,
        TaskStatus::Completed,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
    ] {
        valid("Task", &task(status), v);
        valid("TaskStatus", &status, v);
    }
    let unlimited = Task::new("t-2", TaskStatus::Working, "a", "b", None);
    assert_eq!(valid("Task", &unlimited, v)["ttl"], Value::Null);
    // `ttl` is required (number or null): absent must not validate.
    let mut absent = unlimited.clone();
    absent.ttl = None;
    invalid("Task", &absent, V2025_11);

    let mut created = tasks::CreateTaskResult::new(task(TaskStatus::Working));
    created.meta = meta(
        "io.modelcontextprotocol/model-immediate-response",
        json!("Working on it"),
    );
    valid("CreateTaskResult", &created, v);
    assert_eq!(created.model_immediate_response(), Some("Working on it"));

    let id = tasks::GetTaskRequestParams::new("t-1");
    valid("GetTaskRequest", &request("tasks/get", &id), v);
    valid(
        "GetTaskResult",
        &tasks::GetTaskResult::from(task(TaskStatus::Working)),
        v,
    );
    valid(
        "GetTaskPayloadRequest",
        &request(
            "tasks/result",
            &tasks::GetTaskPayloadRequestParams::new("t-1"),
        ),
        v,
    );
    let mut payload = tasks::GetTaskPayloadResult::from_result(&CreateMessageResult::new(
        "m",
        ContentBlock::text("done"),
        None,
    ))
    .unwrap();
    let mut related = Meta::new();
    tasks::RelatedTaskMetadata::new("t-1").insert_into(&mut related);
    payload.meta = Some(related.clone());
    valid("GetTaskPayloadResult", &payload, v);
    assert_eq!(
        tasks::RelatedTaskMetadata::from_meta(&related).map(|r| r.task_id),
        Some("t-1".to_string())
    );
    valid(
        "RelatedTaskMetadata",
        &tasks::RelatedTaskMetadata::new("t-1"),
        v,
    );
    valid(
        "CancelTaskRequest",
        &request("tasks/cancel", &tasks::CancelTaskRequestParams::new("t-1")),
        v,
    );
    valid(
        "CancelTaskResult",
        &tasks::CancelTaskResult::from(task(TaskStatus::Cancelled)),
        v,
    );
    valid(
        "ListTasksRequest",
        &request(
            "tasks/list",
            &PaginatedRequestParams {
                cursor: Some("c".into()),
                ..Default::default()
            },
        ),
        v,
    );
    let list = tasks::ListTasksResult {
        tasks: vec![task(TaskStatus::Working), task(TaskStatus::Completed)],
        next_cursor: Some("next".into()),
        ..Default::default()
    };
    valid("ListTasksResult", &list, v);
    valid(
        "TaskStatusNotification",
        &notification(
            "notifications/tasks/status",
            &tasks::TaskStatusNotificationParams::from(task(TaskStatus::Failed)),
        ),
        v,
    );
}

#[test]
fn mrtr_2026_07_28() {
    let v = &[V2026];
    let result = InputRequiredResult::new()
        .with_request(
            "login",
            ElicitRequestParams::form(
                "GitHub login?",
                RequestedSchema::new().with_property("name", StringSchema::default(), true),
            ),
        )
        .with_request(
            "capital",
            CreateMessageRequestParams::new(vec![SamplingMessage::user_text("Capital?")], 50),
        )
        .with_request("roots", InputRequest::list_roots())
        .with_state("opaque");
    let encoded = valid("InputRequiredResult", &result, v);
    assert_eq!(encoded["resultType"], "input_required");
    valid("InputRequests", result.input_requests.as_ref().unwrap(), v);

    let mut responses = InputResponses::new();
    responses.insert("login".into(), ElicitResult::decline().into());
    responses.insert(
        "capital".into(),
        CreateMessageResult::new("m", ContentBlock::text("Paris"), Some(StopReason::EndTurn))
            .into(),
    );
    responses.insert(
        "roots".into(),
        ListRootsResult::new(vec![Root::new("file:///r", "r")]).into(),
    );
    valid("InputResponses", &responses, v);
}

fn ext_task(status: TaskStatus) -> tasks_ext::Task {
    tasks_ext::Task {
        status_message: Some("status".into()),
        poll_interval_ms: Some(5000),
        ..tasks_ext::Task::new(
            "786512e2",
            status,
            "2025-11-25T10:30:00Z",
            "2025-11-25T10:40:00Z",
            Some(3_600_000),
        )
    }
}

#[test]
fn tasks_extension_schema() {
    use tasks_ext::*;
    let v = &[EXT];
    valid("Task", &ext_task(TaskStatus::Working), v);
    valid(
        "Task",
        &Task::new("t", TaskStatus::Working, "a", "b", None),
        v,
    );
    valid(
        "CreateTaskResult",
        &CreateTaskResult::new(ext_task(TaskStatus::Working)),
        v,
    );

    let mut requests = mcp_proto::schema::mrtr::InputRequests::new();
    requests.insert(
        "name".into(),
        ElicitRequestParams::form(
            "Name?",
            RequestedSchema::new().with_property("name", StringSchema::default(), true),
        )
        .into(),
    );
    let detailed = [
        DetailedTask::plain(ext_task(TaskStatus::Working)),
        DetailedTask::input_required(ext_task(TaskStatus::Working), requests),
        DetailedTask::completed(
            ext_task(TaskStatus::Working),
            &json!({"content": [{"type": "text", "text": "ok"}], "isError": true}),
        )
        .unwrap(),
        DetailedTask::failed(
            ext_task(TaskStatus::Working),
            ErrorObject::internal("rate limited"),
        ),
        DetailedTask::plain(ext_task(TaskStatus::Cancelled)),
    ];
    for d in &detailed {
        assert!(d.is_consistent());
        valid("DetailedTask", d, v);
        valid("GetTaskResult", &GetTaskResult::new(d.clone()), v);
        valid(
            "TaskStatusNotification",
            &notification(
                "notifications/tasks",
                &TaskStatusNotificationParams::from(d.clone()),
            ),
            v,
        );
    }
    // A failed task without its error is not a DetailedTask.
    invalid(
        "DetailedTask",
        &DetailedTask::plain(ext_task(TaskStatus::Failed)),
        EXT,
    );

    valid(
        "GetTaskRequest",
        &request(METHOD_GET_TASK, &GetTaskRequestParams::new("786512e2")),
        v,
    );
    let mut responses = InputResponses::new();
    let mut content = BTreeMap::new();
    content.insert("name".to_string(), ElicitValue::from("Luca"));
    responses.insert("name".into(), ElicitResult::accept(content).into());
    valid(
        "UpdateTaskRequest",
        &request(
            METHOD_UPDATE_TASK,
            &UpdateTaskRequestParams::new("786512e2", responses),
        ),
        v,
    );
    valid(
        "CancelTaskRequest",
        &request(
            METHOD_CANCEL_TASK,
            &CancelTaskRequestParams::new("786512e2"),
        ),
        v,
    );
    valid("UpdateTaskResult", &ack(), v);
    valid("CancelTaskResult", &ack(), v);
    valid(
        "TaskSubscriptionNotifications",
        &TaskSubscriptionNotifications {
            task_ids: Some(vec!["786512e2".into()]),
            ..Default::default()
        },
        v,
    );
    valid(
        "TaskSubscriptionAcknowledgedNotifications",
        &TaskSubscriptionAcknowledgedNotifications::default(),
        v,
    );
    valid(
        "TasksExtensionCapability",
        &TasksExtensionCapability::default(),
        v,
    );
}
