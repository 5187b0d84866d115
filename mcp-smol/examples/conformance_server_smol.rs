//! The conformance suite's server (see `mcp-tokio/examples/conformance_server.rs`), on smol:
//! streamable HTTP at `/mcp` on 127.0.0.1, port from `PORT` (default 3000).
//!
//! ```text
//! PORT=3001 cargo run -p mcp-smol --example conformance_server_smol
//! ```

use std::process::ExitCode;

use mcp_examples_common::conformance::conformance_service;
use mcp_smol::SmolRuntime;

fn main() -> ExitCode {
    let port: u16 = match std::env::var("PORT").ok().map(|p| p.parse()) {
        None => 3000,
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("conformance_server_smol: bad PORT: {e}");
            return ExitCode::FAILURE;
        }
    };
    smol::block_on(async {
        let listener = match smol::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("conformance_server_smol: cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let (service, _control) = conformance_service(SmolRuntime);
        eprintln!("conformance_server_smol: listening on http://{addr}/mcp");
        let config = mcp_examples_common::http_config(addr);
        match mcp_smol::serve_http(listener, service, config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("conformance_server_smol: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
