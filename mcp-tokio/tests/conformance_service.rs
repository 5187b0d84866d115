//! The conformance suite's server (`mcp_examples_common::conformance`), without HTTP: a
//! client linked in process for both eras, and the raw 2026-07-28 wire over a pipe where
//! the suite looks at the wire itself (input-required rounds, error codes, caching hints).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_examples_common::conformance::{
    conformance_service, DYNAMIC_PROMPT, DYNAMIC_TOOL, ERROR_TEXT, LOG_MESSAGES, PNG_BASE64,
    SIMPLE_TEXT, STATIC_BINARY_URI, STATIC_TEXT, STATIC_TEXT_URI, STEP, WATCHED_URI,
};
use mcp_tokio::mcp_driver::{
    connect_in_process, BoxFuture, CallError, Client, ClientHandler, ServerControl, Service,
};
use mcp_tokio::mcp_proto::jsonrpc::{ErrorObject, RequestId};
use mcp_tokio::mcp_proto::schema::completion::{CompleteRequestParams, CompletionReference};
use mcp_tokio::mcp_proto::schema::content::{ContentBlock, ResourceContents};
use mcp_tokio::mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult, ElicitValue};
use mcp_tokio::mcp_proto::schema::lifecycle::{
    ClientCapabilities, ElicitationCapability, RootsCapability, SamplingCapability,
};
use mcp_tokio::mcp_proto::schema::messages::{ClientRequest, ServerNotification, ServerResult};
use mcp_tokio::mcp_proto::schema::roots::{ListRootsResult, Root};
use mcp_tokio::mcp_proto::schema::sampling::{CreateMessageRequestParams, CreateMessageResult};
use mcp_tokio::mcp_proto::schema::subscriptions::SubscriptionFilter;
use mcp_tokio::mcp_proto::schema::tools::CallToolResult;
use mcp_tokio::mcp_proto::schema::{Era, Implementation, LoggingLevel};
use mcp_tokio::mcp_proto::session::{ClientConfig, EraPreference, RequestError};
use mcp_tokio::TokioRuntime;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

const ERAS: [EraPreference; 2] = [EraPreference::Auto, EraPreference::Legacy];
const GUARD: Duration = Duration::from_secs(10);
const MODERN: &str = "2026-07-28";
const SAMPLED: &str = "This is a test response from the client";

/// The client side of the suite: answers every ask, records them and every notification.
struct Host {
    asks: Mutex<Vec<Value>>,
    notifications: mpsc::UnboundedSender<ServerNotification>,
}

impl Host {
    fn record(&self, method: &str, params: Value) {
        self.asks
            .lock()
            .unwrap()
            .push(json!({"method": method, "params": params}));
    }
}

/// What the host types into a form, by field name.
fn form_answer(field: &str) -> Option<ElicitValue> {
    Some(match field {
        "username" => "testuser".into(),
        "email" => "test@example.com".into(),
        "name" => "Alice".into(),
        "color" => "blue".into(),
        "context" => "test context".into(),
        "ok" | "confirmed" => true.into(),
        _ => return None,
    })
}

impl ClientHandler for Host {
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>> {
        self.record(
            "sampling/createMessage",
            serde_json::to_value(params).unwrap(),
        );
        Box::pin(async {
            Ok(CreateMessageResult::new(
                "test-model",
                ContentBlock::text(SAMPLED),
                None,
            ))
        })
    }

    fn elicit(
        &self,
        params: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        let wire = serde_json::to_value(&params).unwrap();
        self.record("elicitation/create", wire.clone());
        let fields = wire["requestedSchema"]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let content: BTreeMap<String, ElicitValue> = fields
            .keys()
            .filter_map(|k| form_answer(k).map(|v| (k.clone(), v)))
            .collect();
        Box::pin(async move { Ok(ElicitResult::accept(content)) })
    }

    fn list_roots(&self) -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> {
        self.record("roots/list", json!({}));
        Box::pin(async {
            Ok(ListRootsResult::new(vec![Root::new(
                "file:///test/root",
                "Test Root",
            )]))
        })
    }

    fn on_notification(&self, notification: ServerNotification, _subscription: Option<RequestId>) {
        let _ = self.notifications.send(notification);
    }
}

/// A client linked in process, what it answered and what it was told.
struct Peer {
    client: Client,
    host: Arc<Host>,
    notifications: mpsc::UnboundedReceiver<ServerNotification>,
    control: ServerControl,
}

impl Peer {
    /// The asks the server made so far, taken.
    fn asks(&self) -> Vec<Value> {
        std::mem::take(&mut *self.host.asks.lock().unwrap())
    }

    /// The next notification for which `pick` returns something (others are skipped).
    async fn next<T>(&mut self, pick: impl Fn(ServerNotification) -> Option<T>) -> T {
        let wait = async {
            loop {
                let n = self.notifications.recv().await.expect("connection open");
                if let Some(t) = pick(n) {
                    return t;
                }
            }
        };
        tokio::time::timeout(GUARD, wait)
            .await
            .expect("notification in time")
    }

    /// The notifications received so far (none is awaited).
    fn received(&mut self) -> Vec<ServerNotification> {
        let mut out = Vec::new();
        while let Ok(n) = self.notifications.try_recv() {
            out.push(n);
        }
        out
    }
}

