//! The streamable HTTP server: hyper moves bytes, [`mcp_proto::http::HttpEndpoint`] decides,
//! and each session is the same [`ServerSession`] + handler
//! pair that serves stdio, driven by the same connection engine.
//!
//! Nothing here chooses a status code or applies a limit: the endpoint admits or refuses each
//! request, counts its stream's slot, owns the legacy session table (eviction, idle expiry),
//! and this module carries out what it says. A session's engine routes its frames onto its
//! response streams ([`HttpStreams`]) instead of writing them to a socket. The request that
//! fed a message runs the engine's round itself when it can (a legacy session's engine is
//! spawned for its lifetime; a 2026-07-28 request gets a session of its own): when the
//! handler answers at once (the common case) the whole exchange completes inside the HTTP
//! request's task, with no task spawned.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Buf, Bytes};
use futures_lite::io::{AsyncRead, AsyncWrite};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use mcp_proto::auth::{Call, Principal};
use mcp_proto::http::{
    session_not_found, Admitted, Body, Chunk, Head, Headers, HttpEndpoint, HttpServerConfig,
    HttpStreams, MemoryEventStore, Method, Response, StreamId, StreamSlot,
};
use mcp_proto::jsonrpc::{RawMessage, RequestId};
use mcp_proto::schema::ProtocolVersion;
use mcp_proto::session::{DormantSession, ServerSession, Transmit};

use super::auth::Protection;
use super::io::{HyperIo, RtTimer};
use crate::engine::coalesce::Coalesce;
use crate::engine::{close_side, lock, End, Engine, Io, Round, Transport};
use crate::runtime::{BoxFuture, OsEntropy, Runtime};
use crate::server::{
    new_shared_with, RequestCx, RequestData, ServerShared, ServerSide, Service, StreamControl,
};

impl RequestCx {
    /// The headers of the HTTP request that carried this request, when it came over HTTP
    /// (an API key, a tenant, a tracing id put there by the app's proxy or middleware).
    pub fn http_headers(&self) -> Option<&HeaderMap> {
        self.request_data::<HeaderMap>()
    }
}

/// The principal of an authenticated request, and its key (for sessions and tasks).
type Caller = Option<Arc<Principal>>;

/// A session's response streams and the readers waiting on them.
struct HttpLink {
    streams: HttpStreams,
    wakers: HashMap<StreamId, Waker>,
}

type LinkRef = Arc<Mutex<HttpLink>>;

impl HttpLink {
    fn new(streams: HttpStreams) -> LinkRef {
        Arc::new(Mutex::new(HttpLink {
            streams,
            wakers: HashMap::new(),
        }))
    }

    fn wake_readers(&mut self) {
        for sid in self.streams.take_woken().collect::<Vec<_>>() {
            if let Some(w) = self.wakers.remove(&sid) {
                w.wake();
            }
        }
    }
}

impl StreamControl for Mutex<HttpLink> {
    fn close_for_polling(&self, id: &RequestId) -> bool {
        let mut link = lock(self);
        let closed = link.streams.close_for_polling(id);
        link.wake_readers();
        closed
    }
}

type SharedRef = Arc<Mutex<ServerShared>>;

/// A legacy session as the endpoint's table holds it.
#[derive(Clone)]
struct SessionRef {
    shared: SharedRef,
    link: LinkRef,
    /// An inline round of the session's engine ([`Engine::kick`]).
    kick: Arc<dyn Fn() -> bool + Send + Sync>,
}

impl SessionRef {
    /// Moves what a request just fed through the session: in the caller's task when the
    /// engine is free, else by waking the engine.
    fn kick(&self) {
        if !(self.kick)() {
            lock(&self.shared).wake();
        }
    }

    /// After a POST was fed: moves it, then gives the response stream the request waits on
    /// (none for a body of notifications and responses, which gets 202).
    fn fed(self, sid: Option<StreamId>, slot: Option<SlotGuard>) -> Option<Stream> {
        self.kick();
        Some(Stream {
            shared: self.shared,
            link: self.link,
            sid: sid?,
            slot: slot?,
        })
    }
}

/// The engine's transport for one HTTP session: routes the session's frames onto its
/// response streams and runs the streams' timers (keep-alives). A one-shot session ends once
/// its streams are done and no handler of it runs; a legacy one when it is closed.
struct SessionStreams<R: Runtime> {
    rt: R,
    shared: SharedRef,
    link: LinkRef,
    one_shot: bool,
    /// The streams were ended (by `finish`).
    ended: bool,
}

