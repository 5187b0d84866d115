//! A server with one of every MCP feature, on smol.
//!
//! ```text
//! cargo run -p mcp-smol --example everything_smol -- stdio
//! ```
//!
//! The server itself is defined once, in `mcp_examples_common::everything_service`, for
//! every runtime; this file is the smol glue. stdout carries MCP only: diagnostics go to
//! stderr.

use std::process::ExitCode;

use mcp_examples_common::{everything_service, everything_usage, exit_with_usage, ServeCommand};
use mcp_smol::SmolRuntime;

fn main() -> ExitCode {
    let command = match mcp_examples_common::parse_everything_args(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(e) => exit_with_usage(&everything_usage("everything_smol"), e),
    };
    let served = smol::block_on(async {
        let (service, _control) = everything_service(SmolRuntime);
        match command {
            ServeCommand::Stdio => {
                eprintln!("everything_smol: serving one client on stdio");
                mcp_smol::serve_stdio(service).await
            }
            ServeCommand::Http { bind, auth } => match smol::net::TcpListener::bind(bind).await {
                Ok(listener) => {
                    let addr = listener.local_addr().map_or(bind, |a| a);
                    eprintln!("everything_smol: serving streamable HTTP at http://{addr}/mcp");
                    match auth {
                        Some(issuer) => {
                            let http = mcp_examples_common::protected_http(
                                mcp_smol::SmolRuntime,
                                std::sync::Arc::new(mcp_smol::SmolConnector),
                                service,
                                addr,
                                &issuer,
                            );
                            mcp_smol::serve_http_with(listener, http).await
                        }
                        None => {
                            let config = mcp_examples_common::http_config(addr);
                            mcp_smol::serve_http(listener, service, config).await
                        }
                    }
                }
                Err(e) => Err(e),
            },
            ServeCommand::Tcp { bind } => match smol::net::TcpListener::bind(bind).await {
                Ok(listener) => {
                    let addr = listener.local_addr().map_or(bind, |a| a);
                    eprintln!("everything_smol: serving JSON-RPC lines at tcp://{addr}");
                    mcp_examples_common::serve_tcp(
                        SmolRuntime,
                        mcp_smol::SmolListener(listener),
                        service,
                    )
                    .await;
                    Ok(())
                }
                Err(e) => Err(e),
            },
        }
    });
    match served {
        Ok(()) => {
            eprintln!("everything_smol: the client went away; exiting");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("everything_smol: {e}");
            ExitCode::FAILURE
        }
    }
}
