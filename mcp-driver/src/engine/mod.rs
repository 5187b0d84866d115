//! The connection engine: one future per connection, for every transport.
//!
//! A connection is one or more sessions ([`Shared`] state behind a mutex, the quinn pattern)
//! and a [`Transport`] that moves their frames. The engine does everything that is the same
//! for every transport, once:
//!
//! - **timers**: each round fires what is due in every session, and one runtime timer is
//!   armed for the earliest deadline (of the sessions, of the transport, or an idle horizon);
//!   an armed timer is kept while it is not later than needed, since deadlines move on every
//!   call and a timer that fires early is harmless;
//! - **inline handler polls**: work the sessions' events start (handlers, answers to asks)
//!   is polled once right in the round, outside the locks; only what does not finish at once
//!   is spawned;
//! - **wake coalescing**: a command during a round (a handler answering inline) is noted
//!   instead of waking the engine's task, and the round looks again before it ends; a
//!   transport whose sub-futures wake the task from inside its own poll (hyper) asks for
//!   [`Coalesce`] on top;
//! - **inline turns** ([`Engine::kick`]): a caller that queued a request runs a round from
//!   its own task when the engine is free, instead of waking it (a task hop saved per call);
//! - **close on drop**: however the engine ends (finished, dropped, or unwound by a
//!   panicking handler), every session is closed and its waiters get an error, not a hang.
//!
//! # Plugging in a transport
//!
//! A transport implements [`Transport::poll_io`], called once per round after every session
//! stepped: it takes the frames the sessions produced from [`Round::out`] (one list per
//! attached session, in attach order), hands input to sessions through [`Round::sessions`]
//! ([`Attached::handle_bytes`] for a byte stream, [`Attached::deliver`] for whole messages),
//! and says in its [`Io`] whether anything moved, its own next deadline, whether to close the
//! sessions, and when the connection is over. [`Transport::finish`] gets what closing the
//! sessions produced, best effort. A round without a context (`cx: None`) is an inline turn
//! on a caller's task: the transport must not register wakers then (no reads), and sets
//! [`Round::needs_driver`] if it left work only the engine's task can finish.
//!
//! The byte streams ([`stream`]), whole-message sinks and streams ([`message`]), the in-process link (`linked.rs`), the HTTP client
//! (`http/client.rs`) and the HTTP server's sessions (`http/server.rs`, frames routed onto
//! response streams) are the transports today: each is one `poll_io`.

pub(crate) mod abort;
pub(crate) mod coalesce;
pub(crate) mod message;
mod shared;
pub(crate) mod stream;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mcp_proto::session::Transmit;

use crate::runtime::{BoxFuture, Runtime};
use coalesce::Coalesce;
pub use shared::Backlog;
pub(crate) use shared::{close_on_drop, close_side, lock, Endpoint, Shared, Side};

/// A session attached to an engine, with its side erased: what the engine and transports do
/// with it.
pub(crate) trait Attached<R: Runtime>: Send + Sync {
    /// Fires due timers, handles events (new work goes to `tasks`), collects the frames to
    /// send, and registers `waker` as the engine's.
    fn step(
        &self,
        rt: &R,
        now: Instant,
        waker: Option<&Waker>,
        tasks: &mut Vec<BoxFuture<'static, ()>>,
        out: &mut Vec<Transmit>,
    ) -> Step;
    /// Bytes read from a stream (whole frames are consumed); `eof` at its end.
    fn handle_bytes(&self, now: Instant, buf: &mut BytesMut, eof: bool);
    /// Whole messages (a trailing newline is ignored).
    fn deliver(&self, now: Instant, messages: &mut dyn Iterator<Item = Bytes>);
    /// One message read from a message transport, held to the limits of a line on a byte
    /// stream.
    fn handle_framed(&self, now: Instant, message: &[u8]);
    fn begin_turn(&self);
    fn end_turn(&self) -> bool;
    /// Records the transport's output backlog, for the handles to read.
    fn set_backlog(&self, backlog: Backlog);
    /// Closes the session with `reason`; returns the frames closing produced.
    fn close(&self, rt: &R, reason: &str) -> Vec<Transmit>;
    /// Closes the session of an engine being dropped.
    fn close_on_drop(&self, rt: &R, stopped: &str);
}

/// What one session's step reported.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// Its next deadline.
    pub deadline: Option<Instant>,
    /// Asked to shut down, or already closed.
    pub stop: bool,
    /// No handle holds the session any more.
    pub orphaned: bool,
}