impl<R: Runtime> SessionStreams<R> {
    /// Routes the session's last frames, then ends every stream and wakes its reader.
    fn end_streams(&mut self, last: impl IntoIterator<Item = Transmit>) {
        self.ended = true;
        let now = self.rt.now();
        let mut link = lock(&self.link);
        for t in last {
            link.streams.route(now, t);
        }
        link.streams.close();
        link.wake_readers();
    }
}

impl<R: Runtime> Transport<R> for SessionStreams<R> {
    const STOPPED: &'static str = "session driver stopped";

    fn poll_io(&mut self, _cx: Option<&mut Context<'_>>, round: &mut Round<'_, R>) -> Io {
        let mut io = Io::default();
        let now = round.now;
        let (idle, abandoned, lost) = {
            let mut link = lock(&self.link);
            for t in round.out[0].drain(..) {
                link.streams.route(now, t);
            }
            if link.streams.poll_timeout().is_some_and(|t| t <= now) {
                link.streams.handle_timeout(now);
            }
            let abandoned: Vec<_> = link.streams.take_abandoned().collect();
            let lost: Vec<_> = link.streams.take_lost_requests().collect();
            link.wake_readers();
            io.deadline = link.streams.poll_timeout();
            (link.streams.is_empty(), abandoned, lost)
        };
        if !(abandoned.is_empty() && lost.is_empty()) {
            // What the streams could not deliver is settled in the session, not left
            // hanging; that makes frames (cancellations) for another round.
            let mut g = lock(&self.shared);
            for id in &abandoned {
                g.session.abandon(now, id);
            }
            for id in &lost {
                let _ = g
                    .session
                    .fail_lost_request(id, "its event was lost before the client read it");
            }
            io.progressed = true;
        }
        if round.stopped != 0 {
            io.end = Some(End::Done("session closed".into()));
        } else if self.one_shot && idle && lock(&self.shared).side.running() == 0 {
            io.end = Some(End::Done("exchange over".into()));
        }
        io
    }

    fn finish(&mut self, _cx: &mut Context<'_>, last: Vec<Transmit>, _end: &End) {
        self.end_streams(last);
    }
}

/// However the engine ends (finished, dropped, or unwound by a panicking handler), the
/// streams end too: no client waits on a session nothing drives.
impl<R: Runtime> Drop for SessionStreams<R> {
    fn drop(&mut self) {
        if !self.ended {
            let last: Vec<Transmit> = {
                let mut g = lock(&self.shared);
                std::iter::from_fn(|| g.session.poll_transmit()).collect()
            };
            self.end_streams(last);
        }
    }
}

/// Everything the server's connections share.
struct App<R: Runtime> {
    rt: R,
    service: Service,
    /// Its configuration, readable without the endpoint's lock.
    config: HttpServerConfig,
    endpoint: Mutex<HttpEndpoint<SessionRef>>,
    /// OAuth protection, when on.
    protection: Option<Protection>,
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
    detached: Vec<Weak<Mutex<ServerShared>>>,
}

impl<R: Runtime> App<R> {
    fn endpoint(&self) -> std::sync::MutexGuard<'_, HttpEndpoint<SessionRef>> {
        lock(&self.endpoint)
    }

    /// A session's engine, not yet running.
    fn engine(
        &self,
        shared: &SharedRef,
        link: &LinkRef,
        one_shot: bool,
    ) -> Engine<R, SessionStreams<R>> {
        let transport = SessionStreams {
            rt: self.rt.clone(),
            shared: shared.clone(),
            link: link.clone(),
            one_shot,
            ended: false,
        };
        Engine::new(self.rt.clone(), vec![Box::new(shared.clone())], transport)
    }

    /// Runs a session's engine in a task of its own. One-shot sessions are remembered, to
    /// be ended when a shutdown's grace runs out.
    fn spawn(&self, shared: &SharedRef, engine: Engine<R, SessionStreams<R>>, one_shot: bool) {
        if one_shot {
            let mut g = lock(&self.shutdown);
            g.detached.retain(|w| w.strong_count() > 0);
            g.detached.push(Arc::downgrade(shared));
        }
        self.rt.spawn(Box::pin(async move {
            let _ = engine.await;
        }));
    }
}

