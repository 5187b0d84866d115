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

/// Serves streamable HTTP (both eras) on an async-std listener until accepting fails.
pub async fn serve_http_tcp(
    listener: async_std::net::TcpListener,
    service: mcp_driver::Service,
    config: HttpServerConfig,
) -> std::io::Result<()> {
    let http = HttpService::new(AsyncStdRuntime, service, config);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        async_std::task::spawn(http.serve_connection(stream));
    }
}
