//! Cost of one `tools/call` round trip through the Sans-IO core, against plain serde_json.
//!
//! Run with `cargo bench -p mcp-benches` (about 15 s once built). Figures are medians of
//! several ~90 ms samples; see `mcp_benches::measure`.
//!
//! - raw: what any JSON-RPC server pays at least: parse the request into a `serde_json::Value`,
//!   build the response `Value`, serialize it into a reused `Vec<u8>`;
//! - decode: our envelope parse (`RawMessage::parse`) plus typed params
//!   (`ClientRequest::decode`);
//! - encode: our typed result (`ServerResult::CallTool`) in a JSON-RPC envelope, serialized the
//!   way the session's outbox does it (one `to_writer` into a reused buffer, plus `\n`);
//! - full: `ServerSession::handle_bytes` on the request line, `poll_event`, `respond` with a
//!   text echo, `poll_transmit`: everything a stdio server does per request but the IO.

use std::hint::black_box;
use std::time::{Instant, SystemTime};

use bytes::BytesMut;
use mcp_benches::{machine, measure, Measurement};
use mcp_proto::entropy::SeededEntropy;
use mcp_proto::jsonrpc::{RawMessage, RequestId};
use mcp_proto::schema::lifecycle::{ServerCapabilities, ToolsCapability};
use mcp_proto::schema::messages::{ClientRequest, ServerResult};
use mcp_proto::schema::tools::CallToolResult;
use mcp_proto::schema::Implementation;
use mcp_proto::session::{ServerConfig, ServerEvent, ServerSession};
use serde::Serialize;
use serde_json::{json, Value};

const LEGACY_REQUEST: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello, benchmark"}}}"#;

const MODERN_REQUEST: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello, benchmark"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench-client","version":"1.0.0"}}}}"#;

fn server() -> ServerSession {
    let caps = ServerCapabilities {
        tools: Some(ToolsCapability::default()),
        ..Default::default()
    };
    let config = ServerConfig::new(Implementation::new("bench-server", "1.0.0"), caps);
    ServerSession::new(
        config,
        Instant::now(),
        SystemTime::UNIX_EPOCH,
        Box::new(SeededEntropy::new(1)),
    )
}

/// A server with a completed 2025-11-25 handshake.
fn legacy_server(now: Instant) -> ServerSession {
    let mut s = server();
    let mut buf = BytesMut::new();
    buf.extend_from_slice(
        br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench-client","version":"1.0.0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
"#,
    );
    s.handle_bytes(now, &mut buf);
    while s.poll_transmit().is_some() {}
    while let Some(e) = s.poll_event() {
        assert!(matches!(e, ServerEvent::Initialized { .. }), "{e:?}");
    }
    s
}