impl<R: Runtime, X: Side<R>> Attached<R> for Arc<Mutex<Shared<X::Session, X>>>
where
    X::Session: Send,
{
    fn step(
        &self,
        rt: &R,
        now: Instant,
        waker: Option<&Waker>,
        tasks: &mut Vec<BoxFuture<'static, ()>>,
        out: &mut Vec<Transmit>,
    ) -> Step {
        let mut g = lock(self);
        g.clear_woken();
        if g.session.poll_timeout().is_some_and(|t| t <= now) {
            g.session.handle_timeout(now);
        }
        X::on_events(&mut g, self, rt, tasks);
        out.extend(std::iter::from_fn(|| g.session.poll_transmit()));
        if let Some(w) = waker {
            g.set_driver(w);
        }
        Step {
            deadline: g.session.poll_timeout(),
            stop: g.shutdown || g.closed,
            orphaned: Arc::strong_count(self) == 1,
        }
    }

    fn handle_bytes(&self, now: Instant, buf: &mut BytesMut, eof: bool) {
        let mut g = lock(self);
        if eof {
            g.session.handle_eof(now, buf);
        } else {
            g.session.handle_bytes(now, buf);
        }
    }

    fn deliver(&self, now: Instant, messages: &mut dyn Iterator<Item = Bytes>) {
        let mut g = lock(self);
        for m in messages {
            g.session
                .handle_message(now, m.strip_suffix(b"\n").unwrap_or(&m));
        }
    }

    fn handle_framed(&self, now: Instant, message: &[u8]) {
        lock(self).session.handle_framed(now, message);
    }

    fn begin_turn(&self) {
        lock(self).begin_turn();
    }

    fn end_turn(&self) -> bool {
        lock(self).end_turn()
    }

    fn set_backlog(&self, backlog: Backlog) {
        lock(self).backlog = backlog;
    }

    fn close(&self, rt: &R, reason: &str) -> Vec<Transmit> {
        close_side::<R, X>(self, rt, reason);
        let mut g = lock(self);
        std::iter::from_fn(|| g.session.poll_transmit()).collect()
    }

    fn close_on_drop(&self, rt: &R, stopped: &str) {
        close_on_drop::<R, X>(self, rt, stopped);
    }
}

/// A round's view for the transport.
pub(crate) struct Round<'a, R: Runtime> {
    /// The time of this round.
    pub now: Instant,
    /// Frames each session produced (by attach order); the transport takes them.
    pub out: &'a mut [Vec<Transmit>],
    /// The attached sessions.
    pub sessions: &'a [Box<dyn Attached<R>>],
    /// Bit `i` set: session `i` asked to shut down or is closed.
    pub stopped: u32,
    /// Every session is held by the engine alone.
    pub orphaned: bool,
    /// Set by the transport in an inline turn that left work for the engine's task.
    pub needs_driver: bool,
    /// The first round of this poll (or inline turn): a source that returned `Pending`
    /// in an earlier round of the same poll has registered its waker and need not be
    /// asked again until then.
    pub first: bool,
}

/// How a connection ended.
pub(crate) enum End {
    /// Normally (the peer closed, or a shutdown finished), with the reason sessions see.
    Done(String),
    /// On an IO error, with the reason sessions see.
    Failed(io::Error, String),
}

impl End {
    fn reason(&self) -> &str {
        match self {
            End::Done(r) | End::Failed(_, r) => r,
        }
    }
}

/// What a transport's round did.
#[derive(Default)]
pub(crate) struct Io {
    /// Something moved: the engine goes round again.
    pub progressed: bool,
    /// The transport's own next deadline.
    pub deadline: Option<Instant>,
    /// Close every session now with this reason (the transport keeps running).
    pub close: Option<String>,
    /// The connection is over.
    pub end: Option<End>,
}

/// Moves the frames of a connection's sessions (see the module docs).
pub(crate) trait Transport<R: Runtime>: Send + 'static {
    /// Whether the engine folds wakes from inside its own poll into that poll ([`Coalesce`]):
    /// for transports that poll sub-futures (hyper connections) with the engine's waker.
    const COALESCE: bool = false;
    /// The reason sessions see when the engine is dropped before it finished.
    const STOPPED: &'static str;

    /// Called right after session `from` stepped, before the next one does, with the frames
    /// it produced: a transport linking sessions hands them on here, so the next session
    /// handles them in the same round. Returns whether anything moved.
    fn relay(
        &mut self,
        _from: usize,
        _now: Instant,
        _out: &mut Vec<Transmit>,
        _sessions: &[Box<dyn Attached<R>>],
    ) -> bool {
        false
    }

    /// One round of IO (see the module docs).
    fn poll_io(&mut self, cx: Option<&mut Context<'_>>, round: &mut Round<'_, R>) -> Io;

    /// The sessions are closed and `last` is what closing produced; best effort.
    fn finish(&mut self, _cx: &mut Context<'_>, _last: Vec<Transmit>, _end: &End) {}
}

