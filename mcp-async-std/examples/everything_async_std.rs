//! A server with one of every MCP feature, on async-std (through the mcp-smol paths).
//!
//! ```text
//! cargo run -p mcp-async-std --example everything_async_std -- stdio
//! ```
//!
//! The server itself is defined once, in `mcp_examples_common::everything_service`, for
//! every runtime; this file is the async-std glue. stdout carries MCP only: diagnostics go to
//! stderr.

use std::process::ExitCode;

use mcp_async_std::AsyncStdRuntime;
use mcp_examples_common::{everything_service, everything_usage, exit_with_usage, ServeCommand};

fn main() -> ExitCode {
    let command = match mcp_examples_common::parse_everything_args(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(e) => exit_with_usage(&everything_usage("everything_async_std"), e),
    };
    let served = async_std::task::block_on(async {
        let (service, _control) = everything_service(AsyncStdRuntime);
        match command {
            ServeCommand::Stdio => {
                eprintln!("everything_async_std: serving one client on stdio");
                mcp_async_std::serve_stdio(service).await
            }
            ServeCommand::Http { auth: Some(_), .. } => Err(std::io::Error::other(
                "--auth: use the tokio or smol example (this one serves plain HTTP only)",
            )),
            ServeCommand::Http { bind, auth: None } => {
                match async_std::net::TcpListener::bind(bind).await {
                    Ok(listener) => {
                        let addr = listener.local_addr().map_or(bind, |a| a);
                        eprintln!(
                            "everything_async_std: serving streamable HTTP at http://{addr}/mcp"
                        );
                        let config = mcp_examples_common::http_config(addr);
                        mcp_async_std::serve_http_tcp(listener, service, config).await
                    }
                    Err(e) => Err(e),
                }
            }
            ServeCommand::Tcp { bind } => match async_std::net::TcpListener::bind(bind).await {
                Ok(listener) => {
                    let addr = listener.local_addr().map_or(bind, |a| a);
                    eprintln!("everything_async_std: serving JSON-RPC lines at tcp://{addr}");
                    mcp_examples_common::serve_tcp(
                        AsyncStdRuntime,
                        mcp_async_std::AsyncStdListener(listener),
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
            eprintln!("everything_async_std: the client went away; exiting");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("everything_async_std: {e}");
            ExitCode::FAILURE
        }
    }
}
