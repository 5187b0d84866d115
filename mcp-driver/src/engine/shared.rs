//! What the engine shares with the handles of a session: the session itself, the side's
//! bookkeeping, and the driver's waker.

use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Instant;

use bytes::BytesMut;
use mcp_proto::codec::flow::Watermarks;
use mcp_proto::session::{ClientSession, ServerSession, Transmit};

use crate::runtime::{BoxFuture, Runtime};

/// What the engine needs from either session type.
pub(crate) trait Endpoint: Send + 'static {
    fn handle_bytes(&mut self, now: Instant, buf: &mut BytesMut);
    fn handle_eof(&mut self, now: Instant, buf: &mut BytesMut);
    fn handle_message(&mut self, now: Instant, message: &[u8]);
    fn handle_framed(&mut self, now: Instant, message: &[u8]);
    fn poll_transmit(&mut self) -> Option<Transmit>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn handle_timeout(&mut self, now: Instant);
    fn close(&mut self);
    fn watermarks(&self) -> Watermarks;
}

macro_rules! endpoint {
    ($t:ty, $marks:expr) => {
        impl Endpoint for $t {
            fn handle_bytes(&mut self, now: Instant, buf: &mut BytesMut) {
                <$t>::handle_bytes(self, now, buf)
            }
            fn handle_eof(&mut self, now: Instant, buf: &mut BytesMut) {
                <$t>::handle_eof(self, now, buf)
            }
            fn handle_message(&mut self, now: Instant, message: &[u8]) {
                <$t>::handle_message(self, now, message)
            }
            fn handle_framed(&mut self, now: Instant, message: &[u8]) {
                <$t>::handle_framed(self, now, message)
            }
            fn poll_transmit(&mut self) -> Option<Transmit> {
                <$t>::poll_transmit(self)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$t>::poll_timeout(self)
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$t>::handle_timeout(self, now)
            }
            fn close(&mut self) {
                <$t>::close(self)
            }
            fn watermarks(&self) -> Watermarks {
                let marks: fn(&$t) -> Watermarks = $marks;
                marks(self)
            }
        }
    };
}
endpoint!(ServerSession, |s| s.config().watermarks);
endpoint!(ClientSession, |s| s.watermarks());

/// Output a byte-stream connection holds for its peer (see
/// [`Watermarks`](mcp_proto::codec::flow::Watermarks)): what a peer that does not read costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Bytes written by the session but not yet taken by the peer.
    pub queued: usize,
    /// The most that were ever queued on this connection.
    pub peak: usize,
    /// Whether input is left unread until the peer catches up.
    pub reading_paused: bool,
}

/// State shared between the engine and the handles that issue commands.
pub(crate) struct Shared<S, X> {
    pub session: S,
    /// Side-specific bookkeeping (handler tasks, waiters ...).
    pub side: X,
    /// Wakes the engine after a command.
    driver: Option<Waker>,
    /// Set once the connection is over; commands then fail fast.
    pub closed: bool,
    /// Why it ended, for handles that ask.
    pub close_reason: Option<String>,
    /// Asked to shut down (flush, then stop).
    pub shutdown: bool,
    /// The engine is turning this connection right now: wakes are noted, not sent, and the
    /// turn looks again before it ends (saves a cross-thread wake per inline answer).
    in_turn: bool,
    /// A wake arrived during a turn.
    woken_in_turn: bool,
    /// Handles awaiting the end of the connection.
    close_waiters: Vec<Waker>,
    /// The transport's output backlog, as last reported.
    pub backlog: Backlog,
}

impl<S, X> Shared<S, X> {
    pub fn new(session: S, side: X) -> Self {
        Shared {
            session,
            side,
            driver: None,
            closed: false,
            close_reason: None,
            shutdown: false,
            in_turn: false,
            woken_in_turn: false,
            close_waiters: Vec::new(),
            backlog: Backlog::default(),
        }
    }

