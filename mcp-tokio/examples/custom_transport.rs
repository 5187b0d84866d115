//! Your own transport, two ways: `cargo run -p mcp-tokio --example custom_transport`
//!
//! 1. Whole messages: any `Stream` of `Result<message, error>` in and any `Sink<Bytes>` out,
//!    one JSON-RPC message per item. A WebSocket is exactly this (map its text frames);
//!    here it is a pair of bounded channels.
//! 2. Bytes: any `AsyncRead` + `AsyncWrite` pair carrying newline-delimited JSON-RPC (a
//!    socket, a pipe, a serial port); here an in-memory duplex.
//!
//! Either way the connection runs on the same engine as stdio, with the same limits.

use std::convert::Infallible;

use bytes::Bytes;
use futures_channel::mpsc;
use futures_lite::StreamExt;
use mcp_tokio::prelude::*;

#[derive(Serialize, Deserialize, JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

fn calculator() -> Service {
    Server::builder("calculator", "1.0")
        .tool(
            "add",
            "Add two integers",
            |Args(Add { a, b }): Args<Add>| async move { Ok(Json(Sum { sum: a + b })) },
        )
        .build()
}

async fn add(client: &Client, a: i64, b: i64) -> Result<i64, Box<dyn std::error::Error>> {
    let result = client.call_tool("add", Add { a, b }).await?;
    Ok(result.structured_as::<Sum>()?.sum)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Messages: each side reads one channel as a Stream and writes the other as a Sink.
    let (to_server, server_in) = mpsc::channel::<Bytes>(16);
    let (to_client, client_in) = mpsc::channel::<Bytes>(16);
    let (_server, connection) =
        mcp_tokio::serve_messages(calculator(), server_in.map(Ok::<_, Infallible>), to_client);
    tokio::spawn(connection);
    let config = ClientConfig::named("messages-client", "1.0");
    let handler = Arc::new(NoHandler);
    let client = mcp_tokio::connect_messages(
        config,
        handler,
        client_in.map(Ok::<_, Infallible>),
        to_server,
    )
    .await?;
    println!("over messages: 2 + 3 = {}", add(&client, 2, 3).await?);

    // 2. Bytes: any reader and writer.
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_io);
    tokio::spawn(serve(calculator(), server_read, server_write));
    let (client_read, client_write) = tokio::io::split(client_io);
    let config = ClientConfig::named("bytes-client", "1.0");
    let client = connect(config, Arc::new(NoHandler), client_read, client_write).await?;
    println!("over bytes: 40 + 2 = {}", add(&client, 40, 2).await?);
    Ok(())
}
