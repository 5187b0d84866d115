//! The server endpoint: one machine that admits every HTTP request, owns the legacy session
//! table and counts response streams, so that each status code and limit is decided here.
//!
//! Like `quinn-proto`'s `Endpoint`, it routes by handle and decides; the transport only moves
//! bytes and timers. The value kept per legacy session (`S`) is the transport's (typically a
//! shared handle to the session and its [`HttpStreams`](super::HttpStreams)).
//!
//! A request goes through two steps: [`HttpEndpoint::check_head`] before the body is read,
//! then [`HttpEndpoint::handle_request`] with the bounded body. Every [`Admitted`] variant
//! that opens a response stream carries a [`StreamSlot`], already counted against the
//! limits; the transport gives it back with [`HttpEndpoint::release`] when the stream ends.
//!
//! Limits are fair rather than first-come: at the session cap the least recently used idle
//! session is evicted (see [`SessionTable`]); streams are capped per session (429) before
//! the server-wide cap (503), and listening streams have a cap of their own, so one client
//! holding every slot it may cannot lock out another.

use std::time::{Duration, Instant};

use super::{Exchange, Headers, HttpServer, HttpServerConfig, Method, Response, SessionTable};
use crate::entropy::Entropy;
use crate::jsonrpc::{ErrorObject, RawBatch, RawMessage, RequestId};
use crate::schema::ProtocolVersion;
use crate::session::DormantSession;

/// A response stream counted against the endpoint's limits. Give it back with
/// [`HttpEndpoint::release`] once the stream has ended (or was never used).
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a slot holds a stream's place until released"]
pub struct StreamSlot {
    session: Option<String>,
    listen: bool,
    /// The caller an `initialize`'s session will belong to.
    owner: Option<Box<str>>,
}

impl StreamSlot {
    /// The legacy session the stream belongs to, if any.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }
}

/// What to do with a request, as decided by [`HttpEndpoint::handle_request`].
#[derive(Debug)]
pub enum Admitted<'b, S> {
    /// Send this response; no session is involved (refusals, and 200 to a DELETE).
    Respond(Response),
    /// A message served on a session of its own: 2026-07-28, or a stateless legacy server.
    /// `slot` is `None` for a notification or response (answer 202 once the session took it).
    OneShot {
        /// 2026-07-28 (`true`), or a legacy stateless request.
        modern: bool,
        /// Legacy stateless: the version the fresh session assumes (`None` for
        /// `initialize`, which the session answers itself).
        assume: Option<ProtocolVersion>,
        /// The request's id.
        id: Option<RequestId>,
        /// `subscriptions/listen`: outlives its answer's start.
        listen: bool,
        /// The tool of a `tools/call` (for `Mcp-Param-*` checks).
        tool: Option<String>,
        /// The parsed body.
        msg: Option<RawMessage<'b>>,
        /// The response stream's place.
        slot: Option<StreamSlot>,
    },
    /// A legacy `initialize`: build a session, feed it `msg`, and if it accepts, register
    /// it with [`HttpEndpoint::open_session`].
    Initialize {
        /// The request's id.
        id: RequestId,
        /// The parsed body.
        msg: RawMessage<'b>,
        /// The response stream's place.
        slot: StreamSlot,
    },
    /// A message for an existing legacy session.
    Legacy {
        /// The `Mcp-Session-Id`.
        session: String,
        /// The transport's value for it.
        value: S,
        /// The request's id; `None` for notifications and responses (answer 202).
        id: Option<RequestId>,
        /// The parsed body; `None` for a batch.
        msg: Option<RawMessage<'b>>,
        /// The response stream's place, for a request.
        slot: Option<StreamSlot>,
    },
    /// A 2025-03-26 batch for an existing legacy session: open its stream with
    /// [`HttpStreams::admit_batch`](super::HttpStreams::admit_batch), then feed it with
    /// [`ServerSession::handle_batch`](crate::session::ServerSession::handle_batch).
    Batch {
        /// The `Mcp-Session-Id`.
        session: String,
        /// The transport's value for it.
        value: S,
        /// The parsed batch.
        batch: RawBatch<'b>,
        /// The response stream's place, when the batch holds a request.
        slot: Option<StreamSlot>,
    },
    /// A legacy GET: the session's standalone stream, or a resumption.
    Listen {
        /// The `Mcp-Session-Id`.
        session: String,
        /// The transport's value for it.
        value: S,
        /// Where to resume.
        last_event_id: Option<String>,
        /// The stream's place.
        slot: StreamSlot,
    },
    /// A legacy DELETE removed this session: end it, answer 200.
    Ended {
        /// The transport's value for the session.
        value: S,
    },
    /// The message is for a dormant session (registered with
    /// [`HttpEndpoint::open_dormant`]): rebuild it from `record` with
    /// [`ServerSession::revive`](crate::session::ServerSession::revive), register it with
    /// [`HttpEndpoint::revive`], then hand the same request to
    /// [`HttpEndpoint::handle_request`] again.
    Revive {
        /// The `Mcp-Session-Id`.
        session: String,
        /// What the session's handshake decided.
        record: DormantSession,
    },
}

