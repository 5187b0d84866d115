//! Receiving: SSE items and JSON bodies become messages for the session; refusals, early
//! stream ends and failed connections become retries, resumptions or typed errors.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::Value;

use super::*;

/// A server's `retry` (milliseconds), at most the backoff cap: it sets when to come back,
/// not whether.
fn clamp_retry(ms: u64, backoff_max: Duration) -> Duration {
    Duration::from_millis(ms).min(backoff_max.max(Duration::from_millis(1)))
}

impl HttpClient {
    pub(super) fn sse_item(
        &mut self,
        now: Instant,
        id: ExchangeId,
        item: Result<SseItem, crate::codec::SseError>,
    ) {
        let backoff_max = self.config.backoff_max;
        let Some(ex) = self.exchanges.get_mut(&id) else {
            return;
        };
        if !matches!(item, Ok(SseItem::Comment(_))) {
            ex.spoke = Some(now);
        }
        match item {
            Ok(SseItem::Event(ev)) => {
                if let Some(eid) = &ev.id {
                    ex.last_event_id = eid.clone();
                }
                if let Some(ms) = ev.retry {
                    ex.retry = Some(clamp_retry(ms, backoff_max));
                }
                let kind = ev.event.as_deref().unwrap_or("message");
                if kind == "endpoint" && matches!(ex.purpose, Purpose::SseConnect) {
                    self.endpoint_found(now, ev.data.trim());
                    return;
                }
                if kind != "message" || ev.data.trim().is_empty() {
                    return; // priming events and unknown types carry no message
                }
                ex.delivered = true;
                ex.failures = 0;
                let internal = match &ex.purpose {
                    Purpose::Post(p) => p.internal,
                    _ => Internal::No,
                };
                self.deliver(now, Bytes::from(ev.data.into_bytes()), internal, None);
            }
            Ok(SseItem::Control { id: eid, retry }) => {
                if let Some(eid) = eid {
                    ex.last_event_id = eid;
                }
                if let Some(ms) = retry {
                    ex.retry = Some(clamp_retry(ms, backoff_max));
                }
            }
            Ok(SseItem::Comment(_)) => {}
            Err(e) => {
                // The oversized event is skipped and lost: say so, keep reading.
                let what = match &ex.purpose {
                    Purpose::Post(p) => p.method.clone(),
                    _ => Cow::Borrowed("stream"),
                };
                let _ = e;
                self.events.push_back(HttpClientEvent::ExchangeFailed {
                    what: what.into_owned(),
                    error: HttpError::BodyTooLarge {
                        limit: self.config.max_body_len,
                    },
                });
            }
        }
    }

