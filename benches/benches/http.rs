//! Our SDK beside rmcp 3.11 over streamable HTTP on 127.0.0.1, same process, same run:
//! `tools/call` of an echo tool (16-byte text), sequentially from one client (calls/s and
//! latency percentiles) and from 32 concurrent clients, each its own connection and session,
//! calling in a loop for a fixed time (total calls/s).
//!
//! Each SDK runs its own server with its default configuration and is driven by its own
//! client: ours is `mcp_tokio::serve_http` (tool from the typed builder) and
//! `mcp_tokio::connect_http`; rmcp is `StreamableHttpService` (hand-written `ServerHandler`,
//! its cheapest path) on hyper HTTP/1.1 and `StreamableHttpClientTransport` on reqwest. Both
//! servers run on the same runtime as the clients and set TCP_NODELAY on accepted sockets.
//!
//! The `raw` rows use a plain hyper client on one kept-alive connection: against a hyper
//! server that answers a fixed body (no MCP at all: the floor both SDKs build on), and, in the
//! 2026-07-28 era, sending a self-contained tools/call to each SDK's server (the server's
//! cost alone).
//!
//! The callers are runtime tasks (spawned, not the future given to `block_on`), like the
//! code of an application that uses either SDK.
//!
//! Both sides use the same protocol era: ours picks one (`EraPreference::Auto`, which finds
//! 2026-07-28 against our server) and rmcp's client is told to use the same
//! (`ClientLifecycleMode::Discover` for 2026-07-28, its default `initialize` otherwise).
//!
//! Run: `cargo bench -p mcp-benches --bench http`. Knobs:
//! - `MCP_BENCH_ONLY=seq|conc|raw` runs one group (`raw`: the plain hyper rows, with the row
//!   `ours: OAuth JWT | open`: our server protected by a JWT verifier, every request's ES256
//!   token checked against a cached JWKS, beside the same server unprotected);
//! - `MCP_BENCH_ERA=legacy|modern|both` forces the era (default: what Auto picks);
//! - `MCP_BENCH_CALLS` sequential calls per round (default 2000), `MCP_BENCH_SECS` seconds
//!   per concurrent round (default 2), `MCP_BENCH_CLIENTS` concurrent clients (default 32),
//!   `MCP_BENCH_ROUNDS` interleaved rounds per SDK (default 3; the median round is shown);
//! - `MCP_BENCH_THREADS=1` uses a current-thread runtime (default: 2 worker threads);
//! - `MCP_BENCH_CROSS=1` adds rows that swap clients and servers (ours-client -> rmcp-server
//!   and rmcp-client -> ours-server), to tell client costs from server costs, and a row with
//!   rmcp's client on a connection-reusing `reqwest::Client` (its default keeps none);
//! - `MCP_BENCH_SOLO=ours|rmcp` runs one column only (for `perf record`).

use std::convert::Infallible;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_tokio::mcp_driver::{Args, NoHandler, Server, Service, ToolError};
use mcp_tokio::mcp_proto::schema::Era;
use mcp_tokio::mcp_proto::schema::Implementation;
use mcp_tokio::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_tokio::{HttpClientOptions, HttpServerConfig};
use rmcp::model::{CallToolRequestParams as RCallParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{
    StreamableHttpClientTransport, StreamableHttpServerConfig, StreamableHttpService,
};
use rmcp::ServiceExt;
use serde_json::{json, Map, Value};

#[path = "shared/rmcp_echo.rs"]
mod rmcp_echo;
use rmcp_echo::RmcpEcho;

const PAYLOAD: &str = "0123456789abcdef"; // 16 bytes

// ----- the two echo servers ---------------------------------------------------------------

#[derive(serde::Deserialize, mcp_tokio::mcp_driver::schemars::JsonSchema)]
#[schemars(crate = "mcp_tokio::mcp_driver::schemars")]
struct EchoArgs {
    text: String,
}

fn our_service() -> Service {
    Server::builder("bench-ours", "1")
        .tool(
            "echo",
            "Echoes its text",
            |Args(a): Args<EchoArgs>| async move { Ok::<_, ToolError>(a.text) },
        )
        .build()
}

async fn start_ours() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(mcp_tokio::serve_http(
        listener,
        our_service(),
        HttpServerConfig::default(),
    ));
    addr
}

