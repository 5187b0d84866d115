//! Response streams of one session: where each outgoing frame goes, how it is framed, what
//! is kept for resumption.
//!
//! A POST that carries a request opens a stream for it. Its head is decided by the first
//! frame: if that frame is the final response, the answer is a plain JSON body (the cheap,
//! common case); anything else first turns it into an SSE stream. A legacy session also has
//! one standalone stream (the GET stream) for messages tied to no request.
//!
//! Resumable streams (legacy, with an event store) number their events `<stream>:<seq>`
//! and start with a priming event, so a client that loses the connection can come back with
//! `Last-Event-ID` and get everything after it. Frames sent while no client is reading are
//! stored, never dropped, up to the store's bound. The standalone stream is parked like
//! any other when its reader goes: a GET with `Last-Event-ID`, or a plain GET (which gets
//! what no reader was written), picks up what arrived meanwhile.
//!
//! The store is bounded per stream, fairly: a busy stream loses its own oldest events, not
//! another stream's. A resumption from before what is kept is a gap, never replayed
//! silently: each response the gap swallowed is replaced by an error response for its
//! request, and each server request it swallowed is cancelled
//! ([`HttpStreams::take_lost_requests`]).
//!
//! Streams that cannot be resumed (2026-07-28 responses, `subscriptions/listen`, stateless)
//! obey the same slow-reader cut: the stream ends and its requests are given up
//! ([`HttpStreams::take_abandoned`]), since its reader cannot come back for the rest.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::codec::sse::{encode_comment, encode_event, SseEventRef};
use crate::jsonrpc::RequestId;
use crate::session::{FrameKind, Route, Transmit};

/// Identifies one response stream of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u64);

/// Detached legacy streams kept for resumption per session, beyond which the oldest goes.
const MAX_PARKED: usize = 64;

/// The standalone (GET) stream of a legacy session.
const STANDALONE: StreamId = StreamId(0);

/// Stream limits and timings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamConfig {
    /// Send a keep-alive comment on an SSE stream quiet for this long (and start SSE on a
    /// request that has produced nothing for this long, so proxies see bytes).
    pub keep_alive: Option<Duration>,
    /// The `retry` the priming event announces (how long clients wait to reconnect).
    pub retry: Duration,
    /// Most frames waiting for a slow reader on one stream before the stream is cut (the
    /// client can resume from the store; a stream that cannot be resumed ends, its requests
    /// given up).
    pub max_queued: usize,
    /// Events a session's default store keeps for resumption, across its streams (each
    /// stream at most this many; at the bound the stream holding the most loses its
    /// oldest). Kept above `max_queued` so a stream cut for a slow reader can still be
    /// resumed without a gap.
    pub max_stored: usize,
}

crate::__config_setters!(StreamConfig {
    with_keep_alive => keep_alive: Option<Duration>,
    with_retry => retry: Duration,
    with_max_queued => max_queued: usize,
    with_max_stored => max_stored: usize,
});

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            keep_alive: Some(Duration::from_secs(15)),
            retry: Duration::from_secs(1),
            max_queued: 1024,
            max_stored: 4096,
        }
    }
}

/// Keeps SSE events for resumption. One store per session; implement it over shared storage
/// to let another instance resume a stream.
pub trait EventStore: Send {
    /// Keeps event `seq` of `stream` (the JSON-RPC frame it carries).
    fn store(&mut self, stream: StreamId, seq: u64, frame: Bytes);
    /// Appends the events of `stream` after `after` to `out`, oldest first.
    fn replay(&mut self, stream: StreamId, after: u64, out: &mut Vec<(u64, Bytes)>);
    /// `stream` ended and was fully delivered: its events are no longer needed.
    fn forget(&mut self, stream: StreamId);
    /// The highest event number of `stream` dropped to stay within bounds, if any: a
    /// resumption from before it has a gap.
    fn evicted_through(&self, _stream: StreamId) -> Option<u64> {
        None
    }
    /// Events kept.
    fn len(&self) -> usize;
    /// Whether nothing is kept.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The default [`EventStore`]: in memory, bounded by event count. At the bound, the stream
/// holding the most events loses its oldest one, so a busy stream cannot push out the events
/// of others. A restarted process has lost its events; clients then get a fresh stream.
#[derive(Debug)]
pub struct MemoryEventStore {
    max_events: usize,
    len: usize,
    streams: HashMap<StreamId, Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    events: VecDeque<(u64, Bytes)>,
    evicted_through: Option<u64>,
}

impl MemoryEventStore {
    /// A store keeping at most `max_events`.
    pub fn new(max_events: usize) -> Self {
        MemoryEventStore {
            max_events,
            len: 0,
            streams: HashMap::new(),
        }
    }

    fn evict_one(&mut self) {
        // The fullest stream pays; ties go to the lowest id, so the choice never depends on
        // hash order.
        let fullest = self
            .streams
            .iter()
            .filter(|(_, k)| !k.events.is_empty())
            .max_by(|(a, ka), (b, kb)| ka.events.len().cmp(&kb.events.len()).then(b.cmp(a)))
            .map(|(id, _)| *id);
        if let Some(kept) = fullest.and_then(|id| self.streams.get_mut(&id)) {
            if let Some((seq, _)) = kept.events.pop_front() {
                kept.evicted_through = Some(seq);
                self.len -= 1;
            }
        }
    }
}

impl Default for MemoryEventStore {
    fn default() -> Self {
        Self::new(StreamConfig::default().max_stored)
    }
}

impl EventStore for MemoryEventStore {
    fn store(&mut self, stream: StreamId, seq: u64, frame: Bytes) {
        if self.max_events == 0 {
            let kept = self.streams.entry(stream).or_default();
            kept.evicted_through = Some(seq);
            return;
        }
        while self.len >= self.max_events {
            self.evict_one();
        }
        self.streams
            .entry(stream)
            .or_default()
            .events
            .push_back((seq, frame));
        self.len += 1;
    }

    fn replay(&mut self, stream: StreamId, after: u64, out: &mut Vec<(u64, Bytes)>) {
        if let Some(kept) = self.streams.get(&stream) {
            out.extend(
                kept.events
                    .iter()
                    .filter(|(seq, _)| *seq > after)
                    .map(|(seq, f)| (*seq, f.clone())),
            );
        }
    }

