//! The byte-stream transport: stdio, child processes, TCP, any `AsyncRead`/`AsyncWrite`.
//! Frames go out in order on one writer; input is read in chunks and handed to the session,
//! which consumes whole frames. Input is left unread while too much output waits for the
//! peer ([`Flow`], decided by the core from the session's [`Watermarks`]).
//!
//! [`Watermarks`]: mcp_proto::codec::flow::Watermarks

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use futures_lite::io::{AsyncRead, AsyncWrite};
use mcp_proto::codec::flow::{Flow, FlowState};
use mcp_proto::session::Transmit;

use super::{Backlog, End, Io, Round, Transport};
use crate::runtime::Runtime;

/// Read granularity; frames larger than this arrive over several reads. Small, because the
/// read region is zeroed before each read (safe code cannot read into uninitialised memory).
const READ_CHUNK: usize = 8 * 1024;

/// One session over a reader and a writer.
pub(crate) struct StreamTransport<Rd, Wr> {
    reader: Rd,
    writer: Wr,
    read_buf: BytesMut,
    eof: bool,
    /// The reader returned `Pending` in this poll: its waker is registered.
    read_blocked: bool,
    /// Written since the last completed flush.
    unflushed: bool,
    out: VecDeque<Bytes>,
    /// Bytes in `out`.
    queued: usize,
    flow: Flow,
    /// What the session's handles were last told.
    reported: Backlog,
}

impl<Rd, Wr> StreamTransport<Rd, Wr> {
    /// A transport applying `flow` to its output backlog.
    pub fn new(reader: Rd, writer: Wr, flow: Flow) -> Self {
        StreamTransport {
            reader,
            writer,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            eof: false,
            read_blocked: false,
            unflushed: false,
            out: VecDeque::new(),
            queued: 0,
            flow,
            reported: Backlog::default(),
        }
    }
}

impl<Rd, Wr: AsyncWrite + Unpin> StreamTransport<Rd, Wr> {
    /// Writes queued frames; `Ready(Ok)` once all are written and flushed.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(front) = self.out.front_mut() {
            match Pin::new(&mut self.writer).poll_write(cx, front) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.unflushed = true;
                    let n = n.min(front.len());
                    let _ = front.split_to(n);
                    self.queued -= n;
                    if front.is_empty() {
                        self.out.pop_front();
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if !self.unflushed {
            return Poll::Ready(Ok(()));
        }
        let flushed = Pin::new(&mut self.writer).poll_flush(cx);
        if flushed.is_ready() {
            self.unflushed = false;
        }
        flushed
    }
}

impl<R, Rd, Wr> Transport<R> for StreamTransport<Rd, Wr>
where
    R: Runtime,
    Rd: AsyncRead + Unpin + Send + 'static,
    Wr: AsyncWrite + Unpin + Send + 'static,
{
    const STOPPED: &'static str = "connection stopped";

    fn poll_io(&mut self, cx: Option<&mut Context<'_>>, round: &mut Round<'_, R>) -> Io {
        let mut io = Io::default();
        // The peer's end of input counts only from the round after it was read: requests
        // read just before it may have been answered in this very round, and their answers
        // reach `round.out` in the next one.
        let eof_seen = self.eof;
        for t in round.out[0].drain(..) {
            self.queued += t.frame.len();
            self.out.push_back(t.frame);
        }
        // Output first: what it frees decides whether to read.
        let mut noop = Context::from_waker(Waker::noop());
        let inline = cx.is_none();
        let cx = match cx {
            Some(cx) => cx,
            None => &mut noop,
        };
        match self.poll_write_out(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => {
                let reason = format!("write failed: {e}");
                io.end = Some(End::Failed(e, reason));
                return io;
            }
            // Inline, the write registered no waker: the engine's task must retry it.
            Poll::Pending => round.needs_driver |= inline,
        }
        let state = self.flow.handle_backlog(self.queued);
        let backlog = Backlog {
            queued: self.queued,
            peak: self.flow.peak(),
            reading_paused: state != FlowState::Reading,
        };
        if backlog != self.reported {
            self.reported = backlog;
            round.sessions[0].set_backlog(backlog);
        }
        if state == FlowState::Overflow {
            let reason = format!(
                "the peer stopped reading ({} bytes waiting, limit {})",
                self.queued,
                self.flow.watermarks().max
            );
            io.end = Some(End::Failed(io::Error::other(reason.clone()), reason));
            return io;
        }
        // Input, unless paused (the writer's waker brings us back when the peer reads) or
        // inline (a read would register no waker).
        if round.first {
            self.read_blocked = false;
        }
        if !self.eof && !inline && !self.read_blocked && state == FlowState::Reading {
            let start = self.read_buf.len();
            self.read_buf.resize(start + READ_CHUNK, 0);
            let polled = Pin::new(&mut self.reader).poll_read(cx, &mut self.read_buf[start..]);
            let got = match &polled {
                Poll::Ready(Ok(n)) => *n,
                _ => 0,
            };
            self.read_buf.truncate(start + got);
            match polled {
                Poll::Ready(Ok(n)) => {
                    self.eof = n == 0;
                    round.sessions[0].handle_bytes(round.now, &mut self.read_buf, self.eof);
                    io.progressed = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
                    io.progressed = true;
                }
                Poll::Ready(Err(e)) => {
                    let reason = format!("read failed: {e}");
                    io.end = Some(End::Failed(e, reason));
                    return io;
                }
                Poll::Pending => self.read_blocked = true,
            }
        }
        if (eof_seen || round.stopped != 0) && self.out.is_empty() {
            io.end = Some(End::Done(
                if self.eof {
                    "peer closed the connection"
                } else {
                    "shut down"
                }
                .into(),
            ));
        }
        io
    }

    fn finish(&mut self, cx: &mut Context<'_>, last: Vec<Transmit>, end: &End) {
        if matches!(end, End::Failed(..)) {
            return;
        }
        // Whatever closing produced (error answers, cancels) is best-effort.
        for t in last {
            self.queued += t.frame.len();
            self.out.push_back(t.frame);
        }
        if !self.eof {
            let _ = self.poll_write_out(cx);
        }
        let _ = Pin::new(&mut self.writer).poll_close(cx);
    }
}

/// The engine of one session served over a byte stream.
pub(crate) fn engine<R, X, Rd, Wr>(
    rt: R,
    shared: std::sync::Arc<std::sync::Mutex<super::Shared<X::Session, X>>>,
    reader: Rd,
    writer: Wr,
) -> super::Engine<R, StreamTransport<Rd, Wr>>
where
    R: Runtime,
    X: super::Side<R>,
    Rd: AsyncRead + Unpin + Send + 'static,
    Wr: AsyncWrite + Unpin + Send + 'static,
{
    use super::Endpoint;
    let flow = Flow::new(super::lock(&shared).session.watermarks());
    super::Engine::new(
        rt,
        vec![Box::new(shared)],
        StreamTransport::new(reader, writer, flow),
    )
}
