//! The streamable HTTP server: hyper moves bytes, [`mcp_proto::http`] decides, and each
//! session is the same [`ServerSession`] + handler pair that serves stdio.
//!
//! Legacy sessions live in a [`SessionTable`] and are driven by one task each for their
//! lifetime. A 2026-07-28 request gets a session of its own; when its handler answers at
//! once (the common case) the whole exchange completes inside the HTTP request's task, with
//! no task spawned.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use futures_lite::io::{AsyncRead, AsyncWrite};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use mcp_proto::http::{
    Body, Chunk, Exchange, Head, Headers, HttpServer, HttpServerConfig, HttpStreams,
    MemoryEventStore, Method, Response, SessionTable, StreamId,
};
use mcp_proto::jsonrpc::{ErrorObject, RawMessage};
use mcp_proto::schema::ProtocolVersion;
use mcp_proto::session::ServerSession;

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
    front: HttpServer,
    sessions: Mutex<SessionTable<SessionRef>>,
    /// Response streams open across the server (every session, both eras).
    open_streams: Arc<std::sync::atomic::AtomicUsize>,
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
            .field("config", self.app.front.config())
            .field("sessions", &lock(&self.app.sessions).len())
            .finish()
    }
}

impl<R: Runtime> HttpService<R> {
    /// Serves `service` with `config`. Spawns the task that expires idle sessions.
    pub fn new(rt: R, service: Service, config: HttpServerConfig) -> Self {
        let sessions = SessionTable::new(
            config.max_sessions,
            config.session_idle_timeout,
            Box::new(OsEntropy),
        );
        let app = Arc::new(App {
            rt: rt.clone(),
            service,
            front: HttpServer::new(config),
            sessions: Mutex::new(sessions),
            open_streams: Arc::default(),
        });
        rt.spawn(Box::pin(expire_sessions(Arc::downgrade(&app))));
        HttpService { app }
    }

    /// Legacy sessions alive now.
    pub fn session_count(&self) -> usize {
        lock(&self.app.sessions).len()
    }

    /// Ends the sessions idle past the limit at the runtime's current time; returns how many.
    /// A background task already does this at each deadline.
    pub fn expire_idle(&self) -> usize {
        expire_now(&self.app)
    }

    /// Ends every legacy session (answering what is in flight).
    pub fn close_sessions(&self) {
        let all = lock(&self.app.sessions).drain();
        for (_, shared) in all {
            end_session(&self.app.rt, &shared, "server shutting down");
        }
    }

    /// Serves HTTP/1.1 on one accepted connection until the client closes it.
    pub fn serve_connection<T>(&self, io: T) -> impl Future<Output = ()> + Send + 'static
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = self.app.clone();
        let svc = hyper::service::service_fn(move |req| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(handle(app, req).await) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(RtTimer(self.app.rt.clone()))
            .header_read_timeout(std::time::Duration::from_secs(30))
            .serve_connection(HyperIo::new(io), svc);
        async move {
            // hyper's connection wakes its own task on every request (the request body's
            // channel signals readiness to the dispatcher in the same task). Answered by the
            // runtime, each such wake requeues the task and may hand it to another worker;
            // polled again at once here instead, the request stays on one thread.
            let wake = Coalesce::new();
            let mut conn = std::pin::pin!(conn);
            // A client that vanishes mid-request is routine; nothing to report.
            let _ =
                std::future::poll_fn(|cx| wake.poll_with(cx, |cx| conn.as_mut().poll(cx))).await;
        }
    }
}

/// Ends sessions idle past the configured time. Holds the app weakly so it ends with it.
async fn expire_sessions<R: Runtime>(app: std::sync::Weak<App<R>>) {
    loop {
        let (rt, next) = {
            let Some(app) = app.upgrade() else { return };
            expire_now(&app);
            let now = app.rt.now();
            let idle = app.front.config().session_idle_timeout;
            let next = lock(&app.sessions).poll_timeout().unwrap_or(now + idle);
            (app.rt.clone(), next)
        };
        rt.sleep_until(next).await;
    }
}

