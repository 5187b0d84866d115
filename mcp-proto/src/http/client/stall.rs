//! Stalls: the deadline each exchange in progress runs against, and what happens when it
//! passes (see the module doc of [`super`] for what counts as alive).

use std::time::Instant;

use super::*;

impl HttpClient {
    /// The deadline exchange `ex` runs against now, and what it waits for.
    pub(super) fn stall_deadline(&self, ex: &Exchange) -> Option<(Instant, Stall)> {
        let since = ex.active?;
        let c = &self.config;
        match &ex.state {
            BodyState::Head if self.carries_request(ex) => None,
            BodyState::Head => Some((since + c.response_timeout?, Stall::Head)),
            BodyState::Json { .. } | BodyState::Discard => {
                Some((since + c.idle_timeout?, Stall::Body))
            }
            BodyState::Sse { .. } => {
                let silent = c.stream_idle_timeout.map(|t| (since + t, Stall::Silent));
                let quiet = c
                    .stream_quiet_timeout
                    .filter(|_| self.reopens_without_loss(ex))
                    .and_then(|t| Some((ex.spoke? + t, Stall::Quiet)));
                match (silent, quiet) {
                    (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    /// A POST carrying a request of the session's: its wait is bounded by the session's
    /// request timeout, and a JSON answer's head comes only with the result.
    fn carries_request(&self, ex: &Exchange) -> bool {
        matches!(&ex.purpose, Purpose::Post(p) if p.rpc.is_some() && p.internal == Internal::No)
    }

    /// Whether cutting this stream loses nothing: it is reopened, or resumed from its last
    /// event id.
    fn reopens_without_loss(&self, ex: &Exchange) -> bool {
        match &ex.purpose {
            Purpose::Standalone | Purpose::Resume(_) => true,
            Purpose::Post(post) => self.can_resume(post, &ex.last_event_id),
            Purpose::SseConnect | Purpose::Delete => false,
        }
    }

    /// Exchange `id` stalled: it is dropped, then resumed, reopened or failed.
    pub(super) fn stalled(&mut self, now: Instant, id: ExchangeId, why: Stall) {
        let Some(mut ex) = self.exchanges.remove(&id) else {
            return;
        };
        self.aborts.push_back(id);
        let message = why.describe();
        let error = HttpError::TimedOut {
            message: message.to_owned(),
        };
        let streaming = matches!(ex.state, BodyState::Sse { .. });
        match &ex.purpose {
            Purpose::Post(post) => {
                if streaming && self.can_resume(post, &ex.last_event_id) {
                    let ids = post.rpc.iter().cloned().collect();
                    return self.resume(now, ids, &ex);
                }
                let post = post.clone();
                if post.internal != Internal::No {
                    return self.reinit_failed();
                }
                self.post_failed(&post, error);
            }
            Purpose::Standalone | Purpose::Resume(_) => {
                if streaming {
                    // The server answered the GET, so it works: a silent stream is reopened
                    // for as long as it takes, never given up as unreachable.
                    ex.failures = 0;
                }
                ex.state = BodyState::Head;
                self.reconnect(now, ex, Some(message));
            }
            Purpose::SseConnect => {
                if matches!(self.transport, Transport::LegacySse(Some(_))) {
                    self.lost_legacy_stream(error);
                } else {
                    self.legacy_sse_failed();
                }
            }
            Purpose::Delete => {}
        }
    }
}
