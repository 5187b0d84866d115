//! The `pair_legacy` and `pair_modern` targets: op sequences against a client and a server joined by a lossy link.
//!
//! An input is a [`Script`]: two setup bytes, then ops, each a tag byte followed by its
//! arguments (see [`Script::decode`]; [`Script::encode`] is the inverse, used to write seeds).
//! The simulation runs on a fake clock. After the last op the link is made reliable, both
//! applications answer everything they hold, and time runs past every deadline; then:
//!
//! - every request the client sent got exactly one `Response` event (result, error, timeout
//!   or closed), unless the client cancelled it, in which case it got none;
//! - the same for every request the server sent its client;
//! - every request the server application received was answered at most once on the wire;
//! - nothing is left in flight on either side, and the tables stayed within their limits.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mcp_proto::jsonrpc::RequestId;
use mcp_proto::schema::messages::{ClientRequest, ServerRequest, ServerResult};
use mcp_proto::schema::mrtr::{InputRequest, InputRequests, InputRequiredResult};
use mcp_proto::schema::Era;
use mcp_proto::session::{
    ClientEvent, ClientSession, RequestContext, RequestOptions, ServerEvent, ServerSession,
};
use mcp_proto::tasks::TaskStatus;

use super::fixtures;
use super::reader::{check_frame, frame_value, Chunker, Reader};
use super::sessions::{new_server, request_outcome};

/// Which way a frame travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    ToServer = 0,
    /// Server to client.
    ToClient = 1,
}

impl Dir {
    fn from_byte(b: u8) -> Dir {
        if b & 1 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        }
    }
}

/// One step of a scenario. `pick` arguments choose among what is currently open (modulo its
/// length); an op with nothing to act on does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// The client sends a request of kind `kind` (see [`fixtures::client_request`]). `opts`:
    /// bit 0 asks for progress, bit 1 disables the timeout, bits 2-3 pick a known task id.
    Send { kind: u8, opts: u8 },
    /// The client cancels one of its requests.
    ClientCancel { pick: u8 },
    /// The client application answers (or refuses) a server request.
    ClientAnswer { pick: u8, refuse: bool },
    /// The server application answers an open request: `how` 0-1 result, 2 error,
    /// 3 `input_required` where allowed.
    Respond { pick: u8, how: u8 },
    /// The server application answers the request it answered last, again.
    RespondAgain,
    /// Progress on an open request (`step` 255 tries NaN).
    Progress { pick: u8, step: u8 },
    /// Turns an open `tools/call` into a task (`ttl` 0: default, else seconds).
    CreateTask { pick: u8, ttl: u8 },
    /// Moves a task along: `how` 0 working, 1 completed, 2 failed, 3 input required,
    /// 4 cancelled.
    TaskStep { pick: u8, how: u8 },
    /// The server sends its client a request (legacy sessions only), optionally tied to
    /// an open client request.
    Ask { kind: u8, related: bool },
    /// The server gives up on one of its requests.
    CancelAsk { pick: u8 },
    /// The server ends a listen stream.
    CloseSubscription { pick: u8 },
    /// The server sends a list-changed or resource-updated notification.
    Notify { kind: u8 },
    /// Delivers up to `1 + frames % 8` frames in one direction, cut into seeded reads.
    Deliver { dir: Dir, frames: u8 },
    /// Delivers everything queued, both ways.
    Flush,
    /// Loses the next frame.
    Drop { dir: Dir },
    /// Delivers the next frame twice.
    Duplicate { dir: Dir },
    /// Cuts the next frame short (its newline kept, so only this frame is damaged).
    Truncate { dir: Dir, at: u8 },
    /// Moves the clock by `millis * 8` ms and fires due timers.
    Advance { millis: u16 },
}

