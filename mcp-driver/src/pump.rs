//! The connection future: moves bytes between a byte stream and a session, runs its timers,
//! and lets the side (server or client) react to events. One per connection, written once
//! for every runtime.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_lite::io::{AsyncRead, AsyncWrite};
use mcp_proto::session::{ClientSession, ServerSession, Transmit};

use crate::runtime::{BoxFuture, Runtime};

/// Read granularity; frames larger than this arrive over several reads. Small, because the
/// read region is zeroed before each read (safe code cannot read into uninitialised memory).
const READ_CHUNK: usize = 8 * 1024;

/// What the pump needs from either session type.
pub(crate) trait Endpoint: Send + 'static {
    fn handle_bytes(&mut self, now: Instant, buf: &mut BytesMut);
    fn handle_eof(&mut self, now: Instant, buf: &mut BytesMut);
    fn poll_transmit(&mut self) -> Option<Transmit>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn handle_timeout(&mut self, now: Instant);
    fn close(&mut self);
}

macro_rules! endpoint {
    ($t:ty) => {
        impl Endpoint for $t {
            fn handle_bytes(&mut self, now: Instant, buf: &mut BytesMut) {
                <$t>::handle_bytes(self, now, buf)
            }
            fn handle_eof(&mut self, now: Instant, buf: &mut BytesMut) {
                <$t>::handle_eof(self, now, buf)
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
        }
    };
}
endpoint!(ServerSession);
endpoint!(ClientSession);

/// State shared between the connection future and the handles that issue commands.
pub(crate) struct Shared<S, X> {
    pub session: S,
    /// Side-specific bookkeeping (handler tasks, waiters ...).
    pub side: X,
    /// Wakes the connection future after a command.
    driver: Option<Waker>,
    /// Set once the connection is over; commands then fail fast.
    pub closed: bool,
    /// Why it ended, for handles that ask.
    pub close_reason: Option<String>,
    /// Asked to shut down (flush, then stop).
    pub shutdown: bool,
    /// A driver is turning this connection right now: wakes are noted, not sent, and the
    /// turn looks again before it ends (saves a cross-thread wake per inline answer).
    in_turn: bool,
    /// A wake arrived during a turn.
    woken_in_turn: bool,
    /// When the connection future's timer fires next (so a caller that writes its own
    /// request knows whether the future must learn of an earlier deadline).
    armed: Option<Instant>,
    /// Handles awaiting the end of the connection.
    close_waiters: Vec<Waker>,
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
            armed: None,
            close_waiters: Vec::new(),
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

    /// Marks the start of a turn by an inline driver.
    pub fn begin_turn(&mut self) {
        self.in_turn = true;
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

    /// Wakes the connection future so it drains what a command produced.
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
    /// the connection polls each once after releasing the lock and spawns what is not done.
    fn on_events(
        shared: &mut Shared<Self::Session, Self>,
        this: &Arc<Mutex<Shared<Self::Session, Self>>>,
        rt: &R,
        tasks: &mut Vec<BoxFuture<'static, ()>>,
    );
    /// The connection ended (EOF, IO error or shutdown).
    fn on_closed(shared: &mut Shared<Self::Session, Self>, reason: &str);
}

/// The writing half of a connection, shared so a caller can write its own request
/// (see [`Connection::kick`]). Lock order: this, then the session's `Shared`; the connection
/// future never holds `Shared` while taking this.
pub(crate) struct Outgoing<Wr> {
    writer: Wr,
    out: VecDeque<Bytes>,
}

impl<Wr: AsyncWrite + Unpin> Outgoing<Wr> {
    /// Writes queued frames; `Ready(Ok)` once all are written and flushed.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(front) = self.out.front_mut() {
            match Pin::new(&mut self.writer).poll_write(cx, front) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    let _ = front.split_to(n.min(front.len()));
                    if front.is_empty() {
                        self.out.pop_front();
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Pin::new(&mut self.writer).poll_flush(cx)
    }
}

/// The connection future.
pub(crate) struct Connection<R: Runtime, X: Side<R>, Rd, Wr> {
    rt: R,
    shared: Arc<Mutex<Shared<X::Session, X>>>,
    reader: Rd,
    outgoing: Arc<Mutex<Outgoing<Wr>>>,
    read_buf: BytesMut,
    eof: bool,
    frames: Vec<Bytes>,
    sleep: Option<(Instant, BoxFuture<'static, ()>)>,
    tasks: Vec<BoxFuture<'static, ()>>,
    /// While idle, the timer still fires this often (see [`Connection::kick`]).
    idle_horizon: Option<std::time::Duration>,
}

impl<R, X, Rd, Wr> Connection<R, X, Rd, Wr>
where
    R: Runtime,
    X: Side<R>,
    Rd: AsyncRead + Unpin + Send + 'static,
    Wr: AsyncWrite + Unpin + Send + 'static,
{
    pub fn new(rt: R, shared: Arc<Mutex<Shared<X::Session, X>>>, reader: Rd, writer: Wr) -> Self {
        Connection {
            rt,
            shared,
            reader,
            outgoing: Arc::new(Mutex::new(Outgoing {
                writer,
                out: VecDeque::new(),
            })),
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            eof: false,
            frames: Vec::new(),
            sleep: None,
            tasks: Vec::new(),
            idle_horizon: None,
        }
    }

    /// Keeps the timer armed at most `horizon` ahead even with nothing due, so requests that
    /// callers write themselves (with deadlines at least `horizon` away) need no wake.
    pub fn with_idle_horizon(mut self, horizon: std::time::Duration) -> Self {
        self.idle_horizon = Some(horizon);
        self
    }

    /// Lets the party that queued a frame write it at once, from its own task, instead of
    /// waking the connection future (a cross-thread hop on a multi-threaded runtime).
    /// Returns `false` when it could not finish (busy, or the writer would block): then the
    /// caller must wake the connection future, which retries with its own waker.
    pub fn kick(&self) -> impl Fn() -> bool + Send + Sync + 'static
    where
        X::Session: Send,
    {
        let outgoing = Arc::downgrade(&self.outgoing);
        let shared = Arc::downgrade(&self.shared);
        move || {
            let (Some(outgoing), Some(shared)) = (outgoing.upgrade(), shared.upgrade()) else {
                return false;
            };
            let Ok(mut o) = outgoing.try_lock() else {
                return false;
            };
            {
                let mut g = lock(&shared);
                if g.closed || g.shutdown {
                    return false;
                }
                while let Some(t) = g.session.poll_transmit() {
                    o.out.push_back(t.frame);
                }
                // The future's timer must cover the new request's deadline.
                let due = g.session.poll_timeout();
                if due.is_some_and(|d| g.armed.is_none_or(|a| d < a)) {
                    return false;
                }
            }
            // A write that would block registers nothing here; the connection future does
            // that when woken.
            let mut noop = Context::from_waker(Waker::noop());
            matches!(o.poll_write_out(&mut noop), Poll::Ready(Ok(())))
        }
    }

    fn finish(&mut self, reason: &str) {
        close_side(&self.shared, &self.rt, reason);
    }
}

// No field is ever pinned in place: the streams are `Unpin` and the timer is boxed.
impl<R: Runtime, X: Side<R>, Rd, Wr> Unpin for Connection<R, X, Rd, Wr> {}

/// However the connection future ends (finished, dropped, or unwound by a panicking
/// handler), its session is closed: callers waiting on it get an error, not a hang.
impl<R: Runtime, X: Side<R>, Rd, Wr> Drop for Connection<R, X, Rd, Wr> {
    fn drop(&mut self) {
        close_on_drop::<R, X>(&self.shared, &self.rt, "connection stopped");
    }
}

impl<R, X, Rd, Wr> Future for Connection<R, X, Rd, Wr>
where
    R: Runtime,
    X: Side<R>,
    Rd: AsyncRead + Unpin + Send + 'static,
    Wr: AsyncWrite + Unpin + Send + 'static,
{
    type Output = Result<(), io::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            // Input.
            let mut progressed = false;
            if !this.eof {
                let start = this.read_buf.len();
                this.read_buf.resize(start + READ_CHUNK, 0);
                let polled = Pin::new(&mut this.reader).poll_read(cx, &mut this.read_buf[start..]);
                let got = match &polled {
                    Poll::Ready(Ok(n)) => *n,
                    _ => 0,
                };
                this.read_buf.truncate(start + got);
                match polled {
                    Poll::Ready(Ok(0)) => {
                        this.eof = true;
                        let now = this.rt.now();
                        let mut g = lock(&this.shared);
                        g.session.handle_eof(now, &mut this.read_buf);
                        progressed = true;
                    }
                    Poll::Ready(Ok(_)) => {
                        let now = this.rt.now();
                        let mut g = lock(&this.shared);
                        g.session.handle_bytes(now, &mut this.read_buf);
                        progressed = true;
                    }
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
                        progressed = true
                    }
                    Poll::Ready(Err(e)) => {
                        this.finish(&format!("read failed: {e}"));
                        return Poll::Ready(Err(e));
                    }
                    Poll::Pending => {}
                }
            }
            // Timers, events, output.
            let (deadline, shutdown) = {
                let now = this.rt.now();
                let mut g = lock(&this.shared);
                if g.session.poll_timeout().is_some_and(|t| t <= now) {
                    g.session.handle_timeout(now);
                }
                X::on_events(&mut g, &this.shared, &this.rt, &mut this.tasks);
                this.frames
                    .extend(std::iter::from_fn(|| g.session.poll_transmit()).map(|t| t.frame));
                g.driver = Some(cx.waker().clone());
                (g.session.poll_timeout(), g.shutdown)
            };
            // New request tasks get one poll right here, outside the lock: a handler that
            // answers at once (most do) costs no spawn and no task hop.
            for mut task in this.tasks.drain(..) {
                if task.as_mut().poll(cx).is_ready() {
                    // Its answer is drained on the next turn of the loop.
                    progressed = true;
                } else {
                    this.rt.spawn(task);
                }
            }
            let mut o = lock(&this.outgoing);
            o.out.extend(this.frames.drain(..));
            let written = o.poll_write_out(cx);
            let out_empty = o.out.is_empty();
            drop(o);
            match written {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => {
                    this.finish(&format!("write failed: {e}"));
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {}
            }
            if (this.eof || shutdown) && out_empty {
                this.finish(if this.eof {
                    "peer closed the connection"
                } else {
                    "shut down"
                });
                // Whatever closing produced (error answers, cancels) is best-effort.
                {
                    let mut g = lock(&this.shared);
                    this.frames
                        .extend(std::iter::from_fn(|| g.session.poll_transmit()).map(|t| t.frame));
                }
                let mut o = lock(&this.outgoing);
                o.out.extend(this.frames.drain(..));
                if !this.eof {
                    let _ = o.poll_write_out(cx);
                }
                let _ = Pin::new(&mut o.writer).poll_close(cx);
                return Poll::Ready(Ok(()));
            }
            // Timer. Firing early is harmless (nothing is due, it re-arms), so an armed timer
            // is kept whenever it is not later than needed.
            let want = deadline.or_else(|| idle_deadline(this.idle_horizon, this.rt.now()));
            match want {
                Some(d) => {
                    if this.sleep.as_ref().is_none_or(|(at, _)| *at > d) {
                        this.sleep = Some((d, this.rt.sleep_until(d)));
                    }
                    if let Some((_, s)) = this.sleep.as_mut() {
                        if s.as_mut().poll(cx).is_ready() {
                            this.sleep = None;
                            progressed = true;
                        }
                    }
                }
                None => this.sleep = None,
            }
            lock(&this.shared).armed = this.sleep.as_ref().map(|(at, _)| *at);
            if !progressed {
                return Poll::Pending;
            }
        }
    }
}

fn idle_deadline(horizon: Option<std::time::Duration>, now: Instant) -> Option<Instant> {
    horizon.map(|h| now + h)
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

/// Closes the session of a driver future that is being dropped: every waiter gets an error
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
