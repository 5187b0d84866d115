//! Configurations, requests and well-formed answers shared by the session targets.

use std::time::Duration;

use mcp_proto::jsonrpc::ErrorObject;
use mcp_proto::schema::lifecycle::{ClientCapabilities, ServerCapabilities};
use mcp_proto::schema::messages::{ClientRequest, ClientResult, ServerRequest, ServerResult};
use mcp_proto::schema::tools::CallToolResult;
use mcp_proto::schema::{Implementation, ProtocolVersion};
use mcp_proto::session::{ClientConfig, EraPreference, ServerConfig, Timeout};
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// Builds `T` once per thread and hands out clones: the fixtures are parsed from JSON, and
/// doing that for every input made setup most of the cost of an execution.
macro_rules! memo {
    ($t:ty, $build:expr) => {{
        thread_local! {
            static CELL: std::cell::OnceCell<$t> = const { std::cell::OnceCell::new() };
        }
        CELL.with(|c| c.get_or_init(|| $build).clone())
    }};
}

/// Like `memo!`, keyed: one value per key, built on first use.
macro_rules! memo_by {
    ($k:ty, $t:ty, $key:expr, $build:expr) => {{
        thread_local! {
            static MAP: std::cell::RefCell<std::collections::HashMap<$k, $t>> =
                std::cell::RefCell::new(std::collections::HashMap::new());
        }
        let key = $key;
        if let Some(v) = MAP.with(|m| m.borrow().get(&key).cloned()) {
            v
        } else {
            let v: $t = $build;
            MAP.with(|m| {
                let mut m = m.borrow_mut();
                // Keys come from a bounded set in practice; the cap keeps it so regardless.
                if m.len() > 4096 {
                    m.clear();
                }
                m.insert(key, v.clone());
            });
            v
        }
    }};
}

fn raw(v: &Value) -> Box<RawValue> {
    RawValue::from_string(v.to_string()).expect("JSON text is valid")
}

/// Everything a server can offer, including the tasks extension.
pub fn full_server_caps() -> ServerCapabilities {
    memo!(ServerCapabilities, build_full_server_caps())
}

fn build_full_server_caps() -> ServerCapabilities {
    serde_json::from_value(json!({
        "tools": {"listChanged": true},
        "prompts": {"listChanged": true},
        "resources": {"subscribe": true, "listChanged": true},
        "logging": {},
        "completions": {},
        "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}},
        "extensions": {"io.modelcontextprotocol/tasks": {}}
    }))
    .expect("server capabilities decode")
}

/// A tools-only server.
pub fn small_server_caps() -> ServerCapabilities {
    memo!(ServerCapabilities, build_small_server_caps())
}

fn build_small_server_caps() -> ServerCapabilities {
    serde_json::from_value(json!({"tools": {}})).expect("server capabilities decode")
}

/// A client that can do everything a legacy server may ask, and speaks the tasks extension.
pub fn full_client_caps() -> ClientCapabilities {
    memo!(ClientCapabilities, build_full_client_caps())
}

fn build_full_client_caps() -> ClientCapabilities {
    serde_json::from_value(json!({
        "roots": {"listChanged": true},
        "sampling": {},
        "elicitation": {"form": {}, "url": {}},
        "extensions": {"io.modelcontextprotocol/tasks": {}}
    }))
    .expect("client capabilities decode")
}

/// Server versions by selector: all, legacy only, 2026-07-28 only, 2025-03-26 only (batches).
pub fn versions(selector: u8) -> Vec<ProtocolVersion> {
    match selector % 4 {
        0 => ProtocolVersion::ALL.to_vec(),
        1 => ProtocolVersion::ALL
            .into_iter()
            .filter(|v| *v != ProtocolVersion::V2026_07_28)
            .collect(),
        2 => vec![ProtocolVersion::V2026_07_28],
        _ => vec![ProtocolVersion::V2025_03_26],
    }
}

