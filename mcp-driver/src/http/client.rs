//! The streamable HTTP client, for every runtime: the typed [`Client`] over HTTP.
//!
//! [`connect_http`] builds the same [`ClientSession`] as [`connect`](crate::connect) and drives
//! it with a future that turns its frames into HTTP exchanges through
//! [`mcp_proto::http::HttpClient`] (which decides everything protocol-related: headers, era
//! fallbacks, resumption, backoff) and runs them on hyper HTTP/1.1 connections from a small
//! pool. The runtime supplies only TCP, through a [`Connector`]; `https://` URLs get TLS from
//! rustls with Mozilla's roots.
//!
//! Authentication plugs in through [`BearerAuth`]: a token source asked before every request
//! (plus per-request headers and a preparation step, e.g. refreshing an expired token), and a
//! hook told about each 401 and 403 (with its `WWW-Authenticate` challenge) that may obtain a
//! new token and have the request sent again, within the hook's retry budget; it reaches
//! authorization servers through [`AuthHttp`] over this client's connections.
//! [`OAuth`](super::oauth::OAuth) implements OAuth 2.1 on it. A 401 or 403 that stands ends
//! the call (or the connect) with [`HttpError::Unauthorized`] / [`HttpError::Forbidden`].

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::io::{AsyncRead, AsyncWrite};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1;
use mcp_proto::auth::{AuthMethod, AuthRequest, AuthResponse};
use mcp_proto::http::{
    ExchangeId, FailureKind, Headers, HttpClient, HttpClientConfig, HttpRequest, Method,
};
use mcp_proto::session::{ClientConfig, ClientSession, ConnectError, RequestError};

use super::HyperIo;
use crate::client::{finish_connect, new_shared, CallError, Client, ClientHandler};
use crate::engine::abort::{AbortFlag, Abortable};
use crate::engine::{lock, End, Engine, Io, Round, Transport};
use crate::runtime::{BoxFuture, Runtime};

/// The TLS library, so [`HttpClientOptions::tls`] can be built without depending on it.
#[cfg(feature = "tls")]
pub use futures_rustls::rustls;
pub use mcp_proto::http::{HttpClientEvent, HttpError};

/// A byte stream a [`Connector`] opened.
pub trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> ByteStream for T {}

/// A boxed [`ByteStream`].
pub type BoxStream = Box<dyn ByteStream>;

/// Opens TCP connections: the one thing the HTTP client needs from a runtime besides
/// [`Runtime`] (implemented by `mcp-tokio` and `mcp-smol`; a test can count or refuse).
pub trait Connector: Send + Sync + 'static {
    /// A connection to `host:port`.
    fn connect(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<BoxStream>>;
}

/// Credentials for every request. Implemented for closures returning the current token, so a
/// static token is `Arc::new(|| Some(token.clone()))`; [`OAuth`](super::oauth::OAuth)
/// implements the whole OAuth 2.1 flow on these hooks.
pub trait BearerAuth: Send + Sync + 'static {
    /// The token to send as `Authorization: Bearer …` now (`None`: send none).
    fn token(&self) -> Option<String>;

    /// The server answered 401 with this `WWW-Authenticate` challenge. Return `true` once a
    /// fresh token is available to have the request sent again (once); the default gives up,
    /// and the request fails with [`HttpError::Unauthorized`].
    fn unauthorized(&self, _www_authenticate: Option<&str>) -> BoxFuture<'static, bool> {
        Box::pin(async { false })
    }

    /// Headers to add to one request (a DPoP proof needs the method and URL); an
    /// `authorization` among them replaces the `Bearer` one (`DPoP <token>`). The default
    /// adds none.
    fn headers(&self, _method: &str, _url: &str) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Whether [`prepare`](Self::prepare) must run before the next request (for instance an
    /// expired token to refresh). Asked before every request, so keep it cheap.
    fn needs_prepare(&self) -> bool {
        false
    }

    /// Gets ready for the next request; requests wait for it.
    fn prepare(&self, _http: AuthHttp) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }

    /// The server refused a request with 401 or 403. Return `true` to send it again with
    /// the then current token; `http` reaches authorization servers over this client's
    /// connections. Called at most [`retry_budget`](Self::retry_budget) times per request.
    /// The default hands a first 401 to [`unauthorized`](Self::unauthorized).
    fn rejected(&self, rejection: Rejection<'_>, _http: AuthHttp) -> BoxFuture<'static, bool> {
        if rejection.status == 401 && rejection.attempt == 0 {
            self.unauthorized(rejection.www_authenticate)
        } else {
            Box::pin(async { false })
        }
    }

    /// How many times one request may be sent again after refusals.
    fn retry_budget(&self) -> u32 {
        1
    }
}