/// A decoded input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Bits 0-1 client era (auto, legacy, 2026-07-28, auto); bits 2-3 server versions (all,
    /// legacy, 2026-07-28, 2025-03-26); bit 4 client capabilities; bit 5 short task TTLs;
    /// bit 6 tools-only server; bit 7 at most 4 requests in flight at the server.
    pub setup: u8,
    /// Seed of the read chunking.
    pub seed: u8,
    /// The steps.
    pub ops: Vec<Op>,
}

/// Longest op sequence decoded from one input.
pub const MAX_OPS: usize = 400;

impl Script {
    /// Decodes bytes; every input decodes to something.
    pub fn decode(data: &[u8]) -> Script {
        let mut r = Reader::new(data);
        let setup = r.u8();
        let seed = r.u8();
        let mut ops = Vec::new();
        while !r.is_empty() && ops.len() < MAX_OPS {
            let op = match r.u8() % 24 {
                0 => Op::Send {
                    kind: r.u8(),
                    opts: r.u8(),
                },
                1 => Op::ClientCancel { pick: r.u8() },
                2 => Op::ClientAnswer {
                    pick: r.u8(),
                    refuse: r.u8() & 1 == 1,
                },
                3 => Op::Respond {
                    pick: r.u8(),
                    how: r.u8(),
                },
                4 => Op::RespondAgain,
                5 => Op::Progress {
                    pick: r.u8(),
                    step: r.u8(),
                },
                6 => Op::CreateTask {
                    pick: r.u8(),
                    ttl: r.u8(),
                },
                7 => Op::TaskStep {
                    pick: r.u8(),
                    how: r.u8(),
                },
                8 => Op::Ask {
                    kind: r.u8(),
                    related: r.u8() & 1 == 1,
                },
                9 => Op::CancelAsk { pick: r.u8() },
                10 => Op::CloseSubscription { pick: r.u8() },
                11 => Op::Notify { kind: r.u8() },
                12 => Op::Deliver {
                    dir: Dir::from_byte(r.u8()),
                    frames: r.u8(),
                },
                13 => Op::Drop {
                    dir: Dir::from_byte(r.u8()),
                },
                14 => Op::Duplicate {
                    dir: Dir::from_byte(r.u8()),
                },
                15 => Op::Truncate {
                    dir: Dir::from_byte(r.u8()),
                    at: r.u8(),
                },
                16 => Op::Advance { millis: r.u16() },
                // Moving frames is what most steps should do.
                _ => Op::Flush,
            };
            ops.push(op);
        }
        Script { setup, seed, ops }
    }

    /// Encodes a script so that [`decode`](Self::decode) gives it back.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.setup, self.seed];
        for op in &self.ops {
            let (tag, args): (u8, Vec<u8>) = match *op {
                Op::Send { kind, opts } => (0, vec![kind, opts]),
                Op::ClientCancel { pick } => (1, vec![pick]),
                Op::ClientAnswer { pick, refuse } => (2, vec![pick, u8::from(refuse)]),
                Op::Respond { pick, how } => (3, vec![pick, how]),
                Op::RespondAgain => (4, vec![]),
                Op::Progress { pick, step } => (5, vec![pick, step]),
                Op::CreateTask { pick, ttl } => (6, vec![pick, ttl]),
                Op::TaskStep { pick, how } => (7, vec![pick, how]),
                Op::Ask { kind, related } => (8, vec![kind, u8::from(related)]),
                Op::CancelAsk { pick } => (9, vec![pick]),
                Op::CloseSubscription { pick } => (10, vec![pick]),
                Op::Notify { kind } => (11, vec![kind]),
                Op::Deliver { dir, frames } => (12, vec![dir as u8, frames]),
                Op::Drop { dir } => (13, vec![dir as u8]),
                Op::Duplicate { dir } => (14, vec![dir as u8]),
                Op::Truncate { dir, at } => (15, vec![dir as u8, at]),
                Op::Advance { millis } => (16, millis.to_le_bytes().to_vec()),
                Op::Flush => (17, vec![]),
            };
            out.push(tag);
            out.extend(args);
        }
        out
    }
}

