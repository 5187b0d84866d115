//! The message transport: one session over any `Stream` of whole JSON-RPC messages and any
//! `Sink` taking them (a WebSocket, a channel pair, a framed socket of your own).
//!
//! The same limits as a byte stream hold: each message is checked against the session's
//! `max_frame_len` by the core ([`handle_framed`]), and output the sink has not taken yet
//! counts against the same [`Watermarks`] (input waits while too much is queued, and a
//! peer that never takes any ends the connection).
//!
//! [`handle_framed`]: mcp_proto::session::ServerSession::handle_framed
//! [`Watermarks`]: mcp_proto::codec::flow::Watermarks

use std::collections::VecDeque;
use std::error::Error;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_lite::Stream;
use futures_sink::Sink;
use mcp_proto::codec::flow::{Flow, FlowState};
use mcp_proto::session::Transmit;

use super::{Backlog, End, Io, Round, Transport};
use crate::runtime::Runtime;

/// An error of the user's stream or sink, as the connection reports it.
fn io_error(e: impl Into<Box<dyn Error + Send + Sync>>) -> io::Error {
    io::Error::other(e)
}

/// One session over a message stream and a message sink.
pub(crate) struct MessageTransport<St, Si> {
    stream: St,
    sink: Si,
    eof: bool,
    /// The stream returned `Pending` in this poll: its waker is registered.
    read_blocked: bool,
    /// Sent since the last completed flush.
    unflushed: bool,
    out: VecDeque<Bytes>,
    /// Bytes in `out`.
    queued: usize,
    flow: Flow,
    /// What the session's handles were last told.
    reported: Backlog,
}

impl<St, Si> MessageTransport<St, Si> {
    /// A transport applying `flow` to the messages the sink has not taken yet.
    pub fn new(stream: St, sink: Si, flow: Flow) -> Self {
        MessageTransport {
            stream,
            sink,
            eof: false,
            read_blocked: false,
            unflushed: false,
            out: VecDeque::new(),
            queued: 0,
            flow,
            reported: Backlog::default(),
        }
    }

    fn queue(&mut self, t: Transmit) {
        // A message transport frames by itself: the line ending is the byte stream's.
        let frame = match t.frame.strip_suffix(b"\n") {
            Some(body) => t.frame.slice(..body.len()),
            None => t.frame,
        };
        self.queued += frame.len();
        self.out.push_back(frame);
    }
}

impl<St, Si, E> MessageTransport<St, Si>
where
    Si: Sink<Bytes, Error = E> + Unpin,
    E: Into<Box<dyn Error + Send + Sync>>,
{
    /// Sends queued messages; `Ready(Ok)` once all are sent and flushed.
    fn poll_send_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.out.is_empty() {
            match Pin::new(&mut self.sink).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(io_error(e))),
                Poll::Pending => return Poll::Pending,
            }
            let Some(frame) = self.out.pop_front() else {
                break;
            };
            self.queued -= frame.len();
            Pin::new(&mut self.sink)
                .start_send(frame)
                .map_err(io_error)?;
            self.unflushed = true;
        }
        if !self.unflushed {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.sink).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.unflushed = false;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(io_error(e))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<R, St, Si, M, E1, E2> Transport<R> for MessageTransport<St, Si>
where
    R: Runtime,
    St: Stream<Item = Result<M, E1>> + Unpin + Send + 'static,
    Si: Sink<Bytes, Error = E2> + Unpin + Send + 'static,
    M: AsRef<[u8]>,
    E1: Into<Box<dyn Error + Send + Sync>>,
    E2: Into<Box<dyn Error + Send + Sync>>,
{
    const STOPPED: &'static str = "connection stopped";

    fn poll_io(&mut self, cx: Option<&mut Context<'_>>, round: &mut Round<'_, R>) -> Io {
        let mut io = Io::default();
        // As on a byte stream: the end of input counts from the round after it was read, so
        // answers to the last requests still go out.
        let eof_seen = self.eof;
        for t in std::mem::take(&mut round.out[0]) {
            self.queue(t);
        }
        let mut noop = Context::from_waker(Waker::noop());
        let inline = cx.is_none();
        let cx = match cx {
            Some(cx) => cx,
            None => &mut noop,
        };
        match self.poll_send_out(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => {
                let reason = format!("send failed: {e}");
                io.end = Some(End::Failed(e, reason));
                return io;
            }
            // Inline, the sink registered no waker: the engine's task must retry it.
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
                "the peer stopped taking messages ({} bytes waiting, limit {})",
                self.queued,
                self.flow.watermarks().max
            );
            io.end = Some(End::Failed(io::Error::other(reason.clone()), reason));
            return io;
        }
        if round.first {
            self.read_blocked = false;
        }
        if !self.eof && !inline && !self.read_blocked && state == FlowState::Reading {
            match Pin::new(&mut self.stream).poll_next(cx) {
                Poll::Ready(Some(Ok(message))) => {
                    round.sessions[0].handle_framed(round.now, message.as_ref());
                    io.progressed = true;
                }
                Poll::Ready(Some(Err(e))) => {
                    let e = io_error(e);
                    let reason = format!("receive failed: {e}");
                    io.end = Some(End::Failed(e, reason));
                    return io;
                }
                Poll::Ready(None) => {
                    self.eof = true;
                    io.progressed = true;
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
            self.queue(t);
        }
        if !self.eof {
            let _ = self.poll_send_out(cx);
        }
        let _ = Pin::new(&mut self.sink).poll_close(cx);
    }
}

/// The engine of one session over a message stream and sink.
pub(crate) fn engine<R, X, St, Si, M, E1, E2>(
    rt: R,
    shared: std::sync::Arc<std::sync::Mutex<super::Shared<X::Session, X>>>,
    stream: St,
    sink: Si,
) -> super::Engine<R, MessageTransport<St, Si>>
where
    R: Runtime,
    X: super::Side<R>,
    St: Stream<Item = Result<M, E1>> + Unpin + Send + 'static,
    Si: Sink<Bytes, Error = E2> + Unpin + Send + 'static,
    M: AsRef<[u8]>,
    E1: Into<Box<dyn Error + Send + Sync>>,
    E2: Into<Box<dyn Error + Send + Sync>>,
{
    use super::Endpoint;
    let flow = Flow::new(super::lock(&shared).session.watermarks());
    super::Engine::new(
        rt,
        vec![Box::new(shared)],
        MessageTransport::new(stream, sink, flow),
    )
}
