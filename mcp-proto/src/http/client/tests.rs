//! The HTTP client state machine driven by hand, with explicit time.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};

use super::*;
use crate::session::{FrameKind, Route, Transmit};

const URL: &str = "http://127.0.0.1:9/mcp";

fn config() -> HttpClientConfig {
    let mut c = HttpClientConfig::new(URL);
    c.backoff_initial = Duration::from_millis(10);
    c.backoff_max = Duration::from_millis(40);
    c.max_attempts = 4;
    c
}

fn tx(v: Value) -> Transmit {
    let kind = if v.get("method").is_some() && v.get("id").is_some() {
        FrameKind::Request
    } else if v.get("method").is_some() {
        FrameKind::Notification
    } else {
        FrameKind::Result
    };
    let mut frame = serde_json::to_vec(&v).unwrap();
    frame.push(b'\n');
    Transmit {
        route: Route::Session,
        frame: Bytes::from(frame),
        kind,
    }
}

fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}
    })
}

fn probe(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "server/discover", "params": {"_meta": modern_meta()}})
}

fn discover_result(id: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "result": {
        "resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}
    }}))
    .unwrap()
}

fn initialize(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}
    }})
}

fn init_result(id: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "result": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}
    }}))
    .unwrap()
}

fn initialized() -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
}

fn json_head(
    c: &mut HttpClient,
    now: Instant,
    id: ExchangeId,
    status: u16,
    extra: &[(&str, &str)],
) {
    let mut h: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    h.extend_from_slice(extra);
    c.handle_response(now, id, status, h.as_slice());
}

fn sse_head(c: &mut HttpClient, now: Instant, id: ExchangeId) {
    c.handle_response(now, id, 200, &[("content-type", "text/event-stream")]);
}

fn requests(c: &mut HttpClient) -> Vec<HttpRequest> {
    std::iter::from_fn(|| c.poll_request()).collect()
}

fn messages(c: &mut HttpClient) -> Vec<Value> {
    std::iter::from_fn(|| c.poll_message())
        .map(|b| serde_json::from_slice(&b).unwrap())
        .collect()
}

fn events(c: &mut HttpClient) -> Vec<HttpClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn aborts(c: &mut HttpClient) -> Vec<ExchangeId> {
    std::iter::from_fn(|| c.poll_abort()).collect()
}

fn one(c: &mut HttpClient) -> HttpRequest {
    let mut r = requests(c);
    assert_eq!(r.len(), 1, "{r:?}");
    r.remove(0)
}

/// A modern client after a successful probe.
fn modern(now: Instant) -> HttpClient {
    let mut c = HttpClient::new(config());
    c.handle_transmit(now, tx(probe(0)));
    let r = one(&mut c);
    json_head(&mut c, now, r.id, 200, &[]);
    c.handle_body(now, r.id, &discover_result(0));
    c.handle_end(now, r.id);
    assert_eq!(messages(&mut c).len(), 1);
    c
}

/// A legacy client with session `s1` after `initialize` and `initialized`.
fn legacy(now: Instant) -> HttpClient {
    let mut c = HttpClient::new(config());
    c.handle_transmit(now, tx(initialize(0)));
    let r = one(&mut c);
    assert_eq!(r.header("mcp-protocol-version"), Some("2025-11-25"));
    assert_eq!(r.header("mcp-session-id"), None);
    json_head(&mut c, now, r.id, 200, &[("mcp-session-id", "s1")]);
    c.handle_body(now, r.id, &init_result(0));
    c.handle_end(now, r.id);
    assert_eq!(messages(&mut c).len(), 1);
    c.handle_transmit(now, tx(initialized()));
    let r = requests(&mut c);
    assert_eq!(r.len(), 2, "the notification and the standalone GET");
    assert_eq!(r[0].method, Method::Post);
    assert_eq!(r[0].header("mcp-session-id"), Some("s1"));
    assert_eq!(r[0].header("mcp-protocol-version"), Some("2025-06-18"));
    c.handle_response(now, r[0].id, 202, &[] as &[(&str, &str)]);
    c.handle_end(now, r[0].id);
    assert_eq!(r[1].method, Method::Get);
    assert_eq!(r[1].header("accept"), Some("text/event-stream"));
    assert_eq!(r[1].header("mcp-session-id"), Some("s1"));
    c.handle_response(now, r[1].id, 405, &[] as &[(&str, &str)]);
    assert_eq!(aborts(&mut c), vec![r[1].id]);
    assert!(requests(&mut c).is_empty(), "405: no standalone stream");
    c
}

