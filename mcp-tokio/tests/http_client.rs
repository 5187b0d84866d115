//! The streamable HTTP client on 127.0.0.1: against the TypeScript `server-everything` in its
//! streamable HTTP and its 2024-11-05 HTTP+SSE modes, against our own HTTP server in both
//! eras, and against small raw-TCP fakes for the failure paths (a dead server, an expired
//! session, a response stream cut mid-call).
//!
//! The TypeScript peer is installed by `scripts/install-peers`; without it those tests say so
//! and pass, unless `MCP_REQUIRE_INTEROP=1`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_tokio::mcp_driver::http::client::{BoxStream, Connector};
use mcp_tokio::mcp_driver::{BoxFuture, ClientHandler, NoHandler};
use mcp_tokio::mcp_proto::jsonrpc::{ErrorObject, RequestId};
use mcp_tokio::mcp_proto::schema::content::ContentBlock;
use mcp_tokio::mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_tokio::mcp_proto::schema::lifecycle::{
    ClientCapabilities, ElicitationCapability, RootsCapability, SamplingCapability,
};
use mcp_tokio::mcp_proto::schema::messages::ServerNotification;
use mcp_tokio::mcp_proto::schema::roots::ListRootsResult;
use mcp_tokio::mcp_proto::schema::sampling::{CreateMessageRequestParams, CreateMessageResult};
use mcp_tokio::mcp_proto::schema::{Era, Implementation};
use mcp_tokio::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_tokio::{
    connect_http, HttpClientEvent, HttpClientOptions, HttpConnectError, HttpError, TokioConnector,
    TokioRuntime,
};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const GUARD: Duration = Duration::from_secs(30);

fn config() -> ClientConfig {
    let mut cfg = ClientConfig::new(Implementation::new("mcp-rs-http-test", "0.1"));
    cfg.capabilities = ClientCapabilities {
        sampling: Some(SamplingCapability::default()),
        elicitation: Some(ElicitationCapability::default()),
        roots: Some(RootsCapability::default()),
        ..Default::default()
    };
    cfg
}

