//! Sessions: re-initialization after the server forgets a legacy session, and the
//! 2024-11-05 HTTP+SSE transport.

use std::time::Instant;

use super::*;

impl HttpClient {
    /// The server forgot the session: start a new one, hold messages until it is ready.
    pub(super) fn session_expired(&mut self, now: Instant, refused: Option<Post>) {
        let _ = now;
        if self.held.is_some() {
            if let (Some(p), Some(held)) = (refused, &mut self.held) {
                held.push(p);
            }
            return;
        }
        self.reinits += 1;
        let Some((_, frame, _)) = self.init.clone() else {
            return self.reinit_failed();
        };
        if self.reinits > self.config.max_reinitializations {
            if let Some(p) = refused {
                self.post_failed(&p, HttpError::SessionExpired);
            }
            return self.reinit_failed();
        }
        self.events.push_back(HttpClientEvent::SessionExpired);
        self.session_id = None;
        let streams: Vec<ExchangeId> = self
            .exchanges
            .iter()
            .filter(|(_, e)| matches!(e.purpose, Purpose::Standalone | Purpose::Resume(_)))
            .map(|(id, _)| *id)
            .collect();
        for id in streams {
            if let Some(Exchange {
                purpose: Purpose::Resume(ids),
                ..
            }) = self.exchanges.get(&id)
            {
                for i in ids.clone() {
                    self.fail_request(&i, HttpError::SessionExpired);
                }
            }
            self.abort(id);
        }
        self.held = Some(refused.into_iter().collect());
        let post = Post {
            rpc: None,
            method: Cow::Borrowed(method::INITIALIZE),
            frame,
            modern: false,
            target: None,
            internal: Internal::Reinit,
            version_retried: false,
        };
        self.send_post(post);
    }

    pub(super) fn reinit_answered(&mut self, msg: &RawMessage<'_>) {
        match msg {
            RawMessage::Response { .. } => {
                if let Some(frame) = self.initialized_frame.clone() {
                    self.send_post(Post {
                        rpc: None,
                        method: Cow::Borrowed(method::INITIALIZED),
                        frame,
                        modern: false,
                        target: None,
                        internal: Internal::ReinitNotify,
                        version_retried: false,
                    });
                }
                self.release_held();
                self.open_standalone();
                self.events.push_back(HttpClientEvent::Reinitialized);
            }
            _ => self.reinit_failed(),
        }
    }

    pub(super) fn reinit_failed(&mut self) {
        let held = self.held.take().unwrap_or_default();
        for p in held {
            self.post_failed(&p, HttpError::SessionExpired);
        }
        let pending: Vec<RequestId> = self.outstanding.keys().cloned().collect();
        for id in pending {
            self.fail_request(&id, HttpError::SessionExpired);
        }
        self.events
            .push_back(HttpClientEvent::Failed(HttpError::SessionExpired));
    }

    pub(super) fn release_held(&mut self) {
        for post in self.held.take().unwrap_or_default() {
            self.send_post(post);
        }
    }

    /// The 2024-11-05 stream named the endpoint: post `initialize` (and what was held) there.
    pub(super) fn endpoint_found(&mut self, now: Instant, data: &str) {
        let _ = now;
        if !matches!(self.transport, Transport::LegacySse(None)) {
            return;
        }
        // Another origin would receive our `Authorization` and custom headers (and could be
        // any host the client can reach): refused, the fallback fails.
        let Some(endpoint) =
            resolve_url(&self.config.url, data).filter(|e| same_origin(&self.config.url, e))
        else {
            return self.legacy_sse_failed();
        };
        self.transport = Transport::LegacySse(Some(endpoint.clone()));
        self.events
            .push_back(HttpClientEvent::LegacySseTransport { endpoint });
        if let Some((id, frame, _)) = self.init.clone() {
            let mut held = self.held.take().unwrap_or_default();
            held.insert(
                0,
                Post {
                    rpc: Some(id),
                    method: Cow::Borrowed(method::INITIALIZE),
                    frame,
                    modern: false,
                    target: None,
                    internal: Internal::No,
                    version_retried: false,
                },
            );
            self.held = Some(held);
        }
        // Answers arrive on the stream: requests wait on it, not on their POSTs.
        self.release_held();
    }

    /// The 2024-11-05 fallback did not work: report `initialize`'s refusal.
    pub(super) fn legacy_sse_failed(&mut self) {
        self.transport = Transport::Streamable;
        let refusal = self
            .init_refusal
            .clone()
            .unwrap_or_else(|| HttpError::StreamEnded.to_error_object());
        let held = self.held.take().unwrap_or_default();
        if let Some((id, _, _)) = self.init.clone() {
            self.forget_request(&id);
            self.messages.push_back(rpc_error_bytes(&id, &refusal));
        }
        for p in held {
            self.post_failed(&p, HttpError::StreamEnded);
        }
    }

    /// The 2024-11-05 stream ended: that transport has no resumption, the session is over.
    pub(super) fn lost_legacy_stream(&mut self, error: HttpError) {
        if matches!(self.transport, Transport::LegacySse(None)) {
            return self.legacy_sse_failed();
        }
        let pending: Vec<RequestId> = self.outstanding.keys().cloned().collect();
        for id in pending {
            self.fail_request(&id, error.clone());
        }
        self.events.push_back(HttpClientEvent::Failed(error));
    }
}
