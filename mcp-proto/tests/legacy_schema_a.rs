//! Part A messages built with our types validate against each legacy `schema.json`
//! (2024-11-05, 2025-03-26 and 2025-06-18 use `definitions`; 2025-11-25 uses `$defs`).
//!
//! Each version gets values that use only the features it has, so a field we emit in the wrong
//! shape for an older version shows up here. Negative checks make sure the validator bites.
//!
//! The spec is read in place from `$MCP_SPEC_DIR`, or else `../../shared/spec` relative to this
//! crate.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Map, Value};

use mcp_proto::jsonrpc::RequestId;
use mcp_proto::schema::completion::*;
use mcp_proto::schema::lifecycle::*;
use mcp_proto::schema::logging::*;
use mcp_proto::schema::notifications::*;
use mcp_proto::schema::prompts::*;
use mcp_proto::schema::resources::*;
use mcp_proto::schema::tools::*;
use mcp_proto::schema::{
    Annotations, BlobResourceContents, ContentBlock, EmbeddedResource, Icon, Implementation,
    LoggingLevel, Meta, PaginatedRequestParams, RequestParams, Resource, ResourceContents, Role,
    TaskMetadata, TextResourceContents,
};

const LEGACY: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

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

/// One version's `schema.json`, with validators built on demand per definition.
struct Schema {
    version: &'static str,
    doc: Value,
    defs_key: &'static str,
    validators: HashMap<String, jsonschema::Validator>,
    checked: usize,
}

impl Schema {
    fn load(version: &'static str) -> Schema {
        let path = spec_root().join("schema").join(version).join("schema.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).expect("schema.json is JSON");
        let defs_key = if doc.get("$defs").is_some() {
            "$defs"
        } else {
            "definitions"
        };
        assert!(doc.get(defs_key).is_some_and(Value::is_object));
        Schema {
            version,
            doc,
            defs_key,
            validators: HashMap::new(),
            checked: 0,
        }
    }

    fn has(&self, def: &str) -> bool {
        self.doc[self.defs_key].get(def).is_some()
    }

    /// A validator for `{"$ref": "#/<defs>/<def>"}` merged into the root document, so every
    /// internal reference still resolves.
    fn validator(&mut self, def: &str) -> &jsonschema::Validator {
        assert!(self.has(def), "{}: no definition {def}", self.version);
        if !self.validators.contains_key(def) {
            let mut schema = self.doc.clone();
            schema["$ref"] = Value::String(format!("#/{}/{def}", self.defs_key));
            let v = jsonschema::validator_for(&schema).unwrap_or_else(|e| {
                panic!("{}: cannot build validator for {def}: {e}", self.version)
            });
            self.validators.insert(def.to_owned(), v);
        }
        &self.validators[def]
    }

    fn errors(&mut self, def: &str, value: &Value) -> Vec<String> {
        self.validator(def)
            .iter_errors(value)
            .map(|e| {
                format!(
                    "{} (at {:?}, schema {:?})",
                    e,
                    e.instance_path().as_str(),
                    e.schema_path().as_str()
                )
            })
            .collect()
    }

    fn assert_valid(&mut self, def: &str, value: &Value) {
        let errors = self.errors(def, value);
        assert!(
            errors.is_empty(),
            "{}: value is not a valid {def}:\n{}\nvalue: {}",
            self.version,
            errors.join("\n"),
            serde_json::to_string_pretty(value).unwrap()
        );
        self.checked += 1;
    }

    fn assert_invalid(&mut self, def: &str, value: &Value) {
        assert!(
            !self.errors(def, value).is_empty(),
            "{}: a broken value was accepted as {def}: {value}",
            self.version
        );
        self.checked += 1;
    }

    /// Validates a request against its definition, its params definition (when the version
    /// has one), and the `ClientRequest` union.
    fn request(&mut self, def: &str, method: &str, params: &Value) -> Value {
        let msg = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        self.assert_valid(def, &msg);
        let params_def = format!("{def}Params");
        if self.has(&params_def) {
            self.assert_valid(&params_def, params);
        }
        self.assert_valid("ClientRequest", &msg);
        msg
    }

    /// Validates a notification against its definition and its params definition.
    fn notification(&mut self, def: &str, method: &str, params: &Value) -> Value {
        let msg = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.assert_valid(def, &msg);
        let params_def = format!("{def}Params");
        if self.has(&params_def) {
            self.assert_valid(&params_def, params);
        }
        msg
    }
}

fn to_json<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("serializes")
}

