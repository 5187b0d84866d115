//! Encoding of outgoing frames into one reused buffer.

use std::collections::{HashMap, VecDeque};

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

use crate::jsonrpc::{
    ErrorObject, OutError, OutNotification, OutRequest, OutResponse, RequestId, JSONRPC_VERSION,
};

use super::{FrameKind, Route, Transmit, UsageError};

/// Keeps the unused capacity of this buffer between frames, so steady-state encoding does
/// not allocate for small messages.
const MIN_SPARE: usize = 4096;

/// Queue of encoded frames waiting for `poll_transmit`.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    buf: BytesMut,
    queue: VecDeque<Transmit>,
    /// Params encoded on their own before [`Outbox::request_with_meta`] splices them in.
    scratch: Vec<u8>,
    /// The batch being dispatched right now, if it came from a byte stream.
    open_batch: Option<BatchReply>,
    /// Byte-stream batches dispatched and still waiting for answers.
    batches: Vec<BatchReply>,
}

/// The answers to one batch read from a byte stream, gathered so that they leave as one
/// JSON array (JSON-RPC 2.0, section 6), whatever order the application answers in.
#[derive(Debug, Default)]
struct BatchReply {
    /// Answers still owed, by request id (a count: a batch may repeat an id).
    waiting: HashMap<RequestId, usize>,
    /// Encoded answers without their trailing newline.
    answers: Vec<Bytes>,
}

impl BatchReply {
    fn take(&mut self, id: &RequestId) -> bool {
        match self.waiting.get_mut(id) {
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    self.waiting.remove(id);
                }
                true
            }
            None => false,
        }
    }
}

