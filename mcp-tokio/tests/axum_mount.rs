//! The MCP endpoint mounted inside an axum app, next to the app's own routes and middleware:
//! the suite's streamable-HTTP cases pass against it exactly as against `serve_http`, and
//! HTTP/2 requests of both eras are served mounted and by `serve_http` alike.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use mcp_testsuite::http::Accept;
use mcp_tokio::mcp_driver::http::client::Connector;
use mcp_tokio::mcp_driver::{BoxFuture, RequestCx, Server};
use mcp_tokio::{HttpServerConfig, HttpService, TokioConnector, TokioRuntime};
use serde_json::{json, Value};
use tokio_util::compat::TokioAsyncReadCompatExt;

#[path = "support/http.rs"]
mod support;
use support::{read_all, Conn};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// An app of its own: a health route, and a middleware that marks every response.
fn app(http: HttpService<TokioRuntime>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route_service("/mcp", http)
        .layer(axum::middleware::map_request(
            |mut r: axum::extract::Request| async move {
                r.headers_mut()
                    .insert("x-tenant", axum::http::HeaderValue::from_static("acme"));
                r
            },
        ))
        .layer(axum::middleware::map_response(
            |mut r: axum::response::Response| async move {
                r.headers_mut()
                    .insert("x-app", axum::http::HeaderValue::from_static("mounted"));
                r
            },
        ))
}

async fn serve_app(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// The suite's network, but the endpoint is served mounted in [`app`] by `axum::serve`.
#[derive(Clone)]
struct Mounted;

impl mcp_testsuite::http::Net<TokioRuntime> for Mounted {
    fn listen(&self, accept: Accept) -> BoxFuture<'static, SocketAddr> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    tokio::spawn(accept(Box::new(tcp.compat())));
                }
            });
            addr
        })
    }

    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(TokioConnector)
    }

    fn serve_mcp(&self, http: HttpService<TokioRuntime>) -> BoxFuture<'static, String> {
        Box::pin(async move { format!("http://{}/mcp", serve_app(app(http)).await) })
    }
}

mod mounted_in_axum {
    mcp_testsuite::http_suite!(mcp_tokio::TokioRuntime, crate::block_on, crate::Mounted);
}

fn service() -> mcp_tokio::mcp_driver::Service {
    Server::builder("mounted", "1.0.0")
        .tool("echo", "Echoes", || async { Ok("echo") })
        .tool(
            "tenant",
            "The x-tenant header of the HTTP request that carried the call",
            |cx: RequestCx| async move {
                let tenant = cx
                    .http_headers()
                    .and_then(|h| h.get("x-tenant"))
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none");
                Ok(tenant.to_owned())
            },
        )
        .build()
}

/// POSTs `body` over `conn`; returns the status, the headers and the body as JSON (`Null`
/// when empty).
async fn post(
    conn: &mut Conn,
    headers: &[(&str, &str)],
    body: Value,
) -> (u16, hyper::HeaderMap, Value) {
    let (status, headers, bytes) = conn.post(headers, body).await;
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, headers, value)
}

/// Both eras over one HTTP/2 connection: a 2026-07-28 call, then a legacy session whose
/// `tenant` tool reads the request's `x-tenant` header (set by the client unless `tenant`
/// is `None`, when the app's middleware sets it).
async fn both_eras_over_h2(addr: SocketAddr, tenant: Option<&str>) -> hyper::HeaderMap {
    let mut h2 = Conn::open_h2(addr).await;
    let modern = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
        "name":"echo","arguments":{},"_meta":{
            "io.modelcontextprotocol/protocolVersion":"2026-07-28",
            "io.modelcontextprotocol/clientCapabilities":{}}}});
    let (status, headers, body) = post(
        &mut h2,
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "echo"),
        ],
        modern,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["content"][0]["text"], "echo");

    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},
        "clientInfo":{"name":"h2","version":"1"}}});
    let (status, h, body) = post(&mut h2, &[], init).await;
    assert_eq!(status, 200, "{body}");
    let session = h["mcp-session-id"].to_str().unwrap().to_owned();
    let on = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    assert_eq!(post(&mut h2, &on, note).await.0, 202);
    let call = json!({"jsonrpc":"2.0","id":2,"method":"tools/call",
        "params":{"name":"echo","arguments":{}}});
    let (status, _, body) = post(&mut h2, &on, call).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["content"][0]["text"], "echo");
    let call = json!({"jsonrpc":"2.0","id":3,"method":"tools/call",
        "params":{"name":"tenant","arguments":{}}});
    let mut with = on.to_vec();
    with.extend(tenant.map(|t| ("x-tenant", t)));
    let (status, _, body) = post(&mut h2, &with, call).await;
    assert_eq!(status, 200, "{body}");
    let expected = tenant.unwrap_or("acme");
    assert_eq!(body["result"]["content"][0]["text"], expected, "{body}");
    headers
}