/// rmcp's streamable HTTP service (a tower service) on hyper's HTTP/1.1 server, one task per
/// connection, as `axum::serve` would run it (with TCP_NODELAY, as ours sets).
async fn start_rmcp() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let service = StreamableHttpService::new(
        || Ok(RmcpEcho),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let service = service.clone();
            let hyper_service = hyper::service::service_fn(move |req| {
                let service = service.clone();
                async move { Ok::<_, Infallible>(service.handle(req).await) }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper_service)
                    .await;
            });
        }
    });
    addr
}

// ----- the floor: plain hyper, no MCP ------------------------------------------------------

const FLOOR_REQUEST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"0123456789abcdef"}}}"#;
const FLOOR_RESPONSE: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"0123456789abcdef"}],"isError":false}}"#;

/// Reads a body to its end; returns its length.
async fn drain(mut body: hyper::body::Incoming) -> usize {
    use hyper::body::Body as _;
    let mut n = 0;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        if let Ok(data) = frame.expect("body").into_data() {
            n += data.len();
        }
    }
    n
}

/// hyper's HTTP/1.1 server answering every request with a fixed JSON body of a tools/call
/// result's size: what an HTTP round trip costs here before any MCP.
async fn start_floor() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let service = hyper::service::service_fn(|req: hyper::Request<_>| async move {
                drain(req.into_body()).await;
                let response = hyper::Response::builder()
                    .header("content-type", "application/json")
                    .body(FLOOR_RESPONSE.to_owned())
                    .expect("response");
                Ok::<_, Infallible>(response)
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A raw request: its body and the headers beyond host, content-type and accept.
#[derive(Clone, Copy)]
struct Raw {
    body: &'static str,
    headers: &'static [(&'static str, &'static str)],
}

/// What the floor server is sent: a tools/call's bytes, as plain HTTP.
const FLOOR: Raw = Raw {
    body: FLOOR_REQUEST,
    headers: &[],
};

/// A self-contained 2026-07-28 tools/call, as any client would send it: lets a plain hyper
/// client time each SDK's server alone.
const MODERN_CALL: Raw = Raw {
    body: r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"0123456789abcdef"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
    headers: &[
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "echo"),
    ],
};

/// Our server protected by OAuth ([`JwtVerifier`] on every request, its JWKS served by a
/// plain hyper server here and cached after the first fetch), and a 2026-07-28 tools/call
/// carrying an ES256 access token for it.
async fn start_protected() -> (SocketAddr, Raw) {
    use mcp_tokio::mcp_driver::http::auth::{JwtVerifier, Protection, TokenVerifier};
    use mcp_tokio::mcp_proto::auth::{base64url, JwtSigner, ResourceServerConfig};
    let signer = mcp_tokio::PemSigner::generate_es256().expect("key");
    let mut jwk = signer.public_jwk().expect("public key");
    jwk["kid"] = json!("bench");
    jwk["alg"] = json!("ES256");
    let jwks: &'static str = Box::leak(json!({ "keys": [jwk] }).to_string().into_boxed_str());
    let keys = start_fixed(jwks).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (issuer, url) = ("https://issuer.bench", format!("http://{addr}/mcp"));
    let http = mcp_tokio::AuthHttp::standalone(
        mcp_tokio::TokioRuntime,
        Arc::new(mcp_tokio::TokioConnector),
        Default::default(),
    );
    let verifier = JwtVerifier::new(issuer, &url, http).with_jwks_uri(format!("http://{keys}/"));
    let verifier: Arc<dyn TokenVerifier> = Arc::new(Arc::new(verifier));
    let config = ResourceServerConfig::new(&url, issuer).require(&["mcp:tools"]);
    let service = mcp_tokio::HttpService::protected(
        mcp_tokio::TokioRuntime,
        our_service(),
        HttpServerConfig::default(),
        Protection::new(config, verifier),
    );
    tokio::spawn(mcp_tokio::serve_http_with(listener, service));
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 86_400;
    let header = json!({"alg": "ES256", "kid": "bench", "typ": "at+jwt"});
    let claims =
        json!({"iss": issuer, "aud": url, "sub": "bench", "exp": exp, "scope": "mcp:tools"});
    let input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let sig = base64url(&signer.sign(input.as_bytes()).expect("sign"));
    let bearer: &'static str = Box::leak(format!("Bearer {input}.{sig}").into_boxed_str());
    let headers: &'static [(&'static str, &'static str)] = Box::leak(Box::new([
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "echo"),
        ("authorization", bearer),
    ]));
    let raw = Raw {
        body: MODERN_CALL.body,
        headers,
    };
    (addr, raw)
}

