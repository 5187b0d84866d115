//! Accepting connections, written once for every runtime: an accept error is reported, waited
//! out briefly and accepting goes on (a server must outlive running out of file descriptors
//! for a moment), and at most a configured number of connections are served at once.

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use futures_lite::io::{AsyncRead, AsyncWrite};

use crate::engine::lock;
use crate::runtime::{BoxFuture, Runtime};

/// A source of incoming connections: a runtime's TCP listener, or a test's own.
pub trait Listener: Send + 'static {
    /// An accepted connection.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// The next connection.
    fn accept(&mut self) -> BoxFuture<'_, io::Result<Self::Stream>>;
}

/// Told about each failed accept, with the delay before the next attempt.
pub type AcceptErrorFn = Arc<dyn Fn(&io::Error, Duration) + Send + Sync>;

/// How an accept loop behaves.
#[derive(Clone)]
#[non_exhaustive]
pub struct AcceptConfig {
    /// Most connections served at once; further ones wait in the listener's backlog until
    /// one ends.
    pub max_connections: usize,
    /// Delay after a failed accept; doubles with each failure in a row.
    pub backoff_initial: Duration,
    /// Longest delay after failed accepts.
    pub backoff_max: Duration,
    /// Told about failed accepts (default: a line on stderr).
    pub on_error: Option<AcceptErrorFn>,
}

mcp_proto::__config_setters!(AcceptConfig {
    with_max_connections => max_connections: usize,
    with_backoff_initial => backoff_initial: Duration,
    with_backoff_max => backoff_max: Duration,
    with_on_error => on_error: Option<AcceptErrorFn>,
});

impl Default for AcceptConfig {
    fn default() -> Self {
        AcceptConfig {
            max_connections: 1024,
            backoff_initial: Duration::from_millis(5),
            backoff_max: Duration::from_secs(1),
            on_error: None,
        }
    }
}

impl std::fmt::Debug for AcceptConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptConfig")
            .field("max_connections", &self.max_connections)
            .field("backoff_initial", &self.backoff_initial)
            .field("backoff_max", &self.backoff_max)
            .finish_non_exhaustive()
    }
}

/// Connections being served, and the loop waiting for one to end.
#[derive(Default)]
struct Slots {
    active: usize,
    waiter: Option<Waker>,
}

/// Frees its slot when the connection's future ends or is dropped.
struct Slot(Arc<Mutex<Slots>>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut g = lock(&self.0);
        g.active -= 1;
        if let Some(w) = g.waiter.take() {
            w.wake();
        }
    }
}

/// Accepts connections from `listener` for ever, each served by the future `serve` makes
/// of it, spawned on `rt`. Never returns: drop the future to stop accepting (connections
/// being served go on).
pub async fn accept_loop<R, L, F, Fut>(rt: R, mut listener: L, config: AcceptConfig, mut serve: F)
where
    R: Runtime,
    L: Listener,
    F: FnMut(L::Stream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Mutex::new(Slots::default()));
    let max = config.max_connections.max(1);
    let mut backoff = config.backoff_initial;
    loop {
        // A free slot first: past the cap, connections wait in the listener's backlog.
        std::future::poll_fn(|cx| {
            let mut g = lock(&slots);
            if g.active < max {
                return Poll::Ready(());
            }
            g.waiter = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        match listener.accept().await {
            Ok(stream) => {
                backoff = config.backoff_initial;
                lock(&slots).active += 1;
                let slot = Slot(slots.clone());
                let conn = serve(stream);
                rt.spawn(Box::pin(async move {
                    conn.await;
                    drop(slot);
                }));
            }
            Err(e) => {
                match &config.on_error {
                    Some(f) => f(&e, backoff),
                    None => {
                        eprintln!("accepting a connection failed: {e}; retrying in {backoff:?}")
                    }
                }
                rt.sleep_until(rt.now() + backoff).await;
                backoff = (backoff * 2).min(config.backoff_max.max(config.backoff_initial));
            }
        }
    }
}

/// Serves streamable HTTP with `http` on every connection `listener` accepts (see
/// [`accept_loop`]), until [`HttpService::shutdown`](crate::http::server::HttpService::shutdown)
/// begins.
#[cfg(feature = "server")]
pub async fn serve_http<R: Runtime, H: Runtime, L: Listener>(
    rt: R,
    listener: L,
    http: crate::http::server::HttpService<H>,
    config: AcceptConfig,
) {
    let draining = http.draining();
    let accepting = accept_loop(rt, listener, config, move |stream| {
        http.serve_connection(stream)
    });
    // A graceful shutdown stops accepting (the listener is dropped with the loop).
    futures_lite::future::or(accepting, draining).await
}
