//! hyper's runtime hooks (IO, timer, executor) over futures-io and our [`Runtime`], so one
//! HTTP implementation serves every runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_lite::io::{AsyncRead, AsyncWrite};
use hyper::rt::{Executor, ReadBufCursor, Sleep, Timer};

use crate::runtime::{BoxFuture, Runtime};

/// Largest single read.
const READ_CHUNK: usize = 16 * 1024;

/// A futures-io stream as hyper IO.
#[derive(Debug)]
pub struct HyperIo<T> {
    io: T,
    /// Initialised read region: futures-io reads need initialised memory, hyper hands out
    /// uninitialised memory, and this crate has no `unsafe`. One copy per read.
    buf: Vec<u8>,
}

impl<T> HyperIo<T> {
    /// Wraps a stream.
    pub fn new(io: T) -> Self {
        HyperIo {
            io,
            buf: Vec::new(),
        }
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let want = buf.remaining().min(READ_CHUNK);
        if this.buf.len() < want {
            this.buf.resize(want, 0);
        }
        match Pin::new(&mut this.io).poll_read(cx, &mut this.buf[..want]) {
            Poll::Ready(Ok(n)) => {
                buf.put_slice(&this.buf[..n]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_close(cx)
    }
}

/// hyper's timer on our runtime.
#[derive(Debug, Clone)]
pub struct RtTimer<R>(pub R);

/// A runtime sleep made `Sync` for hyper (polled only through the lock).
struct RtSleep(Mutex<BoxFuture<'static, ()>>);

impl Future for RtSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        crate::engine::lock(&self.0).as_mut().poll(cx)
    }
}

impl Sleep for RtSleep {}

impl<R: Runtime> Timer for RtTimer<R> {
    fn sleep(&self, duration: std::time::Duration) -> Pin<Box<dyn Sleep>> {
        let at = self.0.now() + duration;
        Box::pin(RtSleep(Mutex::new(self.0.sleep_until(at))))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(RtSleep(Mutex::new(self.0.sleep_until(deadline))))
    }
}

/// hyper's executor on our runtime.
#[derive(Debug, Clone)]
pub struct RtExecutor<R>(pub R);

impl<R: Runtime, F> Executor<F> for RtExecutor<R>
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, fut: F) {
        self.0.spawn(Box::pin(fut));
    }
}
