//! A hostile peer against the runtime's own stdio server (its `everything` example as a real
//! child process): floods of garbage lines, an oversized line, deep nesting, unknown
//! methods, malformed and valid notification floods, then a half-close. The peer is plain
//! threads and pipes, so it cannot be slowed by the runtime under test.
//!
//! What must hold: every request gets exactly one answer and every line that is not JSON-RPC
//! exactly one error, notifications none; a ping sent between attack waves is still
//! answered; the server's peak memory stays far below what was sent; after the peer closes
//! its side (half-open), everything it sent is still answered before the server exits.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mcp_driver::Runtime;
use serde_json::{json, Value};

use crate::child::{example_binary, Processes};

/// One line read from the server, or its end.
enum Heard {
    Line(Value, Instant),
    End,
}

/// Sizes of the attack. The oversized line alone is 16 times the default frame limit.
const GARBAGE_PER_WAVE: usize = 500;
const WAVES: usize = 8;
const OVERSIZED: usize = 64 * 1024 * 1024;
const DEPTH: usize = 100_000;

/// Peak resident memory of a process (Linux), in bytes.
pub(crate) fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn line(w: &mut impl Write, v: &Value) {
    let mut bytes = serde_json::to_vec(v).expect("encodes");
    bytes.push(b'\n');
    w.write_all(&bytes).expect("the server reads");
}

/// Waits for the answer to `id`, keeping everything else heard on the way.
fn await_id(rx: &mpsc::Receiver<Heard>, heard: &mut Vec<(Value, Instant)>, id: &str) -> Instant {
    loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Heard::Line(v, at)) => {
                let hit = answers(&v).any(|a| a["id"] == id);
                heard.push((v, at));
                if hit {
                    return at;
                }
            }
            Ok(Heard::End) => panic!("the server ended before answering {id}"),
            Err(_) => panic!("no answer to {id} within two minutes"),
        }
    }
}

/// The messages of one line: itself, or the items of a batch answer.
fn answers(v: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match v {
        Value::Array(items) => Box::new(items.iter()),
        one => Box::new(std::iter::once(one)),
    }
}

/// The attack, against the runtime's stdio server.
pub async fn a_hostile_stdio_peer_gets_one_answer_per_request_in_bounded_memory<
    R: Runtime,
    P: Processes,