/// Setup bit 2: the server offers only legacy versions (bits 2-3 are 1 or 3).
const LEGACY_SERVER: u8 = 0x04;

/// The `pair_legacy` target: the server offers only legacy versions, so the session is a
/// legacy one (or none, for a client that insists on 2026-07-28). Together with
/// [`pair_modern`] it covers every setup; each is one era's code, about half of the
/// features the whole pair hit in one target.
pub fn pair_legacy(data: &[u8]) {
    run_script(Script::decode(data), |setup| setup | LEGACY_SERVER);
}

/// The `pair_modern` target: the server offers 2026-07-28 (alone, or with every legacy
/// version for a client that asks for one).
pub fn pair_modern(data: &[u8]) {
    run_script(Script::decode(data), |setup| setup & !LEGACY_SERVER);
}

/// Decode, simulate, check, with the setup byte mapped to the target's era.
fn run_script(script: Script, era: impl Fn(u8) -> u8) {
    let mut sim = Sim::new(era(script.setup), script.seed);
    for op in &script.ops {
        sim.apply(op);
    }
    sim.settle_and_check();
}

#[derive(Debug)]
struct Sent {
    id: RequestId,
    /// Listen streams and requests sent without a timeout only end when answered or closed.
    unbounded: bool,
}

struct Sim {
    now: Instant,
    client: ClientSession,
    server: ServerSession,
    max_in_flight: usize,
    /// Frames in transit, by direction.
    link: [VecDeque<Bytes>; 2],
    /// Bytes received and not yet framed, at the server and at the client.
    inbound: [BytesMut; 2],
    chunks: Chunker,

    // Client side.
    sent: Vec<Sent>,
    cancelled: HashSet<RequestId>,
    responses: HashMap<RequestId, usize>,
    ready: usize,
    connect_failed: usize,
    asks_at_client: Vec<(RequestId, ServerRequest)>,

    // Server side.
    open: Vec<(RequestId, ClientRequest, RequestContext)>,
    last_answered: Option<RequestId>,
    progress: HashMap<RequestId, f64>,
    tasks: Vec<String>,
    subscriptions: Vec<RequestId>,
    asks: Vec<RequestId>,
    asks_cancelled: HashSet<RequestId>,
    ask_responses: HashMap<RequestId, usize>,
}

/// Frames allowed in transit before we call it a flood.
const LINK_LIMIT: usize = 20_000;

impl Sim {
    fn new(setup: u8, seed: u8) -> Sim {
        let now = Instant::now();
        let server_flags = ((setup >> 2) & 0x03)
            | if setup & 0x40 != 0 { 0x10 } else { 0 }
            | (setup & 0x20)
            | if setup & 0x80 != 0 { 0x08 } else { 0 };
        let server_config = fixtures::server_config(server_flags);
        let max_in_flight = server_config.max_in_flight;
        let client_config = fixtures::client_config(fixtures::era(setup), setup & 0x10 == 0);
        let mut client = ClientSession::new(client_config, now);
        client.connect(now).expect("first connect");
        let mut sim = Sim {
            now,
            client,
            server: new_server(server_config, now),
            max_in_flight,
            link: [VecDeque::new(), VecDeque::new()],
            inbound: [BytesMut::new(), BytesMut::new()],
            chunks: Chunker::new(seed),
            sent: Vec::new(),
            cancelled: HashSet::new(),
            responses: HashMap::new(),
            ready: 0,
            connect_failed: 0,
            asks_at_client: Vec::new(),
            open: Vec::new(),
            last_answered: None,
            progress: HashMap::new(),
            tasks: Vec::new(),
            subscriptions: Vec::new(),
            asks: Vec::new(),
            asks_cancelled: HashSet::new(),
            ask_responses: HashMap::new(),
        };
        sim.pump();
        sim
    }

