//! The quickstart on async-std (through the mcp-smol paths): start the `everything_async_std`
//! example server as a child process, connect to it, and try every feature.
//!
//! ```text
//! cargo run -p mcp-async-std --example quickstart_async_std              # detect the era
//! cargo run -p mcp-async-std --example quickstart_async_std -- --legacy  # initialize handshake only
//! ```
//!
//! The server binary is found next to this one, and built once with cargo if it is not
//! there yet (see `mcp_examples_common::example_binary`). The tour is shared with the tokio
//! quickstart (`mcp_examples_common::tour`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mcp_async_std::Command;
use mcp_async_std::{connect_child, Stderr};
use mcp_examples_common::{
    client_config, example_binary, exit_with_usage, parse_quickstart_args, quickstart_usage, tour,
    Host, QuickstartOptions, TourError,
};

/// The whole tour, child start and shutdown included, must finish within this.
const OVERALL: Duration = Duration::from_secs(60);
/// How long the child gets at each step of its shutdown (stdin closed, SIGTERM, SIGKILL).
const GRACE: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let options = match parse_quickstart_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => exit_with_usage(&quickstart_usage("quickstart_async_std"), e),
    };
    let server = match example_binary("mcp-async-std", "everything_async_std") {
        Ok(path) => path,
        Err(e) => {
            eprintln!("quickstart_async_std: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome =
        async_std::task::block_on(async_std::future::timeout(OVERALL, run(server, options))).ok();
    match outcome {
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(e)) => {
            eprintln!("quickstart_async_std failed: {e}");
            ExitCode::FAILURE
        }
        None => {
            eprintln!("quickstart_async_std: gave up after {OVERALL:?}");
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