#[test]
fn modern_posts_carry_standard_and_param_headers() {
    let now = crate::test_start();
    let mut c = HttpClient::new(config());
    c.handle_transmit(now, tx(probe(0)));
    let r = one(&mut c);
    assert_eq!(r.method, Method::Post);
    assert_eq!(&*r.url, URL);
    assert_eq!(r.header("mcp-protocol-version"), Some("2026-07-28"));
    assert_eq!(r.header("mcp-method"), Some("server/discover"));
    assert_eq!(
        r.header("accept"),
        Some("application/json, text/event-stream")
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(!r.body.ends_with(b"\n"));
    json_head(&mut c, now, r.id, 200, &[]);
    c.handle_body(now, r.id, &discover_result(0));
    c.handle_end(now, r.id);
    assert_eq!(messages(&mut c)[0]["id"], 0);

    // tools/list: the invalid tool is removed, the valid one's annotations remembered.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": modern_meta()}});
    c.handle_transmit(now, tx(list));
    let r = one(&mut c);
    assert_eq!(r.header("mcp-name"), None);
    sse_head(&mut c, now, r.id);
    let result = json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": [
        {"name": "good", "inputSchema": {"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "n": {"type": "integer", "x-mcp-header": "N"}}}},
        {"name": "bad", "inputSchema": {"type": "object", "properties": {
            "x": {"type": "number", "x-mcp-header": "X"}}}}
    ]}});
    let event = format!("id: 1\ndata: {result}\n\n");
    c.handle_body(now, r.id, event.as_bytes());
    c.handle_end(now, r.id);
    let m = messages(&mut c);
    let tools = m[0]["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0]["name"], "good");
    assert!(
        matches!(&events(&mut c)[..], [HttpClientEvent::ToolRejected { tool, .. }] if tool == "bad")
    );

    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "good", "arguments": {"region": " padded ", "n": 42}, "_meta": modern_meta()}});
    c.handle_transmit(now, tx(call));
    let r = one(&mut c);
    assert_eq!(r.header("mcp-method"), Some("tools/call"));
    assert_eq!(r.header("mcp-name"), Some("good"));
    assert_eq!(
        r.header("mcp-param-region"),
        Some("=?base64?IHBhZGRlZCA=?=")
    );
    assert_eq!(r.header("mcp-param-n"), Some("42"));
    assert_eq!(r.header("mcp-session-id"), None);

    let read = json!({"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {
        "uri": "file:///a b/ü.txt", "_meta": modern_meta()}});
    c.handle_transmit(now, tx(read));
    let r = one(&mut c);
    assert_eq!(
        r.header("mcp-name"),
        Some(base64::header_value("file:///a b/ü.txt").as_str())
    );
}

#[test]
fn modern_cancel_closes_the_stream_instead_of_posting() {
    let now = crate::test_start();
    let mut c = modern(now);
    let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
        "name": "slow", "_meta": modern_meta()}});
    c.handle_transmit(now, tx(call));
    let r = one(&mut c);
    sse_head(&mut c, now, r.id);
    let cancel =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}});
    c.handle_transmit(now, tx(cancel));
    assert!(requests(&mut c).is_empty());
    assert_eq!(aborts(&mut c), vec![r.id]);
    // Late bytes for the aborted exchange are ignored.
    c.handle_body(now, r.id, b"data: {}\n\n");
    assert!(messages(&mut c).is_empty());
}

#[test]
fn unsupported_version_listing_ours_is_retried_once() {
    let now = crate::test_start();
    let mut c = HttpClient::new(config());
    c.handle_transmit(now, tx(probe(0)));
    let refusal = json!({"jsonrpc": "2.0", "id": 0, "error": {"code": -32022,
        "message": "Unsupported protocol version", "data": {"supported": ["2026-07-28"]}}});
    for round in 0..2 {
        let r = one(&mut c);
        assert_eq!(r.header("mcp-protocol-version"), Some("2026-07-28"));
        json_head(&mut c, now, r.id, 400, &[]);
        c.handle_body(now, r.id, refusal.to_string().as_bytes());
        c.handle_end(now, r.id);
        if round == 0 {
            assert!(messages(&mut c).is_empty(), "retried, not reported");
        }
    }
    assert!(requests(&mut c).is_empty());
    let m = messages(&mut c);
    assert_eq!(
        m[0]["error"]["code"], -32022,
        "the second refusal reaches the session"
    );
}

#[test]
fn legacy_session_headers_and_delete_on_close() {
    let now = crate::test_start();
    let mut c = legacy(now);
    assert_eq!(c.session_id(), Some("s1"));
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    c.handle_transmit(now, tx(list));
    let r = one(&mut c);
    assert_eq!(r.header("mcp-session-id"), Some("s1"));
    assert_eq!(
        r.header("mcp-method"),
        None,
        "legacy posts carry no 2026-07-28 headers"
    );
    c.close(now);
    let reqs = requests(&mut c);
    assert_eq!(aborts(&mut c), vec![r.id]);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, Method::Delete);
    assert_eq!(reqs[0].header("mcp-session-id"), Some("s1"));
    c.handle_response(now, reqs[0].id, 200, &[] as &[(&str, &str)]);
    c.handle_end(now, reqs[0].id);
    assert_eq!(c.exchanges(), 0);
}

