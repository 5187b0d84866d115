//! A hostile peer against the runtime's own streamable HTTP server (its `everything`
//! example as a real child process, on 127.0.0.1): garbage bodies, unknown methods, a
//! notification flood, deep nesting, oversized bodies (announced and chunked), half-closed
//! and half-sent connections, and peers that pipeline requests and never read. The peer is
//! plain threads and `std::net`, so it cannot be slowed by the runtime under test.
//!
//! What must hold: every request gets exactly one answer (an HTTP refusal for what is not
//! JSON-RPC); a well-behaved client on its own connections keeps being answered during the
//! attack (its latency is measured and reported, not asserted); the server's peak memory
//! stays far below what was sent.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_driver::Runtime;
use serde_json::{json, Value};

use crate::child::{example_binary, Processes};
use crate::hostile::peak_rss;

const VERSION: &str = "2025-11-25";
const OVERSIZED: usize = 64 * 1024 * 1024;
const DEPTH: usize = 100_000;
const GARBAGE: usize = 200;
const UNKNOWN: usize = 200;
const NOTIFICATIONS: usize = 1000;
const NEVER_READERS: usize = 16;
const PIPELINED: usize = 32;
const ECHO_TEXT: usize = 64 * 1024;

/// Current resident memory of a process (Linux), in bytes.
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// One answer: status, lowercase head, body (the connection is closed after it).
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    /// The JSON-RPC messages in the body (a JSON body, or the `data` of SSE events).
    fn messages(&self) -> Vec<Value> {
        let text = String::from_utf8_lossy(&self.body);
        if self.head.contains("content-type: text/event-stream") {
            return text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str(d.trim()).ok())
                .collect();
        }
        match serde_json::from_str::<Value>(text.trim()) {
            Ok(Value::Array(items)) => items,
            Ok(v) => vec![v],
            Err(_) => Vec::new(),
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_owned())
        })
    }
}

/// The request head of a POST to `/mcp` with `len` body bytes (`None`: chunked).
fn post_head(addr: SocketAddr, session: Option<&str>, len: Option<usize>) -> String {
    let mut h = format!(
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\nmcp-protocol-version: {VERSION}\r\n"
    );
    if let Some(s) = session {
        h.push_str(&format!("mcp-session-id: {s}\r\n"));
    }
    match len {
        Some(n) => h.push_str(&format!("content-length: {n}\r\nconnection: close\r\n\r\n")),
        None => h.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n"),
    }
    h
}

/// Reads a whole close-delimited answer (any framing: the body is kept raw, chunk sizes
/// included, which the message search tolerates).
fn read_answer(s: &mut TcpStream) -> Option<Answer> {
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut body = raw[end + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Some(Answer { status, head, body })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < i + 2 + size {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + size]);
        b = &b[(i + 4 + size).min(b.len())..];
    }
    out
}

/// One POST on a connection of its own; `None` if the server closed it without an answer.
fn post(addr: SocketAddr, session: Option<&str>, body: &[u8]) -> Option<Answer> {
    let mut s = TcpStream::connect(addr).ok()?;
    let _ = s.set_nodelay(true);
    s.write_all(post_head(addr, session, Some(body.len())).as_bytes())
        .ok()?;
    // The server may refuse before reading it all.
    let _ = s.write_all(body);
    read_answer(&mut s)
}

/// The answer to request `id` in `a`, exactly once.
fn one_answer<'a>(a: &'a [Value], id: &str) -> &'a Value {
    let hits: Vec<&Value> = a.iter().filter(|m| m["id"] == id).collect();
    assert_eq!(hits.len(), 1, "answers to {id}: {a:?}");
    hits[0]
}

/// The attack, against the runtime's HTTP server.
pub async fn a_hostile_http_peer_gets_one_answer_per_request_in_bounded_memory<
    R: Runtime,
    P: Processes,
