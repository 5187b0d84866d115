//! Time and races at the edges of a request's life, on every runtime: a task's TTL (over
//! the in-process link and over streamable HTTP, on a clock the case moves by hand), and a
//! cancellation that crosses the response it tried to stop (the cancel reaches the server
//! after the result left it), end to end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_lite::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use mcp_driver::http::client::{connect_http, HttpClientOptions};
use mcp_driver::http::server::HttpService;
use mcp_driver::mcp_proto::http::HttpServerConfig;
use mcp_driver::mcp_proto::jsonrpc::code;
use mcp_driver::mcp_proto::schema::tasks::TaskStatus;
use mcp_driver::mcp_proto::schema::tools::Tool;
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_driver::{
    BoxFuture, Client, NoHandler, Runtime, Server, Service, TaskOptions, TaskSupport,
};
use serde_json::{json, Value};

use crate::pipe::{self, PipeReader, PipeWriter};
use crate::tasks::{client_config, rpc, task_service, text, Gates, ERAS, POLL};
use crate::{fixture_service, link_up, within, Fixture, Link};

const GUARD: Duration = Duration::from_secs(30);

/// A runtime whose clock the case moves forward by hand: the session sees time pass without
/// anyone waiting for it. Timers sleep for the matching real time.
#[derive(Clone)]
pub struct Shifted<R: Runtime> {
    rt: R,
    offset_ms: Arc<AtomicU64>,
}