/// A 401 or 403 from the MCP server, as [`BearerAuth::rejected`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct Rejection<'a> {
    /// 401 or 403.
    pub status: u16,
    /// The `WWW-Authenticate` header.
    pub www_authenticate: Option<&'a str>,
    /// How many times this request was already sent again.
    pub attempt: u32,
    /// The access token the refused request carried (`Bearer` or `DPoP`).
    pub sent_token: Option<&'a str>,
    /// The `DPoP-Nonce` header: the nonce a DPoP proof must carry from now on (RFC 9449 §9).
    pub dpop_nonce: Option<&'a str>,
}

/// Sends OAuth requests (metadata, registration, token, authorization) over the HTTP client's
/// connection pool. Redirects are not followed.
#[derive(Clone)]
pub struct AuthHttp(Arc<AuthSend>);

type AuthSend =
    dyn Fn(AuthRequest) -> BoxFuture<'static, Result<AuthResponse, String>> + Send + Sync;

impl AuthHttp {
    /// From a function that performs one request.
    pub fn new(
        f: impl Fn(AuthRequest) -> BoxFuture<'static, Result<AuthResponse, String>>
            + Send
            + Sync
            + 'static,
    ) -> AuthHttp {
        AuthHttp(Arc::new(f))
    }

    /// Requests on connections of their own, spawned on `rt` (for code outside an MCP
    /// client, like a resource server fetching its authorization server's keys).
    pub fn standalone<R: Runtime>(
        rt: R,
        connector: Arc<dyn Connector>,
        options: HttpClientOptions,
    ) -> AuthHttp {
        let mut pool = Pool::new(connector, options, rt);
        pool.detached = true;
        auth_http(&Arc::new(pool))
    }

    /// Performs `request`.
    pub fn send(&self, request: AuthRequest) -> BoxFuture<'static, Result<AuthResponse, String>> {
        (self.0)(request)
    }
}

impl std::fmt::Debug for AuthHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthHttp")
    }
}

impl<F: Fn() -> Option<String> + Send + Sync + 'static> BearerAuth for F {
    fn token(&self) -> Option<String> {
        self()
    }
}

/// Reports what the transport did (fallbacks, re-initializations, rejected tools), for logs.
pub type EventFn = Arc<dyn Fn(&HttpClientEvent) + Send + Sync>;

/// How the HTTP client behaves beyond the protocol defaults.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpClientOptions {
    /// Headers added to every request (never replacing the protocol's own).
    pub headers: Vec<(String, String)>,
    /// Bearer credentials.
    pub auth: Option<Arc<dyn BearerAuth>>,
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// First delay after a failed attempt; doubles per failure.
    pub backoff_initial: Duration,
    /// Longest delay between attempts.
    pub backoff_max: Duration,
    /// Attempts to send one message before it fails.
    pub max_attempts: u32,
    /// Reconnections in a row of one stream that bring no message before it is given up.
    pub max_reconnects: u32,
    /// Reconnection delay of a stream whose server sent no `retry`.
    pub default_retry: Duration,
    /// Largest JSON body or SSE event accepted.
    pub max_body_len: usize,
    /// Most open connections (each open SSE stream holds one; at least 2 are allowed).
    pub max_connections: usize,
    /// Open the legacy standalone GET stream for server-initiated messages.
    pub standalone_stream: bool,
    /// TLS settings for `https://` (default: Mozilla's roots, no client certificate).
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<futures_rustls::rustls::ClientConfig>>,
    /// Told about transport events.
    pub on_event: Option<EventFn>,
    /// How long closing waits for the legacy session's DELETE.
    pub close_grace: Duration,
    /// Longest wait for the response head of an exchange carrying no request (a
    /// notification, an answer, a GET stream); a request waits as long as its own timeout.
    pub response_timeout: Option<Duration>,
    /// Longest gap between the bytes of a JSON response body.
    pub idle_timeout: Option<Duration>,
    /// An SSE stream that sends no byte for this long is dead: resumed or reopened when that
    /// loses nothing, else its request fails with [`HttpError::TimedOut`].
    pub stream_idle_timeout: Option<Duration>,
    /// A stream that can be resumed or reopened and carries only keep-alive comments for this
    /// long is reopened.
    pub stream_quiet_timeout: Option<Duration>,
}

mcp_proto::__config_setters!(HttpClientOptions {
    with_headers => headers: Vec<(String, String)>,
    with_auth => auth: Option<Arc<dyn BearerAuth>>,
    with_connect_timeout => connect_timeout: Duration,
    with_backoff_initial => backoff_initial: Duration,
    with_backoff_max => backoff_max: Duration,
    with_max_attempts => max_attempts: u32,
    with_max_reconnects => max_reconnects: u32,
    with_default_retry => default_retry: Duration,
    with_max_body_len => max_body_len: usize,
    with_max_connections => max_connections: usize,
    with_standalone_stream => standalone_stream: bool,
    with_tls => tls: Option<Arc<futures_rustls::rustls::ClientConfig>>,
    with_on_event => on_event: Option<EventFn>,
    with_close_grace => close_grace: Duration,
    with_response_timeout => response_timeout: Option<Duration>,
    with_idle_timeout => idle_timeout: Option<Duration>,
    with_stream_idle_timeout => stream_idle_timeout: Option<Duration>,
    with_stream_quiet_timeout => stream_quiet_timeout: Option<Duration>,
});

