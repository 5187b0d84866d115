//! The streamable HTTP server end to end on 127.0.0.1, driven by a plain hyper client so
//! every status, header and SSE event is visible: legacy resumption without loss, 2026-07-28
//! cancellation by closing the stream, refusals under load (sessions, body size, Host), and
//! idle expiry freeing the session.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use hyper::body::{Body as _, Incoming};
use mcp_tokio::mcp_driver::{
    BoxFuture, Handler, HandlerResult, RequestCx, Runtime, Server, ServerHandle, Service, State,
    WeakServerHandle,
};
use mcp_tokio::mcp_proto::codec::sse::{SseDecoder, SseItem};
use mcp_tokio::mcp_proto::schema::messages::ClientRequest;
use mcp_tokio::{HttpServerConfig, HttpService, TokioRuntime};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

#[path = "support/http.rs"]
mod support;
use support::{read_all, Conn};

const GUARD: Duration = Duration::from_secs(20);
const LEGACY: &str = "2025-11-25";
const MODERN: &str = "2026-07-28";

/// Lets the test hold the slow tool at a point of its choosing.
#[derive(Clone, Default)]
struct Gate(Arc<Notify>);

/// Tells the test a handler saw its cancellation.
#[derive(Clone)]
struct Cancelled(mpsc::UnboundedSender<()>);

fn service() -> (Service, mpsc::UnboundedReceiver<()>, Gate) {
    let gate = Gate::default();
    let (tx, rx) = mpsc::unbounded_channel();
    let service = Server::builder("http-test", "1.0.0")
        .state(gate.clone())
        .state(Cancelled(tx))
        .tool("echo", "Echoes", || async { Ok("echo") })
        .tool(
            "staged",
            "Two progress reports, waits for the gate, two more, then answers",
            |cx: RequestCx, State(gate): State<Gate>| async move {
                let _ = cx.progress(1.0, Some(4.0), None);
                let _ = cx.progress(2.0, Some(4.0), None);
                gate.0.notified().await;
                let _ = cx.progress(3.0, Some(4.0), None);
                let _ = cx.progress(4.0, Some(4.0), None);
                Ok("staged done")
            },
        )
        .tool(
            "forever",
            "Reports progress, then waits until cancelled",
            |cx: RequestCx, State(c): State<Cancelled>| async move {
                let _ = cx.progress(1.0, None, None);
                cx.cancelled().await;
                let _ = c.0.send(());
                Ok("unreachable")
            },
        )
        .build();
    (service, rx, gate)
}

/// Reads SSE events (id, JSON data) until `n` carry data; the priming event is returned
/// too (with `Value::Null`).
async fn read_events(body: &mut Incoming, n: usize) -> Vec<(String, Value)> {
    let mut dec = SseDecoder::new(1 << 20);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut with_data = 0;
    while with_data < n {
        while let Some(item) = dec.decode(&mut buf) {
            if let SseItem::Event(ev) = item.unwrap() {
                let data = if ev.data.is_empty() {
                    Value::Null
                } else {
                    with_data += 1;
                    serde_json::from_str(&ev.data).unwrap()
                };
                out.push((ev.id.unwrap_or_default(), data));
            }
        }
        if with_data >= n {
            break;
        }
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx))
            .await
            .expect("stream ended early")
            .unwrap();
        if let Ok(d) = frame.into_data() {
            buf.extend_from_slice(&d);
        }
    }
    out
}

fn init_body() -> String {
    json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name":"t","version":"1"}}})
    .to_string()
}