    fn forget(&mut self, stream: StreamId) {
        if let Some(kept) = self.streams.remove(&stream) {
            self.len -= kept.events.len();
        }
    }

    fn evicted_through(&self, stream: StreamId) -> Option<u64> {
        self.streams.get(&stream).and_then(|k| k.evicted_through)
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// How a stream's response starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Head {
    /// A complete JSON body with this status.
    Json {
        /// HTTP status.
        status: u16,
        /// The JSON-RPC response.
        body: Bytes,
    },
    /// `200` with `text/event-stream`; pull the body with [`HttpStreams::poll_chunk`].
    Sse,
}

/// The next piece of an SSE body.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    /// Bytes to write.
    Data(Bytes),
    /// Nothing yet: wait until a routed frame or a timer names this stream.
    Pending,
    /// The body is complete.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Undecided,
    Json,
    Sse,
}

#[derive(Debug)]
struct Stream {
    /// Requests this stream still owes a response to.
    open: Vec<RequestId>,
    mode: Mode,
    json: Option<(u16, Bytes)>,
    /// Chunks for the reader, with the event number each carries (if any).
    out: VecDeque<(Option<u64>, Bytes)>,
    /// The event number after the last one handed to a reader.
    written: u64,
    /// A client is reading it now.
    attached: bool,
    /// Which reader owns it: bumped when a resumption takes it over, so a reader the
    /// server has not yet seen disconnect stops reading.
    generation: u32,
    /// The server ended the body (polling, SEP-1699) although requests are open.
    cut: bool,
    /// Next event number.
    seq: u64,
    last_write: Instant,
    /// Resumable: the event number of each response sent, by request (to answer again
    /// when a gap swallowed it).
    answers: Vec<(RequestId, u64)>,
    /// Resumable: server requests sent on it, by event number (to cancel when a gap
    /// swallowed them).
    asks: VecDeque<(u64, RequestId)>,
    /// Parked standalone stream: the first event no reader was written.
    unsent_from: Option<u64>,
}

impl Stream {
    fn new(now: Instant, open: Vec<RequestId>) -> Self {
        Stream {
            open,
            mode: Mode::Undecided,
            json: None,
            out: VecDeque::new(),
            written: 0,
            attached: true,
            generation: 0,
            cut: false,
            seq: 0,
            last_write: now,
            answers: Vec::new(),
            asks: VecDeque::new(),
            unsent_from: None,
        }
    }

    fn done(&self) -> bool {
        self.open.is_empty()
    }
}

/// The response streams of one session (see the module docs).
pub struct HttpStreams {
    config: StreamConfig,
    /// Events carry ids and are stored (legacy); otherwise streams cannot be resumed.
    resumable: bool,
    /// Announce resumability with a priming event (clients of 2025-11-25 and later).
    priming: bool,
    /// Never SSE for requests (legacy JSON-response mode).
    json_only: bool,
    /// 2026-07-28: a dropped stream cancels its requests.
    drop_cancels: bool,
    store: Box<dyn EventStore>,
    next: u64,
    streams: HashMap<StreamId, Stream>,
    by_request: HashMap<RequestId, StreamId>,
    /// Session-level frames waiting for a GET stream.
    backlog: VecDeque<Bytes>,
    /// Detached streams waiting for their client to resume, oldest first.
    parked: VecDeque<StreamId>,
    /// Streams that became readable since the last [`Self::take_woken`].
    woken: Vec<StreamId>,
    /// Requests whose stream ended under them with no way back (see [`Self::take_abandoned`]).
    abandoned: Vec<RequestId>,
    /// Server requests whose frames were lost (see [`Self::take_lost_requests`]).
    lost: Vec<RequestId>,
    scratch: BytesMut,
    /// The session ended: every stream ends once drained.
    closed: bool,
}

impl std::fmt::Debug for HttpStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStreams")
            .field("streams", &self.streams.len())
            .field("stored", &self.store.len())
            .finish_non_exhaustive()
    }
}

impl HttpStreams {
    /// Streams of a legacy session: resumable through `store`, with priming events when
    /// `priming` (the negotiated version is 2025-11-25 or later).
    pub fn legacy(
        config: StreamConfig,
        store: Box<dyn EventStore>,
        priming: bool,
        json_only: bool,
    ) -> Self {
        Self::build(config, store, true, priming, json_only, false)
    }

    /// The stream of one 2026-07-28 request: not resumable; dropping it cancels.
    pub fn modern(config: StreamConfig) -> Self {
        Self::build(
            config,
            Box::new(MemoryEventStore::new(0)),
            false,
            false,
            false,
            true,
        )
    }

    /// Streams of a legacy request served without a session (stateless mode).
    pub fn stateless(config: StreamConfig, json_only: bool) -> Self {
        Self::build(
            config,
            Box::new(MemoryEventStore::new(0)),
            false,
            false,
            json_only,
            false,
        )
    }

    fn build(
        config: StreamConfig,
        store: Box<dyn EventStore>,
        resumable: bool,
        priming: bool,
        json_only: bool,
        drop_cancels: bool,
    ) -> Self {
        HttpStreams {
            config,
            resumable,
            priming,
            json_only,
            drop_cancels,
            store,
            next: 1,
            streams: HashMap::new(),
            by_request: HashMap::new(),
            backlog: VecDeque::new(),
            parked: VecDeque::new(),
            woken: Vec::new(),
            abandoned: Vec::new(),
            lost: Vec::new(),
            scratch: BytesMut::new(),
            closed: false,
        }
    }

    /// Enables or disables priming events (once the session's version is known).
    pub fn set_priming(&mut self, priming: bool) {
        self.priming = priming;
    }

    /// Response streams open now (attached or waiting for resumption).
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether no stream is open.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Events held for resumption.
    pub fn stored_events(&self) -> usize {
        self.store.len()
    }

    /// Whether a client is reading the standalone stream.
    pub fn has_standalone(&self) -> bool {
        self.streams.get(&STANDALONE).is_some_and(|s| s.attached)
    }

    /// Whether `sid` is the only stream, and nothing waits for a GET stream or is stored
    /// for resumption: the session has no stream state worth keeping beyond that one.
    pub fn holds_only(&self, sid: StreamId) -> bool {
        self.streams.len() == 1
            && self.streams.contains_key(&sid)
            && self.backlog.is_empty()
            && self.store.is_empty()
    }

