#![doc = include_str!("../README.md")]

pub use mcp_smol::*;

/// The runtime: smol's, which async-std programs run on unchanged (same reactor and timers).
pub use mcp_smol::SmolRuntime as AsyncStdRuntime;

/// Serves on an async-std TCP connection until the peer disconnects.
pub async fn serve_tcp(
    service: mcp_driver::Service,
    stream: async_std::net::TcpStream,
) -> std::io::Result<()> {
    serve(service, stream.clone(), stream).await
}