/// Opens a legacy session; returns its id.
fn as_refs<'a>(h: &'a [(&'static str, String); 2]) -> [(&'static str, &'a str); 2] {
    [(h[0].0, h[0].1.as_str()), (h[1].0, h[1].1.as_str())]
}

async fn open_session(conn: &mut Conn) -> String {
    let resp = conn.send("POST", &[], init_body()).await;
    assert_eq!(resp.status(), 200);
    let id = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    read_all(resp.into_body()).await;
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string();
    let resp = conn
        .send(
            "POST",
            &[("mcp-session-id", &id), ("mcp-protocol-version", LEGACY)],
            note,
        )
        .await;
    assert_eq!(resp.status(), 202);
    id
}

async fn listen(service: Service, config: HttpServerConfig) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mcp_tokio::serve_http(listener, service, config));
    addr
}

#[tokio::test]
async fn a_dropped_legacy_stream_resumes_without_losing_a_message() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_dropped_legacy_stream_resumes_without_losing_a_message",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, _cancelled, gate) = service();
                let addr = listen(service, HttpServerConfig::default()).await;
                let mut conn = Conn::open(addr).await;
                let session = open_session(&mut conn).await;
                let call = json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{
            "name":"staged","arguments":{},"_meta":{"progressToken":"p"}}})
                .to_string();
                let hdrs = [
                    ("mcp-session-id", session.as_str()),
                    ("mcp-protocol-version", LEGACY),
                ];
                let resp = conn.send("POST", &hdrs, call).await;
                assert_eq!(resp.status(), 200);
                assert_eq!(resp.headers()["content-type"], "text/event-stream");
                let mut body = resp.into_body();
                let first = read_events(&mut body, 2).await;
                let progress: Vec<f64> = first
                    .iter()
                    .filter_map(|(_, v)| v["params"]["progress"].as_f64())
                    .collect();
                assert_eq!(progress, [1.0, 2.0]);
                let last_id = first.last().unwrap().0.clone();
                // The network drops; meanwhile the tool goes on.
                drop(body);
                conn.kill();
                gate.0.notify_one();

                let mut conn = Conn::open(addr).await;
                let resp = conn
                    .send(
                        "GET",
                        &[
                            ("mcp-session-id", session.as_str()),
                            ("mcp-protocol-version", LEGACY),
                            ("last-event-id", last_id.as_str()),
                        ],
                        String::new(),
                    )
                    .await;
                assert_eq!(resp.status(), 200);
                let mut body = resp.into_body();
                let rest = read_events(&mut body, 3).await;
                let values: Vec<&Value> = rest.iter().map(|(_, v)| v).collect();
                assert_eq!(values[0]["params"]["progress"], 3.0);
                assert_eq!(values[1]["params"]["progress"], 4.0);
                assert_eq!(values[2]["id"], 5);
                assert_eq!(values[2]["result"]["content"][0]["text"], "staged done");
                // Event ids continue where the client left off: nothing skipped, nothing repeated.
                let seq = |id: &str| id.split(':').nth(1).unwrap().parse::<u64>().unwrap();
                let next: Vec<u64> = rest.iter().map(|(id, _)| seq(id)).collect();
                let from = seq(&last_id);
                assert_eq!(next, [from + 1, from + 2, from + 3]);
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn closing_a_2026_response_stream_cancels_the_request() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "closing_a_2026_response_stream_cancels_the_request",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, mut cancelled, _gate) = service();
                let addr = listen(service, HttpServerConfig::default()).await;
                let mut conn = Conn::open(addr).await;
                let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
            "name":"forever","arguments":{},"_meta":{
                "progressToken": 9,
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {}}}})
                .to_string();
                let hdrs = [
                    ("mcp-protocol-version", MODERN),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "forever"),
                ];
                let resp = conn.send("POST", &hdrs, call).await;
                assert_eq!(resp.status(), 200);
                let mut body = resp.into_body();
                let events = read_events(&mut body, 1).await;
                assert_eq!(events[0].1["method"], "notifications/progress");
                drop(body);
                conn.kill();
                cancelled
                    .recv()
                    .await
                    .expect("the handler saw its cancellation");
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn floods_evict_idle_sessions_and_oversized_bodies_are_refused() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "floods_evict_idle_sessions_and_oversized_bodies_are_refused",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, _c, _g) = service();
                let config = HttpServerConfig::default()
                    .with_max_sessions(2)
                    .with_max_body(2048);
                let addr = listen(service, config).await;
                let mut conn = Conn::open(addr).await;
                let a = open_session(&mut conn).await;
                let b = open_session(&mut conn).await;
                let ping = |id: u32| json!({"jsonrpc":"2.0","id":id,"method":"ping"}).to_string();
                let on = |s: &str| {
                    [
                        ("mcp-session-id", s.to_owned()),
                        ("mcp-protocol-version", LEGACY.to_owned()),
                    ]
                };
                let resp = conn.send("POST", &as_refs(&on(&a)), ping(1)).await;
                assert_eq!(resp.status(), 200);
                read_all(resp.into_body()).await;
                // The table is full: a newcomer is served, and the least recently used idle session
                // (b) makes room for it. Before the endpoint, this was a 503 for every newcomer.
                let third = conn.send("POST", &[], init_body()).await;
                assert_eq!(third.status(), 200);
                read_all(third.into_body()).await;
                let resp = conn.send("POST", &as_refs(&on(&b)), ping(2)).await;
                assert_eq!(resp.status(), 404);
                read_all(resp.into_body()).await;
                // The third never sent a second message: the next newcomer displaces it, not `a`.
                let fourth = conn.send("POST", &[], init_body()).await;
                assert_eq!(fourth.status(), 200);
                read_all(fourth.into_body()).await;

                let big = json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{
            "name":"echo","arguments":{"pad":"x".repeat(4096)}}})
                .to_string();
                let hdrs = [
                    ("mcp-session-id", a.as_str()),
                    ("mcp-protocol-version", LEGACY),
                ];
                let resp = conn.send("POST", &hdrs, big).await;
                assert_eq!(resp.status(), 413);
                read_all(resp.into_body()).await;

                let mut evil = Conn::open(addr).await;
                let evil_host = [
                    ("host", "evil.example.com"),
                    ("content-type", "application/json"),
                ];
                let resp = evil.request("POST", "/mcp", &evil_host, init_body()).await;
                assert_eq!(resp.status(), 403);

                // The existing session is unaffected.
                let call = json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{
            "name":"echo","arguments":{}}})
                .to_string();
                let resp = conn.send("POST", &hdrs, call).await;
                assert_eq!(resp.status(), 200);
                let body: Value =
                    serde_json::from_slice(&read_all(resp.into_body()).await).unwrap();
                assert_eq!(body["result"]["content"][0]["text"], "echo");
            })
            .await
            .unwrap();
        },
    )
    .await
}

