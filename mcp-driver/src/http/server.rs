//! The streamable HTTP server: hyper moves bytes, [`mcp_proto::http::HttpEndpoint`] decides,
//! and each session is the same [`ServerSession`](mcp_proto::session::ServerSession) + handler pair that serves stdio.
//!
//! Nothing here chooses a status code or applies a limit: the endpoint admits or refuses each
//! request, counts its stream's slot, owns the legacy session table (eviction, idle expiry),
//! and this module carries out what it says. Legacy sessions are driven by one task each for
//! their lifetime. A 2026-07-28 request gets a session of its own; when its handler answers at
//! once (the common case) the whole exchange completes inside the HTTP request's task, with
//! no task spawned.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Buf, Bytes};
use futures_lite::io::{AsyncRead, AsyncWrite};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use mcp_proto::http::{
    session_not_found, Admitted, Body, Chunk, Head, Headers, HttpEndpoint, HttpServerConfig,
    HttpStreams, MemoryEventStore, Method, Response, StreamId, StreamSlot,
};
use mcp_proto::jsonrpc::RawMessage;
use mcp_proto::schema::ProtocolVersion;
use mcp_proto::session::{DormantSession, ServerSession};

use super::io::{HyperIo, RtTimer};
use crate::coalesce::Coalesce;
use crate::pump::{close_on_drop, close_side, lock, Side};
use crate::runtime::{BoxFuture, OsEntropy, Runtime};
use crate::server::{new_shared_with, ServerShared, ServerSide, Service};

/// A session's response streams and the readers waiting on them.
pub(crate) struct HttpLink {
    pub(crate) streams: HttpStreams,
    wakers: HashMap<StreamId, Waker>,
    /// The legacy session's id (for activity bookkeeping).
    session_id: Option<String>,
}

impl HttpLink {
    fn new(streams: HttpStreams, session_id: Option<String>) -> Self {
        HttpLink {
            streams,
            wakers: HashMap::new(),
            session_id,
        }
    }

    fn wake_readers(&mut self) {
        for sid in self.streams.take_woken().collect::<Vec<_>>() {
            if let Some(w) = self.wakers.remove(&sid) {
                w.wake();
            }
        }
    }
}

type SessionRef = Arc<Mutex<ServerShared>>;

/// Everything the server's connections share.
struct App<R: Runtime> {
    rt: R,
    service: Service,
    /// Its configuration, readable without the endpoint's lock.
    config: HttpServerConfig,
    endpoint: Mutex<HttpEndpoint<SessionRef>>,
    /// Shutdown bookkeeping: who waits for it to begin or for the streams to drain, and the
    /// one-shot sessions still running in tasks of their own (to end after the grace).
    shutdown: Mutex<ShutdownState>,
}

#[derive(Default)]
struct ShutdownState {
    /// Woken once shutdown begins (accept loops stop).
    begun: Vec<Waker>,
    /// Woken whenever a stream ends during shutdown.
    drained: Vec<Waker>,
    detached: Vec<std::sync::Weak<Mutex<ServerShared>>>,
}

impl<R: Runtime> App<R> {
    fn endpoint(&self) -> std::sync::MutexGuard<'_, HttpEndpoint<SessionRef>> {
        lock(&self.endpoint)
    }
}

/// A streamable HTTP server: a [`Service`] plus its HTTP configuration. Cheap to clone; give
/// every accepted connection to [`HttpService::serve_connection`].
pub struct HttpService<R: Runtime> {
    app: Arc<App<R>>,
}

impl<R: Runtime> Clone for HttpService<R> {
    fn clone(&self) -> Self {
        HttpService {
            app: self.app.clone(),
        }
    }
}

impl<R: Runtime> std::fmt::Debug for HttpService<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpService")
            .field("config", &self.app.config)
            .field("endpoint", &*self.app.endpoint())
            .finish()
    }
}

impl<R: Runtime> HttpService<R> {
    /// Serves `service` with `config`. Spawns the task that expires idle sessions.
    pub fn new(rt: R, service: Service, config: HttpServerConfig) -> Self {
        let app = Arc::new(App {
            rt: rt.clone(),
            service,
            endpoint: Mutex::new(HttpEndpoint::new(config.clone(), Box::new(OsEntropy))),
            config,
            shutdown: Mutex::default(),
        });
        rt.spawn(Box::pin(expire_sessions(Arc::downgrade(&app))));
        HttpService { app }
    }

    /// Legacy sessions alive now.
    pub fn session_count(&self) -> usize {
        self.app.endpoint().session_count()
    }

    /// Response streams open now (every session, both eras), as the limits count them.
    pub fn open_streams(&self) -> usize {
        self.app.endpoint().open_streams()
    }

    /// Whether legacy session `id` has sent nothing since `initialize` (such sessions are
    /// evicted first and expire sooner).
    pub fn is_on_probation(&self, id: &str) -> bool {
        self.app.endpoint().is_on_probation(id)
    }

