//! Interop: the official Python SDK's client (PyPI `mcp`, pinned by `scripts/install-peers`)
//! against our `everything` example server, over stdio and over streamable HTTP, in both
//! eras, on the tokio and the smol builds.
//!
//! `tests/interop/python_client.py` does the talking and prints a JSON summary of what the
//! server answered; this test runs it once per transport and era and checks the summary.
//! The server is the `everything` example binary, which `cargo test -p mcp-tokio` builds next
//! to the test binaries (`target/<profile>/examples/`): started by the SDK as a child process
//! for stdio, or started here with `http --bind 127.0.0.1:0` (the port it picked is read from
//! its stderr) for HTTP, where both eras run against one server process.
//!
//! Without the peer (`.tools/py`, or `MCP_PYTHON` pointing to a Python with `mcp`) or the
//! example binary, the test says so and passes, unless `MCP_REQUIRE_INTEROP=1` (CI sets it),
//! where either missing is a failure.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tokio::process::Command;

#[path = "interop/support.rs"]
mod support;
use support::{example, required, HttpServer};

fn python() -> Option<PathBuf> {
    let path = std::env::var_os("MCP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::tools("py/bin/python"));
    required(path, "the Python SDK's venv", "run scripts/install-peers")
}

/// Runs the Python client in `mode` against `server` (a binary for stdio, or a URL);
/// returns its summary and its stderr (over stdio, the server's stderr goes there too).
async fn run_python(python: &Path, server: &str, mode: &str) -> (Value, String) {
    let mut command = Command::new(python);
    command
        .arg(support::script("python_client.py"))
        .arg(server)
        .arg(mode);
    support::run_json_and_stderr(command, &format!("the Python client ({mode}, {server})")).await
}

/// The `text` of a prompt message's content.
fn message_text(m: &Value) -> &str {
    m["content"]["text"].as_str().unwrap_or_default()
}

/// What both eras must show.
fn check_summary(s: &Value, mode: &str) {
    let ctx = || format!("{mode}: {s:#}");
    assert_eq!(s["server_info"]["name"], "everything", "{}", ctx());
    assert!(
        s["instructions"]
            .as_str()
            .is_some_and(|i| i.contains("demo server")),
        "{}",
        ctx()
    );
    // Tasks: the legacy `tasks` capability, or the 2026-07-28 extension (under `extensions`).
    let tasks = if mode.starts_with("legacy") {
        "tasks"
    } else {
        "extensions"
    };
    let mut capabilities = vec![
        "completions",
        "logging",
        "prompts",
        "resources",
        tasks,
        "tools",
    ];
    capabilities.sort_unstable();
    assert_eq!(s["capabilities"], json!(capabilities), "{}", ctx());
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

    // Tools: text, structured output (checked by the SDK against the outputSchema too).
    assert_eq!(
        s["echo"],
        json!({"text": "hello from python", "is_error": false})
    );
    assert_eq!(s["add"]["structured"], json!({"sum": 42}), "{}", ctx());
    assert_eq!(s["add"]["is_error"], false);
    let schema = &s["add_output_schema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["sum"]["type"], "integer");

    // Progress, then a call given up on: the session carries on.
    assert_eq!(
        s["progress"],
        json!([
            [1.0, 3.0, "step 1 of 3"],
            [2.0, 3.0, "step 2 of 3"],
            [3.0, 3.0, "step 3 of 3"]
        ]),
        "{}",
        ctx()
    );
    assert_eq!(s["long_running"], "done: 3 steps of 20 ms");
    assert_eq!(s["cancelled_call"], true, "{}", ctx());
    assert_eq!(s["after_cancel"], "still here");

    // The server's asks, answered by the SDK's callbacks (server→client requests in the
    // legacy era, input_required rounds in 2026-07-28).
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
        "python-canned-model replied: a canned reply from python"
    );
    assert_eq!(
        s["elicit"]["text"],
        "Hello, Grace Hopper! Maybe Rust will grow on you."
    );
    assert!(
        s["roots"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("file:///tmp/python-root (python-root)")),
        "{}",
        ctx()
    );
    assert_eq!(
        s["fail"],
        json!({"text": "this tool always fails", "is_error": true})
    );

    // Logging at level info: debug is filtered out.
    let levels: Vec<&str> = s["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["level"].as_str())
        .collect();
    assert_eq!(levels, ["info", "warning", "error"], "{}", ctx());
    assert!(s["log"].as_str().unwrap().starts_with("sent 3 of 4"));

    // Resources: text, binary, a template instance, a subscription.
    assert_eq!(
        s["resources"],
        json!([
            "everything://static/readme",
            "everything://static/bytes",
            "everything://counter"
        ])
    );
    assert_eq!(s["templates"], json!(["everything://greeting/{name}"]));
    let reads = &s["reads"];
    assert!(reads["everything://static/readme"]["text"]
        .as_str()
        .unwrap()
        .starts_with("This server demonstrates every feature"));
    assert_eq!(
        reads["everything://static/bytes"],
        json!({
            "uri": "everything://static/bytes",
            "mimeType": "application/octet-stream",
            "blob": "AAECf4D+/01DUA=="
        })
    );
    assert_eq!(
        reads["everything://greeting/Grace"]["text"],
        "Hello, Grace!"
    );
    assert_eq!(s["updates"][0], "everything://counter", "{}", ctx());
    support::check_update_wait(s, &ctx());

    // Prompts: without arguments, with typed arguments, with an embedded resource.
    assert_eq!(
        s["prompts"],
        json!({"simple": [], "greeting": ["name", "style"], "with_resource": []})
    );
    let messages = &s["prompt_messages"];
    assert_eq!(
        message_text(&messages["greeting"][0]),
        "Write a formal greeting for Grace."
    );
    assert_eq!(messages["greeting"][1]["role"], "assistant");
    assert!(message_text(&messages["simple"][0]).contains("Model Context Protocol"));
    let embedded = &messages["with_resource"][0]["content"];
    assert_eq!(embedded["type"], "resource");
    assert_eq!(embedded["resource"]["uri"], "everything://static/readme");

    // Completions.
    assert_eq!(s["complete_style"], json!(["pirate"]));
    assert_eq!(s["complete_name"], json!(["Grace"]));
}

/// Both eras against `server`: a binary (stdio) or a URL (streamable HTTP). After each run,
/// `stopped(n)` must see the server's `long_running` handler stopped by cancellation for
/// the `n`th time.
async fn both_eras<F: std::future::Future<Output = ()>>(
    server: &str,
    python: &Path,
    stopped: impl Fn(usize, String) -> F,
) {
    // `mode="legacy"`: the initialize handshake at the SDK's newest handshake version.
    let (legacy, stderr) = run_python(python, server, "legacy").await;
    check_summary(&legacy, &format!("legacy, {server}"));
    assert_eq!(legacy["protocol_version"], "2025-11-25");
    assert_eq!(legacy["subscribed_via"], "resources/subscribe");
    stopped(1, stderr).await;

    // `mode="auto"`: server/discover succeeds, so the SDK speaks 2026-07-28.
    let (modern, stderr) = run_python(python, server, "auto").await;
    check_summary(&modern, &format!("auto, {server}"));
    assert_eq!(modern["protocol_version"], "2026-07-28");
    assert_eq!(modern["subscribed_via"], "subscriptions/listen");
    assert_eq!(
        modern["listen_honored"],
        json!({"resourceSubscriptions": ["everything://counter"]})
    );
    stopped(2, stderr).await;
}

/// Both eras over stdio, the SDK starting `server` as its child (its stderr is the
/// Python client's, which has ended by now: one run, one stopped handler).
async fn over_stdio(server: &Path, python: &Path) {
    let check = |_: usize, stderr: String| async move {
        assert_eq!(
            stderr.matches(support::LONG_RUNNING_STOPPED).count(),
            1,
            "the cancelled long_running call must stop its handler:\n{stderr}"
        );
    };
    both_eras(server.to_str().expect("a UTF-8 path"), python, check).await;
}

/// Both eras over streamable HTTP, against one `server` process.
async fn over_http(server: &Path, python: &Path) {
    let http = std::sync::Arc::new(HttpServer::start(server).await);
    let url = http.url.clone();
    // A failed run shows what the server said.
    let python = python.to_owned();
    let server = http.clone();
    let run = tokio::spawn(async move {
        let check = |n: usize, _: String| {
            let server = server.clone();
            async move {
                server
                    .wait_for_stderr(support::LONG_RUNNING_STOPPED, n)
                    .await
            }
        };
        both_eras(&url, &python, check).await
    });
    if let Err(e) = run.await {
        eprintln!("{}: the server's stderr:\n{}", http.url, http.stderr());
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_against_our_everything_server() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "python_sdk_client_against_our_everything_server",
        async move {
            let (Some(python), Some(server)) = (python(), example("everything", "mcp-tokio"))
            else {
                return;
            };
            over_stdio(&server, &python).await;
        },
    )
    .await
}

/// The same server defined once, built on smol: the runtime must not change what a peer sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_against_the_smol_everything_server() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "python_sdk_client_against_the_smol_everything_server",
        async move {
            let (Some(python), Some(server)) = (python(), example("everything_smol", "mcp-smol"))
            else {
                return;
            };
            over_stdio(&server, &python).await;
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_against_our_everything_server_over_http() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "python_sdk_client_against_our_everything_server_over_http",
        async move {
            let (Some(python), Some(server)) = (python(), example("everything", "mcp-tokio"))
            else {
                return;
            };
            over_http(&server, &python).await;
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_against_the_smol_everything_server_over_http() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "python_sdk_client_against_the_smol_everything_server_over_http",
        async move {
            let (Some(python), Some(server)) = (python(), example("everything_smol", "mcp-smol"))
            else {
                return;
            };
            over_http(&server, &python).await;
        },
    )
    .await
}