fn texts(content: &[ContentBlock]) -> String {
    content
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Plays the host: a canned model, a user who fills forms, one root.
#[derive(Default)]
struct Host {
    asked: Mutex<Vec<String>>,
    notifications: Mutex<Vec<ServerNotification>>,
    /// Signalled on every tool list change.
    changed: tokio::sync::Notify,
}

impl ClientHandler for Host {
    fn create_message(
        &self,
        p: CreateMessageRequestParams,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>> {
        self.asked
            .lock()
            .unwrap()
            .push(format!("sampling:{}", p.max_tokens));
        Box::pin(async {
            serde_json::from_value(json!({
                "role": "assistant",
                "content": {"type": "text", "text": "canned answer from the rust host"},
                "model": "rust-test-model",
                "stopReason": "endTurn"
            }))
            .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }

    fn elicit(
        &self,
        _p: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        self.asked.lock().unwrap().push("elicit".into());
        Box::pin(async {
            serde_json::from_value(json!({"action": "accept", "content": {"name": "Ada Lovelace"}}))
                .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }

    fn list_roots(&self) -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> {
        self.asked.lock().unwrap().push("roots".into());
        Box::pin(async {
            serde_json::from_value(
                json!({"roots": [{"uri": "file:///work/project", "name": "project"}]}),
            )
            .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }

    fn on_notification(&self, n: ServerNotification, _sub: Option<RequestId>) {
        if matches!(n, ServerNotification::ToolListChanged(_)) {
            self.changed.notify_waiters();
        }
        self.notifications.lock().unwrap().push(n);
    }
}

// ----- the TypeScript peer --------------------------------------------------------------------

fn peer() -> Option<PathBuf> {
    let path = std::env::var_os("MCP_SERVER_EVERYTHING_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
                "../.tools/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
            )
        });
    if path.is_file() {
        return Some(path);
    }
    let msg = format!(
        "server-everything not found at {}; run scripts/install-peers",
        path.display()
    );
    mcp_testsuite::interop_skip(&msg)
}

/// Starts `server-everything <mode>` on a free loopback port; returns once it listens.
async fn start_everything(js: &PathBuf, mode: &str) -> (tokio::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new("node")
        .arg(js)
        .arg(mode)
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::time::timeout(GUARD, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains(&port.to_string()) {
                break;
            }
        }
    })
    .await
    .expect("server-everything listens in time");
    // Keep draining its log so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_everything_over_streamable_http() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "typescript_everything_over_streamable_http",
        async move {
            let Some(js) = peer() else { return };
            let (_child, port) = start_everything(&js, "streamableHttp").await;
            let host = Arc::new(Host::default());
            let url = format!("http://127.0.0.1:{port}/mcp");
            let client = tokio::time::timeout(
                GUARD,
                connect_http(&url, config(), host.clone(), HttpClientOptions::default()),
            )
            .await
            .expect("connect in time")
            .expect("connected");
            // No server/discover there: the probe's refusal falls back to initialize.
            assert_eq!(client.server().era, Era::Legacy);
            assert_eq!(
                client.server().server_info.as_ref().unwrap().name,
                "mcp-servers/everything"
            );
            tokio::time::timeout(GUARD, async {
                // It adds its ask tools once the session is initialized, then says the list changed.
                let mut tools: Vec<String> = Vec::new();
                for _ in 0..50 {
                    let changed = host.changed.notified();
                    tools = client
                        .list_all_tools()
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|t| t.name)
                        .collect();
                    if tools.iter().any(|t| t == "trigger-sampling-request") {
                        break;
                    }
                    changed.await;
                }
                for expected in ["echo", "get-sum", "trigger-sampling-request"] {
                    assert!(
                        tools.iter().any(|t| t == expected),
                        "{expected} in {tools:?}"
                    );
                }
                let r = client
                    .call_tool("echo", json!({"message": "hello over http"}))
                    .await
                    .unwrap();
                assert_eq!(texts(&r.content), "Echo: hello over http");
                let r = client
                    .call_tool("get-sum", json!({"a": 2, "b": 40}))
                    .await
                    .unwrap();
                assert!(texts(&r.content).contains("42"), "{r:?}");

                let resources = client.list_all_resources().await.unwrap();
                let first = resources
                    .iter()
                    .find(|r| r.uri.starts_with("demo://resource/static/document/"))
                    .expect("a static document");
                let read = client.read_resource(&first.uri).await.unwrap();
                let body = serde_json::to_value(&read.contents[0]).unwrap();
                assert!(
                    body["text"].as_str().is_some_and(|t| !t.is_empty()),
                    "{body}"
                );

                let p = client
                    .get_prompt("args-prompt", &[("city", "Paris"), ("state", "IDF")])
                    .await
                    .unwrap();
                assert!(serde_json::to_string(&p.messages)
                    .unwrap()
                    .contains("Paris"));

                // Its asks arrive on the call's SSE stream; our answers go back as POSTs.
                let r = client
                    .call_tool(
                        "trigger-sampling-request",
                        json!({"prompt": "say hi", "maxTokens": 50}),
                    )
                    .await
                    .unwrap();
                assert!(texts(&r.content).contains("canned answer from the rust host"));
                let r = client
                    .call_tool("trigger-elicitation-request", json!({}))
                    .await
                    .unwrap();
                assert!(texts(&r.content).contains("Ada Lovelace"), "{r:?}");
                let r = client.call_tool("get-roots-list", json!({})).await.unwrap();
                assert!(texts(&r.content).contains("file:///work/project"), "{r:?}");
            })
            .await
            .expect("calls in time");
            let asked = host.asked.lock().unwrap().clone();
            assert!(asked.contains(&"sampling:50".to_owned()), "{asked:?}");
            assert!(asked.contains(&"elicit".to_owned()), "{asked:?}");
            client.close();
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_everything_over_2024_11_05_http_sse() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "typescript_everything_over_2024_11_05_http_sse",
        async move {
            let Some(js) = peer() else { return };
            let (_child, port) = start_everything(&js, "sse").await;
            let events = Arc::new(Mutex::new(Vec::new()));
            let seen = events.clone();
            let options = HttpClientOptions::default().with_on_event(Some(Arc::new(
                move |e: &HttpClientEvent| seen.lock().unwrap().push(e.clone()),
            )));
            let url = format!("http://127.0.0.1:{port}/sse");
            let client = tokio::time::timeout(
                GUARD,
                connect_http(&url, config(), Arc::new(Host::default()), options),
            )
            .await
            .expect("connect in time")
            .expect("connected over HTTP+SSE");
            assert!(events.lock().unwrap().iter().any(|e| matches!(
        e,
        HttpClientEvent::LegacySseTransport { endpoint } if endpoint.contains("/message?sessionId=")
    )));
            let r =
                tokio::time::timeout(GUARD, client.call_tool("echo", json!({"message": "old"})))
                    .await
                    .expect("in time")
                    .unwrap();
            assert_eq!(texts(&r.content), "Echo: old");
            client.close();
        },
    )
    .await
}

// ----- our own server -------------------------------------------------------------------------

async fn our_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (service, _control) = mcp_examples_common::everything_service(TokioRuntime);
    let config = mcp_examples_common::http_config(addr);
    tokio::spawn(mcp_tokio::serve_http(listener, service, config));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_in_both_eras() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "our_server_in_both_eras",
        async move {
            let addr = our_server().await;
            let url = format!("http://{addr}/mcp");
            for era in [EraPreference::Auto, EraPreference::Legacy] {
                let mut cfg = config();
                cfg.era = era;
                let host = Arc::new(Host::default());
                let client = tokio::time::timeout(
                    GUARD,
                    connect_http(&url, cfg, host.clone(), HttpClientOptions::default()),
                )
                .await
                .expect("connect in time")
                .expect("connected");
                let want = if era == EraPreference::Auto {
                    Era::Modern
                } else {
                    Era::Legacy
                };
                assert_eq!(client.server().era, want);
                tokio::time::timeout(GUARD, async {
                    let tools = client.list_all_tools().await.unwrap();
                    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
                    assert_eq!(
                        names,
                        [
                            "echo",
                            "add",
                            "long_running",
                            "sample",
                            "elicit",
                            "roots",
                            "fail",
                            "log",
                            "crunch",
                            "failing_job",
                            "approve"
                        ],
                        "{era:?}"
                    );
                    let r = client
                        .call_tool("echo", json!({"message": "both eras"}))
                        .await
                        .unwrap();
                    assert_eq!(texts(&r.content), "both eras", "{era:?}");
                    // Several calls at once, each on its own task, each with its own answer. (That
                    // they are in flight together, over a pool grown to one connection each, is
                    // the suite's http_concurrent_calls_grow_the_pool, on every runtime.)
                    let calls: Vec<_> = (0..8)
                        .map(|i| {
                            let c = client.clone();
                            tokio::spawn(async move {
                                c.call_tool("echo", json!({"message": format!("n{i}")}))
                                    .await
                            })
                        })
                        .collect();
                    for (i, call) in calls.into_iter().enumerate() {
                        let r = call.await.expect("the call's task").unwrap_or_else(|e| {
                            panic!("{era:?}: call {i}: {e:?}");
                        });
                        assert_eq!(texts(&r.content), format!("n{i}"), "{era:?}");
                    }
                    let resources = client.list_all_resources().await.unwrap();
                    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
                    assert_eq!(
                        uris,
                        [
                            "everything://static/readme",
                            "everything://static/bytes",
                            "everything://counter"
                        ],
                        "{era:?}"
                    );
                    let prompts = client.list_all_prompts().await.unwrap();
                    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
                    assert_eq!(names, ["simple", "greeting", "with_resource"], "{era:?}");
                })
                .await
                .expect("calls in time");
                client.close();
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_closing_the_stream_mid_call_is_resumed() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "our_server_closing_the_stream_mid_call_is_resumed",
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (service, _control) =
                mcp_examples_common::conformance::conformance_service(TokioRuntime);
            let config_http = mcp_examples_common::http_config(addr);
            tokio::spawn(mcp_tokio::serve_http(listener, service, config_http));
            // Between client and server, a proxy that keeps what the client sent.
            let (proxy, sent) = recording_proxy(addr).await;
            let mut cfg = config();
            cfg.era = EraPreference::Legacy;
            let client = tokio::time::timeout(
                GUARD,
                connect_http(
                    &format!("http://{proxy}/mcp"),
                    cfg,
                    Arc::new(Host::default()),
                    HttpClientOptions::default(),
                ),
            )
            .await
            .unwrap()
            .unwrap();
            // The server ends the call's SSE stream after its priming event (SEP-1699); the answer
            // reaches us only through a GET with Last-Event-ID.
            let r = tokio::time::timeout(GUARD, client.call_tool("test_reconnection", json!({})))
                .await
                .expect("answered in time")
                .expect("answered");
            assert_eq!(texts(&r.content), "Reconnection test completed");
            // The cut happened, and the answer came by resumption.
            let sent = String::from_utf8_lossy(&sent.lock().unwrap()).to_ascii_lowercase();
            // Each Last-Event-ID header, with the method of the request whose head it is in.
            let resumes: Vec<&str> = sent
                .match_indices("\r\nlast-event-id:")
                .map(|(at, _)| {
                    let line = sent[..at].rfind(" /mcp http/1.1\r\n").unwrap_or(0);
                    let start = sent[..line].rfind(['\n', '}']).map_or(0, |i| i + 1);
                    &sent[start..line]
                })
                .collect();
            assert_eq!(resumes, ["get"], "the client sent:\n{sent}");
            client.close();
        },
    )
    .await
}

/// A TCP proxy on 127.0.0.1 in front of `upstream`; returns its address and everything
/// clients sent through it.
async fn recording_proxy(upstream: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = sent.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut from_client, mut to_server) = (client.into_split(), server.into_split());
                let up = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        match from_client.0.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                log.lock().unwrap().extend_from_slice(&buf[..n]);
                                if to_server.1.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = to_server.1.shutdown().await;
                };
                let down = async {
                    let _ = tokio::io::copy(&mut to_server.0, &mut from_client.1).await;
                    let _ = from_client.1.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    (addr, sent)
}

/// Passes notifications to the test as they arrive.
struct Notes(tokio::sync::mpsc::UnboundedSender<ServerNotification>);

impl ClientHandler for Notes {
    fn on_notification(&self, n: ServerNotification, _sub: Option<RequestId>) {
        let _ = self.0.send(n);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_changes_reach_the_client_in_both_eras() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "list_changes_reach_the_client_in_both_eras",
        async move {
            use mcp_tokio::mcp_proto::schema::subscriptions::SubscriptionFilter;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (service, control) = mcp_examples_common::everything_service(TokioRuntime);
            let config_http = mcp_examples_common::http_config(addr);
            tokio::spawn(mcp_tokio::serve_http(listener, service, config_http));
            let url = format!("http://{addr}/mcp");

            // 2026-07-28: a subscriptions/listen POST whose SSE response stays open.
            let client = connect_http(
                &url,
                config(),
                Arc::new(NoHandler),
                HttpClientOptions::default(),
            )
            .await
            .unwrap();
            assert_eq!(client.server().era, Era::Modern);
            let mut sub = client
                .listen(SubscriptionFilter {
                    tools_list_changed: Some(true),
                    ..Default::default()
                })
                .unwrap();
            let first = tokio::time::timeout(GUARD, sub.next()).await.unwrap();
            assert!(
                matches!(
                    first,
                    Some(ServerNotification::SubscriptionsAcknowledged(_))
                ),
                "{first:?}"
            );
            assert!(control.remove_tool("echo"));
            let next = tokio::time::timeout(GUARD, sub.next()).await.unwrap();
            assert!(
                matches!(next, Some(ServerNotification::ToolListChanged(_))),
                "{next:?}"
            );
            drop(sub);
            client.close();

            // Legacy: the standalone GET stream carries it to the handler.
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let mut cfg = config();
            cfg.era = EraPreference::Legacy;
            let client = connect_http(&url, cfg, Arc::new(Notes(tx)), HttpClientOptions::default())
                .await
                .unwrap();
            // The stream opens after the handshake; the server keeps what it sends until a reader
            // attaches.
            client.list_all_tools().await.unwrap();
            assert!(control.remove_tool("add"));
            let got = tokio::time::timeout(GUARD, async {
                loop {
                    match rx.recv().await {
                        Some(ServerNotification::ToolListChanged(_)) => return true,
                        Some(_) => continue,
                        None => return false,
                    }
                }
            })
            .await
            .expect("the list change arrives in time");
            assert!(got);
            client.close();
        },
    )
    .await
}

// ----- raw-TCP fakes for the failure paths ----------------------------------------------------

/// A request as the fake server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn rpc(&self) -> &str {
        self.body["method"].as_str().unwrap_or("")
    }
}