    /// Ends the sessions idle past the limit at the runtime's current time; returns how many.
    /// A background task already does this at each deadline.
    pub fn expire_idle(&self) -> usize {
        expire_now(&self.app)
    }

    /// Shuts down gracefully: requests arriving from now on get 503 with `Connection: close`,
    /// accept loops serving this service stop ([`Self::draining`]), and requests in flight
    /// may finish for up to `grace`. Then every session still open is ended: its requests
    /// are cancelled and their streams end. Resolves once that is done.
    pub async fn shutdown(&self, grace: std::time::Duration) {
        self.app.endpoint().begin_shutdown();
        for w in std::mem::take(&mut lock(&self.app.shutdown).begun) {
            w.wake();
        }
        let deadline = self.app.rt.now() + grace;
        let drained = std::future::poll_fn(|cx| {
            if self.app.endpoint().open_streams() == 0 {
                return Poll::Ready(());
            }
            lock(&self.app.shutdown).drained.push(cx.waker().clone());
            // A stream may have ended between the check and the registration.
            if self.app.endpoint().open_streams() == 0 {
                return Poll::Ready(());
            }
            Poll::Pending
        });
        futures_lite::future::or(drained, self.app.rt.sleep_until(deadline)).await;
        self.close_sessions();
        let detached = std::mem::take(&mut lock(&self.app.shutdown).detached);
        for shared in detached.iter().filter_map(std::sync::Weak::upgrade) {
            end_session(&self.app.rt, &shared, "server shutting down");
        }
    }

    /// Resolves once [`Self::shutdown`] has begun (an accept loop's cue to stop).
    pub fn draining(&self) -> impl Future<Output = ()> + Send + 'static {
        let app = self.app.clone();
        std::future::poll_fn(move |cx| {
            if app.endpoint().is_draining() {
                return Poll::Ready(());
            }
            lock(&app.shutdown).begun.push(cx.waker().clone());
            if app.endpoint().is_draining() {
                return Poll::Ready(());
            }
            Poll::Pending
        })
    }

    /// Ends every legacy session (answering what is in flight).
    pub fn close_sessions(&self) {
        let all = self.app.endpoint().drain_sessions();
        for (_, shared) in all {
            end_session(&self.app.rt, &shared, "server shutting down");
        }
    }

    /// Serves one accepted connection until the client closes it: HTTP/1.1, or HTTP/2 when
    /// the client opens with the HTTP/2 preface (prior knowledge, as behind a TLS terminator
    /// that negotiated `h2`).
    pub fn serve_connection<T>(&self, io: T) -> impl Future<Output = ()> + Send + 'static
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = self.app.clone();
        let svc = hyper::service::service_fn(move |req| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(handle(app, req).await) }
        });
        let rt = self.app.rt.clone();
        async move {
            #[cfg(feature = "http2")]
            {
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(super::io::RtExecutor(rt.clone()));
                builder.http2().timer(RtTimer(rt.clone()));
                builder
                    .http1()
                    .timer(RtTimer(rt))
                    .header_read_timeout(std::time::Duration::from_secs(30));
                drive_connection(builder.serve_connection(HyperIo::new(io), svc)).await;
            }
            #[cfg(not(feature = "http2"))]
            {
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(RtTimer(rt))
                    .header_read_timeout(std::time::Duration::from_secs(30))
                    .serve_connection(HyperIo::new(io), svc);
                drive_connection(conn).await;
            }
        }
    }
}

/// Runs a hyper connection to its end.
async fn drive_connection<F: Future>(conn: F) {
    // hyper's connection wakes its own task on every request (the request body's channel
    // signals readiness to the dispatcher in the same task). Answered by the runtime, each
    // such wake requeues the task and may hand it to another worker; polled again at once
    // here instead, the request stays on one thread.
    let wake = Coalesce::new();
    let mut conn = std::pin::pin!(conn);
    // A client that vanishes mid-request is routine; nothing to report.
    let _ = std::future::poll_fn(|cx| wake.poll_with(cx, |cx| conn.as_mut().poll(cx))).await;
}

/// Mounts the MCP endpoint in any tower stack (`axum::Router::nest_service("/mcp", http)`,
/// hyper's `service_fn`, tower middleware), over any request body. The configured `path` is
/// matched against the request's path as the service sees it: set it to `/` when a router
/// strips its prefix before calling the service (axum's `nest_service` does).
impl<R: Runtime, B> tower_service::Service<hyper::Request<B>> for HttpService<R>
where
    B: HttpBody + Send + 'static,
    B::Data: Send,
{
    type Response = hyper::Response<ResponseBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: hyper::Request<B>) -> Self::Future {
        let app = self.app.clone();
        let (parts, body) = req.into_parts();
        let req = hyper::Request::from_parts(parts, Box::pin(body));
        Box::pin(async move { Ok(handle(app, req).await) })
    }
}

