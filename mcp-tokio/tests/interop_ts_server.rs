//! Interop: our tokio client against the reference TypeScript server
//! `@modelcontextprotocol/server-everything` over stdio (a real child process).
//!
//! `scripts/install-peers` installs the pinned peers under `.tools/`; set
//! `MCP_SERVER_EVERYTHING_JS` to use another copy. Without the peer the test says so and
//! passes, unless `MCP_REQUIRE_INTEROP=1` (CI sets it), where a missing peer is a failure.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_tokio::mcp_driver::{BoxFuture, ClientHandler};
use mcp_tokio::mcp_proto::jsonrpc::{ErrorObject, RequestId};
use mcp_tokio::mcp_proto::schema::content::ContentBlock;
use mcp_tokio::mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_tokio::mcp_proto::schema::lifecycle::{
    ClientCapabilities, ElicitationCapability, RootsCapability, SamplingCapability,
};
use mcp_tokio::mcp_proto::schema::messages::ServerNotification;
use mcp_tokio::mcp_proto::schema::roots::ListRootsResult;
use mcp_tokio::mcp_proto::schema::sampling::{CreateMessageRequestParams, CreateMessageResult};
use mcp_tokio::mcp_proto::schema::{Era, Implementation};
use mcp_tokio::mcp_proto::session::ClientConfig;
use mcp_tokio::{connect_child, Stderr};
use serde_json::json;
use tokio::process::Command;

fn peer() -> Option<PathBuf> {
    let path = std::env::var_os("MCP_SERVER_EVERYTHING_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
                "../.tools/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
            )
        });
    if path.is_file() {
        return Some(path);
    }
    let msg = format!(
        "server-everything not found at {}; run scripts/install-peers",
        path.display()
    );
    mcp_testsuite::interop_skip(&msg)
}

/// Plays the host: a canned model, a user who fills forms, one root.
#[derive(Default)]
struct Host {
    asked: Mutex<Vec<String>>,
    notifications: Mutex<Vec<String>>,
}

impl ClientHandler for Host {
    fn create_message(
        &self,
        p: CreateMessageRequestParams,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>> {
        self.asked
            .lock()
            .unwrap()
            .push(format!("sampling:{}", p.max_tokens));
        Box::pin(async {
            serde_json::from_value(json!({
                "role": "assistant",
                "content": {"type": "text", "text": "canned answer from the rust host"},
                "model": "rust-test-model",
                "stopReason": "endTurn"
            }))
            .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }

    fn elicit(
        &self,
        _p: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        self.asked.lock().unwrap().push("elicit".into());
        Box::pin(async {
            serde_json::from_value(json!({"action": "accept", "content": {"name": "Ada Lovelace"}}))
                .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }

    fn list_roots(&self) -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> {
        self.asked.lock().unwrap().push("roots".into());
        Box::pin(async {
            serde_json::from_value(
                json!({"roots": [{"uri": "file:///work/project", "name": "project"}]}),
            )
            .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }

    fn on_notification(&self, n: ServerNotification, _sub: Option<RequestId>) {
        self.notifications
            .lock()
            .unwrap()
            .push(n.method().to_owned());
    }
}

fn texts(content: &[ContentBlock]) -> String {
    content
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_the_typescript_everything_server() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "our_client_against_the_typescript_everything_server",
        async move {
            let Some(js) = peer() else { return };
            let mut cmd = Command::new("node");
            cmd.arg(js).arg("stdio");
            let mut cfg = ClientConfig::new(Implementation::new("mcp-rs-interop", "0.1"));
            cfg.capabilities = ClientCapabilities {
                sampling: Some(SamplingCapability::default()),
                elicitation: Some(ElicitationCapability::default()),
                roots: Some(RootsCapability::default()),
                ..Default::default()
            };
            let host = Arc::new(Host::default());
            let child = tokio::time::timeout(
                Duration::from_secs(30),
                connect_child(cmd, cfg, host.clone(), Stderr::Null),
            )
            .await
            .expect("connect in time")
            .expect("connected");
            let client = child.client().clone();
            // The TypeScript server has no server/discover: the probe falls back to initialize.
            assert_eq!(client.server().era, Era::Legacy);
            assert_eq!(client.server().version.as_str(), "2025-11-25");
            assert_eq!(
                client.server().server_info.as_ref().unwrap().name,
                "mcp-servers/everything"
            );

            let tools: Vec<String> = client
                .list_all_tools()
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
            for expected in [
                "echo",
                "get-sum",
                "trigger-sampling-request",
                "trigger-elicitation-request",
                "get-roots-list",
            ] {
                assert!(
                    tools.iter().any(|t| t == expected),
                    "{expected} missing from {tools:?}"
                );
            }
            let r = client
                .call_tool("echo", json!({"message": "hello from rust"}))
                .await
                .unwrap();
            assert_eq!(texts(&r.content), "Echo: hello from rust");
            let r = client
                .call_tool("get-sum", json!({"a": 2, "b": 40}))
                .await
                .unwrap();
            assert!(texts(&r.content).contains("42"), "{r:?}");
            let r = client
                .call_tool("get-structured-content", json!({"location": "Chicago"}))
                .await
                .unwrap();
            assert!(r.structured_content.is_some(), "{r:?}");

            let resources = client.list_all_resources().await.unwrap();
            assert!(!resources.is_empty());
            let first = resources
                .iter()
                .find(|r| r.uri.starts_with("demo://resource/static/document/"))
                .unwrap();
            let read = client.read_resource(&first.uri).await.unwrap();
            let body = serde_json::to_value(&read.contents[0]).unwrap();
            assert!(
                body["text"].as_str().is_some_and(|t| !t.is_empty()),
                "{body}"
            );
            let templates = client.list_all_resource_templates().await.unwrap();
            assert!(templates
                .iter()
                .any(|t| t.uri_template.contains("{resourceId}")));

            let prompts: Vec<String> = client
                .list_all_prompts()
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.name)
                .collect();
            assert!(prompts.iter().any(|p| p == "args-prompt"), "{prompts:?}");
            let p = client
                .get_prompt(
                    "args-prompt",
                    &[("city", "Paris"), ("state", "Ile-de-France")],
                )
                .await
                .unwrap();
            let text = serde_json::to_string(&p.messages).unwrap();
            assert!(text.contains("Paris"), "{text}");

            // The server asks us: sampling and elicitation through tools, roots on its own.
            let r = client
                .call_tool(
                    "trigger-sampling-request",
                    json!({"prompt": "say hi", "maxTokens": 50}),
                )
                .await
                .unwrap();
            assert!(
                texts(&r.content).contains("canned answer from the rust host"),
                "{r:?}"
            );
            let r = client
                .call_tool("trigger-elicitation-request", json!({}))
                .await
                .unwrap();
            let t = texts(&r.content);
            assert!(t.contains("Ada Lovelace"), "{t}");
            let r = client.call_tool("get-roots-list", json!({})).await.unwrap();
            assert!(texts(&r.content).contains("file:///work/project"), "{r:?}");
            let asked = host.asked.lock().unwrap().clone();
            assert!(
                asked.contains(&"sampling:50".to_owned())
                    && asked.contains(&"elicit".to_owned())
                    && asked.contains(&"roots".to_owned()),
                "{asked:?}"
            );

            let status = child.shutdown(Duration::from_secs(2)).await.unwrap();
            assert!(status.success() || status.code().is_none(), "{status:?}");
        },
    )
    .await
}