/// A legacy session as the endpoint keeps it: the transport's value, or (until its client
/// sends a second message) a compact record with no transport state at all.
#[derive(Debug)]
enum State<S> {
    Live(S),
    Dormant(DormantSession),
}

/// A legacy session and the caller it belongs to (see [`HttpEndpoint::handle_request_as`]).
#[derive(Debug)]
struct Entry<S> {
    owner: Option<Box<str>>,
    state: State<S>,
}

impl<S> Entry<S> {
    fn live(self) -> Option<S> {
        match self.state {
            State::Live(v) => Some(v),
            State::Dormant(_) => None,
        }
    }
}

fn live<S>(pairs: Vec<(String, Entry<S>)>) -> Vec<(String, S)> {
    pairs
        .into_iter()
        .filter_map(|(id, e)| e.live().map(|v| (id, v)))
        .collect()
}

/// The legacy session registered by [`HttpEndpoint::open_session`].
#[derive(Debug)]
pub struct Opened<S> {
    /// Its `Mcp-Session-Id`.
    pub id: String,
    /// The idle session evicted to make room: end it.
    pub evicted: Option<(String, S)>,
}

/// The HTTP server endpoint (see the module docs).
pub struct HttpEndpoint<S> {
    gate: HttpServer,
    sessions: SessionTable<Entry<S>>,
    /// Response streams counted now (every session, both eras).
    open: usize,
    /// Of which listening streams.
    listening: usize,
    /// Shutting down: new requests are refused, streams in flight finish.
    draining: bool,
}

impl<S> std::fmt::Debug for HttpEndpoint<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpEndpoint")
            .field("sessions", &self.sessions.len())
            .field("open_streams", &self.open)
            .field("listening", &self.listening)
            .finish_non_exhaustive()
    }
}

fn busy(status: u16, message: String) -> Response {
    Response::rpc_error(status, &ErrorObject::internal(message)).with_header("retry-after", "1")
}

/// The 404 a request for an unknown (expired, evicted, deleted) session gets.
pub fn session_not_found() -> Response {
    Response::rpc_error(404, &ErrorObject::invalid_request("session not found"))
}