    /// Whether a stream is answering request `id` (a second POST with the same id must be
    /// refused before it reaches the session, or the first would lose its stream).
    pub fn is_open(&self, id: &RequestId) -> bool {
        self.by_request.contains_key(id)
    }

    /// Opens the response stream of a POSTed request.
    pub fn open_request(&mut self, now: Instant, id: RequestId) -> StreamId {
        let sid = StreamId(self.next);
        self.next += 1;
        self.by_request.insert(id.clone(), sid);
        self.streams.insert(sid, Stream::new(now, vec![id]));
        sid
    }

    /// Opens the response stream of a POSTed request, or refuses a second request with an
    /// id still in flight (answering it would take the first one's stream) with the
    /// response to send.
    pub fn admit_request(
        &mut self,
        now: Instant,
        id: RequestId,
    ) -> Result<StreamId, super::Response> {
        if self.is_open(&id) {
            let e = crate::jsonrpc::ErrorObject::invalid_request(format!(
                "request id {id} is already in flight"
            ));
            return Err(super::Response::rpc_error_for(200, Some(&id), &e));
        }
        Ok(self.open_request(now, id))
    }

    /// Opens the one response stream of a 2025-03-26 batch POSTed on a session that
    /// negotiated `version`: an SSE stream carrying the answer of each request in it.
    /// `Ok(None)`: the batch holds no request (answer 202). Refused with its response: on a
    /// version without batches, in JSON-response mode (one JSON body cannot carry several
    /// answers as they come), or when a request id is repeated or still in flight.
    pub fn admit_batch(
        &mut self,
        now: Instant,
        version: Option<crate::schema::ProtocolVersion>,
        batch: &crate::jsonrpc::RawBatch<'_>,
    ) -> Result<Option<StreamId>, super::Response> {
        use crate::jsonrpc::ErrorObject;
        let refuse = |msg: &str| {
            Err(super::Response::rpc_error(
                400,
                &ErrorObject::invalid_request(msg.to_owned()),
            ))
        };
        if !version.is_some_and(|v| v.accepts_batches()) {
            return refuse("JSON-RPC batches are only accepted on a 2025-03-26 session");
        }
        let ids: Vec<RequestId> = batch.request_ids().cloned().collect();
        if ids.is_empty() {
            // Notifications and responses only (errors about invalid items, which have no
            // id to route by, go to the session's GET stream).
            return Ok(None);
        }
        if self.json_only {
            return refuse(
                "batches are not answered in JSON-response mode; send one request per POST",
            );
        }
        let mut seen = std::collections::HashSet::new();
        if ids.iter().any(|id| self.is_open(id) || !seen.insert(id)) {
            return refuse("a request id of the batch is repeated or already in flight");
        }
        let sid = StreamId(self.next);
        self.next += 1;
        for id in &ids {
            self.by_request.insert(id.clone(), sid);
        }
        let mut stream = Stream::new(now, ids);
        stream.mode = Mode::Sse;
        self.streams.insert(sid, stream);
        self.start_sse(sid);
        Ok(Some(sid))
    }

    /// A legacy GET: the standalone stream, or the resumption of `last_event_id`; refused
    /// with 409 when a client already reads that stream (or it is gone).
    pub fn admit_listen(
        &mut self,
        now: Instant,
        last_event_id: Option<&str>,
    ) -> Result<StreamId, super::Response> {
        let sid = match last_event_id {
            Some(last) => self.resume(now, last),
            None => self.open_standalone(now),
        };
        sid.ok_or_else(|| {
            super::Response::rpc_error(
                409,
                &crate::jsonrpc::ErrorObject::invalid_request("that stream is already being read"),
            )
        })
    }

    /// The session negotiated `version`: clients of 2025-11-25 and later get priming
    /// events (they know to resume from them).
    pub fn negotiated(&mut self, version: crate::schema::ProtocolVersion) {
        self.priming = version >= crate::schema::ProtocolVersion::V2025_11_25;
    }

    /// Opens the standalone stream (legacy GET). `None` when a client already reads it.
    pub fn open_standalone(&mut self, now: Instant) -> Option<StreamId> {
        if self.has_standalone() {
            return None;
        }
        if let Some(first) = self.streams.get(&STANDALONE).and_then(|s| s.unsent_from) {
            // A client that cannot say what it got gets what no reader was written.
            return self.reattach(now, STANDALONE, first.saturating_sub(1));
        }
        let mut s = Stream::new(now, Vec::new());
        s.mode = Mode::Sse;
        // Numbered from 1, so that "everything after 0" is every event it ever had.
        s.seq = 1;
        s.written = 1;
        self.streams.insert(STANDALONE, s);
        self.start_sse(STANDALONE);
        while let Some(frame) = self.backlog.pop_front() {
            self.emit(STANDALONE, &frame);
        }
        Some(STANDALONE)
    }

    /// Resumes a stream after `last_event_id` (legacy GET with `Last-Event-ID`): replays
    /// what was stored after it and continues live. `None` when the id names no stream this
    /// session still has (or one a client is still reading).
    pub fn resume(&mut self, now: Instant, last_event_id: &str) -> Option<StreamId> {
        let (sid, seq) = parse_event_id(last_event_id)?;
        if sid == STANDALONE && !self.streams.contains_key(&STANDALONE) {
            let id = self.open_standalone(now)?;
            return Some(id);
        }
        if !self.streams.contains_key(&sid) {
            return None;
        }
        self.reattach(now, sid, seq)
    }

    /// Gives `sid` to a new reader: what was stored after event `after` is replayed, and a
    /// gap (events after `after` no longer kept) is made explicit.
    fn reattach(&mut self, now: Instant, sid: StreamId, after: u64) -> Option<StreamId> {
        let s = self.streams.get_mut(&sid)?;
        // A reader still attached is one whose connection died unnoticed: the resumption
        // takes over (that reader ends at its next poll).
        s.generation += 1;
        s.attached = true;
        s.cut = false;
        s.last_write = now;
        s.unsent_from = None;
        s.out.clear();
        // The client has everything up to `after`, server requests included.
        while s.asks.front().is_some_and(|(seq, _)| *seq <= after) {
            s.asks.pop_front();
        }
        let gap = self
            .store
            .evicted_through(sid)
            .filter(|through| *through > after);
        let mut replay = Vec::new();
        self.store.replay(sid, after, &mut replay);
        for (seq, frame) in replay {
            let chunk = self.encode(Some((sid, seq)), &frame, None);
            if let Some(s) = self.streams.get_mut(&sid) {
                s.out.push_back((Some(seq), chunk));
            }
        }
        if let Some(through) = gap {
            self.fill_gap(sid, after, through);
        }
        Some(sid)
    }