impl Default for HttpClientOptions {
    fn default() -> Self {
        let core = HttpClientConfig::new("");
        HttpClientOptions {
            headers: Vec::new(),
            auth: None,
            connect_timeout: Duration::from_secs(10),
            backoff_initial: core.backoff_initial,
            backoff_max: core.backoff_max,
            max_attempts: core.max_attempts,
            max_reconnects: core.max_reconnects,
            default_retry: core.default_retry,
            max_body_len: core.max_body_len,
            max_connections: 32,
            standalone_stream: true,
            #[cfg(feature = "tls")]
            tls: None,
            on_event: None,
            close_grace: Duration::from_secs(2),
            response_timeout: core.response_timeout,
            idle_timeout: core.idle_timeout,
            stream_idle_timeout: core.stream_idle_timeout,
            stream_quiet_timeout: core.stream_quiet_timeout,
        }
    }
}

impl std::fmt::Debug for HttpClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientOptions")
            .field("headers", &self.headers.len())
            .field("auth", &self.auth.is_some())
            .field("connect_timeout", &self.connect_timeout)
            .field("backoff_initial", &self.backoff_initial)
            .field("backoff_max", &self.backoff_max)
            .field("max_attempts", &self.max_attempts)
            .field("max_reconnects", &self.max_reconnects)
            .field("max_connections", &self.max_connections)
            .field("response_timeout", &self.response_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("stream_quiet_timeout", &self.stream_quiet_timeout)
            .finish_non_exhaustive()
    }
}

/// Why connecting over HTTP failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HttpConnectError {
    /// The URL is not an `http://` or `https://` URL with a host.
    #[error("invalid MCP URL: {0}")]
    InvalidUrl(String),
    /// HTTP failed (unreachable, 401 with its challenge, refused ...).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The MCP handshake failed.
    #[error(transparent)]
    Handshake(#[from] ConnectError),
}

/// The HTTP failure behind a failed call, if that is what it was.
pub fn http_error(e: &CallError) -> Option<HttpError> {
    match e {
        CallError::Request(RequestError::Rpc(obj)) => HttpError::from_error_object(obj),
        _ => None,
    }
}

/// Connects to the MCP endpoint at `url` over streamable HTTP (or the 2024-11-05 HTTP+SSE
/// transport, when that is what the server speaks): detects the era, performs the handshake
/// and returns the client once the server is ready. Every [`Client`] method works as over
/// stdio. [`Client::close`] ends a legacy session with DELETE and stops the connection's
/// task; dropping every handle does the same within a few seconds.
pub async fn connect_http<R: Runtime>(
    rt: R,
    connector: Arc<dyn Connector>,
    url: &str,
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
    options: HttpClientOptions,
) -> Result<Client, HttpConnectError> {
    let target = Target::parse(url).ok_or_else(|| HttpConnectError::InvalidUrl(url.into()))?;
    if target.tls {
        // Fail early on a broken TLS setup rather than on every request.
        tls_config(&options).map_err(HttpConnectError::InvalidUrl)?;
    }
    let mut core_config = HttpClientConfig::new(url);
    core_config.backoff_initial = options.backoff_initial;
    core_config.backoff_max = options.backoff_max;
    core_config.max_attempts = options.max_attempts;
    core_config.max_reconnects = options.max_reconnects;
    core_config.default_retry = options.default_retry;
    core_config.max_body_len = options.max_body_len;
    core_config.standalone_stream = options.standalone_stream;
    core_config.response_timeout = options.response_timeout;
    core_config.idle_timeout = options.idle_timeout;
    core_config.stream_idle_timeout = options.stream_idle_timeout;
    core_config.stream_quiet_timeout = options.stream_quiet_timeout;
    let now = rt.now();
    let mut session = ClientSession::new(config, now);
    session
        .connect(now)
        .map_err(|e| ConnectError::Malformed(e.to_string()))?;
    let (shared, ready) = new_shared(session, handler);
    let fatal = Arc::new(Mutex::new(None));
    let io = Arc::new(Mutex::new(IoState {
        core: HttpClient::new(core_config),
        waker: None,
        tasks: HashMap::new(),
    }));
    let pool = Arc::new(Pool::new(connector, options.clone(), rt.clone()));
    let transport = HttpTransport {
        rt: rt.clone(),
        io,
        pool,
        options: Arc::new(options),
        running: Vec::new(),
        conns: Vec::new(),
        fatal: fatal.clone(),
        closing_since: None,
    };
    let engine = Engine::new(rt.clone(), vec![Box::new(shared.clone())], transport);
    rt.spawn(Box::pin(async move {
        let _ = engine.await;
    }));
    match finish_connect(rt, shared, ready).await {
        Ok(client) => Ok(client),
        Err(e) => match lock(&fatal).take() {
            Some(h) => Err(HttpConnectError::Http(h)),
            None => Err(HttpConnectError::Handshake(e)),
        },
    }
}