/// Ends sessions idle past the configured time. Holds the app weakly so it ends with it.
async fn expire_sessions<R: Runtime>(app: std::sync::Weak<App<R>>) {
    loop {
        let (rt, next) = {
            let Some(app) = app.upgrade() else { return };
            expire_now(&app);
            let now = app.rt.now();
            let idle = app.config.session_idle_timeout;
            let next = app.endpoint().poll_timeout().unwrap_or(now + idle);
            (app.rt.clone(), next)
        };
        rt.sleep_until(next).await;
    }
}

fn expire_now<R: Runtime>(app: &App<R>) -> usize {
    let expired = app.endpoint().handle_timeout(app.rt.now());
    for (_, shared) in &expired {
        end_session(&app.rt, shared, "session expired");
    }
    expired.len()
}

/// Closes a legacy session and wakes its task, which routes the last frames and ends every
/// stream.
fn end_session<R: Runtime>(rt: &R, shared: &SessionRef, reason: &str) {
    close_side::<R, ServerSide>(shared, rt, reason);
    lock(shared).wake();
}

/// Header access for the core, straight from hyper's map.
struct HyperHeaders<'a> {
    map: &'a HeaderMap,
    /// The request target's authority (HTTP/2's `:authority`), standing in for `Host`.
    authority: Option<&'a str>,
}

impl Headers for HyperHeaders<'_> {
    fn get(&self, name: &str) -> Option<&[u8]> {
        match self.map.get(name) {
            Some(v) => Some(v.as_bytes()),
            None if name == mcp_proto::http::header::HOST => self.authority.map(str::as_bytes),
            None => None,
        }
    }
}

/// A response body: complete, or an SSE stream pulled from a session.
pub struct ResponseBody {
    inner: BodyKind,
}

enum BodyKind {
    Full(Option<Bytes>),
    Stream(StreamReader),
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").finish_non_exhaustive()
    }
}

/// Reads one SSE stream of a session; dropping it early detaches (legacy: resumable later;
/// 2026-07-28: cancels the request).
struct StreamReader {
    shared: SessionRef,
    sid: StreamId,
    generation: u32,
    done: bool,
    now: Arc<dyn Fn() -> Instant + Send + Sync>,
    /// Gives the stream's slot back to the endpoint when the stream ends.
    on_end: Option<Box<dyn FnOnce() + Send>>,
}

impl StreamReader {
    fn finish(&mut self) {
        self.done = true;
        self.release();
    }

    fn release(&mut self) {
        if let Some(f) = self.on_end.take() {
            f();
        }
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        if !self.done {
            let now = (self.now)();
            let mut g = lock(&self.shared);
            let cancel = match g.side.http.as_mut() {
                Some(link) => {
                    if link.streams.generation(self.sid) == self.generation {
                        link.wakers.remove(&self.sid);
                    }
                    link.streams.detach(self.sid, self.generation)
                }
                None => Vec::new(),
            };
            for id in cancel {
                g.session.abandon(now, &id);
            }
            g.wake();
        }
        self.release();
    }
}

impl HttpBody for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().inner {
            BodyKind::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            BodyKind::Stream(r) => {
                if r.done {
                    return Poll::Ready(None);
                }
                let mut g = lock(&r.shared);
                let Some(link) = g.side.http.as_mut() else {
                    drop(g);
                    r.finish();
                    return Poll::Ready(None);
                };
                match link.streams.poll_chunk(r.sid, r.generation) {
                    Chunk::Data(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
                    Chunk::Pending => {
                        link.wakers.insert(r.sid, cx.waker().clone());
                        // The session task may now have a deadline (keep-alives) to arm.
                        g.wake();
                        Poll::Pending
                    }
                    Chunk::End => {
                        if link.streams.generation(r.sid) == r.generation {
                            link.wakers.remove(&r.sid);
                        }
                        drop(g);
                        r.finish();
                        Poll::Ready(None)
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            BodyKind::Full(b) => b.is_none(),
            BodyKind::Stream(r) => r.done,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            BodyKind::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            BodyKind::Full(None) => SizeHint::with_exact(0),
            BodyKind::Stream(_) => SizeHint::default(),
        }
    }
}

fn full(b: Bytes) -> ResponseBody {
    ResponseBody {
        inner: BodyKind::Full(Some(b)),
    }
}

fn to_hyper(r: Response, stream: Option<StreamReader>) -> hyper::Response<ResponseBody> {
    let body = match (r.body, stream) {
        (Body::Stream(_), Some(reader)) => ResponseBody {
            inner: BodyKind::Stream(reader),
        },
        (Body::Full(b), _) => full(b),
        _ => ResponseBody {
            inner: BodyKind::Full(None),
        },
    };
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in r.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().append(HeaderName::from_static(k), v);
        }
    }
    resp
}

fn sse_response(sid: StreamId) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("content-type", "text/event-stream".to_owned()),
            ("cache-control", "no-cache".to_owned()),
            ("x-accel-buffering", "no".to_owned()),
        ],
        body: Body::Stream(sid),
    }
}

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    TooSlow,
    Broken,
}

