//! Our SDK beside rmcp (latest on crates.io), same scenario, same process, same run:
//! sequential `tools/call` round trips of an echo tool with 16-byte and 64 KiB payloads,
//! in-process (tokio duplex pipe) and over stdio to a child process, plus time to first
//! response (spawn + handshake + first call).
//!
//! Run: `cargo bench -p mcp-benches --bench sdk`. The child servers are this same binary,
//! re-executed with `MCP_BENCH_SERVE=ours|rmcp`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_tokio::mcp_driver::{BoxFuture, Handler, HandlerResult, NoHandler, RequestCx, Service};
use mcp_tokio::mcp_proto::jsonrpc::ErrorObject;
use mcp_tokio::mcp_proto::schema::lifecycle::{ServerCapabilities, ToolsCapability};
use mcp_tokio::mcp_proto::schema::messages::ClientRequest;
use mcp_tokio::mcp_proto::schema::tools::CallToolResult;
use mcp_tokio::mcp_proto::schema::Implementation;
use mcp_tokio::mcp_proto::session::{ClientConfig, ServerConfig};
use rmcp::model::CallToolRequestParams as RCallParams;
use rmcp::ServiceExt;
use serde_json::{json, Map, Value};

#[path = "shared/rmcp_echo.rs"]
mod rmcp_echo;
use rmcp_echo::RmcpEcho;

// ----- the two echo servers -------------------------------------------------------------

struct OurEcho;

impl Handler for OurEcho {
    fn handle(&self, request: ClientRequest, _cx: RequestCx) -> BoxFuture<'static, HandlerResult> {
        Box::pin(async move {
            match request {
                ClientRequest::CallTool(p) if p.name == "echo" => {
                    let text = p
                        .arguments
                        .as_ref()
                        .and_then(|a| a.get("text"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    Ok(CallToolResult::text(text).into())
                }
                other => Err(ErrorObject::method_not_found(other.method())),
            }
        })
    }
}

fn our_service() -> Service {
    let caps = ServerCapabilities {
        tools: Some(ToolsCapability::default()),
        ..Default::default()
    };
    Service::new(
        ServerConfig::new(Implementation::new("bench-ours", "1"), caps),
        OurEcho,
    )
}

fn args(payload: &str) -> Map<String, Value> {
    let Value::Object(m) = json!({ "text": payload }) else {
        unreachable!()
    };
    m
}

// ----- clients ----------------------------------------------------------------------------

/// Our client's config; `MCP_BENCH_ERA=legacy` forces the initialize handshake (2025-11-25)
/// instead of 2026-07-28, whose per-request `_meta` costs a little on every call.
fn client_config() -> ClientConfig {
    let mut c = ClientConfig::new(Implementation::new("bench", "1"));
    if std::env::var("MCP_BENCH_ERA").as_deref() == Ok("legacy") {
        c.era = mcp_tokio::mcp_proto::session::EraPreference::Legacy;
    }
    c
}

enum Conn {
    Ours(
        mcp_tokio::mcp_driver::Client,
        Option<mcp_tokio::ChildServer>,
    ),
    Rmcp(rmcp::service::RunningService<rmcp::RoleClient, ()>),
}

impl Conn {
    async fn call(&self, payload: &str) -> usize {
        match self {
            Conn::Ours(c, _) => {
                let r = c
                    .call_tool("echo", Value::Object(args(payload)))
                    .await
                    .expect("ours: call");
                r.content[0].as_text().map_or(0, str::len)
            }
            Conn::Rmcp(c) => {
                let mut p = RCallParams::new("echo");
                p.arguments = Some(args(payload));
                let r = c.call_tool(p).await.expect("rmcp: call");
                r.content.len()
            }
        }
    }

