//! Connections over whole messages instead of bytes: any [`Stream`] of JSON-RPC messages
//! in and any [`Sink`] taking them out, such as a WebSocket (map its text frames to and
//! from bytes) or a channel pair. The connection runs on the same engine as a byte stream,
//! with the same limits: `max_frame_len` per message, and the same output watermarks for
//! what the sink has not taken yet.
//!
//! The stream yields `Result<M, E>` for any `M: AsRef<[u8]>` (`Bytes`, `String`,
//! `Vec<u8>` ...); its end, or an error, ends the connection. The sink takes [`Bytes`], one
//! message each, with no line ending. [`Sink`] is the `futures-sink` trait that
//! `futures`, `tokio-util` and the WebSocket crates implement.

// One side built: the other's imports go unused.
#![cfg_attr(
    not(all(feature = "server", feature = "client")),
    allow(unused_imports)
)]

use std::error::Error;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
pub use futures_lite::Stream;
pub use futures_sink::Sink;
use mcp_proto::session::{ClientConfig, ClientSession, ConnectError};

#[cfg(feature = "client")]
use crate::client::{finish_connect, new_shared, ClientSide};
use crate::engine::message;
#[cfg(feature = "server")]
use crate::server::{new_shared as new_server_shared, ServerSide};
use crate::Runtime;
#[cfg(feature = "client")]
use crate::{Client, ClientHandler};
#[cfg(feature = "server")]
use crate::{ServerHandle, Service};

#[cfg(feature = "server")]
/// Serves one connection over a message stream and sink; returns a handle and the
/// connection future (spawn it or await it), like [`serve`](crate::serve) on bytes.
pub fn serve_messages<R, St, Si, M, E1, E2>(
    rt: R,
    service: Service,
    stream: St,
    sink: Si,
) -> (
    ServerHandle,
    impl Future<Output = std::io::Result<()>> + Send + 'static,
)
where
    R: Runtime,
    St: Stream<Item = Result<M, E1>> + Unpin + Send + 'static,
    Si: Sink<Bytes, Error = E2> + Unpin + Send + 'static,
    M: AsRef<[u8]>,
    E1: Into<Box<dyn Error + Send + Sync>>,
    E2: Into<Box<dyn Error + Send + Sync>>,
{
    let (handle, shared) = new_server_shared(&rt, service);
    let conn = message::engine::<R, ServerSide, St, Si, M, E1, E2>(rt, shared, stream, sink);
    (handle, conn)
}

#[cfg(feature = "client")]
/// Connects a client over a message stream and sink, like [`connect`](crate::connect) on
/// bytes: the connection runs as a task on `rt`, and the handshake is done when this
/// returns.
pub async fn connect_messages<R, St, Si, M, E1, E2>(
    rt: R,
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
    stream: St,
    sink: Si,
) -> Result<Client, ConnectError>
where
    R: Runtime,
    St: Stream<Item = Result<M, E1>> + Unpin + Send + 'static,
    Si: Sink<Bytes, Error = E2> + Unpin + Send + 'static,
    M: AsRef<[u8]>,
    E1: Into<Box<dyn Error + Send + Sync>>,
    E2: Into<Box<dyn Error + Send + Sync>>,
{
    let now = rt.now();
    let horizon = config.request_timeout.idle;
    let mut session = ClientSession::new(config, now);
    session
        .connect(now)
        .map_err(|e| ConnectError::Malformed(e.to_string()))?;
    let (shared, rx) = new_shared(session, handler);
    let conn = message::engine::<R, ClientSide, St, Si, M, E1, E2>(
        rt.clone(),
        shared.clone(),
        stream,
        sink,
    )
    .with_idle_horizon(horizon);
    let kick = conn.kick();
    rt.spawn(Box::pin(async move {
        let _ = conn.await;
    }));
    let mut client = finish_connect(rt, shared, rx).await?;
    client.set_kick(Arc::new(kick));
    Ok(client)
}