impl<R: Runtime> Shifted<R> {
    /// `rt`'s clock, not yet moved.
    pub fn new(rt: R) -> Self {
        Shifted {
            rt,
            offset_ms: Arc::default(),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl<R: Runtime> Runtime for Shifted<R> {
    fn now(&self) -> Instant {
        self.rt.now() + self.offset()
    }

    fn wall(&self) -> SystemTime {
        self.rt.wall() + self.offset()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        let real = deadline
            .checked_sub(self.offset())
            .unwrap_or_else(|| self.rt.now());
        self.rt.sleep_until(real)
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        self.rt.spawn(future)
    }
}

const TTL: Duration = Duration::from_secs(60);

fn ttl_service() -> Service {
    Server::builder("ttl", "1")
        .task_tool_with(
            Tool::new("compute", "compute", Value::Null),
            TaskOptions::new(TaskSupport::Optional)
                .ttl(TTL)
                .poll_interval(POLL),
            || async { Ok("kept") },
        )
        .build()
}

/// A finished task's result outlives its TTL by not a moment: kept up to the end (on the
/// server's clock, moved by hand; a second of margin for the real time that runs on) and
/// gone from then on, with the error a task nobody knows gets.
async fn ttl_expires(client: &Client, clock: &Shifted<impl Runtime>, ctx: &str) {
    let task = client
        .call_tool_as_task("compute", json!({}))
        .await
        .unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert!(task.task_id().is_some(), "{ctx}: ran as a task");
    assert_eq!(text(&task.wait().await.unwrap()), "kept", "{ctx}");
    let info = task.status().await.unwrap();
    assert_eq!(
        (info.status, info.ttl),
        (TaskStatus::Completed, Some(TTL)),
        "{ctx}"
    );
    // Half the TTL, not all but a second: the shifted clock still runs in real time, so the
    // margin must outlast a loaded machine (it does: the guard is as long).
    clock.advance(TTL / 2);
    assert_eq!(
        text(&task.wait().await.unwrap()),
        "kept",
        "{ctx}: within the TTL"
    );
    clock.advance(TTL / 2);
    let gone = rpc(task.status().await.unwrap_err());
    assert_eq!(
        gone.code,
        code::INVALID_PARAMS,
        "{ctx}: after the TTL: {gone:?}"
    );
    let gone = rpc(task.result().await.unwrap_err());
    assert_eq!(
        gone.code,
        code::INVALID_PARAMS,
        "{ctx}: after the TTL: {gone:?}"
    );
}

/// A task's TTL in both eras, the server's session on a clock moved by hand.
pub async fn tasks_expire_after_their_ttl<R: Runtime>(rt: R, link: Link) {
    for era in ERAS {
        let clock = Shifted::new(rt.clone());
        let (client, _server) = link_up(
            clock.clone(),
            link,
            ttl_service(),
            client_config(era),
            Arc::new(NoHandler),
        )
        .await;
        ttl_expires(&client, &clock, &format!("{link:?}, {era:?}")).await;
    }
}

/// The same over streamable HTTP: the HTTP service (its sessions and task store) runs on the
/// clock moved by hand; the client on the runtime's own.
pub async fn http_tasks_expire_after_their_ttl<R: Runtime, N: crate::http::Net<R>>(rt: R, net: N) {
    for era in ERAS {
        let clock = Shifted::new(rt.clone());
        let http = HttpService::new(clock.clone(), ttl_service(), HttpServerConfig::default());
        let addr = net
            .listen(Arc::new(move |stream| {
                Box::pin(http.serve_connection(stream)) as BoxFuture<'static, ()>
            }))
            .await;
        let url = format!("http://{addr}/mcp");
        let client = connect_http(
            rt.clone(),
            net.connector(),
            &url,
            client_config(era),
            Arc::new(NoHandler),
            HttpClientOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("connect over HTTP failed: {e}"));
        ttl_expires(&client, &clock, &format!("HTTP, {era:?}")).await;
    }
}

/// Reads JSON-RPC lines.
struct Lines(BufReader<PipeReader>);

impl Lines {
    async fn next(&mut self, rt: &impl Runtime, what: &str) -> Value {
        let mut line = String::new();
        let n = within(rt, GUARD, what, self.0.read_line(&mut line))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(n > 0, "{what}: the stream ended");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line}"))
    }
}

async fn send(w: &mut PipeWriter, v: Value) {
    let mut line = v.to_string();
    line.push('\n');
    w.write_all(line.as_bytes()).await.expect("pipe open");
    w.flush().await.expect("pipe open");
}

/// Our server, a hand-written legacy client: `notifications/cancelled` for a request whose
/// result already went out changes nothing. The request got exactly one answer (its
/// result), no error follows for it, and the session answers the next request.
async fn server_side<R: Runtime>(rt: R) {
    let fixture = Fixture::default();
    let (cr, mut cw, sr, sw) = pipe::duplex();
    let (_server, conn) = mcp_driver::serve(rt.clone(), fixture_service(&fixture), sr, sw);
    rt.spawn(Box::pin(async move {
        let _ = conn.await;
    }));
    let mut from = Lines(BufReader::new(cr));
    send(
        &mut cw,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}}),
    )
    .await;
    let init = from.next(&rt, "initialize answered").await;
    assert_eq!(init["id"], 1, "{init}");
    send(
        &mut cw,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;

    send(
        &mut cw,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "crossed"}}}),
    )
    .await;
    let answer = from.next(&rt, "the call answered").await;
    assert_eq!(answer["id"], 2, "{answer}");
    assert_eq!(
        answer["result"]["content"][0]["text"], "crossed",
        "{answer}"
    );
    // The cancel the client sent before it saw that answer.
    send(
        &mut cw,
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 2, "reason": "crossed"}}),
    )
    .await;
    send(
        &mut cw,
        json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}),
    )
    .await;
    let next = from.next(&rt, "the ping answered").await;
    assert_eq!(
        (next["id"].clone(), next.get("error")),
        (json!(3), None),
        "nothing for request 2 after its result, then the ping's answer: {next}"
    );
}

