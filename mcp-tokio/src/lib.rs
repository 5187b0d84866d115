//! MCP on tokio: the [`Runtime`] impl and the entry points that hand tokio byte streams to
//! the shared driver (stdio, child processes, any `AsyncRead`/`AsyncWrite`).
//!
//! Everything a typical program needs is in [`prelude`]. Add `tokio` (features `macros`,
//! `rt-multi-thread`), `serde` (`derive`) and `schemars` next to this crate for typed tools.
//!
//! # A server
//!
//! One typed tool on stdio (`examples/calculator_stdio.rs`); the input and output schemas
//! come from the types:
//!
#![doc = "```no_run"]
#![doc = include_str!("../examples/calculator_stdio.rs")]
#![doc = "```"]
//!
//! The same server over streamable HTTP is [`serve_http`] on a listener
//! (`examples/http_server.rs`); inside an axum app, mount [`HttpService`].
//!
//! # A client
//!
//! Start a server as a child process and read a tool's answer as a type
//! (`examples/client_child.rs`); [`connect_http`] reaches a remote one the same way:
//!
#![doc = "```no_run"]
#![doc = include_str!("../examples/client_child.rs")]
#![doc = "```"]
// Neither side built: the glue has nothing to serve or connect.
#![cfg_attr(
    not(any(feature = "server", feature = "client")),
    allow(unused_imports)
)]

#[cfg(feature = "server")]
use std::future::Future;
use std::io;
#[cfg(feature = "client")]
use std::process::{ExitStatus, Stdio};
#[cfg(feature = "client")]
use std::sync::Arc;
#[cfg(feature = "client")]
use std::time::Duration;
use std::time::Instant;

#[cfg(feature = "http")]
pub use mcp_driver::accept::AcceptConfig;
#[cfg(feature = "http")]
use mcp_driver::accept::Listener;
#[cfg(all(feature = "http", feature = "server"))]
pub use mcp_driver::http::server::HttpService;
#[cfg(all(feature = "http", feature = "server"))]
pub use mcp_driver::mcp_proto::http::HttpServerConfig;
#[cfg(feature = "client")]
use mcp_driver::mcp_proto::session::{ClientConfig, ConnectError};
#[cfg(feature = "client")]
pub use mcp_driver::process::{ChildError, Stderr};
#[cfg(feature = "client")]
use mcp_driver::process::{ChildPipes, ChildProcess};
use mcp_driver::{BoxFuture, Runtime};
#[cfg(feature = "client")]
use mcp_driver::{Client, ClientHandler};
#[cfg(feature = "server")]
use mcp_driver::{ServerHandle, Service};
use tokio::io::{AsyncRead, AsyncWrite};
#[cfg(feature = "client")]
use tokio::process::Child;
#[cfg(any(feature = "client", feature = "http"))]
use tokio_util::compat::Compat;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

pub use mcp_driver;
pub use mcp_driver::mcp_proto;
/// The `#[tool]` attribute (the `macros` feature): functions and impl blocks become tools.
#[cfg(feature = "macros")]
pub use mcp_driver::tool;
/// The command type [`connect_child`] takes (tokio's).
#[cfg(feature = "client")]
pub use tokio::process::Command;

/// What a typical server or client needs, in one `use` (see the crate docs for both).
///
/// Servers: [`Server`](prelude::Server) and its extractors and returns, [`serve_stdio`] and
/// friends. Clients: [`ClientConfig`], [`connect_child`] and friends,
/// and the [`Client`] they return. Also the derives typed tools use
/// (`Deserialize`, `Serialize`, `JsonSchema`: the derives expand to paths in the `serde` and
/// `schemars` crates, so those two must be dependencies of your crate too) and the schema
/// types most calls return.
pub mod prelude {
    pub use std::sync::Arc;