fn all_capabilities() -> ClientCapabilities {
    ClientCapabilities {
        sampling: Some(SamplingCapability::default()),
        elicitation: Some(ElicitationCapability::default()),
        roots: Some(RootsCapability {
            list_changed: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn connect_with(era: EraPreference, capabilities: ClientCapabilities) -> Peer {
    let (service, control) = conformance_service(TokioRuntime);
    let (tx, notifications) = mpsc::unbounded_channel();
    let host = Arc::new(Host {
        asks: Mutex::new(Vec::new()),
        notifications: tx,
    });
    let mut cfg = ClientConfig::new(Implementation::new("conformance-test-client", "1.0.0"));
    cfg.era = era;
    cfg.capabilities = capabilities;
    let (client, _handle) = connect_in_process(TokioRuntime, service, cfg, host.clone())
        .await
        .expect("connected");
    let expected = match era {
        EraPreference::Legacy => Era::Legacy,
        _ => Era::Modern,
    };
    assert_eq!(client.server().era, expected);
    Peer {
        client,
        host,
        notifications,
        control,
    }
}

async fn connect(era: EraPreference) -> Peer {
    connect_with(era, all_capabilities()).await
}

fn text(r: &CallToolResult) -> &str {
    r.content
        .iter()
        .find_map(ContentBlock::as_text)
        .expect("a text block")
}

fn wire<T: mcp_tokio::mcp_driver::serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

fn rpc_error(e: CallError) -> ErrorObject {
    match e {
        CallError::Request(RequestError::Rpc(e)) => e,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

#[tokio::test]
async fn tools_answer_with_the_expected_content() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "tools_answer_with_the_expected_content",
        async move {
            for era in ERAS {
                let peer = connect(era).await;
                let c = &peer.client;
                let caps = &c.server().capabilities;
                assert!(caps.logging.is_some() && caps.completions.is_some());
                assert_eq!(caps.tools.as_ref().unwrap().list_changed, Some(true));
                assert_eq!(caps.prompts.as_ref().unwrap().list_changed, Some(true));
                let resources = caps.resources.as_ref().unwrap();
                assert_eq!(
                    (resources.subscribe, resources.list_changed),
                    (Some(true), Some(true))
                );

                let tools = c.list_all_tools().await.unwrap();
                let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
                for expected in [
                    "test_simple_text",
                    "test_image_content",
                    "test_audio_content",
                    "test_embedded_resource",
                    "test_multiple_content_types",
                    "test_tool_with_logging",
                    "test_error_handling",
                    "test_tool_with_progress",
                    "test_sampling",
                    "test_elicitation",
                    "json_schema_2020_12_tool",
                    "test_elicitation_sep1034_defaults",
                    "test_elicitation_sep1330_enums",
                    "test_reconnection",
                    "test_missing_capability",
                    "test_streaming_elicitation",
                    "test_logging_tool",
                    "test_trigger_tool_change",
                    "test_trigger_prompt_change",
                    "test_input_required_result_elicitation",
                    "test_input_required_result_sampling",
                    "test_input_required_result_list_roots",
                    "test_input_required_result_request_state",
                    "test_input_required_result_multiple_inputs",
                    "test_input_required_result_multi_round",
                    "test_input_required_result_tampered_state",
                    "test_input_required_result_capabilities",
                    "greet",
                    "test_header_param",
                ] {
                    assert!(
                        names.contains(&expected),
                        "{expected} missing from {names:?}"
                    );
                }
                // Header scenarios call the first tool listed, without arguments.
                assert_eq!(names[0], "test_simple_text");
                for t in &tools {
                    assert!(t.description.is_some(), "{} has no description", t.name);
                    assert_eq!(t.input_schema["type"], "object", "{}", t.name);
                    // Tool names follow the spec's SHOULD rules.
                    assert!(t
                        .name
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch)));
                }

                // The 2020-12 schema is advertised as written.
                let schema = &tools
                    .iter()
                    .find(|t| t.name == "json_schema_2020_12_tool")
                    .unwrap()
                    .input_schema;
                assert_eq!(
                    schema["$schema"],
                    "https://json-schema.org/draft/2020-12/schema"
                );
                assert_eq!(schema["$defs"]["address"]["$anchor"], "addressDef");
                assert_eq!(schema["additionalProperties"], false);
                assert!(schema["allOf"][0]["anyOf"].is_array());
                assert!(schema.get("if").is_some() && schema.get("then").is_some());
                assert!(schema.get("else").is_some());
                // SEP-2243: a string parameter mirrored into a header.
                let header = &tools
                    .iter()
                    .find(|t| t.name == "test_header_param")
                    .unwrap()
                    .input_schema;
                assert_eq!(header["properties"]["region"]["type"], "string");
                assert_eq!(header["properties"]["region"]["x-mcp-header"], "Region");

                let r = c.call_tool("test_simple_text", Value::Null).await.unwrap();
                assert_eq!((text(&r), r.is_error), (SIMPLE_TEXT, None));

                let r = c.call_tool("test_image_content", json!({})).await.unwrap();
                assert_eq!(
                    wire(&r.content),
                    json!([{"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}])
                );
                let r = c.call_tool("test_audio_content", json!({})).await.unwrap();
                let audio = wire(&r.content[0]);
                assert_eq!(
                    (&audio["type"], &audio["mimeType"]),
                    (&json!("audio"), &json!("audio/wav"))
                );
                assert!(
                    audio["data"].as_str().unwrap().starts_with("UklGR"),
                    "a RIFF file"
                );

                let r = c
                    .call_tool("test_embedded_resource", json!({}))
                    .await
                    .unwrap();
                assert_eq!(
                    wire(&r.content),
                    json!([{"type": "resource", "resource": {
                        "uri": "test://embedded-resource",
                        "mimeType": "text/plain",
                        "text": "This is an embedded resource content."
                    }}])
                );

                let r = c
                    .call_tool("test_multiple_content_types", json!({}))
                    .await
                    .unwrap();
                let content = wire(&r.content);
                let types: Vec<&str> = content
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b["type"].as_str().unwrap())
                    .collect();
                assert_eq!(types, ["text", "image", "resource"]);
                assert_eq!(
                    content[2]["resource"]["uri"],
                    "test://mixed-content-resource"
                );
                assert_eq!(content[2]["resource"]["mimeType"], "application/json");
                let data: Value =
                    serde_json::from_str(content[2]["resource"]["text"].as_str().unwrap()).unwrap();
                assert_eq!(data, json!({"test": "data", "value": 123}));

                // A failure is a result the model reads, not a JSON-RPC error.
                let r = c.call_tool("test_error_handling", json!({})).await.unwrap();
                assert_eq!((text(&r), r.is_error), (ERROR_TEXT, Some(true)));

                let r = c
                    .call_tool("greet", json!({"name": "World"}))
                    .await
                    .unwrap();
                assert_eq!(text(&r), "Hello, World!");
                let r = c
                    .call_tool("test_header_param", json!({"region": "us-west1"}))
                    .await
                    .unwrap();
                assert_eq!(text(&r), "region=us-west1");
                let r = c
                    .call_tool(
                        "json_schema_2020_12_tool",
                        json!({"name": "n", "email": "e"}),
                    )
                    .await
                    .unwrap();
                assert_eq!(r.is_error, None);
            }
        },
    )
    .await
}

#[tokio::test]
async fn progress_is_reported_in_order() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "progress_is_reported_in_order",
        async move {
            for era in ERAS {
                let peer = connect(era).await;
                let seen = Arc::new(Mutex::new(Vec::new()));
                let s = seen.clone();
                let r = peer
                    .client
                    .call_tool_with(
                        "test_tool_with_progress",
                        json!({}),
                        Some(Box::new(move |p| {
                            s.lock().unwrap().push((p.progress, p.total))
                        })),
                    )
                    .await
                    .unwrap();
                assert_eq!(r.is_error, None);
                let seen = seen.lock().unwrap();
                assert_eq!(
                    *seen,
                    [
                        (0.0, Some(100.0)),
                        (50.0, Some(100.0)),
                        (100.0, Some(100.0))
                    ],
                    "{era:?}"
                );
            }
        },
    )
    .await
}

/// The log messages of a call, in order, from what the client was told.
fn log_texts(notifications: &[ServerNotification]) -> Vec<(LoggingLevel, String)> {
    notifications
        .iter()
        .filter_map(|n| match n {
            ServerNotification::LoggingMessage(m) => {
                Some((m.level, m.data.as_str().unwrap_or_default().to_owned()))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn logging_follows_the_level_the_client_set() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "logging_follows_the_level_the_client_set",
        async move {
            let expected: Vec<(LoggingLevel, String)> = LOG_MESSAGES
                .iter()
                .map(|m| (LoggingLevel::Info, (*m).to_owned()))
                .collect();

            // Legacy: the session's level, set with logging/setLevel.
            let mut peer = connect(EraPreference::Legacy).await;
            peer.client
                .set_log_level(LoggingLevel::Debug)
                .await
                .unwrap();
            let started = Instant::now();
            let r = peer
                .client
                .call_tool("test_tool_with_logging", json!({}))
                .await
                .unwrap();
            assert_eq!(r.is_error, None);
            // The messages are paced by the runtime's timer.
            assert!(started.elapsed() >= 2 * STEP, "{:?}", started.elapsed());
            let mut logs = Vec::new();
            for _ in 0..3 {
                logs.push(
                    peer.next(|n| match n {
                        ServerNotification::LoggingMessage(m) => {
                            Some((m.level, m.data.as_str().unwrap_or_default().to_owned()))
                        }
                        _ => None,
                    })
                    .await,
                );
            }
            assert_eq!(logs, expected);
            // Above the level: nothing is sent.
            peer.client
                .set_log_level(LoggingLevel::Error)
                .await
                .unwrap();
            let r = peer
                .client
                .call_tool("test_logging_tool", json!({}))
                .await
                .unwrap();
            assert_eq!(text(&r), "Sent 0 of 3 log messages");

            // 2026-07-28 without a logLevel in the request's _meta: no log messages at all.
            let mut peer = connect(EraPreference::Auto).await;
            let r = peer
                .client
                .call_tool("test_logging_tool", json!({}))
                .await
                .unwrap();
            assert_eq!(text(&r), "Sent 0 of 3 log messages");
            // A second call that does ask for them is the marker: its messages reach the host after
            // any the first call sent, and before it resolves. Exactly its three arrived, so the
            // first call sent none (reading at once would pass even if they were still on the way).
            let params = serde_json::from_value(json!({
                "name": "test_logging_tool",
                "_meta": {"io.modelcontextprotocol/logLevel": "info"}
            }))
            .unwrap();
            let marker = peer
                .client
                .request(ClientRequest::CallTool(params))
                .await
                .unwrap();
            let ServerResult::CallTool(marker) = marker else {
                panic!("{marker:?}");
            };
            assert_eq!(text(&marker), "Sent 3 of 3 log messages");
            assert_eq!(log_texts(&peer.received()).len(), 3);

            // With one: the messages go out, tied to the request.
            let (service, _control) = conformance_service(TokioRuntime);
            let (tx, mut rx) = mpsc::unbounded_channel();
            let host = Arc::new(Host {
                asks: Mutex::new(Vec::new()),
                notifications: tx,
            });
            let mut cfg =
                ClientConfig::new(Implementation::new("conformance-test-client", "1.0.0"));
            cfg.log_level = Some(LoggingLevel::Debug);
            let (client, _handle) = connect_in_process(TokioRuntime, service, cfg, host)
                .await
                .unwrap();
            assert_eq!(client.server().era, Era::Modern);
            let r = client
                .call_tool("test_tool_with_logging", json!({}))
                .await
                .unwrap();
            assert_eq!(r.is_error, None);
            let mut seen = Vec::new();
            while let Ok(n) = rx.try_recv() {
                seen.push(n);
            }
            assert_eq!(log_texts(&seen), expected);
        },
    )
    .await
}

#[tokio::test]
async fn asks_reach_the_client_in_both_eras() {
    mcp_testsuite::watchdog(mcp_tokio::TokioRuntime, "asks_reach_the_client_in_both_eras", async move {
    for era in ERAS {
        let peer = connect(era).await;
        let c = &peer.client;

        let r = c
            .call_tool(
                "test_sampling",
                json!({"prompt": "Test prompt for sampling"}),
            )
            .await
            .unwrap();
        assert_eq!(text(&r), format!("LLM response: {SAMPLED}"));
        let asks = peer.asks();
        assert_eq!(asks.len(), 1, "{era:?}");
        assert_eq!(asks[0]["method"], "sampling/createMessage");
        assert_eq!(asks[0]["params"]["maxTokens"], 100);
        assert_eq!(
            asks[0]["params"]["messages"],
            json!([{"role": "user", "content": {"type": "text", "text": "Test prompt for sampling"}}])
        );

        let r = c
            .call_tool(
                "test_elicitation",
                json!({"message": "Please provide your information"}),
            )
            .await
            .unwrap();
        assert!(
            text(&r).starts_with("User response: action=accept"),
            "{}",
            text(&r)
        );
        assert!(text(&r).contains("testuser"), "{}", text(&r));
        let asks = peer.asks();
        let params = &asks[0]["params"];
        assert_eq!(params["message"], "Please provide your information");
        assert_eq!(
            params["requestedSchema"]["required"],
            json!(["username", "email"])
        );
        assert_eq!(
            params["requestedSchema"]["properties"]["email"]["description"],
            "User's email address"
        );

        // SEP-1034: a default for every kind of field.
        let r = c
            .call_tool("test_elicitation_sep1034_defaults", json!({}))
            .await
            .unwrap();
        assert!(text(&r).starts_with("Elicitation completed: action=accept"));
        let props = &peer.asks()[0]["params"]["requestedSchema"]["properties"];
        assert_eq!(
            props["name"],
            json!({"type": "string", "default": "John Doe"})
        );
        assert_eq!(props["age"], json!({"type": "integer", "default": 30}));
        assert_eq!(props["score"], json!({"type": "number", "default": 95.5}));
        assert_eq!(
            props["status"],
            json!({"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"})
        );
        assert_eq!(
            props["verified"],
            json!({"type": "boolean", "default": true})
        );

        // SEP-1330: the five enum shapes.
        c.call_tool("test_elicitation_sep1330_enums", json!({}))
            .await
            .unwrap();
        let props = &peer.asks()[0]["params"]["requestedSchema"]["properties"];
        assert_eq!(
            props["untitledSingle"],
            json!({"type": "string", "enum": ["option1", "option2", "option3"]})
        );
        assert_eq!(props["titledSingle"]["type"], "string");
        assert_eq!(
            props["titledSingle"]["oneOf"][0],
            json!({"const": "value1", "title": "First Option"})
        );
        assert_eq!(
            props["legacyEnum"]["enumNames"],
            json!(["Option One", "Option Two", "Option Three"])
        );
        assert_eq!(
            props["untitledMulti"],
            json!({"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}})
        );
        assert_eq!(props["titledMulti"]["type"], "array");
        assert_eq!(
            props["titledMulti"]["items"]["anyOf"][2],
            json!({"const": "value3", "title": "Third Choice"})
        );

        // The input-required tools work through either era's asking.
        let r = c
            .call_tool("test_input_required_result_elicitation", json!({}))
            .await
            .unwrap();
        assert_eq!(text(&r), "Hello, Alice!");
        let r = c
            .call_tool("test_input_required_result_request_state", json!({}))
            .await
            .unwrap();
        assert!(text(&r).contains("state-ok"), "{}", text(&r));
        let r = c
            .call_tool("test_input_required_result_multi_round", json!({}))
            .await
            .unwrap();
        assert_eq!(text(&r), "Hello, Alice! Your favorite color is blue.");
        peer.asks();
        let r = c
            .call_tool("test_input_required_result_multiple_inputs", json!({}))
            .await
            .unwrap();
        assert_eq!(
            text(&r),
            format!("name: Alice; greeting: {SAMPLED}; roots: 1")
        );
        let mut methods: Vec<String> = peer
            .asks()
            .iter()
            .map(|a| a["method"].as_str().unwrap().to_owned())
            .collect();
        methods.sort();
        assert_eq!(
            methods,
            ["elicitation/create", "roots/list", "sampling/createMessage"]
        );
        let r = c
            .call_tool("test_input_required_result_list_roots", json!({}))
            .await
            .unwrap();
        assert_eq!(text(&r), "Client roots: file:///test/root");

        let p = c
            .get_prompt("test_input_required_result_prompt", &[])
            .await
            .unwrap();
        assert_eq!(
            wire(&p.messages[0].content)["text"],
            "Answer with this context in mind: test context"
        );
    }
    })
    .await
}

#[tokio::test]
async fn a_missing_client_capability_is_error_32021() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_missing_client_capability_is_error_32021",
        async move {
            let none = ClientCapabilities::default();
            let peer = connect_with(EraPreference::Auto, none.clone()).await;
            let e = rpc_error(
                peer.client
                    .call_tool("test_missing_capability", json!({}))
                    .await
                    .unwrap_err(),
            );
            assert_eq!(e.code, -32021);
            assert_eq!(
                e.data,
                Some(json!({"requiredCapabilities": {"sampling": {}}}))
            );
            // Prompts ask the same way.
            let e = rpc_error(
                peer.client
                    .get_prompt("test_input_required_result_prompt", &[])
                    .await
                    .unwrap_err(),
            );
            assert_eq!(e.code, -32021);
            assert_eq!(
                e.data,
                Some(json!({"requiredCapabilities": {"elicitation": {}}}))
            );
            assert!(peer.asks().is_empty());

            // A legacy session has no such error: the model reads why.
            let peer = connect_with(EraPreference::Legacy, none).await;
            let r = peer
                .client
                .call_tool("test_missing_capability", json!({}))
                .await
                .unwrap();
            assert_eq!(r.is_error, Some(true));
            assert!(text(&r).contains("`sampling`"), "{}", text(&r));

            // Declared: the tool samples.
            for era in ERAS {
                let peer = connect(era).await;
                let r = peer
                    .client
                    .call_tool("test_missing_capability", json!({}))
                    .await
                    .unwrap();
                assert_eq!(text(&r), format!("LLM response: {SAMPLED}"));
            }
        },
    )
    .await
}

#[tokio::test]
async fn resources_and_templates() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "resources_and_templates",
        async move {
            for era in ERAS {
                let peer = connect(era).await;
                let c = &peer.client;
                let resources = c.list_all_resources().await.unwrap();
                let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
                assert_eq!(uris, [STATIC_TEXT_URI, STATIC_BINARY_URI, WATCHED_URI]);
                assert!(resources.iter().all(|r| r.description.is_some()));

                let r = c.read_resource(STATIC_TEXT_URI).await.unwrap();
                assert_eq!(
                    wire(&r.contents),
                    json!([{"uri": STATIC_TEXT_URI, "mimeType": "text/plain", "text": STATIC_TEXT}])
                );
                let r = c.read_resource(STATIC_BINARY_URI).await.unwrap();
                assert_eq!(
                    wire(&r.contents),
                    json!([{"uri": STATIC_BINARY_URI, "mimeType": "image/png", "blob": PNG_BASE64}])
                );

                let templates = c.list_all_resource_templates().await.unwrap();
                assert_eq!(templates[0].uri_template, "test://template/{id}/data");
                let r = c.read_resource("test://template/123/data").await.unwrap();
                let ResourceContents::Text(t) = &r.contents[0] else {
                    panic!("text contents expected");
                };
                assert_eq!(t.uri, "test://template/123/data");
                assert_eq!(t.mime_type.as_deref(), Some("application/json"));
                let data: Value = serde_json::from_str(&t.text).unwrap();
                assert_eq!(
                    data,
                    json!({"id": "123", "templateTest": true, "data": "Data for ID: 123"})
                );

                // Unknown: -32602 in 2026-07-28 (SEP-2164), -32002 before, with the URI either way.
                let uri = "test://nonexistent-resource-for-conformance-testing";
                let e = rpc_error(c.read_resource(uri).await.unwrap_err());
                let code = if era == EraPreference::Legacy {
                    -32002
                } else {
                    -32602
                };
                assert_eq!((e.code, e.data), (code, Some(json!({"uri": uri}))));

                if era == EraPreference::Legacy {
                    c.subscribe_resource(WATCHED_URI).await.unwrap();
                    c.unsubscribe_resource(WATCHED_URI).await.unwrap();
                }
            }
        },
    )
    .await
}

#[tokio::test]
async fn subscribers_hear_of_the_watched_resource() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "subscribers_hear_of_the_watched_resource",
        async move {
            let mut peer = connect(EraPreference::Legacy).await;
            peer.client.subscribe_resource(WATCHED_URI).await.unwrap();
            // What the periodic task does, now rather than in three seconds.
            peer.control.resource_updated(WATCHED_URI);
            let uri = peer
                .next(|n| match n {
                    ServerNotification::ResourceUpdated(u) => Some(u.uri),
                    _ => None,
                })
                .await;
            assert_eq!(uri, WATCHED_URI);
        },
    )
    .await
}

