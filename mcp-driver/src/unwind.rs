//! Panics in user code (tool handlers, client handlers) become errors on the request they
//! were serving, so the peer gets an answer and the connection lives on. Without this, a
//! panicking handler would take its connection's task down and leave every caller on that
//! connection waiting for answers that never come.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls `fut` once; a panic inside becomes `Err` with its message. A future that panicked
/// must not be polled again.
pub(crate) fn poll_caught<F: Future + ?Sized>(
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, String>> {
    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
        Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(payload) => Poll::Ready(Err(message(payload.as_ref()))),
    }
}

/// Runs `f`; a panic inside becomes `Err` with its message.
pub(crate) fn call_caught<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| message(p.as_ref()))
}

/// The text a panic was raised with, when it has one.
fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic with a non-string payload".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn panics_become_their_messages() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut fine = std::pin::pin!(async { 7 });
        assert_eq!(poll_caught(fine.as_mut(), &mut cx), Poll::Ready(Ok(7)));
        let mut boom = std::pin::pin!(async {
            if true {
                panic!("tool exploded");
            }
        });
        assert_eq!(
            poll_caught(boom.as_mut(), &mut cx),
            Poll::Ready(Err("tool exploded".into()))
        );
        let n = 3;
        assert_eq!(
            call_caught(|| panic!("formatted {n}")),
            Err::<(), _>("formatted 3".into())
        );
        assert_eq!(
            call_caught(|| std::panic::panic_any(42)),
            Err::<(), _>("panic with a non-string payload".into())
        );
        assert_eq!(call_caught(|| "ok"), Ok("ok"));
    }
}
