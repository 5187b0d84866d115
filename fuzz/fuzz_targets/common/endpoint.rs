//! The HTTP server endpoint driven through whole exchange sequences: sessions opened,
//! used, deleted and abandoned, streams reserved and released, time passing, hostile
//! requests in between. Checks the endpoint's accounting and its fairness promises.
//! Sessions are opened live or dormant; a dormant one is revived by its next message and
//! leaves nothing for the transport to end when it is evicted, expired or deleted.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use mcp_proto::entropy::SeededEntropy;
use mcp_proto::http::{Admitted, HttpEndpoint, HttpServerConfig, Method, StreamSlot};
use mcp_proto::schema::common::Implementation;
use mcp_proto::session::{DormantSession, ServerConfig, ServerSession};

use super::reader::Reader;

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"f","version":"1"}}}"#;
const PING: &str = r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#;
const NOTE: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const BATCH: &str = r#"[{"jsonrpc":"2.0","id":8,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}]"#;
const LISTEN: &str = r#"{"jsonrpc":"2.0","id":3,"method":"subscriptions/listen","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// Statuses the endpoint may answer with by itself.
const STATUSES: &[u16] = &[200, 202, 400, 403, 404, 405, 406, 409, 413, 415, 429, 503];

/// The record of a session that answered `initialize` and heard nothing since.
fn record() -> DormantSession {
    static RECORD: OnceLock<DormantSession> = OnceLock::new();
    RECORD
        .get_or_init(|| {
            let now = Instant::now();
            let config = ServerConfig::new(Implementation::new("f", "1"), Default::default());
            let entropy = Box::new(SeededEntropy::new(1));
            let mut s = ServerSession::new(config, now, SystemTime::UNIX_EPOCH, entropy);
            s.handle_message(now, INIT.as_bytes());
            while s.poll_transmit().is_some() {}
            s.to_dormant()
                .expect("a bare handshake leaves a dormant session")
        })
        .clone()
}