/// Bytes to answer with; the connection closes after each answer.
type Reply = Vec<u8>;

fn json_reply(status: u16, extra: &[(&str, &str)], body: Value) -> Reply {
    let body = body.to_string();
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    format!("{head}\r\n{body}").into_bytes()
}

fn status_reply(status: u16) -> Reply {
    format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").into_bytes()
}

/// An SSE response whose stream ends (the connection closes) after `events`.
fn sse_reply(events: &str) -> Reply {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n{events}"
    )
    .into_bytes()
}

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1 answering with `answer`.
async fn fake<F>(answer: F) -> (SocketAddr, Log)
where
    F: Fn(&Seen, &[Seen]) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Log::default();
    let answer = Arc::new(answer);
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let log = log2.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let Some(seen) = read_request(&mut stream).await else {
                    return;
                };
                let reply = {
                    let mut g = log.seen.lock().unwrap();
                    let reply = answer(&seen, &g);
                    g.push(seen);
                    reply
                };
                log.arrived.notify_waiters();
                let _ = stream.write_all(&reply).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, log)
}

/// What a fake server saw, and a signal per request.
#[derive(Clone, Default)]
struct Log {
    seen: Arc<Mutex<Vec<Seen>>>,
    arrived: Arc<tokio::sync::Notify>,
}