/// Index of a legacy version, oldest first: features arrive at 1 (2025-03-26), 2 (2025-06-18)
/// and 3 (2025-11-25).
fn level(version: &str) -> usize {
    LEGACY.iter().position(|v| *v == version).unwrap()
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn icon() -> Icon {
    Icon {
        src: "https://example.com/icon.png".into(),
        mime_type: Some("image/png".into()),
        sizes: Some(vec!["48x48".into()]),
        ..Default::default()
    }
}

fn client_info(lv: usize) -> Implementation {
    let mut info = Implementation::new("example-client", "1.0.0");
    if lv >= 2 {
        info.title = Some("Example Client".into());
    }
    if lv >= 3 {
        info.description = Some("A client".into());
        info.icons = Some(vec![icon()]);
        info.website_url = Some("https://example.com".into());
    }
    info
}

fn client_capabilities(lv: usize) -> ClientCapabilities {
    let mut caps = ClientCapabilities {
        experimental: Some(obj(json!({"com.example/feature": {}}))),
        roots: Some(RootsCapability {
            list_changed: Some(true),
            ..Default::default()
        }),
        sampling: Some(SamplingCapability::default()),
        ..Default::default()
    };
    if lv >= 2 {
        caps.elicitation = Some(ElicitationCapability::default());
    }
    if lv >= 3 {
        caps.sampling = Some(SamplingCapability {
            context: Some(Map::new()),
            tools: Some(Map::new()),
            ..Default::default()
        });
        caps.elicitation = Some(ElicitationCapability {
            form: Some(Map::new()),
            url: Some(Map::new()),
            ..Default::default()
        });
        caps.tasks = Some(ClientTasksCapability {
            list: Some(Map::new()),
            cancel: Some(Map::new()),
            requests: Some(ClientTaskRequests {
                sampling: Some(SamplingTaskRequests {
                    create_message: Some(Map::new()),
                    ..Default::default()
                }),
                elicitation: Some(ElicitationTaskRequests {
                    create: Some(Map::new()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    caps
}

fn server_capabilities(lv: usize) -> ServerCapabilities {
    let mut caps = ServerCapabilities {
        experimental: Some(obj(json!({"com.example/feature": {"level": 2}}))),
        logging: Some(Map::new()),
        prompts: Some(PromptsCapability {
            list_changed: Some(true),
            ..Default::default()
        }),
        resources: Some(ResourcesCapability {
            subscribe: Some(true),
            list_changed: Some(false),
            ..Default::default()
        }),
        tools: Some(ToolsCapability::default()),
        ..Default::default()
    };
    if lv >= 1 {
        caps.completions = Some(Map::new());
    }
    if lv >= 3 {
        caps.tasks = Some(ServerTasksCapability {
            list: Some(Map::new()),
            cancel: Some(Map::new()),
            requests: Some(ServerTaskRequests {
                tools: Some(ToolsTaskRequests {
                    call: Some(Map::new()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    caps
}

fn tool(lv: usize) -> Tool {
    let mut t = Tool::new(
        "get_weather",
        "Current weather for a city",
        json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        }),
    );
    if lv >= 1 {
        t.annotations = Some(ToolAnnotations {
            title: Some("Weather".into()),
            read_only_hint: Some(true),
            open_world_hint: Some(true),
            ..Default::default()
        });
    }
    if lv >= 2 {
        t.title = Some("Weather lookup".into());
        t.output_schema = Some(json!({
            "type": "object",
            "properties": {"celsius": {"type": "number"}},
            "required": ["celsius"]
        }));
    }
    if lv >= 3 {
        t.execution = Some(ToolExecution {
            task_support: Some(TaskSupport::Optional),
            ..Default::default()
        });
        t.icons = Some(vec![icon()]);
        let mut meta = Meta::new();
        meta.insert("com.example/tag", json!("weather"));
        t.meta = Some(meta);
    }
    t
}

fn annotations(lv: usize) -> Annotations {
    Annotations {
        audience: Some(vec![Role::User, Role::Assistant]),
        priority: Some(0.5),
        last_modified: (lv >= 2).then(|| "2025-01-12T15:00:58Z".to_owned()),
        ..Default::default()
    }
}

fn resource(lv: usize) -> Resource {
    Resource {
        uri: "file:///project/README.md".into(),
        name: "README.md".into(),
        title: (lv >= 2).then(|| "Project readme".to_owned()),
        description: Some("The readme".into()),
        mime_type: Some("text/markdown".into()),
        size: Some(1024),
        annotations: Some(annotations(lv)),
        icons: (lv >= 3).then(|| vec![icon()]),
        ..Default::default()
    }
}

fn embedded(lv: usize) -> ContentBlock {
    ContentBlock::Resource(EmbeddedResource {
        resource: ResourceContents::Text(TextResourceContents {
            uri: "file:///project/src/main.rs".into(),
            mime_type: Some("text/x-rust".into()),
            text: "fn main() {}".into(),
            meta: None,
            extra: Default::default(),
        }),
        annotations: Some(annotations(lv)),
        meta: None,
        extra: Default::default(),
    })
}

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn call_tool_result(lv: usize) -> CallToolResult {
    let mut content = vec![
        ContentBlock::text("22 degrees"),
        ContentBlock::image(PNG, "image/png"),
        embedded(lv),
    ];
    if lv >= 1 {
        content.push(ContentBlock::audio("UklGRg==", "audio/wav"));
    }
    if lv >= 2 {
        content.push(ContentBlock::ResourceLink(resource(lv)));
    }
    let mut r = CallToolResult::new(content);
    r.is_error = Some(false);
    if lv >= 2 {
        r.structured_content = Some(json!({"celsius": 22}));
    }
    r
}

fn progress_meta() -> Meta {
    let mut meta = Meta::new();
    meta.set_progress_token(RequestId::from("tok-1"));
    meta
}

fn check_version(version: &'static str) -> usize {
    let lv = level(version);
    let mut s = Schema::load(version);

    // --- requests ---
    let init = InitializeRequestParams::new(version, client_capabilities(lv), client_info(lv));
    let init_msg = s.request("InitializeRequest", "initialize", &to_json(&init));
    s.assert_valid("ClientCapabilities", &to_json(&init.capabilities));
    s.assert_valid("Implementation", &to_json(&init.client_info));

    let paginated = PaginatedRequestParams {
        cursor: Some("page-2".into()),
        ..Default::default()
    };
    for (def, method) in [
        ("ListToolsRequest", "tools/list"),
        ("ListResourcesRequest", "resources/list"),
        ("ListResourceTemplatesRequest", "resources/templates/list"),
        ("ListPromptsRequest", "prompts/list"),
    ] {
        s.request(def, method, &to_json(&paginated));
    }

    let mut call = CallToolRequestParams::new(
        "get_weather",
        Some(obj(json!({"city": "Paris", "days": 2}))),
    );
    call.meta = Some(progress_meta());
    if lv >= 3 {
        call.task = Some(TaskMetadata {
            ttl: Some(60_000),
            ..Default::default()
        });
    }
    s.request("CallToolRequest", "tools/call", &to_json(&call));

    let read = ReadResourceRequestParams::new("file:///project/README.md");
    s.request("ReadResourceRequest", "resources/read", &to_json(&read));
    let sub = SubscribeRequestParams {
        uri: "file:///project/README.md".into(),
        ..Default::default()
    };
    s.request("SubscribeRequest", "resources/subscribe", &to_json(&sub));
    let unsub = UnsubscribeRequestParams {
        uri: "file:///project/README.md".into(),
        ..Default::default()
    };
    s.request(
        "UnsubscribeRequest",
        "resources/unsubscribe",
        &to_json(&unsub),
    );

    let mut get = GetPromptRequestParams::new("code_review");
    get.arguments = Some(BTreeMap::from([("code".to_owned(), "print(1)".to_owned())]));
    s.request("GetPromptRequest", "prompts/get", &to_json(&get));

    let mut prompt_ref = PromptReference {
        name: "code_review".into(),
        ..Default::default()
    };
    if lv >= 2 {
        prompt_ref.title = Some("Code review".into());
    }
    let mut complete = CompleteRequestParams::new(
        CompletionReference::Prompt(prompt_ref.clone()),
        "language",
        "py",
    );
    if lv >= 2 {
        complete.context = Some(CompleteContext {
            arguments: Some(BTreeMap::from([(
                "framework".to_owned(),
                "flask".to_owned(),
            )])),
            ..Default::default()
        });
    }
    s.request(
        "CompleteRequest",
        "completion/complete",
        &to_json(&complete),
    );
    let complete_res = CompleteRequestParams::new(
        CompletionReference::resource("file:///{path}"),
        "path",
        "src/",
    );
    s.request(
        "CompleteRequest",
        "completion/complete",
        &to_json(&complete_res),
    );
    s.assert_valid(
        "PromptReference",
        &json!({"type": "ref/prompt", "name": "code_review"}),
    );
    let resource_ref_def = if s.has("ResourceTemplateReference") {
        "ResourceTemplateReference"
    } else {
        "ResourceReference"
    };
    s.assert_valid(resource_ref_def, &to_json(&complete_res)["ref"]);

    let set_level = SetLevelRequestParams::new(LoggingLevel::Warning);
    s.request("SetLevelRequest", "logging/setLevel", &to_json(&set_level));

    // --- notifications ---
    s.notification(
        "InitializedNotification",
        "notifications/initialized",
        &to_json(&RequestParams::default()),
    );
    let cancel = CancelledNotificationParams::new(RequestId::Number(7), Some("user".into()));
    s.notification(
        "CancelledNotification",
        "notifications/cancelled",
        &to_json(&cancel),
    );
    let mut progress = ProgressNotificationParams::new(RequestId::from("tok-1"), 0.5, Some(2.0));
    if lv >= 1 {
        progress.message = Some("half way".into());
    }
    s.notification(
        "ProgressNotification",
        "notifications/progress",
        &to_json(&progress),
    );
    let mut log = LoggingMessageNotificationParams::new(
        LoggingLevel::Error,
        json!({"error": "connection failed", "port": 5432}),
    );
    log.logger = Some("database".into());
    s.notification(
        "LoggingMessageNotification",
        "notifications/message",
        &to_json(&log),
    );
    let updated = ResourceUpdatedNotificationParams::new("file:///project/README.md");
    s.notification(
        "ResourceUpdatedNotification",
        "notifications/resources/updated",
        &to_json(&updated),
    );
    for (def, method) in [
        (
            "ResourceListChangedNotification",
            "notifications/resources/list_changed",
        ),
        (
            "ToolListChangedNotification",
            "notifications/tools/list_changed",
        ),
        (
            "PromptListChangedNotification",
            "notifications/prompts/list_changed",
        ),
    ] {
        let msg = s.notification(def, method, &to_json(&RequestParams::default()));
        s.assert_valid("ServerNotification", &msg);
    }

    // --- results ---
    let mut init_result = InitializeResult::new(
        version,
        server_capabilities(lv),
        Implementation::new("srv", "2.0"),
    );
    init_result.instructions = Some("Use get_weather for forecasts.".into());
    let init_result = to_json(&init_result);
    s.assert_valid("InitializeResult", &init_result);
    s.assert_valid("ServerCapabilities", &init_result["capabilities"]);

    let tools = ListToolsResult {
        tools: vec![
            tool(lv),
            Tool::new("noop", "Does nothing", json!({"type": "object"})),
        ],
        next_cursor: Some("next".into()),
        ..Default::default()
    };
    let tools = to_json(&tools);
    s.assert_valid("ListToolsResult", &tools);
    s.assert_valid("Tool", &tools["tools"][0]);
    if s.has("ToolAnnotations") {
        s.assert_valid("ToolAnnotations", &tools["tools"][0]["annotations"]);
    }

    s.assert_valid("CallToolResult", &to_json(&call_tool_result(lv)));
    s.assert_valid(
        "CallToolResult",
        &to_json(&CallToolResult::error_text("city unknown")),
    );
    if lv >= 2 {
        let structured = CallToolResult::structured(json!({"celsius": 22}));
        s.assert_valid("CallToolResult", &to_json(&structured));
    }

    let resources = ListResourcesResult {
        resources: vec![resource(lv)],
        next_cursor: Some(String::new()),
        ..Default::default()
    };
    s.assert_valid("ListResourcesResult", &to_json(&resources));
    let mut template = ResourceTemplate::new("file:///{path}", "project-files");
    template.description = Some("Files in the project".into());
    template.mime_type = Some("application/octet-stream".into());
    template.annotations = Some(annotations(lv));
    if lv >= 2 {
        template.title = Some("Project files".into());
    }
    let templates = ListResourceTemplatesResult {
        resource_templates: vec![template],
        ..Default::default()
    };
    s.assert_valid("ListResourceTemplatesResult", &to_json(&templates));
    let read_result = ReadResourceResult::new(vec![
        ResourceContents::Text(TextResourceContents {
            uri: "file:///a.txt".into(),
            mime_type: Some("text/plain".into()),
            text: "hello".into(),
            meta: None,
            extra: Default::default(),
        }),
        ResourceContents::Blob(BlobResourceContents {
            uri: "file:///a.png".into(),
            mime_type: Some("image/png".into()),
            blob: PNG.into(),
            meta: None,
            extra: Default::default(),
        }),
    ]);
    s.assert_valid("ReadResourceResult", &to_json(&read_result));

    let mut prompt = Prompt::new("code_review", "Review code");
    prompt.arguments = Some(vec![PromptArgument {
        name: "code".into(),
        description: Some("The code".into()),
        required: Some(true),
        title: (lv >= 2).then(|| "Code".to_owned()),
        ..Default::default()
    }]);
    if lv >= 3 {
        prompt.icons = Some(vec![icon()]);
    }
    let prompts = ListPromptsResult {
        prompts: vec![prompt],
        ..Default::default()
    };
    let prompts = to_json(&prompts);
    s.assert_valid("ListPromptsResult", &prompts);
    s.assert_valid("Prompt", &prompts["prompts"][0]);
    let mut messages = vec![
        PromptMessage::user_text("Review this"),
        PromptMessage::new(Role::Assistant, ContentBlock::image(PNG, "image/png")),
        PromptMessage::new(Role::User, embedded(lv)),
    ];
    if lv >= 1 {
        messages.push(PromptMessage::new(
            Role::User,
            ContentBlock::audio("UklGRg==", "audio/wav"),
        ));
    }
    if lv >= 2 {
        messages.push(PromptMessage::new(
            Role::User,
            ContentBlock::ResourceLink(resource(lv)),
        ));
    }
    let mut get_result = GetPromptResult::new(messages);
    get_result.description = Some("Code review".into());
    let get_result = to_json(&get_result);
    s.assert_valid("GetPromptResult", &get_result);
    s.assert_valid("PromptMessage", &get_result["messages"][0]);

    let mut completion = CompleteResult::new(vec!["python".into(), "pytorch".into()]);
    completion.completion.total = Some(10);
    completion.completion.has_more = Some(true);
    s.assert_valid("CompleteResult", &to_json(&completion));

    // --- negative checks: the validator must reject broken values ---
    let mut no_client_info = init_msg.clone();
    no_client_info["params"]
        .as_object_mut()
        .unwrap()
        .remove("clientInfo");
    s.assert_invalid("InitializeRequest", &no_client_info);
    s.assert_invalid(
        "CallToolResult",
        &json!({"content": [{"type": "text", "txt": "typo"}]}),
    );
    s.assert_invalid(
        "ProgressNotification",
        &json!({"jsonrpc": "2.0", "method": "notifications/progress",
                "params": {"progressToken": true, "progress": 1}}),
    );
    let mut no_schema = tools.clone();
    no_schema["tools"][0]
        .as_object_mut()
        .unwrap()
        .remove("inputSchema");
    s.assert_invalid("ListToolsResult", &no_schema);
    s.assert_invalid(
        "CompleteResult",
        &json!({"completion": {"values": "python"}}),
    );
    s.assert_invalid(
        "SetLevelRequest",
        &json!({"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel",
                "params": {"level": "verbose"}}),
    );

    assert!(s.checked > 50, "{version}: only {} checks ran", s.checked);
    s.checked
}

#[test]
fn v2024_11_05() {
    let n = check_version("2024-11-05");
    println!("2024-11-05: {n} checks");
}

#[test]
fn v2025_03_26() {
    let n = check_version("2025-03-26");
    println!("2025-03-26: {n} checks");
}

#[test]
fn v2025_06_18() {
    let n = check_version("2025-06-18");
    println!("2025-06-18: {n} checks");
}

#[test]
fn v2025_11_25() {
    let n = check_version("2025-11-25");
    println!("2025-11-25: {n} checks");
}

/// `structuredContent` of 2025-06-18 and 2025-11-25 must be an object; a bare array (allowed
/// in 2026-07-28) is rejected there. Pins that the version-specific values above matter.
#[test]
fn structured_array_is_rejected_by_2025_11_25() {
    let mut s = Schema::load("2025-11-25");
    let arr = CallToolResult::structured(json!([1, 2]));
    s.assert_invalid("CallToolResult", &to_json(&arr));
}