// ----- the transport -----------------------------------------------------------------------

/// State shared by the transport and the exchanges.
struct IoState {
    core: HttpClient,
    waker: Option<Waker>,
    tasks: HashMap<ExchangeId, Arc<AbortFlag>>,
}

impl IoState {
    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// How often an idle client looks whether its handles were all dropped.
const IDLE_TICK: Duration = Duration::from_secs(5);

/// The client session's frames as HTTP exchanges, decided by [`HttpClient`].
struct HttpTransport<R: Runtime> {
    rt: R,
    io: Arc<Mutex<IoState>>,
    pool: Arc<Pool<R>>,
    /// Shared with every exchange (cloned per request otherwise).
    options: Arc<HttpClientOptions>,
    /// Exchanges in progress.
    running: Vec<Abortable<BoxFuture<'static, ()>>>,
    /// hyper's connection futures, polled here rather than spawned: a response then reaches
    /// its exchange inside this task, with no hop through a connection task.
    conns: Vec<BoxFuture<'static, ()>>,
    fatal: Arc<Mutex<Option<HttpError>>>,
    closing_since: Option<Instant>,
}

impl<R: Runtime> Transport<R> for HttpTransport<R> {
    // Exchanges and hyper's connections are polled with the engine's waker and wake each
    // other from inside its poll.
    const COALESCE: bool = true;
    const STOPPED: &'static str = "HTTP client stopped";

    fn poll_io(&mut self, cx: Option<&mut Context<'_>>, round: &mut Round<'_, R>) -> Io {
        let mut result = Io::default();
        // Never driven inline (no kick); a caller without a context just leaves it to the
        // engine's task.
        let Some(cx) = cx else {
            round.needs_driver = true;
            return result;
        };
        let now = round.now;
        let mut messages = Vec::new();
        let mut events = Vec::new();
        let mut started = Vec::new();
        let (core_due, idle) = {
            let mut io = lock(&self.io);
            for t in round.out[0].drain(..) {
                io.core.handle_transmit(now, t);
            }
            // Every handle dropped without `close`: nobody can use the session any more.
            if (round.stopped != 0 || round.orphaned) && self.closing_since.is_none() {
                self.closing_since = Some(now);
                io.core.close(now);
            }
            if io.core.poll_timeout().is_some_and(|t| t <= now) {
                io.core.handle_timeout(now);
            }
            while let Some(id) = io.core.poll_abort() {
                if let Some(a) = io.tasks.remove(&id) {
                    a.fire();
                }
            }
            while let Some(req) = io.core.poll_request() {
                let abort = Arc::new(AbortFlag::default());
                io.tasks.insert(req.id, abort.clone());
                let fut = run_exchange(
                    self.rt.clone(),
                    self.pool.clone(),
                    self.io.clone(),
                    self.options.clone(),
                    req,
                );
                started.push(Abortable::new(fut, abort));
            }
            messages.extend(std::iter::from_fn(|| io.core.poll_message()));
            events.extend(std::iter::from_fn(|| io.core.poll_event()));
            if !io.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                io.waker = Some(cx.waker().clone());
            }
            (io.core.poll_timeout(), io.core.exchanges() == 0)
        };
        for e in &events {
            crate::trace::http_client_event(e);
            if let Some(f) = &self.options.on_event {
                f(e);
            }
        }
        let failed = events.into_iter().find_map(|e| match e {
            HttpClientEvent::Failed(h) => Some(h),
            _ => None,
        });
        // Once the server is given up on, nothing new goes out (a closing session may
        // still have queued frames, e.g. the initialize after a failed probe).
        if failed.is_none() && lock(&self.fatal).is_none() {
            self.running.extend(started);
        }
        // Exchanges run inside the engine's future rather than as tasks of their own: a
        // response then wakes it directly, one task hop fewer per call. Polled outside the
        // lock, which they take to report.
        let before = self.running.len();
        self.running
            .retain_mut(|ex| Pin::new(ex).poll(cx).is_pending());
        let finished = self.running.len() < before;
        self.conns.append(&mut lock(&self.pool.fresh));
        self.conns.retain_mut(|c| c.as_mut().poll(cx).is_pending());
        result.progressed = !messages.is_empty() || finished;
        if !messages.is_empty() {
            round.sessions[0].deliver(now, &mut messages.into_iter());
        }
        if let Some(h) = failed {
            result.close = Some(h.to_string());
            lock(&self.fatal).get_or_insert(h);
            return result;
        }
        if let Some(since) = self.closing_since {
            let grace_over = now >= since + self.options.close_grace;
            if idle || grace_over {
                let mut io = lock(&self.io);
                for (_, a) in io.tasks.drain() {
                    a.fire();
                }
                result.end = Some(End::Done("closed".into()));
                return result;
            }
        }
        // The close grace, and a slow tick that notices when every handle was dropped
        // (nothing else may wake an idle client).
        let grace = self.closing_since.map(|s| s + self.options.close_grace);
        let tick = self.closing_since.is_none().then(|| now + IDLE_TICK);
        result.deadline = [core_due, grace, tick].into_iter().flatten().min();
        result
    }
}