/// Reads the request body, refusing more than `max` bytes.
async fn read_body<B: HttpBody + Unpin>(mut body: B, max: usize) -> Result<Bytes, BodyError> {
    let mut buf = bytes::BytesMut::new();
    loop {
        let frame = futures_lite::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Ok(buf.freeze()),
            Some(Err(_)) => return Err(BodyError::Broken),
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    if buf.len() + data.remaining() > max {
                        return Err(BodyError::TooLarge);
                    }
                    bytes::BufMut::put(&mut buf, data);
                }
                // With a Content-Length, the last byte is the end: waiting for hyper to say
                // so as well would park this task until the connection task, which is this
                // same task, wakes it (a self-wake that runtimes answer by requeueing the
                // task where another worker may steal it).
                if body.is_end_stream() {
                    return Ok(buf.freeze());
                }
            }
        }
    }
}

/// [`read_body`] within the endpoint's body deadline.
async fn read_body_in_time<R: Runtime, B: HttpBody + Unpin>(
    app: &App<R>,
    body: B,
) -> Result<Bytes, BodyError> {
    let deadline = app.rt.now() + app.config.body_timeout;
    let sleep = app.rt.sleep_until(deadline);
    futures_lite::future::or(read_body(body, app.config.max_body), async move {
        sleep.await;
        Err(BodyError::TooSlow)
    })
    .await
}

/// Gives `slot` back to the endpoint once its stream ends.
fn releaser<R: Runtime>(app: &Arc<App<R>>, slot: StreamSlot) -> Box<dyn FnOnce() + Send> {
    let app = Arc::downgrade(app);
    Box::new(move || {
        if let Some(app) = app.upgrade() {
            let now = app.rt.now();
            let draining = {
                let mut endpoint = app.endpoint();
                endpoint.release(now, slot);
                endpoint.is_draining()
            };
            if draining {
                for w in std::mem::take(&mut lock(&app.shutdown).drained) {
                    w.wake();
                }
            }
        }
    })
}

fn release<R: Runtime>(app: &Arc<App<R>>, slot: Option<StreamSlot>) {
    if let Some(slot) = slot {
        releaser(app, slot)();
    }
}

async fn handle<R: Runtime, B>(
    app: Arc<App<R>>,
    req: hyper::Request<B>,
) -> hyper::Response<ResponseBody>
where
    B: HttpBody + Unpin,
{
    let (parts, body) = req.into_parts();
    let method = Method::parse(parts.method.as_str());
    // HTTP/2 carries the host as `:authority`, which hyper keeps in the URI.
    let headers = HyperHeaders {
        map: &parts.headers,
        authority: parts.uri.authority().map(|a| a.as_str()),
    };
    let path = parts.uri.path();
    let length = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Err(r) = app.endpoint().check_head(method, path, &headers, length) {
        return to_hyper(r, None);
    }
    let body = if method == Method::Post {
        match read_body_in_time(&app, body).await {
            Ok(b) => b,
            Err(BodyError::TooLarge) => return to_hyper(app.endpoint().too_large(), None),
            Err(BodyError::TooSlow) => return to_hyper(app.endpoint().too_slow(), None),
            Err(BodyError::Broken) => return to_hyper(Response::status(400), None),
        }
    } else {
        Bytes::new()
    };
    let now = app.rt.now();
    let mut admitted = app.endpoint().handle_request(now, method, &headers, &body);
    if let Admitted::Revive { session, record } = admitted {
        // The first message since `initialize` rebuilds the dormant session; then the
        // endpoint routes the request to it like any other.
        revive(&app, &session, record);
        admitted = app
            .endpoint()
            .handle_request(app.rt.now(), method, &headers, &body);
    }
    match admitted {
        Admitted::Respond(r) => to_hyper(r, None),
        Admitted::OneShot {
            modern,
            assume,
            id,
            listen,
            tool,
            msg,
            slot,
        } => {
            if let Some(params) = tool.and_then(|t| app.service.handler.header_params(&t)) {
                if let Err(r) = check_params(id.as_ref(), &headers, &params, &body) {
                    release(&app, slot);
                    return to_hyper(r, None);
                }
            }
            let cfg = &app.config;
            let streams = if modern {
                HttpStreams::modern(cfg.streams.clone())
            } else {
                HttpStreams::stateless(cfg.streams.clone(), cfg.json_response)
            };
            let input = Input {
                body: &body,
                msg,
                headers: &parts.headers,
            };
            one_shot(&app, streams, assume, id, listen, input, slot).await
        }
        Admitted::Initialize { id, msg, slot } => {
            let input = Input {
                body: &body,
                msg: Some(msg),
                headers: &parts.headers,
            };
            initialize(&app, id, input, slot).await
        }
        Admitted::Legacy {
            value,
            id,
            msg,
            slot,
            ..
        } => {
            let input = Input {
                body: &body,
                msg,
                headers: &parts.headers,
            };
            legacy_post(&app, value, id, input, slot).await
        }
        Admitted::Batch {
            value, batch, slot, ..
        } => legacy_batch(&app, value, batch, slot).await,
        Admitted::Listen {
            value,
            last_event_id,
            slot,
            ..
        } => listen(&app, value, last_event_id.as_deref(), slot),
        Admitted::Ended { value } => {
            end_session(&app.rt, &value, "session deleted by client");
            to_hyper(Response::status(200), None)
        }
        // Revived just above: the session is live now, or was removed meanwhile.
        Admitted::Revive { .. } => to_hyper(session_not_found(), None),
    }
}