/// Tokio's runtime with a clock the test moves forward.
#[derive(Clone, Default)]
struct SkewedClock(Arc<Mutex<Duration>>);

impl Runtime for SkewedClock {
    fn now(&self) -> Instant {
        TokioRuntime.now() + *self.0.lock().unwrap()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        let skew = *self.0.lock().unwrap();
        TokioRuntime.sleep_until(deadline.checked_sub(skew).unwrap_or(deadline))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        TokioRuntime.spawn(future)
    }
}

/// Keeps a weak handle on every session the server announces.
struct Watch {
    inner: Arc<dyn Handler>,
    seen: Arc<Mutex<Vec<WeakServerHandle>>>,
}

impl Handler for Watch {
    fn handle(&self, request: ClientRequest, cx: RequestCx) -> BoxFuture<'static, HandlerResult> {
        self.inner.handle(request, cx)
    }

    fn on_connection(&self, handle: ServerHandle) {
        self.seen.lock().unwrap().push(handle.downgrade());
        self.inner.on_connection(handle);
    }
}

#[tokio::test]
async fn an_idle_session_expires_and_its_memory_is_freed() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "an_idle_session_expires_and_its_memory_is_freed",
        async move {
            tokio::time::timeout(GUARD, async {
                let (mut service, _c, _g) = service();
                let seen = Arc::new(Mutex::new(Vec::new()));
                service.handler = Arc::new(Watch {
                    inner: service.handler.clone(),
                    seen: seen.clone(),
                });
                let idle = Duration::from_secs(60);
                let config = HttpServerConfig::default().with_session_idle_timeout(idle);
                let clock = SkewedClock::default();
                let http = HttpService::new(clock.clone(), service, config);
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                tokio::spawn(mcp_tokio::serve_http_with(listener, http.clone()));
                let mut conn = Conn::open(addr).await;
                let session = open_session(&mut conn).await;
                assert_eq!(http.session_count(), 1);
                let weak = seen.lock().unwrap()[0].clone();

                // Not before its time...
                *clock.0.lock().unwrap() = idle - Duration::from_secs(1);
                assert_eq!(http.expire_idle(), 0);
                // ...but after.
                *clock.0.lock().unwrap() = idle + Duration::from_secs(1);
                assert_eq!(http.expire_idle(), 1);
                assert_eq!(http.session_count(), 0);
                while !weak.is_freed() {
                    tokio::task::yield_now().await;
                }
                let hdrs = [
                    ("mcp-session-id", session.as_str()),
                    ("mcp-protocol-version", LEGACY),
                ];
                let ping = json!({"jsonrpc":"2.0","id":9,"method":"ping"}).to_string();
                let resp = conn.send("POST", &hdrs, ping).await;
                assert_eq!(resp.status(), 404);
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn json_response_mode_answers_every_request_with_json() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "json_response_mode_answers_every_request_with_json",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, _c, gate) = service();
                let config = HttpServerConfig::default().with_json_response(true);
                let addr = listen(service, config).await;
                let mut conn = Conn::open(addr).await;
                let session = open_session(&mut conn).await;
                // The staged tool reports progress before answering; JSON mode drops the reports
                // and answers with one JSON body.
                gate.0.notify_one();
                let call = json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{
            "name":"staged","arguments":{},"_meta":{"progressToken":"p"}}})
                .to_string();
                let hdrs = [
                    ("mcp-session-id", session.as_str()),
                    ("mcp-protocol-version", LEGACY),
                ];
                let resp = conn.send("POST", &hdrs, call).await;
                assert_eq!(resp.status(), 200);
                assert_eq!(resp.headers()["content-type"], "application/json");
                let body: Value =
                    serde_json::from_slice(&read_all(resp.into_body()).await).unwrap();
                assert_eq!(body["result"]["content"][0]["text"], "staged done");
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn stateless_mode_serves_without_sessions() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "stateless_mode_serves_without_sessions",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, _c, _g) = service();
                let config = HttpServerConfig::default().with_stateless(true);
                let addr = listen(service, config).await;
                let mut conn = Conn::open(addr).await;
                let resp = conn.send("POST", &[], init_body()).await;
                assert_eq!(resp.status(), 200);
                assert!(resp.headers().get("mcp-session-id").is_none());
                let body: Value =
                    serde_json::from_slice(&read_all(resp.into_body()).await).unwrap();
                assert_eq!(body["result"]["protocolVersion"], LEGACY);
                // Any later request stands on its own, with only the version header.
                let call = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{
            "name":"echo","arguments":{}}})
                .to_string();
                let resp = conn
                    .send("POST", &[("mcp-protocol-version", LEGACY)], call)
                    .await;
                assert_eq!(resp.status(), 200);
                let body: Value =
                    serde_json::from_slice(&read_all(resp.into_body()).await).unwrap();
                assert_eq!(body["result"]["content"][0]["text"], "echo");
                // There is no GET stream to open.
                let resp = conn.send("GET", &[], String::new()).await;
                assert_eq!(resp.status(), 405);
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn open_streams_are_capped_server_wide() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "open_streams_are_capped_server_wide",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, mut cancelled, _g) = service();
                let config = HttpServerConfig::default().with_max_streams(1);
                let addr = listen(service, config).await;
                let modern = |id: u32, name: &str| {
                    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{
                "name":name,"arguments":{},"_meta":{
                    "progressToken": id,
                    "io.modelcontextprotocol/protocolVersion": MODERN,
                    "io.modelcontextprotocol/clientCapabilities": {}}}})
                    .to_string()
                };
                let hdrs = |name: &'static str| {
                    [
                        ("mcp-protocol-version", MODERN),
                        ("mcp-method", "tools/call"),
                        ("mcp-name", name),
                    ]
                };
                let mut first = Conn::open(addr).await;
                let resp = first
                    .send("POST", &hdrs("forever"), modern(1, "forever"))
                    .await;
                assert_eq!(resp.status(), 200);
                let mut body = resp.into_body();
                read_events(&mut body, 1).await;

                let mut second = Conn::open(addr).await;
                let resp = second.send("POST", &hdrs("echo"), modern(2, "echo")).await;
                assert_eq!(resp.status(), 503);
                read_all(resp.into_body()).await;

                // Once the long request ends, there is room again.
                drop(body);
                first.kill();
                cancelled.recv().await.unwrap();
                loop {
                    let resp = second.send("POST", &hdrs("echo"), modern(3, "echo")).await;
                    let status = resp.status();
                    read_all(resp.into_body()).await;
                    if status == 200 {
                        break;
                    }
                    assert_eq!(status, 503);
                    tokio::task::yield_now().await;
                }
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn a_refused_handshake_leaves_no_session() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_refused_handshake_leaves_no_session",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, _c, _g) = service();
                let http = HttpService::new(TokioRuntime, service, HttpServerConfig::default());
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                tokio::spawn(mcp_tokio::serve_http_with(listener, http.clone()));
                let mut conn = Conn::open(addr).await;
                let bad = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"nope":1}})
                    .to_string();
                let resp = conn.send("POST", &[], bad).await;
                assert!(resp.headers().get("mcp-session-id").is_none());
                let body: Value =
                    serde_json::from_slice(&read_all(resp.into_body()).await).unwrap();
                assert!(body["error"]["code"].is_i64(), "{body}");
                assert_eq!(http.session_count(), 0);
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn a_duplicate_request_id_is_refused_and_the_first_still_answers() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_duplicate_request_id_is_refused_and_the_first_still_answers",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, _c, gate) = service();
                let addr = listen(service, HttpServerConfig::default()).await;
                let mut first = Conn::open(addr).await;
                let session = open_session(&mut first).await;
                let hdrs = [
                    ("mcp-session-id", session.as_str()),
                    ("mcp-protocol-version", LEGACY),
                ];
                let call = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{
            "name":"staged","arguments":{},"_meta":{"progressToken":"p"}}})
                .to_string();
                let resp = first.send("POST", &hdrs, call.clone()).await;
                let mut body = resp.into_body();
                read_events(&mut body, 2).await;
                let mut second = Conn::open(addr).await;
                let resp = second.send("POST", &hdrs, call).await;
                let dup: Value = serde_json::from_slice(&read_all(resp.into_body()).await).unwrap();
                assert_eq!(dup["error"]["code"], -32600, "{dup}");
                gate.0.notify_one();
                let rest = read_events(&mut body, 3).await;
                assert_eq!(
                    rest.last().unwrap().1["result"]["content"][0]["text"],
                    "staged done"
                );
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn graceful_shutdown_stops_accepting_refuses_new_requests_and_lets_calls_finish() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "graceful_shutdown_stops_accepting_refuses_new_requests_and_lets_calls_finish",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, _c, gate) = service();
                let http = HttpService::new(TokioRuntime, service, HttpServerConfig::default());
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let serving = tokio::spawn(mcp_tokio::serve_http_with(listener, http.clone()));
                let mut conn = Conn::open(addr).await;
                let session = open_session(&mut conn).await;
                let hdrs = [
                    ("mcp-session-id", session.as_str()),
                    ("mcp-protocol-version", LEGACY),
                ];
                let call = json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{
            "name":"staged","arguments":{},"_meta":{"progressToken":"p"}}})
                .to_string();
                let resp = conn.send("POST", &hdrs, call).await;
                assert_eq!(resp.status(), 200);
                let mut body = resp.into_body();
                read_events(&mut body, 2).await;
                let mut other = Conn::open(addr).await;

                let shutting = tokio::spawn({
                    let http = http.clone();
                    async move { http.shutdown(Duration::from_secs(60)).await }
                });
                // The accept loop ends and its listener with it.
                serving.await.unwrap().unwrap();
                assert!(tokio::net::TcpStream::connect(addr).await.is_err());
                // A new request on an open connection is refused.
                let resp = other
                    .send(
                        "POST",
                        &hdrs,
                        json!({"jsonrpc":"2.0","id":6,"method":"ping"}).to_string(),
                    )
                    .await;
                assert_eq!(resp.status(), 503);
                assert_eq!(resp.headers()["connection"], "close");
                assert!(!shutting.is_finished());
                // The call in flight finishes with its result, then shutdown completes.
                gate.0.notify_one();
                let rest = read_events(&mut body, 3).await;
                let last = &rest.last().unwrap().1;
                assert_eq!(
                    last["result"]["content"][0]["text"], "staged done",
                    "{last}"
                );
                shutting.await.unwrap();
                assert_eq!(http.session_count(), 0);
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn graceful_shutdown_cancels_what_outlives_the_grace() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "graceful_shutdown_cancels_what_outlives_the_grace",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, mut cancelled, _g) = service();
                let http = HttpService::new(TokioRuntime, service, HttpServerConfig::default());
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                tokio::spawn(mcp_tokio::serve_http_with(listener, http.clone()));
                let mut conn = Conn::open(addr).await;
                let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
            "name":"forever","arguments":{},"_meta":{
                "progressToken": 1,
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {}}}})
                .to_string();
                let hdrs = [
                    ("mcp-protocol-version", MODERN),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "forever"),
                ];
                let resp = conn.send("POST", &hdrs, call).await;
                assert_eq!(resp.status(), 200);
                let mut body = resp.into_body();
                read_events(&mut body, 1).await;
                http.shutdown(Duration::from_millis(50)).await;
                cancelled.recv().await.expect("the handler was cancelled");
                // Its stream ends.
                read_all(body).await;
                assert_eq!(http.open_streams(), 0);
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn a_2025_03_26_batch_is_answered_on_one_stream_and_refused_on_later_versions() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_2025_03_26_batch_is_answered_on_one_stream_and_refused_on_later_versions",
        async move {
            tokio::time::timeout(GUARD, async {
                let (service, _c, _g) = service();
                let addr = listen(service, HttpServerConfig::default()).await;
                let mut conn = Conn::open(addr).await;
                let init = |v: &str| {
                    json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
                "protocolVersion":v,"capabilities":{},"clientInfo":{"name":"b","version":"1"}}})
                    .to_string()
                };
                let resp = conn.send("POST", &[], init("2025-03-26")).await;
                assert_eq!(resp.status(), 200);
                let old = resp.headers()["mcp-session-id"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                read_all(resp.into_body()).await;
                let batch = json!([
            {"jsonrpc":"2.0","method":"notifications/initialized"},
            {"jsonrpc":"2.0","id":1,"method":"ping"},
            {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}},
        ])
        .to_string();
                let hdrs = [("mcp-session-id", old.as_str())];
                // Before: 202, and both answers were dropped.
                let resp = conn.send("POST", &hdrs, batch.clone()).await;
                assert_eq!(resp.status(), 200);
                assert_eq!(resp.headers()["content-type"], "text/event-stream");
                let mut body = resp.into_body();
                let events = read_events(&mut body, 2).await;
                let mut ids: Vec<i64> = events
                    .iter()
                    .filter_map(|(_, v)| v["id"].as_i64())
                    .collect();
                ids.sort();
                assert_eq!(ids, [1, 2]);
                let call = events.iter().find(|(_, v)| v["id"] == 2).unwrap();
                assert_eq!(call.1["result"]["content"][0]["text"], "echo");
                read_all(body).await;
                // Notifications only: nothing to answer.
                let notes = json!([{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}]);
                let resp = conn.send("POST", &hdrs, notes.to_string()).await;
                assert_eq!(resp.status(), 202);
                read_all(resp.into_body()).await;

                // 2025-06-18 removed batches: refused with a JSON-RPC error, not swallowed.
                let newer = open_session(&mut conn).await;
                let hdrs = [
                    ("mcp-session-id", newer.as_str()),
                    ("mcp-protocol-version", LEGACY),
                ];
                let resp = conn.send("POST", &hdrs, batch).await;
                assert_eq!(resp.status(), 400);
                let body: Value =
                    serde_json::from_slice(&read_all(resp.into_body()).await).unwrap();
                assert_eq!(body["error"]["code"], -32600, "{body}");
            })
            .await
            .unwrap();
        },
    )
    .await
}

