//! Backpressure on byte streams: a peer that does not read what it is sent costs a bounded
//! amount of memory, whatever it writes, and loses nothing once it reads again.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_lite::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use mcp_driver::mcp_proto::codec::flow::Watermarks;
use mcp_driver::mcp_proto::schema::lifecycle::{ServerCapabilities, ToolsCapability};
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::ServerConfig;
use mcp_driver::{Runtime, ServerHandle, Service};
use serde_json::{json, Value};

use crate::child::within;
use crate::pipe::{duplex, PipeReader, PipeWriter};
use crate::Fixture;

const GUARD: Duration = Duration::from_secs(60);
const MIB: usize = 1024 * 1024;

fn service(marks: Watermarks) -> Service {
    let caps = ServerCapabilities {
        tools: Some(ToolsCapability {
            list_changed: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut config = ServerConfig::new(Implementation::new("flow", "1"), caps);
    config.watermarks = marks;
    Service::new(config, Fixture::default())
}

fn line(v: Value) -> Vec<u8> {
    let mut b = serde_json::to_vec(&v).expect("json");
    b.push(b'\n');
    b
}

fn handshake() -> Vec<u8> {
    let mut b = line(json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": { "name": "raw", "version": "1" }
        }
    }));
    b.extend(line(
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
    ));
    b
}

/// Serves `marks` on a pipe whose client end the case drives by hand.
fn serve_raw<R: Runtime>(rt: &R, marks: Watermarks) -> (ServerHandle, PipeReader, PipeWriter) {
    let (cr, cw, sr, sw) = duplex();
    let (handle, conn) = mcp_driver::serve(rt.clone(), service(marks), sr, sw);
    rt.spawn(Box::pin(async move {
        let _ = conn.await;
    }));
    (handle, cr, cw)
}

/// Waits (yielding, never sleeping) until `done` holds.
async fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        futures_lite::future::yield_now().await;
    }
}

const CALLS: usize = 2048;
const PAYLOAD: usize = 4096;

/// One attack: `CALLS` echo calls of `PAYLOAD` bytes written without reading. Returns the
/// server's peak backlog and whether the writer got everything in before anything was read.
async fn unread_requests<R: Runtime>(rt: &R, marks: Watermarks) -> (usize, bool) {
    let (handle, cr, mut cw) = serve_raw(rt, marks);
    let written = Arc::new(AtomicBool::new(false));
    let flag = written.clone();
    rt.spawn(Box::pin(async move {
        let text = "x".repeat(PAYLOAD);
        let mut batch = handshake();
        for id in 1..=CALLS {
            batch.extend(line(json!({
                "jsonrpc": "2.0", "id": id, "method": "tools/call",
                "params": { "name": "echo", "arguments": { "text": text } }
            })));
            if batch.len() > 256 * 1024 || id == CALLS {
                if cw.write_all(&batch).await.is_err() {
                    return;
                }
                batch.clear();
            }
        }
        flag.store(true, Ordering::SeqCst);
        // Stays open (no EOF): the server must not finish just because input ended.
        std::future::pending::<()>().await;
    }));
    // Nothing is read until the server has stopped reading, or took every request in.
    until(|| handle.backlog().reading_paused || written.load(Ordering::SeqCst)).await;
    let all_in_before_reading = written.load(Ordering::SeqCst);
    // Now read: every call gets its one answer.
    let mut reader = BufReader::new(cr);
    let mut seen = HashSet::new();
    let mut buf = String::new();
    while seen.len() < CALLS + 1 {
        buf.clear();
        let n = reader.read_line(&mut buf).await.expect("read");
        assert!(n > 0, "the server ended after {} answers", seen.len());
        let v: Value = serde_json::from_str(&buf).expect("a JSON line");
        let id = v["id"].as_u64().expect("a response");
        assert!(v.get("result").is_some(), "call {id} failed: {v}");
        assert!(seen.insert(id), "call {id} answered twice");
    }
    until(|| written.load(Ordering::SeqCst)).await;
    let backlog = handle.backlog();
    assert!(!handle.is_closed());
    (backlog.peak, all_in_before_reading)
}

/// A client writing requests and never reading the answers: the server stops reading once
/// 1 MiB of answers wait (the default high-water mark), so the attack costs it about that
/// much, and every answer arrives once the client reads. With the limits lifted (the
/// behaviour before watermarks) the same attack has the server take in all 8 MiB of requests
/// and hold their answers.
pub async fn a_peer_that_never_reads_costs_bounded_memory<R: Runtime>(rt: R) {
    let unlimited = Watermarks {
        high: usize::MAX,
        low: usize::MAX,
        max: usize::MAX,
    };
    let (unbounded, all_in) =
        within(&rt, GUARD, "unlimited", unread_requests(&rt, unlimited)).await;
    assert!(all_in && unbounded > 4 * MIB, "unlimited: peak {unbounded}");
    let marks = Watermarks::default();
    let (peak, all_in) = within(&rt, GUARD, "watermarks", unread_requests(&rt, marks)).await;
    eprintln!(
        "{CALLS} unread calls of {PAYLOAD} B: peak backlog {peak} B with watermarks \
         (high-water mark {} B), {unbounded} B with the limits lifted",
        marks.high
    );
    assert!(!all_in, "the server kept reading");
    assert!(peak <= marks.high + 64 * 1024, "peak backlog {peak}");
}

/// Notifications the application sends to a client that stopped reading (no request of the
/// client's to pause) pile up only to the maximum; then the connection ends as too slow.
pub async fn notifications_to_a_client_that_never_reads_are_cut_off<R: Runtime>(rt: R) {
    let marks = Watermarks {
        high: 64 * 1024,
        low: 16 * 1024,
        max: 256 * 1024,
    };
    let (handle, cr, mut cw) = serve_raw(&rt, marks);
    cw.write_all(&handshake()).await.expect("write");
    // The answer to initialize is read; nothing after it.
    let mut reader = BufReader::new(cr);
    let mut first = String::new();
    reader.read_line(&mut first).await.expect("read");
    assert!(first.contains("\"id\":0"), "{first}");
    let mut sent = 0;
    within(&rt, GUARD, "cut-off", async {
        // 10 MiB worth of notifications at most: a server without the cut would take them all.
        for i in 0..200_000 {
            if handle.is_closed() {
                break;
            }
            sent += 1;
            handle.notify_tools_list_changed();
            if i % 64 == 0 {
                futures_lite::future::yield_now().await;
            }
        }
        until(|| handle.is_closed()).await;
    })
    .await;
    let backlog = handle.backlog();
    eprintln!(
        "a client that never reads: cut off after {sent} notifications, peak backlog {} B \
         (maximum {} B)",
        backlog.peak, marks.max
    );
    assert!(
        backlog.peak > marks.max && backlog.peak <= marks.max + 64 * 1024,
        "{backlog:?}"
    );
    drop(reader);
}