/// A server config picked by the bits of `flags`.
///
/// - bits 0-1: versions (see [`versions`]);
/// - bit 2: frames limited to 300 bytes;
/// - bit 3: at most 4 requests in flight;
/// - bit 4: tools only (no prompts, resources, tasks ...);
/// - bit 5: short task TTLs (tasks expire within a simulated minute).
pub fn server_config(flags: u8) -> ServerConfig {
    memo_by!(u8, ServerConfig, flags, build_server_config(flags))
}

fn build_server_config(flags: u8) -> ServerConfig {
    let caps = if flags & 0x10 != 0 {
        small_server_caps()
    } else {
        full_server_caps()
    };
    let mut c = ServerConfig::new(Implementation::new("fuzz-server", "1.0.0"), caps);
    c.versions = versions(flags);
    if flags & 0x04 != 0 {
        c.max_frame_len = 300;
    }
    c.max_in_flight = if flags & 0x08 != 0 { 4 } else { 64 };
    c.max_subscriptions = 4;
    c.custom_methods = vec!["x/custom".into()];
    c.request_timeout = Timeout::fixed(Duration::from_secs(3));
    c.tasks.max_tasks = 16;
    if flags & 0x20 != 0 {
        c.tasks.default_ttl = Some(Duration::from_secs(20));
        c.tasks.max_ttl = Some(Duration::from_secs(60));
    }
    c
}

/// A client config with short timeouts, so simulated time reaches them quickly.
pub fn client_config(era: EraPreference, full_caps: bool) -> ClientConfig {
    memo_by!(
        (u8, bool),
        ClientConfig,
        (era as u8, full_caps),
        build_client_config(era, full_caps)
    )
}

fn build_client_config(era: EraPreference, full_caps: bool) -> ClientConfig {
    let mut c = ClientConfig::new(Implementation::new("fuzz-client", "1.0.0"));
    if full_caps {
        c.capabilities = full_client_caps();
    }
    c.era = era;
    c.probe_timeout = Duration::from_secs(1);
    c.initialize_timeout = Duration::from_secs(2);
    c.request_timeout = Timeout {
        idle: Duration::from_secs(3),
        max_total: Some(Duration::from_secs(20)),
        reset_on_progress: true,
    };
    c.max_queued = 32;
    c.max_in_flight = 8;
    c
}

/// Era preference by selector.
pub fn era(selector: u8) -> EraPreference {
    match selector % 4 {
        1 => EraPreference::Legacy,
        2 => EraPreference::Modern,
        _ => EraPreference::Auto,
    }
}

/// Number of request kinds [`client_request`] knows.
pub const CLIENT_REQUEST_KINDS: u8 = 19;

/// A client request of kind `kind % CLIENT_REQUEST_KINDS`; `task` names a task for the
/// `tasks/*` kinds.
pub fn client_request(kind: u8, task: &str) -> ClientRequest {
    let kind = kind % CLIENT_REQUEST_KINDS;
    memo_by!(
        (u8, String),
        ClientRequest,
        (kind, task.to_owned()),
        build_client_request(kind, task)
    )
}

fn build_client_request(kind: u8, task: &str) -> ClientRequest {
    let (method, params) = match kind % CLIENT_REQUEST_KINDS {
        0 => ("tools/list", json!({})),
        1 => (
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "hi"}}),
        ),
        2 => (
            "tools/call",
            json!({"name": "slow", "arguments": {}, "task": {"ttl": 30000}}),
        ),
        3 => ("prompts/list", json!({})),
        4 => (
            "prompts/get",
            json!({"name": "greet", "arguments": {"who": "fuzz"}}),
        ),
        5 => ("resources/list", json!({})),
        6 => ("resources/read", json!({"uri": "mem://a"})),
        7 => ("resources/templates/list", json!({})),
        8 => (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "greet"},
                   "argument": {"name": "who", "value": "f"}}),
        ),
        9 => ("ping", json!({})),
        10 => (
            "subscriptions/listen",
            json!({"notifications": {"toolsListChanged": true, "resourceSubscriptions": ["mem://a"],
                                     "taskIds": [task]}}),
        ),
        11 => ("tasks/get", json!({"taskId": task})),
        12 => ("tasks/cancel", json!({"taskId": task})),
        13 => ("tasks/list", json!({})),
        14 => ("tasks/result", json!({"taskId": task})),
        15 => ("logging/setLevel", json!({"level": "debug"})),
        16 => ("resources/subscribe", json!({"uri": "mem://a"})),
        17 => ("x/custom", json!({"anything": [1, 2, 3]})),
        _ => (
            "tasks/update",
            json!({"taskId": task, "inputResponses": {}}),
        ),
    };
    ClientRequest::decode(method, Some(&raw(&params))).expect("fixture request decodes")
}