/// hyper's HTTP/1.1 server answering every request with `body` (a JWKS).
async fn start_fixed(body: &'static str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = hyper::service::service_fn(move |_req: hyper::Request<_>| async move {
                let response = hyper::Response::builder()
                    .header("content-type", "application/json")
                    .body(body.to_owned())
                    .expect("response");
                Ok::<_, Infallible>(response)
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn raw_post(
    sender: &mut hyper::client::conn::http1::SendRequest<String>,
    addr: SocketAddr,
    raw: Raw,
) -> usize {
    let mut request = hyper::Request::post("/mcp")
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in raw.headers {
        request = request.header(*k, *v);
    }
    let request = request.body(raw.body.to_owned()).expect("request");
    // The connection is ready again once it has seen the previous response's end.
    sender.ready().await.expect("ready");
    let response = sender.send_request(request).await.expect("send");
    assert_eq!(response.status(), 200, "raw POST refused");
    drain(response.into_body()).await
}

/// `n` sequential POSTs from a plain hyper client on one kept-alive connection, after a
/// warm-up.
async fn raw_sequential(addr: SocketAddr, raw: Raw, n: usize) -> Stats {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    for _ in 0..n.clamp(20, 200) {
        black_box(raw_post(&mut sender, addr, raw).await);
    }
    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        black_box(raw_post(&mut sender, addr, raw).await);
        lat.push(t.elapsed().as_nanos() as f64 / 1e3);
    }
    Stats::new(lat, start.elapsed().as_secs_f64())
}

// ----- clients ------------------------------------------------------------------------------

fn args() -> Map<String, Value> {
    let Value::Object(m) = json!({ "text": PAYLOAD }) else {
        unreachable!()
    };
    m
}

enum Conn {
    Ours(mcp_tokio::mcp_driver::Client),
    Rmcp(rmcp::service::RunningService<rmcp::RoleClient, ()>),
}

impl Conn {
    async fn call(&self) -> usize {
        match self {
            Conn::Ours(c) => {
                let r = c
                    .call_tool("echo", Value::Object(args()))
                    .await
                    .expect("ours: call");
                r.content[0].as_text().map_or(0, str::len)
            }
            Conn::Rmcp(c) => {
                let mut p = RCallParams::new("echo");
                p.arguments = Some(args());
                let r = c.call_tool(p).await.expect("rmcp: call");
                r.content.len()
            }
        }
    }