#[test]
fn stream_cut_before_the_response_resumes_after_retry_with_last_event_id() {
    let t0 = crate::test_start();
    let mut c = legacy(t0);
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "x"}});
    c.handle_transmit(t0, tx(call));
    let r = one(&mut c);
    sse_head(&mut c, t0, r.id);
    c.handle_body(t0, r.id, b"id: ev-1\nretry: 30\ndata: \n\n");
    c.handle_body(t0, r.id, b"id: ev-2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n");
    c.handle_end(t0, r.id);
    assert_eq!(messages(&mut c).len(), 1, "the progress notification");
    assert!(requests(&mut c).is_empty(), "nothing before retry");
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_millis(30)));
    c.handle_timeout(t0 + Duration::from_millis(29));
    assert!(requests(&mut c).is_empty());
    let t1 = t0 + Duration::from_millis(30);
    c.handle_timeout(t1);
    let g = one(&mut c);
    assert_eq!(g.method, Method::Get);
    assert_eq!(g.header("last-event-id"), Some("ev-2"));
    assert_eq!(g.header("mcp-session-id"), Some("s1"));
    assert!(g.long_lived);
    // The resumed stream ends quietly once: reconnect again from the same id, after the
    // retry doubled (up to the 40 ms cap).
    sse_head(&mut c, t1, g.id);
    c.handle_body(t1, g.id, b"id: ev-2\nretry: 30\ndata: \n\n");
    c.handle_end(t1, g.id);
    assert_eq!(c.poll_timeout(), Some(t1 + Duration::from_millis(40)));
    let t2 = t1 + Duration::from_millis(40);
    c.handle_timeout(t2);
    let g = one(&mut c);
    assert_eq!(g.header("last-event-id"), Some("ev-2"));
    sse_head(&mut c, t2, g.id);
    c.handle_body(
        t2,
        g.id,
        b"id: ev-3\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[]}}\n\n",
    );
    let m = messages(&mut c);
    assert_eq!(m[0]["id"], 7);
    assert_eq!(
        aborts(&mut c),
        vec![g.id],
        "the resumed stream closes once answered"
    );
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn quiet_reconnections_back_off_and_end() {
    let t0 = crate::test_start();
    let mut c = legacy(t0);
    c.handle_transmit(
        t0,
        tx(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "x"}})),
    );
    let r = one(&mut c);
    sse_head(&mut c, t0, r.id);
    c.handle_body(t0, r.id, b"id: a\nretry: 10\ndata: \n\n");
    c.handle_end(t0, r.id);
    let mut now = t0;
    let mut delays = Vec::new();
    for _ in 0..20 {
        let Some(due) = c.poll_timeout() else { break };
        delays.push(due - now);
        now = due;
        c.handle_timeout(now);
        let g = one(&mut c);
        sse_head(&mut c, now, g.id);
        c.handle_end(now, g.id);
    }
    let ms: Vec<u64> = delays.iter().map(|d| d.as_millis() as u64).collect();
    assert_eq!(
        ms,
        vec![10, 20, 40, 40, 40, 40, 40, 40, 40, 40],
        "retry, then doubling to the cap"
    );
    let m = messages(&mut c);
    assert_eq!(m.len(), 1);
    let e: ErrorObject = serde_json::from_value(m[0]["error"].clone()).unwrap();
    assert_eq!(
        HttpError::from_error_object(&e),
        Some(HttpError::ResumeFailed { attempts: 10 })
    );
}

#[test]
fn refused_connections_back_off_then_fail_typed() {
    let t0 = crate::test_start();
    let mut c = HttpClient::new(config());
    c.handle_transmit(t0, tx(probe(0)));
    let mut now = t0;
    let mut attempts = 0;
    let mut delays = Vec::new();
    loop {
        let r = one(&mut c);
        attempts += 1;
        c.handle_failure(now, r.id, FailureKind::Connect, "connection refused");
        let Some(due) = c.poll_timeout() else { break };
        delays.push((due - now).as_millis() as u64);
        now = due;
        c.handle_timeout(now);
    }
    assert_eq!(attempts, 4);
    assert_eq!(delays, vec![10, 20, 40]);
    let failed = events(&mut c);
    assert!(matches!(
        &failed[..],
        [HttpClientEvent::Failed(HttpError::Unreachable {
            attempts: 4,
            ..
        })]
    ));
    let m = messages(&mut c);
    assert_eq!(m[0]["id"], 0);
}