#[tokio::test]
async fn http2_both_eras_mounted_in_axum_and_next_to_the_apps_routes() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "http2_both_eras_mounted_in_axum_and_next_to_the_apps_routes",
        async move {
            let http = HttpService::new(TokioRuntime, service(), HttpServerConfig::default());
            let addr = serve_app(app(http.clone())).await;
            let headers = both_eras_over_h2(addr, None).await;
            assert_eq!(
                headers["x-app"], "mounted",
                "the app's middleware wraps MCP too"
            );
            assert_eq!(http.session_count(), 1);

            // The app's own route still answers, over HTTP/1.1.
            let mut conn = Conn::open(addr).await;
            let resp = conn.request("GET", "/health", &[], String::new()).await;
            assert_eq!(resp.status(), 200);
            assert_eq!(read_all(resp.into_body()).await, "ok");
        },
    )
    .await
}

#[tokio::test]
async fn http2_both_eras_with_serve_http() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "http2_both_eras_with_serve_http",
        async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(mcp_tokio::serve_http(
                listener,
                service(),
                HttpServerConfig::default(),
            ));
            both_eras_over_h2(addr, Some("globex")).await;
        },
    )
    .await
}

/// The `axum_app` example as a real child process: our client calls its tool through the
/// app's middleware, its own route answers, and SIGINT shuts it down cleanly.
#[tokio::test]
async fn the_axum_app_example_serves_mcp_beside_its_routes_and_stops_on_sigint() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "the_axum_app_example_serves_mcp_beside_its_routes_and_stops_on_sigint",
        async move {
            use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
            tokio::time::timeout(std::time::Duration::from_secs(60), async {
                let bin = mcp_testsuite::child::example_binary("axum_app");
                let mut child = tokio::process::Command::new(bin)
                    .args(["--bind", "127.0.0.1:0"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                let mut stdout = BufReader::new(child.stdout.take().unwrap());
                let mut line = String::new();
                stdout.read_line(&mut line).await.unwrap();
                let url = line
                    .trim()
                    .strip_prefix("listening on ")
                    .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
                    .to_owned();

                let config = mcp_tokio::mcp_proto::session::ClientConfig::new(
                    mcp_tokio::mcp_proto::schema::Implementation::new("axum-app-test", "1"),
                );
                let client = mcp_tokio::connect_http(
                    &url,
                    config,
                    Arc::new(mcp_tokio::mcp_driver::NoHandler),
                    mcp_tokio::HttpClientOptions::default(),
                )
                .await
                .unwrap();
                let r = client.call_tool("whoami", json!({})).await.unwrap();
                let text = r.content[0].as_text().unwrap().to_owned();
                assert!(text.starts_with("request "), "{text}");
                assert_ne!(
                    text, "request none",
                    "the middleware's header reached the tool"
                );
                drop(client);

                let addr: SocketAddr = url
                    .trim_start_matches("http://")
                    .trim_end_matches("/mcp")
                    .parse()
                    .unwrap();
                let mut conn = Conn::open(addr).await;
                let resp = conn.request("GET", "/health", &[], String::new()).await;
                assert_eq!(resp.status(), 200);
                assert_eq!(read_all(resp.into_body()).await, "ok");
                drop(conn);

                let pid = child.id().unwrap().to_string();
                let killed = tokio::process::Command::new("kill")
                    .args(["-INT", &pid])
                    .status()
                    .await
                    .unwrap();
                assert!(killed.success());
                let status = child.wait().await.unwrap();
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .await
                    .unwrap();
                assert!(status.success(), "{status}: {err}");
                assert!(err.contains("bye"), "{err}");
            })
            .await
            .unwrap();
        },
    )
    .await
}
