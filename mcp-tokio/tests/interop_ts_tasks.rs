//! Interop: the official TypeScript SDK's client (npm `@modelcontextprotocol/sdk`, pinned by
//! `scripts/install-peers`) runs tools of our `everything` example server as tasks (SEP-1686,
//! protocol 2025-11-25: the SDK's experimental `client.experimental.tasks`), over stdio.
//!
//! `tests/interop/ts_tasks.mjs` starts the server as its child, creates tasks with
//! `callToolStream` (which polls `tasks/get` at the server's `pollInterval` and reads the
//! result with `tasks/result`), reads a finished task again by id (`tasks/get`,
//! `tasks/result`, `tasks/list`), sees a task fail, answers an elicitation tied to a task,
//! and cancels a long task; it prints a JSON summary this test checks.
//!
//! Without the peer (the SDK under `.tools/npm`, or `MCP_TS_SDK` naming its package
//! directory; `node` on PATH, or `MCP_NODE`) or the example binary, the test says so and
//! passes, unless `MCP_REQUIRE_INTEROP=1` (CI sets it), where either missing is a failure.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tokio::process::Command;

#[path = "interop/support.rs"]
mod support;
use support::{example, missing, required};

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

fn check(s: &Value, server: &Path) {
    let ctx = || format!("{}: {s:#}", server.display());
    // The server offers task-augmented tools/call, listing and cancelling.
    assert_eq!(
        s["tasks_capability"],
        json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}),
        "{}",
        ctx()
    );
    assert_eq!(
        s["task_support"],
        json!({"crunch": "optional", "failing_job": "required", "approve": "optional"}),
        "{}",
        ctx()
    );
    // Created, polled to completion, result read.
    assert_eq!(
        s["crunch"],
        json!({"kinds": ["taskCreated", "taskStatus", "result"], "last_status": "completed",
               "text": "the sum of 1..=4 is 10"}),
        "{}",
        ctx()
    );
    // Read again by id: the TTL the client asked for, the server's poll interval, the same
    // result tied to the task, and the task in tasks/list.
    assert_eq!(
        s["crunch_get"],
        json!({"status": "completed", "ttl": 60000, "poll_interval": 1000}),
        "{}",
        ctx()
    );
    assert_eq!(
        s["crunch_result"],
        json!({"text": "the sum of 1..=4 is 10", "related": true}),
        "{}",
        ctx()
    );
    assert_eq!(s["listed"], true, "{}", ctx());
    // A failed job: the SDK reports the failed status as its own error.
    assert_eq!(s["failing"]["last_status"], "failed", "{}", ctx());
    assert_eq!(
        s["failing"]["kinds"],
        json!(["taskCreated", "taskStatus", "error"]),
        "{}",
        ctx()
    );
    // Input midway: the elicitation carried the task's id, the answer reached the task.
    assert_eq!(
        s["approve"],
        json!({"text": "approved and done: ship it", "asked_for_the_task": true}),
        "{}",
        ctx()
    );
    // Cancelled while working.
    assert_eq!(
        s["cancel"],
        json!({"answer": "cancelled", "after": "cancelled"}),
        "{}",
        ctx()
    );
}

async fn run(server: &Path) {
    let (Some(node), Some(sdk)) = (node().await, sdk()) else {
        return;
    };
    let mut command = Command::new(node);
    command
        .arg(support::script("ts_tasks.mjs"))
        .arg(server)
        .env("MCP_TS_SDK", sdk);
    let summary = support::run_json(
        command,
        &format!("the TypeScript tasks client ({})", server.display()),
    )
    .await;
    check(&summary, server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ts_sdk_runs_tasks_on_our_everything_server() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "ts_sdk_runs_tasks_on_our_everything_server",
        async move {
            let Some(server) = example("everything", "mcp-tokio") else {
                return;
            };
            run(&server).await;
        },
    )
    .await
}

/// The same server built on smol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ts_sdk_runs_tasks_on_the_smol_everything_server() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "ts_sdk_runs_tasks_on_the_smol_everything_server",
        async move {
            let Some(server) = example("everything_smol", "mcp-smol") else {
                return;
            };
            run(&server).await;
        },
    )
    .await
}