// ----- one exchange ------------------------------------------------------------------------

/// Reports to the core under the lock and wakes the driver.
fn report<F: FnOnce(&mut HttpClient, Instant)>(io: &Arc<Mutex<IoState>>, now: Instant, f: F) {
    let mut g = lock(io);
    f(&mut g.core, now);
    g.wake();
}

fn run_exchange<R: Runtime>(
    rt: R,
    pool: Arc<Pool<R>>,
    io: Arc<Mutex<IoState>>,
    options: Arc<HttpClientOptions>,
    req: HttpRequest,
) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let id = req.id;
        let outcome = exchange(&rt, &pool, &io, &options, &req).await;
        let now = rt.now();
        {
            let mut g = lock(&io);
            g.tasks.remove(&id);
        }
        match outcome {
            Ok(()) => report(&io, now, |c, now| c.handle_end(now, id)),
            Err((kind, reason)) => {
                report(&io, now, |c, now| c.handle_failure(now, id, kind, &reason))
            }
        }
    })
}

type ExchangeResult = Result<(), (FailureKind, String)>;

async fn exchange<R: Runtime>(
    rt: &R,
    pool: &Arc<Pool<R>>,
    io: &Arc<Mutex<IoState>>,
    options: &HttpClientOptions,
    req: &HttpRequest,
) -> ExchangeResult {
    let target = pool
        .target(&req.url)
        .ok_or_else(|| (FailureKind::Connect, format!("invalid URL {}", req.url)))?;
    let mut auth_attempts = 0u32;
    let mut stale_retried = false;
    let response = loop {
        if let Some(auth) = options.auth.as_ref().filter(|a| a.needs_prepare()) {
            auth.prepare(auth_http(pool)).await;
        }
        let mut lease = pool
            .acquire(&target)
            .await
            .map_err(|e| (FailureKind::Connect, e))?;
        let request = build_request(&target, req, options).map_err(|e| (FailureKind::Io, e))?;
        let sent_auth = options
            .auth
            .as_ref()
            .and_then(|_| request.headers().get(hyper::header::AUTHORIZATION).cloned());
        let reused = lease.reused;
        // The core's response deadline runs from here, not from the wait for a connection.
        report(io, rt.now(), |c, now| c.handle_sent(now, req.id));
        let sent = match lease.sender.as_mut() {
            Some(s) => s.send_request(request).await,
            None => return Err((FailureKind::Connect, "no connection".into())),
        };
        let response = match sent {
            Ok(r) => r,
            // A pooled connection the server closed meanwhile: once more on a fresh one.
            Err(e) if reused && !stale_retried && (e.is_canceled() || e.is_closed()) => {
                lease.discard();
                stale_retried = true;
                continue;
            }
            Err(e) => {
                lease.discard();
                return Err((FailureKind::Io, e.to_string()));
            }
        };
        let status = response.status().as_u16();
        if let Some(auth) = options
            .auth
            .as_ref()
            .filter(|_| status == 401 || status == 403)
        {
            if auth_attempts < auth.retry_budget() {
                let challenge = response
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let sent_token = sent_auth
                    .as_ref()
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| {
                        v.strip_prefix("Bearer ")
                            .or_else(|| v.strip_prefix("DPoP "))
                    });
                let dpop_nonce = response
                    .headers()
                    .get("dpop-nonce")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let rejection = Rejection {
                    status,
                    www_authenticate: challenge.as_deref(),
                    attempt: auth_attempts,
                    sent_token,
                    dpop_nonce: dpop_nonce.as_deref(),
                };
                // The connection goes back before waiting on the auth flow: refused requests
                // holding every pooled connection would leave the flow's own token request
                // none (32 concurrent 401s against a pool of 32 deadlocked).
                lease.discard();
                let retry = auth.rejected(rejection, auth_http(pool)).await;
                crate::trace::event!(
                    info,
                    status,
                    attempt = auth_attempts,
                    retry,
                    "auth: request refused"
                );
                if retry {
                    auth_attempts += 1;
                    continue;
                }
            }
        }
        break (response, lease);
    };
    let (response, mut lease) = response;
    let status = response.status().as_u16();
    report(io, rt.now(), |c, now| {
        c.handle_response(now, req.id, status, &HeaderView(response.headers()))
    });
    let mut body: Incoming = response.into_body();
    loop {
        let frame = futures_lite::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if !data.is_empty() {
                        report(io, rt.now(), |c, now| c.handle_body(now, req.id, &data));
                    }
                }
                // All Content-Length bytes are in: no need for another poll to hear so.
                if body.is_end_stream() {
                    break;
                }
            }
            Some(Err(e)) => {
                lease.discard();
                return Err((FailureKind::Io, e.to_string()));
            }
        }
    }
    lease.release();
    Ok(())
}