struct Core<R: Runtime, T> {
    rt: R,
    sessions: Vec<Box<dyn Attached<R>>>,
    transport: T,
    out: Vec<Vec<Transmit>>,
    tasks: Vec<BoxFuture<'static, ()>>,
    sleep: Option<(Instant, BoxFuture<'static, ()>)>,
    /// While idle, the timer still fires this often (see [`Engine::kick`]).
    idle: Option<Duration>,
    /// An end met in an inline turn, for the engine's task to carry out.
    pending_end: Option<End>,
    /// The earliest deadline (of the sessions and the transport) as of the last round.
    due: Option<Instant>,
    finished: bool,
}

/// The connection future (see the module docs).
pub(crate) struct Engine<R: Runtime, T: Transport<R>> {
    core: Arc<Mutex<Core<R, T>>>,
    coalesce: Option<Arc<Coalesce>>,
}

impl<R: Runtime, T: Transport<R>> Engine<R, T> {
    /// An engine moving the frames of `sessions` through `transport`.
    pub fn new(rt: R, sessions: Vec<Box<dyn Attached<R>>>, transport: T) -> Self {
        let out = sessions.iter().map(|_| Vec::new()).collect();
        Engine {
            core: Arc::new(Mutex::new(Core {
                rt,
                sessions,
                transport,
                out,
                tasks: Vec::new(),
                sleep: None,
                idle: None,
                pending_end: None,
                due: None,
                finished: false,
            })),
            coalesce: T::COALESCE.then(Coalesce::new),
        }
    }

    /// Keeps the timer armed at most `horizon` ahead even with nothing due, so requests that
    /// callers queue and move themselves ([`kick`](Self::kick); their deadlines at least
    /// `horizon` away) need no wake.
    pub fn with_idle_horizon(self, horizon: Duration) -> Self {
        lock(&self.core).idle = Some(horizon);
        self
    }

    /// An inline turn for the party that just queued a frame: runs a round from its own task
    /// instead of waking the engine's (a cross-thread hop on a multi-threaded runtime).
    /// Returns `false` when it could not finish the job (the engine is busy, a write would
    /// block, the timer must learn of an earlier deadline, the connection is ending): then
    /// the caller must wake the engine.
    pub fn kick(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let core = Arc::downgrade(&self.core);
        move || {
            let Some(core) = core.upgrade() else {
                return false;
            };
            let Ok(mut c) = core.try_lock() else {
                return false;
            };
            if c.finished {
                return false;
            }
            let needs_driver = c.turn(None).is_ready();
            !needs_driver && c.timer_covers_deadlines()
        }
    }

    /// An inline turn by the engine's owner, before it spawns the engine: what was just fed
    /// is handled (handlers that answer at once included) on the owner's task. Returns `true`
    /// when the connection ended in it: the engine is then finished and need not be spawned.
    /// The transport's `finish` runs with a no-op waker here, so this suits transports whose
    /// winding down needs no IO.
    pub fn turn_now(&self) -> bool {
        let mut c = lock(&self.core);
        if c.turn(None).is_ready() {
            if let Some(end) = c.pending_end.take() {
                let _ = c.finish(&mut Context::from_waker(Waker::noop()), end);
            }
        }
        c.finished
    }
}

impl<R: Runtime, T: Transport<R>> Core<R, T> {
    /// Whether the armed timer fires no later than every deadline as of the last round.
    fn timer_covers_deadlines(&self) -> bool {
        match (self.due, &self.sleep) {
            (None, _) => true,
            (Some(d), Some((at, _))) => *at <= d,
            (Some(_), None) => false,
        }
    }