/// Our client, a hand-written legacy server that writes its result only after the client's
/// cancel arrived (what a crossing looks like from the client): the late result is dropped
/// quietly, the client sends nothing more for that request, and its next call is answered.
async fn client_side<R: Runtime>(rt: R) {
    let (cr, cw, sr, mut sw) = pipe::duplex();
    let mut config = ClientConfig::new(Implementation::new("crossing", "1"));
    config.era = EraPreference::Legacy;
    let connecting = mcp_driver::connect(rt.clone(), config, Arc::new(NoHandler), cr, cw);
    let mut from = Lines(BufReader::new(sr));
    let server = async {
        let init = from.next(&rt, "initialize sent").await;
        assert_eq!(init["method"], "initialize", "{init}");
        send(
            &mut sw,
            json!({"jsonrpc": "2.0", "id": init["id"], "result": {
            "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
            "serverInfo": {"name": "raw-server", "version": "1"}}}),
        )
        .await;
        let initialized = from.next(&rt, "initialized sent").await;
        assert_eq!(initialized["method"], "notifications/initialized");
    };
    let (client, ()) = futures_lite::future::zip(connecting, server).await;
    let client = client.unwrap_or_else(|e| panic!("connect failed: {e}"));

    // The call goes out; it is dropped (cancelled) once the server has it.
    let call = client.call_tool("echo", json!({"text": "too late"}));
    let got = async {
        let request = from.next(&rt, "the call sent").await;
        assert_eq!(request["method"], "tools/call", "{request}");
        request
    };
    let never = async {
        let r = call.await;
        panic!("the call ended before it was cancelled: {r:?}")
    };
    let request: Value = futures_lite::future::or(never, got).await;
    let cancel = from.next(&rt, "the cancel sent").await;
    assert_eq!(cancel["method"], "notifications/cancelled", "{cancel}");
    assert_eq!(cancel["params"]["requestId"], request["id"], "{cancel}");
    // The result crosses the cancel.
    send(
        &mut sw,
        json!({"jsonrpc": "2.0", "id": request["id"],
        "result": {"content": [{"type": "text", "text": "too late"}]}}),
    )
    .await;

    // The client goes on: its next request is the next thing it sends, and it gets its
    // own answer.
    let call = client.call_tool("echo", json!({"text": "next"}));
    let server = async {
        let next = from.next(&rt, "the next call sent").await;
        assert_eq!(
            next["method"], "tools/call",
            "nothing else came first: {next}"
        );
        assert_ne!(next["id"], request["id"]);
        send(
            &mut sw,
            json!({"jsonrpc": "2.0", "id": next["id"],
            "result": {"content": [{"type": "text", "text": "next"}]}}),
        )
        .await;
    };
    let (r, ()) = within(
        &rt,
        GUARD,
        "the next call answered",
        futures_lite::future::zip(call, server),
    )
    .await;
    assert_eq!(text(&r.expect("the next call is answered")), "next");
}

/// A cancel crossing a plain response, from both sides of the wire: our server with a
/// hand-written client (the late cancel changes nothing), then our client with a
/// hand-written server (the late result is dropped quietly and the client goes on).
pub async fn a_cancel_crossing_a_response_changes_nothing<R: Runtime>(rt: R) {
    server_side(rt.clone()).await;
    client_side(rt).await;
}

/// A task cancelled after it completed, in both eras: the cancel is refused (the task is
/// over), the task stays completed, and its result is still there, the same each time.
pub async fn a_task_cancel_crossing_its_result_keeps_the_result<R: Runtime>(rt: R, link: Link) {
    for era in ERAS {
        let gates = Gates::default();
        let (client, _server) = link_up(
            rt.clone(),
            link,
            task_service(&gates),
            client_config(era),
            Arc::new(NoHandler),
        )
        .await;
        let task = client
            .call_tool_as_task("compute", json!({}))
            .await
            .unwrap();
        gates.release.set();
        assert_eq!(text(&task.wait().await.unwrap()), "42", "{era:?}");
        // 2025-11-25 refuses to cancel a finished task (-32602); the 2026-07-28 extension
        // acknowledges every cancel, the task ending as it would have.
        match (era, task.cancel().await) {
            (EraPreference::Legacy, Err(e)) => assert_eq!(rpc(e).code, code::INVALID_PARAMS),
            (EraPreference::Auto, Ok(())) => {}
            (era, other) => panic!("{era:?}: cancelling a finished task: {other:?}"),
        }
        assert_eq!(task.status().await.unwrap().status, TaskStatus::Completed);
        assert_eq!(text(&task.wait().await.unwrap()), "42", "{era:?}");
    }
}