/// Rebuilds dormant session `id` from its record and registers it with the endpoint; a
/// request that lost the race to another reviving the same session drops its copy unseen.
fn revive<R: Runtime>(app: &Arc<App<R>>, id: &str, record: DormantSession) {
    let cfg = &app.config;
    let store = Box::new(MemoryEventStore::new(cfg.streams.max_queued));
    let mut streams = HttpStreams::legacy(cfg.streams.clone(), store, false, cfg.json_response);
    streams.negotiated(record.version());
    let (_handle, shared) = new_shared_with(&app.rt, &app.service, None, false);
    {
        let mut g = lock(&shared);
        let store = g.side.tasks.session_store();
        let entropy = Box::new(OsEntropy);
        let config = app.service.config.clone();
        let now = app.rt.now();
        g.session = ServerSession::revive(config, now, app.rt.wall(), entropy, record);
        g.session.set_task_store(store);
        g.side.http = Some(HttpLink::new(streams, Some(id.to_owned())));
    }
    if app.endpoint().revive(id, shared.clone()).is_err() {
        return;
    }
    ServerSide::announce(&app.service, &shared);
    spawn_driver(app, &shared, Vec::new());
}

/// The answer of a handshake that left nothing behind but itself, with the session as a
/// dormant record: no handler runs, nothing is queued for the client.
fn dormant_answer(g: &mut ServerShared, sid: StreamId) -> Option<(DormantSession, u16, Bytes)> {
    if g.side.running() != 0 {
        return None;
    }
    let record = g.session.to_dormant()?;
    let link = g.side.http.as_mut()?;
    if !link.streams.holds_only(sid) {
        return None;
    }
    match link.streams.poll_head(sid)? {
        Head::Json { status, body } => Some((record, status, body)),
        Head::Sse => None,
    }
}

/// A request's body, with the message the endpoint already parsed it into (none for a
/// batch): the session takes the message rather than parsing the body a second time.
struct Input<'b> {
    body: &'b [u8],
    msg: Option<RawMessage<'b>>,
    headers: &'b HeaderMap,
}

impl Input<'_> {
    /// Feeds the message to the session; a request's HTTP headers go with it, for its
    /// handler's [`RequestCx::http_headers`](crate::RequestCx::http_headers).
    fn feed(self, g: &mut ServerShared, now: Instant) {
        match self.msg {
            Some(msg) => {
                if let RawMessage::Request { id, .. } = &msg {
                    let headers = Arc::new(self.headers.clone());
                    g.side.http_headers.insert(id.clone(), headers);
                }
                g.session.handle_parsed(now, msg)
            }
            None => g.session.handle_message(now, self.body),
        }
    }
}

/// Checks `Mcp-Param-*` headers against the call's arguments.
fn check_params(
    id: Option<&mcp_proto::jsonrpc::RequestId>,
    headers: &HyperHeaders<'_>,
    params: &[mcp_proto::http::HeaderParam],
    body: &[u8],
) -> Result<(), Response> {
    #[derive(serde::Deserialize)]
    struct Call {
        params: Option<Args>,
    }
    #[derive(serde::Deserialize)]
    struct Args {
        arguments: Option<serde_json::Value>,
    }
    if params.is_empty() {
        return Ok(());
    }
    let args = serde_json::from_slice::<Call>(body)
        .ok()
        .and_then(|c| c.params)
        .and_then(|p| p.arguments);
    mcp_proto::http::check_param_headers(id, headers, params, args.as_ref())
}

/// A message served on a session of its own (2026-07-28, or a stateless legacy server).
async fn one_shot<R: Runtime>(
    app: &Arc<App<R>>,
    streams: HttpStreams,
    assume: Option<ProtocolVersion>,
    id: Option<mcp_proto::jsonrpc::RequestId>,
    listen: bool,
    input: Input<'_>,
    slot: Option<StreamSlot>,
) -> hyper::Response<ResponseBody> {
    let link = HttpLink::new(streams, None);
    let (_handle, shared) = new_shared_with(&app.rt, &app.service, Some(link), listen);
    let now = app.rt.now();
    let sid = {
        let mut g = lock(&shared);
        if let Some(v) = assume {
            g.session.assume_initialized(v);
        }
        let sid = id.map(|id| http_link(&mut g).streams.open_request(now, id));
        input.feed(&mut g, now);
        sid
    };
    let (Some(sid), Some(slot)) = (sid, slot) else {
        // A notification (or a response): nothing comes back.
        turn_inline(app, &shared).await;
        close_side::<R, ServerSide>(&shared, &app.rt, "exchange over");
        return to_hyper(Response::status(202), None);
    };
    let pending = turn_inline(app, &shared).await;
    if let Some(Head::Json { status, body }) = take_head(&shared, sid) {
        if pending.is_empty() && lock(&shared).side.running() == 0 {
            close_side::<R, ServerSide>(&shared, &app.rt, "exchange over");
        } else {
            spawn_driver(app, &shared, pending);
        }
        release(app, Some(slot));
        return to_hyper(Response::json(status, body), None);
    }
    spawn_driver(app, &shared, pending);
    respond_when_ready(app, shared, sid, None, releaser(app, slot)).await
}