#[test]
fn session_404_reinitializes_and_replays() {
    let now = crate::test_start();
    let mut c = legacy(now);
    c.handle_transmit(
        now,
        tx(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
    );
    let r = one(&mut c);
    c.handle_response(now, r.id, 404, &[] as &[(&str, &str)]);
    assert_eq!(aborts(&mut c), vec![r.id]);
    assert_eq!(events(&mut c), vec![HttpClientEvent::SessionExpired]);
    // Meanwhile the session sends more: held until the new session exists.
    c.handle_transmit(
        now,
        tx(json!({"jsonrpc": "2.0", "id": 2, "method": "prompts/list"})),
    );
    let init = one(&mut c);
    assert_eq!(init.header("mcp-session-id"), None);
    assert!(String::from_utf8_lossy(&init.body).contains("\"initialize\""));
    json_head(&mut c, now, init.id, 200, &[("mcp-session-id", "s2")]);
    c.handle_body(now, init.id, &init_result(0));
    c.handle_end(now, init.id);
    assert!(
        messages(&mut c).is_empty(),
        "the replayed handshake stays internal"
    );
    assert_eq!(events(&mut c), vec![HttpClientEvent::Reinitialized]);
    let reqs = requests(&mut c);
    let bodies: Vec<String> = reqs
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into())
        .collect();
    assert!(bodies[0].contains("notifications/initialized"));
    assert!(bodies[1].contains("tools/list"));
    assert!(bodies[2].contains("prompts/list"));
    assert_eq!(reqs[3].method, Method::Get);
    assert!(reqs
        .iter()
        .all(|r| r.header("mcp-session-id") == Some("s2")));
}

#[test]
fn repeated_expiry_gives_up() {
    let now = crate::test_start();
    let mut c = legacy(now);
    c.handle_transmit(
        now,
        tx(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
    );
    for _ in 0..4 {
        let reqs = requests(&mut c);
        let Some(post) = reqs
            .iter()
            .find(|r| String::from_utf8_lossy(&r.body).contains("tools/list"))
        else {
            break;
        };
        c.handle_response(now, post.id, 404, &[] as &[(&str, &str)]);
        if let Some(init) = requests(&mut c).into_iter().next() {
            json_head(&mut c, now, init.id, 200, &[("mcp-session-id", "s")]);
            c.handle_body(now, init.id, &init_result(0));
            c.handle_end(now, init.id);
        }
    }
    let ev = events(&mut c);
    assert!(
        ev.contains(&HttpClientEvent::Failed(HttpError::SessionExpired)),
        "{ev:?}"
    );
    let m = messages(&mut c);
    assert_eq!(m.last().unwrap()["id"], 1);
}

#[test]
fn refused_initialize_falls_back_to_http_sse() {
    let now = crate::test_start();
    let mut c = HttpClient::new(HttpClientConfig::new("http://127.0.0.1:9/sse"));
    c.handle_transmit(now, tx(initialize(0)));
    let r = one(&mut c);
    c.handle_response(now, r.id, 405, &[("content-type", "text/plain")]);
    c.handle_body(now, r.id, b"Method Not Allowed");
    c.handle_end(now, r.id);
    let g = one(&mut c);
    assert_eq!(g.method, Method::Get);
    assert_eq!(&*g.url, "http://127.0.0.1:9/sse");
    sse_head(&mut c, now, g.id);
    c.handle_body(
        now,
        g.id,
        b"event: endpoint\ndata: /messages?sessionId=abc\n\n",
    );
    assert!(c.is_legacy_sse());
    let p = one(&mut c);
    assert_eq!(&*p.url, "http://127.0.0.1:9/messages?sessionId=abc");
    assert!(String::from_utf8_lossy(&p.body).contains("initialize"));
    assert_eq!(p.header("mcp-protocol-version"), None);
    c.handle_response(now, p.id, 202, &[] as &[(&str, &str)]);
    c.handle_body(now, p.id, b"Accepted");
    c.handle_end(now, p.id);
    let event = format!(
        "event: message\ndata: {}\n\n",
        String::from_utf8(init_result(0)).unwrap()
    );
    c.handle_body(now, g.id, event.as_bytes());
    assert_eq!(messages(&mut c)[0]["id"], 0);
    // The stream is the session: when it ends, the connection is over.
    c.handle_end(now, g.id);
    assert!(events(&mut c).contains(&HttpClientEvent::Failed(HttpError::StreamEnded)));
}

/// Before: an `endpoint` on another origin was followed, credentials attached.
#[test]
fn an_endpoint_on_another_origin_is_refused() {
    for hostile in [
        "http://127.0.0.1:10/messages",
        "https://127.0.0.1:9/messages",
        "http://evil.example:9/messages",
        "//evil.example:9/messages",
        "http://127.0.0.1:9@evil.example/messages",
    ] {
        let now = crate::test_start();
        let mut c = HttpClient::new(HttpClientConfig::new("http://127.0.0.1:9/sse"));
        c.handle_transmit(now, tx(initialize(0)));
        let r = one(&mut c);
        c.handle_response(now, r.id, 405, &[("content-type", "text/plain")]);
        c.handle_end(now, r.id);
        let g = one(&mut c);
        sse_head(&mut c, now, g.id);
        let event = format!("event: endpoint\ndata: {hostile}\n\n");
        c.handle_body(now, g.id, event.as_bytes());
        assert!(!c.is_legacy_sse(), "{hostile} was accepted");
        while let Some(r) = c.poll_request() {
            assert!(
                r.url.starts_with("http://127.0.0.1:9/"),
                "a request went to {} for {hostile}",
                r.url
            );
        }
        let m = messages(&mut c);
        assert_eq!(m[0]["id"], 0, "initialize fails: {m:?}");
        assert!(m[0]["error"].is_object());
    }
}

#[test]
fn origins_compare_scheme_host_and_port() {
    assert!(same_origin("http://h/a", "http://H:80/b"));
    assert!(same_origin("https://h:443/a", "https://h/b?x"));
    assert!(same_origin("http://[::1]:9/a", "http://[::1]:9/m"));
    assert!(!same_origin("http://[::1]:9/a", "http://[::1]:8/m"));
    assert!(!same_origin("http://h/a", "https://h/a"));
    assert!(!same_origin("http://h:1/a", "http://h:2/a"));
    assert!(!same_origin("http://h/a", "http://a@g/a"));
    assert!(!same_origin("http://h/a", "http:///a"));
}

#[test]
fn failed_fallback_reports_the_original_refusal() {
    let now = crate::test_start();
    let mut c = HttpClient::new(config());
    c.handle_transmit(now, tx(initialize(0)));
    let r = one(&mut c);
    json_head(&mut c, now, r.id, 400, &[]);
    c.handle_body(
        now,
        r.id,
        br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"nope"}}"#,
    );
    c.handle_end(now, r.id);
    let g = one(&mut c);
    c.handle_response(now, g.id, 405, &[] as &[(&str, &str)]);
    let m = messages(&mut c);
    assert_eq!(m[0]["id"], 0);
    assert_eq!(m[0]["error"]["message"], "nope");
}