fn build_request(
    target: &Target,
    req: &HttpRequest,
    options: &HttpClientOptions,
) -> Result<hyper::Request<FullBody>, String> {
    use hyper::header::{HeaderName, HeaderValue};
    let method = match req.method {
        Method::Post => hyper::Method::POST,
        Method::Get => hyper::Method::GET,
        Method::Delete => hyper::Method::DELETE,
        Method::Other => return Err("unsupported method".into()),
    };
    let mut request =
        hyper::Request::new(FullBody(Some(req.body.clone()).filter(|b| !b.is_empty())));
    *request.method_mut() = method;
    *request.uri_mut() = target.path_and_query.clone();
    let headers = request.headers_mut();
    headers.insert(hyper::header::HOST, target.host_header.clone());
    let value = |v: &str| HeaderValue::from_str(v).map_err(|e| format!("header value: {e}"));
    for (k, v) in &req.headers {
        let name = match k {
            // The core's own names are lowercase constants: no parsing, no allocation.
            Cow::Borrowed(k) if is_plain_name(k) => HeaderName::from_static(k),
            k => HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("header {k}: {e}"))?,
        };
        let v = match v {
            // Constant values are checked, then used in place.
            Cow::Borrowed(v) => HeaderValue::from_maybe_shared(Bytes::from_static(v.as_bytes()))
                .map_err(|e| format!("header value: {e}"))?,
            Cow::Owned(v) => value(v)?,
        };
        headers.append(name, v);
    }
    for (k, v) in &options.headers {
        if req.header(k).is_none() && !k.eq_ignore_ascii_case("host") {
            let name =
                HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("header {k}: {e}"))?;
            headers.append(name, value(v)?);
        }
    }
    if let Some(auth) = &options.auth {
        if !headers.contains_key(hyper::header::AUTHORIZATION) {
            if let Some(token) = auth.token() {
                headers.insert(
                    hyper::header::AUTHORIZATION,
                    value(&format!("Bearer {token}"))?,
                );
            }
        }
        for (k, v) in auth.headers(method_name(req.method), &req.url) {
            let name =
                HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("header {k}: {e}"))?;
            headers.insert(name, value(&v)?);
        }
    }
    Ok(request)
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Post => "POST",
        Method::Get => "GET",
        Method::Delete => "DELETE",
        Method::Other => "OTHER",
    }
}

/// An [`AuthHttp`] over `pool`.
fn auth_http<R: Runtime>(pool: &Arc<Pool<R>>) -> AuthHttp {
    let pool = pool.clone();
    AuthHttp::new(move |req| {
        let pool = pool.clone();
        Box::pin(async move { auth_exchange(&pool, req).await })
    })
}

/// One OAuth request on the pool: the whole body is read, up to `max_body_len`.
async fn auth_exchange<R: Runtime>(
    pool: &Pool<R>,
    req: AuthRequest,
) -> Result<AuthResponse, String> {
    use hyper::header::{HeaderName, HeaderValue};
    let target = Target::parse(&req.url).ok_or_else(|| format!("invalid URL {}", req.url))?;
    let mut lease = pool.acquire(&target).await?;
    let mut request = hyper::Request::new(FullBody(
        Some(Bytes::from(req.body)).filter(|b| !b.is_empty()),
    ));
    *request.method_mut() = match req.method {
        AuthMethod::Get => hyper::Method::GET,
        AuthMethod::Post => hyper::Method::POST,
    };
    *request.uri_mut() = target.path_and_query.clone();
    let headers = request.headers_mut();
    headers.insert(hyper::header::HOST, target.host_header.clone());
    for (k, v) in &req.headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("header {k}: {e}"))?;
        let value = HeaderValue::from_str(v).map_err(|e| format!("header value: {e}"))?;
        headers.insert(name, value);
    }
    let sender = lease.sender.as_mut().ok_or("no connection")?;
    let response = match sender.send_request(request).await {
        Ok(r) => r,
        Err(e) => {
            lease.discard();
            return Err(e.to_string());
        }
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let mut body: Incoming = response.into_body();
    let mut out = Vec::new();
    let limit = pool.options.max_body_len;
    while !body.is_end_stream() {
        match futures_lite::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if out.len() + data.len() > limit {
                        lease.discard();
                        return Err(format!("response body over {limit} bytes"));
                    }
                    out.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => {
                lease.discard();
                return Err(e.to_string());
            }
        }
    }
    lease.release();
    Ok(AuthResponse {
        status,
        headers,
        body: out,
    })
}

