//! An axum app that serves MCP at `/mcp` next to its own routes and middleware.
//!
//! ```sh
//! cargo run -p mcp-tokio --example axum_app -- --bind 127.0.0.1:3000
//! ```
//!
//! `GET /health` is the app's own route; `/mcp` is the streamable HTTP endpoint (both eras,
//! HTTP/1.1 and HTTP/2). A middleware stamps every request with `x-request-id`, which the
//! `whoami` tool reads back through `RequestCx::http_headers`. Ctrl-C (SIGINT) shuts down
//! gracefully: no new connections or requests, calls in flight get five seconds to finish.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::routing::get;
use axum::Router;
use mcp_tokio::mcp_driver::{RequestCx, Server};
use mcp_tokio::{HttpServerConfig, HttpService, TokioRuntime};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut bind = "127.0.0.1:3000".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bind" => bind = args.next().expect("--bind needs an address"),
            other => panic!("unknown argument {other}; usage: axum_app [--bind ADDR]"),
        }
    }

    let service = Server::builder("axum-app", env!("CARGO_PKG_VERSION"))
        .tool(
            "whoami",
            "The x-request-id the app's middleware gave this call",
            |cx: RequestCx| async move {
                let id = cx
                    .http_headers()
                    .and_then(|h| h.get("x-request-id"))
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none");
                Ok(format!("request {id}"))
            },
        )
        .build();
    // The route below matches `/mcp` itself, so the endpoint's path stays the default.
    let mcp = HttpService::new(TokioRuntime, service, HttpServerConfig::default());

    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route_service("/mcp", mcp.clone())
        .layer(axum::middleware::map_request(
            |mut req: Request| async move {
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                req.headers_mut()
                    .insert("x-request-id", HeaderValue::from(id));
                req
            },
        ));

    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{}/mcp", listener.local_addr()?);
    let draining = mcp.draining();
    let server = axum::serve(listener, app).with_graceful_shutdown(draining);
    let on_signal = async move {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("shutting down: finishing calls in flight");
        mcp.shutdown(Duration::from_secs(5)).await;
    };
    let (served, ()) = tokio::join!(async { server.await }, on_signal);
    served?;
    eprintln!("bye");
    Ok(())
}
