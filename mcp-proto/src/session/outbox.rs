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