    pub use mcp_driver::mcp_proto::schema::prompts::GetPromptResult;
    pub use mcp_driver::mcp_proto::schema::resources::ReadResourceResult;
    pub use mcp_driver::mcp_proto::schema::tools::{CallToolResult, StructuredError, Tool};
    pub use mcp_driver::mcp_proto::schema::{ContentBlock, Implementation};
    pub use mcp_driver::mcp_proto::session::{ClientConfig, ServerConfig};

    #[cfg(feature = "server")]
    pub use mcp_driver::{Args, Json, RequestCx, Server, ServerBuilder, Service, State, ToolError};
    #[cfg(feature = "client")]
    pub use mcp_driver::{CallError, Client, ClientHandler, NoHandler};

    #[cfg(feature = "schemars")]
    pub use mcp_driver::schemars::JsonSchema;
    pub use mcp_driver::serde::{Deserialize, Serialize};

    #[cfg(feature = "macros")]
    pub use crate::tool;
    #[cfg(feature = "client")]
    pub use crate::{connect, connect_child, ChildServer, Command, Stderr};
    #[cfg(all(feature = "http", feature = "client"))]
    pub use crate::{connect_http, HttpClientOptions};
    #[cfg(feature = "server")]
    pub use crate::{serve, serve_stdio};
    #[cfg(all(feature = "http", feature = "server"))]
    pub use crate::{serve_http, HttpServerConfig};
}

/// The tokio [`Runtime`]: tokio's clock, timer and spawner. Needs a tokio runtime with the
/// time driver enabled.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioRuntime;

impl Runtime for TokioRuntime {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        tokio::spawn(future);
    }
}

#[cfg(feature = "server")]
/// Serves one connection over any stream and sink of whole JSON-RPC messages (a WebSocket,
/// a channel pair; see [`mcp_driver::messages`]); returns a handle and the connection
/// future (spawn it or await it).
pub fn serve_messages<St, Si, M, E1, E2>(
    service: Service,
    stream: St,
    sink: Si,
) -> (
    ServerHandle,
    impl Future<Output = io::Result<()>> + Send + 'static,
)
where
    St: mcp_driver::messages::Stream<Item = Result<M, E1>> + Unpin + Send + 'static,
    Si: mcp_driver::messages::Sink<mcp_driver::Bytes, Error = E2> + Unpin + Send + 'static,
    M: AsRef<[u8]>,
    E1: Into<Box<dyn std::error::Error + Send + Sync>>,
    E2: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    mcp_driver::serve_messages(TokioRuntime, service, stream, sink)
}

#[cfg(feature = "client")]
/// Connects a client over any stream and sink of whole JSON-RPC messages (see
/// [`mcp_driver::messages`]).
pub async fn connect_messages<St, Si, M, E1, E2>(
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
    stream: St,
    sink: Si,
) -> Result<Client, ConnectError>
where
    St: mcp_driver::messages::Stream<Item = Result<M, E1>> + Unpin + Send + 'static,
    Si: mcp_driver::messages::Sink<mcp_driver::Bytes, Error = E2> + Unpin + Send + 'static,
    M: AsRef<[u8]>,
    E1: Into<Box<dyn std::error::Error + Send + Sync>>,
    E2: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    mcp_driver::connect_messages(TokioRuntime, config, handler, stream, sink).await
}

#[cfg(feature = "server")]
/// Serves one connection over any tokio byte stream; returns a handle and the connection
/// future (spawn it or await it).
pub fn serve_with_handle<R, W>(
    service: Service,
    reader: R,
    writer: W,
) -> (
    ServerHandle,
    impl Future<Output = io::Result<()>> + Send + 'static,
)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    mcp_driver::serve(
        TokioRuntime,
        service,
        reader.compat(),
        writer.compat_write(),
    )
}

#[cfg(feature = "server")]
/// Serves one connection over any tokio byte stream until the peer disconnects.
pub async fn serve<R, W>(service: Service, reader: R, writer: W) -> io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    serve_with_handle(service, reader, writer).1.await
}