fn http_link(g: &mut ServerShared) -> &mut HttpLink {
    g.side
        .http
        .get_or_insert_with(|| HttpLink::new(HttpStreams::modern(Default::default()), None))
}

async fn initialize<R: Runtime>(
    app: &Arc<App<R>>,
    id: mcp_proto::jsonrpc::RequestId,
    input: Input<'_>,
    mut slot: StreamSlot,
) -> hyper::Response<ResponseBody> {
    let cfg = &app.config;
    let store = Box::new(MemoryEventStore::new(cfg.streams.max_queued));
    let streams = HttpStreams::legacy(cfg.streams.clone(), store, false, cfg.json_response);
    let (_handle, shared) = new_shared_with(&app.rt, &app.service, None, false);
    let now = app.rt.now();
    let (sid, accepted, dormant) = {
        let mut g = lock(&shared);
        let mut link = HttpLink::new(streams, None);
        let sid = link.streams.open_request(now, id);
        g.side.http = Some(link);
        input.feed(&mut g, now);
        let version = g.session.legacy_version();
        if let Some(v) = version {
            http_link(&mut g).streams.negotiated(v);
        }
        let dormant = version.and_then(|_| {
            route_out(&app.rt, &mut g);
            dormant_answer(&mut g, sid)
        });
        (sid, version.is_some(), dormant)
    };
    if let Some((record, status, body)) = dormant {
        // Most sessions a flood opens never come back: until this one does, the endpoint
        // keeps a small record and nothing runs for it.
        let response = match app.endpoint().open_dormant(now, record, &mut slot) {
            Ok(opened) => {
                if let Some((_, evicted)) = &opened.evicted {
                    end_session(&app.rt, evicted, "evicted: the session table is full");
                }
                Response::json(status, body).with_header("mcp-session-id", opened.id)
            }
            Err(refusal) => refusal,
        };
        release(app, Some(slot));
        return to_hyper(response, None);
    }
    let opened = if accepted {
        app.endpoint().open_session(now, shared.clone(), &mut slot)
    } else {
        Err(Response::status(400))
    };
    let opened = match opened {
        Ok(opened) => opened,
        Err(refusal) => {
            // A refused handshake (bad params, no common version) or a table of busy
            // sessions leaves no session behind.
            let _ = turn_inline(app, &shared).await;
            let head = take_head(&shared, sid);
            end_session(&app.rt, &shared, "handshake refused");
            release(app, Some(slot));
            return match head {
                Some(Head::Json { status, body }) if !accepted => {
                    to_hyper(Response::json(status, body), None)
                }
                _ => to_hyper(refusal, None),
            };
        }
    };
    if let Some((_, evicted)) = &opened.evicted {
        end_session(&app.rt, evicted, "evicted: the session table is full");
    }
    http_link(&mut lock(&shared)).session_id = Some(opened.id.clone());
    // Now the session can be announced: it has its streams and an id.
    ServerSide::announce(&app.service, &shared);
    let pending = turn_inline(app, &shared).await;
    spawn_driver(app, &shared, pending);
    respond_when_ready(app, shared, sid, Some(opened.id), releaser(app, slot)).await
}

async fn legacy_post<R: Runtime>(
    app: &Arc<App<R>>,
    shared: SessionRef,
    id: Option<mcp_proto::jsonrpc::RequestId>,
    input: Input<'_>,
    slot: Option<StreamSlot>,
) -> hyper::Response<ResponseBody> {
    let now = app.rt.now();
    let sid = {
        let mut g = lock(&shared);
        if g.closed {
            drop(g);
            release(app, slot);
            return to_hyper(session_not_found(), None);
        }
        let link = http_link(&mut g);
        let sid = match id.map(|id| link.streams.admit_request(now, id)).transpose() {
            Ok(sid) => sid,
            Err(refusal) => {
                drop(g);
                release(app, slot);
                return to_hyper(refusal, None);
            }
        };
        input.feed(&mut g, now);
        sid
    };
    let pending = turn_inline(app, &shared).await;
    if !pending.is_empty() {
        pending.into_iter().for_each(|t| app.rt.spawn(t));
    }
    lock(&shared).wake();
    let (Some(sid), Some(slot)) = (sid, slot) else {
        return to_hyper(Response::status(202), None);
    };
    respond_when_ready(app, shared, sid, None, releaser(app, slot)).await
}