    /// Collects frames and events from both sides after any input or command.
    fn pump(&mut self) {
        while let Some(t) = self.client.poll_transmit() {
            check_frame(&t.frame);
            self.link[Dir::ToServer as usize].push_back(t.frame);
        }
        while let Some(t) = self.server.poll_transmit() {
            check_frame(&t.frame);
            self.link[Dir::ToClient as usize].push_back(t.frame);
        }
        while let Some(e) = self.server.poll_event() {
            self.on_server_event(e);
        }
        while let Some(e) = self.client.poll_event() {
            self.on_client_event(e);
        }
        assert!(
            self.link.iter().all(|l| l.len() < LINK_LIMIT),
            "frames pile up on the link"
        );
        assert!(
            self.server.in_flight() <= self.max_in_flight,
            "server holds {} requests with a limit of {}",
            self.server.in_flight(),
            self.max_in_flight
        );
        assert!(
            self.client.pending() <= self.sent.len() + 2,
            "client tracks {} requests but was asked to send {}",
            self.client.pending(),
            self.sent.len()
        );
    }

    fn on_server_event(&mut self, e: ServerEvent) {
        match e {
            ServerEvent::Request {
                id,
                request,
                context,
            } => {
                assert!(
                    !self.open.iter().any(|(o, _, _)| *o == id),
                    "request {id} handed to the application twice while open"
                );
                self.open.push((id, request, context));
            }
            ServerEvent::Cancelled { id, .. } => {
                let before = self.open.len();
                self.open.retain(|(o, _, _)| *o != id);
                assert_eq!(
                    self.open.len() + 1,
                    before,
                    "cancel event for {id}, which the application does not hold"
                );
            }
            ServerEvent::Response { id, .. } => {
                assert!(
                    self.asks.contains(&id),
                    "response event for unknown ask {id}"
                );
                *self.ask_responses.entry(id).or_default() += 1;
            }
            ServerEvent::SubscriptionOpened { id, .. } => self.subscriptions.push(id),
            ServerEvent::SubscriptionClosed { id } => self.subscriptions.retain(|s| *s != id),
            _ => {}
        }
    }