#[tokio::test]
async fn prompts_and_completion() {
    mcp_testsuite::watchdog(mcp_tokio::TokioRuntime, "prompts_and_completion", async move {
    for era in ERAS {
        let peer = connect(era).await;
        let c = &peer.client;
        let prompts = c.list_all_prompts().await.unwrap();
        assert!(prompts.iter().all(|p| p.description.is_some()));
        let with_args = prompts
            .iter()
            .find(|p| p.name == "test_prompt_with_arguments")
            .unwrap();
        assert_eq!(
            wire(&with_args.arguments),
            json!([
                {"name": "arg1", "description": "First test argument.", "required": true},
                {"name": "arg2", "description": "Second test argument.", "required": true}
            ])
        );

        let p = c.get_prompt("test_simple_prompt", &[]).await.unwrap();
        assert_eq!(
            wire(&p.messages),
            json!([{"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}])
        );
        let p = c
            .get_prompt(
                "test_prompt_with_arguments",
                &[("arg1", "hello"), ("arg2", "world")],
            )
            .await
            .unwrap();
        assert_eq!(
            wire(&p.messages[0].content)["text"],
            "Prompt with arguments: arg1='hello', arg2='world'"
        );
        let p = c
            .get_prompt(
                "test_prompt_with_embedded_resource",
                &[("resourceUri", "test://example-resource")],
            )
            .await
            .unwrap();
        let messages = wire(&p.messages);
        assert_eq!(messages[0]["content"]["type"], "resource");
        assert_eq!(
            messages[0]["content"]["resource"]["uri"],
            "test://example-resource"
        );
        assert_eq!(messages[1]["content"]["type"], "text");
        let p = c.get_prompt("test_prompt_with_image", &[]).await.unwrap();
        let messages = wire(&p.messages);
        assert_eq!(messages[0]["content"]["type"], "image");
        assert_eq!(messages[0]["content"]["mimeType"], "image/png");
        assert_eq!(
            messages[1]["content"]["text"],
            "Please analyze the image above."
        );

        let complete = |value: &str| {
            CompleteRequestParams::new(
                CompletionReference::prompt("test_prompt_with_arguments"),
                "arg1",
                value,
            )
        };
        let r = c.complete(complete("par")).await.unwrap();
        assert_eq!(r.completion.values, ["paris", "park", "party"]);
        let r = c.complete(complete("zzz")).await.unwrap();
        assert!(r.completion.values.is_empty());
    }
    })
    .await
}

#[tokio::test]
async fn triggers_change_the_lists_and_tell_listeners() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "triggers_change_the_lists_and_tell_listeners",
        async move {
            // 2026-07-28: on the listen streams that asked for that kind of change.
            let peer = connect(EraPreference::Auto).await;
            let c = &peer.client;
            let mut tools_stream = c
                .listen(SubscriptionFilter {
                    tools_list_changed: Some(true),
                    ..Default::default()
                })
                .unwrap();
            let mut prompts_stream = c
                .listen(SubscriptionFilter {
                    prompts_list_changed: Some(true),
                    ..Default::default()
                })
                .unwrap();
            for stream in [&mut tools_stream, &mut prompts_stream] {
                let first = tokio::time::timeout(GUARD, stream.next()).await.unwrap();
                assert!(
                    matches!(
                        first,
                        Some(ServerNotification::SubscriptionsAcknowledged(_))
                    ),
                    "{first:?}"
                );
            }
            let r = c
                .call_tool("test_trigger_tool_change", json!({}))
                .await
                .unwrap();
            assert_eq!(text(&r), format!("Added {DYNAMIC_TOOL}"));
            let n = tokio::time::timeout(GUARD, tools_stream.next())
                .await
                .unwrap();
            assert!(
                matches!(n, Some(ServerNotification::ToolListChanged(_))),
                "{n:?}"
            );
            let tools = c.list_all_tools().await.unwrap();
            assert!(tools.iter().any(|t| t.name == DYNAMIC_TOOL));

            let r = c
                .call_tool("test_trigger_prompt_change", json!({}))
                .await
                .unwrap();
            assert_eq!(text(&r), format!("Added {DYNAMIC_PROMPT}"));
            // The prompts-only stream skipped the tool change: the prompt change comes first.
            let n = tokio::time::timeout(GUARD, prompts_stream.next())
                .await
                .unwrap();
            assert!(
                matches!(n, Some(ServerNotification::PromptListChanged(_))),
                "{n:?}"
            );
            let prompts = c.list_all_prompts().await.unwrap();
            assert!(prompts.iter().any(|p| p.name == DYNAMIC_PROMPT));

            // Again: the dynamic entries go away, and listeners hear of it.
            let r = c
                .call_tool("test_trigger_tool_change", json!({}))
                .await
                .unwrap();
            assert_eq!(text(&r), format!("Removed {DYNAMIC_TOOL}"));
            let n = tokio::time::timeout(GUARD, tools_stream.next())
                .await
                .unwrap();
            assert!(
                matches!(n, Some(ServerNotification::ToolListChanged(_))),
                "{n:?}"
            );
            let tools = c.list_all_tools().await.unwrap();
            assert!(!tools.iter().any(|t| t.name == DYNAMIC_TOOL));

            // Legacy: on the session.
            let mut peer = connect(EraPreference::Legacy).await;
            peer.client
                .call_tool("test_trigger_prompt_change", json!({}))
                .await
                .unwrap();
            peer.next(|n| matches!(n, ServerNotification::PromptListChanged(_)).then_some(()))
                .await;
            peer.client
                .call_tool("test_trigger_tool_change", json!({}))
                .await
                .unwrap();
            peer.next(|n| matches!(n, ServerNotification::ToolListChanged(_)).then_some(()))
                .await;
        },
    )
    .await
}

/// The raw 2026-07-28 wire over a pipe: what the suite sends, what it reads back.
struct Wire {
    writer: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    lines: tokio::io::Lines<BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>,
    next_id: i64,
}

/// A response and the messages the server sent before it.
struct Exchange {
    before: Vec<Value>,
    response: Value,
}

impl Exchange {
    fn result(&self) -> &Value {
        assert!(
            self.response.get("result").is_some(),
            "expected a result: {}",
            self.response
        );
        &self.response["result"]
    }

    fn error(&self) -> &Value {
        assert!(
            self.response.get("error").is_some(),
            "expected an error: {}",
            self.response
        );
        &self.response["error"]
    }
}

/// The `_meta` the suite puts on every 2026-07-28 request.
fn meta(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "conformance-test-client", "version": "1.0.0"},
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    })
}