/// Gives stream slots back to the endpoint.
trait Slots: Send + Sync {
    fn release(&self, slot: StreamSlot);
}

impl<R: Runtime> Slots for App<R> {
    fn release(&self, slot: StreamSlot) {
        let now = self.rt.now();
        let draining = {
            let mut endpoint = self.endpoint();
            endpoint.release(now, slot);
            endpoint.is_draining()
        };
        if draining {
            for w in std::mem::take(&mut lock(&self.shutdown).drained) {
                w.wake();
            }
        }
    }
}

/// A stream slot the endpoint reserved, given back when dropped: the stream ended, or the
/// request was answered without one.
struct SlotGuard {
    slot: Option<StreamSlot>,
    app: Weak<dyn Slots>,
}

impl SlotGuard {
    fn new<R: Runtime>(app: &Arc<App<R>>, slot: StreamSlot) -> Self {
        SlotGuard {
            slot: Some(slot),
            app: Arc::downgrade(app) as Weak<dyn Slots>,
        }
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if let (Some(slot), Some(app)) = (self.slot.take(), self.app.upgrade()) {
            app.release(slot);
        }
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
        Self::build(rt, service, config, None)
    }

    /// Serves `service` with `config`, protected by OAuth: every request needs an access
    /// token `protection` accepts (with the scopes its call needs), the protected resource
    /// metadata is served at its well-known URLs, and legacy sessions, tasks and request
    /// states are bound to the principal that created them. Handlers see the caller in
    /// [`RequestCx::principal`].
    pub fn protected(
        rt: R,
        service: Service,
        config: HttpServerConfig,
        protection: Protection,
    ) -> Self {
        Self::build(rt, service, config, Some(protection))
    }

