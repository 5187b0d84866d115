//! A deliberately stalling HTTP server (raw TCP on 127.0.0.1) against the HTTP client: it
//! answers the handshake, then never answers `notifications/initialized` and keeps the
//! standalone GET stream open without a byte. With a pool of two connections, both are
//! held; only the client's own deadlines (no response head, a silent stream) free them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use mcp_driver::http::client::{connect_http, BoxStream, HttpClientOptions};
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference, Timeout};
use mcp_driver::{BoxFuture, NoHandler, Runtime};
use serde_json::{json, Value};

use crate::http::Net;
use crate::Signal;

/// What the stalling server saw.
#[derive(Default)]
struct Seen {
    gets: Mutex<usize>,
    /// Set once the client closed a connection the server was stalling on.
    stalled_post_closed: Signal,
    /// Set at the second GET: the silent stream was given up and reopened.
    reopened: Signal,
}

/// Reads one HTTP/1.1 request: its head and its body (by `content-length`).
async fn read_request(s: &mut BoxStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let len = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < end + len {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[end..end + len].to_vec();
    buf.drain(..end + len);
    Some((head, body))
}

/// Waits until the peer closes the connection (reading and dropping whatever comes).
async fn until_closed(s: &mut BoxStream) {
    let mut chunk = [0u8; 4096];
    while matches!(s.read(&mut chunk).await, Ok(n) if n > 0) {}
}

async fn json_reply(s: &mut BoxStream, body: &Value, extra: &str) -> bool {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.is_ok() && s.write_all(body.as_bytes()).await.is_ok()
}

/// One connection of the stalling server.
async fn stalling_connection(mut s: BoxStream, seen: Arc<Seen>) {
    let mut buf = Vec::new();
    while let Some((head, body)) = read_request(&mut s, &mut buf).await {
        if head.starts_with("GET ") {
            let n = {
                let mut g = seen.gets.lock().unwrap_or_else(|p| p.into_inner());
                *g += 1;
                *g
            };
            if n >= 2 {
                seen.reopened.set();
            }
            let sse = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                       transfer-encoding: chunked\r\n\r\n";
            let _ = s.write_all(sse.as_bytes()).await;
            // Not a byte more, not even a keep-alive.
            return until_closed(&mut s).await;
        }
        if head.starts_with("DELETE ") {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await;
            continue;
        }
        let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let ok = match msg["method"].as_str() {
            Some("initialize") => {
                let result = json!({"jsonrpc": "2.0", "id": msg["id"], "result": {
                    "protocolVersion": msg["params"]["protocolVersion"],
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "stalling", "version": "0"}}});
                json_reply(&mut s, &result, "mcp-session-id: stall-1\r\n").await
            }
            Some("notifications/initialized") => {
                // Never answered: the connection is held until the client lets go of it.
                until_closed(&mut s).await;
                seen.stalled_post_closed.set();
                return;
            }
            Some("tools/call") => {
                let text = msg["params"]["arguments"]["text"].clone();
                let result = json!({"jsonrpc": "2.0", "id": msg["id"],
                    "result": {"content": [{"type": "text", "text": text}]}});
                json_reply(&mut s, &result, "").await
            }
            _ if msg.get("id").is_some() => {
                let result = json!({"jsonrpc": "2.0", "id": msg["id"], "result": {}});
                json_reply(&mut s, &result, "").await
            }
            _ => s
                .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                .await
                .is_ok(),
        };
        if !ok {
            return;
        }
    }
}

/// Runs `f`, or panics with `what` after `limit` (a bound on a hang, not a synchronisation).
async fn within<R: Runtime, T>(
    rt: &R,
    limit: Duration,
    what: &str,
    f: impl std::future::Future<Output = T>,
) -> T {
    let deadline = rt.sleep_until(rt.now() + limit);
    futures_lite::future::or(f, async move {
        deadline.await;
        panic!("{what}: not within {limit:?}")
    })
    .await
}

/// A server that stalls a notification's response and keeps a silent stream cannot hold
/// the client's two connections: the notification's exchange ends at the response
/// deadline (its connection closed), the silent stream is reopened, and a call goes
/// through. Before these deadlines the call waited for a connection until its own
/// timeout.
pub async fn http_a_stalled_server_cannot_hold_the_client<R: Runtime, N: Net<R>>(rt: R, net: N) {
    let seen = Arc::new(Seen::default());
    let s2 = seen.clone();
    let addr = net
        .listen(Arc::new(move |stream| {
            Box::pin(stalling_connection(stream, s2.clone())) as BoxFuture<'static, ()>
        }))
        .await;
    let url = format!("http://{addr}/mcp");
    let mut cfg = ClientConfig::new(Implementation::new("suite-client", "1"));
    cfg.era = EraPreference::Legacy;
    cfg.request_timeout = Timeout::fixed(Duration::from_secs(10));
    let options = HttpClientOptions::default()
        .with_max_connections(2)
        .with_response_timeout(Some(Duration::from_millis(300)))
        .with_idle_timeout(Some(Duration::from_millis(300)))
        .with_stream_idle_timeout(Some(Duration::from_millis(400)));
    let client = connect_http(
        rt.clone(),
        net.connector(),
        &url,
        cfg,
        Arc::new(NoHandler),
        options,
    )
    .await
    .unwrap_or_else(|e| panic!("connect to the stalling server: {e}"));
    let started = rt.now();
    let r = client
        .call_tool("echo", json!({"text": "through"}))
        .await
        .unwrap_or_else(|e| panic!("a call past a stalled server: {e}"));
    assert_eq!(r.content[0].as_text(), Some("through"));
    eprintln!(
        "stalled server: a call got through after {:?}",
        rt.now() - started
    );
    within(
        &rt,
        Duration::from_secs(10),
        "the stalled POST's connection closed by the client",
        seen.stalled_post_closed.wait(),
    )
    .await;
    within(
        &rt,
        Duration::from_secs(10),
        "the silent stream reopened",
        seen.reopened.wait(),
    )
    .await;
    client.close();
}
