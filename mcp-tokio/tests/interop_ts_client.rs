//! Interop: the official TypeScript SDK's client (npm `@modelcontextprotocol/sdk`, pinned by
//! `scripts/install-peers`) against our `everything` example server over streamable HTTP, on
//! the tokio and the smol builds.
//!
//! `tests/interop/ts_client.mjs` connects with the SDK's `StreamableHTTPClientTransport`,
//! tours the server (tools with progress and a cancelled call, the server's sampling,
//! elicitation and roots asks, logging, resources and a subscription, prompts, completions,
//! ping), ends the session with DELETE and prints a JSON summary; this test starts the server
//! with `http --bind 127.0.0.1:0`, runs the script against the URL the server printed and
//! checks the summary. The SDK negotiates the newest handshake version it knows
//! (2025-11-25): it has no 2026-07-28 support, so this covers the legacy era.
//!
//! Without the peer (the SDK under `.tools/npm`, or `MCP_TS_SDK` naming its package
//! directory; `node` on PATH, or `MCP_NODE`) or the example binary, the test says so and
//! passes, unless `MCP_REQUIRE_INTEROP=1` (CI sets it), where either missing is a failure.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tokio::process::Command;

#[path = "interop/support.rs"]
mod support;
use support::{example, missing, required, HttpServer};

/// The SDK's package directory.
fn sdk() -> Option<PathBuf> {
    let dir = std::env::var_os("MCP_TS_SDK")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::tools("npm/node_modules/@modelcontextprotocol/sdk"));
    required(
        dir.join("package.json"),
        "the TypeScript SDK",
        "run scripts/install-peers",
    )?;
    Some(dir)
}

/// A Node.js that runs.
async fn node() -> Option<PathBuf> {
    let node = std::env::var_os("MCP_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    match Command::new(&node).arg("--version").output().await {
        Ok(out) if out.status.success() => Some(node),
        Ok(out) => missing(&format!(
            "`{} --version` failed ({}); install Node.js 18 or newer, or set MCP_NODE",
            node.display(),
            out.status
        )),
        Err(e) => missing(&format!(
            "cannot run `{}` ({e}); install Node.js 18 or newer, or set MCP_NODE",
            node.display()
        )),
    }
}

/// The `text` of a prompt message's content.
fn message_text(m: &Value) -> &str {
    m["content"]["text"].as_str().unwrap_or_default()
}