/// The suite's default client capabilities.
fn suite_capabilities() -> Value {
    json!({"sampling": {}, "elicitation": {}, "roots": {"listChanged": true}})
}

impl Wire {
    fn new(service: Service) -> Wire {
        let (a, b) = tokio::io::duplex(256 * 1024);
        let (server_read, server_write) = tokio::io::split(a);
        let (_handle, conn) = mcp_tokio::serve_with_handle(service, server_read, server_write);
        tokio::spawn(conn);
        let (read, writer) = tokio::io::split(b);
        Wire {
            writer,
            lines: BufReader::new(read).lines(),
            next_id: 1,
        }
    }

    /// Sends `method` with `params` (the suite's `_meta` added unless they carry their own)
    /// and reads up to its response.
    async fn call(&mut self, method: &str, mut params: Value) -> Exchange {
        if params.get("_meta").is_none() {
            params["_meta"] = meta(suite_capabilities());
        }
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut line = frame.to_string();
        line.push('\n');
        self.writer.write_all(line.as_bytes()).await.unwrap();
        let read = async {
            let mut before = Vec::new();
            loop {
                let line = self.lines.next_line().await.unwrap().expect("server open");
                let message: Value = serde_json::from_str(&line).unwrap();
                let answers = message.get("method").is_none() && message["id"] == json!(id);
                if answers {
                    return Exchange {
                        before,
                        response: message,
                    };
                }
                before.push(message);
            }
        };
        tokio::time::timeout(GUARD, read)
            .await
            .expect("response in time")
    }

