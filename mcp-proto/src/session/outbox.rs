//! Encoding of outgoing frames into one reused buffer.

use std::collections::VecDeque;

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
}

impl Outbox {
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
        self.queue.push_back(Transmit { route, frame, kind });
        Ok(())
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
