//! A client and a server in one process, linked without a byte pipe: one future moves each
//! frame from one session straight into the other. Same protocol, same sessions, no socket,
//! no extra tasks: the Sans-IO core makes this a few dozen lines.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use mcp_proto::session::{ClientConfig, ClientSession, ConnectError};

use crate::client::{self, Client, ClientHandler, ClientShared, ClientSide};
use crate::pump::{close_on_drop, close_side, lock, Endpoint, Shared, Side};
use crate::runtime::{BoxFuture, Runtime};
use crate::server::{self, ServerHandle, ServerShared, ServerSide, Service};

/// Serves `service` to a client in the same process and returns both ends. The link runs on
/// `rt` until either side closes.
pub async fn connect_in_process<R: Runtime>(
    rt: R,
    service: Service,
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
) -> Result<(Client, ServerHandle), ConnectError> {
    let (handle, server) = server::new_shared(&rt, service);
    let now = rt.now();
    let horizon = config.request_timeout.idle;
    let mut session = ClientSession::new(config, now);
    session
        .connect(now)
        .map_err(|e| ConnectError::Malformed(e.to_string()))?;
    let (client, ready) = client::new_shared(session, handler);
    let link = Arc::new(Mutex::new(Link {
        rt: rt.clone(),
        client: client.clone(),
        server,
        tasks: Vec::new(),
        frames: Vec::new(),
        sleep: None,
        finished: false,
        horizon,
    }));
    rt.spawn(Box::pin(LinkTask(link.clone())));
    let mut client = client::finish_connect(rt, client, ready).await?;
    // A caller that just sent a request moves it through both sessions itself: a handler
    // that answers at once is done before the caller even waits, with no task hop. If the
    // link is busy (its task is turning, or a handler is calling back in), the task does it.
    let weak = Arc::downgrade(&link);
    client.set_kick(Arc::new(move || {
        let Some(link) = weak.upgrade() else {
            return false;
        };
        let Ok(mut l) = link.try_lock() else {
            return false;
        };
        let _ = l.turn(None);
        // The task's timer must cover any deadline the inline turn created.
        l.timer_covers_deadlines()
    }));
    Ok((client, handle))
}

/// The link's task: turns whenever either session has something to move.
struct LinkTask<R: Runtime>(Arc<Mutex<Link<R>>>);

/// However the link's task ends (finished, dropped, or unwound by a panic), both sessions
/// are closed: callers waiting on either side get an error, not a hang.
impl<R: Runtime> Drop for LinkTask<R> {
    fn drop(&mut self) {
        let l = lock(&self.0);
        let (rt, client, server) = (l.rt.clone(), l.client.clone(), l.server.clone());
        drop(l);
        close_on_drop::<R, ClientSide>(&client, &rt, "in-process link stopped");
        close_on_drop::<R, ServerSide>(&server, &rt, "in-process link stopped");
    }
}

impl<R: Runtime> Future for LinkTask<R> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        lock(&self.0).turn(Some(cx))
    }
}