/// A 2025-03-26 batch: one SSE stream carries the answer of each request in it.
async fn legacy_batch<R: Runtime>(
    app: &Arc<App<R>>,
    shared: SessionRef,
    batch: mcp_proto::jsonrpc::RawBatch<'_>,
    slot: Option<StreamSlot>,
) -> hyper::Response<ResponseBody> {
    let now = app.rt.now();
    let sid = {
        let mut g = lock(&shared);
        if g.closed {
            drop(g);
            release(app, slot);
            return to_hyper(session_not_found(), None);
        }
        let version = g.session.legacy_version();
        let admitted = http_link(&mut g).streams.admit_batch(now, version, &batch);
        match admitted {
            Ok(sid) => {
                g.session.handle_batch(now, batch);
                sid
            }
            Err(refusal) => {
                drop(g);
                release(app, slot);
                return to_hyper(refusal, None);
            }
        }
    };
    let pending = turn_inline(app, &shared).await;
    pending.into_iter().for_each(|t| app.rt.spawn(t));
    lock(&shared).wake();
    match (sid, slot) {
        (Some(sid), Some(slot)) => {
            let reader = reader(app, shared, sid, releaser(app, slot));
            to_hyper(sse_response(sid), Some(reader))
        }
        (_, slot) => {
            release(app, slot);
            to_hyper(Response::status(202), None)
        }
    }
}

fn listen<R: Runtime>(
    app: &Arc<App<R>>,
    shared: SessionRef,
    last_event_id: Option<&str>,
    slot: StreamSlot,
) -> hyper::Response<ResponseBody> {
    let now = app.rt.now();
    let sid = {
        let mut g = lock(&shared);
        let link = http_link(&mut g);
        let sid = link.streams.admit_listen(now, last_event_id);
        // A reader displaced by the resumption must look again (and find its end).
        if let Some(w) = sid.as_ref().ok().and_then(|sid| link.wakers.remove(sid)) {
            w.wake();
        }
        g.wake();
        sid
    };
    match sid {
        Ok(sid) => {
            let reader = reader(app, shared, sid, releaser(app, slot));
            to_hyper(sse_response(sid), Some(reader))
        }
        Err(refusal) => {
            release(app, Some(slot));
            to_hyper(refusal, None)
        }
    }
}

fn reader<R: Runtime>(
    app: &Arc<App<R>>,
    shared: SessionRef,
    sid: StreamId,
    on_end: Box<dyn FnOnce() + Send>,
) -> StreamReader {
    let clock = app.rt.clone();
    let generation = lock(&shared)
        .side
        .http
        .as_ref()
        .map_or(0, |l| l.streams.generation(sid));
    StreamReader {
        shared,
        sid,
        generation,
        done: false,
        now: Arc::new(move || clock.now()),
        on_end: Some(on_end),
    }
}

fn take_head(shared: &SessionRef, sid: StreamId) -> Option<Head> {
    let mut g = lock(shared);
    g.side.http.as_mut()?.streams.poll_head(sid)
}

/// Waits until the stream's head is decided, then answers with JSON or SSE.
async fn respond_when_ready<R: Runtime>(
    app: &Arc<App<R>>,
    shared: SessionRef,
    sid: StreamId,
    session_id: Option<String>,
    on_end: Box<dyn FnOnce() + Send>,
) -> hyper::Response<ResponseBody> {
    // If the client goes away before the head, the reader's drop detaches the stream.
    let mut rd = reader(app, shared, sid, on_end);
    let head = futures_lite::future::poll_fn(|cx| {
        let mut g = lock(&rd.shared);
        let Some(link) = g.side.http.as_mut() else {
            return Poll::Ready(None);
        };
        match link.streams.poll_head(sid) {
            Some(h) => Poll::Ready(Some(h)),
            None => {
                link.wakers.insert(sid, cx.waker().clone());
                Poll::Pending
            }
        }
    })
    .await;
    let mut response = match head {
        Some(Head::Json { status, body }) => {
            rd.finish();
            Response::json(status, body)
        }
        Some(Head::Sse) => sse_response(sid),
        None => {
            rd.finish();
            Response::status(500)
        }
    };
    if let Some(id) = session_id {
        response = response.with_header("mcp-session-id", id);
    }
    let stream = matches!(response.body, Body::Stream(_)).then_some(rd);
    to_hyper(response, stream)
}

/// One turn of the session inside the request's task: events to handlers (each polled once
/// right here), frames to streams. Returns handler tasks that did not finish.
async fn turn_inline<R: Runtime>(
    app: &Arc<App<R>>,
    shared: &SessionRef,
) -> Vec<BoxFuture<'static, ()>> {
    futures_lite::future::poll_fn(|cx| Poll::Ready(turn(&app.rt, shared, cx))).await
}