/// Whether `name` is a header name [`HeaderName::from_static`](hyper::header::HeaderName)
/// accepts as it is (lowercase token characters).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Response headers as the core reads them.
struct HeaderView<'a>(&'a hyper::HeaderMap);

impl Headers for HeaderView<'_> {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(|v| v.as_bytes())
    }
}

/// A request body sent in one piece.
struct FullBody(Option<Bytes>);

impl Body for FullBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.0.take().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }
}

// ----- URLs ---------------------------------------------------------------------------------

/// Where a URL points, with what every request to it reuses.
#[derive(Debug, Clone)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    path_and_query: hyper::Uri,
    host_header: hyper::header::HeaderValue,
}

impl Target {
    fn parse(url: &str) -> Option<Target> {
        let uri: hyper::Uri = url.parse().ok()?;
        let tls = match uri.scheme_str()? {
            "http" => false,
            "https" => true,
            _ => return None,
        };
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return None;
        }
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let path_and_query = uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned());
        let path_and_query = if path_and_query.is_empty() {
            "/".to_owned()
        } else {
            path_and_query
        };
        let host_header = {
            let h = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.to_owned()
            };
            match (tls, port) {
                (false, 80) | (true, 443) => h,
                (_, p) => format!("{h}:{p}"),
            }
        };
        Some(Target {
            tls,
            host: host.to_owned(),
            port,
            path_and_query: path_and_query.parse().ok()?,
            host_header: hyper::header::HeaderValue::from_str(&host_header).ok()?,
        })
    }

    fn key(&self) -> (bool, String, u16) {
        (self.tls, self.host.clone(), self.port)
    }
}

// ----- the connection pool -------------------------------------------------------------------

type Sender = http1::SendRequest<FullBody>;

struct PoolInner {
    idle: HashMap<(bool, String, u16), Vec<Sender>>,
    open: usize,
    waiters: VecDeque<Waker>,
}

/// Idle HTTP/1.1 connections per origin, reused; new ones opened up to a bound.
struct Pool<R: Runtime> {
    connector: Arc<dyn Connector>,
    options: HttpClientOptions,
    rt: R,
    inner: Arc<Mutex<PoolInner>>,
    /// Connection futures opened since the driver last looked, for it to poll.
    fresh: Mutex<Vec<BoxFuture<'static, ()>>>,
    /// The last URL parsed (a client almost always posts to one).
    last_target: Mutex<Option<(String, Arc<Target>)>>,
    /// No driver polls `fresh`: connections run in tasks of their own.
    detached: bool,
}

/// A connection in use; goes back to the pool on [`release`](Lease::release), else is closed.
struct Lease {
    sender: Option<Sender>,
    key: (bool, String, u16),
    reused: bool,
    inner: Arc<Mutex<PoolInner>>,
}

impl Lease {
    fn release(&mut self) {
        let Some(sender) = self.sender.take() else {
            return;
        };
        let mut g = lock(&self.inner);
        if sender.is_closed() {
            g.open = g.open.saturating_sub(1);
        } else {
            g.idle.entry(self.key.clone()).or_default().push(sender);
        }
        if let Some(w) = g.waiters.pop_front() {
            w.wake();
        }
    }

