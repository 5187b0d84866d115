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