>(
    _rt: R,
    _procs: P,
) {
    let mut child = Command::new(example_binary(P::EVERYTHING))
        .args(["http", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the everything example starts");
    let pid = child.id();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let addr: SocketAddr = loop {
        let mut l = String::new();
        assert!(
            stderr.read_line(&mut l).expect("stderr") > 0,
            "the server ended"
        );
        if let Some(rest) = l.split("http://").nth(1) {
            break rest
                .trim()
                .trim_end_matches("/mcp")
                .parse()
                .expect("address");
        }
    };
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));

    // A legacy session, shared by the attacker and the well-behaved client.
    let init = json!({"jsonrpc":"2.0","id":"init","method":"initialize","params":{
        "protocolVersion": VERSION,"capabilities":{},"clientInfo":{"name":"hostile","version":"0"}}});
    let a = post(addr, None, init.to_string().as_bytes()).expect("initialize answered");
    assert_eq!(a.status, 200);
    let session = a.header("mcp-session-id").expect("a session id");
    let inited = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    let a = post(addr, Some(&session), inited.to_string().as_bytes()).expect("answered");
    assert_eq!(a.status, 202);
    let baseline = rss(pid);

    let done = Arc::new(AtomicBool::new(false));
    let attacker = {
        let (session, done) = (session.clone(), done.clone());
        std::thread::spawn(move || {
            let r = attack(addr, &session);
            done.store(true, Ordering::SeqCst);
            r
        })
    };

    // The well-behaved client: pings on connections of its own until the attack is over.
    let mut latency = Vec::new();
    let mut n = 0;
    while !done.load(Ordering::SeqCst) || n < 3 {
        let id = format!("probe-{n}");
        n += 1;
        let ping = json!({"jsonrpc":"2.0","id":id,"method":"ping"});
        let sent = Instant::now();
        let a = post(addr, Some(&session), ping.to_string().as_bytes())
            .unwrap_or_else(|| panic!("{id} got no answer during the attack"));
        latency.push(sent.elapsed());
        assert_eq!(a.status, 200, "{id}");
        let m = a.messages();
        assert!(one_answer(&m, &id)["result"].is_object(), "{id}: {m:?}");
    }
    let (sent_bytes, held) = attacker.join().expect("the attacker thread");
    let peak = peak_rss(pid);
    let after = rss(pid);
    drop(held);
    let _ = child.kill();
    let _ = child.wait();

    latency.sort();
    let median = latency[latency.len() / 2];
    let max = latency[latency.len() - 1];
    eprintln!(
        "hostile HTTP peer: {n} probes answered during the attack, latency median {median:?} \
         max {max:?}; server RSS {:?} MiB before, peak {:?} MiB, {:?} MiB while {NEVER_READERS} \
         peers never read, after {} MiB sent",
        baseline.map(|b| b / (1024 * 1024)),
        peak.map(|b| b / (1024 * 1024)),
        after.map(|b| b / (1024 * 1024)),
        sent_bytes / (1024 * 1024)
    );
    if let (Some(before), Some(peak)) = (baseline, peak) {
        assert!(
            peak.saturating_sub(before) < (OVERSIZED as u64) / 4,
            "the server grew by {} MiB",
            (peak - before) / (1024 * 1024)
        );
    }
}

