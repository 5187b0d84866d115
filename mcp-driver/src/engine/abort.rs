//! One way to stop work from outside: a flag that wakes whoever waits on it, and a future
//! wrapper that ends when the flag is raised. Handler runs (cancelled by the peer) and HTTP
//! exchanges (aborted by the core) both use it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use super::lock;

/// Raised once, from any thread; every registered waker is woken.
#[derive(Debug, Default)]
pub(crate) struct AbortFlag {
    set: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl AbortFlag {
    /// Raises the flag and wakes every waiter.
    pub(crate) fn fire(&self) {
        self.set.store(true, Ordering::SeqCst);
        for w in lock(&self.wakers).drain(..) {
            w.wake();
        }
    }

    /// Whether the flag is raised.
    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }

    /// Registers `waker` to be woken when the flag is raised; `true` if it already is.
    pub(crate) fn register(&self, waker: &Waker) -> bool {
        if self.is_set() {
            return true;
        }
        let mut ws = lock(&self.wakers);
        if !ws.iter().any(|w| w.will_wake(waker)) {
            ws.push(waker.clone());
        }
        // Raised between the first look and the registration: its wake may have missed us.
        self.is_set()
    }
}

/// Runs `fut` until it ends (`Some`) or its flag is raised (`None`, and `fut` is dropped
/// unpolled from then on).
pub(crate) struct Abortable<F> {
    fut: F,
    flag: Arc<AbortFlag>,
}

impl<F> Abortable<F> {
    pub(crate) fn new(fut: F, flag: Arc<AbortFlag>) -> Self {
        Abortable { fut, flag }
    }
}

impl<F: Future + Unpin> Future for Abortable<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.flag.register(cx.waker()) {
            return Poll::Ready(None);
        }
        Pin::new(&mut self.fut).poll(cx).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_flag_ends_the_future_and_wakes_it() {
        use std::sync::atomic::AtomicUsize;
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let flag = Arc::new(AbortFlag::default());
        let mut fut = Abortable::new(std::future::pending::<()>(), flag.clone());
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        flag.fire();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(None));
        let mut done = Abortable::new(std::future::ready(5), Arc::new(AbortFlag::default()));
        assert_eq!(Pin::new(&mut done).poll(&mut cx), Poll::Ready(Some(5)));
    }
}