impl<S: Clone> HttpEndpoint<S> {
    /// An endpoint with `config`; session ids come from `entropy`.
    pub fn new(config: HttpServerConfig, entropy: Box<dyn Entropy>) -> Self {
        let sessions = SessionTable::new(
            config.max_sessions,
            config.session_idle_timeout,
            config.probation_idle_timeout,
            entropy,
        );
        HttpEndpoint {
            gate: HttpServer::new(config),
            sessions,
            open: 0,
            listening: 0,
            draining: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HttpServerConfig {
        self.gate.config()
    }

    /// The stateless front door (request classification).
    pub fn gate(&self) -> &HttpServer {
        &self.gate
    }

    /// Legacy sessions alive now (dormant ones included).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Whether legacy session `id` exists (live or dormant).
    pub fn has_session(&self, id: &str) -> bool {
        self.sessions.peek(id).is_some()
    }

    /// Whether legacy session `id` is kept as a dormant record (see [`Self::open_dormant`]).
    pub fn is_dormant(&self, id: &str) -> bool {
        matches!(
            self.sessions.peek(id).map(|e| &e.state),
            Some(State::Dormant(_))
        )
    }

    /// Response streams counted now.
    pub fn open_streams(&self) -> usize {
        self.open
    }

    /// Whether legacy session `id` has sent nothing since `initialize`.
    pub fn is_on_probation(&self, id: &str) -> bool {
        self.sessions.is_on_probation(id)
    }

    /// Checks what can be checked before the body is read (path, method, `Host`, `Origin`,
    /// announced length, shutdown). `Err` is the response to send.
    pub fn check_head(
        &self,
        method: Method,
        path: &str,
        headers: &(impl Headers + ?Sized),
        content_length: Option<u64>,
    ) -> Result<(), Response> {
        self.gate
            .check_head(method, path, headers, content_length)?;
        if self.draining {
            return Err(
                Response::rpc_error(503, &ErrorObject::internal("server shutting down"))
                    .with_header("retry-after", "1")
                    .with_header("connection", "close"),
            );
        }
        Ok(())
    }

    /// Starts a graceful shutdown: from now on every request is refused with 503 and
    /// `Connection: close`; streams already open go on until they end or the transport's
    /// grace period runs out.
    pub fn begin_shutdown(&mut self) {
        self.draining = true;
    }

    /// Whether [`Self::begin_shutdown`] was called.
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// The response to a body that grew past `max_body` while being read.
    pub fn too_large(&self) -> Response {
        self.gate.too_large()
    }

    /// The response to a body not read within `body_timeout`.
    pub fn too_slow(&self) -> Response {
        self.gate.too_slow()
    }

    /// How long the transport may spend reading a body.
    pub fn body_timeout(&self) -> Duration {
        self.config().body_timeout
    }

    /// Reserves the place of a stream of legacy session `id`, which counts as work on it
    /// (its idle clock stops) until the slot is released.
    fn reserve_on(&mut self, now: Instant, id: &str, listen: bool) -> Result<StreamSlot, Response> {
        let slot = self.reserve(Some(id), listen)?;
        self.sessions.begin(now, id);
        Ok(slot)
    }

    /// Reserves a stream's place, or says why not.
    fn reserve(&mut self, session: Option<&str>, listen: bool) -> Result<StreamSlot, Response> {
        let cfg = self.gate.config();
        if let Some(id) = session {
            let max = cfg.max_streams_per_session;
            if self.sessions.busy(id) >= max {
                return Err(busy(
                    429,
                    format!("too many concurrent streams on this session (limit {max})"),
                ));
            }
        }
        if listen && self.listening >= cfg.max_listen_streams {
            let max = cfg.max_listen_streams;
            return Err(busy(503, format!("server busy: {max} listening streams")));
        }
        if self.open >= cfg.max_streams {
            let max = cfg.max_streams;
            return Err(busy(503, format!("server busy: {max} streams open")));
        }
        self.open += 1;
        self.listening += usize::from(listen);
        Ok(StreamSlot {
            session: session.map(str::to_owned),
            listen,
            owner: None,
        })
    }

    /// Gives a stream's place back (the stream ended, or was never opened).
    pub fn release(&mut self, now: Instant, slot: StreamSlot) {
        self.open = self.open.saturating_sub(1);
        if slot.listen {
            self.listening = self.listening.saturating_sub(1);
        }
        if let Some(id) = &slot.session {
            self.sessions.end(now, id);
        }
    }

    /// Decides what a request means, given its already size-checked body (empty for GET and
    /// DELETE).
    pub fn handle_request<'b>(
        &mut self,
        now: Instant,
        method: Method,
        headers: &(impl Headers + ?Sized),
        body: &'b [u8],
    ) -> Admitted<'b, S> {
        self.handle_request_as(now, None, method, headers, body)
    }