    async fn close(self) {
        match self {
            Conn::Ours(c, child) => {
                c.close();
                if let Some(child) = child {
                    let _ = child.shutdown(Duration::from_secs(2)).await;
                }
            }
            Conn::Rmcp(c) => {
                let _ = c.cancel().await;
            }
        }
    }
}

async fn ours_in_process() -> Conn {
    let (a, b) = tokio::io::duplex(256 * 1024);
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    tokio::spawn(mcp_tokio::serve(our_service(), ar, aw));
    let c = mcp_tokio::connect(client_config(), Arc::new(NoHandler), br, bw)
        .await
        .expect("ours: connect");
    Conn::Ours(c, None)
}

async fn ours_linked() -> Conn {
    let (c, _server) = mcp_tokio::mcp_driver::connect_in_process(
        mcp_tokio::TokioRuntime,
        our_service(),
        client_config(),
        Arc::new(NoHandler),
    )
    .await
    .expect("ours: link");
    Conn::Ours(c, None)
}

async fn rmcp_in_process() -> Conn {
    let (a, b) = tokio::io::duplex(256 * 1024);
    tokio::spawn(async move {
        if let Ok(s) = RmcpEcho.serve(a).await {
            let _ = s.waiting().await;
        }
    });
    Conn::Rmcp(().serve(b).await.expect("rmcp: connect"))
}

fn self_command(which: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(std::env::current_exe().expect("own path"));
    cmd.env("MCP_BENCH_SERVE", which);
    cmd
}

async fn ours_child() -> Conn {
    let child = mcp_tokio::connect_child(
        self_command("ours"),
        client_config(),
        Arc::new(NoHandler),
        mcp_tokio::Stderr::Null,
    )
    .await
    .expect("ours: child");
    Conn::Ours(child.client().clone(), Some(child))
}

async fn rmcp_child() -> Conn {
    let mut cmd = self_command("rmcp");
    cmd.stderr(std::process::Stdio::null());
    let transport = rmcp::transport::TokioChildProcess::new(cmd).expect("rmcp: spawn");
    Conn::Rmcp(().serve(transport).await.expect("rmcp: child"))
}

// ----- timing -----------------------------------------------------------------------------

/// Median nanoseconds per sequential call over `samples` samples of `per_sample` calls.
async fn per_call(conn: &Conn, payload: &str, per_sample: usize, samples: usize) -> f64 {
    for _ in 0..per_sample.min(200) {
        black_box(conn.call(payload).await);
    }
    let mut v = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        for _ in 0..per_sample {
            black_box(conn.call(payload).await);
        }
        v.push(t.elapsed().as_nanos() as f64 / per_sample as f64);
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn report(what: &str, ours: f64, rmcp: f64, unit: &str) {
    println!(
        "{what:<44} ours {ours:>12.1} {unit}   rmcp {rmcp:>12.1} {unit}   rmcp/ours {:>6.2}x",
        rmcp / ours
    );
}

fn fmt_ns(ns: f64) -> (f64, &'static str) {
    if ns > 1e6 {
        (ns / 1e6, "ms/op")
    } else {
        (ns / 1e3, "us/op")
    }
}

async fn compare<F1, F2, Fut1, Fut2>(
    label: &str,
    ours: F1,
    rmcp: F2,
    payload: &str,
    per_sample: usize,
) where
    F1: Fn() -> Fut1,
    F2: Fn() -> Fut2,
    Fut1: std::future::Future<Output = Conn>,
    Fut2: std::future::Future<Output = Conn>,
{
    let o = ours().await;
    let r = rmcp().await;
    // Interleave the samples so machine noise hits both alike.
    let mut os = Vec::new();
    let mut rs = Vec::new();
    for _ in 0..5 {
        os.push(per_call(&o, payload, per_sample, 3).await);
        rs.push(per_call(&r, payload, per_sample, 3).await);
    }
    os.sort_by(f64::total_cmp);
    rs.sort_by(f64::total_cmp);
    let (on, unit) = fmt_ns(os[2]);
    let (rn, _) = fmt_ns(rs[2]);
    report(label, on, rn, unit);
    o.close().await;
    r.close().await;
}

async fn first_response<F, Fut>(connect: F, runs: usize) -> f64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Conn>,
{
    let mut v = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let c = connect().await;
        black_box(c.call("hi").await);
        v.push(t.elapsed().as_nanos() as f64);
        c.close().await;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // MCP_BENCH_THREADS=1 uses a current-thread runtime (no cross-thread wakeups).
    let threads: usize = std::env::var("MCP_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
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
    match std::env::var("MCP_BENCH_SERVE").as_deref() {
        Ok("ours") => {
            let _ = rt.block_on(mcp_tokio::serve_stdio(our_service()));
            return;
        }
        Ok("rmcp") => {
            rt.block_on(async {
                if let Ok(s) = RmcpEcho.serve(rmcp::transport::stdio()).await {
                    let _ = s.waiting().await;
                }
            });
            return;
        }
        _ => {}
    }
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` run must stay quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!(
        "# ours (mcp-tokio) vs rmcp 3.11 — {} CPUs, {cpu}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("# sequential tools/call round trips of an echo tool; median of interleaved samples");
    let small = "0123456789abcdef"; // 16 bytes
    let large = "x".repeat(64 * 1024);
    let (n_small, n_large, n_first) = if quick { (20, 5, 2) } else { (2000, 200, 15) };
    // MCP_BENCH_ONLY=inproc|stdio|first runs one group.
    let only = std::env::var("MCP_BENCH_ONLY").unwrap_or_default();
    let run = |group: &str| only.is_empty() || only == group;
    rt.block_on(async {
        if run("inproc") {
            // In process, each SDK's own way: ours links the sessions directly
            // (`connect_in_process`), rmcp runs over a tokio duplex pipe. Ours over the same
            // pipe is shown too.
            compare(
                "in-process, 16 B",
                ours_linked,
                rmcp_in_process,
                small,
                n_small,
            )
            .await;
            compare(
                "in-process, 64 KiB",
                ours_linked,
                rmcp_in_process,
                &large,
                n_large,
            )
            .await;
            compare(
                "duplex pipe (both), 16 B",
                ours_in_process,
                rmcp_in_process,
                small,
                n_small,
            )
            .await;
            compare(
                "duplex pipe (both), 64 KiB",
                ours_in_process,
                rmcp_in_process,
                &large,
                n_large,
            )
            .await;
        }
        if run("stdio") {
            compare(
                "stdio child process, 16 B",
                ours_child,
                rmcp_child,
                small,
                n_small / 2,
            )
            .await;
            compare(
                "stdio child process, 64 KiB",
                ours_child,
                rmcp_child,
                &large,
                n_large / 2,
            )
            .await;
        }
        if run("first") {
            let o = first_response(ours_child, n_first).await;
            let r = first_response(rmcp_child, n_first).await;
            report(
                "time to first response (spawn+handshake+call)",
                o / 1e6,
                r / 1e6,
                "ms   ",
            );
        }
    });
}