#[cfg(feature = "server")]
/// Serves on stdin/stdout until stdin closes. Log to stderr: stdout carries only MCP.
///
/// When stdin and stdout are pipes (as when a client spawns the server) they are driven by
/// the reactor directly, in non-blocking mode; tokio's own stdin/stdout go through a thread
/// pool, which costs a thread hop per read and write. Don't read std's stdin meanwhile.
pub async fn serve_stdio(service: Service) -> io::Result<()> {
    #[cfg(unix)]
    if let Some((reader, writer)) = stdio_pipes() {
        return serve(service, reader, writer).await;
    }
    serve(service, tokio::io::stdin(), tokio::io::stdout()).await
}

#[cfg(feature = "server")]
/// stdin and stdout as reactor-driven pipes, if both are pipes.
#[cfg(unix)]
fn stdio_pipes() -> Option<(
    tokio::net::unix::pipe::Receiver,
    tokio::net::unix::pipe::Sender,
)> {
    use std::os::fd::AsFd;
    let input = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    let output = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
    let reader = tokio::net::unix::pipe::Receiver::from_file(std::fs::File::from(input)).ok()?;
    let writer = tokio::net::unix::pipe::Sender::from_file(std::fs::File::from(output)).ok()?;
    Some((reader, writer))
}

#[cfg(all(feature = "http", feature = "server"))]
/// Serves streamable HTTP (both eras) on `listener`. Each connection runs as its own task;
/// the policies (allowed hosts and origins, limits) are in `config`. Accept errors are
/// reported on stderr and waited out; returns once [`HttpService::shutdown`] begins.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    service: Service,
    config: HttpServerConfig,
) -> io::Result<()> {
    serve_http_with(listener, HttpService::new(TokioRuntime, service, config)).await
}

#[cfg(all(feature = "http", feature = "server"))]
/// Like [`serve_http`], with an [`HttpService`] you keep a clone of (to count or close
/// sessions).
pub async fn serve_http_with<R: Runtime>(
    listener: tokio::net::TcpListener,
    http: HttpService<R>,
) -> io::Result<()> {
    serve_http_accepting(listener, http, AcceptConfig::default()).await
}

#[cfg(all(feature = "http", feature = "server"))]
/// Like [`serve_http_with`], with the accept loop's settings (connection cap, backoff).
pub async fn serve_http_accepting<R: Runtime>(
    listener: tokio::net::TcpListener,
    http: HttpService<R>,
    accept: AcceptConfig,
) -> io::Result<()> {
    mcp_driver::accept::serve_http(TokioRuntime, TokioListener(listener), http, accept).await;
    Ok(())
}

#[cfg(feature = "http")]
/// tokio's TCP listener as the driver's [`Listener`].
#[derive(Debug)]
pub struct TokioListener(pub tokio::net::TcpListener);

#[cfg(feature = "http")]
impl Listener for TokioListener {
    type Stream = Compat<tokio::net::TcpStream>;

    fn accept(&mut self) -> BoxFuture<'_, io::Result<Self::Stream>> {
        Box::pin(async move {
            let (stream, _) = self.0.accept().await?;
            // Small request/response exchanges: don't let Nagle hold them back.
            let _ = stream.set_nodelay(true);
            Ok(stream.compat())
        })
    }
}

#[cfg(feature = "client")]
/// Connects a client over any tokio byte stream.
pub async fn connect<R, W>(
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
    reader: R,
    writer: W,
) -> Result<Client, ConnectError>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    mcp_driver::connect(
        TokioRuntime,
        config,
        handler,
        reader.compat(),
        writer.compat_write(),
    )
    .await
}

#[cfg(feature = "client")]
/// A server running as a child process, with a connected client (see
/// [`mcp_driver::process::ChildServer`]).
pub type ChildServer = mcp_driver::process::ChildServer<TokioChild>;