#[test]
fn unauthorized_is_typed_and_fatal_before_the_handshake() {
    let now = crate::test_start();
    let mut c = HttpClient::new(config());
    c.handle_transmit(now, tx(probe(0)));
    let r = one(&mut c);
    c.handle_response(
        now,
        r.id,
        401,
        &[(
            "www-authenticate",
            "Bearer resource_metadata=\"http://x/.well-known\"",
        )],
    );
    c.handle_end(now, r.id);
    let want = HttpError::Unauthorized {
        www_authenticate: Some("Bearer resource_metadata=\"http://x/.well-known\"".into()),
    };
    assert_eq!(events(&mut c), vec![HttpClientEvent::Failed(want.clone())]);
    let m = messages(&mut c);
    let e: ErrorObject = serde_json::from_value(m[0]["error"].clone()).unwrap();
    assert_eq!(HttpError::from_error_object(&e), Some(want));
}

#[test]
fn probe_refused_by_a_legacy_server_reaches_the_session_as_an_error() {
    let now = crate::test_start();
    let mut c = HttpClient::new(config());
    c.handle_transmit(now, tx(probe(0)));
    let r = one(&mut c);
    json_head(&mut c, now, r.id, 400, &[]);
    c.handle_body(now, r.id, br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}"#);
    c.handle_end(now, r.id);
    let m = messages(&mut c);
    assert_eq!(m[0]["id"], 0, "rewritten to the probe's id");
    assert!(
        events(&mut c).is_empty(),
        "not fatal: the session falls back"
    );
}

#[test]
fn oversized_bodies_fail_the_request() {
    let now = crate::test_start();
    let mut cfg = config();
    cfg.max_body_len = 64;
    let mut c = HttpClient::new(cfg);
    c.handle_transmit(now, tx(probe(0)));
    let r = one(&mut c);
    json_head(&mut c, now, r.id, 200, &[]);
    c.handle_body(now, r.id, &[b' '; 65]);
    assert_eq!(aborts(&mut c), vec![r.id]);
    let m = messages(&mut c);
    let e: ErrorObject = serde_json::from_value(m[0]["error"].clone()).unwrap();
    assert_eq!(
        HttpError::from_error_object(&e),
        Some(HttpError::BodyTooLarge { limit: 64 })
    );
}