/// Issue #14 item 5: the GET stream's events are kept when its connection drops, so a
/// resumption with `Last-Event-ID` gets every session message sent after it (before, the
/// stream and its events were forgotten on disconnect and the resumption got nothing).
#[tokio::test]
async fn a_dropped_get_stream_resumes_without_losing_a_session_message() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_dropped_get_stream_resumes_without_losing_a_session_message",
        async move {
            tokio::time::timeout(GUARD, async {
                let (mut service, _c, _g) = service();
                let seen = Arc::new(Mutex::new(Vec::new()));
                service.handler = Arc::new(Watch {
                    inner: service.handler.clone(),
                    seen: seen.clone(),
                });
                let http = HttpService::new(TokioRuntime, service, HttpServerConfig::default());
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                tokio::spawn(mcp_tokio::serve_http_with(listener, http.clone()));
                let mut conn = Conn::open(addr).await;
                let session = open_session(&mut conn).await;
                let handle = seen.lock().unwrap()[0].upgrade().unwrap();
                let log = |n: u32| {
                    handle.with_session(|s| {
                        let level = mcp_tokio::mcp_proto::schema::common::LoggingLevel::Info;
                        assert!(s.log(level, None, json!({ "n": n })).unwrap());
                    })
                };
                let hdrs = [
                    ("mcp-session-id", session.as_str()),
                    ("mcp-protocol-version", LEGACY),
                ];

                let mut get = Conn::open(addr).await;
                let resp = get.send("GET", &hdrs, String::new()).await;
                assert_eq!(resp.status(), 200);
                let mut body = resp.into_body();
                log(1);
                let first = read_events(&mut body, 1).await;
                assert_eq!(first.last().unwrap().1["params"]["data"]["n"], 1);
                let last_id = first.last().unwrap().0.clone();
                // Sent while the reader is still there, never read: then the network drops.
                log(2);
                log(3);
                drop(body);
                get.kill();
                while http.open_streams() > 0 {
                    tokio::task::yield_now().await;
                }
                log(4);

                let mut get = Conn::open(addr).await;
                let mut resume = hdrs.to_vec();
                resume.push(("last-event-id", last_id.as_str()));
                let resp = get.send("GET", &resume, String::new()).await;
                assert_eq!(resp.status(), 200);
                let mut body = resp.into_body();
                let rest = read_events(&mut body, 3).await;
                let got: Vec<&Value> = rest
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(_, v)| &v["params"]["data"]["n"])
                    .collect();
                assert_eq!(got, [2, 3, 4]);
            })
            .await
            .unwrap();
        },
    )
    .await
}
