//! The driver's accept loop on each runtime, against a listener the case scripts: accept
//! errors are survived, and connections past the cap wait for a free slot. The loop future
//! is polled by the case itself, so "it stopped accepting" is observed as a poll that
//! returned, not guessed from time passing.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::io::Cursor;
use mcp_driver::accept::{accept_loop, AcceptConfig, Listener};
use mcp_driver::{BoxFuture, Runtime};

use crate::child::within;
use crate::Signal;

const GUARD: Duration = Duration::from_secs(30);

type Stream = Cursor<Vec<u8>>;

/// Hands out what the case queued, then waits (for ever) for more.
#[derive(Clone, Default)]
struct Scripted {
    queue: Arc<Mutex<VecDeque<io::Result<Stream>>>>,
    calls: Arc<AtomicUsize>,
}

impl Listener for Scripted {
    type Stream = Stream;

    fn accept(&mut self) -> BoxFuture<'_, io::Result<Stream>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        Box::pin(async move {
            match next {
                Some(r) => r,
                None => std::future::pending().await,
            }
        })
    }
}

/// Polls `fut` (the accept loop, which never ends) until `done` holds.
async fn drive_until<F: Future>(mut fut: Pin<&mut F>, done: impl Fn() -> bool) {
    std::future::poll_fn(|cx: &mut Context<'_>| {
        let _ = fut.as_mut().poll(cx);
        if done() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Two failed accepts (running out of file descriptors, say) are reported and waited out;
/// the next connection is served. Before the driver's loop, each runtime's `serve_http`
/// ended for good at the first error (`accept().await?`).
pub async fn accept_errors_are_survived<R: Runtime>(rt: R) {
    let listener = Scripted::default();
    {
        let mut q = listener.queue.lock().unwrap();
        q.push_back(Err(io::Error::other("too many open files")));
        q.push_back(Err(io::Error::other("too many open files")));
        q.push_back(Ok(Cursor::new(Vec::new())));
    }
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    let config = AcceptConfig::default()
        .with_backoff_initial(Duration::from_millis(1))
        .with_backoff_max(Duration::from_millis(2))
        .with_on_error(Some(Arc::new(move |e: &io::Error, delay: Duration| {
            seen.lock().unwrap().push((e.to_string(), delay));
        })));
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let lp = accept_loop(rt.clone(), listener.clone(), config, move |_stream| {
        count.fetch_add(1, Ordering::SeqCst);
        async {}
    });
    let lp = std::pin::pin!(lp);
    within(&rt, GUARD, "accepting after errors", async {
        drive_until(lp, || served.load(Ordering::SeqCst) == 1).await
    })
    .await;
    let errors = errors.lock().unwrap().clone();
    assert_eq!(
        errors,
        [
            ("too many open files".to_owned(), Duration::from_millis(1)),
            ("too many open files".to_owned(), Duration::from_millis(2)),
        ]
    );
    // The three scripted accepts, and the one now waiting for the next connection.
    assert_eq!(listener.calls.load(Ordering::SeqCst), 4);
}

/// With a cap of two, a third connection is not even accepted while two are served; it is
/// once one of them ends.
pub async fn connections_are_capped<R: Runtime>(rt: R) {
    let listener = Scripted::default();
    for _ in 0..3 {
        listener
            .queue
            .lock()
            .unwrap()
            .push_back(Ok(Cursor::new(Vec::new())));
    }
    let config = AcceptConfig::default().with_max_connections(2);
    let releases: Vec<Signal> = (0..3).map(|_| Signal::default()).collect();
    let started = Arc::new(AtomicUsize::new(0));
    let active = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (s, a, m, r) = (
        started.clone(),
        active.clone(),
        most.clone(),
        releases.clone(),
    );
    let lp = accept_loop(rt.clone(), listener.clone(), config, move |_stream| {
        let n = s.fetch_add(1, Ordering::SeqCst);
        m.fetch_max(a.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        let (a, release) = (a.clone(), r[n].clone());
        async move {
            release.wait().await;
            a.fetch_sub(1, Ordering::SeqCst);
        }
    });
    let mut lp = std::pin::pin!(lp);
    // One poll runs the loop until it waits: two connections, and no third accept.
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert!(lp.as_mut().poll(&mut cx).is_pending());
    assert_eq!(started.load(Ordering::SeqCst), 2);
    assert_eq!(listener.calls.load(Ordering::SeqCst), 2);
    // One ends: the third is accepted.
    releases[0].set();
    within(&rt, GUARD, "the third connection", async {
        drive_until(lp.as_mut(), || started.load(Ordering::SeqCst) == 3).await
    })
    .await;
    assert_eq!(most.load(Ordering::SeqCst), 2);
    releases.iter().for_each(Signal::set);
}
