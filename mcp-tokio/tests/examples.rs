//! The small examples: the README shows them verbatim, and the ones that end by themselves
//! (or can be stopped) run here as real processes.

use std::time::Duration;

use mcp_testsuite::child::example_binary;
use mcp_tokio::prelude::*;
use tokio::io::{AsyncBufReadExt, BufReader};

const GUARD: Duration = Duration::from_secs(60);

fn read(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_readme_shows_the_examples_verbatim() {
    let readme = read("../README.md");
    for example in ["examples/calculator_stdio.rs", "examples/client_child.rs"] {
        let block = format!("```rust\n{}```\n", read(example));
        assert!(
            readme.contains(&block),
            "README.md no longer shows mcp-tokio/{example} verbatim; paste the file in again"
        );
    }
}

#[tokio::test]
async fn client_child_calls_calculator_stdio() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "client_child_calls_calculator_stdio",
        async move {
            let out = tokio::time::timeout(
                GUARD,
                Command::new(example_binary("client_child"))
                    .arg(example_binary("calculator_stdio"))
                    .output(),
            )
            .await
            .expect("client_child finishes")
            .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(stdout, "2 + 3 = 5\n");
        },
    )
    .await
}

#[tokio::test]
async fn client_child_without_a_server_says_how_to_run_it() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "client_child_without_a_server_says_how_to_run_it",
        async move {
            let out = Command::new(example_binary("client_child"))
                .output()
                .await
                .unwrap();
            assert!(!out.status.success());
            assert!(String::from_utf8_lossy(&out.stderr).contains("usage: client_child"));
        },
    )
    .await
}

#[derive(Serialize)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Sum {
    sum: i64,
}

#[tokio::test]
async fn http_server_answers_over_streamable_http() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "http_server_answers_over_streamable_http",
        async move {
            tokio::time::timeout(GUARD, async {
                let mut child = Command::new(example_binary("http_server"))
                    .arg("127.0.0.1:0")
                    .stderr(std::process::Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                let mut stderr = BufReader::new(child.stderr.take().unwrap());
                let mut line = String::new();
                stderr.read_line(&mut line).await.unwrap();
                let url = line
                    .trim()
                    .strip_prefix("MCP at ")
                    .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
                let client = connect_http(
                    url,
                    ClientConfig::named("examples-test", "1"),
                    Arc::new(NoHandler),
                    HttpClientOptions::default(),
                )
                .await
                .unwrap();
                let result = client.call_tool("add", Add { a: 40, b: 2 }).await.unwrap();
                assert_eq!(result.structured_as::<Sum>().unwrap(), Sum { sum: 42 });
                drop(client);
                child.kill().await.unwrap();
            })
            .await
            .expect("within the guard");
        },
    )
    .await
}

#[tokio::test]
async fn custom_transport_runs_over_messages_and_bytes() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "custom_transport_runs_over_messages_and_bytes",
        async move {
            let out = tokio::time::timeout(
                GUARD,
                Command::new(example_binary("custom_transport")).output(),
            )
            .await
            .expect("custom_transport finishes")
            .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "over messages: 2 + 3 = 5\nover bytes: 40 + 2 = 42\n"
            );
        },
    )
    .await
}

/// `serve_stdio` with stdin a pipe and stdout not one (a socket here; a log file or a
/// terminal in the field): the pipe fast path must not leave stdin non-blocking when it
/// falls back to tokio's stdio, or the server dies with "Resource temporarily unavailable"
/// on its first read that finds no input waiting.
#[cfg(unix)]
#[tokio::test]
async fn serve_stdio_with_stdout_not_a_pipe() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "serve_stdio_with_stdout_not_a_pipe",
        async move {
            use tokio::io::AsyncWriteExt;
            let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            ours.set_nonblocking(true).unwrap();
            let mut replies = BufReader::new(tokio::net::UnixStream::from_std(ours).unwrap());
            let mut child = Command::new(example_binary("calculator_stdio"))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::from(std::os::fd::OwnedFd::from(theirs)))
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut reply = async |line: &str| {
                stdin.write_all(line.as_bytes()).await.unwrap();
                stdin.write_all(b"\n").await.unwrap();
                let mut answer = String::new();
                tokio::time::timeout(GUARD, replies.read_line(&mut answer))
                    .await
                    .expect("an answer within the guard")
                    .unwrap();
                answer
            };
            // The server answers, then reads again with nothing waiting: the read that failed.
            let init = reply(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#).await;
            assert!(init.contains(r#""id":1"#), "{init}");
            let sum = reply(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}"#).await;
            drop(stdin);
            let out = tokio::time::timeout(GUARD, child.wait_with_output())
                .await
                .expect("the server ends when stdin closes")
                .unwrap();
            assert!(
                sum.contains(r#""id":2"#) && sum.contains(r#""sum":5"#),
                "the second request answered: {sum:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        },
    )
    .await
}