    async fn close(self) {
        match self {
            Conn::Ours(c) => c.close(),
            Conn::Rmcp(c) => {
                let _ = c.cancel().await;
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Client {
    Ours,
    /// rmcp's default client (`from_uri`): its reqwest client keeps no idle connections
    /// (`pool_max_idle_per_host(0)`), so every POST opens a new TCP connection.
    Rmcp,
    /// rmcp's client on a default `reqwest::Client`, which reuses connections.
    RmcpPooled,
}

async fn connect(client: Client, addr: SocketAddr, era: EraPreference) -> Conn {
    let url = format!("http://{addr}/mcp");
    match client {
        Client::Ours => {
            let mut config = ClientConfig::new(Implementation::new("bench", "1"));
            config.era = era;
            let c = mcp_tokio::connect_http(
                &url,
                config,
                Arc::new(NoHandler),
                HttpClientOptions::default(),
            )
            .await
            .expect("ours: connect");
            Conn::Ours(c)
        }
        Client::Rmcp | Client::RmcpPooled => {
            let transport = if client == Client::Rmcp {
                StreamableHttpClientTransport::from_uri(url)
            } else {
                // A reqwest client of reqwest's defaults, which keeps connections alive.
                StreamableHttpClientTransport::with_client(
                    reqwest::Client::new(),
                    StreamableHttpClientTransportConfig::with_uri(url),
                )
            };
            let c = match era {
                EraPreference::Modern => {
                    let lifecycle = ClientLifecycleMode::Discover {
                        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                    };
                    ().serve_with_lifecycle(transport, lifecycle).await
                }
                _ => ().serve(transport).await,
            };
            Conn::Rmcp(c.expect("rmcp: connect"))
        }
    }
}

// ----- scenarios ----------------------------------------------------------------------------

/// Throughput and latency of one round.
struct Stats {
    calls_per_s: f64,
    mean_us: f64,
    p50_us: f64,
    p99_us: f64,
}

impl Stats {
    /// From per-call latencies (microseconds) over `elapsed` seconds.
    fn new(mut lat: Vec<f64>, elapsed: f64) -> Stats {
        lat.sort_by(f64::total_cmp);
        Stats {
            calls_per_s: lat.len() as f64 / elapsed,
            mean_us: lat.iter().sum::<f64>() / lat.len() as f64,
            p50_us: percentile(&lat, 0.50),
            p99_us: percentile(&lat, 0.99),
        }
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// One client, `n` calls back to back after a warm-up.
async fn sequential(conn: &Conn, n: usize) -> Stats {
    for _ in 0..n.clamp(20, 200) {
        black_box(conn.call().await);
    }
    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        black_box(conn.call().await);
        lat.push(t.elapsed().as_nanos() as f64 / 1e3);
    }
    Stats::new(lat, start.elapsed().as_secs_f64())
}

/// `clients` separate connections (sessions), each warmed up, then all calling in a loop
/// for `secs`; total calls/s over the window.
async fn concurrent(
    client: Client,
    addr: SocketAddr,
    era: EraPreference,
    clients: usize,
    secs: f64,
) -> Stats {
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        conns.push(connect(client, addr, era).await);
    }
    for c in &conns {
        for _ in 0..5 {
            black_box(c.call().await);
        }
    }
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|c| {
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < end {
                    let t = Instant::now();
                    black_box(c.call().await);
                    lat.push(t.elapsed().as_nanos() as f64 / 1e3);
                }
                (c, lat)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut done = Vec::new();
    for t in tasks {
        let (c, lat) = t.await.expect("client task");
        all.extend(lat);
        done.push(c);
    }
    let elapsed = start.elapsed().as_secs_f64();
    for c in done {
        c.close().await;
    }
    Stats::new(all, elapsed)
}

fn median_by<T>(mut v: Vec<T>, key: impl Fn(&T) -> f64) -> T {
    v.sort_by(|a, b| key(a).total_cmp(&key(b)));
    v.swap_remove(v.len() / 2)
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn era_name(era: Era) -> &'static str {
    match era {
        Era::Legacy => "2025-11-25 session",
        Era::Modern => "2026-07-28 stateless",
    }
}

struct Setup {
    ours: SocketAddr,
    rmcp: SocketAddr,
    era: EraPreference,
    rounds: usize,
    /// Run only this column (0: ours, 1: rmcp), for profiling one side.
    solo: Option<usize>,
}

impl Setup {
    fn runs(&self, column: usize) -> bool {
        self.solo.is_none_or(|c| c == column)
    }
}

/// Each pair is (label, client, server address) for the ours and the rmcp column.
fn pairs(s: &Setup, cross: bool) -> Vec<(&'static str, [(Client, SocketAddr); 2])> {
    let mut v = vec![(
        "own client -> own server",
        [(Client::Ours, s.ours), (Client::Rmcp, s.rmcp)],
    )];
    if cross {
        v.push((
            "rmcp on pooled reqwest",
            [(Client::Ours, s.ours), (Client::RmcpPooled, s.rmcp)],
        ));
        v.push((
            "client -> ours server",
            [(Client::Ours, s.ours), (Client::Rmcp, s.ours)],
        ));
        v.push((
            "client -> rmcp server",
            [(Client::Ours, s.rmcp), (Client::Rmcp, s.rmcp)],
        ));
        v.push((
            "ours client -> server",
            [(Client::Ours, s.ours), (Client::Ours, s.rmcp)],
        ));
        v.push((
            "rmcp client -> server",
            [(Client::Rmcp, s.ours), (Client::Rmcp, s.rmcp)],
        ));
    }
    v
}

/// Prints a row: the median round (by calls/s) of each column and their ratio ("-" for a
/// column that did not run).
fn print_row(scenario: &str, label: &str, results: [Vec<Stats>; 2]) {
    let [a, b] = results.map(|v| (!v.is_empty()).then(|| median_by(v, |r| r.calls_per_s)));
    let f = |x: &Option<Stats>, get: fn(&Stats) -> f64, prec: usize| {
        x.as_ref()
            .map_or("-".to_owned(), |r| format!("{:.*}", prec, get(r)))
    };
    let ratio = match (&a, &b) {
        (Some(a), Some(b)) => format!("{:.2}x", a.calls_per_s / b.calls_per_s),
        _ => "-".to_owned(),
    };
    println!(
        "{scenario:<12} {label:<26} calls/s {:>7} {:>7} {ratio:>6} | mean {:>7} {:>7} us | p50 {:>7} {:>7} us | p99 {:>7} {:>7} us",
        f(&a, |r| r.calls_per_s, 0),
        f(&b, |r| r.calls_per_s, 0),
        f(&a, |r| r.mean_us, 1),
        f(&b, |r| r.mean_us, 1),
        f(&a, |r| r.p50_us, 1),
        f(&b, |r| r.p50_us, 1),
        f(&a, |r| r.p99_us, 1),
        f(&b, |r| r.p99_us, 1),
    );
}

async fn run_seq(s: &Setup, label: &str, pair: [(Client, SocketAddr); 2], n: usize) {
    let mut conns = Vec::new();
    for (i, (client, addr)) in pair.into_iter().enumerate() {
        if s.runs(i) {
            conns.push((i, connect(client, addr, s.era).await));
        }
    }
    let mut results: [Vec<Stats>; 2] = [Vec::new(), Vec::new()];
    // Interleave the rounds so machine noise (other builds on the box) hits both alike.
    for _ in 0..s.rounds {
        for (i, c) in &conns {
            results[*i].push(sequential(c, n).await);
        }
    }
    for (_, c) in conns {
        c.close().await;
    }
    print_row("sequential", label, results);
}

async fn run_conc(
    s: &Setup,
    label: &str,
    pair: [(Client, SocketAddr); 2],
    clients: usize,
    secs: f64,
) {
    let mut results: [Vec<Stats>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..s.rounds {
        for (i, (client, addr)) in pair.iter().enumerate() {
            if s.runs(i) {
                results[i].push(concurrent(*client, *addr, s.era, clients, secs).await);
            }
        }
    }
    print_row(&format!("{clients} clients"), label, results);
}

fn main() {
    let threads: usize = env_num("MCP_BENCH_THREADS", 2);
    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .expect("tokio");
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` run must stay quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = env_num("MCP_BENCH_CALLS", if quick { 20 } else { 2000 });
    let secs = env_num("MCP_BENCH_SECS", if quick { 0.1 } else { 2.0 });
    let clients = env_num("MCP_BENCH_CLIENTS", if quick { 4 } else { 32 });
    let rounds = env_num("MCP_BENCH_ROUNDS", if quick { 1 } else { 3 }).max(1);
    let only = std::env::var("MCP_BENCH_ONLY").unwrap_or_default();
    let run = move |group: &str| only.is_empty() || only == group;
    let cross = std::env::var("MCP_BENCH_CROSS").as_deref() == Ok("1");
    let solo = match std::env::var("MCP_BENCH_SOLO").as_deref() {
        Ok("ours") => Some(0),
        Ok("rmcp") => Some(1),
        _ => None,
    };
    let eras: Vec<EraPreference> = match std::env::var("MCP_BENCH_ERA").as_deref() {
        Ok("legacy") => vec![EraPreference::Legacy],
        Ok("modern") => vec![EraPreference::Modern],
        Ok("both") => vec![EraPreference::Modern, EraPreference::Legacy],
        _ => vec![EraPreference::Auto],
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!(
        "# ours (mcp-tokio) vs rmcp 3.11 over streamable HTTP on 127.0.0.1 — {} CPUs, {cpu}, {threads} runtime thread(s)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "# tools/call echo (16 B); {n} sequential calls, {clients} clients x {secs} s; median of {rounds} interleaved round(s)"
    );
    println!(
        "# columns: ours, rmcp, ours/rmcp (in the cross rows, the side the label leaves blank is the one that differs)"
    );
    // Everything runs as a task on the runtime's workers, as an application's code would: the
    // thread parked in `block_on` is not one of them, and a client driven from it pays a
    // cross-thread hand-off per call (the same ~20 µs for both SDKs) that measures tokio's
    // `block_on`, not either SDK.
    rt.block_on(async {
        tokio::spawn(async move {
            let ours = start_ours().await;
            let rmcp = start_rmcp().await;
            if run("raw") {
                // What one HTTP/1.1 round trip of this size costs here with no MCP at all.
                let floor = start_floor().await;
                let mut v = Vec::new();
                for _ in 0..rounds {
                    v.push(raw_sequential(floor, FLOOR, n).await);
                }
                print_row("sequential", "plain hyper, no MCP", [v, Vec::new()]);
            }
            for pref in eras {
                // The era ours settles on; rmcp's client is told to use the same one.
                let probe = connect(Client::Ours, ours, pref).await;
                let Conn::Ours(c) = &probe else {
                    unreachable!()
                };
                let era = c.server().era;
                probe.close().await;
                let era_pref = if era == Era::Legacy {
                    EraPreference::Legacy
                } else {
                    EraPreference::Modern
                };
                println!("## era: {} (asked: {pref:?})", era_name(era));
                let s = Setup {
                    ours,
                    rmcp,
                    era: era_pref,
                    rounds,
                    solo,
                };
                if run("seq") {
                    for (label, pair) in pairs(&s, cross) {
                        run_seq(&s, label, pair, n).await;
                    }
                }
                if run("raw") && era == Era::Modern {
                    // Each server alone, under the same plain client.
                    let mut results: [Vec<Stats>; 2] = [Vec::new(), Vec::new()];
                    for _ in 0..rounds {
                        for (i, addr) in [ours, rmcp].into_iter().enumerate() {
                            if s.runs(i) {
                                results[i].push(raw_sequential(addr, MODERN_CALL, n).await);
                            }
                        }
                    }
                    print_row("sequential", "plain hyper -> server", results);
                    // Ours protected (JWT verified per request, JWKS cached) beside ours
                    // unprotected: both columns are our server here.
                    let (protected, call) = start_protected().await;
                    let mut results: [Vec<Stats>; 2] = [Vec::new(), Vec::new()];
                    for _ in 0..rounds {
                        results[0].push(raw_sequential(protected, call, n).await);
                        results[1].push(raw_sequential(ours, MODERN_CALL, n).await);
                    }
                    print_row("sequential", "ours: OAuth JWT | open", results);
                }
                if run("conc") {
                    for (label, pair) in pairs(&s, cross) {
                        run_conc(&s, label, pair, clients, secs).await;
                    }
                }
            }
        })
        .await
        .unwrap()
    });
}
