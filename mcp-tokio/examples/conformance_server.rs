//! The server the official MCP conformance suite tests: streamable HTTP at `/mcp` on
//! 127.0.0.1, port from `PORT` (default 3000), both eras, with the tools, resources and
//! prompts the suite expects (defined once in `mcp_examples_common::conformance`).
//!
//! ```text
//! PORT=3001 cargo run -p mcp-tokio --example conformance_server
//! npx @modelcontextprotocol/conformance server --url http://127.0.0.1:3001/mcp
//! ```

use std::process::ExitCode;

use mcp_examples_common::conformance::conformance_service;
use mcp_tokio::TokioRuntime;

#[tokio::main]
async fn main() -> ExitCode {
    let port: u16 = match std::env::var("PORT").ok().map(|p| p.parse()) {
        None => 3000,
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("conformance_server: bad PORT: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("conformance_server: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let (service, _control) = conformance_service(TokioRuntime);
    eprintln!("conformance_server: listening on http://{addr}/mcp");
    let config = mcp_examples_common::http_config(addr);
    match mcp_tokio::serve_http(listener, service, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance_server: {e}");
            ExitCode::FAILURE
        }
    }
}