    async fn call_tool(&mut self, name: &str, extra: Value) -> Exchange {
        let mut params = json!({"name": name, "arguments": {}});
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                params[k] = v;
            }
        }
        self.call("tools/call", params).await
    }
}

fn accept(content: Value) -> Value {
    json!({"action": "accept", "content": content})
}

fn is_input_required(result: &Value) -> bool {
    result["resultType"] == "input_required"
}

#[tokio::test]
async fn input_required_rounds_on_the_wire() {
    mcp_testsuite::watchdog(mcp_tokio::TokioRuntime, "input_required_rounds_on_the_wire", async move {
    let (service, _control) = conformance_service(TokioRuntime);
    let mut w = Wire::new(service);

    // Basic elicitation: the ask under the key the suite looks for, with sealed state.
    let x = w
        .call_tool("test_input_required_result_elicitation", json!({}))
        .await;
    let r = x.result();
    assert!(is_input_required(r), "{r}");
    let ask = &r["inputRequests"]["user_name"];
    assert_eq!(ask["method"], "elicitation/create");
    assert_eq!(ask["params"]["message"], "What is your name?");
    assert_eq!(
        ask["params"]["requestedSchema"],
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
    );
    let state = r["requestState"]
        .as_str()
        .expect("a requestState")
        .to_owned();
    // Nothing but the answer travels on the request's stream: no server-to-client request.
    assert!(
        x.before.iter().all(|m| m.get("id").is_none()),
        "{:?}",
        x.before
    );
    let x = w
        .call_tool(
            "test_input_required_result_elicitation",
            json!({"inputResponses": {"user_name": accept(json!({"name": "Alice"}))}, "requestState": state}),
        )
        .await;
    let r = x.result();
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["content"][0]["text"], "Hello, Alice!");

    // Missing or wrong answers are asked for again, not errors.
    let x = w
        .call_tool(
            "test_input_required_result_elicitation",
            json!({"inputResponses": {"wrong_key": accept(json!({"data": "wrong"}))}}),
        )
        .await;
    assert!(x.result()["inputRequests"].get("user_name").is_some());
    let x = w
        .call_tool(
            "test_input_required_result_elicitation",
            json!({"inputResponses": {"user_name": 12345}}),
        )
        .await;
    assert!(is_input_required(x.result()), "{}", x.response);
    let x = w
        .call_tool(
            "test_input_required_result_elicitation",
            json!({"inputResponses": null}),
        )
        .await;
    assert!(is_input_required(x.result()), "{}", x.response);
    // The right answer among strays, without state: complete.
    let x = w
        .call_tool(
            "test_input_required_result_elicitation",
            json!({"inputResponses": {
                "user_name": accept(json!({"name": "Alice"})),
                "unknown_extra_key": accept(json!({"foo": "bar"})),
                "another_unexpected": accept(json!({"baz": 123})),
            }}),
        )
        .await;
    assert_eq!(x.result()["content"][0]["text"], "Hello, Alice!");

    // Sampling and roots, under their keys.
    let x = w
        .call_tool("test_input_required_result_sampling", json!({}))
        .await;
    let ask = &x.result()["inputRequests"]["capital_question"];
    assert_eq!(ask["method"], "sampling/createMessage");
    assert_eq!(ask["params"]["maxTokens"], 100);
    let state = x.result()["requestState"].clone();
    let x = w
        .call_tool(
            "test_input_required_result_sampling",
            json!({"inputResponses": {"capital_question": {
                "role": "assistant",
                "content": {"type": "text", "text": "The capital of France is Paris."},
                "model": "test-model",
                "stopReason": "endTurn"
            }}, "requestState": state}),
        )
        .await;
    assert_eq!(
        x.result()["content"][0]["text"],
        "LLM response: The capital of France is Paris."
    );
    let x = w
        .call_tool("test_input_required_result_list_roots", json!({}))
        .await;
    assert_eq!(
        x.result()["inputRequests"]["client_roots"],
        json!({"method": "roots/list"})
    );
    let x = w
        .call_tool(
            "test_input_required_result_list_roots",
            json!({"inputResponses": {"client_roots": {"roots": [{"uri": "file:///test/root", "name": "Test Root"}]}}}),
        )
        .await;
    assert_eq!(
        x.result()["content"][0]["text"],
        "Client roots: file:///test/root"
    );

    // requestState round trip: the second run says state-ok.
    let x = w
        .call_tool("test_input_required_result_request_state", json!({}))
        .await;
    let state = x.result()["requestState"].clone();
    assert!(state.is_string());
    let x = w
        .call_tool(
            "test_input_required_result_request_state",
            json!({"inputResponses": {"confirm": accept(json!({"ok": true}))}, "requestState": state}),
        )
        .await;
    let text = x.result()["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("state-ok"), "{text}");

    // Tampered state: -32602.
    let x = w
        .call_tool("test_input_required_result_tampered_state", json!({}))
        .await;
    let state = x.result()["requestState"].as_str().unwrap().to_owned();
    let x = w
        .call_tool(
            "test_input_required_result_tampered_state",
            json!({"inputResponses": {"confirm": accept(json!({"ok": true}))}, "requestState": format!("{state}-TAMPERED")}),
        )
        .await;
    assert_eq!(x.error()["code"], -32602);
    // A state issued for another tool is no state for this one.
    let x = w
        .call_tool(
            "test_input_required_result_tampered_state",
            json!({"inputResponses": {"confirm": accept(json!({"ok": true}))}, "requestState": text}),
        )
        .await;
    assert_eq!(x.error()["code"], -32602);
    })
    .await
}