#[test]
fn modern_stream_ending_early_fails_the_request() {
    let now = crate::test_start();
    let mut c = modern(now);
    c.handle_transmit(
        now,
        tx(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "x", "_meta": modern_meta()}})),
    );
    let r = one(&mut c);
    sse_head(&mut c, now, r.id);
    c.handle_body(now, r.id, b"id: 1\ndata: \n\n");
    c.handle_end(now, r.id);
    let m = messages(&mut c);
    let e: ErrorObject = serde_json::from_value(m[0]["error"].clone()).unwrap();
    assert_eq!(
        HttpError::from_error_object(&e),
        Some(HttpError::StreamEnded)
    );
    assert_eq!(c.poll_timeout(), None, "2026-07-28 streams are not resumed");
}

#[test]
fn endpoint_resolution() {
    assert_eq!(
        resolve_url("http://h:1/a/sse", "/messages?x=1").as_deref(),
        Some("http://h:1/messages?x=1")
    );
    assert_eq!(
        resolve_url("http://h:1/a/sse?q", "msg").as_deref(),
        Some("http://h:1/a/msg")
    );
    assert_eq!(
        resolve_url("https://h/a", "https://o/p").as_deref(),
        Some("https://o/p")
    );
    assert_eq!(resolve_url("http://h", "m").as_deref(), Some("http://h/m"));
    assert_eq!(
        resolve_url("http://h/x", "//o/p").as_deref(),
        Some("http://o/p")
    );
    assert_eq!(resolve_url("http://h/x", "a\nb"), None);
}

#[test]
fn header_mismatch_rereads_the_tools_and_sends_the_call_again() {
    let now = crate::test_start();
    let mut c = modern(now);
    let call = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
        "name": "sql", "arguments": {"region": "eu"}, "_meta": modern_meta()}});
    c.handle_transmit(now, tx(call));
    let r = one(&mut c);
    assert_eq!(
        r.header("mcp-param-region"),
        None,
        "annotations not known yet"
    );
    json_head(&mut c, now, r.id, 400, &[]);
    c.handle_body(
        now,
        r.id,
        br#"{"jsonrpc":"2.0","id":4,"error":{"code":-32020,"message":"Header mismatch"}}"#,
    );
    c.handle_end(now, r.id);
    assert!(messages(&mut c).is_empty());
    let list = one(&mut c);
    let body: Value = serde_json::from_slice(&list.body).unwrap();
    assert_eq!(body["method"], "tools/list");
    assert_eq!(list.header("mcp-method"), Some("tools/list"));
    assert_eq!(body["params"]["_meta"], modern_meta());
    json_head(&mut c, now, list.id, 200, &[]);
    let page = json!({"jsonrpc": "2.0", "id": body["id"], "result": {"tools": [
        {"name": "sql", "inputSchema": {"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"}}}}]}});
    c.handle_body(now, list.id, page.to_string().as_bytes());
    c.handle_end(now, list.id);
    assert!(messages(&mut c).is_empty(), "the re-read stays internal");
    let again = one(&mut c);
    assert_eq!(again.header("mcp-param-region"), Some("eu"));
    assert_eq!(again.body, r.body);
    // A second mismatch is the server's answer.
    json_head(&mut c, now, again.id, 400, &[]);
    c.handle_body(
        now,
        again.id,
        br#"{"jsonrpc":"2.0","id":4,"error":{"code":-32020,"message":"still"}}"#,
    );
    c.handle_end(now, again.id);
    assert!(requests(&mut c).is_empty());
    assert_eq!(messages(&mut c)[0]["error"]["message"], "still");
}

// ----- stalls ------------------------------------------------------------------------------

const S: Duration = Duration::from_secs(1);

/// Short, distinct stall limits: head 3 s, body 4 s, silence 5 s, keep-alives only 20 s.
fn stall_config() -> HttpClientConfig {
    let mut c = config();
    c.response_timeout = Some(3 * S);
    c.idle_timeout = Some(4 * S);
    c.stream_idle_timeout = Some(5 * S);
    c.stream_quiet_timeout = Some(20 * S);
    c
}

/// A legacy client (session `s1`) with its standalone stream open since `now`; returns the
/// stream's exchange.
fn legacy_streaming(now: Instant) -> (HttpClient, ExchangeId) {
    let mut c = HttpClient::new(stall_config());
    c.handle_transmit(now, tx(initialize(0)));
    let r = one(&mut c);
    json_head(&mut c, now, r.id, 200, &[("mcp-session-id", "s1")]);
    c.handle_body(now, r.id, &init_result(0));
    c.handle_end(now, r.id);
    assert_eq!(messages(&mut c).len(), 1);
    c.handle_transmit(now, tx(initialized()));
    let r = requests(&mut c);
    c.handle_response(now, r[0].id, 202, &[] as &[(&str, &str)]);
    c.handle_end(now, r[0].id);
    c.handle_sent(now, r[1].id);
    sse_head(&mut c, now, r[1].id);
    (c, r[1].id)
}