/// One full round trip; returns the response frame's length.
fn round_trip(s: &mut ServerSession, now: Instant, line: &[u8], buf: &mut BytesMut) -> usize {
    buf.extend_from_slice(line);
    s.handle_bytes(now, buf);
    let Some(ServerEvent::Request { id, request, .. }) = s.poll_event() else {
        panic!("no request event");
    };
    let ClientRequest::CallTool(call) = request else {
        panic!("not a tools/call");
    };
    let text = call
        .arguments
        .as_ref()
        .and_then(|a| a.get("text"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    s.respond(&id, CallToolResult::text(text)).expect("respond");
    let t = s.poll_transmit().expect("a response frame");
    t.frame.len()
}

/// The plain serde_json baseline: parse, build the same response as a `Value`, serialize.
fn raw(request: &str, out: &mut Vec<u8>, modern: bool) -> usize {
    let req: Value = serde_json::from_str(request).expect("valid JSON");
    let text = req["params"]["arguments"]["text"]
        .as_str()
        .unwrap_or_default();
    let mut result = json!({"content": [{"type": "text", "text": text}]});
    if modern {
        // What a 2026-07-28 server adds to every result.
        result["resultType"] = json!("complete");
        result["_meta"] = json!({"io.modelcontextprotocol/serverInfo": {"name": "bench-server", "version": "1.0.0"}});
    }
    let response = json!({"jsonrpc": "2.0", "id": req["id"], "result": result});
    out.clear();
    serde_json::to_writer(&mut *out, &response).expect("serializes");
    out.push(b'\n');
    out.len()
}

fn decode(request: &str) -> ClientRequest {
    match RawMessage::parse(request).expect("valid envelope") {
        RawMessage::Request { method, params, .. } => {
            ClientRequest::decode(&method, params).expect("valid params")
        }
        other => panic!("not a request: {other:?}"),
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    jsonrpc: &'static str,
    id: &'a RequestId,
    result: &'a ServerResult,
}

fn encode(id: &RequestId, text: &str, out: &mut Vec<u8>) -> usize {
    let result = ServerResult::CallTool(CallToolResult::text(text));
    out.clear();
    let envelope = Envelope {
        jsonrpc: "2.0",
        id,
        result: &result,
    };
    serde_json::to_writer(&mut *out, &envelope).expect("serializes");
    out.push(b'\n');
    out.len()
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) only smoke-tests
    // the setup below.
    let timing = std::env::args().any(|a| a == "--bench");
    println!("mcp-proto core benchmarks");
    println!("machine:  {}", machine());
    println!("command:  cargo bench -p mcp-benches (bench profile: optimized)");

    let now = Instant::now();
    let mut out = Vec::with_capacity(512);
    let mut buf = BytesMut::with_capacity(4096);
    let legacy_line = format!("{LEGACY_REQUEST}\n");
    let modern_line = format!("{MODERN_REQUEST}\n");

    let mut legacy = legacy_server(now);
    let legacy_response = round_trip(&mut legacy, now, legacy_line.as_bytes(), &mut buf);
    let mut modern = server();
    let modern_response = round_trip(&mut modern, now, modern_line.as_bytes(), &mut buf);
    println!(
        "payloads: legacy request {} B -> response {} B; 2026-07-28 request {} B -> response {} B",
        legacy_line.len(),
        legacy_response,
        modern_line.len(),
        modern_response
    );
    assert_eq!(raw(LEGACY_REQUEST, &mut out, false), legacy_response);
    assert_eq!(raw(MODERN_REQUEST, &mut out, true), modern_response);
    println!();
    if !timing {
        println!("(smoke run: pass --bench, as `cargo bench` does, to time)");
        return;
    }

    let id = RequestId::Number(7);
    let results: Vec<Measurement> = vec![
        measure("(a) raw serde_json Value, legacy request", || {
            raw(black_box(LEGACY_REQUEST), &mut out, false)
        }),
        measure("(a) raw serde_json Value, 2026-07-28 request", || {
            raw(black_box(MODERN_REQUEST), &mut out, true)
        }),
        measure("(b) decode: RawMessage + ClientRequest, legacy", || {
            decode(black_box(LEGACY_REQUEST))
        }),
        measure("(b) decode: RawMessage + ClientRequest, 2026-07-28", || {
            decode(black_box(MODERN_REQUEST))
        }),
        measure("(c) encode: CallToolResult in envelope", || {
            encode(&id, black_box("hello, benchmark"), &mut out)
        }),
        measure("(d) full ServerSession round trip, legacy", || {
            round_trip(
                &mut legacy,
                now,
                black_box(legacy_line.as_bytes()),
                &mut buf,
            )
        }),
        measure("(d) full ServerSession round trip, 2026-07-28", || {
            round_trip(
                &mut modern,
                now,
                black_box(modern_line.as_bytes()),
                &mut buf,
            )
        }),
    ];
    for m in &results {
        println!("{m}");
    }
    println!();
    let ratio = |full: usize, raw: usize| results[full].median_ns / results[raw].median_ns;
    println!("full / raw, legacy:     {:.2}x", ratio(5, 0));
    println!("full / raw, 2026-07-28: {:.2}x", ratio(6, 1));
}
