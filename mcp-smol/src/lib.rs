//! MCP on smol: the [`Runtime`] impl and the entry points that hand smol byte streams to the
//! shared driver (stdio, child processes, any `AsyncRead`/`AsyncWrite`).
//!
//! smol's streams already speak the futures-io traits the driver uses, so this crate is
//! glue only. Futures returned here run on any executor; the runtime spawns request tasks on
//! smol's global executor.
//!
//! Everything a typical program needs is in [`prelude`]. Add `smol`, `serde` (`derive`) and
//! `schemars` next to this crate for typed tools.
//!
//! # A server
//!
//! One typed tool on stdio; the input and output schemas come from the types:
//!
//! ```no_run
//! use mcp_smol::prelude::*;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Add {
//!     a: i64,
//!     b: i64,
//! }
//!
//! #[derive(Serialize, JsonSchema)]
//! struct Sum {
//!     sum: i64,
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let server = Server::builder("calculator", "1.0")
//!         .tool("add", "Add two integers", |Args(Add { a, b }): Args<Add>| async move {
//!             Ok(Json(Sum { sum: a + b }))
//!         })
//!         .build();
//!     smol::block_on(serve_stdio(server))
//! }
//! ```
//!
//! # A client
//!
//! Start that server as a child process and read a tool's answer as a type:
//!
//! ```no_run
//! use mcp_smol::prelude::*;
//!
//! #[derive(Serialize)]
//! struct Add {
//!     a: i64,
//!     b: i64,
//! }
//!
//! #[derive(Deserialize)]
//! struct Sum {
//!     sum: i64,
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     smol::block_on(async {
//!         let config = ClientConfig::named("calculator-client", "1.0");
//!         let server =
//!             connect_child(Command::new("calculator"), config, Arc::new(NoHandler), Stderr::Inherit)
//!                 .await?;
//!         let result = server.client().call_tool("add", Add { a: 2, b: 3 }).await?;
//!         println!("2 + 3 = {}", result.structured_as::<Sum>()?.sum);
//!         Ok(())
//!     })
//! }
//! ```

// Neither side built: the glue has nothing to serve or connect.
#![cfg_attr(
    not(any(feature = "server", feature = "client")),
    allow(unused_imports)
)]

#[cfg(feature = "server")]
use std::future::Future;
use std::io;
#[cfg(feature = "client")]
use std::process::ExitStatus;
#[cfg(feature = "client")]
use std::sync::Arc;
#[cfg(feature = "client")]
use std::time::Duration;
use std::time::Instant;

#[cfg(feature = "http")]
pub use mcp_driver::accept::{AcceptConfig, Listener};
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
use smol::io::{AsyncRead, AsyncWrite};
#[cfg(feature = "client")]
use smol::process::{Child, Stdio};
use smol::Timer;

pub use mcp_driver;
pub use mcp_driver::mcp_proto;
/// The `#[tool]` attribute (the `macros` feature): functions and impl blocks become tools.
#[cfg(feature = "macros")]
pub use mcp_driver::tool;

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
#[cfg(feature = "client")]
/// The command type [`connect_child`] takes (smol's, from `async-process`).
pub use smol::process::Command;

/// The smol [`Runtime`]: `Instant` clock, `async-io` timers, the global executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolRuntime;

impl Runtime for SmolRuntime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            Timer::at(deadline).await;
        })
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        smol::spawn(future).detach();
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
    mcp_driver::serve_messages(SmolRuntime, service, stream, sink)
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
    mcp_driver::connect_messages(SmolRuntime, config, handler, stream, sink).await
}

#[cfg(feature = "server")]
/// Serves one connection over any byte stream; returns a handle and the connection future.
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
    mcp_driver::serve(SmolRuntime, service, reader, writer)
}

#[cfg(feature = "server")]
/// Serves one connection over any byte stream until the peer disconnects.
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
/// the reactor directly, in non-blocking mode, instead of through smol's blocking thread
/// pool. Don't read std's stdin meanwhile.
pub async fn serve_stdio(service: Service) -> io::Result<()> {
    #[cfg(unix)]
    if let Some((reader, writer)) = stdio_pipes() {
        return serve(service, reader, writer).await;
    }
    let stdin = smol::Unblock::new(std::io::stdin());
    let stdout = smol::Unblock::new(std::io::stdout());
    serve(service, stdin, stdout).await
}

#[cfg(feature = "server")]
/// stdin and stdout as reactor-driven pipes, if both are pipes.
#[cfg(unix)]
fn stdio_pipes() -> Option<(smol::Async<std::fs::File>, smol::Async<std::fs::File>)> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let input = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned().ok()?);
    let output = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned().ok()?);
    let is_pipe = |f: &std::fs::File| f.metadata().is_ok_and(|m| m.file_type().is_fifo());
    if !is_pipe(&input) || !is_pipe(&output) {
        return None;
    }
    Some((
        smol::Async::new(input).ok()?,
        smol::Async::new(output).ok()?,
    ))
}

