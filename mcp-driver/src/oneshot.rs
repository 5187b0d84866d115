//! A tiny runtime-free one-shot slot: one side fills it, the other awaits it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::engine::lock;

struct Inner<T> {
    value: Option<T>,
    waker: Option<Waker>,
    closed: bool,
}

/// The filling side.
pub(crate) struct Sender<T>(Arc<Mutex<Inner<T>>>);

/// The awaiting side; resolves to `None` if the sender was dropped unfilled.
pub(crate) struct Receiver<T>(Arc<Mutex<Inner<T>>>);

pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(Inner {
        value: None,
        waker: None,
        closed: false,
    }));
    (Sender(inner.clone()), Receiver(inner))
}

impl<T> Sender<T> {
    pub fn send(self, value: T) {
        let mut g = lock(&self.0);
        g.value = Some(value);
        if let Some(w) = g.waker.take() {
            w.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut g = lock(&self.0);
        g.closed = true;
        if let Some(w) = g.waker.take() {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut g = lock(&self.0);
        if let Some(v) = g.value.take() {
            return Poll::Ready(Some(v));
        }
        if g.closed {
            return Poll::Ready(None);
        }
        g.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
