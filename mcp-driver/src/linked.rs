//! A client and a server in one process, linked without a byte pipe: one future moves each
//! frame from one session straight into the other. Same protocol, same sessions, no socket,
//! no extra tasks: the Sans-IO core makes this a few dozen lines.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use mcp_proto::session::{ClientConfig, ClientSession, ConnectError};

use crate::client::{self, Client, ClientHandler, ClientShared};
use crate::pump::{close_side, lock, Endpoint, Shared, Side};
use crate::runtime::{BoxFuture, Runtime};
use crate::server::{self, ServerHandle, ServerShared, Service};

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
    let mut session = ClientSession::new(config, now);
    session
        .connect(now)
        .map_err(|e| ConnectError::Malformed(e.to_string()))?;
    let (client, ready) = client::new_shared(session, handler);
    let link = Link {
        rt: rt.clone(),
        client: client.clone(),
        server,
        tasks: Vec::new(),
        frames: Vec::new(),
        sleep: None,
    };
    rt.spawn(Box::pin(link));
    let client = client::finish_connect(rt, client, ready).await?;
    Ok((client, handle))
}

struct Link<R: Runtime> {
    rt: R,
    client: Arc<Mutex<ClientShared>>,
    server: Arc<Mutex<ServerShared>>,
    tasks: Vec<BoxFuture<'static, ()>>,
    frames: Vec<Bytes>,
    sleep: Option<(Instant, BoxFuture<'static, ()>)>,
}

// Nothing is pinned in place: the timer is boxed.
impl<R: Runtime> Unpin for Link<R> {}

/// Frames carry their stdio newline; a whole message is everything before it.
fn message(frame: &Bytes) -> &[u8] {
    frame.strip_suffix(b"\n").unwrap_or(frame)
}

impl<R: Runtime> Future for Link<R> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            let now = this.rt.now();
            let mut moved = false;
            // Each side: timers, events, frames out; the frames go straight into the other.
            let (client_deadline, client_done) = step(
                &this.client,
                &this.rt,
                now,
                cx,
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
                cx,
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
                if task.as_mut().poll(cx).is_ready() {
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
                close_side(&this.client, &this.rt, reason);
                close_side(&this.server, &this.rt, reason);
                return Poll::Ready(());
            }
            if moved {
                continue;
            }
            let deadline = match (client_deadline, server_deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match deadline {
                Some(d) => {
                    if this.sleep.as_ref().is_none_or(|(at, _)| *at != d) {
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
    cx: &Context<'_>,
    tasks: &mut Vec<BoxFuture<'static, ()>>,
    frames: &mut Vec<Bytes>,
) -> (Option<Instant>, bool) {
    let mut g = lock(shared);
    if g.session.poll_timeout().is_some_and(|t| t <= now) {
        g.session.handle_timeout(now);
    }
    X::on_events(&mut g, shared, rt, tasks);
    frames.extend(std::iter::from_fn(|| g.session.poll_transmit()).map(|t| t.frame));
    g.set_driver(cx.waker());
    (g.session.poll_timeout(), g.shutdown || g.closed)
}