    fn on_client_event(&mut self, e: ClientEvent) {
        if let Some(id) = request_outcome(&e) {
            assert!(
                self.sent.iter().any(|s| s.id == *id),
                "outcome for a request never sent: {id}"
            );
            *self.responses.entry(id.clone()).or_default() += 1;
        }
        match e {
            ClientEvent::Request { id, request } => self.asks_at_client.push((id, request)),
            ClientEvent::Cancelled { id, .. } => {
                let before = self.asks_at_client.len();
                self.asks_at_client.retain(|(a, _)| *a != id);
                assert_eq!(
                    self.asks_at_client.len() + 1,
                    before,
                    "cancel event for server request {id}, which the client does not hold"
                );
            }
            ClientEvent::Progress { id, .. } => {
                let live = self.sent.iter().any(|s| s.id == id)
                    && !self.responses.contains_key(&id)
                    && !self.cancelled.contains(&id);
                assert!(live, "progress event for {id}, which is not in flight");
            }
            ClientEvent::Ready(_) => self.ready += 1,
            ClientEvent::ConnectFailed(_) => self.connect_failed += 1,
            _ => {}
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Send { kind, opts } => self.send(kind, opts),
            Op::ClientCancel { pick } => {
                let live: Vec<RequestId> = self
                    .sent
                    .iter()
                    .map(|s| s.id.clone())
                    .filter(|id| !self.responses.contains_key(id) && !self.cancelled.contains(id))
                    .collect();
                if let Some(id) = nth(&live, pick) {
                    if self.client.cancel(&id, Some("fuzz".into())).is_ok() {
                        self.cancelled.insert(id);
                    }
                }
            }
            Op::ClientAnswer { pick, refuse } => {
                if self.asks_at_client.is_empty() {
                    return;
                }
                let i = usize::from(pick) % self.asks_at_client.len();
                let (id, request) = self.asks_at_client.remove(i);
                let first = if refuse {
                    self.client.respond_error(&id, fixtures::app_error())
                } else {
                    self.client.respond(&id, fixtures::client_result(&request))
                };
                assert!(
                    first.is_ok(),
                    "answering open server request {id}: {first:?}"
                );
                let answer = self.client.poll_transmit().expect("an answer frame");
                check_frame(&answer.frame);
                self.link[Dir::ToServer as usize].push_back(answer.frame);
                assert!(self
                    .client
                    .respond_error(&id, fixtures::app_error())
                    .is_err());
                assert!(self.client.poll_transmit().is_none(), "{id} answered twice");
            }
            Op::Respond { pick, how } => self.respond(pick, how),
            Op::RespondAgain => {
                let Some(id) = self.last_answered.clone() else {
                    return;
                };
                if self.open.iter().any(|(o, _, _)| *o == id) {
                    return; // the same id came back as a new request: answering is legal
                }
                let _ = self
                    .server
                    .respond(&id, ServerResult::Other(serde_json::json!({})));
                let _ = self.server.respond_error(&id, fixtures::app_error());
                assert!(
                    self.server.poll_transmit().is_none(),
                    "request {id} answered twice on the wire"
                );
            }
            Op::Progress { pick, step } => {
                let Some((id, _, _)) = nth(&self.open, pick) else {
                    return;
                };
                let last = self.progress.get(&id).copied().unwrap_or(0.0);
                let value = if step == 255 {
                    f64::NAN
                } else {
                    last + 1.0 + f64::from(step % 4)
                };
                let r = self.server.notify_progress(&id, value, Some(100.0), None);
                if value.is_nan() {
                    assert!(r.is_err(), "NaN progress accepted");
                } else if r.is_ok() {
                    self.progress.insert(id, value);
                }
            }
            Op::CreateTask { pick, ttl } => {
                let calls: Vec<RequestId> = self
                    .open
                    .iter()
                    .filter(|(_, r, _)| matches!(r, ClientRequest::CallTool(_)))
                    .map(|(id, _, _)| id.clone())
                    .collect();
                let Some(id) = nth(&calls, pick) else {
                    return;
                };
                let ttl = (ttl != 0).then(|| Duration::from_secs(u64::from(ttl)));
                if let Ok(task) = self.server.create_task(self.now, &id, ttl) {
                    self.open.retain(|(o, _, _)| *o != id);
                    self.tasks.push(task);
                    self.last_answered = Some(id);
                }
            }
            Op::TaskStep { pick, how } => {
                let Some(task) = nth(&self.tasks, pick) else {
                    return;
                };
                self.task_step(&task, how);
            }
            Op::Ask { kind, related } => {
                let related = if related {
                    self.open.first().map(|(id, _, _)| id.clone())
                } else {
                    None
                };
                let request = fixtures::server_request(kind);
                if let Ok(id) = self
                    .server
                    .send_request(self.now, request, related.as_ref())
                {
                    assert!(!self.asks.contains(&id), "ask id {id} reused");
                    self.asks.push(id);
                }
            }
            Op::CancelAsk { pick } => {
                let live: Vec<RequestId> = self
                    .asks
                    .iter()
                    .filter(|id| {
                        !self.ask_responses.contains_key(*id) && !self.asks_cancelled.contains(*id)
                    })
                    .cloned()
                    .collect();
                if let Some(id) = nth(&live, pick) {
                    if self.server.cancel_request(&id, None).is_ok() {
                        self.asks_cancelled.insert(id);
                    }
                }
            }
            Op::CloseSubscription { pick } => {
                if let Some(id) = nth(&self.subscriptions, pick) {
                    self.server
                        .close_subscription(&id)
                        .expect("closing an open listen stream");
                }
            }
            Op::Notify { kind } => match kind % 4 {
                0 => self.server.notify_tools_list_changed(),
                1 => self.server.notify_prompts_list_changed(),
                2 => self.server.notify_resources_list_changed(),
                _ => self.server.notify_resource_updated("mem://a"),
            },
            Op::Deliver { dir, frames } => self.deliver(dir, 1 + usize::from(frames % 8)),
            Op::Flush => {
                self.deliver(Dir::ToServer, usize::MAX);
                self.deliver(Dir::ToClient, usize::MAX);
            }
            Op::Drop { dir } => {
                self.link[dir as usize].pop_front();
            }
            Op::Duplicate { dir } => {
                if let Some(f) = self.link[dir as usize].front().cloned() {
                    self.link[dir as usize].push_front(f);
                }
            }
            Op::Truncate { dir, at } => {
                if let Some(f) = self.link[dir as usize].pop_front() {
                    let cut = usize::from(at) % f.len().max(1);
                    let mut damaged = BytesMut::from(&f[..cut]);
                    damaged.extend_from_slice(b"\n");
                    self.link[dir as usize].push_front(damaged.freeze());
                }
            }
            Op::Advance { millis } => {
                self.now += Duration::from_millis(u64::from(millis) * 8);
                self.fire_timers();
            }
        }
        self.pump();
    }