    /// [`Self::handle_request`] for an authenticated `caller` (a stable key naming who the
    /// request's credentials speak for, e.g. [`Principal::key`]). A legacy session opened
    /// by one caller is bound to it: a request of another caller, or of none, that names
    /// the session gets the same 404 as an unknown session (a stolen session id is worth
    /// nothing, and the thief does not even learn that it exists).
    ///
    /// [`Principal::key`]: crate::auth::Principal::key
    pub fn handle_request_as<'b>(
        &mut self,
        now: Instant,
        caller: Option<&str>,
        method: Method,
        headers: &(impl Headers + ?Sized),
        body: &'b [u8],
    ) -> Admitted<'b, S> {
        let (exchange, msg) = match self.gate.classify_message(method, headers, body) {
            Ok(e) => e,
            Err(r) => return Admitted::Respond(r),
        };
        match exchange {
            Exchange::Modern { id, listen, tool } => {
                self.one_shot(true, None, id, listen, tool, msg)
            }
            Exchange::Stateless { version, id } => {
                self.one_shot(false, version, id, false, None, msg)
            }
            Exchange::Initialize { id } => {
                let Some(msg) = msg else {
                    return Admitted::Respond(Response::status(400));
                };
                match self.reserve(None, false) {
                    Ok(mut slot) => {
                        slot.owner = caller.map(Into::into);
                        Admitted::Initialize { id, msg, slot }
                    }
                    Err(r) => Admitted::Respond(r),
                }
            }
            Exchange::Legacy { session, id: None } if msg.is_none() => {
                let batch = match std::str::from_utf8(body).map(RawBatch::parse) {
                    Ok(Ok(batch)) => batch,
                    Ok(Err(e)) => return Admitted::Respond(Response::rpc_error(400, &e.error)),
                    Err(_) => return Admitted::Respond(Response::status(400)),
                };
                let value = match self.lookup(now, caller, &session) {
                    Ok(value) => value,
                    Err(a) => return a,
                };
                let slot = if batch.request_ids().next().is_some() {
                    match self.reserve_on(now, &session, false) {
                        Ok(slot) => Some(slot),
                        Err(r) => return Admitted::Respond(r),
                    }
                } else {
                    None
                };
                Admitted::Batch {
                    session,
                    value,
                    batch,
                    slot,
                }
            }
            Exchange::Legacy { session, id } => {
                let value = match self.lookup(now, caller, &session) {
                    Ok(value) => value,
                    Err(a) => return a,
                };
                let slot = match id {
                    Some(_) => match self.reserve_on(now, &session, false) {
                        Ok(slot) => Some(slot),
                        Err(r) => return Admitted::Respond(r),
                    },
                    None => None,
                };
                Admitted::Legacy {
                    session,
                    value,
                    id,
                    msg,
                    slot,
                }
            }
            Exchange::Listen {
                session,
                last_event_id,
            } => {
                let value = match self.lookup(now, caller, &session) {
                    Ok(value) => value,
                    Err(a) => return a,
                };
                match self.reserve_on(now, &session, true) {
                    Ok(slot) => Admitted::Listen {
                        session,
                        value,
                        last_event_id,
                        slot,
                    },
                    Err(r) => Admitted::Respond(r),
                }
            }
            Exchange::End { session } => {
                if !self.owned_by(&session, caller) {
                    return Admitted::Respond(session_not_found());
                }
                match self.sessions.remove(&session).map(|e| e.state) {
                    Some(State::Live(value)) => Admitted::Ended { value },
                    // Nothing was built for it: forgetting the record ends it.
                    Some(State::Dormant(_)) => Admitted::Respond(Response::status(200)),
                    None => Admitted::Respond(session_not_found()),
                }
            }
        }
    }

    /// The live value of `session` (marking it active), or what to answer instead: 404 for
    /// an unknown session, [`Admitted::Revive`] for a dormant one.
    #[allow(clippy::result_large_err)] // built once per request, returned at once
    fn lookup<'b>(
        &mut self,
        now: Instant,
        caller: Option<&str>,
        session: &str,
    ) -> Result<S, Admitted<'b, S>> {
        if !self.owned_by(session, caller) {
            return Err(Admitted::Respond(session_not_found()));
        }
        match self.sessions.peek(session).map(|e| &e.state) {
            Some(State::Live(_)) => {}
            Some(State::Dormant(record)) => {
                return Err(Admitted::Revive {
                    session: session.to_owned(),
                    record: record.clone(),
                })
            }
            None => return Err(Admitted::Respond(session_not_found())),
        }
        match self.sessions.get(now, session).map(|e| &e.state) {
            Some(State::Live(value)) => Ok(value.clone()),
            _ => Err(Admitted::Respond(session_not_found())),
        }
    }

    /// Whether session `id` is unknown or belongs to `caller`.
    fn owned_by(&self, id: &str, caller: Option<&str>) -> bool {
        self.sessions
            .peek(id)
            .is_none_or(|e| e.owner.as_deref() == caller)
    }

    fn one_shot<'b>(
        &mut self,
        modern: bool,
        assume: Option<ProtocolVersion>,
        id: Option<RequestId>,
        listen: bool,
        tool: Option<String>,
        msg: Option<RawMessage<'b>>,
    ) -> Admitted<'b, S> {
        let slot = match id {
            Some(_) => match self.reserve(None, listen) {
                Ok(slot) => Some(slot),
                Err(r) => return Admitted::Respond(r),
            },
            None => None,
        };
        Admitted::OneShot {
            modern,
            assume,
            id,
            listen,
            tool,
            msg,
            slot,
        }
    }

    /// Registers the session an `initialize` built (its handshake succeeded), binding the
    /// initialize response's `slot` to it. At the cap, the least recently used idle session
    /// is evicted for it; when every session is busy the newcomer gets this 503.
    pub fn open_session(
        &mut self,
        now: Instant,
        value: S,
        slot: &mut StreamSlot,
    ) -> Result<Opened<S>, Response> {
        self.insert(now, State::Live(value), slot)
    }

    /// Registers the session an `initialize` built as a dormant record, when its handshake
    /// left nothing else behind ([`ServerSession::to_dormant`]): the transport keeps no
    /// state for it until the client's next message ([`Admitted::Revive`]). Abandoned
    /// sessions then cost a small record each. Otherwise as [`Self::open_session`].
    ///
    /// [`ServerSession::to_dormant`]: crate::session::ServerSession::to_dormant
    pub fn open_dormant(
        &mut self,
        now: Instant,
        record: DormantSession,
        slot: &mut StreamSlot,
    ) -> Result<Opened<S>, Response> {
        self.insert(now, State::Dormant(record), slot)
    }

    /// Replaces dormant session `id` by the session rebuilt from its record. `Err` gives
    /// `value` back when `id` is no longer dormant (another request revived it first, or it
    /// is gone): drop it and handle the request again.
    pub fn revive(&mut self, id: &str, value: S) -> Result<(), S> {
        match self.sessions.peek_mut(id) {
            Some(entry) if matches!(entry.state, State::Dormant(_)) => {
                entry.state = State::Live(value);
                Ok(())
            }
            _ => Err(value),
        }
    }

    fn insert(
        &mut self,
        now: Instant,
        state: State<S>,
        slot: &mut StreamSlot,
    ) -> Result<Opened<S>, Response> {
        let entry = Entry {
            owner: slot.owner.clone(),
            state,
        };
        match self.sessions.insert(now, entry) {
            Ok(inserted) => {
                self.sessions.begin(now, &inserted.id);
                slot.session = Some(inserted.id.clone());
                Ok(Opened {
                    id: inserted.id,
                    evicted: inserted
                        .evicted
                        .and_then(|(id, e)| e.live().map(|v| (id, v))),
                })
            }
            Err(full) => Err(
                Response::rpc_error(503, &ErrorObject::internal(full.to_string()))
                    .with_header("retry-after", "5"),
            ),
        }
    }

    /// Forgets session `id` (it closed itself); returns its value if it was still known.
    pub fn close_session(&mut self, id: &str) -> Option<S> {
        self.sessions.remove(id).and_then(Entry::live)
    }

    /// When [`Self::handle_timeout`] wants to run next (the next idle expiry).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions.poll_timeout()
    }

    /// Expires idle sessions; returns them, to be ended.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<(String, S)> {
        live(self.sessions.expire(now))
    }

    /// Removes every session (shutdown); returns them, to be ended.
    pub fn drain_sessions(&mut self) -> Vec<(String, S)> {
        live(self.sessions.drain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;

    const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    const PING: &str = r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#;
    const NOTE: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    const LISTEN: &str = r#"{"jsonrpc":"2.0","id":3,"method":"subscriptions/listen","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

    fn endpoint(cfg: HttpServerConfig) -> HttpEndpoint<u32> {
        HttpEndpoint::new(cfg, Box::new(SeededEntropy::new(7)))
    }

    fn post<'b>(
        e: &mut HttpEndpoint<u32>,
        now: Instant,
        session: Option<&str>,
        body: &'b str,
    ) -> Admitted<'b, u32> {
        let mut h = vec![
            ("host", "127.0.0.1"),
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
        ];
        if let Some(s) = session {
            h.push(("mcp-session-id", s));
        }
        if body == LISTEN {
            h.push(("mcp-protocol-version", "2026-07-28"));
            h.push(("mcp-method", "subscriptions/listen"));
        }
        e.handle_request(now, Method::Post, h.as_slice(), body.as_bytes())
    }

    fn get(e: &mut HttpEndpoint<u32>, now: Instant, session: &str) -> Admitted<'static, u32> {
        let h = [
            ("host", "127.0.0.1"),
            ("accept", "text/event-stream"),
            ("mcp-session-id", session),
        ];
        e.handle_request(now, Method::Get, h.as_slice(), b"")
    }

    /// Runs `initialize` through the endpoint as a transport would; returns the session id.
    fn open(e: &mut HttpEndpoint<u32>, now: Instant, value: u32) -> (String, Option<u32>) {
        let Admitted::Initialize { mut slot, .. } = post(e, now, None, INIT) else {
            panic!("not an initialize");
        };
        let opened = e.open_session(now, value, &mut slot).unwrap();
        e.release(now, slot);
        (opened.id, opened.evicted.map(|(_, v)| v))
    }

    fn status<S>(a: &Admitted<'_, S>) -> Option<u16> {
        match a {
            Admitted::Respond(r) => Some(r.status),
            _ => None,
        }
    }

    #[test]
    fn a_flood_of_abandoned_sessions_evicts_itself_not_the_newcomer() {
        let t0 = crate::test_start();
        let mut e = endpoint(HttpServerConfig {
            max_sessions: 8,
            ..Default::default()
        });
        let (veteran, _) = open(&mut e, t0, 0);
        assert!(matches!(
            post(&mut e, t0, Some(&veteran), NOTE),
            Admitted::Legacy { value: 0, .. }
        ));
        assert!(!e.is_on_probation(&veteran));
        let mut evicted = Vec::new();
        for i in 1..=100 {
            let (_, gone) = open(&mut e, t0 + Duration::from_millis(i), i as u32);
            evicted.extend(gone);
        }
        assert_eq!(e.session_count(), 8);
        // 93 abandoned sessions were evicted, oldest first; the confirmed one stayed.
        assert_eq!(evicted, (1..=93).collect::<Vec<_>>());
        assert!(matches!(
            post(&mut e, t0, Some(&veteran), PING),
            Admitted::Legacy { value: 0, .. }
        ));
        assert_eq!(e.open_streams(), 1);
    }

    fn dormant_record(now: Instant) -> DormantSession {
        use crate::schema::common::Implementation;
        use crate::session::{ServerConfig, ServerSession};
        let config = ServerConfig::new(Implementation::new("s", "1"), Default::default());
        let entropy = Box::new(SeededEntropy::new(1));
        let mut s = ServerSession::new(config, now, std::time::SystemTime::UNIX_EPOCH, entropy);
        s.handle_message(now, INIT.as_bytes());
        while s.poll_transmit().is_some() {}
        s.to_dormant().unwrap()
    }

    fn open_dormant(e: &mut HttpEndpoint<u32>, now: Instant) -> String {
        let Admitted::Initialize { mut slot, .. } = post(e, now, None, INIT) else {
            panic!("not an initialize");
        };
        let opened = e.open_dormant(now, dormant_record(now), &mut slot).unwrap();
        assert!(
            opened.evicted.is_none(),
            "a dormant record has nothing to end"
        );
        e.release(now, slot);
        opened.id
    }

    #[test]
    fn a_dormant_session_is_revived_by_its_next_message_and_forgotten_for_free() {
        let t0 = crate::test_start();
        let mut e = endpoint(HttpServerConfig {
            max_sessions: 2,
            ..Default::default()
        });
        let id = open_dormant(&mut e, t0);
        assert!(e.is_dormant(&id) && e.is_on_probation(&id));
        let Admitted::Revive { session, record } = post(&mut e, t0, Some(&id), NOTE) else {
            panic!("a dormant session must be revived first")
        };
        assert_eq!(
            (session.as_str(), record.version()),
            (id.as_str(), ProtocolVersion::V2025_06_18)
        );
        // Nothing is counted until the request is handled for real.
        assert_eq!(e.open_streams(), 0);
        assert!(e.is_on_probation(&id));
        assert_eq!(e.revive(&id, 5), Ok(()));
        // A request racing the first revival loses and takes the live session.
        assert_eq!(e.revive(&id, 6), Err(6));
        assert!(matches!(
            post(&mut e, t0, Some(&id), NOTE),
            Admitted::Legacy { value: 5, .. }
        ));
        assert!(!e.is_dormant(&id) && !e.is_on_probation(&id));

        // At the cap, dormant records go first and leave nothing for the transport to end.
        let a = open_dormant(&mut e, t0);
        let b = open_dormant(&mut e, t0 + Duration::from_secs(1));
        assert_eq!(e.session_count(), 2);
        assert_eq!(status(&post(&mut e, t0, Some(&a), NOTE)), Some(404));
        let Admitted::Legacy {
            value: 5,
            slot: Some(slot),
            ..
        } = post(&mut e, t0, Some(&id), PING)
        else {
            panic!("the revived session was evicted")
        };
        e.release(t0, slot);

        // DELETE forgets a dormant session; expiry does too, with nothing to end.
        let h = [("host", "127.0.0.1"), ("mcp-session-id", b.as_str())];
        assert_eq!(
            status(&e.handle_request(t0, Method::Delete, h.as_slice(), b"")),
            Some(200)
        );
        let c = open_dormant(&mut e, t0);
        let gone = e.handle_timeout(t0 + Duration::from_secs(60));
        assert!(gone.is_empty(), "{gone:?}");
        assert!(!e.is_dormant(&c) && e.session_count() == 1);
        assert_eq!(status(&get(&mut e, t0, &c)), Some(404));
    }

    #[test]
    fn probation_sessions_expire_sooner_and_busy_ones_never() {
        let t0 = crate::test_start();
        let mut e = endpoint(HttpServerConfig::default());
        let (idle, _) = open(&mut e, t0, 1);
        let (used, _) = open(&mut e, t0, 2);
        let Admitted::Legacy {
            slot: Some(slot), ..
        } = post(&mut e, t0, Some(&used), PING)
        else {
            panic!()
        };
        assert_eq!(e.poll_timeout(), Some(t0 + Duration::from_secs(60)));
        let gone = e.handle_timeout(t0 + Duration::from_secs(60));
        assert_eq!(gone, vec![(idle.clone(), 1)]);
        assert_eq!(status(&post(&mut e, t0, Some(&idle), PING)), Some(404));
        // `used` is busy answering: it never expires while the slot is held.
        assert!(e.handle_timeout(t0 + Duration::from_secs(3600)).is_empty());
        let t1 = t0 + Duration::from_secs(3600);
        e.release(t1, slot);
        assert_eq!(e.poll_timeout(), Some(t1 + Duration::from_secs(600)));
        assert_eq!(e.handle_timeout(t1 + Duration::from_secs(600)).len(), 1);
        assert_eq!(e.open_streams(), 0);
    }

    #[test]
    fn one_session_holding_its_streams_does_not_lock_out_another() {
        let t0 = crate::test_start();
        let mut e = endpoint(HttpServerConfig {
            max_streams_per_session: 4,
            max_streams: 6,
            ..Default::default()
        });
        let (greedy, _) = open(&mut e, t0, 1);
        let (polite, _) = open(&mut e, t0, 2);
        let mut held = Vec::new();
        loop {
            match post(&mut e, t0, Some(&greedy), PING) {
                Admitted::Legacy { slot: Some(s), .. } => held.push(s),
                other => {
                    assert_eq!(status(&other), Some(429));
                    break;
                }
            }
        }
        assert_eq!(held.len(), 4);
        assert!(matches!(get(&mut e, t0, &greedy), Admitted::Respond(r) if r.status == 429));
        let Admitted::Listen { slot, .. } = get(&mut e, t0, &polite) else {
            panic!("the other session is locked out")
        };
        held.push(slot);
        let Admitted::Legacy { slot: Some(s), .. } = post(&mut e, t0, Some(&polite), PING) else {
            panic!()
        };
        held.push(s);
        // The server-wide cap is the last line: 503, not 429.
        assert_eq!(status(&post(&mut e, t0, Some(&polite), PING)), Some(503));
        for s in held {
            e.release(t0, s);
        }
        assert_eq!(e.open_streams(), 0);
        assert!(matches!(
            post(&mut e, t0, Some(&greedy), PING),
            Admitted::Legacy { .. }
        ));
    }

    #[test]
    fn listening_streams_have_a_cap_of_their_own() {
        let t0 = crate::test_start();
        let mut e = endpoint(HttpServerConfig {
            max_listen_streams: 2,
            ..Default::default()
        });
        let mut held = Vec::new();
        for _ in 0..2 {
            let Admitted::OneShot {
                slot: Some(s),
                listen: true,
                ..
            } = post(&mut e, t0, None, LISTEN)
            else {
                panic!()
            };
            held.push(s);
        }
        assert_eq!(status(&post(&mut e, t0, None, LISTEN)), Some(503));
        // Ordinary requests still get through.
        let (s, _) = open(&mut e, t0, 1);
        assert!(matches!(
            post(&mut e, t0, Some(&s), PING),
            Admitted::Legacy { slot: Some(_), .. }
        ));
        e.release(t0, held.pop().unwrap());
        assert!(matches!(
            post(&mut e, t0, None, LISTEN),
            Admitted::OneShot { .. }
        ));
    }

    #[test]
    fn shutdown_refuses_new_requests_and_lets_open_streams_finish() {
        let t0 = crate::test_start();
        let mut e = endpoint(HttpServerConfig::default());
        let (s, _) = open(&mut e, t0, 1);
        let Admitted::Legacy {
            slot: Some(slot), ..
        } = post(&mut e, t0, Some(&s), PING)
        else {
            panic!()
        };
        e.begin_shutdown();
        let head = [("host", "127.0.0.1")];
        let refused = e
            .check_head(Method::Post, "/mcp", head.as_slice(), None)
            .unwrap_err();
        assert_eq!(refused.status, 503);
        assert_eq!(refused.header("connection"), Some("close"));
        assert_eq!(e.open_streams(), 1);
        e.release(t0, slot);
        assert_eq!(e.open_streams(), 0);
        assert!(e.is_draining());
    }

    #[test]
    fn a_session_is_bound_to_the_caller_that_opened_it() {
        let t0 = crate::test_start();
        let mut e = endpoint(HttpServerConfig::default());
        let h = [
            ("host", "127.0.0.1"),
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
        ];
        let Admitted::Initialize { mut slot, .. } = e.handle_request_as(
            t0,
            Some("alice"),
            Method::Post,
            h.as_slice(),
            INIT.as_bytes(),
        ) else {
            panic!()
        };
        let id = e.open_session(t0, 1, &mut slot).unwrap().id;
        e.release(t0, slot);
        let as_ = |e: &mut HttpEndpoint<u32>, who: Option<&str>, m: Method, body: &'static str| {
            let h = [
                ("host", "127.0.0.1"),
                ("accept", "application/json, text/event-stream"),
                ("content-type", "application/json"),
                ("mcp-session-id", id.as_str()),
            ];
            let a = e.handle_request_as(t0, who, m, h.as_slice(), body.as_bytes());
            if let Admitted::Legacy { slot: Some(s), .. } | Admitted::Listen { slot: s, .. } = a {
                e.release(t0, s);
                return None;
            }
            status(&a)
        };
        // Another caller, or none, cannot post, listen or delete: the session "does not exist".
        for who in [Some("mallory"), None] {
            assert_eq!(as_(&mut e, who, Method::Post, PING), Some(404));
            assert_eq!(as_(&mut e, who, Method::Get, ""), Some(404));
            assert_eq!(as_(&mut e, who, Method::Delete, ""), Some(404));
        }
        assert!(e.has_session(&id));
        assert_eq!(as_(&mut e, Some("alice"), Method::Post, PING), None);
        assert!(matches!(
            e.handle_request_as(
                t0,
                Some("alice"),
                Method::Delete,
                [("host", "127.0.0.1"), ("mcp-session-id", id.as_str())].as_slice(),
                b""
            ),
            Admitted::Ended { value: 1 }
        ));
        assert_eq!(e.open_streams(), 0);
    }

    #[test]
    fn every_session_busy_refuses_the_newcomer_with_503_and_delete_ends_one() {
        let t0 = crate::test_start();
        let mut e = endpoint(HttpServerConfig {
            max_sessions: 1,
            ..Default::default()
        });
        let (only, _) = open(&mut e, t0, 1);
        let Admitted::Legacy {
            slot: Some(slot), ..
        } = post(&mut e, t0, Some(&only), PING)
        else {
            panic!()
        };
        let Admitted::Initialize { slot: mut s2, .. } = post(&mut e, t0, None, INIT) else {
            panic!()
        };
        assert_eq!(e.open_session(t0, 2, &mut s2).unwrap_err().status, 503);
        e.release(t0, s2);
        e.release(t0, slot);
        let h = [("host", "127.0.0.1"), ("mcp-session-id", only.as_str())];
        assert!(matches!(
            e.handle_request(t0, Method::Delete, h.as_slice(), b""),
            Admitted::Ended { value: 1 }
        ));
        assert_eq!(e.session_count(), 0);
        assert_eq!(e.open_streams(), 0);
    }
}