#[tokio::test]
async fn several_inputs_and_several_rounds_on_the_wire() {
    mcp_testsuite::watchdog(mcp_tokio::TokioRuntime, "several_inputs_and_several_rounds_on_the_wire", async move {
    let (service, _control) = conformance_service(TokioRuntime);
    let mut w = Wire::new(service);

    // Three asks of three kinds in one round.
    let x = w
        .call_tool("test_input_required_result_multiple_inputs", json!({}))
        .await;
    let r = x.result();
    let asks = r["inputRequests"].as_object().unwrap();
    let methods: BTreeMap<&str, &str> = asks
        .iter()
        .map(|(k, v)| (k.as_str(), v["method"].as_str().unwrap()))
        .collect();
    assert_eq!(
        methods,
        BTreeMap::from([
            ("client_roots", "roots/list"),
            ("greeting", "sampling/createMessage"),
            ("user_name", "elicitation/create"),
        ])
    );
    assert!(r["requestState"].is_string());
    let state = r["requestState"].clone();
    let sampled = json!({"role": "assistant", "content": {"type": "text", "text": "Hello there!"}, "model": "test-model"});
    let roots = json!({"roots": [{"uri": "file:///test/root", "name": "Test Root"}]});
    // Part of the answers: the rest is asked again, the given ones kept in the state.
    let x = w
        .call_tool(
            "test_input_required_result_multiple_inputs",
            json!({"inputResponses": {"greeting": sampled}, "requestState": state}),
        )
        .await;
    let r = x.result();
    let keys: Vec<&String> = r["inputRequests"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["client_roots", "user_name"]);
    let state = r["requestState"].clone();
    let x = w
        .call_tool(
            "test_input_required_result_multiple_inputs",
            json!({"inputResponses": {"user_name": accept(json!({"name": "Alice"})), "client_roots": roots}, "requestState": state}),
        )
        .await;
    assert_eq!(
        x.result()["content"][0]["text"],
        "name: Alice; greeting: Hello there!; roots: 1"
    );

    // Multi-round: each round asks the next step, with a new state.
    let x = w
        .call_tool("test_input_required_result_multi_round", json!({}))
        .await;
    let r1 = x.result().clone();
    assert_eq!(
        r1["inputRequests"]["step1"]["params"]["message"],
        "Step 1: What is your name?"
    );
    let x = w
        .call_tool(
            "test_input_required_result_multi_round",
            json!({"inputResponses": {"step1": accept(json!({"name": "Alice"}))}, "requestState": r1["requestState"]}),
        )
        .await;
    let r2 = x.result().clone();
    assert!(is_input_required(&r2));
    assert_eq!(
        r2["inputRequests"]["step2"]["params"]["message"],
        "Step 2: What is your favorite color?"
    );
    assert_ne!(r2["requestState"], r1["requestState"]);
    let x = w
        .call_tool(
            "test_input_required_result_multi_round",
            json!({"inputResponses": {"step2": accept(json!({"color": "blue"}))}, "requestState": r2["requestState"]}),
        )
        .await;
    assert_eq!(
        x.result()["content"][0]["text"],
        "Hello, Alice! Your favorite color is blue."
    );

    // Only what the request's capabilities declare is asked for.
    let x = w
        .call_tool(
            "test_input_required_result_capabilities",
            json!({"_meta": meta(json!({"sampling": {}}))}),
        )
        .await;
    let asks = x.result()["inputRequests"].as_object().unwrap().clone();
    let methods: Vec<&str> = asks
        .values()
        .map(|a| a["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["sampling/createMessage"]);
    let x = w
        .call_tool("test_input_required_result_capabilities", json!({}))
        .await;
    assert_eq!(x.result()["inputRequests"].as_object().unwrap().len(), 2);

    // prompts/get asks too.
    let x = w
        .call(
            "prompts/get",
            json!({"name": "test_input_required_result_prompt"}),
        )
        .await;
    let r = x.result();
    assert_eq!(
        r["inputRequests"]["user_context"]["params"]["message"],
        "What context should the prompt use?"
    );
    let x = w
        .call(
            "prompts/get",
            json!({"name": "test_input_required_result_prompt", "inputResponses": {"user_context": accept(json!({"context": "test context"}))}, "requestState": r["requestState"]}),
        )
        .await;
    assert_eq!(x.result()["resultType"], "complete");
    assert_eq!(
        x.result()["messages"][0]["content"]["text"],
        "Answer with this context in mind: test context"
    );

    // Never on the methods that may not ask.
    for method in ["tools/list", "prompts/list"] {
        let x = w.call(method, json!({})).await;
        assert_eq!(x.result()["resultType"], "complete", "{method}");
    }

    // Streaming elicitation: the answer is an input_required result, not a request.
    let x = w
        .call_tool(
            "test_streaming_elicitation",
            json!({"_meta": meta(json!({"elicitation": {}}))}),
        )
        .await;
    assert!(is_input_required(x.result()));
    assert!(x.before.is_empty(), "{:?}", x.before);
    })
    .await
}

#[tokio::test]
async fn modern_errors_and_caching_on_the_wire() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "modern_errors_and_caching_on_the_wire",
        async move {
            let (service, _control) = conformance_service(TokioRuntime);
            let mut w = Wire::new(service);

            let x = w
                .call_tool("test_missing_capability", json!({"_meta": meta(json!({}))}))
                .await;
            let e = x.error();
            assert_eq!(e["code"], -32021);
            assert_eq!(e["data"]["requiredCapabilities"], json!({"sampling": {}}));

            let uri = "test://nonexistent-resource-for-conformance-testing";
            let x = w.call("resources/read", json!({"uri": uri})).await;
            assert_eq!(x.error()["code"], -32602);
            assert_eq!(x.error()["data"]["uri"], uri);

            // No logLevel in _meta: no notifications/message.
            let x = w.call_tool("test_logging_tool", json!({})).await;
            assert_eq!(x.result()["content"][0]["text"], "Sent 0 of 3 log messages");
            assert!(x.before.is_empty(), "{:?}", x.before);
            // With one: three, before the result.
            let mut with_level = meta(suite_capabilities());
            with_level["io.modelcontextprotocol/logLevel"] = json!("info");
            let x = w
                .call_tool("test_logging_tool", json!({"_meta": with_level}))
                .await;
            let methods: Vec<&str> = x
                .before
                .iter()
                .map(|m| m["method"].as_str().unwrap())
                .collect();
            assert_eq!(methods, ["notifications/message"; 3]);

            // Progress goes to the request's token.
            let mut with_token = meta(suite_capabilities());
            with_token["progressToken"] = json!("progress-test-1");
            let x = w
                .call_tool("test_tool_with_progress", json!({"_meta": with_token}))
                .await;
            let progress: Vec<(&str, f64, f64)> = x
                .before
                .iter()
                .filter(|m| m["method"] == "notifications/progress")
                .map(|m| {
                    let p = &m["params"];
                    let number = |k: &str| p[k].as_f64().unwrap();
                    (
                        p["progressToken"].as_str().unwrap(),
                        number("progress"),
                        number("total"),
                    )
                })
                .collect();
            assert_eq!(
                progress,
                [
                    ("progress-test-1", 0.0, 100.0),
                    ("progress-test-1", 50.0, 100.0),
                    ("progress-test-1", 100.0, 100.0),
                ]
            );

            // Caching hints on every list and on reads (SEP-2549).
            for (method, params) in [
                ("tools/list", json!({})),
                ("prompts/list", json!({})),
                ("resources/list", json!({})),
                ("resources/templates/list", json!({})),
                ("resources/read", json!({"uri": STATIC_TEXT_URI})),
                ("resources/read", json!({"uri": "test://template/7/data"})),
            ] {
                let x = w.call(method, params).await;
                let r = x.result();
                assert!(r["ttlMs"].as_u64().is_some(), "{method}: {r}");
                let scope = r["cacheScope"].as_str().unwrap_or_default();
                assert!(["public", "private"].contains(&scope), "{method}: {r}");
            }

            // An unknown tool is -32602, with the request's id.
            let x = w.call_tool("no_such_tool", json!({})).await;
            assert_eq!(x.error()["code"], -32602);
        },
    )
    .await
}