    fn send(&mut self, kind: u8, opts: u8) {
        let task = nth(&self.tasks, opts >> 2).unwrap_or_else(|| "no-such-task".into());
        let request = fixtures::client_request(kind, &task);
        let listen = matches!(request, ClientRequest::Listen(_));
        let no_timeout = opts & 2 != 0;
        let options = RequestOptions::default()
            .with_progress(opts & 1 != 0)
            .with_timeout(no_timeout.then_some(None));
        if let Ok(id) = self.client.send_request(self.now, request, options) {
            assert!(!self.sent.iter().any(|s| s.id == id), "id {id} reused");
            self.sent.push(Sent {
                id,
                unbounded: listen || no_timeout,
            });
        }
    }

    fn respond(&mut self, pick: u8, how: u8) {
        if self.open.is_empty() {
            return;
        }
        let (id, request, context) = self.open.remove(usize::from(pick) % self.open.len());
        let mrtr = matches!(
            request,
            ClientRequest::CallTool(_)
                | ClientRequest::GetPrompt(_)
                | ClientRequest::ReadResource(_)
        ) && context.era == Era::Modern;
        let r = match how % 4 {
            2 => self.server.respond_error(&id, fixtures::app_error()),
            3 if mrtr => {
                let mut ir = InputRequiredResult::new();
                ir.request_state = Some("fuzz-state".into());
                self.server.respond(&id, ir)
            }
            _ => self.server.respond(&id, fixtures::server_result(&request)),
        };
        assert!(r.is_ok(), "answering open request {id}: {r:?}");
        let frames: Vec<Bytes> = std::iter::from_fn(|| self.server.poll_transmit())
            .map(|t| t.frame)
            .collect();
        assert_eq!(frames.len(), 1, "one answer, one frame");
        let v = frame_value(&frames[0]);
        assert_eq!(
            v.get("id"),
            Some(&serde_json::to_value(&id).expect("id encodes")),
            "answer carries another id"
        );
        self.link[Dir::ToClient as usize].extend(frames);
        self.last_answered = Some(id);
    }

    fn task_step(&mut self, task: &str, how: u8) {
        let now = self.now;
        let _ = match how % 5 {
            0 => self
                .server
                .update_task(now, task, TaskStatus::Working, Some("working".into())),
            1 => {
                let r = fixtures::server_result(&fixtures::client_request(1, ""));
                self.server.finish_task(now, task, Ok(r))
            }
            2 => self
                .server
                .finish_task(now, task, Err(fixtures::app_error())),
            3 => {
                let mut requests = InputRequests::new();
                if let ServerRequest::Elicit(p) = fixtures::server_request(3) {
                    requests.insert("name".into(), InputRequest::Elicit(p));
                }
                self.server.task_requires_input(now, task, requests, None)
            }
            _ => self
                .server
                .update_task(now, task, TaskStatus::Cancelled, None),
        };
    }