    /// Ready once the connection has ended; until then `waker` is woken when it does.
    pub fn poll_closed(&mut self, waker: &Waker) -> Poll<()> {
        if self.closed {
            return Poll::Ready(());
        }
        if !self.close_waiters.iter().any(|w| w.will_wake(waker)) {
            self.close_waiters.push(waker.clone());
        }
        Poll::Pending
    }

    /// Marks the start of a turn by the engine.
    pub fn begin_turn(&mut self) {
        self.in_turn = true;
    }

    /// Forgets wakes so far in this turn: the step that calls this, under the same lock,
    /// drains what they were about.
    pub fn clear_woken(&mut self) {
        self.woken_in_turn = false;
    }

    /// Ends a turn; `true` if something woke the connection meanwhile (look again).
    pub fn end_turn(&mut self) -> bool {
        self.in_turn = false;
        std::mem::take(&mut self.woken_in_turn)
    }

    /// Registers the waker of the future that drives this connection.
    pub fn set_driver(&mut self, waker: &Waker) {
        if !self.driver.as_ref().is_some_and(|w| w.will_wake(waker)) {
            self.driver = Some(waker.clone());
        }
    }

    /// Wakes the engine so it drains what a command produced.
    pub fn wake(&mut self) {
        if self.in_turn {
            self.woken_in_turn = true;
            return;
        }
        if let Some(w) = self.driver.take() {
            w.wake();
        }
    }
}

/// Locks, recovering from a poisoned lock: a panicking handler must not take the
/// connection down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How a side reacts to its session's events.
pub(crate) trait Side<R: Runtime>: Sized + Send + 'static {
    type Session: Endpoint;
    /// Drains `poll_event` and acts (complete waiters, start handlers). Called with the lock
    /// held, so work that may take the lock (handlers) is pushed to `tasks` instead of run:
    /// the engine polls each once after releasing the lock and spawns what is not done.
    fn on_events(
        shared: &mut Shared<Self::Session, Self>,
        this: &Arc<Mutex<Shared<Self::Session, Self>>>,
        rt: &R,
        tasks: &mut Vec<BoxFuture<'static, ()>>,
    );
    /// The connection ended (EOF, IO error or shutdown).
    fn on_closed(shared: &mut Shared<Self::Session, Self>, reason: &str);
}

/// Ends one side: its session closes, pending work is answered or failed.
pub(crate) fn close_side<R: Runtime, X: Side<R>>(
    shared: &Arc<Mutex<Shared<X::Session, X>>>,
    rt: &R,
    reason: &str,
) {
    let tasks = close_shared::<R, X>(shared, rt, reason);
    tasks.into_iter().for_each(|t| rt.spawn(t));
}

/// Closes the session of an engine that is being dropped: every waiter gets an error
/// carrying `reason`. Handlers the last events would have started are dropped unstarted,
/// since a drop may run outside the runtime or while a panic unwinds.
pub(crate) fn close_on_drop<R: Runtime, X: Side<R>>(
    shared: &Arc<Mutex<Shared<X::Session, X>>>,
    rt: &R,
    stopped: &str,
) {
    let reason = if std::thread::panicking() {
        format!("{stopped}: a handler it ran panicked")
    } else {
        stopped.to_owned()
    };
    drop(close_shared::<R, X>(shared, rt, &reason));
}

fn close_shared<R: Runtime, X: Side<R>>(
    shared: &Arc<Mutex<Shared<X::Session, X>>>,
    rt: &R,
    reason: &str,
) -> Vec<BoxFuture<'static, ()>> {
    let mut tasks = Vec::new();
    let mut g = lock(shared);
    if g.closed {
        return tasks;
    }
    g.session.close();
    g.closed = true;
    g.close_reason = Some(reason.to_owned());
    X::on_events(&mut g, shared, rt, &mut tasks);
    X::on_closed(&mut g, reason);
    let waiters = std::mem::take(&mut g.close_waiters);
    drop(g);
    waiters.into_iter().for_each(Waker::wake);
    tasks
}