fn timed_out(m: &Value) -> Option<HttpError> {
    let e: ErrorObject = serde_json::from_value(m["error"].clone()).ok()?;
    HttpError::from_error_object(&e)
}

#[test]
fn a_notification_without_a_response_head_times_out_and_frees_its_connection() {
    let t0 = crate::test_start();
    let (mut c, stream) = legacy_streaming(t0);
    c.handle_transmit(
        t0,
        tx(json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"})),
    );
    let n = one(&mut c);
    assert_eq!(
        c.poll_timeout(),
        Some(t0 + 5 * S),
        "only the stream's silence runs until the request went out"
    );
    let t1 = t0 + S;
    c.handle_sent(t1, n.id);
    assert_eq!(c.poll_timeout(), Some(t1 + 3 * S));
    c.handle_body(t1 + S, stream, b": keep-alive\n");
    c.handle_timeout(t1 + 3 * S - Duration::from_millis(1));
    assert!(aborts(&mut c).is_empty());
    c.handle_timeout(t1 + 3 * S);
    assert_eq!(aborts(&mut c), vec![n.id], "the connection is given back");
    assert_eq!(
        events(&mut c),
        vec![HttpClientEvent::ExchangeFailed {
            what: "notifications/roots/list_changed".into(),
            error: HttpError::TimedOut {
                message: "no response head".into()
            },
        }]
    );
    assert_eq!(c.exchanges(), 1, "the stream stays");
}

#[test]
fn a_request_waits_for_its_head_as_long_as_the_session_allows() {
    let t0 = crate::test_start();
    let mut c = HttpClient::new(stall_config());
    c.handle_transmit(t0, tx(initialize(0)));
    let r = one(&mut c);
    c.handle_sent(t0, r.id);
    assert_eq!(
        c.poll_timeout(),
        None,
        "a JSON answer's head comes with the result; the session's timeout bounds it"
    );
    // The session gives up: cancelling the request aborts its exchange.
    c.handle_transmit(
        t0 + 60 * S,
        tx(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 0}})),
    );
    assert_eq!(aborts(&mut c), vec![r.id]);
}

#[test]
fn a_json_body_that_stops_fails_its_request_typed() {
    let t0 = crate::test_start();
    let mut c = HttpClient::new(stall_config());
    c.handle_transmit(t0, tx(initialize(0)));
    let r = one(&mut c);
    c.handle_sent(t0, r.id);
    json_head(&mut c, t0, r.id, 200, &[("mcp-session-id", "s1")]);
    c.handle_body(t0 + 2 * S, r.id, b"{\"jsonrpc\":\"2.0\",");
    assert_eq!(
        c.poll_timeout(),
        Some(t0 + 6 * S),
        "4 s after the last byte"
    );
    c.handle_timeout(t0 + 6 * S);
    assert_eq!(aborts(&mut c), vec![r.id]);
    let m = messages(&mut c);
    assert_eq!(
        timed_out(&m[0]),
        Some(HttpError::TimedOut {
            message: "the response body stopped".into()
        })
    );
    assert_eq!(c.exchanges(), 0);
}

#[test]
fn a_silent_standalone_stream_is_reopened_for_as_long_as_it_takes() {
    let t0 = crate::test_start();
    let (mut c, mut stream) = legacy_streaming(t0);
    let mut now = t0;
    // More cuts than `max_reconnects`: a server that answers the GET is never given up.
    for round in 0..15 {
        assert_eq!(c.poll_timeout(), Some(now + 5 * S), "round {round}");
        now += 5 * S;
        c.handle_timeout(now);
        assert_eq!(aborts(&mut c), vec![stream]);
        assert!(events(&mut c).is_empty(), "round {round}");
        let due = c.poll_timeout().expect("a reconnection is scheduled");
        assert!(due > now && due <= now + Duration::from_millis(40) + 2 * S);
        now = due;
        c.handle_timeout(now);
        let g = one(&mut c);
        assert_eq!(g.method, Method::Get);
        assert_eq!(g.header("mcp-session-id"), Some("s1"));
        c.handle_sent(now, g.id);
        sse_head(&mut c, now, g.id);
        stream = g.id;
    }
}