>(
    _rt: R,
    _procs: P,
) {
    let mut child = Command::new(example_binary(P::EVERYTHING))
        .arg("stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the everything example starts");
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { break };
            let v: Value = serde_json::from_str(&l).expect("the server writes JSON lines");
            if tx.send(Heard::Line(v, Instant::now())).is_err() {
                return;
            }
        }
        let _ = tx.send(Heard::End);
    });
    let mut heard = Vec::new();

    line(
        &mut stdin,
        &json!({"jsonrpc":"2.0","id":"init","method":"initialize","params":{
            "protocolVersion":"2025-03-26","capabilities":{},
            "clientInfo":{"name":"hostile","version":"0"}}}),
    );
    await_id(&rx, &mut heard, "init");
    line(
        &mut stdin,
        &json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    );
    let baseline = peak_rss(pid);

    let mut requests = Vec::new();
    let mut bad_lines = 0usize;
    let mut probe_latency = Vec::new();
    for wave in 0..WAVES {
        let mut chunk = Vec::new();
        for i in 0..GARBAGE_PER_WAVE {
            writeln!(chunk, "garbage {wave}/{i} {{not json").unwrap();
            bad_lines += 1;
        }
        // Items that are not objects, a batch of them, and one that looks like a ping.
        chunk.extend_from_slice(b"[[\"2.0\",\"x\",\"ping\"],7]\n");
        bad_lines += 2;
        stdin.write_all(&chunk).expect("the server reads");
        for i in 0..50 {
            let id = format!("unknown-{wave}-{i}");
            line(
                &mut stdin,
                &json!({"jsonrpc":"2.0","id":id,"method":"no/such/method"}),
            );
            requests.push(id);
            // Notifications, valid and not: never answered.
            line(
                &mut stdin,
                &json!({"jsonrpc":"2.0","method":"notifications/whatever","params":{"i":i}}),
            );
            line(
                &mut stdin,
                &json!({"jsonrpc":"1.0","method":"notifications/malformed"}),
            );
        }
        if wave == 1 {
            let mut deep = String::from("{\"jsonrpc\":\"2.0\",\"id\":\"deep\",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":");
            deep.push_str(&"[".repeat(DEPTH));
            deep.push_str(&"]".repeat(DEPTH));
            deep.push_str("}}}\n");
            stdin.write_all(deep.as_bytes()).expect("the server reads");
            bad_lines += 1;
        }
        if wave == 2 {
            let block = vec![b'x'; 1024 * 1024];
            stdin.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":\"huge\",\"method\":\"ping\",\"params\":{\"pad\":\"").unwrap();
            for _ in 0..OVERSIZED / block.len() {
                stdin.write_all(&block).expect("the server reads");
            }
            stdin.write_all(b"\"}}\n").unwrap();
            bad_lines += 1;
        }
        // A well-behaved request in the middle of the attack.
        let probe = format!("probe-{wave}");
        let sent = Instant::now();
        line(
            &mut stdin,
            &json!({"jsonrpc":"2.0","id":probe,"method":"ping"}),
        );
        requests.push(probe.clone());
        probe_latency.push(await_id(&rx, &mut heard, &probe) - sent);
    }
    let peak = peak_rss(pid);

    // Half-open: requests, then our side closes; each is still answered before the end.
    for i in 0..20 {
        let id = format!("last-{i}");
        line(
            &mut stdin,
            &json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}),
        );
        requests.push(id);
    }
    drop(stdin);
    loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Heard::Line(v, at)) => heard.push((v, at)),
            Ok(Heard::End) => break,
            Err(_) => panic!("the server neither answered nor ended after the half-close"),
        }
    }
    reader.join().expect("reader thread");
    let status = child.wait().expect("the server exits");
    assert!(status.success(), "the server exited with {status}");

    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut id_less_errors = 0;
    for (v, _) in &heard {
        for a in answers(v) {
            assert!(a.get("method").is_none(), "the server sent {a}");
            match &a["id"] {
                Value::String(id) => *by_id.entry(id.clone()).or_default() += 1,
                Value::Null => {
                    assert!(a["error"].is_object(), "{a}");
                    id_less_errors += 1;
                }
                other => panic!("answer with id {other}"),
            }
        }
    }
    for id in &requests {
        assert_eq!(
            by_id.get(id),
            Some(&1),
            "{id} answered {:?} times",
            by_id.get(id)
        );
    }
    // The deep and the oversized request are refused with their id or without it.
    let refused_with_id = ["deep", "huge"]
        .iter()
        .filter(|id| by_id.get(**id) == Some(&1))
        .count();
    assert_eq!(
        id_less_errors + refused_with_id,
        bad_lines,
        "one error per bad line"
    );
    assert_eq!(
        by_id.len(),
        requests.len() + 1 + refused_with_id,
        "answers to requests never sent"
    );

    let slowest = probe_latency.iter().max().copied().unwrap_or_default();
    eprintln!(
        "hostile stdio peer: {} lines answered; probe latency max {slowest:?} over {WAVES} waves; \
         server peak RSS {:?} MiB before, {:?} MiB after {} MiB of attack",
        heard.len(),
        baseline.map(|b| b / (1024 * 1024)),
        peak.map(|b| b / (1024 * 1024)),
        (OVERSIZED + WAVES * GARBAGE_PER_WAVE * 30) / (1024 * 1024)
    );
    if let (Some(before), Some(after)) = (baseline, peak) {
        assert!(
            after.saturating_sub(before) < (OVERSIZED as u64) / 4,
            "the server grew by {} MiB",
            (after - before) / (1024 * 1024)
        );
    }
}