    fn discard(&mut self) {
        if self.sender.take().is_some() {
            let mut g = lock(&self.inner);
            g.open = g.open.saturating_sub(1);
            if let Some(w) = g.waiters.pop_front() {
                w.wake();
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.discard();
    }
}

impl<R: Runtime> Pool<R> {
    fn new(connector: Arc<dyn Connector>, options: HttpClientOptions, rt: R) -> Self {
        Pool {
            connector,
            options,
            rt,
            inner: Arc::new(Mutex::new(PoolInner {
                idle: HashMap::new(),
                open: 0,
                waiters: VecDeque::new(),
            })),
            fresh: Mutex::new(Vec::new()),
            last_target: Mutex::new(None),
            detached: false,
        }
    }

    /// `url` parsed, from the cache when it is the last one seen.
    fn target(&self, url: &str) -> Option<Arc<Target>> {
        let mut last = lock(&self.last_target);
        if let Some((u, t)) = last.as_ref() {
            if u == url {
                return Some(t.clone());
            }
        }
        let t = Arc::new(Target::parse(url)?);
        *last = Some((url.to_owned(), t.clone()));
        Some(t)
    }

    /// An idle connection to `target`, or a new one once the bound allows.
    async fn acquire(&self, target: &Target) -> Result<Lease, String> {
        let key = target.key();
        let reused = futures_lite::future::poll_fn(|cx| {
            let mut g = lock(&self.inner);
            while let Some(s) = g.idle.get_mut(&key).and_then(Vec::pop) {
                if s.is_ready() {
                    return Poll::Ready(Some(s));
                }
                g.open = g.open.saturating_sub(1);
            }
            // Two at least: a standalone stream must not starve the POSTs.
            if g.open < self.options.max_connections.max(2) {
                g.open += 1;
                return Poll::Ready(None);
            }
            // Make room: an idle connection to another origin is closed.
            if let Some(other) = g.idle.values_mut().find(|v| !v.is_empty()) {
                other.pop();
                return Poll::Ready(None);
            }
            g.waiters.push_back(cx.waker().clone());
            Poll::Pending
        })
        .await;
        let mut lease = Lease {
            sender: None,
            key,
            reused: reused.is_some(),
            inner: self.inner.clone(),
        };
        if let Some(s) = reused {
            lease.sender = Some(s);
            return Ok(lease);
        }
        // `open` was counted for this lease: a failure below gives it back on drop.
        lease.sender = Some(self.open_connection(target).await?);
        Ok(lease)
    }

    async fn open_connection(&self, target: &Target) -> Result<Sender, String> {
        let deadline = self.rt.now() + self.options.connect_timeout;
        let connect = async {
            let tcp = self
                .connector
                .connect(&target.host, target.port)
                .await
                .map_err(|e| format!("connect to {}:{}: {e}", target.host, target.port))?;
            let stream: BoxStream = if target.tls {
                tls_connect(&self.options, target, tcp).await?
            } else {
                tcp
            };
            let (sender, conn) = http1::handshake(HyperIo::new(stream))
                .await
                .map_err(|e| format!("HTTP handshake: {e}"))?;
            let conn = Box::pin(async move {
                let _ = conn.await;
            });
            if self.detached {
                self.rt.spawn(conn);
            } else {
                lock(&self.fresh).push(conn);
            }
            Ok::<Sender, String>(sender)
        };
        let timeout = self.rt.sleep_until(deadline);
        futures_lite::future::or(connect, async move {
            timeout.await;
            Err("connect timed out".to_owned())
        })
        .await
    }
}

/// `tcp` with TLS to `target` on top.
#[cfg(feature = "tls")]
async fn tls_connect(
    options: &HttpClientOptions,
    target: &Target,
    tcp: BoxStream,
) -> Result<BoxStream, String> {
    let config = tls_config(options)?;
    let name = futures_rustls::rustls::pki_types::ServerName::try_from(target.host.clone())
        .map_err(|e| format!("TLS server name {}: {e}", target.host))?;
    let tls = futures_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake with {}: {e}", target.host))?;
    Ok(Box::new(tls))
}

/// Without the `tls` feature `https://` is refused ([`connect_http`] already says so).
#[cfg(not(feature = "tls"))]
async fn tls_connect(
    options: &HttpClientOptions,
    _target: &Target,
    _tcp: BoxStream,
) -> Result<BoxStream, String> {
    tls_config(options).map(|never| match never {})
}

/// Without the `tls` feature there is no TLS configuration to make.
#[cfg(not(feature = "tls"))]
fn tls_config(_options: &HttpClientOptions) -> Result<std::convert::Infallible, String> {
    Err("https:// URLs need the `tls` feature of mcp-driver".to_owned())
}

/// The TLS client configuration: the caller's, or Mozilla's roots with the ring provider.
#[cfg(feature = "tls")]
fn tls_config(
    options: &HttpClientOptions,
) -> Result<Arc<futures_rustls::rustls::ClientConfig>, String> {
    use futures_rustls::rustls;
    if let Some(c) = &options.tls {
        return Ok(c.clone());
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
        .map_err(|e| format!("TLS setup: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("http://127.0.0.1:8080/mcp?x=1").unwrap();
        assert_eq!((t.tls, t.host.as_str(), t.port), (false, "127.0.0.1", 8080));
        assert_eq!(t.path_and_query, "/mcp?x=1");
        assert_eq!(t.host_header, "127.0.0.1:8080");
        let t = Target::parse("https://example.com").unwrap();
        assert_eq!((t.tls, t.port), (true, 443));
        assert_eq!(t.path_and_query, "/");
        assert_eq!(t.host_header, "example.com");
        let t = Target::parse("http://[::1]:9/m").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.host_header, "[::1]:9");
        assert!(Target::parse("ftp://x/").is_none());
        assert!(Target::parse("/relative").is_none());
    }

    #[test]
    #[cfg(feature = "tls")]
    fn default_tls_config_builds() {
        let c = tls_config(&HttpClientOptions::default()).unwrap();
        assert!(!c.alpn_protocols.iter().any(|p| p == b"h2"));
    }
}