    /// Rounds until nothing moves. With `cx`, the engine's own poll: wakers and the timer are
    /// registered and an end is carried out. Without, an inline turn: `Ready` then means "the
    /// engine's task must run" (the output is meaningless).
    fn turn(&mut self, mut cx: Option<&mut Context<'_>>) -> Poll<io::Result<()>> {
        if self.finished {
            return Poll::Ready(Ok(()));
        }
        if let Some(end) = self.pending_end.take() {
            match cx {
                Some(cx) => return self.finish(cx, end),
                None => {
                    self.pending_end = Some(end);
                    return Poll::Ready(Ok(()));
                }
            }
        }
        let waker = cx.as_ref().map(|c| c.waker().clone());
        let noop = Waker::noop();
        self.sessions.iter().for_each(|s| s.begin_turn());
        let mut first = true;
        loop {
            let now = self.rt.now();
            let mut deadline: Option<Instant> = None;
            let mut stopped = 0u32;
            let mut orphaned = true;
            let mut progressed = false;
            for (i, s) in self.sessions.iter().enumerate() {
                let st = s.step(
                    &self.rt,
                    now,
                    waker.as_ref(),
                    &mut self.tasks,
                    &mut self.out[i],
                );
                deadline = earliest(deadline, st.deadline);
                if st.stop {
                    stopped |= 1 << i;
                }
                orphaned &= st.orphaned;
                progressed |= self
                    .transport
                    .relay(i, now, &mut self.out[i], &self.sessions);
            }
            // New work gets one poll right here, outside the locks: a handler that answers
            // at once (most do) costs no spawn and no task hop.
            for mut task in self.tasks.drain(..) {
                let polled = match cx.as_deref_mut() {
                    Some(cx) => task.as_mut().poll(cx),
                    None => task.as_mut().poll(&mut Context::from_waker(noop)),
                };
                if polled.is_ready() {
                    // Its answer is collected on the next round.
                    progressed = true;
                } else {
                    self.rt.spawn(task);
                }
            }
            let mut round = Round {
                now,
                out: &mut self.out,
                sessions: &self.sessions,
                stopped,
                orphaned,
                needs_driver: false,
                first,
            };
            first = false;
            let io = self.transport.poll_io(cx.as_deref_mut(), &mut round);
            self.due = earliest(deadline, io.deadline);
            let needs_driver = round.needs_driver;
            if let Some(reason) = io.close {
                for s in &self.sessions {
                    let last = s.close(&self.rt, &reason);
                    drop(last);
                }
                progressed = true;
            }
            if let Some(end) = io.end {
                self.sessions.iter().for_each(|s| {
                    s.end_turn();
                });
                let Some(cx) = cx else {
                    self.pending_end = Some(end);
                    return Poll::Ready(Ok(()));
                };
                return self.finish(cx, end);
            }
            if progressed || io.progressed {
                continue;
            }
            // Quiet: end the turn, unless something woke a session during it.
            let mut again = false;
            for s in &self.sessions {
                again |= s.end_turn();
            }
            if again {
                self.sessions.iter().for_each(|s| s.begin_turn());
                continue;
            }
            let Some(cx) = cx.as_deref_mut() else {
                return if needs_driver || stopped != 0 {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                };
            };
            let want = self.due.or_else(|| self.idle.map(|h| self.rt.now() + h));
            match want {
                Some(d) => {
                    if self.sleep.as_ref().is_none_or(|(at, _)| *at > d) {
                        self.sleep = Some((d, self.rt.sleep_until(d)));
                    }
                    if let Some((_, s)) = self.sleep.as_mut() {
                        if s.as_mut().poll(cx).is_ready() {
                            self.sleep = None;
                            self.sessions.iter().for_each(|s| s.begin_turn());
                            continue;
                        }
                    }
                }
                None => self.sleep = None,
            }
            return Poll::Pending;
        }
    }

    /// Closes every session and lets the transport wind down.
    fn finish(&mut self, cx: &mut Context<'_>, end: End) -> Poll<io::Result<()>> {
        self.finished = true;
        let mut last = Vec::new();
        for s in &self.sessions {
            last.extend(s.close(&self.rt, end.reason()));
        }
        self.transport.finish(cx, last, &end);
        Poll::Ready(match end {
            End::Done(_) => Ok(()),
            End::Failed(e, _) => Err(e),
        })
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl<R: Runtime, T: Transport<R>> Future for Engine<R, T> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut core = lock(&this.core);
        match &this.coalesce {
            Some(wake) => wake.poll_with(cx, |cx| core.turn(Some(cx))),
            None => core.turn(Some(cx)),
        }
    }
}

/// However the engine ends (finished, dropped, or unwound by a panicking handler), its
/// sessions are closed: callers waiting on them get an error, not a hang.
impl<R: Runtime, T: Transport<R>> Drop for Engine<R, T> {
    fn drop(&mut self) {
        let core = lock(&self.core);
        if core.finished {
            return;
        }
        for s in &core.sessions {
            s.close_on_drop(&core.rt, T::STOPPED);
        }
    }
}