    /// Events `after + 1 ..= through` of `sid` are gone: each response among them is sent
    /// again as an error for its request, each server request among them is cancelled.
    fn fill_gap(&mut self, sid: StreamId, after: u64, through: u64) {
        let lost = |seq: &u64| *seq > after && *seq <= through;
        let Some(s) = self.streams.get_mut(&sid) else {
            return;
        };
        let swallowed: Vec<RequestId> = s
            .answers
            .iter()
            .filter(|(_, seq)| lost(seq))
            .map(|(id, _)| id.clone())
            .collect();
        let (gone, kept): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut s.asks)
            .into_iter()
            .partition(|(seq, _)| lost(seq));
        s.asks = kept;
        self.lost.extend(gone.into_iter().map(|(_, id)| id));
        for id in swallowed {
            let error = crate::jsonrpc::ErrorObject::internal(format!(
                "the response was lost: events {}..={through} of this stream are no longer kept",
                after + 1
            ));
            let body = serde_json::to_vec(&crate::jsonrpc::OutError {
                jsonrpc: crate::jsonrpc::JSONRPC_VERSION,
                id: Some(&id),
                error: &error,
            })
            .unwrap_or_default();
            self.emit(sid, &Bytes::from(body));
        }
    }

    /// Server requests whose frames a gap swallowed, or that were dropped while no GET
    /// stream was there to take them: cancel each (the client will never answer). Call
    /// after [`Self::route`] and after a resumption.
    pub fn take_lost_requests(&mut self) -> impl Iterator<Item = RequestId> + '_ {
        self.lost.drain(..)
    }

    /// Requests whose stream ended because its reader fell too far behind and the stream
    /// cannot be resumed: give each up (the session must not answer it). Call after
    /// [`Self::route`].
    pub fn take_abandoned(&mut self) -> impl Iterator<Item = RequestId> + '_ {
        self.abandoned.drain(..)
    }

    /// Routes one frame from the session. Returns the stream it went to (wake its reader).
    pub fn route(&mut self, now: Instant, t: Transmit) -> Option<StreamId> {
        let sid = match &t.route {
            Route::Request(id) => match self.by_request.get(id) {
                Some(sid) => *sid,
                None => return None,
            },
            Route::Session => return self.route_session(now, t.kind, t.frame),
        };
        let Route::Request(id) = t.route else {
            return None;
        };
        let ends = t.kind.is_response();
        let status = self.status_of(t.kind);
        let json_only = self.json_only;
        let s = self.streams.get_mut(&sid)?;
        s.last_write = now;
        if ends {
            s.open.retain(|r| *r != id);
            self.by_request.remove(&id);
        }
        match s.mode {
            Mode::Undecided if ends && s.open.is_empty() => {
                s.mode = Mode::Json;
                s.json = Some((status, trim(t.frame)));
            }
            Mode::Undecided if json_only => {
                // Requests and notifications have no place in a JSON answer: requests go
                // to the standalone stream, notifications are dropped (the client chose
                // not to get them).
                if t.kind == FrameKind::Request {
                    return self.route_session(now, t.kind, t.frame);
                }
                return None;
            }
            Mode::Json => return None,
            Mode::Undecided => {
                s.mode = Mode::Sse;
                self.start_sse(sid);
                self.emit_noting(sid, t.kind, ends.then_some(id), &t.frame);
            }
            Mode::Sse => self.emit_noting(sid, t.kind, ends.then_some(id), &t.frame),
        }
        self.after_write(sid);
        Some(sid)
    }

    /// [`Self::emit`], noting (when resumable) which event carried a response or a server
    /// request, for a resumption that finds it gone.
    fn emit_noting(
        &mut self,
        sid: StreamId,
        kind: FrameKind,
        answers: Option<RequestId>,
        frame: &Bytes,
    ) {
        let seq = self.streams.get(&sid).map(|s| s.seq);
        self.emit(sid, frame);
        let (Some(seq), true) = (seq, self.resumable) else {
            return;
        };
        let ask = (kind == FrameKind::Request)
            .then(|| request_id_of(frame))
            .flatten();
        if let Some(s) = self.streams.get_mut(&sid) {
            if let Some(id) = answers {
                s.answers.push((id, seq));
            }
            if let Some(id) = ask {
                s.asks.push_back((seq, id));
            }
        }
    }

    fn route_session(&mut self, _now: Instant, kind: FrameKind, frame: Bytes) -> Option<StreamId> {
        if self.has_standalone() || (self.resumable && self.streams.contains_key(&STANDALONE)) {
            self.emit_noting(STANDALONE, kind, None, &frame);
            self.after_write(STANDALONE);
            return Some(STANDALONE);
        }
        // One place is left for the priming event, so a flushed backlog never trips the
        // slow-reader cut. What is dropped is lost: a server request among it is cancelled.
        while self.backlog.len() + 1 >= self.config.max_queued.max(1) && !self.backlog.is_empty() {
            if let Some(id) = self.backlog.pop_front().as_ref().and_then(request_id_of) {
                self.lost.push(id);
            }
        }
        self.backlog.push_back(frame);
        None
    }

    fn status_of(&self, kind: FrameKind) -> u16 {
        match kind {
            FrameKind::Error(code) if self.drop_cancels => super::modern_error_status(code),
            _ => 200,
        }
    }

    /// Starts SSE on `sid`: the priming event (id, empty data, retry) when resumable.
    fn start_sse(&mut self, sid: StreamId) {
        if !(self.resumable && self.priming) {
            return;
        }
        let Some(s) = self.streams.get_mut(&sid) else {
            return;
        };
        let seq = s.seq;
        s.seq += 1;
        let id = format!("{}:{}", sid.0, seq);
        let retry = self.config.retry.as_millis() as u64;
        self.scratch.clear();
        let _ = encode_event(
            &mut self.scratch,
            &SseEventRef::new(b"").id(&id).retry(retry),
        );
        let chunk = self.scratch.split().freeze();
        if s.attached {
            s.out.push_back((Some(seq), chunk));
        }
    }

    /// Frames `frame` as the stream's next event, stores it, queues it for the reader.
    fn emit(&mut self, sid: StreamId, frame: &Bytes) {
        let seq = match self.streams.get_mut(&sid) {
            Some(s) if self.resumable => {
                let seq = s.seq;
                s.seq += 1;
                Some(seq)
            }
            Some(_) => None,
            None => return,
        };
        if let Some(seq) = seq {
            self.store.store(sid, seq, frame.clone());
        }
        let attached = self.streams.get(&sid).is_some_and(|s| s.attached && !s.cut);
        if !attached {
            return;
        }
        let chunk = self.encode(seq.map(|q| (sid, q)), frame, None);
        let max = self.config.max_queued;
        let Some(s) = self.streams.get_mut(&sid) else {
            return;
        };
        s.out.push_back((seq, chunk));
        if s.out.len() <= max {
            return;
        }
        // A reader this slow is cut.
        s.out.clear();
        s.cut = true;
        if sid == STANDALONE {
            s.unsent_from = Some(s.written);
        }
        if !self.resumable {
            // It cannot come back for the rest: the stream ends now and its requests are
            // given up, instead of queueing for it without bound.
            let open = std::mem::take(&mut s.open);
            for id in &open {
                self.by_request.remove(id);
            }
            self.abandoned.extend(open);
        }
    }

    fn encode(&mut self, id: Option<(StreamId, u64)>, frame: &Bytes, retry: Option<u64>) -> Bytes {
        let id_text = id.map(|(s, q)| format!("{}:{}", s.0, q));
        let mut ev = SseEventRef::new(frame).event("message");
        if let Some(t) = id_text.as_deref() {
            ev = ev.id(t);
        }
        ev.retry = retry;
        self.scratch.clear();
        let _ = encode_event(&mut self.scratch, &ev);
        self.scratch.split().freeze()
    }

    fn after_write(&mut self, sid: StreamId) {
        if !self.woken.contains(&sid) {
            self.woken.push(sid);
        }
    }

    /// The streams that got something to read since the last call (wake their readers).
    pub fn take_woken(&mut self) -> impl Iterator<Item = StreamId> + '_ {
        self.woken.drain(..)
    }

    /// How the response of `sid` starts, once decided. `None`: not yet (wait for a wake).
    pub fn poll_head(&mut self, sid: StreamId) -> Option<Head> {
        let s = self.streams.get_mut(&sid)?;
        match s.mode {
            Mode::Undecided => None,
            Mode::Sse => Some(Head::Sse),
            Mode::Json => {
                let (status, body) = s.json.take()?;
                self.streams.remove(&sid);
                Some(Head::Json { status, body })
            }
        }
    }

    /// The reader generation of `sid` now (pass it to [`Self::poll_chunk`] and
    /// [`Self::detach`]).
    pub fn generation(&self, sid: StreamId) -> u32 {
        self.streams.get(&sid).map_or(0, |s| s.generation)
    }

    /// The next piece of the SSE body of `sid`, for the reader of `generation`.
    pub fn poll_chunk(&mut self, sid: StreamId, generation: u32) -> Chunk {
        let Some(s) = self.streams.get_mut(&sid) else {
            return Chunk::End;
        };
        if s.generation != generation {
            return Chunk::End;
        }
        if let Some((seq, c)) = s.out.pop_front() {
            if let Some(seq) = seq {
                s.written = seq + 1;
            }
            return Chunk::Data(c);
        }
        if s.cut {
            // Ended by the server (polling, or a reader too slow): a resumable stream lives
            // on for resumption; any other is over.
            s.attached = false;
            if !self.resumable {
                self.streams.remove(&sid);
            }
            return Chunk::End;
        }
        if self.closed || (sid != STANDALONE && s.done()) {
            if self.resumable && !self.closed {
                // Written is not received: a connection that died after the last write
                // still lets its client resume from the store.
                s.attached = false;
                self.park(sid);
            } else {
                self.streams.remove(&sid);
            }
            return Chunk::End;
        }
        Chunk::Pending
    }

    /// The reader of `sid` went away before the end. Returns the requests that must be
    /// cancelled (2026-07-28, where a closed stream is a cancel); legacy streams instead
    /// keep their events for resumption.
    pub fn detach(&mut self, sid: StreamId, generation: u32) -> Vec<RequestId> {
        let Some(s) = self.streams.get_mut(&sid) else {
            return Vec::new();
        };
        if s.generation != generation {
            return Vec::new();
        }
        s.attached = false;
        s.out.clear();
        if sid == STANDALONE {
            if self.resumable {
                // Parked: what the session sends meanwhile is kept for the next GET.
                s.unsent_from = Some(s.written);
            } else {
                self.streams.remove(&sid);
            }
            return Vec::new();
        }
        if self.drop_cancels || !self.resumable {
            let open = std::mem::take(&mut s.open);
            self.streams.remove(&sid);
            for id in &open {
                self.by_request.remove(id);
            }
            return if self.drop_cancels { open } else { Vec::new() };
        }
        // Kept for resumption, even when answered: the client may not have read the end.
        self.park(sid);
        Vec::new()
    }

    /// Keeps a detached stream for resumption. Streams nobody comes back for are bounded:
    /// the oldest parked one goes first.
    fn park(&mut self, sid: StreamId) {
        self.parked.retain(|p| *p != sid);
        self.parked.push_back(sid);
        while self.parked.len() > MAX_PARKED {
            if let Some(old) = self.parked.pop_front() {
                if self.streams.get(&old).is_some_and(|s| !s.attached) {
                    if let Some(gone) = self.streams.remove(&old) {
                        for id in &gone.open {
                            self.by_request.remove(id);
                        }
                    }
                    self.store.forget(old);
                }
            }
        }
    }

    /// Streams a client is reading or waiting on (parked ones excluded), for limits.
    pub fn active(&self) -> usize {
        self.streams
            .iter()
            .filter(|(id, s)| s.attached || (**id != STANDALONE && !s.done()))
            .count()
    }

    /// Ends the body of the stream answering `id` while its request goes on (SEP-1699
    /// polling): the client reconnects with `Last-Event-ID` after the announced `retry`.
    /// `false` when that stream is not a resumable SSE stream.
    pub fn close_for_polling(&mut self, id: &RequestId) -> bool {
        if !(self.resumable && self.priming) {
            return false;
        }
        let Some(sid) = self.by_request.get(id).copied() else {
            return false;
        };
        let Some(s) = self.streams.get_mut(&sid) else {
            return false;
        };
        if s.mode == Mode::Undecided {
            s.mode = Mode::Sse;
            self.start_sse(sid);
        }
        if let Some(s) = self.streams.get_mut(&sid) {
            if s.mode != Mode::Sse {
                return false;
            }
            s.cut = true;
        }
        self.after_write(sid);
        true
    }

    /// The session ended: each stream ends after what it holds (readers are woken).
    pub fn close(&mut self) {
        self.closed = true;
        self.backlog.clear();
        let ids: Vec<StreamId> = self.streams.keys().copied().collect();
        for sid in ids {
            self.after_write(sid);
        }
        self.by_request.clear();
    }

    /// When [`Self::handle_timeout`] wants to run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let every = self.config.keep_alive?;
        self.streams
            .values()
            .filter(|s| s.attached && !s.cut && s.mode != Mode::Json && s.out.is_empty())
            .map(|s| s.last_write + every)
            .min()
    }

    /// Sends keep-alives on quiet streams (starting SSE on requests still silent).
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(every) = self.config.keep_alive else {
            return;
        };
        let due: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| {
                s.attached && !s.cut && s.mode != Mode::Json && s.last_write + every <= now
            })
            // Bytes still waiting for the reader keep the connection busy already: a
            // reader that never reads must not collect keep-alives without bound.
            .filter(|(_, s)| s.out.is_empty())
            .map(|(id, _)| *id)
            .collect();
        for sid in due {
            if self
                .streams
                .get(&sid)
                .is_some_and(|s| s.mode == Mode::Undecided)
            {
                if self.json_only {
                    if let Some(s) = self.streams.get_mut(&sid) {
                        s.last_write = now;
                    }
                    continue;
                }
                if let Some(s) = self.streams.get_mut(&sid) {
                    s.mode = Mode::Sse;
                }
                self.start_sse(sid);
            }
            self.scratch.clear();
            encode_comment(&mut self.scratch, "");
            let chunk = self.scratch.split().freeze();
            if let Some(s) = self.streams.get_mut(&sid) {
                s.out.push_back((None, chunk));
                s.last_write = now;
            }
            self.after_write(sid);
        }
    }
}