#[cfg(feature = "client")]
/// A tokio child process as the driver's [`ChildProcess`].
#[derive(Debug)]
pub struct TokioChild(Child);

#[cfg(feature = "client")]
impl ChildProcess for TokioChild {
    type Stdin = Compat<tokio::process::ChildStdin>;
    type Stdout = Compat<tokio::process::ChildStdout>;
    type Stderr = Compat<tokio::process::ChildStderr>;

    fn take_stdio(&mut self) -> ChildPipes<Self::Stdin, Self::Stdout, Self::Stderr> {
        ChildPipes {
            stdin: self.0.stdin.take().map(|s| s.compat_write()),
            stdout: self.0.stdout.take().map(|s| s.compat()),
            stderr: self.0.stderr.take().map(|s| s.compat()),
        }
    }
    async fn wait_for(&mut self, grace: Duration) -> Option<io::Result<ExitStatus>> {
        tokio::time::timeout(grace, self.0.wait()).await.ok()
    }
    fn pid(&self) -> Option<u32> {
        self.0.id()
    }
    async fn kill_and_wait(&mut self) -> io::Result<ExitStatus> {
        self.0.kill().await?;
        self.0.wait().await
    }
}

#[cfg(feature = "client")]
/// Spawns `command` as an MCP server on stdio and connects to it.
pub async fn connect_child(
    mut command: Command,
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
    stderr: Stderr,
) -> Result<ChildServer, ChildError> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr.stdio())
        .kill_on_drop(true);
    let name = command
        .as_std()
        .get_program()
        .to_string_lossy()
        .into_owned();
    let child = TokioChild(command.spawn().map_err(ChildError::Spawn)?);
    mcp_driver::process::connect_spawned(TokioRuntime, child, name, config, handler).await
}

#[cfg(all(feature = "http", feature = "client"))]
pub use mcp_driver::http::client::{
    http_error, AuthHttp, BearerAuth, HttpClientEvent, HttpClientOptions, HttpConnectError,
    HttpError, Rejection,
};
#[cfg(feature = "auth")]
pub use mcp_driver::http::oauth::{
    AuthorizationHandler, CredentialStore, FileStore, HeadlessAuthorization, LoopbackAuthorization,
    MemoryStore, OAuth, PemSigner,
};

#[cfg(feature = "auth")]
/// A listener on 127.0.0.1 for [`LoopbackAuthorization`] (`port` 0: any free port).
pub async fn loopback_listener(
    port: u16,
) -> io::Result<Arc<dyn mcp_driver::http::oauth::LoopbackListener>> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let port = listener.local_addr()?.port();
    Ok(Arc::new(mcp_driver::http::oauth::ListenerLoopback::new(
        TokioListener(listener),
        port,
    )))
}

#[cfg(all(feature = "http", feature = "client"))]
/// TCP for the streamable HTTP client (TLS, when the URL asks for it, is layered on top by
/// the driver).
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioConnector;

#[cfg(all(feature = "http", feature = "client"))]
impl mcp_driver::http::client::Connector for TokioConnector {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> BoxFuture<'static, io::Result<mcp_driver::http::client::BoxStream>> {
        let host = host.to_owned();
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            // Small request/response exchanges: don't let Nagle hold them back.
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream.compat()) as mcp_driver::http::client::BoxStream)
        })
    }
}

#[cfg(all(feature = "http", feature = "client"))]
/// Connects to an MCP server over streamable HTTP at `url` (`http://` or `https://`),
/// detecting the era (and the 2024-11-05 HTTP+SSE transport) like [`connect`] does on a
/// stream. Every [`Client`] method then works as over stdio.
pub async fn connect_http(
    url: &str,
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
    options: HttpClientOptions,
) -> Result<Client, HttpConnectError> {
    mcp_driver::http::client::connect_http(
        TokioRuntime,
        Arc::new(TokioConnector),
        url,
        config,
        handler,
        options,
    )
    .await
}