#[cfg(feature = "client")]
/// Connects a client over any byte stream.
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
    mcp_driver::connect(SmolRuntime, config, handler, reader, writer).await
}

#[cfg(all(feature = "http", feature = "server"))]
/// Serves streamable HTTP (both eras) on `listener`. Each connection runs as its own task;
/// the policies (allowed hosts and origins, limits) are in `config`. Accept errors are
/// reported on stderr and waited out; returns once [`HttpService::shutdown`] begins.
pub async fn serve_http(
    listener: smol::net::TcpListener,
    service: Service,
    config: HttpServerConfig,
) -> io::Result<()> {
    serve_http_with(listener, HttpService::new(SmolRuntime, service, config)).await
}

#[cfg(all(feature = "http", feature = "server"))]
/// Like [`serve_http`], with an [`HttpService`] you keep a clone of (to count or close
/// sessions).
pub async fn serve_http_with(
    listener: smol::net::TcpListener,
    http: HttpService<SmolRuntime>,
) -> io::Result<()> {
    serve_http_accepting(SmolListener(listener), http, AcceptConfig::default()).await
}

#[cfg(all(feature = "http", feature = "server"))]
/// Like [`serve_http_with`], on any [`Listener`] and with the accept loop's settings
/// (connection cap, backoff).
pub async fn serve_http_accepting<L: Listener>(
    listener: L,
    http: HttpService<SmolRuntime>,
    accept: AcceptConfig,
) -> io::Result<()> {
    mcp_driver::accept::serve_http(SmolRuntime, listener, http, accept).await;
    Ok(())
}

#[cfg(feature = "http")]
/// smol's TCP listener as the driver's [`Listener`].
#[derive(Debug)]
pub struct SmolListener(pub smol::net::TcpListener);

#[cfg(feature = "http")]
impl Listener for SmolListener {
    type Stream = smol::net::TcpStream;

    fn accept(&mut self) -> BoxFuture<'_, io::Result<Self::Stream>> {
        Box::pin(async move {
            let (stream, _) = self.0.accept().await?;
            // Small request/response exchanges: don't let Nagle hold them back.
            let _ = stream.set_nodelay(true);
            Ok(stream)
        })
    }
}

#[cfg(feature = "client")]
/// A server running as a child process, with a connected client (see
/// [`mcp_driver::process::ChildServer`]).
pub type ChildServer = mcp_driver::process::ChildServer<SmolChild>;

#[cfg(feature = "client")]
/// A smol child process as the driver's [`ChildProcess`].
#[derive(Debug)]
pub struct SmolChild(Child);

#[cfg(feature = "client")]
impl ChildProcess for SmolChild {
    type Stdin = smol::process::ChildStdin;
    type Stdout = smol::process::ChildStdout;
    type Stderr = smol::process::ChildStderr;

    fn take_stdio(&mut self) -> ChildPipes<Self::Stdin, Self::Stdout, Self::Stderr> {
        ChildPipes {
            stdin: self.0.stdin.take(),
            stdout: self.0.stdout.take(),
            stderr: self.0.stderr.take(),
        }
    }
    async fn wait_for(&mut self, grace: Duration) -> Option<io::Result<ExitStatus>> {
        let status = async { Some(self.0.status().await) };
        let timeout = async {
            Timer::after(grace).await;
            None
        };
        smol::future::or(status, timeout).await
    }
    fn pid(&self) -> Option<u32> {
        Some(self.0.id())
    }
    async fn kill_and_wait(&mut self) -> io::Result<ExitStatus> {
        self.0.kill()?;
        self.0.status().await
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
    let name = command.get_program().to_string_lossy().into_owned();
    let child = SmolChild(command.spawn().map_err(ChildError::Spawn)?);
    mcp_driver::process::connect_spawned(SmolRuntime, child, name, config, handler).await
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
    let listener = smol::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let port = listener.local_addr()?.port();
    Ok(Arc::new(mcp_driver::http::oauth::ListenerLoopback::new(
        SmolListener(listener),
        port,
    )))
}

#[cfg(all(feature = "http", feature = "client"))]
/// TCP for the streamable HTTP client (TLS, when the URL asks for it, is layered on top by
/// the driver).
#[derive(Debug, Default, Clone, Copy)]
pub struct SmolConnector;

#[cfg(all(feature = "http", feature = "client"))]
impl mcp_driver::http::client::Connector for SmolConnector {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> BoxFuture<'static, io::Result<mcp_driver::http::client::BoxStream>> {
        let host = host.to_owned();
        Box::pin(async move {
            let stream = smol::net::TcpStream::connect((host.as_str(), port)).await?;
            // Small request/response exchanges: don't let Nagle hold them back.
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream) as mcp_driver::http::client::BoxStream)
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
        SmolRuntime,
        Arc::new(SmolConnector),
        url,
        config,
        handler,
        options,
    )
    .await
}
