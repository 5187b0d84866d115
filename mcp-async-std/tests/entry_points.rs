//! mcp-async-std's own entry points, end to end on 127.0.0.1: `serve_tcp` on an accepted
//! async-std connection and `serve_http_tcp` on an async-std listener, each reached by a
//! client in both eras. (The shared suite covers what these wrap; this covers the wrapping.)

use std::sync::Arc;

use async_std::net::{TcpListener, TcpStream};
use mcp_async_std::mcp_proto::schema::{Era, Implementation};
use mcp_async_std::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_async_std::{AsyncStdRuntime, HttpClientOptions, HttpServerConfig};
use mcp_testsuite::{fixture_service, Fixture};
use serde_json::json;

const ERAS: [(EraPreference, Era); 2] = [
    (EraPreference::Auto, Era::Modern),
    (EraPreference::Legacy, Era::Legacy),
];

fn config(era: EraPreference) -> ClientConfig {
    let mut c = ClientConfig::new(Implementation::new("async-std-client", "1"));
    c.era = era;
    c
}

fn run<F: std::future::Future<Output = ()>>(test: &str, f: F) {
    async_std::task::block_on(mcp_testsuite::watchdog(AsyncStdRuntime, test, f));
}

async fn echo(client: &mcp_async_std::mcp_driver::Client, text: &str) {
    let r = client
        .call_tool("echo", json!({"text": text}))
        .await
        .unwrap_or_else(|e| panic!("echo {text}: {e}"));
    assert_eq!(r.content[0].as_text(), Some(text));
}

/// `serve_tcp`: one session per accepted connection, until the client goes; then it
/// returns `Ok`.
#[test]
fn serve_tcp_serves_a_connection_until_the_client_leaves() {
    run(
        "serve_tcp_serves_a_connection_until_the_client_leaves",
        async {
            let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            for (era, expected) in ERAS {
                let server = async_std::task::spawn({
                    let listener = listener.clone();
                    async move {
                        let (stream, _) = listener.accept().await.unwrap();
                        mcp_async_std::serve_tcp(fixture_service(&Fixture::default()), stream).await
                    }
                });
                let stream = TcpStream::connect(addr).await.unwrap();
                let client = mcp_async_std::connect(
                    config(era),
                    Arc::new(mcp_async_std::mcp_driver::NoHandler),
                    stream.clone(),
                    stream,
                )
                .await
                .unwrap_or_else(|e| panic!("connect over TCP ({era:?}): {e}"));
                assert_eq!(client.server().era, expected);
                echo(&client, &format!("over tcp, {era:?}")).await;
                client.close();
                client.closed().await;
                drop(client);
                server
                    .await
                    .unwrap_or_else(|e| panic!("serve_tcp ends cleanly ({era:?}): {e}"));
            }
        },
    );
}

/// `serve_http_tcp`: streamable HTTP on an async-std listener, both eras against one
/// server.
#[test]
fn serve_http_tcp_serves_both_eras() {
    run("serve_http_tcp_serves_both_eras", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let server = async_std::task::spawn(mcp_async_std::serve_http_tcp(
            listener,
            fixture_service(&Fixture::default()),
            HttpServerConfig::default(),
        ));
        for (era, expected) in ERAS {
            let client = mcp_async_std::connect_http(
                &url,
                config(era),
                Arc::new(mcp_async_std::mcp_driver::NoHandler),
                HttpClientOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("connect over HTTP ({era:?}): {e}"));
            assert_eq!(client.server().era, expected);
            echo(&client, &format!("over http, {era:?}")).await;
            client.close();
            client.closed().await;
        }
        // Still serving: nothing made the accept loop end.
        assert!(
            server.cancel().await.is_none(),
            "serve_http_tcp ended early"
        );
    });
}
