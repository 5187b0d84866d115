//! Message transports ([`mcp_driver::messages`]): the whole suite also runs over a channel
//! pair (`Link::Messages`); these cases check the limits a message transport shares with a
//! byte stream, driving the client end by hand.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_channel::mpsc;
use futures_lite::StreamExt;
use mcp_driver::mcp_proto::codec::flow::Watermarks;
use mcp_driver::mcp_proto::schema::lifecycle::{ServerCapabilities, ToolsCapability};
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::ServerConfig;
use mcp_driver::{Runtime, ServerHandle, Service};
use serde_json::{json, Value};

use crate::child::within;
use crate::Fixture;

const GUARD: Duration = Duration::from_secs(60);

/// The sending half of a message channel (a `Sink<Bytes>`).
pub type Tx = mpsc::Sender<Bytes>;
/// The receiving half, as the `Stream` of `Result`s a message transport reads.
pub type Rx =
    futures_lite::stream::Map<mpsc::Receiver<Bytes>, fn(Bytes) -> Result<Bytes, Infallible>>;

/// A bounded channel of whole messages: what a WebSocket is to a message transport.
pub fn channel() -> (Tx, Rx) {
    let (tx, rx) = mpsc::channel(16);
    (tx, rx.map(Ok as fn(Bytes) -> Result<Bytes, Infallible>))
}

fn service(config: impl FnOnce(&mut ServerConfig)) -> Service {
    let caps = ServerCapabilities {
        tools: Some(ToolsCapability {
            list_changed: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut c = ServerConfig::new(Implementation::new("messages", "1"), caps);
    config(&mut c);
    Service::new(c, Fixture::default())
}

/// Serves `service` over a channel pair whose client end the case drives by hand.
fn serve_raw<R: Runtime>(rt: &R, service: Service) -> (ServerHandle, Tx, mpsc::Receiver<Bytes>) {
    let (to_server, server_in) = channel();
    let (server_out, from_server) = mpsc::channel(16);
    let (handle, conn) = mcp_driver::serve_messages(rt.clone(), service, server_in, server_out);
    rt.spawn(Box::pin(async move {
        let _ = conn.await;
    }));
    (handle, to_server, from_server)
}

fn message(v: Value) -> Bytes {
    Bytes::from(serde_json::to_vec(&v).expect("json"))
}

fn initialize() -> Bytes {
    message(json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": { "name": "raw", "version": "1" }
        }
    }))
}

fn echo(id: u64, text: &str) -> Bytes {
    message(json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": { "name": "echo", "arguments": { "text": text } }
    }))
}

async fn next(rx: &mut mpsc::Receiver<Bytes>) -> Value {
    let m = rx.next().await.expect("the server answers");
    assert!(!m.ends_with(b"\n"), "a message carries no line ending");
    serde_json::from_slice(&m).expect("one JSON-RPC message per item")
}

/// A message longer than the session's `max_frame_len` gets the answer an over-long line
/// gets on a byte stream (-32600, naming the limit) and is not handled; the connection
/// goes on.
pub async fn messages_are_held_to_the_frame_limit<R: Runtime>(rt: R) {
    let limit = 1024;
    let (_handle, mut tx, mut rx) = serve_raw(&rt, service(|c| c.max_frame_len = limit));
    within(&rt, GUARD, "frame limit", async {
        tx.try_send(initialize()).expect("room");
        assert_eq!(next(&mut rx).await["id"], 0);
        tx.try_send(message(
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        ))
        .expect("room");
        let long = echo(1, &"x".repeat(limit));
        assert!(long.len() > limit);
        tx.try_send(long).expect("room");
        let refused = next(&mut rx).await;
        assert_eq!(refused["error"]["code"], -32600, "{refused}");
        assert_eq!(refused["id"], Value::Null, "{refused}");
        let why = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(why.contains(&limit.to_string()), "{refused}");
        // At the limit exactly is fine, and the connection still answers.
        let text = "y".repeat(limit - echo(2, "").len());
        let fits = echo(2, &text);
        assert_eq!(fits.len(), limit);
        tx.try_send(fits).expect("room");
        let answer = next(&mut rx).await;
        assert_eq!(answer["id"], 2, "{answer}");
        assert_eq!(answer["result"]["content"][0]["text"], text.as_str());
    })
    .await;
}

/// A peer that takes no messages costs what the watermarks allow and no more: the
/// connection ends once the output waiting for it passes the maximum, as on a byte stream.
pub async fn a_message_peer_that_never_takes_any_costs_bounded_memory<R: Runtime>(rt: R) {
    let marks = Watermarks {
        high: 64 * 1024,
        low: 16 * 1024,
        max: 256 * 1024,
    };
    let (handle, mut tx, mut rx) = serve_raw(&rt, service(|c| c.watermarks = marks));
    tx.try_send(initialize()).expect("room");
    within(&rt, GUARD, "initialize", async {
        assert_eq!(next(&mut rx).await["id"], 0);
    })
    .await;
    tx.try_send(message(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ))
    .expect("room");
    within(&rt, GUARD, "cut-off", async {
        // 10 MiB worth of notifications at most: a server without the cut would take them all.
        for i in 0..200_000 {
            if handle.is_closed() {
                break;
            }
            handle.notify_tools_list_changed();
            if i % 8 == 0 {
                futures_lite::future::yield_now().await;
            }
        }
        while !handle.is_closed() {
            futures_lite::future::yield_now().await;
        }
    })
    .await;
    // The engine takes whatever the session queued since its last round at once, and on a
    // multi-threaded executor that round may come late: the bound allows one such round
    // (a server without the cut would hold all 10 MiB).
    let backlog = handle.backlog();
    assert!(
        backlog.peak > marks.max && backlog.peak <= marks.max + 256 * 1024,
        "{backlog:?}"
    );
    drop(rx);
}