impl Outbox {
    /// Nothing queued and no batch waiting for answers.
    pub(crate) fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.open_batch.is_none() && self.batches.is_empty()
    }

    pub(crate) fn pop(&mut self) -> Option<Transmit> {
        self.queue.pop_front()
    }

    /// Serializes `value` followed by `\n` and queues it on `route`.
    fn push<T: Serialize>(
        &mut self,
        route: Route,
        kind: FrameKind,
        value: &T,
    ) -> Result<(), UsageError> {
        if self.buf.capacity() < MIN_SPARE {
            self.buf.reserve(MIN_SPARE);
        }
        let mut w = (&mut self.buf).writer();
        if let Err(e) = serde_json::to_writer(&mut w, value) {
            self.buf.clear();
            return Err(UsageError::Encode(e.to_string()));
        }
        self.buf.put_u8(b'\n');
        let frame: Bytes = self.buf.split().freeze();
        if kind.is_response() && self.gather(&route, &frame) {
            return Ok(());
        }
        self.queue.push_back(Transmit { route, frame, kind });
        Ok(())
    }

    /// Starts gathering the answers of a batch read from a byte stream: the answers to
    /// `ids`, and every id-less error raised until [`Outbox::seal_batch`].
    pub(crate) fn open_batch<'i>(&mut self, ids: impl IntoIterator<Item = &'i RequestId>) {
        let mut reply = BatchReply::default();
        for id in ids {
            *reply.waiting.entry(id.clone()).or_default() += 1;
        }
        self.open_batch = Some(reply);
    }

    /// Ends the dispatch of the open batch: sends its array now if nothing is owed any more.
    pub(crate) fn seal_batch(&mut self) {
        if let Some(reply) = self.open_batch.take() {
            if reply.waiting.is_empty() {
                self.send_batch(reply);
            } else {
                self.batches.push(reply);
            }
        }
    }

    /// `id` ends without an answer (cancelled): its batch no longer waits for it.
    pub(crate) fn forget(&mut self, id: &RequestId) {
        if let Some(i) = self.batches.iter_mut().position(|b| b.take(id)) {
            if self.batches[i].waiting.is_empty() {
                let reply = self.batches.swap_remove(i);
                self.send_batch(reply);
            }
        } else if let Some(open) = self.open_batch.as_mut() {
            open.take(id);
        }
    }

    /// Keeps an answer that belongs to a byte-stream batch; `false` if it belongs to none.
    fn gather(&mut self, route: &Route, frame: &Bytes) -> bool {
        let line = frame.slice(..frame.len() - 1);
        if let Some(open) = self.open_batch.as_mut() {
            let mine = match route {
                Route::Request(id) => open.take(id),
                // An error about an item whose id could not be read.
                Route::Session => true,
            };
            if mine {
                open.answers.push(line);
                return true;
            }
        }
        let Route::Request(id) = route else {
            return false;
        };
        let Some(i) = self.batches.iter_mut().position(|b| b.take(id)) else {
            return false;
        };
        self.batches[i].answers.push(line);
        if self.batches[i].waiting.is_empty() {
            let reply = self.batches.swap_remove(i);
            self.send_batch(reply);
        }
        true
    }

    fn send_batch(&mut self, reply: BatchReply) {
        if reply.answers.is_empty() {
            // Only notifications (or cancelled requests): nothing is sent at all.
            return;
        }
        let len = reply.answers.iter().map(|a| a.len() + 1).sum::<usize>() + 2;
        let mut out = BytesMut::with_capacity(len);
        for (i, a) in reply.answers.iter().enumerate() {
            out.put_u8(if i == 0 { b'[' } else { b',' });
            out.put_slice(a);
        }
        out.put_slice(b"]\n");
        self.queue.push_back(Transmit {
            route: Route::Session,
            frame: out.freeze(),
            kind: FrameKind::Result,
        });
    }

    pub(crate) fn request<P: Serialize>(
        &mut self,
        route: Route,
        id: &RequestId,
        method: &str,
        params: Option<&P>,
    ) -> Result<(), UsageError> {
        self.push(
            route,
            FrameKind::Request,
            &OutRequest {
                jsonrpc: JSONRPC_VERSION,
                id,
                method,
                params,
            },
        )
    }

    /// A request whose params object starts with `"_meta":` followed by `meta`, an encoded
    /// JSON object. The caller makes sure `params` serializes to an object with no `_meta` of
    /// its own. Per-request metadata that is the same on every request (2026-07-28) is then
    /// encoded once per session instead of being rebuilt as a tree for each request.
    pub(crate) fn request_with_meta<P: Serialize>(
        &mut self,
        route: Route,
        id: &RequestId,
        method: &str,
        params: &P,
        meta: &str,
    ) -> Result<(), UsageError> {
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, params)
            .map_err(|e| UsageError::Encode(e.to_string()))?;
        let Some(rest) = self.scratch.strip_prefix(b"{") else {
            return Err(UsageError::Encode(
                "request params must be an object".into(),
            ));
        };
        if self.buf.capacity() < MIN_SPARE {
            self.buf.reserve(MIN_SPARE);
        }
        let head = OutRequest::<()> {
            jsonrpc: JSONRPC_VERSION,
            id,
            method,
            params: None,
        };
        let mut w = (&mut self.buf).writer();
        if let Err(e) = serde_json::to_writer(&mut w, &head) {
            self.buf.clear();
            return Err(UsageError::Encode(e.to_string()));
        }
        // `{"jsonrpc":"2.0","id":..,"method":".."}` loses its `}` to gain the params.
        self.buf.truncate(self.buf.len() - 1);
        self.buf.put_slice(b",\"params\":{\"_meta\":");
        self.buf.put_slice(meta.as_bytes());
        if rest != b"}" {
            self.buf.put_u8(b',');
        }
        self.buf.put_slice(rest);
        self.buf.put_slice(b"}\n");
        let frame: Bytes = self.buf.split().freeze();
        self.queue.push_back(Transmit {
            route,
            frame,
            kind: FrameKind::Request,
        });
        Ok(())
    }

    pub(crate) fn notification<P: Serialize>(
        &mut self,
        route: Route,
        method: &str,
        params: Option<&P>,
    ) -> Result<(), UsageError> {
        self.push(
            route,
            FrameKind::Notification,
            &OutNotification {
                jsonrpc: JSONRPC_VERSION,
                method,
                params,
            },
        )
    }

    pub(crate) fn response<R: Serialize>(
        &mut self,
        route: Route,
        id: &RequestId,
        result: &R,
    ) -> Result<(), UsageError> {
        self.push(
            route,
            FrameKind::Result,
            &OutResponse {
                jsonrpc: JSONRPC_VERSION,
                id,
                result,
            },
        )
    }

    /// Error frames are built from our own types and cannot fail to encode.
    pub(crate) fn error(&mut self, route: Route, id: Option<&RequestId>, error: &ErrorObject) {
        let _ = self.push(
            route,
            FrameKind::Error(error.code),
            &OutError {
                jsonrpc: JSONRPC_VERSION,
                id,
                error,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn frame(o: &mut Outbox) -> Value {
        let t = o.pop().expect("a frame");
        assert_eq!(t.kind, FrameKind::Request);
        assert_eq!(t.frame.last(), Some(&b'\n'));
        serde_json::from_slice(&t.frame).expect("valid JSON")
    }

    #[test]
    fn spliced_meta_reads_as_if_it_were_part_of_the_params() {
        let meta = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#;
        let mut o = Outbox::default();
        let id = RequestId::Number(7);
        let params = json!({"name": "echo", "arguments": {"text": "hi"}});
        o.request_with_meta(Route::Session, &id, "tools/call", &params, meta)
            .unwrap();
        let mut whole = params.clone();
        whole["_meta"] = serde_json::from_str(meta).unwrap();
        o.request(Route::Session, &id, "tools/call", Some(&whole))
            .unwrap();
        let (spliced, built) = (frame(&mut o), frame(&mut o));
        assert_eq!(spliced, built);
        // Empty params become just the `_meta`.
        o.request_with_meta(Route::Session, &id, "ping", &json!({}), meta)
            .unwrap();
        assert_eq!(
            frame(&mut o),
            json!({"jsonrpc": "2.0", "id": 7, "method": "ping", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}})
        );
    }

    #[test]
    fn params_that_are_not_an_object_are_refused_and_nothing_is_queued() {
        let mut o = Outbox::default();
        let id = RequestId::Number(1);
        for bad in [json!(null), json!([1, 2]), json!("x")] {
            let e = o
                .request_with_meta(Route::Session, &id, "x", &bad, "{}")
                .unwrap_err();
            assert!(matches!(e, UsageError::Encode(_)), "{e:?}");
        }
        assert!(o.pop().is_none());
        // The buffer is clean for the next frame.
        o.request(Route::Session, &id, "ping", None::<&()>).unwrap();
        assert_eq!(
            frame(&mut o),
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        );
    }
}
