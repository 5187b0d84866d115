//! A bounded single-consumer notification queue, runtime-free.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::engine::lock;

struct Inner<T> {
    items: VecDeque<T>,
    waker: Option<Waker>,
    closed: bool,
    dropped: u64,
}

/// The producing side (held by the connection).
pub(crate) struct Producer<T>(Arc<Mutex<Inner<T>>>);
/// The consuming side.
pub(crate) struct Consumer<T>(Arc<Mutex<Inner<T>>>);

/// Most items held; past this the newest are dropped (and counted): a peer must not grow
/// our memory by sending faster than the application reads.
pub(crate) const CAPACITY: usize = 1024;

pub(crate) fn queue<T>() -> (Producer<T>, Consumer<T>) {
    let inner = Arc::new(Mutex::new(Inner {
        items: VecDeque::new(),
        waker: None,
        closed: false,
        dropped: 0,
    }));
    (Producer(inner.clone()), Consumer(inner))
}

impl<T> Producer<T> {
    pub fn push(&self, item: T) {
        let mut g = lock(&self.0);
        if g.items.len() >= CAPACITY {
            g.dropped += 1;
        } else {
            g.items.push_back(item);
        }
        if let Some(w) = g.waker.take() {
            w.wake();
        }
    }

    pub fn close(&self) {
        let mut g = lock(&self.0);
        g.closed = true;
        if let Some(w) = g.waker.take() {
            w.wake();
        }
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> Consumer<T> {
    pub fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut g = lock(&self.0);
        if let Some(item) = g.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if g.closed {
            return Poll::Ready(None);
        }
        g.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    pub fn dropped(&self) -> u64 {
        lock(&self.0).dropped
    }
}