fn check_summary(s: &Value, server: &str) {
    let ctx = || format!("{server}: {s:#}");
    assert_eq!(s["protocol_version"], "2025-11-25", "{}", ctx());
    assert!(
        s["session_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{}",
        ctx()
    );
    assert_eq!(s["server_info"]["name"], "everything", "{}", ctx());
    assert!(
        s["instructions"]
            .as_str()
            .is_some_and(|i| i.contains("demo server")),
        "{}",
        ctx()
    );
    assert_eq!(
        s["capabilities"],
        json!([
            "completions",
            "logging",
            "prompts",
            "resources",
            "tasks",
            "tools"
        ]),
        "{}",
        ctx()
    );
    assert_eq!(
        s["tools"],
        json!([
            "echo",
            "add",
            "long_running",
            "sample",
            "elicit",
            "roots",
            "fail",
            "log",
            "crunch",
            "failing_job",
            "approve"
        ]),
        "{}",
        ctx()
    );

    // Tools: text, structured output (the SDK checks it against the outputSchema).
    assert_eq!(
        s["echo"],
        json!({"text": "hello from typescript", "is_error": false}),
        "{}",
        ctx()
    );
    assert_eq!(
        s["add"],
        json!({"structured": {"sum": 42}, "text": "{\"sum\":42}", "is_error": false}),
        "{}",
        ctx()
    );
    let schema = &s["add_output_schema"];
    assert_eq!(schema["type"], "object", "{}", ctx());
    assert_eq!(schema["properties"]["sum"]["type"], "integer", "{}", ctx());

    // Progress on the call's SSE stream, then a call cancelled at its first progress report:
    // the session carries on.
    assert_eq!(
        s["progress"],
        json!([
            [1, 3, "step 1 of 3"],
            [2, 3, "step 2 of 3"],
            [3, 3, "step 3 of 3"]
        ]),
        "{}",
        ctx()
    );
    assert_eq!(s["long_running"], "done: 3 steps of 20 ms", "{}", ctx());
    assert_eq!(s["cancelled_call"], true, "{}", ctx());
    assert_eq!(s["after_cancel"], "still here", "{}", ctx());

    // The server's asks: requests on the call's SSE stream, answered by the SDK's handlers.
    assert_eq!(
        s["asks"],
        json!([
            {"sampling": "hi from rust", "max_tokens": 33},
            {"elicitation": "Tell the everything server about yourself", "fields": ["likes_rust", "name"]},
            {"roots": true}
        ]),
        "{}",
        ctx()
    );
    assert_eq!(
        s["sample"]["text"],
        "ts-canned-model replied: a canned reply from typescript",
        "{}",
        ctx()
    );
    assert_eq!(
        s["elicit"]["text"],
        "Hello, Ada Lovelace! Glad you like Rust.",
        "{}",
        ctx()
    );
    assert_eq!(
        s["roots"]["text"],
        "The client's roots:\nfile:///tmp/ts-root (ts-root)",
        "{}",
        ctx()
    );
    assert_eq!(
        s["fail"],
        json!({"text": "this tool always fails", "is_error": true}),
        "{}",
        ctx()
    );

    // Logging at level info: debug is filtered out.
    assert_eq!(
        s["logs"],
        json!([
            {"level": "info", "logger": "everything", "data": "an info message"},
            {"level": "warning", "logger": "everything", "data": "a warning"},
            {"level": "error", "logger": "everything", "data": "an error (nothing is wrong)"}
        ]),
        "{}",
        ctx()
    );
    assert!(
        s["log"]
            .as_str()
            .is_some_and(|l| l.starts_with("sent 3 of 4")),
        "{}",
        ctx()
    );

    // Resources: text, binary, a template instance, a subscription (updates on the GET
    // stream).
    assert_eq!(
        s["resources"],
        json!([
            "everything://static/readme",
            "everything://static/bytes",
            "everything://counter"
        ]),
        "{}",
        ctx()
    );
    assert_eq!(
        s["templates"],
        json!(["everything://greeting/{name}"]),
        "{}",
        ctx()
    );
    let reads = &s["reads"];
    assert!(
        reads["everything://static/readme"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("This server demonstrates every feature")),
        "{}",
        ctx()
    );
    assert_eq!(
        reads["everything://static/bytes"],
        json!({
            "uri": "everything://static/bytes",
            "mimeType": "application/octet-stream",
            "blob": "AAECf4D+/01DUA=="
        }),
        "{}",
        ctx()
    );
    assert_eq!(
        reads["everything://greeting/Ada"]["text"],
        "Hello, Ada!",
        "{}",
        ctx()
    );
    assert_eq!(s["updates"][0], "everything://counter", "{}", ctx());
    support::check_update_wait(s, &ctx());

    // Prompts: without arguments, with typed arguments, with an embedded resource.
    assert_eq!(
        s["prompts"],
        json!({"simple": [], "greeting": ["name", "style"], "with_resource": []}),
        "{}",
        ctx()
    );
    let messages = &s["prompt_messages"];
    assert_eq!(
        message_text(&messages["greeting"][0]),
        "Greet Ada the way a pirate would.",
        "{}",
        ctx()
    );
    assert_eq!(messages["greeting"][1]["role"], "assistant", "{}", ctx());
    assert!(
        message_text(&messages["simple"][0]).contains("Model Context Protocol"),
        "{}",
        ctx()
    );
    let embedded = &messages["with_resource"][0]["content"];
    assert_eq!(embedded["type"], "resource", "{}", ctx());
    assert_eq!(
        embedded["resource"]["uri"],
        "everything://static/readme",
        "{}",
        ctx()
    );

    // Completions, ping.
    assert_eq!(s["complete_style"], json!(["formal"]), "{}", ctx());
    assert_eq!(s["complete_name"], json!(["Ada", "Alan"]), "{}", ctx());
    assert_eq!(s["ping"], json!({}), "{}", ctx());

    // DELETE ended the session: the SDK forgot its id, and the server answers 404 to it.
    assert_eq!(s["session_after_delete"], Value::Null, "{}", ctx());
    assert_eq!(s["post_after_delete"], 404, "{}", ctx());
}

/// Starts `server` on HTTP, runs the TypeScript client against it and checks the summary.
async fn tour(server: &Path) {
    let (Some(node), Some(sdk)) = (node().await, sdk()) else {
        return;
    };
    let http = HttpServer::start(server).await;
    let mut command = Command::new(node);
    command
        .arg(support::script("ts_client.mjs"))
        .arg(&http.url)
        .env("MCP_TS_SDK", sdk);
    let url = http.url.clone();
    // A failed run shows what the server said.
    let run = tokio::spawn(async move {
        let summary = support::run_json(command, &format!("the TypeScript client ({url})")).await;
        check_summary(&summary, &url);
    });
    if let Err(e) = run.await {
        eprintln!("{}: the server's stderr:\n{}", http.url, http.stderr());
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ts_sdk_client_against_our_everything_server_over_http() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "ts_sdk_client_against_our_everything_server_over_http",
        async move {
            let Some(server) = example("everything", "mcp-tokio") else {
                return;
            };
            tour(&server).await;
        },
    )
    .await
}

/// The same server defined once, built on smol: the runtime must not change what a peer sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ts_sdk_client_against_the_smol_everything_server_over_http() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "ts_sdk_client_against_the_smol_everything_server_over_http",
        async move {
            let Some(server) = example("everything_smol", "mcp-smol") else {
                return;
            };
            tour(&server).await;
        },
    )
    .await
}