/// Every wave of the attack; returns the bytes sent and the connections still held (never
/// read, half-sent), to be dropped once memory was measured.
fn attack(addr: SocketAddr, session: &str) -> (usize, Vec<TcpStream>) {
    let mut sent = 0usize;
    let mut held = Vec::new();

    // Peers that pipeline calls with large answers and never read them.
    let text = "x".repeat(ECHO_TEXT);
    for p in 0..NEVER_READERS {
        let mut s = TcpStream::connect(addr).expect("connect");
        let mut wire = Vec::new();
        for i in 0..PIPELINED {
            let call = json!({"jsonrpc":"2.0","id":format!("unread-{p}-{i}"),"method":"tools/call",
                "params":{"name":"echo","arguments":{"text":text}}})
            .to_string();
            let head = post_head(addr, Some(session), Some(call.len()))
                .replace("connection: close\r\n", "");
            wire.extend_from_slice(head.as_bytes());
            wire.extend_from_slice(call.as_bytes());
        }
        sent += wire.len();
        // The server stops reading once its answers back up: write what it takes.
        s.set_write_timeout(Some(Duration::from_secs(2))).ok();
        let _ = s.write_all(&wire);
        held.push(s);
    }
    // Half-sent requests: a head announcing a body that never comes.
    for _ in 0..32 {
        let mut s = TcpStream::connect(addr).expect("connect");
        let _ = s.write_all(post_head(addr, Some(session), Some(1000)).as_bytes());
        let _ = s.write_all(b"{\"jsonrpc\":");
        held.push(s);
    }

    // Garbage bodies: each refused once, as a parse error.
    for i in 0..GARBAGE {
        let body = format!("garbage {i} {{not json");
        sent += body.len();
        let a = post(addr, Some(session), body.as_bytes()).expect("garbage answered");
        assert_eq!(a.status, 400, "garbage {i}");
        let m = a.messages();
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0]["error"]["code"], -32700, "{m:?}");
    }
    // Unknown methods: each answered once, -32601.
    for i in 0..UNKNOWN {
        let id = format!("unknown-{i}");
        let body = json!({"jsonrpc":"2.0","id":id,"method":"no/such/method"}).to_string();
        sent += body.len();
        let a = post(addr, Some(session), body.as_bytes()).expect("answered");
        let m = a.messages();
        assert_eq!(one_answer(&m, &id)["error"]["code"], -32601, "{m:?}");
    }
    // A notification flood, valid and not: accepted, never answered with a message.
    for i in 0..NOTIFICATIONS {
        let body = if i % 2 == 0 {
            json!({"jsonrpc":"2.0","method":"notifications/whatever","params":{"i":i}})
        } else {
            json!({"jsonrpc":"1.0","method":"notifications/malformed"})
        }
        .to_string();
        sent += body.len();
        let a = post(addr, Some(session), body.as_bytes()).expect("answered");
        assert!(a
            .messages()
            .iter()
            .all(|m| m.get("id").is_none() || m["id"].is_null()));
        assert!(
            a.status == 202 || a.status == 400,
            "notification {i}: {}",
            a.status
        );
    }
    // Deep nesting: one answer, an error.
    let mut deep = String::from("{\"jsonrpc\":\"2.0\",\"id\":\"deep\",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":");
    deep.push_str(&"[".repeat(DEPTH));
    deep.push_str(&"]".repeat(DEPTH));
    deep.push_str("}}}");
    sent += deep.len();
    let a = post(addr, Some(session), deep.as_bytes()).expect("deep answered");
    let m = a.messages();
    assert!(m.len() <= 1, "{m:?}");
    assert!(
        a.status >= 400 || m.first().is_some_and(|v| v["error"].is_object()),
        "deep: {} {m:?}",
        a.status
    );
    // Oversized bodies, announced and chunked: refused, never buffered.
    for announced in [true, false] {
        let mut s = TcpStream::connect(addr).expect("connect");
        let len = announced.then_some(OVERSIZED);
        s.write_all(post_head(addr, Some(session), len).as_bytes())
            .expect("head");
        let block = vec![b'x'; 1024 * 1024];
        for _ in 0..OVERSIZED / block.len() {
            let ok = if announced {
                s.write_all(&block).is_ok()
            } else {
                s.write_all(format!("{:x}\r\n", block.len()).as_bytes())
                    .and_then(|()| s.write_all(&block))
                    .and_then(|()| s.write_all(b"\r\n"))
                    .is_ok()
            };
            if !ok {
                break; // refused and closed early
            }
            sent += block.len();
        }
        if !announced {
            let _ = s.write_all(b"0\r\n\r\n");
        }
        let a = read_answer(&mut s).expect("an oversized body is answered");
        assert_eq!(a.status, 413, "oversized (announced: {announced})");
    }
    // Half-closed: a whole request, then our side closes; answered, or the connection ends.
    let mut answers: HashMap<String, usize> = HashMap::new();
    for i in 0..20 {
        let id = format!("last-{i}");
        let body = json!({"jsonrpc":"2.0","id":id,"method":"ping"}).to_string();
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(post_head(addr, Some(session), Some(body.len())).as_bytes())
            .expect("head");
        s.write_all(body.as_bytes()).expect("body");
        s.shutdown(Shutdown::Write).expect("half-close");
        if let Some(a) = read_answer(&mut s) {
            for m in a.messages() {
                if let Some(id) = m["id"].as_str() {
                    *answers.entry(id.to_owned()).or_default() += 1;
                }
            }
        }
    }
    assert!(answers.values().all(|&n| n == 1), "{answers:?}");
    (sent, held)
}
