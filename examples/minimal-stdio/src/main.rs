//! The smallest MCP server: one typed tool, served on stdio.
//!
//! Built with `default-features = false, features = ["server", "schemars"]`, so no HTTP,
//! TLS or OAuth code is compiled; CI checks that hyper, rustls, ring and tracing stay out of
//! its dependency tree. `--features tracing` adds diagnostics on stderr (`RUST_LOG=debug`).

use mcp_tokio::mcp_driver::{Args, Server};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    // With `--features tracing`: spans and events on stderr, as `RUST_LOG` asks.
    #[cfg(feature = "tracing")]
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .init();
    let server = Server::builder("minimal-stdio", env!("CARGO_PKG_VERSION"))
        .tool(
            "add",
            "Add two integers",
            |Args(Add { a, b }): Args<Add>| async move { Ok(a + b) },
        )
        .build();
    mcp_tokio::serve_stdio(server).await
}