/// Runs one turn; handler tasks that answered at once are done, the rest come back.
fn turn<R: Runtime>(
    rt: &R,
    shared: &SessionRef,
    cx: &mut Context<'_>,
) -> Vec<BoxFuture<'static, ()>> {
    let mut pending = Vec::new();
    loop {
        let mut tasks = Vec::new();
        {
            let mut g = lock(shared);
            <ServerSide as Side<R>>::on_events(&mut g, shared, rt, &mut tasks);
            // Every request fed so far reached its handler (or was refused without one):
            // headers left behind belong to nobody.
            g.side.http_headers.clear();
            route_out(rt, &mut g);
        }
        if tasks.is_empty() {
            return pending;
        }
        let mut progressed = false;
        for mut t in tasks {
            if t.as_mut().poll(cx).is_ready() {
                progressed = true;
            } else {
                pending.push(t);
            }
        }
        if !progressed {
            let mut g = lock(shared);
            route_out(rt, &mut g);
            return pending;
        }
    }
}

/// Moves the session's frames onto their streams and wakes readers.
fn route_out<R: Runtime>(rt: &R, g: &mut ServerShared) {
    let now = rt.now();
    let Some(mut link) = g.side.http.take() else {
        return;
    };
    while let Some(t) = g.session.poll_transmit() {
        link.streams.route(now, t);
    }
    link.wake_readers();
    g.side.http = Some(link);
}

fn spawn_driver<R: Runtime>(
    app: &Arc<App<R>>,
    shared: &SessionRef,
    pending: Vec<BoxFuture<'static, ()>>,
) {
    for t in pending {
        app.rt.spawn(t);
    }
    let one_shot = lock(shared)
        .side
        .http
        .as_ref()
        .is_some_and(|l| l.session_id.is_none());
    if one_shot {
        let mut g = lock(&app.shutdown);
        g.detached.retain(|w| w.strong_count() > 0);
        g.detached.push(Arc::downgrade(shared));
    }
    let driver = SessionDriver {
        rt: app.rt.clone(),
        shared: shared.clone(),
        sleep: None,
    };
    app.rt.spawn(Box::pin(driver));
}

/// The task of one session: timers, handler events, routing. Ends with the session (legacy:
/// deleted or expired; one-shot: its stream ended and no handler runs).
struct SessionDriver<R: Runtime> {
    rt: R,
    shared: SessionRef,
    sleep: Option<(Instant, BoxFuture<'static, ()>)>,
}

impl<R: Runtime> Unpin for SessionDriver<R> {}

/// However the driver ends (finished, dropped, or unwound by a panic), its session is
/// closed and its streams end: no client waits on a session nothing drives.
impl<R: Runtime> Drop for SessionDriver<R> {
    fn drop(&mut self) {
        close_on_drop::<R, ServerSide>(&self.shared, &self.rt, "session driver stopped");
        self.end_streams();
    }
}

impl<R: Runtime> SessionDriver<R> {
    /// Routes the session's last frames, then ends every stream and wakes its reader.
    fn end_streams(&self) {
        let mut g = lock(&self.shared);
        route_out(&self.rt, &mut g);
        if let Some(link) = g.side.http.as_mut() {
            link.streams.close();
            link.wake_readers();
        }
    }
}

impl<R: Runtime> Future for SessionDriver<R> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            {
                let now = this.rt.now();
                let mut g = lock(&this.shared);
                if g.session.poll_timeout().is_some_and(|t| t <= now) {
                    g.session.handle_timeout(now);
                }
                if let Some(link) = g.side.http.as_mut() {
                    if link.streams.poll_timeout().is_some_and(|t| t <= now) {
                        link.streams.handle_timeout(now);
                    }
                }
                g.set_driver(cx.waker());
            }
            let pending = turn(&this.rt, &this.shared, cx);
            for t in pending {
                this.rt.spawn(t);
            }
            let (deadline, over) = {
                let mut g = lock(&this.shared);
                route_out(&this.rt, &mut g);
                let one_shot = g.side.http.as_ref().is_some_and(|l| l.session_id.is_none());
                let idle = g.side.http.as_ref().is_none_or(|l| l.streams.is_empty())
                    && g.side.running() == 0;
                if one_shot && idle && !g.closed {
                    drop(g);
                    close_side::<R, ServerSide>(&this.shared, &this.rt, "exchange over");
                    g = lock(&this.shared);
                }
                let t1 = g.session.poll_timeout();
                let t2 = g.side.http.as_ref().and_then(|l| l.streams.poll_timeout());
                let deadline = match (t1, t2) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                (deadline, g.closed)
            };
            if over {
                this.end_streams();
                return Poll::Ready(());
            }
            match deadline {
                Some(d) => {
                    // Re-armed only for an earlier deadline (see the client's driver).
                    if this.sleep.as_ref().is_none_or(|(at, _)| d < *at) {
                        this.sleep = Some((d, this.rt.sleep_until(d)));
                    }
                    let fired = this
                        .sleep
                        .as_mut()
                        .is_some_and(|(_, s)| s.as_mut().poll(cx).is_ready());
                    if fired {
                        this.sleep = None;
                        continue;
                    }
                }
                None => this.sleep = None,
            }
            return Poll::Pending;
        }
    }
}