impl Log {
    fn all(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until the server has seen a request matching `pred`.
    async fn wait_for(&self, pred: impl Fn(&Seen) -> bool) {
        self.wait_until(|all| all.iter().any(&pred)).await
    }

    /// Waits until what the server has seen satisfies `cond`.
    async fn wait_until(&self, cond: impl Fn(&[Seen]) -> bool) {
        tokio::time::timeout(GUARD, async {
            loop {
                let arrived = self.arrived.notified();
                if cond(&self.all()) {
                    return;
                }
                arrived.await;
            }
        })
        .await
        .expect("the requests arrive in time");
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let method = lines.next()?.split(' ').next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

fn init_result(id: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": {
        "protocolVersion": "2025-11-25",
        "capabilities": {"tools": {}},
        "serverInfo": {"name": "fake", "version": "1"}
    }})
}

/// Counts connection attempts and refuses every one (as a dead server would).
struct Refusing(AtomicUsize);

impl Connector for Refusing {
    fn connect(&self, _host: &str, _port: u16) -> BoxFuture<'static, std::io::Result<BoxStream>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err(std::io::ErrorKind::ConnectionRefused.into()) })
    }
}

/// Counts connection attempts and passes them on to TCP.
struct Counting(AtomicUsize);

impl Connector for Counting {
    fn connect(&self, host: &str, port: u16) -> BoxFuture<'static, std::io::Result<BoxStream>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        TokioConnector.connect(host, port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_server_backs_off_then_fails_typed() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "dead_server_backs_off_then_fails_typed",
        async move {
            // A port nobody listens on: real refusals.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let connector = Arc::new(Counting(AtomicUsize::new(0)));
            let options = HttpClientOptions::default()
                .with_backoff_initial(Duration::from_millis(10))
                .with_backoff_max(Duration::from_millis(40))
                .with_max_attempts(4);
            let url = format!("http://127.0.0.1:{port}/mcp");
            let err = tokio::time::timeout(
                GUARD,
                mcp_tokio::mcp_driver::http::client::connect_http(
                    TokioRuntime,
                    connector.clone(),
                    &url,
                    config(),
                    Arc::new(NoHandler),
                    options.clone(),
                ),
            )
            .await
            .expect("gives up in time")
            .unwrap_err();
            assert!(
                matches!(
                    err,
                    HttpConnectError::Http(HttpError::Unreachable { attempts: 4, .. })
                ),
                "{err:?}"
            );
            // Exactly the configured schedule: one attempt, then three retries (10, 20, 40 ms).
            assert_eq!(connector.0.load(Ordering::SeqCst), 4);

            // The same through a connector that refuses without touching the network.
            let refusing = Arc::new(Refusing(AtomicUsize::new(0)));
            let err = tokio::time::timeout(
                GUARD,
                mcp_tokio::mcp_driver::http::client::connect_http(
                    TokioRuntime,
                    refusing.clone(),
                    "http://mcp.invalid/mcp",
                    config(),
                    Arc::new(NoHandler),
                    options,
                ),
            )
            .await
            .expect("gives up in time")
            .unwrap_err();
            assert!(matches!(
                err,
                HttpConnectError::Http(HttpError::Unreachable { .. })
            ));
            assert_eq!(refusing.0.load(Ordering::SeqCst), 4);
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_session_is_reinitialized() {
    mcp_testsuite::watchdog(mcp_tokio::TokioRuntime, "expired_session_is_reinitialized", async move {
    let (addr, log) = fake(|req, before| {
        let inits = before.iter().filter(|s| s.rpc() == "initialize").count();
        match (req.method.as_str(), req.rpc()) {
            ("GET", _) => status_reply(405),
            ("DELETE", _) => status_reply(200),
            (_, "server/discover") => json_reply(
                400,
                &[],
                json!({"jsonrpc": "2.0", "id": null,
                    "error": {"code": -32000, "message": "Bad Request: No valid session ID provided"}}),
            ),
            (_, "initialize") => {
                let sid = format!("s{}", inits + 1);
                json_reply(200, &[("mcp-session-id", &sid)], init_result(&req.body["id"]))
            }
            (_, "notifications/initialized") => status_reply(202),
            (_, "tools/list") if req.header("mcp-session-id") == Some("s1") => status_reply(404),
            (_, "tools/list") => json_reply(
                200,
                &[],
                json!({"jsonrpc": "2.0", "id": req.body["id"], "result": {"tools": [
                    {"name": "t", "inputSchema": {"type": "object"}}]}}),
            ),
            _ => status_reply(400),
        }
    })
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let options = HttpClientOptions::default().with_on_event(Some(Arc::new(move |e: &HttpClientEvent| {
            seen.lock().unwrap().push(e.clone())
        }))).with_headers(vec![("x-tenant".into(), "t1".into())]).with_auth(Some(Arc::new(|| Some("secret-token".to_owned()))));
    let url = format!("http://{addr}/mcp");
    let client = tokio::time::timeout(
        GUARD,
        connect_http(&url, config(), Arc::new(NoHandler), options),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(client.server().era, Era::Legacy);
    let tools = tokio::time::timeout(GUARD, client.list_tools(None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tools.tools[0].name, "t");
    let fake_log = log.clone();
    // The new session's `initialized` goes out beside the replayed call.
    fake_log
        .wait_until(|all| {
            all.iter()
                .filter(|s| s.rpc() == "notifications/initialized")
                .count()
                == 2
        })
        .await;
    let log = log.all();
    let inits: Vec<&Seen> = log.iter().filter(|s| s.rpc() == "initialize").collect();
    assert_eq!(inits.len(), 2);
    assert!(inits.iter().all(|s| s.header("mcp-session-id").is_none()));
    let lists: Vec<Option<&str>> = log
        .iter()
        .filter(|s| s.rpc() == "tools/list")
        .map(|s| s.header("mcp-session-id"))
        .collect();
    assert_eq!(lists, vec![Some("s1"), Some("s2")]);
    let notified = log
        .iter()
        .filter(|s| s.rpc() == "notifications/initialized")
        .count();
    assert_eq!(notified, 2, "the new session is completed too");
    // Custom headers and the bearer token ride on every request.
    assert!(log.iter().all(|s| s.header("x-tenant") == Some("t1")
        && s.header("authorization") == Some("Bearer secret-token")));
    let events = events.lock().unwrap().clone();
    assert!(events.contains(&HttpClientEvent::SessionExpired));
    assert!(events.contains(&HttpClientEvent::Reinitialized));
    // Closing ends the new session with DELETE.
    client.close();
    fake_log
        .wait_for(|s| s.method == "DELETE" && s.header("mcp-session-id") == Some("s2"))
        .await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_is_typed_and_the_hook_may_refresh() {
    mcp_testsuite::watchdog(mcp_tokio::TokioRuntime, "unauthorized_is_typed_and_the_hook_may_refresh", async move {
    let (addr, _log) = fake(|req, _| match req.header("authorization") {
        Some("Bearer fresh") => match req.rpc() {
            "initialize" => json_reply(200, &[], init_result(&req.body["id"])),
            "notifications/initialized" => status_reply(202),
            _ => status_reply(405),
        },
        _ => {
            let body = "unauthorized";
            format!(
                "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer resource_metadata=\"http://{}/.well-known/oauth-protected-resource\"\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                req.header("host").unwrap_or(""),
                body.len()
            )
            .into_bytes()
        }
    })
    .await;
    let url = format!("http://{addr}/mcp");
    let mut cfg = config();
    cfg.era = EraPreference::Legacy;

    // No credentials: the connect fails with the challenge an OAuth client needs.
    let err = tokio::time::timeout(
        GUARD,
        connect_http(
            &url,
            cfg.clone(),
            Arc::new(NoHandler),
            HttpClientOptions::default(),
        ),
    )
    .await
    .unwrap()
    .unwrap_err();
    match err {
        HttpConnectError::Http(HttpError::Unauthorized { www_authenticate }) => {
            assert!(www_authenticate.unwrap().contains("resource_metadata="));
        }
        other => panic!("{other:?}"),
    }

    // A hook that obtains a token when challenged: the request is sent again and succeeds.
    struct Refresh(Mutex<Option<String>>, AtomicUsize);
    impl mcp_tokio::BearerAuth for Refresh {
        fn token(&self) -> Option<String> {
            self.0.lock().unwrap().clone()
        }
        fn unauthorized(&self, challenge: Option<&str>) -> BoxFuture<'static, bool> {
            assert!(challenge.is_some_and(|c| c.starts_with("Bearer ")));
            self.1.fetch_add(1, Ordering::SeqCst);
            *self.0.lock().unwrap() = Some("fresh".into());
            Box::pin(async { true })
        }
    }
    let auth = Arc::new(Refresh(
        Mutex::new(Some("stale".into())),
        AtomicUsize::new(0),
    ));
    let options = HttpClientOptions::default().with_auth(Some(auth.clone()));
    let client = tokio::time::timeout(GUARD, connect_http(&url, cfg, Arc::new(NoHandler), options))
        .await
        .unwrap()
        .expect("connected after the refresh");
    assert_eq!(client.server().era, Era::Legacy);
    assert_eq!(
        auth.1.load(Ordering::SeqCst),
        1,
        "challenged once, then the token held"
    );
    client.close();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_cut_mid_call_resumes_without_loss() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "stream_cut_mid_call_resumes_without_loss",
        async move {
            fn progress(token: &Value, p: u32) -> Value {
                json!({"jsonrpc": "2.0", "method": "notifications/progress",
            "params": {"progressToken": token, "progress": p}})
            }
            let (addr, log) = fake(move |req, before| match (req.method.as_str(), req.rpc()) {
                ("GET", _) if req.header("last-event-id").is_none() => status_reply(405),
                ("GET", _) => {
                    // Replays what followed event 2: event 3 (cut last time) and the result.
                    let call = before.iter().find(|s| s.rpc() == "tools/call").unwrap();
                    let token = &call.body["params"]["_meta"]["progressToken"];
                    let result = json!({"jsonrpc": "2.0", "id": call.body["id"],
                "result": {"content": [{"type": "text", "text": "done"}]}});
                    sse_reply(&format!(
                        "id: 3\ndata: {}\n\nid: 4\ndata: {result}\n\n",
                        progress(token, 3)
                    ))
                }
                ("DELETE", _) => status_reply(200),
                (_, "initialize") => json_reply(
                    200,
                    &[("mcp-session-id", "s")],
                    init_result(&req.body["id"]),
                ),
                (_, "notifications/initialized") => status_reply(202),
                (_, "tools/call") => {
                    // A priming event, two progress events, then half of the third: the stream is
                    // cut in the middle of an event.
                    let token = &req.body["params"]["_meta"]["progressToken"];
                    let cut = format!("id: 3\ndata: {}", progress(token, 3));
                    let cut = &cut[..cut.len() / 2];
                    sse_reply(&format!(
                        "id: 0\nretry: 20\ndata: \n\nid: 1\ndata: {}\n\nid: 2\ndata: {}\n\n{cut}",
                        progress(token, 1),
                        progress(token, 2)
                    ))
                }
                _ => status_reply(400),
            })
            .await;
            let mut cfg = config();
            cfg.era = EraPreference::Legacy;
            let url = format!("http://{addr}/mcp");
            let client = tokio::time::timeout(
                GUARD,
                connect_http(&url, cfg, Arc::new(NoHandler), HttpClientOptions::default()),
            )
            .await
            .unwrap()
            .unwrap();
            let got = Arc::new(Mutex::new(Vec::new()));
            let sink = got.clone();
            let r = tokio::time::timeout(
                GUARD,
                client.call_tool_with(
                    "slow",
                    json!({}),
                    Some(Box::new(move |p| sink.lock().unwrap().push(p.progress))),
                ),
            )
            .await
            .expect("answered in time")
            .expect("answered");
            assert_eq!(texts(&r.content), "done");
            // Progress is delivered with the client's own token; every report arrived once.
            assert_eq!(*got.lock().unwrap(), vec![1.0, 2.0, 3.0]);
            let log = log.all();
            let resumed: Vec<&Seen> = log
                .iter()
                .filter(|s| s.method == "GET" && s.header("last-event-id").is_some())
                .collect();
            assert_eq!(resumed.len(), 1);
            assert_eq!(resumed[0].header("last-event-id"), Some("2"));
            assert_eq!(resumed[0].header("mcp-session-id"), Some("s"));
            client.close();
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_every_handle_ends_the_session() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "dropping_every_handle_ends_the_session",
        async move {
            let (addr, log) = fake(|req, _| match (req.method.as_str(), req.rpc()) {
                ("DELETE", _) => status_reply(200),
                ("GET", _) => status_reply(405),
                (_, "initialize") => json_reply(
                    200,
                    &[("mcp-session-id", "gone")],
                    init_result(&req.body["id"]),
                ),
                (_, "notifications/initialized") => status_reply(202),
                _ => status_reply(400),
            })
            .await;
            let mut cfg = config();
            cfg.era = EraPreference::Legacy;
            let client = tokio::time::timeout(
                GUARD,
                connect_http(
                    &format!("http://{addr}/mcp"),
                    cfg,
                    Arc::new(NoHandler),
                    // A loaded machine must not cut the DELETE short.
                    HttpClientOptions::default().with_close_grace(GUARD),
                ),
            )
            .await
            .unwrap()
            .unwrap();
            drop(client);
            // The driver notices on its idle tick and ends the session like `close` would.
            log.wait_for(|s| s.method == "DELETE" && s.header("mcp-session-id") == Some("gone"))
                .await;
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_rustls() {
    mcp_testsuite::watchdog(mcp_tokio::TokioRuntime, "https_with_rustls", async move {
        use futures_rustls::rustls;
        use tokio_util::compat::TokioAsyncReadCompatExt;
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = certified.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server_tls = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        let acceptor = futures_rustls::TlsAcceptor::from(Arc::new(server_tls));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (service, _control) = mcp_examples_common::everything_service(TokioRuntime);
        let http = mcp_tokio::HttpService::new(
            TokioRuntime,
            service,
            mcp_examples_common::http_config(addr),
        );
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, http) = (acceptor.clone(), http.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp.compat()).await {
                        http.serve_connection(tls).await;
                    }
                });
            }
        });

        // The client trusts exactly this certificate (the default would use Mozilla's roots).
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client_tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let options = HttpClientOptions::default().with_tls(Some(Arc::new(client_tls)));
        let url = format!("https://localhost:{}/mcp", addr.port());
        let client = tokio::time::timeout(
            GUARD,
            connect_http(&url, config(), Arc::new(NoHandler), options),
        )
        .await
        .unwrap()
        .expect("connected over TLS");
        let r = tokio::time::timeout(GUARD, client.call_tool("echo", json!({"message": "tls"})))
            .await
            .unwrap()
            .unwrap();
        assert!(texts(&r.content).contains("tls"), "{r:?}");
        client.close();

        // With the default roots the self-signed certificate is refused: a typed failure.
        let err = tokio::time::timeout(
            GUARD,
            connect_http(
                &url,
                config(),
                Arc::new(NoHandler),
                HttpClientOptions::default().with_max_attempts(1),
            ),
        )
        .await
        .unwrap()
        .unwrap_err();
        match err {
            HttpConnectError::Http(HttpError::Unreachable { reason, .. }) => {
                assert!(reason.contains("TLS"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    })
    .await
}

/// Before: the 2024-11-05 fallback followed an `endpoint` event to another port, posting
/// `initialize` there with the bearer token and the custom headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_on_another_origin_gets_no_request_and_no_token() {
    mcp_testsuite::watchdog(mcp_tokio::TokioRuntime, "an_endpoint_on_another_origin_gets_no_request_and_no_token", async move {
    // Another origin (same host, another port) that would gladly take the session.
    let (thief, thief_log) = fake(|_, _| status_reply(202)).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let endpoint = format!("http://{thief}/messages?sessionId=x");
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let endpoint = endpoint.clone();
            tokio::spawn(async move {
                let Some(seen) = read_request(&mut stream).await else {
                    return;
                };
                if seen.method == "GET" {
                    let stream_head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n";
                    let event = format!("{stream_head}event: endpoint\ndata: {endpoint}\n\n");
                    let _ = stream.write_all(event.as_bytes()).await;
                    // The stream stays open, as a real 2024-11-05 session's would.
                    std::future::pending::<()>().await;
                } else {
                    // `initialize` refused as an old server does: fall back to HTTP+SSE.
                    let _ = stream.write_all(&status_reply(405)).await;
                }
            });
        }
    });
    struct Token;
    impl mcp_tokio::BearerAuth for Token {
        fn token(&self) -> Option<String> {
            Some("secret-token".into())
        }
        fn unauthorized(&self, _challenge: Option<&str>) -> BoxFuture<'static, bool> {
            Box::pin(async { false })
        }
    }
    let options = HttpClientOptions::default().with_auth(Some(Arc::new(Token))).with_headers(vec![("x-api-key".into(), "secret-key".into())]);
    let mut cfg = config();
    cfg.era = EraPreference::Legacy;
    let url = format!("http://{addr}/sse");
    let outcome = tokio::select! {
        r = tokio::time::timeout(GUARD, connect_http(&url, cfg, Arc::new(NoHandler), options)) => r,
        _ = thief_log.wait_for(|_| true) => {
            panic!("a request reached the other origin: {:?}", thief_log.all())
        }
    };
    let refused = outcome.expect("the connect ends in time");
    assert!(refused.is_err(), "connected through the other origin");
    assert!(thief_log.all().is_empty());
    })
    .await
}