fn expire_now<R: Runtime>(app: &App<R>) -> usize {
    let expired = lock(&app.sessions).expire(app.rt.now());
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
struct HyperHeaders<'a>(&'a HeaderMap);

impl Headers for HyperHeaders<'_> {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(HeaderValue::as_bytes)
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
    /// Activity bookkeeping of a legacy session, released when the stream ends.
    on_end: Option<Box<dyn FnOnce() + Send>>,
    /// The server-wide count of open streams, this one included until it ends.
    open_streams: Arc<std::sync::atomic::AtomicUsize>,
    counted: bool,
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
        if std::mem::take(&mut self.counted) {
            self.open_streams
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
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

/// Reads the request body, refusing more than `max` bytes.
async fn read_body(mut body: Incoming, max: usize) -> Result<Bytes, bool> {
    let mut buf = bytes::BytesMut::new();
    loop {
        let frame = futures_lite::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Ok(buf.freeze()),
            Some(Err(_)) => return Err(false),
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    if buf.len() + data.len() > max {
                        return Err(true);
                    }
                    buf.extend_from_slice(&data);
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

async fn handle<R: Runtime>(
    app: Arc<App<R>>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<ResponseBody> {
    let (parts, body) = req.into_parts();
    let method = Method::parse(parts.method.as_str());
    let headers = HyperHeaders(&parts.headers);
    let path = parts.uri.path();
    let length = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Err(r) = app.front.check_head(method, path, &headers, length) {
        return to_hyper(r, None);
    }
    let body = if method == Method::Post {
        match read_body(body, app.front.config().max_body).await {
            Ok(b) => b,
            Err(true) => return to_hyper(app.front.too_large(), None),
            Err(false) => return to_hyper(Response::status(400), None),
        }
    } else {
        Bytes::new()
    };
    let (exchange, msg) = match app.front.classify_message(method, &headers, &body) {
        Ok(e) => e,
        Err(r) => return to_hyper(r, None),
    };
    let input = Input { body: &body, msg };
    let opens_stream = !matches!(
        exchange,
        Exchange::End { .. }
            | Exchange::Legacy { id: None, .. }
            | Exchange::Modern { id: None, .. }
            | Exchange::Stateless { id: None, .. }
    );
    let limit = app.front.config().max_streams;
    if opens_stream && app.open_streams.load(std::sync::atomic::Ordering::Relaxed) >= limit {
        return to_hyper(
            Response::rpc_error(
                503,
                &ErrorObject::internal(format!("server busy: {limit} streams open")),
            )
            .with_header("retry-after", "1"),
            None,
        );
    }
    match exchange {
        Exchange::Modern { id, listen, tool } => {
            if let Some(params) = tool.and_then(|t| app.service.handler.header_params(&t)) {
                if let Err(r) = check_params(id.as_ref(), &headers, &params, &body) {
                    return to_hyper(r, None);
                }
            }
            let streams = HttpStreams::modern(app.front.config().streams.clone());
            one_shot(&app, streams, None, id, listen, input).await
        }
        Exchange::Stateless { version, id } => {
            let cfg = app.front.config();
            let streams = HttpStreams::stateless(cfg.streams.clone(), cfg.json_response);
            one_shot(&app, streams, version, id, false, input).await
        }
        Exchange::Initialize { id } => initialize(&app, id, input).await,
        Exchange::Legacy { session, id } => legacy_post(&app, &session, id, input).await,
        Exchange::Listen {
            session,
            last_event_id,
        } => listen(&app, &session, last_event_id.as_deref()),
        Exchange::End { session } => {
            let removed = lock(&app.sessions).remove(&session);
            match removed {
                Some(shared) => {
                    end_session(&app.rt, &shared, "session deleted by client");
                    to_hyper(Response::status(200), None)
                }
                None => to_hyper(session_not_found(), None),
            }
        }
    }
}

/// A request's body, with the message the front door already parsed it into (none for a
/// batch): the session takes the message rather than parsing the body a second time.
struct Input<'b> {
    body: &'b [u8],
    msg: Option<RawMessage<'b>>,
}

impl Input<'_> {
    fn feed(self, session: &mut ServerSession, now: Instant) {
        match self.msg {
            Some(msg) => session.handle_parsed(now, msg),
            None => session.handle_message(now, self.body),
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

fn session_not_found() -> Response {
    Response::rpc_error(404, &ErrorObject::invalid_request("session not found"))
}

/// A message served on a session of its own (2026-07-28, or a stateless legacy server).
async fn one_shot<R: Runtime>(
    app: &Arc<App<R>>,
    streams: HttpStreams,
    assume: Option<ProtocolVersion>,
    id: Option<mcp_proto::jsonrpc::RequestId>,
    listen: bool,
    input: Input<'_>,
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
        input.feed(&mut g.session, now);
        sid
    };
    let Some(sid) = sid else {
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
        return to_hyper(Response::json(status, body), None);
    }
    spawn_driver(app, &shared, pending);
    respond_when_ready(app, shared, sid, None, None).await
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
) -> hyper::Response<ResponseBody> {
    let cfg = app.front.config();
    let store = Box::new(MemoryEventStore::new(cfg.streams.max_queued));
    let streams = HttpStreams::legacy(cfg.streams.clone(), store, false, cfg.json_response);
    let (_handle, shared) = new_shared_with(&app.rt, &app.service, None, false);
    let now = app.rt.now();
    let session_id = {
        let mut sessions = lock(&app.sessions);
        match sessions.insert(now, shared.clone()) {
            Ok(id) => id,
            Err(full) => {
                return to_hyper(
                    Response::rpc_error(503, &ErrorObject::internal(full.to_string()))
                        .with_header("retry-after", "5"),
                    None,
                )
            }
        }
    };
    let (sid, accepted) = {
        let mut g = lock(&shared);
        let mut link = HttpLink::new(streams, Some(session_id.clone()));
        let sid = link.streams.open_request(now, id);
        g.side.http = Some(link);
        input.feed(&mut g.session, now);
        let version = g.session.legacy_version();
        if let Some(v) = version {
            let priming = v >= ProtocolVersion::V2025_11_25;
            http_link(&mut g).streams.set_priming(priming);
        }
        (sid, version.is_some())
    };
    if !accepted {
        // A refused handshake (bad params, no common version) leaves no session behind.
        lock(&app.sessions).remove(&session_id);
        let _ = turn_inline(app, &shared).await;
        let head = take_head(&shared, sid);
        end_session(&app.rt, &shared, "handshake refused");
        return match head {
            Some(Head::Json { status, body }) => to_hyper(Response::json(status, body), None),
            _ => to_hyper(Response::status(400), None),
        };
    }
    // Now the session can be announced: it has its streams and an id.
    ServerSide::announce(&app.service, &shared);
    lock(&app.sessions).begin(now, &session_id);
    let pending = turn_inline(app, &shared).await;
    spawn_driver(app, &shared, pending);
    let sessions = Arc::downgrade(app);
    let sid_text = session_id.clone();
    let on_end: Box<dyn FnOnce() + Send> = Box::new(move || {
        if let Some(app) = sessions.upgrade() {
            let now = app.rt.now();
            lock(&app.sessions).end(now, &sid_text);
        }
    });
    respond_when_ready(app, shared, sid, Some(session_id), Some(on_end)).await
}

async fn legacy_post<R: Runtime>(
    app: &Arc<App<R>>,
    session: &str,
    id: Option<mcp_proto::jsonrpc::RequestId>,
    input: Input<'_>,
) -> hyper::Response<ResponseBody> {
    let now = app.rt.now();
    let Some(shared) = lock(&app.sessions).get(now, session).cloned() else {
        return to_hyper(session_not_found(), None);
    };
    let max_streams = app.front.config().max_streams_per_session;
    let sid = {
        let mut g = lock(&shared);
        if g.closed {
            return to_hyper(session_not_found(), None);
        }
        let link = http_link(&mut g);
        if id.is_some() && link.streams.active() >= max_streams {
            return to_hyper(
                Response::rpc_error(
                    429,
                    &ErrorObject::internal("too many concurrent streams on this session"),
                )
                .with_header("retry-after", "1"),
                None,
            );
        }
        if let Some(dup) = id.as_ref().filter(|id| link.streams.is_open(id)) {
            let e = ErrorObject::invalid_request(format!("request id {dup} is already in flight"));
            return to_hyper(Response::rpc_error_for(200, Some(dup), &e), None);
        }
        let sid = id.map(|id| link.streams.open_request(now, id));
        input.feed(&mut g.session, now);
        sid
    };
    let pending = turn_inline(app, &shared).await;
    if !pending.is_empty() {
        pending.into_iter().for_each(|t| app.rt.spawn(t));
    }
    lock(&shared).wake();
    let Some(sid) = sid else {
        return to_hyper(Response::status(202), None);
    };
    lock(&app.sessions).begin(now, session);
    let sessions = Arc::downgrade(app);
    let sid_text = session.to_owned();
    let on_end: Box<dyn FnOnce() + Send> = Box::new(move || {
        if let Some(app) = sessions.upgrade() {
            let now = app.rt.now();
            lock(&app.sessions).end(now, &sid_text);
        }
    });
    respond_when_ready(app, shared, sid, None, Some(on_end)).await
}

fn listen<R: Runtime>(
    app: &Arc<App<R>>,
    session: &str,
    last_event_id: Option<&str>,
) -> hyper::Response<ResponseBody> {
    let now = app.rt.now();
    let Some(shared) = lock(&app.sessions).get(now, session).cloned() else {
        return to_hyper(session_not_found(), None);
    };
    let sid = {
        let mut g = lock(&shared);
        let link = http_link(&mut g);
        let sid = match last_event_id {
            Some(last) => link.streams.resume(now, last),
            None => link.streams.open_standalone(now),
        };
        // A reader displaced by the resumption must look again (and find its end).
        if let Some(w) = sid.and_then(|sid| link.wakers.remove(&sid)) {
            w.wake();
        }
        g.wake();
        sid
    };
    let Some(sid) = sid else {
        return to_hyper(
            Response::rpc_error(
                409,
                &ErrorObject::invalid_request("that stream is already being read"),
            ),
            None,
        );
    };
    lock(&app.sessions).begin(now, session);
    let reader = reader(app, shared, sid, Some(end_hook(app, session)));
    to_hyper(sse_response(sid), Some(reader))
}

fn end_hook<R: Runtime>(app: &Arc<App<R>>, session: &str) -> Box<dyn FnOnce() + Send> {
    let sessions = Arc::downgrade(app);
    let sid_text = session.to_owned();
    Box::new(move || {
        if let Some(app) = sessions.upgrade() {
            let now = app.rt.now();
            lock(&app.sessions).end(now, &sid_text);
        }
    })
}

fn reader<R: Runtime>(
    app: &Arc<App<R>>,
    shared: SessionRef,
    sid: StreamId,
    on_end: Option<Box<dyn FnOnce() + Send>>,
) -> StreamReader {
    let clock = app.rt.clone();
    let generation = lock(&shared)
        .side
        .http
        .as_ref()
        .map_or(0, |l| l.streams.generation(sid));
    app.open_streams
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    StreamReader {
        open_streams: app.open_streams.clone(),
        counted: true,
        shared,
        sid,
        generation,
        done: false,
        now: Arc::new(move || clock.now()),
        on_end,
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
    on_end: Option<Box<dyn FnOnce() + Send>>,
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
