//! Stream slots over real HTTP on 127.0.0.1: one client that opens response streams until it
//! is refused must leave room for another.
//!
//! "One client" is what the server can tell apart: a legacy session (capped per session,
//! 429) or, for 2026-07-28 requests, which carry no identity, the class of listening streams
//! (capped together, 503, below the server-wide cap). The greedy client here speaks raw
//! HTTP/1.1 and never lets go of a stream; the well-behaved clients are the SDK's own.

use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use mcp_driver::http::client::{connect_http, BoxStream, HttpClientOptions};
use mcp_driver::http::server::HttpService;
use mcp_driver::mcp_proto::http::HttpServerConfig;
use mcp_driver::mcp_proto::schema::messages::ServerNotification;
use mcp_driver::mcp_proto::schema::subscriptions::SubscriptionFilter;
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_driver::{Client, NoHandler, Runtime};
use serde_json::json;

use crate::http::{serve, Net};
use crate::{fixture_service, Fixture};

const PER_SESSION: usize = 3;
const LISTENING: usize = 4;
const STREAMS: usize = 12;

/// A response head: status and lowercase header lines; the connection stays open.
struct Head {
    status: u16,
    text: String,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim())
        })
    }
}

/// Sends one request on a connection of its own and reads its response head (the body,
/// an SSE stream perhaps, is left unread: the stream stays open for as long as the
/// connection does).
async fn open<R: Runtime>(
    net: &impl Net<R>,
    port: u16,
    method: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (BoxStream, Head) {
    let mut s = net
        .connector()
        .connect("127.0.0.1", port)
        .await
        .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
    let mut req = format!(
        "{method} /mcp HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.expect("the server reads");
    let mut raw = Vec::new();
    let mut chunk = [0u8; 1024];
    let end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).await.expect("the server answers");
        assert!(n > 0, "the server closed before a response head");
        raw.extend_from_slice(&chunk[..n]);
    };
    let text = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text}"));
    (s, Head { status, text })
}

const LEGACY: &str = "2025-11-25";

fn legacy_headers(session: &str) -> [(&str, &str); 4] {
    [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", LEGACY),
        ("mcp-session-id", session),
    ]
}

/// A well-behaved SDK client of `era`; returns it once it answered a call, with how long
/// connecting and the call took together.
async fn served<R: Runtime>(
    rt: &R,
    net: &impl Net<R>,
    url: &str,
    era: EraPreference,
) -> (Client, Duration) {
    let started = rt.now();
    let mut cfg = ClientConfig::new(Implementation::new("polite", "1"));
    cfg.era = era;
    let client = connect_http(
        rt.clone(),
        net.connector(),
        url,
        cfg,
        std::sync::Arc::new(NoHandler),
        HttpClientOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{era:?}: a second client is locked out: {e}"));
    let r = client
        .call_tool("echo", json!({"text": "served"}))
        .await
        .unwrap_or_else(|e| panic!("{era:?}: a second client's call failed: {e}"));
    assert_eq!(r.content[0].as_text(), Some("served"));
    (client, rt.now() - started)
}

/// A greedy client opens streams until it is refused, in both eras; a well-behaved client
/// is served all the same.
///
/// - Legacy: one session holds `held` calls (each an SSE response that never ends) until
///   a call gets 429 at the per-session cap; a new SDK session then connects and calls.
/// - 2026-07-28: `subscriptions/listen` streams until one gets 503 at the cap on listening
///   streams; an SDK client then calls (its requests are not listening streams).
pub async fn http_one_client_at_its_stream_limit_does_not_lock_out_another<
    R: Runtime,
    N: Net<R>,
>(
    rt: R,
    net: N,
) {
    let started = rt.now();
    let fixture = Fixture::default();
    let config = HttpServerConfig::default()
        .with_max_streams_per_session(PER_SESSION)
        .with_max_listen_streams(LISTENING)
        .with_max_streams(STREAMS);
    let http = HttpService::new(rt.clone(), fixture_service(&fixture), config);
    let url = serve(&net, http.clone()).await;
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/mcp")
        .parse()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let mut held: Vec<BoxStream> = Vec::new();

    // Legacy: one session, streams until refused.
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": LEGACY, "capabilities": {},
        "clientInfo": {"name": "greedy", "version": "1"}}});
    let (s, head) = open(
        &net,
        port,
        "POST",
        &[
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ],
        &init.to_string(),
    )
    .await;
    assert_eq!(head.status, 200, "{}", head.text);
    let session = head
        .header("mcp-session-id")
        .unwrap_or_else(|| panic!("no session id: {}", head.text))
        .to_owned();
    drop(s);
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (_, head) = open(
        &net,
        port,
        "POST",
        &legacy_headers(&session),
        &note.to_string(),
    )
    .await;
    assert_eq!(head.status, 202, "{}", head.text);
    let refused = loop {
        let call = json!({"jsonrpc": "2.0", "id": held.len(), "method": "tools/call",
            "params": {"name": "held", "arguments": {},
                "_meta": {"progressToken": held.len()}}});
        let (s, head) = open(
            &net,
            port,
            "POST",
            &legacy_headers(&session),
            &call.to_string(),
        )
        .await;
        if head.status != 200 {
            break head;
        }
        held.push(s);
        assert!(
            held.len() <= PER_SESSION,
            "one session holds {} streams",
            held.len()
        );
    };
    let legacy_phase = rt.now() - started;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert!(refused.header("retry-after").is_some(), "{}", refused.text);
    assert_eq!(held.len(), PER_SESSION);
    let (legacy_client, legacy_latency) = served(&rt, &net, &url, EraPreference::Legacy).await;

    // 2026-07-28: listening streams until refused. The greedy client is an SDK client
    // here: each `subscriptions/listen` it opens is acknowledged first, or ends at once when
    // the server refuses it.
    let (greedy, _) = served(&rt, &net, &url, EraPreference::Modern).await;
    let mut subs = Vec::new();
    let ended = loop {
        let filter = SubscriptionFilter {
            tools_list_changed: Some(true),
            ..Default::default()
        };
        let mut sub = greedy
            .listen(filter)
            .unwrap_or_else(|e| panic!("listen: {e}"));
        match sub.next().await {
            Some(ServerNotification::SubscriptionsAcknowledged(_)) => subs.push(sub),
            other => break other,
        }
        assert!(subs.len() <= LISTENING, "{} listening streams", subs.len());
    };
    assert!(
        ended.is_none(),
        "a refused listen yields nothing: {ended:?}"
    );
    let listening = subs.len();
    let modern_phase = rt.now() - started;
    assert!(listening >= 1, "no listening stream was admitted");
    let (modern_client, modern_latency) = served(&rt, &net, &url, EraPreference::Modern).await;
    // The first well-behaved client is still served too.
    let r = legacy_client
        .call_tool("echo", json!({"text": "still"}))
        .await
        .unwrap_or_else(|e| panic!("the legacy client after the listen flood: {e}"));
    assert_eq!(r.content[0].as_text(), Some("still"));

    eprintln!(
        "stream limits: one legacy session held {PER_SESSION} streams and got 429, then a new \
         session connected and called in {legacy_latency:?}; {listening} listening streams \
         (cap {LISTENING}) then 503, then a 2026-07-28 client connected and called in \
         {modern_latency:?} (the greedy client was refused after {legacy_phase:?} and \
         {modern_phase:?})"
    );
    drop(held);
    drop(subs);
    for c in [greedy, modern_client, legacy_client] {
        c.close();
        c.closed().await;
    }
    http.close_sessions();
}