    /// Moves up to `n` frames one way, cut into reads by the seeded chunker.
    fn deliver(&mut self, dir: Dir, n: usize) {
        let mut wire = Vec::new();
        for _ in 0..n {
            match self.link[dir as usize].pop_front() {
                Some(f) => wire.extend_from_slice(&f),
                None => break,
            }
        }
        let mut rest = &wire[..];
        while !rest.is_empty() {
            let (read, tail) = rest.split_at(self.chunks.next_len(rest.len()));
            rest = tail;
            let buf = &mut self.inbound[dir as usize];
            buf.extend_from_slice(read);
            match dir {
                Dir::ToServer => self.server.handle_bytes(self.now, buf),
                Dir::ToClient => self.client.handle_bytes(self.now, buf),
            }
        }
        self.pump();
    }

    fn fire_timers(&mut self) {
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            self.server.handle_timeout(self.now);
        }
        self.pump();
    }

    /// Delivers until both directions are empty (a reliable link from here on).
    fn flush(&mut self) {
        for _ in 0..1000 {
            if self.link.iter().all(VecDeque::is_empty) {
                return;
            }
            self.deliver(Dir::ToServer, usize::MAX);
            self.deliver(Dir::ToClient, usize::MAX);
        }
        panic!("the pair keeps talking on a quiet system (livelock)");
    }

    /// Both applications answer everything they hold.
    fn answer_everything(&mut self) {
        while !self.open.is_empty() {
            self.respond(0, 0);
            self.pump();
        }
        for task in self.tasks.clone() {
            self.task_step(&task, 1);
        }
        for id in self.subscriptions.clone() {
            self.server
                .close_subscription(&id)
                .expect("closing an open listen stream");
        }
        while let Some((id, request)) = self.asks_at_client.pop() {
            self.client
                .respond(&id, fixtures::client_result(&request))
                .expect("answering an open server request");
        }
        self.pump();
    }

    fn settle_and_check(mut self) {
        self.flush();
        let mut rounds = 0;
        loop {
            self.answer_everything();
            self.flush();
            rounds += 1;
            assert!(rounds < 10_000, "the pair never settles");
            if !self.open.is_empty() || !self.asks_at_client.is_empty() {
                continue; // the flush delivered more work
            }
            let next = match (self.client.poll_timeout(), self.server.poll_timeout()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let Some(next) = next else { break };
            self.now = self.now.max(next);
            self.fire_timers();
        }

        assert!(self.ready <= 1, "Ready emitted {} times", self.ready);
        assert!(
            self.ready + self.connect_failed <= 1,
            "both Ready and ConnectFailed"
        );
        for s in &self.sent {
            let n = self.responses.get(&s.id).copied().unwrap_or(0);
            if self.cancelled.contains(&s.id) {
                assert_eq!(n, 0, "cancelled request {} still got a response", s.id);
            } else if s.unbounded {
                assert!(n <= 1, "request {} got {n} responses", s.id);
            } else {
                assert_eq!(n, 1, "request {} got {n} responses after its timeout", s.id);
            }
        }
        for id in &self.asks {
            let n = self.ask_responses.get(id).copied().unwrap_or(0);
            let want = usize::from(!self.asks_cancelled.contains(id));
            assert_eq!(n, want, "server request {id} got {n} responses");
        }
        assert_eq!(
            self.server.in_flight(),
            0,
            "server still holds requests after everything was answered"
        );

        self.client.close();
        self.server.close();
        self.pump();
        for s in &self.sent {
            let n = self.responses.get(&s.id).copied().unwrap_or(0);
            let want = usize::from(!self.cancelled.contains(&s.id));
            assert_eq!(n, want, "request {} got {n} responses by close", s.id);
        }
        assert_eq!(
            self.client.pending(),
            0,
            "client requests pending after close"
        );
        assert_eq!(self.server.in_flight(), 0);
    }
}

fn nth<T: Clone>(items: &[T], pick: u8) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        Some(items[usize::from(pick) % items.len()].clone())
    }
}