/// Runs one sequence. Layout: 5 config bytes, then ops of one byte plus operands.
pub fn http_endpoint(data: &[u8]) {
    let mut r = Reader::new(data);
    let config = HttpServerConfig::default()
        .with_max_sessions(1 + usize::from(r.u8() % 8))
        .with_max_streams(1 + usize::from(r.u8() % 16))
        .with_max_streams_per_session(1 + usize::from(r.u8() % 8))
        .with_max_listen_streams(1 + usize::from(r.u8() % 8))
        .with_stateless(r.u8().is_multiple_of(8));
    let max_sessions = config.max_sessions;
    let mut e: HttpEndpoint<u32> = HttpEndpoint::new(config, Box::new(SeededEntropy::new(3)));
    let t0 = Instant::now();
    let mut now = t0;
    let mut held: Vec<StreamSlot> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut dormant: HashSet<String> = HashSet::new();
    let mut next_value = 0u32;
    let mut ops = 0;
    while !r.is_empty() && ops < 512 {
        ops += 1;
        let op = r.u8();
        let pick = usize::from(r.u8());
        let session = ids.get(pick % ids.len().max(1)).cloned();
        let admitted = match op % 10 {
            0 => post(&mut e, now, None, INIT, false),
            1 => post(&mut e, now, session.as_deref(), PING, false),
            2 => post(&mut e, now, session.as_deref(), NOTE, false),
            3 => {
                let s = session.clone().unwrap_or_default();
                let h = [
                    ("host", "localhost"),
                    ("accept", "text/event-stream"),
                    ("mcp-session-id", s.as_str()),
                ];
                e.handle_request(now, Method::Get, h.as_slice(), b"")
            }
            4 => {
                let s = session.clone().unwrap_or_default();
                let h = [("host", "localhost"), ("mcp-session-id", s.as_str())];
                e.handle_request(now, Method::Delete, h.as_slice(), b"")
            }
            5 => post(&mut e, now, None, LISTEN, true),
            6 => post(&mut e, now, session.as_deref(), BATCH, false),
            7 => {
                if !held.is_empty() {
                    let slot = held.swap_remove(pick % held.len());
                    e.release(now, slot);
                }
                continue;
            }
            8 => {
                now += Duration::from_secs(u64::from(r.u8()) * 4);
                let expired = e.handle_timeout(now);
                for (id, _) in &expired {
                    assert!(
                        !dormant.contains(id),
                        "a dormant session had a value to end"
                    );
                }
                ids.retain(|id| !expired.iter().any(|(x, _)| x == id));
                forget_dormant(&e, &mut ids, &mut dormant);
                if let Some(next) = e.poll_timeout() {
                    assert!(next > now, "an expiry due now was not expired");
                }
                continue;
            }
            _ => {
                // Hostile bytes with a session header that may or may not exist.
                let n = usize::from(r.u8() % 64);
                let body = r.bytes(n);
                let s = session.clone().unwrap_or_default();
                let h = [
                    ("host", "localhost"),
                    ("content-type", "application/json"),
                    ("mcp-session-id", s.as_str()),
                ];
                e.handle_request(now, Method::Post, h.as_slice(), body)
            }
        };
        match admitted {
            Admitted::Respond(resp) => {
                assert!(STATUSES.contains(&resp.status), "status {}", resp.status)
            }
            Admitted::Initialize { mut slot, .. } => {
                let idle_exists = ids.len() < max_sessions
                    || ids
                        .iter()
                        .any(|_| held.iter().all(|s| s.session().is_none()));
                next_value += 1;
                let as_dormant = pick.is_multiple_of(2);
                let opened = if as_dormant {
                    e.open_dormant(now, record(), &mut slot)
                } else {
                    e.open_session(now, next_value, &mut slot)
                };
                match opened {
                    Ok(opened) => {
                        if let Some((gone, _)) = &opened.evicted {
                            assert!(
                                held.iter().all(|s| s.session() != Some(gone)),
                                "a busy session was evicted"
                            );
                            assert!(!dormant.contains(gone), "a dormant session had a value");
                            ids.retain(|id| id != gone);
                        }
                        forget_dormant(&e, &mut ids, &mut dormant);
                        assert!(e.is_dormant(&opened.id) == as_dormant);
                        if as_dormant {
                            dormant.insert(opened.id.clone());
                        }
                        ids.push(opened.id);
                    }
                    Err(resp) => {
                        assert_eq!(resp.status, 503);
                        assert!(
                            !idle_exists || !held.is_empty(),
                            "refused with idle sessions"
                        );
                    }
                }
                held.push(slot);
            }
            Admitted::Ended { .. } => {
                let s = session.expect("ended a session never named");
                assert!(
                    !dormant.contains(&s),
                    "a dormant session had a value to end"
                );
                ids.retain(|id| *id != s);
            }
            Admitted::Revive { session: s, record } => {
                assert!(dormant.remove(&s), "revived a session that was not dormant");
                assert_eq!(
                    record.version(),
                    mcp_proto::schema::ProtocolVersion::V2025_03_26
                );
                next_value += 1;
                assert_eq!(e.revive(&s, next_value), Ok(()));
                assert_eq!(e.revive(&s, 0), Err(0), "revived twice");
                assert!(!e.is_dormant(&s) && e.has_session(&s));
            }
            Admitted::OneShot { slot, .. } | Admitted::Legacy { slot, .. } => held.extend(slot),
            Admitted::Batch { slot, .. } => held.extend(slot),
            Admitted::Listen { slot, .. } => held.push(slot),
        }
        // A DELETE of a dormant session answers 200 by itself.
        forget_dormant(&e, &mut ids, &mut dormant);
        assert_eq!(e.open_streams(), held.len(), "stream accounting drifted");
        for id in &ids {
            assert_eq!(e.is_dormant(id), dormant.contains(id), "dormancy drifted");
        }
        assert!(e.session_count() <= max_sessions);
        assert_eq!(e.session_count(), ids.len(), "session bookkeeping drifted");
    }
    for slot in held.drain(..) {
        e.release(now, slot);
    }
    assert_eq!(e.open_streams(), 0);
    // Once nothing is busy, everything expires in the end.
    now += Duration::from_secs(24 * 3600);
    e.handle_timeout(now);
    assert_eq!(e.session_count(), 0);
}

/// Drops the dormant sessions the endpoint forgot on its own (evicted, expired, deleted):
/// only dormant ones may go without the transport being told.
fn forget_dormant(e: &HttpEndpoint<u32>, ids: &mut Vec<String>, dormant: &mut HashSet<String>) {
    ids.retain(|id| {
        let kept = e.has_session(id);
        assert!(
            kept || dormant.contains(id),
            "a live session vanished untold"
        );
        kept
    });
    dormant.retain(|id| e.has_session(id));
}

fn post<'b>(
    e: &mut HttpEndpoint<u32>,
    now: Instant,
    session: Option<&'b str>,
    body: &'b str,
    modern: bool,
) -> Admitted<'b, u32> {
    let mut h = vec![
        ("host", "localhost"),
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
    ];
    if let Some(s) = session {
        h.push(("mcp-session-id", s));
    }
    if modern {
        h.push(("mcp-protocol-version", "2026-07-28"));
        h.push(("mcp-method", "subscriptions/listen"));
    }
    e.handle_request(now, Method::Post, h.as_slice(), body.as_bytes())
}
