#![doc = include_str!("../README.md")]

pub use mcp_smol::*;

/// The runtime: smol's, which async-std programs run on unchanged (same reactor and timers).
pub use mcp_smol::SmolRuntime as AsyncStdRuntime;

#[cfg(feature = "server")]
/// Serves on an async-std TCP connection until the peer disconnects.
pub async fn serve_tcp(
    service: mcp_driver::Service,
    stream: async_std::net::TcpStream,
) -> std::io::Result<()> {
    serve(service, stream.clone(), stream).await
}

#[cfg(all(feature = "http", feature = "server"))]
/// Serves streamable HTTP (both eras) on an async-std listener. Accept errors are reported
/// on stderr and waited out; returns once `HttpService::shutdown` begins.
pub async fn serve_http_tcp(
    listener: async_std::net::TcpListener,
    service: mcp_driver::Service,
    config: HttpServerConfig,
) -> std::io::Result<()> {
    let http = HttpService::new(AsyncStdRuntime, service, config);
    serve_http_accepting(AsyncStdListener(listener), http, AcceptConfig::default()).await
}

#[cfg(feature = "http")]
/// async-std's TCP listener as the driver's [`Listener`].
#[derive(Debug)]
pub struct AsyncStdListener(pub async_std::net::TcpListener);

#[cfg(feature = "http")]
impl Listener for AsyncStdListener {
    type Stream = async_std::net::TcpStream;

    fn accept(&mut self) -> mcp_driver::BoxFuture<'_, std::io::Result<Self::Stream>> {
        Box::pin(async move {
            let (stream, _) = self.0.accept().await?;
            let _ = stream.set_nodelay(true);
            Ok(stream)
        })
    }
}
