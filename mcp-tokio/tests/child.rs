//! Child-process servers that misbehave: each ends with a clear error and no hang.

use std::sync::Arc;
use std::time::Duration;

use mcp_tokio::mcp_driver::NoHandler;
use mcp_tokio::mcp_proto::schema::Implementation;
use mcp_tokio::mcp_proto::session::ClientConfig;
use mcp_tokio::{connect_child, ChildError, Stderr};
use tokio::process::Command;

fn quick_config() -> ClientConfig {
    let mut c = ClientConfig::new(Implementation::new("child-test", "1"));
    c.probe_timeout = Duration::from_millis(200);
    c.initialize_timeout = Duration::from_millis(400);
    c
}

fn sh(script: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(script);
    c
}

#[tokio::test]
async fn a_server_that_writes_garbage_fails_the_handshake() {
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        connect_child(
            sh("echo 'this is not json'; echo '{\"also\": \"not mcp\"}'; cat >/dev/null"),
            quick_config(),
            Arc::new(NoHandler),
            Stderr::Null,
        ),
    )
    .await
    .expect("no hang");
    assert!(matches!(r, Err(ChildError::Connect(_))), "{r:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        connect_child(
            sh("cat >/dev/null"),
            quick_config(),
            Arc::new(NoHandler),
            Stderr::Null,
        ),
    )
    .await
    .expect("no hang");
    assert!(
        matches!(
            r,
            Err(ChildError::Connect(
                mcp_tokio::mcp_proto::session::ConnectError::Timeout
            ))
        ),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_server_that_exits_at_once_is_a_connect_error() {
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        connect_child(
            sh("exit 3"),
            quick_config(),
            Arc::new(NoHandler),
            Stderr::Null,
        ),
    )
    .await
    .expect("no hang");
    assert!(matches!(r, Err(ChildError::Connect(_))), "{r:?}");
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error() {
    let r = connect_child(
        Command::new("/nonexistent/mcp-server"),
        quick_config(),
        Arc::new(NoHandler),
        Stderr::Null,
    )
    .await;
    assert!(matches!(r, Err(ChildError::Spawn(_))), "{r:?}");
}

/// The `everything` example binary (examples are built next to the test binaries' folder).
fn everything() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let bin = dir
        .join("examples")
        .join(format!("everything{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} missing: `cargo test -p mcp-tokio` builds it",
        bin.display()
    );
    bin
}

#[tokio::test]
async fn a_server_killed_mid_call_fails_the_call_not_hangs() {
    let mut cmd = Command::new(everything());
    cmd.arg("stdio");
    let child = connect_child(cmd, quick_config(), Arc::new(NoHandler), Stderr::Null)
        .await
        .unwrap();
    let client = child.client().clone();
    let pid = child.id().expect("running");
    let in_flight = Arc::new(tokio::sync::Notify::new());
    let call = tokio::spawn({
        let client = client.clone();
        let in_flight = in_flight.clone();
        async move {
            let on_progress = Box::new(move |_| in_flight.notify_one());
            client
                .call_tool_with(
                    "long_running",
                    serde_json::json!({"steps": 50, "step_ms": 200}),
                    Some(on_progress),
                )
                .await
        }
    });
    // Kill it while the call runs: the first progress proves the call is in flight.
    tokio::time::timeout(Duration::from_secs(10), in_flight.notified())
        .await
        .expect("progress");
    let killer = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    let status = tokio::time::timeout(Duration::from_secs(10), killer)
        .await
        .expect("kill ran")
        .unwrap();
    assert!(status.success());
    let r = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("no hang")
        .unwrap();
    assert!(
        matches!(
            r,
            Err(mcp_tokio::mcp_driver::CallError::Request(
                mcp_tokio::mcp_proto::session::RequestError::Closed
            ))
        ),
        "{r:?}"
    );
    assert!(client.is_closed());
    drop(child);
}

#[tokio::test]
async fn graceful_shutdown_ends_the_child() {
    let mut cmd = Command::new(everything());
    cmd.arg("stdio");
    let child = connect_child(cmd, quick_config(), Arc::new(NoHandler), Stderr::Null)
        .await
        .unwrap();
    let r = child
        .client()
        .call_tool("echo", serde_json::json!({"message": "bye"}))
        .await
        .unwrap();
    assert!(
        r.content[0].as_text().is_some_and(|t| t.contains("bye")),
        "{r:?}"
    );
    // Closing stdin is enough for a well-behaved server: no signal needed.
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        child.shutdown(Duration::from_secs(5)),
    )
    .await
    .expect("no hang")
    .unwrap();
    assert!(status.success(), "{status:?}");
}