    /// One JSON-RPC message (or batch) from the server: bookkeeping, then to the session.
    /// `answer_for` rewrites an error without id (a refusal) to the request it refused.
    pub(super) fn deliver(
        &mut self,
        now: Instant,
        bytes: Bytes,
        internal: Internal,
        answer_for: Option<&RequestId>,
    ) {
        let _ = now;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            self.messages.push_back(bytes);
            return;
        };
        if text.trim_start().starts_with('[') {
            if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) {
                for item in items {
                    if let Ok(msg) = RawMessage::parse(item.get()) {
                        if let Some(id) = response_id(&msg) {
                            self.answered(&id, &msg);
                        }
                    }
                }
            }
            self.messages.push_back(bytes);
            return;
        }
        let msg = match RawMessage::parse(text) {
            Ok(m) => m,
            Err(_) => {
                self.messages.push_back(bytes);
                return;
            }
        };
        let id = match (&msg, answer_for) {
            (RawMessage::Error { id: None, error }, Some(rpc)) => {
                let fixed = rpc_error(rpc, error);
                return self.deliver(now, fixed, internal, None);
            }
            _ => response_id(&msg),
        };
        let Some(id) = id else {
            self.messages.push_back(bytes);
            return;
        };
        if let Some(refresh) = self.refreshes.remove(&id) {
            return self.tools_refreshed(refresh, &msg);
        }
        if internal == Internal::Reinit {
            return self.reinit_answered(&msg);
        }
        if internal == Internal::ReinitNotify {
            return;
        }
        let answered = self.answered(&id, &msg);
        if answered.is_some_and(|(m, modern)| modern && m == method::TOOLS_LIST) {
            if let RawMessage::Response { result, .. } = &msg {
                if let Some(rewritten) = self.check_tools(&id, result) {
                    self.messages.push_back(rewritten);
                    return;
                }
            }
        }
        self.messages.push_back(bytes);
    }

    /// Bookkeeping for a response: the request is done; handshake answers set the version.
    pub(super) fn answered(
        &mut self,
        id: &RequestId,
        msg: &RawMessage<'_>,
    ) -> Option<(Cow<'static, str>, bool)> {
        let o = self.outstanding.get(id)?;
        let method_name = o.method.clone();
        let modern = o.modern;
        self.forget_request(id);
        if let RawMessage::Response { result, .. } = msg {
            if method_name == method::INITIALIZE {
                if let Ok(p) = serde_json::from_str::<InitProbe>(result.get()) {
                    self.version = Some(p.protocol_version);
                }
                self.connected = true;
            } else if method_name == method::DISCOVER {
                self.probe = None;
                self.connected = true;
                self.modern_era = true;
            } else {
                self.reinits = 0;
            }
        }
        Some((method_name, modern))
    }

    /// Validates the `x-mcp-header` annotations of a `tools/list` page; returns the message
    /// rewritten without the rejected tools, if any was rejected.
    pub(super) fn check_tools(&mut self, id: &RequestId, result: &RawValue) -> Option<Bytes> {
        let mut result: Value = serde_json::from_str(result.get()).ok()?;
        let tools = result.get_mut("tools")?.as_array_mut()?;
        let mut rejected = false;
        tools.retain(|tool| {
            let name = tool.get("name").and_then(Value::as_str).unwrap_or_default();
            let schema = tool.get("inputSchema").unwrap_or(&Value::Null);
            match tool_headers::param_headers(schema) {
                Ok(params) => {
                    if params.is_empty() {
                        self.tool_headers.remove(name);
                    } else {
                        self.tool_headers.insert(name.to_owned(), params);
                    }
                    true
                }
                Err(reason) => {
                    self.tool_headers.remove(name);
                    self.events.push_back(HttpClientEvent::ToolRejected {
                        tool: name.to_owned(),
                        reason,
                    });
                    rejected = true;
                    false
                }
            }
        });
        if !rejected {
            return None;
        }
        let msg = serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result});
        serde_json::to_vec(&msg).ok().map(Bytes::from)
    }

    /// A POST's response ended.
    pub(super) fn post_ended(
        &mut self,
        now: Instant,
        id: ExchangeId,
        mut ex: Exchange,
        post: Post,
    ) {
        match std::mem::replace(&mut ex.state, BodyState::Head) {
            BodyState::Json { buf, error: None } => {
                if !buf.is_empty() {
                    self.deliver(now, buf.freeze(), post.internal, None);
                }
            }
            BodyState::Json {
                buf,
                error: Some(status),
            } => return self.refused(now, post, status, buf.freeze(), ex.www_authenticate),
            BodyState::Sse { .. } | BodyState::Discard | BodyState::Head => {}
        }
        if post.internal == Internal::Reinit {
            if self.held.is_some() {
                // The new session's answer never came.
                self.reinit_failed();
            }
            return;
        }
        let Some(rpc) = &post.rpc else { return };
        if self.outstanding.get(rpc).is_none_or(|o| o.exchange != id)
            || matches!(self.transport, Transport::LegacySse(_))
        {
            return; // answered, or answers come on the GET stream
        }
        if self.can_resume(&post, &ex.last_event_id) {
            // The server closed the stream early (SEP-1699 polling): resume with GET.
            let ids = vec![rpc.clone()];
            return self.resume(now, ids, &ex);
        }
        if post.modern {
            self.post_failed(&post, HttpError::StreamEnded);
        }
        // Legacy without an event id: the answer may still come on the standalone stream;
        // the session's request timeout bounds the wait.
    }

    pub(super) fn can_resume(&self, post: &Post, last_event_id: &str) -> bool {
        !post.modern
            && post.internal == Internal::No
            && post.rpc.is_some()
            && !last_event_id.is_empty()
            && self.transport == Transport::Streamable
    }

    /// Waits for `ids` on a GET with `Last-Event-ID`, after the stream's `retry`.
    pub(super) fn resume(&mut self, now: Instant, ids: Vec<RequestId>, from: &Exchange) {
        let ids: Vec<RequestId> = ids
            .into_iter()
            .filter(|i| self.outstanding.contains_key(i))
            .collect();
        if ids.is_empty() {
            return;
        }
        let ex = Exchange {
            purpose: Purpose::Resume(ids.clone()),
            method: Method::Get,
            url: self.url.clone(),
            headers: self.stream_headers(Some(&from.last_event_id)),
            body: Bytes::new(),
            failures: 1,
            state: BodyState::Head,
            due: None,
            www_authenticate: None,
            delivered: false,
            last_event_id: from.last_event_id.clone(),
            retry: from.retry,
            active: None,
            spoke: None,
        };
        let delay = self.stream_delay(ex.retry, 1);
        let new = self.schedule(ex, now + delay);
        for i in ids {
            if let Some(o) = self.outstanding.get_mut(&i) {
                o.exchange = new;
            }
        }
    }

    /// Delay before reconnection number `n` (1-based) of a stream without progress: the
    /// server's `retry` first, then doubling up to the cap.
    pub(super) fn stream_delay(&self, retry: Option<Duration>, n: u32) -> Duration {
        let base = retry.unwrap_or(self.config.default_retry);
        if n <= 1 {
            return base.max(Duration::from_millis(1));
        }
        let grown = base
            .max(self.config.backoff_initial)
            .saturating_mul(1u32 << (n - 1).min(20));
        grown.min(self.config.backoff_max.max(base))
    }

    /// Delay after failed attempt number `n` (1-based).
    pub(super) fn backoff(&self, n: u32) -> Duration {
        let first = self.config.backoff_initial.max(Duration::from_millis(1));
        first
            .saturating_mul(1u32 << n.saturating_sub(1).min(20))
            .min(self.config.backoff_max.max(first))
    }

    /// A stream (standalone or resumption) ended or failed: reconnect after its delay, unless
    /// nothing it needs is left or it stayed quiet too often.
    pub(super) fn reconnect(&mut self, now: Instant, mut ex: Exchange, failure: Option<&str>) {
        if self.closed {
            return;
        }
        if let Purpose::Resume(ids) = &mut ex.purpose {
            ids.retain(|i| self.outstanding.contains_key(i));
            if ids.is_empty() {
                return;
            }
        }
        if !ex.delivered {
            ex.failures += 1;
        } else {
            ex.failures = 1;
        }
        if ex.failures > self.config.max_reconnects {
            let error = HttpError::ResumeFailed {
                attempts: ex.failures - 1,
            };
            return self.stream_gave_up(ex, error, failure);
        }
        ex.headers = self.stream_headers(Some(&ex.last_event_id));
        let delay = match failure {
            Some(_) => self
                .stream_delay(ex.retry, ex.failures.max(2))
                .max(self.backoff(ex.failures)),
            None => self.stream_delay(ex.retry, ex.failures),
        };
        let ids = match &ex.purpose {
            Purpose::Resume(ids) => ids.clone(),
            _ => Vec::new(),
        };
        let new = self.schedule(ex, now + delay);
        for i in ids {
            if let Some(o) = self.outstanding.get_mut(&i) {
                o.exchange = new;
            }
        }
    }

    pub(super) fn stream_gave_up(&mut self, ex: Exchange, error: HttpError, failure: Option<&str>) {
        match ex.purpose {
            Purpose::Resume(ids) => {
                for id in ids {
                    self.fail_request(&id, error.clone());
                }
            }
            _ => {
                let error = match failure {
                    Some(reason) if !ex.delivered => HttpError::Unreachable {
                        attempts: ex.failures.saturating_sub(1),
                        reason: reason.to_owned(),
                    },
                    _ => error,
                };
                self.events.push_back(HttpClientEvent::ExchangeFailed {
                    what: "standalone stream".into(),
                    error,
                });
            }
        }
    }

    /// A GET stream was refused with `status`.
    pub(super) fn stream_refused(&mut self, now: Instant, ex: Exchange, status: u16) {
        match &ex.purpose {
            Purpose::SseConnect => self.legacy_sse_failed(),
            _ if status == 404 && self.session_id.is_some() => {
                let ids = match ex.purpose {
                    Purpose::Resume(ids) => ids,
                    _ => Vec::new(),
                };
                for id in ids {
                    self.fail_request(&id, HttpError::SessionExpired);
                }
                // A stream of a session already replaced says nothing about the new one.
                if !self.sent_on_older_session(&ex.headers) {
                    self.session_expired(now, None);
                }
            }
            // 409 on the standalone stream: the server still holds the one it replaces
            // (cut for silence, say) and will notice it gone.
            _ if status >= 500
                || status == 429
                || (status == 409 && matches!(ex.purpose, Purpose::Standalone)) =>
            {
                let reason = format!("HTTP {status}");
                self.reconnect(now, ex, Some(&reason));
            }
            Purpose::Resume(ids) => {
                for id in ids.clone() {
                    self.fail_request(&id, HttpError::StreamEnded);
                }
            }
            // 405 (or any other refusal): the server offers no standalone stream.
            _ => {}
        }
    }

    /// A POST refused with an error status.
    pub(super) fn refused(
        &mut self,
        now: Instant,
        mut post: Post,
        status: u16,
        body: Bytes,
        www_authenticate: Option<String>,
    ) {
        let text = String::from_utf8_lossy(&body);
        let rpc_error = serde_json::from_str::<ErrorEnvelope>(text.trim())
            .ok()
            .map(|e| e.error);
        let modern_error = rpc_error.as_ref().is_some_and(|e| {
            matches!(
                e.code,
                code::HEADER_MISMATCH
                    | code::MISSING_REQUIRED_CLIENT_CAPABILITY
                    | code::UNSUPPORTED_PROTOCOL_VERSION
            ) || (status == 404 && e.code == code::METHOD_NOT_FOUND)
        });
        // A modern server that does not take our version but lists it: send again once.
        if let Some(e) = &rpc_error {
            let lists_ours = e
                .data
                .as_ref()
                .and_then(|d| d.get("supported"))
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|v| v.as_str() == Some(MODERN)));
            if e.code == code::UNSUPPORTED_PROTOCOL_VERSION
                && post.modern
                && lists_ours
                && !post.version_retried
            {
                post.version_retried = true;
                self.send_post(post);
                return;
            }
            // Mcp-Param-* headers that do not match what the server now declares: learn the
            // tool's annotations again, then send the call once more.
            if e.code == code::HEADER_MISMATCH
                && post.modern
                && post.method == method::TOOLS_CALL
                && !post.version_retried
                && self.refresh_tools(post.clone(), rpc_error_bytes_for(&post, e), None)
            {
                return;
            }
        }
        let http_error = match status {
            401 => HttpError::Unauthorized { www_authenticate },
            403 => HttpError::Forbidden { www_authenticate },
            _ => HttpError::Status {
                status,
                message: text.chars().take(ERROR_SNIPPET).collect(),
            },
        };
        if post.internal != Internal::No {
            return self.reinit_failed();
        }
        let is_init = post.method == method::INITIALIZE;
        if is_init
            && matches!(status, 400 | 404 | 405)
            && !modern_error
            && self.config.legacy_sse_fallback
            && self.transport == Transport::Streamable
            && self.init_refusal.is_none()
        {
            self.init_refusal = Some(rpc_error.unwrap_or_else(|| http_error.to_error_object()));
            self.held = Some(Vec::new());
            self.transport = Transport::LegacySse(None);
            let headers = vec![hdr(header::ACCEPT, "text/event-stream".to_owned())];
            let id = self.start(
                Purpose::SseConnect,
                Method::Get,
                self.url.clone(),
                headers,
                Bytes::new(),
            );
            if let Some(rpc) = &post.rpc {
                if let Some(o) = self.outstanding.get_mut(rpc) {
                    o.exchange = id;
                }
            }
            return;
        }
        let _ = now;
        match (rpc_error, &post.rpc) {
            (Some(e), Some(rpc)) if !matches!(status, 401 | 403) => {
                self.deliver(now, rpc_error_bytes(rpc, &e), Internal::No, None);
                self.forget_request(rpc);
            }
            _ => self.post_failed(&post, http_error),
        }
    }

    /// Fails the request a POST carried, or reports the failure when none waits.
    pub(super) fn post_failed(&mut self, post: &Post, error: HttpError) {
        match &post.rpc {
            Some(rpc) => self.fail_request(rpc, error),
            None => self.events.push_back(HttpClientEvent::ExchangeFailed {
                what: post.method.to_string(),
                error,
            }),
        }
    }

    /// Ends request `id` with a JSON-RPC error carrying `error`.
    pub(super) fn fail_request(&mut self, id: &RequestId, error: HttpError) {
        if let Some(refresh) = self.refreshes.remove(id) {
            // The re-read of the tool list failed: the call fails with its own refusal.
            self.outstanding.remove(id);
            self.messages.push_back(refresh.refusal);
            return;
        }
        if !self.outstanding.contains_key(id) {
            return;
        }
        self.forget_request(id);
        let fatal_for_probe = matches!(
            error,
            HttpError::Unreachable { .. }
                | HttpError::Unauthorized { .. }
                | HttpError::Forbidden { .. }
        );
        if !self.connected && (self.probe.as_ref() != Some(id) || fatal_for_probe) {
            self.events
                .push_back(HttpClientEvent::Failed(error.clone()));
        }
        self.messages
            .push_back(rpc_error_bytes(id, &error.to_error_object()));
    }

    pub(super) fn fail_exchange(&mut self, now: Instant, id: ExchangeId, error: HttpError) {
        let _ = now;
        let Some(ex) = self.exchanges.remove(&id) else {
            return;
        };
        self.aborts.push_back(id);
        match ex.purpose {
            Purpose::Post(post) => self.post_failed(&post, error),
            Purpose::Resume(ids) => {
                for i in ids {
                    self.fail_request(&i, error.clone());
                }
            }
            Purpose::SseConnect => self.lost_legacy_stream(error),
            Purpose::Standalone | Purpose::Delete => {
                self.events.push_back(HttpClientEvent::ExchangeFailed {
                    what: "stream".into(),
                    error,
                })
            }
        }
    }

    /// A POST could not connect: try again after backoff, or fail.
    pub(super) fn retry_post(&mut self, now: Instant, mut ex: Exchange, reason: &str) {
        ex.failures += 1;
        let Purpose::Post(post) = &ex.purpose else {
            return;
        };
        if ex.failures >= self.config.max_attempts {
            let error = HttpError::Unreachable {
                attempts: ex.failures,
                reason: reason.to_owned(),
            };
            if post.internal != Internal::No {
                return self.reinit_failed();
            }
            let post = post.clone();
            return self.post_failed(&post, error);
        }
        let rpc = post.rpc.clone();
        let delay = self.backoff(ex.failures);
        let new = self.schedule(ex, now + delay);
        if let Some(o) = rpc.and_then(|r| self.outstanding.get_mut(&r)) {
            o.exchange = new;
        }
    }

    /// Sends an internal `tools/list` (page `cursor`) on behalf of `post`, whose call is sent
    /// again once every page is in. `false` if `post` carries no usable `_meta`.
    pub(super) fn refresh_tools(
        &mut self,
        mut post: Post,
        refusal: Bytes,
        cursor: Option<String>,
    ) -> bool {
        let Some(meta) = serde_json::from_slice::<Value>(&post.frame)
            .ok()
            .and_then(|v| v.get("params")?.get("_meta").cloned())
        else {
            return false;
        };
        post.version_retried = true;
        self.next_id += 1;
        let id = RequestId::String(format!("mcp-http-tools-refresh-{}", self.next_id));
        let mut params = serde_json::json!({"_meta": meta});
        if let Some(c) = cursor {
            params["cursor"] = Value::String(c);
        }
        let frame = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method::TOOLS_LIST, "params": params});
        let Ok(frame) = serde_json::to_vec(&frame) else {
            return false;
        };
        // The refused call waits on the refresh; its entry moves when it is sent again.
        self.refreshes.insert(id.clone(), Refresh { post, refusal });
        self.send_post(Post {
            rpc: Some(id),
            method: Cow::Borrowed(method::TOOLS_LIST),
            frame: Bytes::from(frame),
            modern: true,
            target: None,
            internal: Internal::No,
            version_retried: true,
        });
        true
    }

    /// A refresh page arrived: record the annotations, fetch the next page or resend.
    fn tools_refreshed(&mut self, refresh: Refresh, msg: &RawMessage<'_>) {
        if let Some(id) = response_id(msg) {
            self.outstanding.remove(&id);
        }
        let RawMessage::Response { id, result } = msg else {
            // No fresh list: the call fails with the server's refusal.
            return self.messages.push_back(refresh.refusal);
        };
        let _ = self.check_tools(id, result);
        let next = serde_json::from_str::<Value>(result.get())
            .ok()
            .and_then(|v| v.get("nextCursor")?.as_str().map(str::to_owned));
        match next {
            Some(cursor) => {
                let Refresh { post, refusal } = refresh;
                if !self.refresh_tools(post, refusal.clone(), Some(cursor)) {
                    self.messages.push_back(refusal);
                }
            }
            None => self.send_post(refresh.post),
        }
    }
}