struct Link<R: Runtime> {
    rt: R,
    client: Arc<Mutex<ClientShared>>,
    server: Arc<Mutex<ServerShared>>,
    tasks: Vec<BoxFuture<'static, ()>>,
    frames: Vec<Bytes>,
    sleep: Option<(Instant, BoxFuture<'static, ()>)>,
    finished: bool,
    /// The client's default request timeout (see the timer in `turn`).
    horizon: std::time::Duration,
}

/// Frames carry their stdio newline; a whole message is everything before it.
fn message(frame: &Bytes) -> &[u8] {
    frame.strip_suffix(b"\n").unwrap_or(frame)
}

impl<R: Runtime> Link<R> {
    /// Whether the task's armed timer fires no later than every session deadline.
    fn timer_covers_deadlines(&self) -> bool {
        let due = [
            lock(&self.client).session.poll_timeout(),
            lock(&self.server).session.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        match (due, &self.sleep) {
            (None, _) => true,
            (Some(d), Some((at, _))) => *at <= d,
            (Some(_), None) => false,
        }
    }

    /// Moves frames both ways until nothing moves. `cx` is the link task's context; `None`
    /// when a caller drives the link inline (then no waker or timer is registered: the task
    /// keeps those).
    fn turn(&mut self, mut cx: Option<&mut Context<'_>>) -> Poll<()> {
        if self.finished {
            return Poll::Ready(());
        }
        let this = self;
        let noop = Waker::noop();
        lock(&this.client).begin_turn();
        lock(&this.server).begin_turn();
        loop {
            let now = this.rt.now();
            let mut moved = false;
            // Each side: timers, events, frames out; the frames go straight into the other.
            let waker = cx.as_ref().map(|c| c.waker());
            let (client_deadline, client_done) = step(
                &this.client,
                &this.rt,
                now,
                waker,
                &mut this.tasks,
                &mut this.frames,
            );
            if !this.frames.is_empty() {
                moved = true;
                let mut g = lock(&this.server);
                for f in this.frames.drain(..) {
                    g.session.handle_message(now, message(&f));
                }
            }
            let (server_deadline, server_done) = step(
                &this.server,
                &this.rt,
                now,
                waker,
                &mut this.tasks,
                &mut this.frames,
            );
            if !this.frames.is_empty() {
                moved = true;
                let mut g = lock(&this.client);
                for f in this.frames.drain(..) {
                    g.session.handle_message(now, message(&f));
                }
            }
            // New tasks (handlers, answers to asks) get one inline poll, outside the locks.
            for mut task in this.tasks.drain(..) {
                // Inline, a task that would wait is spawned: the spawn polls it again with a
                // real waker.
                let polled = match cx.as_deref_mut() {
                    Some(cx) => task.as_mut().poll(cx),
                    None => task.as_mut().poll(&mut Context::from_waker(noop)),
                };
                if polled.is_ready() {
                    moved = true;
                } else {
                    this.rt.spawn(task);
                }
            }
            if client_done || server_done {
                let reason = if client_done {
                    "client closed"
                } else {
                    "server shut down"
                };
                lock(&this.client).end_turn();
                lock(&this.server).end_turn();
                close_side(&this.client, &this.rt, reason);
                close_side(&this.server, &this.rt, reason);
                this.finished = true;
                return Poll::Ready(());
            }
            if moved {
                continue;
            }
            // Quiet: end the turn, unless something woke either side during it.
            let again = lock(&this.client).end_turn() | lock(&this.server).end_turn();
            if again {
                lock(&this.client).begin_turn();
                lock(&this.server).begin_turn();
                continue;
            }
            let Some(cx) = cx.as_deref_mut() else {
                return Poll::Pending;
            };
            let deadline = match (client_deadline, server_deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // While idle the timer still fires `horizon` ahead, so requests driven inline
            // (deadlines at least that far out) need no wake; firing early is harmless.
            let deadline = deadline.or_else(|| Some(this.rt.now() + this.horizon));
            match deadline {
                Some(d) => {
                    if this.sleep.as_ref().is_none_or(|(at, _)| *at > d) {
                        this.sleep = Some((d, this.rt.sleep_until(d)));
                    }
                    if let Some((_, s)) = this.sleep.as_mut() {
                        if s.as_mut().poll(cx).is_ready() {
                            this.sleep = None;
                            continue;
                        }
                    }
                }
                None => this.sleep = None,
            }
            return Poll::Pending;
        }
    }
}

/// One side's turn: fire due timers, handle events (new tasks go to `tasks`), collect the
/// frames it wants sent. Returns its next deadline and whether it is finished.
fn step<R: Runtime, X: Side<R>>(
    shared: &Arc<Mutex<Shared<X::Session, X>>>,
    rt: &R,
    now: Instant,
    waker: Option<&Waker>,
    tasks: &mut Vec<BoxFuture<'static, ()>>,
    frames: &mut Vec<Bytes>,
) -> (Option<Instant>, bool) {
    let mut g = lock(shared);
    if g.session.poll_timeout().is_some_and(|t| t <= now) {
        g.session.handle_timeout(now);
    }
    X::on_events(&mut g, shared, rt, tasks);
    frames.extend(std::iter::from_fn(|| g.session.poll_transmit()).map(|t| t.frame));
    if let Some(w) = waker {
        g.set_driver(w);
    }
    (g.session.poll_timeout(), g.shutdown || g.closed)
}
