//! The `http_exchange` target: the streamable HTTP front door and a session's response
//! streams under arbitrary requests and arbitrary orders of events.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_proto::http::{
    Chunk, HttpServer, HttpServerConfig, HttpStreams, MemoryEventStore, Method, StreamConfig,
    StreamId,
};
use mcp_proto::jsonrpc::RequestId;
use mcp_proto::session::{FrameKind, Route, Transmit};

use super::reader::Reader;

/// Header names the front door reads, plus one it ignores.
const NAMES: [&str; 10] = [
    "host",
    "origin",
    "content-type",
    "accept",
    "mcp-session-id",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
    "last-event-id",
    "x-other",
];

/// Values that reach interesting branches; the fuzzer's own bytes are used too.
const VALUES: [&str; 12] = [
    "127.0.0.1:3000",
    "http://localhost:5173",
    "application/json",
    "text/event-stream",
    "2026-07-28",
    "2025-11-25",
    "tools/call",
    "=?base64?YWRk?=",
    "1:0",
    "evil.example.com",
    "",
    "abc",
];

/// Input: `[mode, ...]`. Mode bit 0 picks the front door (a request from the input), else
/// the streams (a script of operations). Checks that nothing panics, that every refusal is a
/// 4xx/5xx with a JSON-RPC body, that streams end once their session closes, and that what a
/// session holds stays within its bounds.
pub fn http_exchange(data: &[u8]) {
    let mut r = Reader::new(data);
    if r.u8() & 1 == 0 {
        front_door(&mut r);
    } else {
        streams(&mut r);
    }
}

fn front_door(r: &mut Reader<'_>) {
    let config = HttpServerConfig::default().with_stateless(r.u8() & 1 == 1);
    let server = HttpServer::new(config);
    let method = match r.u8() % 4 {
        0 => Method::Post,
        1 => Method::Get,
        2 => Method::Delete,
        _ => Method::Other,
    };
    let count = usize::from(r.u8() % 8);
    let mut owned: Vec<(&str, String)> = Vec::new();
    for _ in 0..count {
        let name = NAMES[usize::from(r.u8()) % NAMES.len()];
        let pick = r.u8();
        let value = if pick & 0x80 == 0 {
            VALUES[usize::from(pick) % VALUES.len()].to_owned()
        } else {
            let len = usize::from(pick & 0x1f);
            String::from_utf8_lossy(r.bytes(len)).into_owned()
        };
        owned.push((name, value));
    }
    let headers: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let length = u64::from(r.u16()) * 128;
    let body = r.rest();
    if let Err(resp) = server.check_head(method, "/mcp", headers.as_slice(), Some(length)) {
        assert!(resp.status >= 400, "refusal with status {}", resp.status);
        return;
    }
    if let Err(resp) = server.classify(method, headers.as_slice(), body) {
        assert!((400..600).contains(&resp.status), "status {}", resp.status);
    }
}

fn streams(r: &mut Reader<'_>) {
    let t0 = Instant::now();
    let mode = r.u8();
    let config = StreamConfig::default()
        .with_keep_alive(Some(Duration::from_millis(u64::from(r.u8()) + 1)))
        .with_retry(Duration::from_millis(10))
        .with_max_queued(usize::from(r.u8() % 16) + 1)
        .with_max_stored(0);
    let store_max = usize::from(r.u8() % 32);
    let mut s = match mode % 3 {
        0 => HttpStreams::legacy(
            config.clone(),
            Box::new(MemoryEventStore::new(store_max)),
            mode & 4 == 4,
            mode & 8 == 8,
        ),
        1 => HttpStreams::modern(config.clone()),
        _ => HttpStreams::stateless(config.clone(), mode & 8 == 8),
    };
    let mut now = t0;
    let mut opened: Vec<StreamId> = Vec::new();
    let mut steps = 0;
    while !r.is_empty() && steps < 512 {
        steps += 1;
        let id = RequestId::Number(i64::from(r.u8() % 8));
        let sid = StreamId(u64::from(r.u8() % 12));
        match r.u8() % 11 {
            0 => opened.push(s.open_request(now, id)),
            1 => {
                let kind = match r.u8() % 4 {
                    0 => FrameKind::Request,
                    1 => FrameKind::Notification,
                    2 => FrameKind::Result,
                    _ => FrameKind::Error(-32601),
                };
                let route = if r.u8() & 1 == 0 {
                    Route::Session
                } else {
                    Route::Request(id)
                };
                let len = usize::from(r.u8() % 32);
                let frame = Bytes::copy_from_slice(r.bytes(len));
                s.route(now, Transmit { route, frame, kind });
            }
            2 => {
                let _ = s.poll_head(sid);
            }
            3 => {
                let generation = s.generation(sid);
                // A body is read until it blocks or ends; every stream, resumable or not,
                // holds at most the slow-reader cut (plus a replay of what the store kept,
                // the errors filling a gap and the priming event).
                let bound = config.max_queued + store_max + 8 + 2;
                let mut read = 0;
                while matches!(s.poll_chunk(sid, generation), Chunk::Data(_)) {
                    read += 1;
                    assert!(read <= bound, "{read} chunks queued on one stream");
                }
            }
            4 => {
                let generation = s.generation(sid);
                let _ = s.detach(sid, generation);
                if sid == StreamId(0) && mode.is_multiple_of(3) {
                    // A legacy GET stream is parked, not lost: a new GET takes it back.
                    assert!(!s.has_standalone());
                    assert_eq!(s.open_standalone(now), Some(sid));
                }
            }
            5 => {
                let len = usize::from(r.u8() % 12);
                let text = String::from_utf8_lossy(r.bytes(len)).into_owned();
                let _ = s.resume(now, &text);
            }
            6 => {
                let _ = s.resume(now, &format!("{}:{}", sid.0, r.u8() % 8));
            }
            7 => {
                let _ = s.close_for_polling(&id);
            }
            8 => {
                now += Duration::from_millis(u64::from(r.u8()));
                if s.poll_timeout().is_some_and(|t| t <= now) {
                    s.handle_timeout(now);
                }
            }
            9 => {
                let _ = s.open_standalone(now);
            }
            _ => {
                let _: Vec<_> = s.take_woken().collect();
            }
        }
        assert!(s.stored_events() <= store_max, "store over its bound");
        // What the streams give up is handed over, never left to pile up.
        let given_up = s.take_abandoned().count() + s.take_lost_requests().count();
        assert!(
            given_up <= 64 + store_max,
            "{given_up} requests given up at once"
        );
        assert!(s.len() <= opened.len() + 1 + 64, "streams leak");
    }
    // Closing the session ends every stream once drained.
    s.close();
    for sid in opened.into_iter().chain([StreamId(0)]) {
        let generation = s.generation(sid);
        let mut ended = false;
        for _ in 0..100_000 {
            match s.poll_chunk(sid, generation) {
                Chunk::Data(_) => {}
                Chunk::End => {
                    ended = true;
                    break;
                }
                Chunk::Pending => break,
            }
        }
        assert!(ended, "stream {sid:?} did not end after close");
    }
    assert_eq!(s.poll_timeout(), None);
}
