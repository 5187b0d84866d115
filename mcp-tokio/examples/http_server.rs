//! The calculator over streamable HTTP (both protocol eras at one endpoint):
//!
//! ```text
//! cargo run -p mcp-tokio --example http_server                  # http://127.0.0.1:3000/mcp
//! cargo run -p mcp-tokio --example http_server -- 127.0.0.1:0   # any free port
//! ```
//!
//! The defaults of `HttpServerConfig` suit a server on loopback (loopback `Host`s and
//! `Origin`s only, bounded bodies and sessions); widen them before binding elsewhere.

use mcp_tokio::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: i64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let server = Server::builder("calculator", "1.0")
        .tool(
            "add",
            "Add two integers",
            |Args(Add { a, b }): Args<Add>| async move { Ok(Json(Sum { sum: a + b })) },
        )
        .build();
    let bind = std::env::args().nth(1).unwrap_or("127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(bind).await?;
    eprintln!("MCP at http://{}/mcp", listener.local_addr()?);
    serve_http(listener, server, HttpServerConfig::default()).await
}
