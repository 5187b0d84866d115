//! A server with one of every MCP feature, on tokio.
//!
//! ```text
//! cargo run -p mcp-tokio --example everything -- stdio
//! cargo run -p mcp-tokio --example everything -- http --bind 127.0.0.1:3000
//! cargo run -p mcp-tokio --example everything -- http --bind 127.0.0.1:3000 --auth https://issuer
//! ```
//!
//! The server itself (tools, resources, prompts ...) is defined once, in
//! `mcp_examples_common::everything_service`, for every runtime; this file is the tokio glue.
//! stdout carries MCP only: diagnostics go to stderr.

use std::process::ExitCode;

use mcp_examples_common::{everything_service, everything_usage, exit_with_usage, ServeCommand};
use mcp_tokio::TokioRuntime;

#[tokio::main]
async fn main() -> ExitCode {
    let command = match mcp_examples_common::parse_everything_args(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(e) => exit_with_usage(&everything_usage("everything"), e),
    };
    let (service, _control) = everything_service(TokioRuntime);
    let served = match command {
        ServeCommand::Stdio => {
            eprintln!("everything: serving one client on stdio");
            mcp_tokio::serve_stdio(service).await
        }
        ServeCommand::Http { bind, auth } => match tokio::net::TcpListener::bind(bind).await {
            Ok(listener) => {
                let addr = listener.local_addr().map_or(bind, |a| a);
                eprintln!("everything: serving streamable HTTP at http://{addr}/mcp");
                match auth {
                    Some(issuer) => {
                        eprintln!("everything: requiring access tokens from {issuer}");
                        let connector = std::sync::Arc::new(mcp_tokio::TokioConnector);
                        let http = mcp_examples_common::protected_http(
                            TokioRuntime,
                            connector,
                            service,
                            addr,
                            &issuer,
                        );
                        mcp_tokio::serve_http_with(listener, http).await
                    }
                    None => {
                        let config = mcp_examples_common::http_config(addr);
                        mcp_tokio::serve_http(listener, service, config).await
                    }
                }
            }
            Err(e) => Err(e),
        },
        ServeCommand::Tcp { bind } => match tokio::net::TcpListener::bind(bind).await {
            Ok(listener) => {
                let addr = listener.local_addr().map_or(bind, |a| a);
                eprintln!("everything: serving JSON-RPC lines at tcp://{addr}");
                mcp_examples_common::serve_tcp(
                    mcp_tokio::TokioRuntime,
                    mcp_tokio::TokioListener(listener),
                    service,
                )
                .await;
                Ok(())
            }
            Err(e) => Err(e),
        },
    };
    match served {
        Ok(()) => {
            eprintln!("everything: the client went away; exiting");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("everything: {e}");
            ExitCode::FAILURE
        }
    }
}
