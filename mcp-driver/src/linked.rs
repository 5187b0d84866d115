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

use crate::client::{self, Client, ClientHandler, ClientShared, ClientSide};
use crate::pump::{lock, Endpoint, Side};
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
            // Client side: timers, events, frames out.
            let (client_deadline, client_done) = {
                let mut g = lock(&this.client);
                if g.session.poll_timeout().is_some_and(|t| t <= now) {
                    g.session.handle_timeout(now);
                }
                <ClientSide as Side<R>>::on_events(&mut g, &this.client, &this.rt, &mut this.tasks);
                this.frames
                    .extend(std::iter::from_fn(|| g.session.poll_transmit()).map(|t| t.frame));
                g.set_driver(cx.waker());
                (g.session.poll_timeout(), g.shutdown || g.closed)
            };
            if !this.frames.is_empty() {
                moved = true;
                let mut g = lock(&this.server);
                for f in this.frames.drain(..) {
                    g.session.handle_message(now, message(&f));
                }
            }
            // Server side.
            let (server_deadline, server_done) = {
                let mut g = lock(&this.server);
                if g.session.poll_timeout().is_some_and(|t| t <= now) {
                    g.session.handle_timeout(now);
                }
                <ServerSide as Side<R>>::on_events(&mut g, &this.server, &this.rt, &mut this.tasks);
                this.frames
                    .extend(std::iter::from_fn(|| g.session.poll_transmit()).map(|t| t.frame));
                g.set_driver(cx.waker());
                (g.session.poll_timeout(), g.shutdown || g.closed)
            };
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
                close_client(&this.client, &this.rt, reason);
                close_server(&this.server, &this.rt, reason);
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

fn close_client<R: Runtime>(shared: &Arc<Mutex<ClientShared>>, rt: &R, reason: &str) {
    let mut tasks = Vec::new();
    let mut g = lock(shared);
    if g.closed {
        return;
    }
    Endpoint::close(&mut g.session);
    g.closed = true;
    g.close_reason = Some(reason.to_owned());
    <ClientSide as Side<R>>::on_events(&mut g, shared, rt, &mut tasks);
    <ClientSide as Side<R>>::on_closed(&mut g, reason);
    drop(g);
    tasks.into_iter().for_each(|t| rt.spawn(t));
}

fn close_server<R: Runtime>(shared: &Arc<Mutex<ServerShared>>, rt: &R, reason: &str) {
    let mut tasks = Vec::new();
    let mut g = lock(shared);
    if g.closed {
        return;
    }
    Endpoint::close(&mut g.session);
    g.closed = true;
    g.close_reason = Some(reason.to_owned());
    <ServerSide as Side<R>>::on_events(&mut g, shared, rt, &mut tasks);
    <ServerSide as Side<R>>::on_closed(&mut g, reason);
    drop(g);
    tasks.into_iter().for_each(|t| rt.spawn(t));
}
