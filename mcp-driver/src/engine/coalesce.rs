//! Folds wakes that happen while a future is being polled into that same poll.
//!
//! A driver future that polls sub-futures (hyper connections, exchanges) with its own waker
//! wakes itself whenever one sub-future completes something another waits on. Left alone,
//! each such wake reschedules the task through the runtime (on a multi-threaded runtime,
//! often by waking another worker thread) only to find the work already done. With
//! [`Coalesce`], a wake during the poll just marks it for another round inside the same poll;
//! a wake between polls reaches the runtime as usual.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::lock;

const IDLE: u8 = 0;
const POLLING: u8 = 1;
const NOTIFIED: u8 = 2;

/// Rounds in one poll before handing back to the runtime: a sub-future that wakes itself on
/// every poll (a cooperative-budget yield, say) must not keep the task from yielding.
const MAX_ROUNDS: usize = 16;

/// The waker a driver polls its sub-futures with (see the module docs).
pub(crate) struct Coalesce {
    state: AtomicU8,
    parent: Mutex<Option<Waker>>,
}

impl Coalesce {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Coalesce {
            state: AtomicU8::new(IDLE),
            parent: Mutex::new(None),
        })
    }

    /// Runs `round` until it is ready, or until a round passes without a wake from inside.
    pub(crate) fn poll_with<T>(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        mut round: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        {
            let mut parent = lock(&self.parent);
            if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *parent = Some(cx.waker().clone());
            }
        }
        let waker = Waker::from(self.clone());
        let mut inner = Context::from_waker(&waker);
        for _ in 0..MAX_ROUNDS {
            self.state.store(POLLING, Ordering::SeqCst);
            if let Poll::Ready(v) = round(&mut inner) {
                self.state.store(IDLE, Ordering::SeqCst);
                return Poll::Ready(v);
            }
            if self
                .state
                .compare_exchange(POLLING, IDLE, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Poll::Pending;
            }
        }
        self.state.store(IDLE, Ordering::SeqCst);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Wake for Coalesce {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        match self
            .state
            .compare_exchange(POLLING, NOTIFIED, Ordering::SeqCst, Ordering::SeqCst)
        {
            // Inside a poll: it goes round again.
            Ok(_) | Err(NOTIFIED) => {}
            Err(_) => {
                if let Some(w) = lock(&self.parent).as_ref() {
                    w.wake_by_ref();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// The runtime's side: counts the wakes that reach it.
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A fresh `Coalesce`, with a runtime waker that counts and its counter.
    fn setup() -> (Arc<Count>, Arc<Coalesce>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        (count, Coalesce::new(), waker)
    }

    #[test]
    fn wakes_inside_a_poll_become_rounds_and_outside_reach_the_runtime() {
        let (count, c, waker) = setup();
        let mut cx = Context::from_waker(&waker);
        // Woken during the first two rounds: three rounds, no runtime wake.
        let mut rounds = 0;
        let r: Poll<()> = c.poll_with(&mut cx, |cx| {
            rounds += 1;
            if rounds < 3 {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        });
        assert!(r.is_pending());
        assert_eq!(rounds, 3);
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        // A wake after the poll goes to the runtime's waker.
        let mut kept = None;
        let _: Poll<()> = c.poll_with(&mut cx, |cx| {
            kept = Some(cx.waker().clone());
            Poll::Pending
        });
        kept.unwrap().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_future_that_always_wakes_itself_still_yields() {
        let (count, c, waker) = setup();
        let mut cx = Context::from_waker(&waker);
        let mut rounds = 0;
        let r: Poll<()> = c.poll_with(&mut cx, |cx| {
            rounds += 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        });
        assert!(r.is_pending());
        assert_eq!(rounds, MAX_ROUNDS);
        // Rescheduled through the runtime instead of spinning.
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
}
