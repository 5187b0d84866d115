//! A server with one of every MCP feature, on tokio.
//!
//! ```text
//! cargo run -p mcp-tokio --example everything -- stdio
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