/// A well-formed answer to `request`, as a server application would give.
pub fn server_result(request: &ClientRequest) -> ServerResult {
    if matches!(request, ClientRequest::CallTool(_)) {
        // Echoes the call's argument: not the same for every call.
        return build_server_result(request);
    }
    memo_by!(
        String,
        ServerResult,
        request.method().to_owned(),
        build_server_result(request)
    )
}

fn build_server_result(request: &ClientRequest) -> ServerResult {
    let v = match request {
        ClientRequest::CallTool(p) => {
            let text = p
                .arguments
                .as_ref()
                .and_then(|a| a.get("text"))
                .and_then(Value::as_str)
                .unwrap_or("done");
            return ServerResult::CallTool(CallToolResult::text(text));
        }
        ClientRequest::ListTools(_) => {
            json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]})
        }
        ClientRequest::ListPrompts(_) => json!({"prompts": [{"name": "greet"}]}),
        ClientRequest::GetPrompt(_) => {
            json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}]})
        }
        ClientRequest::ListResources(_) => {
            json!({"resources": [{"uri": "mem://a", "name": "a"}]})
        }
        ClientRequest::ListResourceTemplates(_) => json!({"resourceTemplates": []}),
        ClientRequest::ReadResource(_) => {
            json!({"contents": [{"uri": "mem://a", "text": "hello"}]})
        }
        ClientRequest::Complete(_) => json!({"completion": {"values": ["fuzz"]}}),
        _ => return ServerResult::Other(json!({"ok": true})),
    };
    let method = request.method().to_owned();
    let r = ServerResult::decode(&method, mcp_proto::schema::Era::Legacy, &raw(&v));
    r.unwrap_or_else(|e| panic!("fixture result for {method} does not decode: {e}"))
}

/// Number of request kinds [`server_request`] knows.
pub const SERVER_REQUEST_KINDS: u8 = 4;

/// A request a legacy server sends its client.
pub fn server_request(kind: u8) -> ServerRequest {
    memo_by!(
        u8,
        ServerRequest,
        kind % SERVER_REQUEST_KINDS,
        build_server_request(kind)
    )
}

fn build_server_request(kind: u8) -> ServerRequest {
    let (method, params) = match kind % SERVER_REQUEST_KINDS {
        0 => ("ping", json!({})),
        1 => ("roots/list", json!({})),
        2 => (
            "sampling/createMessage",
            json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
                   "maxTokens": 16}),
        ),
        _ => (
            "elicitation/create",
            json!({"message": "name?", "requestedSchema": {"type": "object",
                   "properties": {"n": {"type": "string"}}}}),
        ),
    };
    ServerRequest::decode(method, Some(&raw(&params))).expect("fixture server request decodes")
}

/// A well-formed client answer to a server request.
pub fn client_result(request: &ServerRequest) -> ClientResult {
    memo_by!(
        String,
        ClientResult,
        request.method().to_owned(),
        build_client_result(request)
    )
}

fn build_client_result(request: &ServerRequest) -> ClientResult {
    let v = match request {
        ServerRequest::ListRoots(_) => json!({"roots": [{"uri": "file:///tmp"}]}),
        ServerRequest::CreateMessage(_) => {
            json!({"role": "assistant", "content": {"type": "text", "text": "ok"}, "model": "m"})
        }
        ServerRequest::Elicit(_) => json!({"action": "accept", "content": {"n": "x"}}),
        _ => json!({}),
    };
    ClientResult::decode(request.method(), &raw(&v)).expect("fixture client result decodes")
}

/// The error an application answers with.
pub fn app_error() -> ErrorObject {
    ErrorObject::internal("the fuzz application refused")
}
