//! The quickstart: start the `everything` example server as a child process, connect to it
//! on tokio, and try every feature, one tool run as a task from creation to result included
//! (`Client::call_tool_as_task`, then `TaskHandle::wait`, in either era).
//!
//! ```text
//! cargo run -p mcp-tokio --example quickstart              # detect the era
//! cargo run -p mcp-tokio --example quickstart -- --legacy  # initialize handshake only
//! ```
//!
//! The server binary is found next to this one (`target/<profile>/examples/everything`); on
//! a fresh checkout `cargo run --example quickstart` has not built it yet, so the quickstart
//! builds it once with cargo (see `mcp_examples_common::example_binary`). The tour itself
//! is shared with the smol quickstart (`mcp_examples_common::tour`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mcp_examples_common::{
    client_config, example_binary, exit_with_usage, parse_quickstart_args, quickstart_usage, tour,
    Host, QuickstartOptions, TourError,
};
use mcp_tokio::{connect_child, Stderr};
use tokio::process::Command;

/// The whole tour, child start and shutdown included, must finish within this.
const OVERALL: Duration = Duration::from_secs(60);
/// How long the child gets at each step of its shutdown (stdin closed, SIGTERM, SIGKILL).
const GRACE: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let options = match parse_quickstart_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => exit_with_usage(&quickstart_usage("quickstart"), e),
    };
    // Before the runtime starts: this may run cargo, which blocks.
    let server = match example_binary("mcp-tokio", "everything") {
        Ok(path) => path,
        Err(e) => {
            eprintln!("quickstart: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("quickstart: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome =
        runtime.block_on(async { tokio::time::timeout(OVERALL, run(server, options)).await });
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("quickstart: gave up after {OVERALL:?}");
            ExitCode::FAILURE
        }
    }
}

async fn run(server: std::path::PathBuf, options: QuickstartOptions) -> Result<(), TourError> {
    let host = Arc::new(Host::default());
    let mut command = Command::new(&server);
    command.arg("stdio");
    println!("Starting {} stdio", server.display());
    let child = connect_child(
        command,
        client_config(&options),
        host.clone(),
        Stderr::Prefixed,
    )
    .await?;
    let toured = tour(child.client(), &host).await;
    // Shut the child down whether or not the tour went well; report the tour's error first.
    let status = child.shutdown(GRACE).await;
    toured?;
    println!("\nThe server exited: {}", status?);
    Ok(())
}