#[test]
fn keep_alives_keep_a_stream_open_until_the_quiet_limit() {
    let t0 = crate::test_start();
    let (mut c, stream) = legacy_streaming(t0);
    c.handle_body(t0, stream, b"id: e1\ndata: \n\n");
    let mut now = t0;
    for _ in 0..4 {
        now += 4 * S;
        c.handle_body(now, stream, b": keep-alive\n");
        c.handle_timeout(now);
        assert!(aborts(&mut c).is_empty(), "alive at {:?}", now - t0);
    }
    assert_eq!(c.poll_timeout(), Some(t0 + 20 * S));
    c.handle_timeout(t0 + 20 * S);
    assert_eq!(aborts(&mut c), vec![stream]);
    let due = c.poll_timeout().unwrap();
    c.handle_timeout(due);
    let g = one(&mut c);
    assert_eq!(
        g.header("last-event-id"),
        Some("e1"),
        "resumed where it was"
    );
}

#[test]
fn a_silent_resumable_response_stream_is_resumed() {
    let t0 = crate::test_start();
    let (mut c, _) = legacy_streaming(t0);
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "x"}});
    c.handle_transmit(t0, tx(call));
    let r = one(&mut c);
    c.handle_sent(t0, r.id);
    sse_head(&mut c, t0, r.id);
    c.handle_body(t0, r.id, b"id: ev-1\nretry: 100\ndata: \n\n");
    c.handle_timeout(t0 + 5 * S);
    assert!(aborts(&mut c).contains(&r.id));
    let due = c.poll_timeout().unwrap();
    c.handle_timeout(due);
    let gets: Vec<HttpRequest> = requests(&mut c)
        .into_iter()
        .filter(|g| g.header("last-event-id") == Some("ev-1"))
        .collect();
    assert_eq!(gets.len(), 1, "the call's stream resumed");
    assert!(messages(&mut c).is_empty(), "nothing failed");
}

#[test]
fn a_silent_stream_that_cannot_resume_fails_but_keep_alives_never_fail_it() {
    let t0 = crate::test_start();
    let mut cfg = stall_config();
    cfg.standalone_stream = false;
    let mut c = HttpClient::new(cfg);
    c.handle_transmit(t0, tx(probe(0)));
    let r = one(&mut c);
    json_head(&mut c, t0, r.id, 200, &[]);
    c.handle_body(t0, r.id, &discover_result(0));
    c.handle_end(t0, r.id);
    let _ = messages(&mut c);
    let listen = |id: i64| {
        tx(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "x", "_meta": modern_meta()}}))
    };
    // Keep-alives only, far past the quiet limit: left to the request's own timeout.
    c.handle_transmit(t0, listen(1));
    let a = one(&mut c);
    c.handle_sent(t0, a.id);
    sse_head(&mut c, t0, a.id);
    let mut now = t0;
    while now < t0 + 100 * S {
        now += 4 * S;
        c.handle_body(now, a.id, b": keep-alive\n");
        c.handle_timeout(now);
    }
    assert!(aborts(&mut c).is_empty());
    assert!(messages(&mut c).is_empty());
    // Nothing at all: the stream is dead and the call fails, typed.
    c.handle_transmit(now, listen(2));
    let b = one(&mut c);
    c.handle_sent(now, b.id);
    sse_head(&mut c, now, b.id);
    c.handle_body(now + 4 * S, a.id, b": keep-alive\n");
    c.handle_timeout(now + 5 * S);
    assert_eq!(aborts(&mut c), vec![b.id]);
    let m = messages(&mut c);
    assert_eq!(m[0]["id"], 2);
    assert_eq!(
        timed_out(&m[0]),
        Some(HttpError::TimedOut {
            message: "the stream went silent".into()
        })
    );
}

#[test]
fn a_huge_retry_is_clamped_to_the_backoff_cap() {
    let t0 = crate::test_start();
    let (mut c, stream) = legacy_streaming(t0);
    c.handle_body(t0, stream, b"id: e1\nretry: 99999999999\ndata: \n\n");
    c.handle_end(t0, stream);
    assert_eq!(
        c.poll_timeout(),
        Some(t0 + Duration::from_millis(40)),
        "backoff_max, not three years"
    );
    c.handle_timeout(t0 + Duration::from_millis(40));
    assert_eq!(one(&mut c).header("last-event-id"), Some("e1"));
}

#[test]
fn a_standalone_get_refused_with_409_is_tried_again() {
    let t0 = crate::test_start();
    let (mut c, stream) = legacy_streaming(t0);
    c.handle_end(t0, stream);
    let due = c.poll_timeout().unwrap();
    c.handle_timeout(due);
    let g = one(&mut c);
    c.handle_response(due, g.id, 409, &[] as &[(&str, &str)]);
    assert_eq!(aborts(&mut c), vec![g.id]);
    let again = c.poll_timeout().expect("tried again after backoff");
    c.handle_timeout(again);
    assert_eq!(one(&mut c).method, Method::Get);
}