fn trim(mut frame: Bytes) -> Bytes {
    if frame.last() == Some(&b'\n') {
        frame.truncate(frame.len() - 1);
    }
    frame
}

/// The id of a JSON-RPC request frame (one with a `method` and an `id`).
fn request_id_of(frame: &Bytes) -> Option<RequestId> {
    #[derive(serde::Deserialize)]
    struct Probe {
        id: Option<RequestId>,
        method: Option<serde::de::IgnoredAny>,
    }
    let p: Probe = serde_json::from_slice(frame).ok()?;
    p.method.and(p.id)
}

fn parse_event_id(id: &str) -> Option<(StreamId, u64)> {
    let (s, q) = id.split_once(':')?;
    Some((StreamId(s.parse().ok()?), q.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{FrameKind, Route, Transmit};

    fn t(id: i64, kind: FrameKind, text: &str) -> Transmit {
        Transmit {
            route: Route::Request(RequestId::Number(id)),
            frame: Bytes::from(format!("{text}\n")),
            kind,
        }
    }

    fn legacy() -> HttpStreams {
        HttpStreams::legacy(
            StreamConfig::default(),
            Box::new(MemoryEventStore::new(64)),
            true,
            false,
        )
    }

    fn drain(s: &mut HttpStreams, sid: StreamId) -> (Vec<String>, bool) {
        let mut out = Vec::new();
        loop {
            match s.poll_chunk(sid, s.generation(sid)) {
                Chunk::Data(b) => out.push(String::from_utf8(b.to_vec()).unwrap()),
                Chunk::Pending => return (out, false),
                Chunk::End => return (out, true),
            }
        }
    }

    #[test]
    fn an_immediate_answer_is_json() {
        let now = crate::test_start();
        let mut s = legacy();
        let sid = s.open_request(now, RequestId::Number(1));
        assert_eq!(s.poll_head(sid), None);
        assert_eq!(s.route(now, t(1, FrameKind::Result, "{}")), Some(sid));
        assert_eq!(
            s.poll_head(sid),
            Some(Head::Json {
                status: 200,
                body: Bytes::from_static(b"{}")
            })
        );
        assert!(s.is_empty());
    }

    #[test]
    fn modern_errors_map_to_statuses_and_drops_cancel() {
        let now = crate::test_start();
        let mut s = HttpStreams::modern(StreamConfig::default());
        let a = s.open_request(now, RequestId::Number(1));
        s.route(now, t(1, FrameKind::Error(-32601), "{}"));
        assert!(matches!(
            s.poll_head(a),
            Some(Head::Json { status: 404, .. })
        ));
        let b = s.open_request(now, RequestId::Number(2));
        s.route(now, t(2, FrameKind::Notification, "{\"p\":1}"));
        assert_eq!(s.poll_head(b), Some(Head::Sse));
        let (chunks, ended) = drain(&mut s, b);
        assert_eq!(chunks, vec!["event: message\ndata: {\"p\":1}\n\n"]);
        assert!(!ended);
        assert_eq!(s.detach(b, 0), vec![RequestId::Number(2)]);
        assert!(s.is_empty());
    }

    #[test]
    fn a_dropped_legacy_stream_resumes_without_loss() {
        let now = crate::test_start();
        let mut s = legacy();
        let sid = s.open_request(now, RequestId::Number(7));
        s.route(now, t(7, FrameKind::Notification, "{\"n\":1}"));
        assert_eq!(s.poll_head(sid), Some(Head::Sse));
        let (first, _) = drain(&mut s, sid);
        assert!(first[0].starts_with("id: 1:0\nretry: 1000\n"), "{first:?}");
        assert!(first[1].contains("id: 1:1\n") && first[1].contains("{\"n\":1}"));
        // The client read only the priming event, then the connection dropped.
        assert!(s.detach(sid, 0).is_empty());
        s.route(now, t(7, FrameKind::Notification, "{\"n\":2}"));
        s.route(now, t(7, FrameKind::Result, "{\"r\":1}"));
        assert_eq!(s.resume(now, "1:0"), Some(sid));
        let (replayed, ended) = drain(&mut s, sid);
        assert!(ended);
        let joined = replayed.concat();
        for part in ["{\"n\":1}", "{\"n\":2}", "{\"r\":1}", "id: 1:3"] {
            assert!(joined.contains(part), "{part} missing from {joined}");
        }
        // Delivered and ended, but kept (bounded) in case the last writes never arrived.
        assert_eq!(s.active(), 0);
        assert_eq!(s.resume(now, "1:2"), Some(sid));
        let (again, ended) = drain(&mut s, sid);
        assert!(ended && again.concat().contains("{\"r\":1}"));

        // A resumption takes over from a reader whose connection died unnoticed.
        let sid = s.open_request(now, RequestId::Number(8));
        s.route(now, t(8, FrameKind::Notification, "{\"n\":1}"));
        assert_eq!(s.resume(now, &format!("{}:0", sid.0)), Some(sid));
        assert_eq!(s.poll_chunk(sid, 0), Chunk::End);
        assert!(s.detach(sid, 0).is_empty());
        assert!(matches!(s.poll_chunk(sid, 1), Chunk::Data(_)));
    }

    #[test]
    fn a_session_message_wakes_the_get_stream_reader() {
        let now = crate::test_start();
        let mut s = legacy();
        let get = s.open_standalone(now).unwrap();
        let _ = s.take_woken().count();
        while let Chunk::Data(_) = s.poll_chunk(get, s.generation(get)) {}
        s.route(
            now,
            Transmit {
                route: Route::Session,
                frame: Bytes::from_static(b"{\"n\":1}\n"),
                kind: FrameKind::Notification,
            },
        );
        assert_eq!(s.take_woken().collect::<Vec<_>>(), [get]);
    }

    #[test]
    fn parked_streams_are_bounded() {
        let now = crate::test_start();
        let mut s = legacy();
        for i in 0..(MAX_PARKED as i64 + 10) {
            let sid = s.open_request(now, RequestId::Number(i));
            s.route(now, t(i, FrameKind::Notification, "{}"));
            s.route(now, t(i, FrameKind::Result, "{}"));
            assert_eq!(s.poll_head(sid), Some(Head::Sse));
            assert!(drain(&mut s, sid).1);
        }
        assert_eq!(s.len(), MAX_PARKED);
        assert_eq!(s.active(), 0);
        assert!(s.stored_events() <= MAX_PARKED * 3);
    }

    #[test]
    fn polling_cuts_the_stream_and_keeps_the_request() {
        let now = crate::test_start();
        let mut s = legacy();
        let sid = s.open_request(now, RequestId::Number(1));
        assert!(s.close_for_polling(&RequestId::Number(1)));
        assert_eq!(s.poll_head(sid), Some(Head::Sse));
        let (chunks, ended) = drain(&mut s, sid);
        assert_eq!(chunks.len(), 1);
        assert!(ended);
        s.route(now, t(1, FrameKind::Result, "{\"done\":true}"));
        assert_eq!(s.resume(now, "1:0"), Some(sid));
        let (chunks, ended) = drain(&mut s, sid);
        assert!(ended && chunks.concat().contains("{\"done\":true}"));
    }

    #[test]
    fn quiet_streams_get_keep_alives_and_json_only_never_streams() {
        let now = crate::test_start();
        let every = StreamConfig::default().keep_alive.unwrap();
        let mut s = legacy();
        let sid = s.open_request(now, RequestId::Number(1));
        assert_eq!(s.poll_timeout(), Some(now + every));
        s.handle_timeout(now + every);
        assert_eq!(s.poll_head(sid), Some(Head::Sse));
        let (chunks, _) = drain(&mut s, sid);
        assert_eq!(chunks.last().map(String::as_str), Some(":\n"));
        assert_eq!(s.poll_timeout(), Some(now + every * 2));

        let mut j = HttpStreams::legacy(
            StreamConfig::default(),
            Box::new(MemoryEventStore::new(8)),
            true,
            true,
        );
        let sid = j.open_request(now, RequestId::Number(1));
        j.handle_timeout(now + every);
        j.route(now, t(1, FrameKind::Notification, "{}"));
        assert_eq!(j.poll_head(sid), None);
        j.route(now, t(1, FrameKind::Result, "{\"ok\":1}"));
        assert!(matches!(
            j.poll_head(sid),
            Some(Head::Json { status: 200, .. })
        ));
    }

    fn event_id(event: &str) -> String {
        let line = event.lines().find(|l| l.starts_with("id: ")).unwrap();
        line["id: ".len()..].to_owned()
    }

    fn session_msg(text: &str, kind: FrameKind) -> Transmit {
        Transmit {
            route: Route::Session,
            frame: Bytes::from(format!("{text}\n")),
            kind,
        }
    }

    #[test]
    fn a_dropped_get_stream_is_parked_and_replays_what_its_reader_missed() {
        let now = crate::test_start();
        let mut s = legacy();
        let get = s.open_standalone(now).unwrap();
        s.route(now, session_msg(r#"{"n":1}"#, FrameKind::Notification));
        let (first, _) = drain(&mut s, get);
        let last = event_id(&first[1]);
        // Written to the reader's queue, never read: the connection is gone.
        let ask = r#"{"jsonrpc":"2.0","id":"s1","method":"roots/list"}"#;
        s.route(now, session_msg(ask, FrameKind::Request));
        s.route(now, session_msg(r#"{"n":2}"#, FrameKind::Notification));
        assert!(s.detach(get, s.generation(get)).is_empty());
        assert!(!s.has_standalone());
        assert_eq!(s.active(), 0, "a parked GET stream holds no slot");
        s.route(now, session_msg(r#"{"n":3}"#, FrameKind::Notification));

        // Resumed with Last-Event-ID: everything after it, in order.
        assert_eq!(s.resume(now, &last), Some(get));
        let (again, ended) = drain(&mut s, get);
        assert!(!ended);
        let joined = again.concat();
        let at = |p: &str| {
            joined
                .find(p)
                .unwrap_or_else(|| panic!("{p} lost: {joined}"))
        };
        assert!(at("roots/list") < at(r#"{"n":2}"#) && at(r#"{"n":2}"#) < at(r#"{"n":3}"#));
        assert!(!joined.contains(r#"{"n":1}"#), "nothing repeated");

        // A plain GET after another drop gets what no reader was written.
        assert!(s.detach(get, s.generation(get)).is_empty());
        s.route(now, session_msg(r#"{"n":4}"#, FrameKind::Notification));
        assert_eq!(s.open_standalone(now), Some(get));
        let (plain, _) = drain(&mut s, get);
        let joined = plain.concat();
        assert!(
            joined.contains(r#"{"n":4}"#) && !joined.contains(r#"{"n":3}"#),
            "{joined}"
        );
        assert_eq!(s.take_lost_requests().count(), 0);
    }

    #[test]
    fn a_busy_stream_cannot_push_out_the_events_of_another() {
        let now = crate::test_start();
        let mut s = HttpStreams::legacy(
            StreamConfig::default(),
            Box::new(MemoryEventStore::new(8)),
            true,
            false,
        );
        let quiet = s.open_request(now, RequestId::Number(1));
        s.route(now, t(1, FrameKind::Notification, r#"{"q":1}"#));
        assert_eq!(s.poll_head(quiet), Some(Head::Sse));
        assert!(s.detach(quiet, 0).is_empty());
        s.route(now, t(1, FrameKind::Result, r#"{"q":"done"}"#));
        let busy = s.open_request(now, RequestId::Number(2));
        for n in 0..100 {
            s.route(
                now,
                t(2, FrameKind::Notification, &format!("{{\"b\":{n}}}")),
            );
        }
        assert_eq!(s.poll_head(busy), Some(Head::Sse));
        assert!(s.stored_events() <= 8);
        assert_eq!(s.resume(now, &format!("{}:0", quiet.0)), Some(quiet));
        let (replayed, ended) = drain(&mut s, quiet);
        let joined = replayed.concat();
        assert!(ended && joined.contains(r#"{"q":1}"#) && joined.contains(r#"{"q":"done"}"#));
        assert!(!joined.contains("error"), "{joined}");
    }

    #[test]
    fn a_resumption_past_the_kept_events_fails_what_the_gap_swallowed() {
        let now = crate::test_start();
        let mut s = HttpStreams::legacy(
            StreamConfig::default(),
            Box::new(MemoryEventStore::new(4)),
            true,
            false,
        );
        let batch = crate::jsonrpc::RawBatch::parse(
            r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#,
        )
        .unwrap();
        let v = Some(crate::schema::ProtocolVersion::V2025_03_26);
        let sid = s.admit_batch(now, v, &batch).unwrap().unwrap();
        let (primed, _) = drain(&mut s, sid);
        let last = event_id(&primed[0]);
        assert!(s.detach(sid, 0).is_empty());
        let ask = r#"{"jsonrpc":"2.0","id":"s9","method":"sampling/createMessage"}"#;
        s.route(
            now,
            Transmit {
                route: Route::Request(RequestId::Number(2)),
                frame: Bytes::from(format!("{ask}\n")),
                kind: FrameKind::Request,
            },
        );
        s.route(
            now,
            t(
                1,
                FrameKind::Result,
                r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            ),
        );
        for n in 0..6 {
            s.route(
                now,
                t(2, FrameKind::Notification, &format!("{{\"p\":{n}}}")),
            );
        }
        // The ask and the answer to 1 are gone from the store; the client resumes from
        // before them.
        assert_eq!(s.resume(now, &last), Some(sid));
        let (replayed, ended) = drain(&mut s, sid);
        assert!(!ended, "request 2 is still open");
        let joined = replayed.concat();
        assert!(
            joined.contains(r#""id":1,"error""#),
            "no explicit failure: {joined}"
        );
        assert!(joined.contains("no longer kept"));
        assert!(!joined.contains(r#""result""#));
        assert_eq!(
            s.take_lost_requests().collect::<Vec<_>>(),
            [RequestId::String("s9".into())]
        );
        // Request 2 still gets its own answer.
        s.route(
            now,
            t(
                2,
                FrameKind::Result,
                r#"{"jsonrpc":"2.0","id":2,"result":{}}"#,
            ),
        );
        let (rest, ended) = drain(&mut s, sid);
        assert!(ended && rest.concat().contains(r#""id":2,"result""#));
    }

    #[test]
    fn streams_that_cannot_resume_obey_the_slow_reader_cut() {
        let now = crate::test_start();
        let max = StreamConfig::default().max_queued;
        for mut s in [
            HttpStreams::modern(StreamConfig::default()),
            HttpStreams::stateless(StreamConfig::default(), false),
        ] {
            let sid = s.open_request(now, RequestId::Number(1));
            for n in 0..(3 * max) {
                s.route(
                    now,
                    t(1, FrameKind::Notification, &format!("{{\"n\":{n}}}")),
                );
            }
            assert_eq!(s.poll_head(sid), Some(Head::Sse));
            let (chunks, ended) = drain(&mut s, sid);
            assert!(chunks.len() <= max, "{} chunks queued", chunks.len());
            assert!(ended, "the stream ends: its reader cannot come back");
            assert_eq!(
                s.take_abandoned().collect::<Vec<_>>(),
                [RequestId::Number(1)]
            );
            // Its late answer goes nowhere.
            assert_eq!(s.route(now, t(1, FrameKind::Result, "{}")), None);
            assert!(s.is_empty());
        }
    }

    #[test]
    fn session_messages_wait_for_the_get_stream_within_bounds() {
        let now = crate::test_start();
        let mut s = legacy();
        let msg = |n: usize| Transmit {
            route: Route::Session,
            frame: Bytes::from(format!("{{\"n\":{n}}}\n")),
            kind: FrameKind::Notification,
        };
        for n in 0..2000 {
            s.route(now, msg(n));
        }
        let get = s.open_standalone(now).unwrap();
        assert_eq!(s.open_standalone(now), None);
        let (chunks, ended) = drain(&mut s, get);
        assert!(!ended);
        // Priming, then the newest messages that fit.
        assert_eq!(chunks.len(), StreamConfig::default().max_queued);
        assert!(chunks.last().unwrap().contains("{\"n\":1999}"));
        s.close();
        assert!(drain(&mut s, get).1);
    }
}
