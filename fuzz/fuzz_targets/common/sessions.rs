//! Targets that feed raw bytes to one session: `server_bytes` and `client_bytes` check that
//! the chunking of the input changes nothing, `server_app` and `client_app` run an
//! application against it.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use mcp_proto::entropy::SeededEntropy;
use mcp_proto::jsonrpc::RequestId;
use mcp_proto::schema::messages::ClientRequest;
use mcp_proto::session::{
    ClientEvent, ClientSession, RequestOptions, ServerConfig, ServerEvent, ServerSession, Transmit,
    UsageError,
};

use super::fixtures;
use super::reader::{check_frame, Chunker, Reader};

pub fn new_server(config: ServerConfig, now: Instant) -> ServerSession {
    ServerSession::new(
        config,
        now,
        SystemTime::UNIX_EPOCH,
        Box::new(SeededEntropy::new(0x5eed)),
    )
}

/// Everything a session said, in order.
#[derive(Debug, PartialEq)]
struct Output<E> {
    frames: Vec<Transmit>,
    events: Vec<E>,
}

impl<E> Default for Output<E> {
    fn default() -> Self {
        Output {
            frames: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// Input: `[config flags, chunk seed, stream...]`.
///
/// Passive runs (nobody answers): the stream in one read and in seeded chunks must produce
/// the same frames and events, and the buffer stays within the frame limit. What the
/// application does with the requests is [`server_app`]'s; the two were one target, whose
/// four passes per input made it too slow to find anything.
pub fn server_bytes(data: &[u8]) {
    let mut r = Reader::new(data);
    let flags = r.u8();
    let seed = r.u8();
    let input = r.rest();
    let config = fixtures::server_config(flags);

    // Frames are checked once: the chunked run must write the very same ones.
    let whole = server_passive(config.clone(), input, &mut Chunker::whole(), true);
    let chunked = server_passive(config, input, &mut Chunker::new(seed), false);
    assert_eq!(
        whole, chunked,
        "server output depends on how input was split"
    );
}

/// Input: `[config flags, chunk seed, stream...]`, as for [`server_bytes`].
///
/// 1. An active run: an application answers, errors, reports progress, creates and finishes
///    tasks, as chosen by the seed; answering twice must never put a second frame on the
///    wire; after `close` nothing is left in flight.
/// 2. A few lines, and the whole input, through `handle_message`.
pub fn server_app(data: &[u8]) {
    let mut r = Reader::new(data);
    let flags = r.u8();
    let seed = r.u8();
    let input = r.rest();
    let config = fixtures::server_config(flags);

    server_active(config.clone(), input, seed);

    // `handle_message` shares everything past framing with `handle_bytes`, which the runs
    // above drove through every line: a few lines cover its own entry.
    let now = Instant::now();
    let mut server = new_server(config, now);
    for line in input.split(|&b| b == b'\n').take(MESSAGE_LINES) {
        server.handle_message(now, line);
        drain_server(&mut server, true);
    }
    server.handle_message(now, input);
    drain_server(&mut server, true);
}

/// Lines of an input also fed one by one to `handle_message`.
const MESSAGE_LINES: usize = 4;

fn drain_server(server: &mut ServerSession, check: bool) -> Output<ServerEvent> {
    let mut out = Output::default();
    while let Some(t) = server.poll_transmit() {
        if check {
            check_frame(&t.frame);
        }
        out.frames.push(t);
    }
    while let Some(e) = server.poll_event() {
        out.events.push(e);
    }
    out
}

fn server_passive(
    config: ServerConfig,
    input: &[u8],
    chunks: &mut Chunker,
    check: bool,
) -> Output<ServerEvent> {
    let now = Instant::now();
    let max = config.max_frame_len;
    let max_in_flight = config.max_in_flight;
    let mut server = new_server(config, now);
    let mut buf = BytesMut::new();
    let mut out = Output::default();
    for read in chunks.split(input) {
        buf.extend_from_slice(read);
        server.handle_bytes(now, &mut buf);
        assert!(
            buf.len() <= max + 1,
            "server kept {} bytes buffered",
            buf.len()
        );
        assert!(
            server.in_flight() <= max_in_flight,
            "in-flight limit exceeded"
        );
        let o = drain_server(&mut server, check);
        out.frames.extend(o.frames);
        out.events.extend(o.events);
    }
    server.handle_eof(now, &mut buf);
    let o = drain_server(&mut server, check);
    out.frames.extend(o.frames);
    out.events.extend(o.events);
    out
}

fn server_active(config: ServerConfig, input: &[u8], seed: u8) {
    let mut now = Instant::now();
    let max_in_flight = config.max_in_flight;
    let mut server = new_server(config, now);
    let mut rng = Chunker::new(seed.wrapping_add(1));
    let mut open: Vec<(RequestId, ClientRequest)> = Vec::new();
    let mut tasks: Vec<String> = Vec::new();
    let mut buf = BytesMut::new();

    for read in Chunker::new(seed).split(input) {
        buf.extend_from_slice(read);
        server.handle_bytes(now, &mut buf);
        for e in drain_server(&mut server, true).events {
            match e {
                ServerEvent::Request { id, request, .. } => open.push((id, request)),
                ServerEvent::Cancelled { id, .. } => open.retain(|(o, _)| *o != id),
                _ => {}
            }
        }
        assert!(server.in_flight() <= max_in_flight);
        // The application acts on some of what it holds.
        let mut i = 0;
        while i < open.len() {
            let choice = rng.next_u64() % 8;
            let (id, request) = open[i].clone();
            let done = match choice {
                0 | 1 => {
                    server
                        .respond(&id, fixtures::server_result(&request))
                        .expect("answering an open request");
                    true
                }
                2 => {
                    server
                        .respond_error(&id, fixtures::app_error())
                        .expect("refusing an open request");
                    true
                }
                3 => {
                    let _ = server.notify_progress(&id, (rng.next_u64() % 100) as f64, None, None);
                    false
                }
                4 => match server.create_task(now, &id, Some(Duration::from_secs(5))) {
                    Ok(task) => {
                        tasks.push(task);
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            };
            if done {
                drain_server(&mut server, true);
                assert_answered_once(&mut server, &id, &request);
                open.remove(i);
            } else {
                i += 1;
            }
        }
        for task in &tasks {
            if rng.next_u64().is_multiple_of(4) {
                let outcome = Ok(fixtures::server_result(&fixtures::client_request(1, "")));
                let _ = server.finish_task(now, task, outcome);
            }
        }
        now += Duration::from_millis(rng.next_u64() % 4000);
        if server.poll_timeout().is_some_and(|t| t <= now) {
            server.handle_timeout(now);
        }
        drain_server(&mut server, true);
    }
    server.handle_eof(now, &mut buf);
    drain_server(&mut server, true);
    server.close();
    drain_server(&mut server, true);
    assert_eq!(server.in_flight(), 0, "requests left in flight after close");
}

/// A second answer to an answered request is refused or ignored, never sent.
fn assert_answered_once(server: &mut ServerSession, id: &RequestId, request: &ClientRequest) {
    let again = server.respond(id, fixtures::server_result(request));
    assert!(
        matches!(again, Ok(()) | Err(UsageError::UnknownRequest(_))),
        "unexpected second-answer outcome {again:?}"
    );
    let _ = server.respond_error(id, fixtures::app_error());
    assert!(
        server.poll_transmit().is_none(),
        "a request was answered twice on the wire"
    );
}

/// Input: `[mode, chunk seed, stream...]`; `mode % 4` picks the client state before the
/// stream: 0 probing (auto), 1 initializing (legacy), 2 connected on 2026-07-28, 3 connected
/// on a legacy session. Requests are already pending, so responses in the stream can hit
/// them: five kinds, each left out when its bit (2 to 6) of `mode` is set, so the fuzzer
/// chooses how much setup an input pays for.
///
/// Passive runs must not depend on the chunking. [`client_app`] is the active run.
pub fn client_bytes(data: &[u8]) {
    let mut r = Reader::new(data);
    let mode = r.u8();
    let seed = r.u8();
    let input = r.rest();

    // Frames are checked once: the chunked run must write the very same ones.
    let whole = client_run(mode, input, &mut Chunker::whole(), false);
    let chunked = CHECK_FRAMES.with(|c| {
        c.set(false);
        let out = client_run(mode, input, &mut Chunker::new(seed), false);
        c.set(true);
        out
    });
    assert_eq!(
        whole, chunked,
        "client output depends on how input was split"
    );
}

/// Input as for [`client_bytes`]. In the active run the application answers server
/// requests; at the end time runs past every timeout and the client closes, and every
/// request sent must then have had exactly one `Response` event.
pub fn client_app(data: &[u8]) {
    let mut r = Reader::new(data);
    let mode = r.u8();
    let seed = r.u8();
    let input = r.rest();
    client_run(mode, input, &mut Chunker::new(seed), true);
}

thread_local! {
    /// Whether `drain_client` checks the frames it drains.
    static CHECK_FRAMES: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

fn drain_client(client: &mut ClientSession) -> Output<ClientEvent> {
    let mut out = Output::default();
    let check = CHECK_FRAMES.with(|c| c.get());
    while let Some(t) = client.poll_transmit() {
        if check {
            check_frame(&t.frame);
        }
        out.frames.push(t);
    }
    while let Some(e) = client.poll_event() {
        out.events.push(e);
    }
    out
}

/// A client in the state `mode` asks for, with a few requests sent.
fn client_in_mode(mode: u8, now: Instant) -> (ClientSession, Vec<RequestId>) {
    let era = match mode % 4 {
        1 | 3 => mcp_proto::session::EraPreference::Legacy,
        _ => mcp_proto::session::EraPreference::Auto,
    };
    let mut client = ClientSession::new(fixtures::client_config(era, true), now);
    client.connect(now).expect("connect");
    if mode % 4 >= 2 {
        // A real handshake with a real server, recorded once per thread and mode: the
        // client's side of it is deterministic, so later inputs replay the server's bytes
        // instead of running a server for every input.
        thread_local! {
            static HANDSHAKES: std::cell::RefCell<HashMap<u8, Vec<BytesMut>>> =
                std::cell::RefCell::new(HashMap::new());
        }
        let recorded = HANDSHAKES.with(|h| h.borrow().get(&(mode % 4)).cloned());
        match recorded {
            Some(rounds) => {
                for mut back in rounds {
                    while client.poll_transmit().is_some() {}
                    client.handle_bytes(now, &mut back);
                }
            }
            None => {
                let mut server = new_server(fixtures::server_config(0), now);
                let mut rounds = Vec::new();
                for _ in 0..4 {
                    let mut wire = BytesMut::new();
                    while let Some(t) = client.poll_transmit() {
                        wire.extend_from_slice(&t.frame);
                    }
                    server.handle_bytes(now, &mut wire);
                    let mut back = BytesMut::new();
                    while let Some(t) = server.poll_transmit() {
                        back.extend_from_slice(&t.frame);
                    }
                    while server.poll_event().is_some() {}
                    rounds.push(back.clone());
                    client.handle_bytes(now, &mut back);
                }
                HANDSHAKES.with(|h| h.borrow_mut().insert(mode % 4, rounds));
            }
        }
        assert!(client.is_ready(), "handshake with the real server failed");
        while client.poll_event().is_some() {}
    }
    let mut sent = Vec::new();
    let left_out = mode >> 2;
    for (bit, kind) in [0, 1, 10, 9, 4].into_iter().enumerate() {
        if left_out & (1 << bit) != 0 {
            continue;
        }
        let progress = RequestOptions::default().with_progress(kind == 1);
        if let Ok(id) = client.send_request(now, fixtures::client_request(kind, "t"), progress) {
            sent.push(id);
        }
    }
    (client, sent)
}

fn client_run(mode: u8, input: &[u8], chunks: &mut Chunker, active: bool) -> Output<ClientEvent> {
    let mut now = Instant::now();
    let (mut client, sent) = client_in_mode(mode, now);
    let mut rng = Chunker::new(mode);
    let mut buf = BytesMut::new();
    let mut out = Output::default();
    let max = fixtures::client_config(Default::default(), true).max_frame_len;

    client_step(&mut client, &mut out, active.then_some(&mut rng));
    for read in chunks.split(input) {
        buf.extend_from_slice(read);
        client.handle_bytes(now, &mut buf);
        assert!(buf.len() <= max + 1);
        client_step(&mut client, &mut out, active.then_some(&mut rng));
        if active {
            now += Duration::from_millis(time_step(&mut rng));
            if client.poll_timeout().is_some_and(|t| t <= now) {
                client.handle_timeout(now);
            }
            client_step(&mut client, &mut out, Some(&mut rng));
        }
    }
    client.handle_eof(now, &mut buf);
    client_step(&mut client, &mut out, active.then_some(&mut rng));
    if !active {
        return out;
    }

    // Run the clock past every deadline, then close: every request is now settled.
    for _ in 0..1000 {
        let Some(t) = client.poll_timeout() else {
            break;
        };
        now = now.max(t);
        client.handle_timeout(now);
        client_step(&mut client, &mut out, Some(&mut rng));
    }
    assert!(client.poll_timeout().is_none(), "timers never drain");
    client.close();
    client_step(&mut client, &mut out, Some(&mut rng));
    assert_eq!(client.pending(), 0, "requests pending after close");

    let mut outcomes: HashMap<RequestId, usize> = HashMap::new();
    for e in &out.events {
        if let Some(id) = request_outcome(e) {
            *outcomes.entry(id.clone()).or_default() += 1;
        }
    }
    for id in &sent {
        assert_eq!(
            outcomes.get(id).copied().unwrap_or(0),
            1,
            "request {id} did not get exactly one outcome"
        );
    }
    for id in outcomes.keys() {
        assert!(sent.contains(id), "outcome for a request never sent: {id}");
    }
    out
}

/// Drains the client into `out`; with an `app`, answers (or refuses) each server request and
/// checks that a second answer is refused and never sent.
fn client_step(
    client: &mut ClientSession,
    out: &mut Output<ClientEvent>,
    app: Option<&mut Chunker>,
) {
    let o = drain_client(client);
    if let Some(rng) = app {
        for e in &o.events {
            let ClientEvent::Request { id, request } = e else {
                continue;
            };
            // With a cancel or a reused id in the same batch, which request an answer hits
            // depends on the order; only check the plain case strictly.
            let mentions =
                o.events
                    .iter()
                    .filter(|l| match l {
                        ClientEvent::Request { id: c, .. }
                        | ClientEvent::Cancelled { id: c, .. } => c == id,
                        _ => false,
                    })
                    .count();
            let first = if rng.next_u64().is_multiple_of(2) {
                client.respond(id, fixtures::client_result(request))
            } else {
                client.respond_error(id, fixtures::app_error())
            };
            let frames = drain_client(client).frames.len();
            if mentions == 1 {
                assert!(first.is_ok(), "first answer to {id}: {first:?}");
                assert_eq!(frames, 1, "answer frames for {id}");
                assert!(client.respond_error(id, fixtures::app_error()).is_err());
                assert!(
                    client.poll_transmit().is_none(),
                    "request {id} answered twice"
                );
            }
        }
    }
    out.frames.extend(o.frames);
    out.events.extend(o.events);
}

/// The request a client event ends, if any: every ending (result, error, timeout, close,
/// a server's teardown of a listen stream) is exactly one `Response`.
pub fn request_outcome(e: &ClientEvent) -> Option<&RequestId> {
    match e {
        ClientEvent::Response { id, .. } => Some(id),
        _ => None,
    }
}

fn time_step(rng: &mut Chunker) -> u64 {
    match rng.next_u64() % 4 {
        0 => 0,
        1 => 500,
        2 => 2500,
        _ => 30_000,
    }
}