    fn build(
        rt: R,
        service: Service,
        config: HttpServerConfig,
        protection: Option<Protection>,
    ) -> Self {
        let app = Arc::new(App {
            rt: rt.clone(),
            service,
            endpoint: Mutex::new(HttpEndpoint::new(config.clone(), Box::new(OsEntropy))),
            config,
            protection,
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
        for shared in detached.iter().filter_map(Weak::upgrade) {
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
        for (_, session) in all {
            end_session(&self.app.rt, &session.shared, "server shutting down");
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
    let run = std::future::poll_fn(|cx| wake.poll_with(cx, |cx| conn.as_mut().poll(cx)));
    let span = crate::trace::span!(info_span, "connection", side = "server", transport = "http");
    let _ = crate::trace::instrument(run, span).await;
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
async fn expire_sessions<R: Runtime>(app: Weak<App<R>>) {
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
    for (_, session) in &expired {
        end_session(&app.rt, &session.shared, "session expired");
    }
    expired.len()
}

/// Closes a session and wakes its engine, which routes the last frames and ends every
/// stream.
fn end_session<R: Runtime>(rt: &R, shared: &SharedRef, reason: &str) {
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
    shared: SharedRef,
    link: LinkRef,
    sid: StreamId,
    generation: u32,
    done: bool,
    now: Arc<dyn Fn() -> Instant + Send + Sync>,
    /// The stream's slot, given back when the stream ends.
    slot: Option<SlotGuard>,
}

impl StreamReader {
    fn finish(&mut self) {
        self.done = true;
        self.slot = None;
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let cancel = {
            let mut link = lock(&self.link);
            if link.streams.generation(self.sid) == self.generation {
                link.wakers.remove(&self.sid);
            }
            link.streams.detach(self.sid, self.generation)
        };
        let now = (self.now)();
        let mut g = lock(&self.shared);
        for id in cancel {
            g.session.abandon(now, &id);
        }
        // The engine looks again: a one-shot session may be over.
        g.wake();
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
                let mut link = lock(&r.link);
                match link.streams.poll_chunk(r.sid, r.generation) {
                    Chunk::Data(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
                    Chunk::Pending => {
                        link.wakers.insert(r.sid, cx.waker().clone());
                        drop(link);
                        // The engine may now have a deadline (keep-alives) to arm.
                        lock(&r.shared).wake();
                        Poll::Pending
                    }
                    Chunk::End => {
                        if link.streams.generation(r.sid) == r.generation {
                            link.wakers.remove(&r.sid);
                        }
                        drop(link);
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
    crate::trace::http_response(r.status);
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
    if let Some(r) = app
        .protection
        .as_ref()
        .and_then(|p| p.resource().handle_metadata(parts.method.as_str(), path))
    {
        // Before the Origin check: browsers read the metadata from other origins.
        return to_hyper(r, None);
    }
    let length = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Err(r) = app.endpoint().check_head(method, path, &headers, length) {
        return to_hyper(r, None);
    }
    let caller: Caller = match &app.protection {
        None => None,
        Some(p) => match authenticate(p, &headers).await {
            Ok(principal) => Some(Arc::new(principal)),
            Err(r) => return to_hyper(r, None),
        },
    };
    let key = caller.as_ref().map(|p| p.key());
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
    let mut admitted =
        app.endpoint()
            .handle_request_as(now, key.as_deref(), method, &headers, &body);
    if let Admitted::Revive { session, record } = admitted {
        // The first message since `initialize` rebuilds the dormant session; then the
        // endpoint routes the request to it like any other.
        revive(&app, &session, record, key.clone());
        admitted =
            app.endpoint()
                .handle_request_as(app.rt.now(), key.as_deref(), method, &headers, &body);
    }
    if let (Some(p), Some(principal)) = (&app.protection, &caller) {
        // Before 2026-07-28 the call is known only now, from the body.
        let call = match &admitted {
            Admitted::Initialize { msg, .. }
            | Admitted::Legacy { msg: Some(msg), .. }
            | Admitted::OneShot {
                modern: false,
                msg: Some(msg),
                ..
            } => Some(Call::from_message(msg)),
            _ => None,
        };
        let verdict = match (&admitted, call) {
            (_, Some(c)) => p.resource().authorize((p.clock)(), principal, &c),
            (Admitted::Batch { batch, .. }, None) => {
                let calls: Vec<Call> = batch
                    .items()
                    .iter()
                    .filter_map(|m| m.as_ref().ok())
                    .map(Call::from_message)
                    .collect();
                p.resource().authorize_batch((p.clock)(), principal, &calls)
            }
            _ => Ok(()),
        };
        if let Err(r) = verdict {
            if let Some(slot) = slot_of(admitted) {
                app.release(slot);
            }
            return to_hyper(r, None);
        }
    }
    let guard = |slot| SlotGuard::new(&app, slot);
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
            let slot = slot.map(guard);
            if let Some(params) = tool.and_then(|t| app.service.handler.header_params(&t)) {
                if let Err(r) = check_params(id.as_ref(), &headers, &params, &body) {
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
                caller,
            };
            one_shot(&app, streams, assume, id, listen, input, slot).await
        }
        Admitted::Initialize { id, msg, slot } => {
            let input = Input {
                body: &body,
                msg: Some(msg),
                headers: &parts.headers,
                caller,
            };
            initialize(&app, id, input, guard(slot)).await
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
                caller,
            };
            legacy_post(&app, value, id, input, slot.map(guard)).await
        }
        Admitted::Batch {
            value, batch, slot, ..
        } => legacy_batch(&app, value, batch, slot.map(guard)),
        Admitted::Listen {
            value,
            last_event_id,
            slot,
            ..
        } => listen(&app, value, last_event_id.as_deref(), guard(slot)),
        Admitted::Ended { value } => {
            end_session(&app.rt, &value.shared, "session deleted by client");
            to_hyper(Response::status(200), None)
        }
        // Revived just above: the session is live now, or was removed meanwhile.
        Admitted::Revive { .. } => to_hyper(session_not_found(), None),
    }
}

/// The slot an admitted request holds, if any.
fn slot_of<S>(admitted: Admitted<'_, S>) -> Option<StreamSlot> {
    match admitted {
        Admitted::OneShot { slot, .. }
        | Admitted::Legacy { slot, .. }
        | Admitted::Batch { slot, .. } => slot,
        Admitted::Initialize { slot, .. } | Admitted::Listen { slot, .. } => Some(slot),
        Admitted::Respond(_) | Admitted::Ended { .. } | Admitted::Revive { .. } => None,
    }
}

/// Verifies the request's access token and checks what the head tells of its call (all of
/// it on 2026-07-28); `Err` is the refusal to send.
async fn authenticate(
    p: &Protection,
    headers: &(impl Headers + ?Sized),
) -> Result<Principal, Response> {
    let call = Call::from_headers(headers).unwrap_or_default();
    let resource = p.resource();
    let token = resource.bearer(headers, &call)?;
    let principal = p
        .verifier
        .verify(token)
        .await
        .map_err(|e| resource.invalid_token(&call, &e.0))?;
    resource.authorize((p.clock)(), &principal, &call)?;
    Ok(principal)
}

/// Rebuilds dormant session `id` from its record and registers it with the endpoint; a
/// request that lost the race to another reviving the same session drops its copy unseen.
fn revive<R: Runtime>(app: &Arc<App<R>>, id: &str, record: DormantSession, owner: Option<String>) {
    let cfg = &app.config;
    let store = Box::new(MemoryEventStore::new(cfg.streams.max_stored));
    let mut streams = HttpStreams::legacy(cfg.streams.clone(), store, false, cfg.json_response);
    streams.negotiated(record.version());
    let link = HttpLink::new(streams);
    let control = link.clone() as Arc<dyn StreamControl>;
    let (_handle, shared) = new_shared_with(&app.rt, &app.service, Some(control), false);
    {
        let mut g = lock(&shared);
        let store = g.side.tasks.session_store();
        let entropy = Box::new(OsEntropy);
        let config = app.service.config.clone();
        let now = app.rt.now();
        g.session = ServerSession::revive(config, now, app.rt.wall(), entropy, record);
        g.session.set_task_store(store);
        // The endpoint revives a session only for the caller that owns it.
        g.session.set_principal(owner);
    }
    let engine = app.engine(&shared, &link, false);
    let session = SessionRef {
        shared: shared.clone(),
        link,
        kick: Arc::new(engine.kick()),
    };
    if app.endpoint().revive(id, session).is_err() {
        return;
    }
    ServerSide::announce(&app.service, &shared);
    app.spawn(&shared, engine, false);
}

/// The answer of a handshake that left nothing behind but itself, with the session as a
/// dormant record: no handler runs, nothing is queued for the client. Turns the engine
/// once first, so that what the handshake produced is on its stream.
fn dormant_answer<R: Runtime>(
    engine: &Engine<R, SessionStreams<R>>,
    shared: &SharedRef,
    link: &LinkRef,
    sid: StreamId,
) -> Option<(DormantSession, u16, Bytes)> {
    if engine.turn_now() {
        return None;
    }
    let record = {
        let g = lock(shared);
        if g.side.running() != 0 {
            return None;
        }
        g.session.to_dormant()?
    };
    let mut link = lock(link);
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
    caller: Caller,
}

impl Input<'_> {
    /// Feeds the message to the session; a request's HTTP headers and principal go with
    /// it, for its handler's [`RequestCx::http_headers`] and [`RequestCx::principal`].
    fn feed(self, g: &mut ServerShared, now: Instant) {
        match self.msg {
            Some(msg) => {
                if let RawMessage::Request { id, .. } = &msg {
                    let data = RequestData {
                        extra: Some(Arc::new(self.headers.clone())),
                        principal: self.caller,
                    };
                    g.side.attach(id.clone(), data);
                }
                g.session.handle_parsed(now, msg)
            }
            None => g.session.handle_message(now, self.body),
        }
    }
}

/// Checks `Mcp-Param-*` headers against the call's arguments.
fn check_params(
    id: Option<&RequestId>,
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
    id: Option<RequestId>,
    listen: bool,
    input: Input<'_>,
    slot: Option<SlotGuard>,
) -> hyper::Response<ResponseBody> {
    let link = HttpLink::new(streams);
    let control = link.clone() as Arc<dyn StreamControl>;
    let (_handle, shared) = new_shared_with(&app.rt, &app.service, Some(control), listen);
    let now = app.rt.now();
    let sid = id.map(|id| lock(&link).streams.open_request(now, id));
    {
        let mut g = lock(&shared);
        if let Some(v) = assume {
            g.session.assume_initialized(v);
        }
        g.session
            .set_principal(input.caller.as_ref().map(|p| p.key()));
        input.feed(&mut g, now);
    }
    let engine = app.engine(&shared, &link, true);
    let over = engine.turn_now();
    let (Some(sid), Some(slot)) = (sid, slot) else {
        // A notification (or a response): nothing comes back.
        if !over {
            app.spawn(&shared, engine, true);
        }
        return to_hyper(Response::status(202), None);
    };
    if let Some(Head::Json { status, body }) = take_head(&link, sid) {
        // The stream is done: one more round ends the exchange, unless a handler still
        // runs (a task).
        if !over && !engine.turn_now() {
            app.spawn(&shared, engine, true);
        }
        drop(slot);
        return to_hyper(Response::json(status, body), None);
    }
    if !over {
        app.spawn(&shared, engine, true);
    }
    let session = Stream {
        shared,
        link,
        sid,
        slot,
    };
    respond_when_ready(app, session, None).await
}

async fn initialize<R: Runtime>(
    app: &Arc<App<R>>,
    id: RequestId,
    input: Input<'_>,
    mut slot: SlotGuard,
) -> hyper::Response<ResponseBody> {
    let cfg = &app.config;
    let store = Box::new(MemoryEventStore::new(cfg.streams.max_stored));
    let link = HttpLink::new(HttpStreams::legacy(
        cfg.streams.clone(),
        store,
        false,
        cfg.json_response,
    ));
    let control = link.clone() as Arc<dyn StreamControl>;
    let (_handle, shared) = new_shared_with(&app.rt, &app.service, Some(control), false);
    let now = app.rt.now();
    let sid = lock(&link).streams.open_request(now, id);
    let version = {
        let mut g = lock(&shared);
        g.session
            .set_principal(input.caller.as_ref().map(|p| p.key()));
        input.feed(&mut g, now);
        g.session.legacy_version()
    };
    if let Some(v) = version {
        lock(&link).streams.negotiated(v);
    }
    let engine = app.engine(&shared, &link, false);
    let dormant = version.and_then(|_| dormant_answer(&engine, &shared, &link, sid));
    if let (Some((record, status, body)), Some(s)) = (dormant, slot.slot.as_mut()) {
        // Most sessions a flood opens never come back: until this one does, the endpoint
        // keeps a small record and nothing runs for it (the engine is dropped unspawned).
        let response = match app.endpoint().open_dormant(now, record, s) {
            Ok(opened) => {
                if let Some((_, evicted)) = &opened.evicted {
                    end_session(
                        &app.rt,
                        &evicted.shared,
                        "evicted: the session table is full",
                    );
                }
                Response::json(status, body).with_header("mcp-session-id", opened.id)
            }
            Err(refusal) => refusal,
        };
        return to_hyper(response, None);
    }
    let session = SessionRef {
        shared: shared.clone(),
        link: link.clone(),
        kick: Arc::new(engine.kick()),
    };
    let opened = match (version, slot.slot.as_mut()) {
        (Some(_), Some(s)) => app.endpoint().open_session(now, session, s),
        _ => Err(Response::status(400)),
    };
    let opened = match opened {
        Ok(opened) => opened,
        Err(refusal) => {
            // A refused handshake (bad params, no common version) or a table of busy
            // sessions leaves no session behind.
            engine.turn_now();
            let head = take_head(&link, sid);
            end_session(&app.rt, &shared, "handshake refused");
            return match head {
                Some(Head::Json { status, body }) if version.is_none() => {
                    to_hyper(Response::json(status, body), None)
                }
                _ => to_hyper(refusal, None),
            };
        }
    };
    if let Some((_, evicted)) = &opened.evicted {
        end_session(
            &app.rt,
            &evicted.shared,
            "evicted: the session table is full",
        );
    }
    // Now the session can be announced: it has its streams and an id.
    ServerSide::announce(&app.service, &shared);
    if !engine.turn_now() {
        app.spawn(&shared, engine, false);
    }
    let stream = Stream {
        shared,
        link,
        sid,
        slot,
    };
    respond_when_ready(app, stream, Some(opened.id)).await
}

async fn legacy_post<R: Runtime>(
    app: &Arc<App<R>>,
    session: SessionRef,
    id: Option<RequestId>,
    input: Input<'_>,
    slot: Option<SlotGuard>,
) -> hyper::Response<ResponseBody> {
    let now = app.rt.now();
    if lock(&session.shared).closed {
        return to_hyper(session_not_found(), None);
    }
    let admitted = id.map(|id| lock(&session.link).streams.admit_request(now, id));
    let sid = match admitted.transpose() {
        Ok(sid) => sid,
        Err(refusal) => return to_hyper(refusal, None),
    };
    {
        let mut g = lock(&session.shared);
        if g.closed {
            return to_hyper(session_not_found(), None);
        }
        input.feed(&mut g, now);
    }
    let Some(stream) = session.fed(sid, slot) else {
        return to_hyper(Response::status(202), None);
    };
    respond_when_ready(app, stream, None).await
}

/// A 2025-03-26 batch: one SSE stream carries the answer of each request in it.
fn legacy_batch<R: Runtime>(
    app: &Arc<App<R>>,
    session: SessionRef,
    batch: mcp_proto::jsonrpc::RawBatch<'_>,
    slot: Option<SlotGuard>,
) -> hyper::Response<ResponseBody> {
    let now = app.rt.now();
    let version = {
        let g = lock(&session.shared);
        if g.closed {
            return to_hyper(session_not_found(), None);
        }
        g.session.legacy_version()
    };
    let admitted = lock(&session.link)
        .streams
        .admit_batch(now, version, &batch);
    let sid = match admitted {
        Ok(sid) => sid,
        Err(refusal) => return to_hyper(refusal, None),
    };
    {
        let mut g = lock(&session.shared);
        if g.closed {
            return to_hyper(session_not_found(), None);
        }
        g.session.handle_batch(now, batch);
    }
    let Some(stream) = session.fed(sid, slot) else {
        return to_hyper(Response::status(202), None);
    };
    to_hyper(sse_response(stream.sid), Some(reader(app, stream)))
}

fn listen<R: Runtime>(
    app: &Arc<App<R>>,
    session: SessionRef,
    last_event_id: Option<&str>,
    slot: SlotGuard,
) -> hyper::Response<ResponseBody> {
    let now = app.rt.now();
    let sid = {
        let mut link = lock(&session.link);
        let sid = link.streams.admit_listen(now, last_event_id);
        // A reader displaced by the resumption must look again (and find its end).
        if let Some(w) = sid.as_ref().ok().and_then(|sid| link.wakers.remove(sid)) {
            w.wake();
        }
        sid
    };
    // The engine routes what the stream holds and arms its keep-alive.
    lock(&session.shared).wake();
    match sid {
        Ok(sid) => {
            let stream = Stream {
                shared: session.shared,
                link: session.link,
                sid,
                slot,
            };
            to_hyper(sse_response(sid), Some(reader(app, stream)))
        }
        Err(refusal) => to_hyper(refusal, None),
    }
}

/// One response stream of a session, with its slot.
struct Stream {
    shared: SharedRef,
    link: LinkRef,
    sid: StreamId,
    slot: SlotGuard,
}

fn reader<R: Runtime>(app: &Arc<App<R>>, stream: Stream) -> StreamReader {
    let clock = app.rt.clone();
    let generation = lock(&stream.link).streams.generation(stream.sid);
    StreamReader {
        shared: stream.shared,
        link: stream.link,
        sid: stream.sid,
        generation,
        done: false,
        now: Arc::new(move || clock.now()),
        slot: Some(stream.slot),
    }
}

fn take_head(link: &LinkRef, sid: StreamId) -> Option<Head> {
    lock(link).streams.poll_head(sid)
}

/// Waits until the stream's head is decided, then answers with JSON or SSE.
async fn respond_when_ready<R: Runtime>(
    app: &Arc<App<R>>,
    stream: Stream,
    session_id: Option<String>,
) -> hyper::Response<ResponseBody> {
    let sid = stream.sid;
    // If the client goes away before the head, the reader's drop detaches the stream.
    let mut rd = reader(app, stream);
    let head = futures_lite::future::poll_fn(|cx| {
        let mut link = lock(&rd.link);
        match link.streams.poll_head(sid) {
            Some(h) => Poll::Ready(h),
            None => {
                link.wakers.insert(sid, cx.waker().clone());
                Poll::Pending
            }
        }
    })
    .await;
    let mut response = match head {
        Head::Json { status, body } => {
            rd.finish();
            Response::json(status, body)
        }
        Head::Sse => sse_response(sid),
    };
    if let Some(id) = session_id {
        response = response.with_header("mcp-session-id", id);
    }
    let stream = matches!(response.body, Body::Stream(_)).then_some(rd);
    to_hyper(response, stream)
}
