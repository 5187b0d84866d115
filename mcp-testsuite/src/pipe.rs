//! An in-memory byte pipe speaking futures-io, so the suite needs no runtime's IO types.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_lite::io::{AsyncRead, AsyncWrite};

#[derive(Default)]
struct Buf {
    data: VecDeque<u8>,
    closed: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// Bytes in flight are capped, so a writer that outruns its reader waits (backpressure).
const CAPACITY: usize = 256 * 1024;

/// The reading end.
pub struct PipeReader(Arc<Mutex<Buf>>);
/// The writing end; dropping or closing it is end-of-stream for the reader.
pub struct PipeWriter(Arc<Mutex<Buf>>);

/// A one-way pipe.
pub fn pipe() -> (PipeWriter, PipeReader) {
    let b = Arc::new(Mutex::new(Buf::default()));
    (PipeWriter(b.clone()), PipeReader(b))
}

/// Two pipes: (client reader, client writer, server reader, server writer).
pub fn duplex() -> (PipeReader, PipeWriter, PipeReader, PipeWriter) {
    let (to_server_w, to_server_r) = pipe();
    let (to_client_w, to_client_r) = pipe();
    (to_client_r, to_server_w, to_server_r, to_client_w)
}

fn lock(m: &Mutex<Buf>) -> std::sync::MutexGuard<'_, Buf> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AsyncRead for PipeReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut b = lock(&self.0);
        if b.data.is_empty() {
            if b.closed {
                return Poll::Ready(Ok(0));
            }
            b.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = out.len().min(b.data.len());
        for (dst, src) in out.iter_mut().zip(b.data.drain(..n)) {
            *dst = src;
        }
        if let Some(w) = b.writer.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        let mut b = lock(&self.0);
        b.closed = true;
        if let Some(w) = b.writer.take() {
            w.wake();
        }
    }
}

impl AsyncWrite for PipeWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut b = lock(&self.0);
        if b.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = CAPACITY.saturating_sub(b.data.len());
        if room == 0 {
            b.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(data.len());
        b.data.extend(&data[..n]);
        if let Some(w) = b.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut b = lock(&self.0);
        b.closed = true;
        if let Some(w) = b.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        let mut b = lock(&self.0);
        b.closed = true;
        if let Some(w) = b.reader.take() {
            w.wake();
        }
    }
}
