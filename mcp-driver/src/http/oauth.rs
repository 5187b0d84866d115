//! OAuth 2.1 for the HTTP client: [`OAuth`] runs [`mcp_proto::auth::AuthFlow`] over the
//! client's own connections, from the [`BearerAuth`] hooks.
//!
//! - Before a request, an expired token (also one loaded from a [`CredentialStore`] after its
//!   absolute expiry) is refreshed.
//! - A 401 refreshes the token (or, without a refresh token, or when the retry with a fresh
//!   one is refused too, runs discovery and authorization again); a 403 `insufficient_scope` authorizes again
//!   for the union of scopes. Each request is sent again at most
//!   [`OAuth::with_retry_budget`] times.
//! - Single flight: however many requests are refused at once, one flow runs and the others
//!   wait for its token; a request refused with a token that was already replaced is simply
//!   sent again.
//! - Clients are stored by issuer and tokens by MCP server URL; registered clients and new
//!   tokens are saved as soon as a flow ends.
//!
//! The user's part of the code flow is an [`AuthorizationHandler`]:
//! [`HeadlessAuthorization`] (takes the redirect's `Location` without a browser: tests,
//! conformance, auto-approving servers) or [`LoopbackAuthorization`] (prints the URL and
//! waits for the browser's redirect on 127.0.0.1).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use mcp_proto::auth::dpop::{self, ProofRequest};
use mcp_proto::auth::{
    bearer_challenge, unix_seconds, url, AuthError, AuthFlow, AuthMethod, AuthRequest,
    ClientCredentials, Discovery, FlowOutcome, JwtSigner, OAuthConfig, Start, Step, TokenSet,
};
use serde::{Deserialize, Serialize};

use super::client::{AuthHttp, BearerAuth, BoxStream, Rejection};
use crate::engine::lock;
use crate::runtime::{BoxFuture, OsEntropy};

/// Where OAuth clients and tokens are kept.
pub trait CredentialStore: Send + Sync + 'static {
    /// The client registered at `issuer` (exact string), if any.
    fn client(&self, issuer: &str) -> Option<ClientCredentials>;
    /// Keeps a client under its issuer.
    fn save_client(&self, client: &ClientCredentials);
    /// The tokens for the MCP server at `server_url`, if any.
    fn tokens(&self, server_url: &str) -> Option<TokenSet>;
    /// Keeps the tokens for `server_url`.
    fn save_tokens(&self, server_url: &str, tokens: &TokenSet);
    /// Forgets the tokens for `server_url`.
    fn remove_tokens(&self, server_url: &str);
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Stored {
    #[serde(default)]
    clients: HashMap<String, ClientCredentials>,
    #[serde(default)]
    tokens: HashMap<String, TokenSet>,
}

/// A [`CredentialStore`] in memory (the default: nothing outlives the process).
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<Stored>);

impl CredentialStore for MemoryStore {
    fn client(&self, issuer: &str) -> Option<ClientCredentials> {
        lock(&self.0).clients.get(issuer).cloned()
    }
    fn save_client(&self, client: &ClientCredentials) {
        lock(&self.0)
            .clients
            .insert(client.issuer.clone(), client.clone());
    }
    fn tokens(&self, server_url: &str) -> Option<TokenSet> {
        lock(&self.0).tokens.get(server_url).cloned()
    }
    fn save_tokens(&self, server_url: &str, tokens: &TokenSet) {
        lock(&self.0)
            .tokens
            .insert(server_url.to_owned(), tokens.clone());
    }
    fn remove_tokens(&self, server_url: &str) {
        lock(&self.0).tokens.remove(server_url);
    }
}

type ErrorFn = dyn Fn(&io::Error) + Send + Sync;

/// A [`CredentialStore`] in one JSON file, rewritten whole (through a temporary file and a
/// rename) on every change; readable by the owner only on Unix. A file that cannot be read
/// counts as empty; write failures are reported to `on_error` and otherwise ignored (the
/// tokens stay usable in memory).
pub struct FileStore {
    path: PathBuf,
    cache: Mutex<Option<Stored>>,
    on_error: Option<Arc<ErrorFn>>,
}

impl FileStore {
    /// A store at `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> FileStore {
        FileStore {
            path: path.into(),
            cache: Mutex::new(None),
            on_error: None,
        }
    }

    /// Told about write failures.
    #[must_use]
    pub fn on_error(mut self, f: impl Fn(&io::Error) + Send + Sync + 'static) -> FileStore {
        self.on_error = Some(Arc::new(f));
        self
    }

    fn with<T>(&self, write: bool, f: impl FnOnce(&mut Stored) -> T) -> T {
        let mut g = lock(&self.cache);
        let stored = g.get_or_insert_with(|| {
            std::fs::read(&self.path)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default()
        });
        let out = f(stored);
        if write {
            if let Err(e) = self.write(stored) {
                if let Some(cb) = &self.on_error {
                    cb(&e);
                }
            }
        }
        out
    }

    fn write(&self, stored: &Stored) -> io::Result<()> {
        let body = serde_json::to_vec_pretty(stored).map_err(io::Error::other)?;
        let tmp = self.path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        {
            use std::io::Write;
            let mut f = options.open(&tmp)?;
            f.write_all(&body)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)
    }
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .finish()
    }
}

impl CredentialStore for FileStore {
    fn client(&self, issuer: &str) -> Option<ClientCredentials> {
        self.with(false, |s| s.clients.get(issuer).cloned())
    }
    fn save_client(&self, client: &ClientCredentials) {
        self.with(true, |s| {
            s.clients.insert(client.issuer.clone(), client.clone());
        })
    }
    fn tokens(&self, server_url: &str) -> Option<TokenSet> {
        self.with(false, |s| s.tokens.get(server_url).cloned())
    }
    fn save_tokens(&self, server_url: &str, tokens: &TokenSet) {
        self.with(true, |s| {
            s.tokens.insert(server_url.to_owned(), tokens.clone());
        })
    }
    fn remove_tokens(&self, server_url: &str) {
        self.with(true, |s| {
            s.tokens.remove(server_url);
        })
    }
}

/// The user's part of the authorization code flow.
pub trait AuthorizationHandler: Send + Sync + 'static {
    /// The redirect URI to register and send (where this handler receives the answer).
    fn redirect_uri(&self) -> String;

    /// Has the user authorize at `url`; resolves with the query parameters of the redirect
    /// back to [`redirect_uri`](Self::redirect_uri).
    fn authorize(
        &self,
        url: String,
        http: AuthHttp,
    ) -> BoxFuture<'static, Result<Vec<(String, String)>, String>>;
}

/// Authorizes without a user: GETs the authorization URL and follows its redirects (at most
/// [`HeadlessAuthorization::MAX_REDIRECTS`], carrying each origin's cookies back to that
/// origin only, as a browser would through a login and consent the server completes on its
/// own) until one points at the redirect URI, whose query is the answer. For authorization
/// servers that approve on their own: tests, conformance, auto-approving servers.
#[derive(Debug, Clone)]
pub struct HeadlessAuthorization {
    redirect_uri: String,
}

impl HeadlessAuthorization {
    /// Most redirects followed before the authorization fails.
    pub const MAX_REDIRECTS: usize = 10;

    /// Registers `redirect_uri` (never listened on).
    pub fn new(redirect_uri: impl Into<String>) -> HeadlessAuthorization {
        HeadlessAuthorization {
            redirect_uri: redirect_uri.into(),
        }
    }
}

/// Cookies by origin, bounded: the few an authorization server sets during one login.
#[derive(Default)]
struct CookieJar(Vec<(String, String, String)>);

impl CookieJar {
    const MAX: usize = 32;
    const MAX_LEN: usize = 4096;

    fn header(&self, origin: &str) -> Option<String> {
        let pairs: Vec<String> = self
            .0
            .iter()
            .filter(|(o, _, _)| o == origin)
            .map(|(_, k, v)| format!("{k}={v}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    fn store(&mut self, origin: &str, set_cookie: &str) {
        let pair = set_cookie.split(';').next().unwrap_or("").trim();
        let Some((name, value)) = pair.split_once('=') else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || pair.len() > Self::MAX_LEN {
            return;
        }
        self.0.retain(|(o, k, _)| !(o == origin && k == name));
        // A deletion (empty, `Max-Age=0`, or expiring at the epoch as servers write it) only
        // removes.
        let lower = set_cookie.to_ascii_lowercase();
        if value.is_empty() || lower.contains("max-age=0") || lower.contains("01 jan 1970") {
            return;
        }
        if self.0.len() < Self::MAX {
            self.0
                .push((origin.to_owned(), name.to_owned(), value.to_owned()));
        }
    }
}

impl AuthorizationHandler for HeadlessAuthorization {
    fn redirect_uri(&self) -> String {
        self.redirect_uri.clone()
    }

    fn authorize(
        &self,
        url: String,
        http: AuthHttp,
    ) -> BoxFuture<'static, Result<Vec<(String, String)>, String>> {
        let expected = self.redirect_uri.clone();
        Box::pin(async move {
            let mut jar = CookieJar::default();
            let mut at = url;
            for _ in 0..=Self::MAX_REDIRECTS {
                let origin = url::split(&at)
                    .map(|p| p.origin.to_owned())
                    .ok_or_else(|| format!("not an http(s) URL: {at}"))?;
                let headers = jar
                    .header(&origin)
                    .map(|c| vec![("cookie".to_owned(), c)])
                    .unwrap_or_default();
                let response = http
                    .send(AuthRequest {
                        method: AuthMethod::Get,
                        url: at.clone(),
                        headers,
                        body: Vec::new(),
                    })
                    .await?;
                let location = response
                    .header("location")
                    .filter(|_| (300..400).contains(&response.status))
                    .ok_or_else(|| {
                        format!("{origin} answered {} without a redirect", response.status)
                    })?;
                let next = url::resolve(&at, location)
                    .ok_or_else(|| format!("redirected to {location:?}"))?;
                // Only a redirect to our own URI carries our answer; it is never requested.
                if next.split(['?', '#']).next() == Some(expected.as_str()) {
                    return Ok(url::redirect_params(&next));
                }
                for (k, v) in &response.headers {
                    if k.eq_ignore_ascii_case("set-cookie") {
                        jar.store(&origin, v);
                    }
                }
                at = next;
            }
            Err(format!(
                "no redirect to {expected} within {} redirects",
                Self::MAX_REDIRECTS
            ))
        })
    }
}

/// Accepts TCP connections on a loopback listener the runtime opened.
pub trait LoopbackListener: Send + Sync + 'static {
    /// The port it listens on (on 127.0.0.1).
    fn port(&self) -> u16;
    /// The next connection.
    fn accept(&self) -> BoxFuture<'static, io::Result<BoxStream>>;
}

/// Any [`Listener`](crate::accept::Listener) bound on 127.0.0.1 as a [`LoopbackListener`]:
/// what `mcp_tokio::loopback_listener` and `mcp_smol::loopback_listener` return. One accept
/// runs at a time (a second one meanwhile fails with [`io::ErrorKind::WouldBlock`]); the
/// listener goes back in place however the accept ends, dropped included.
pub struct ListenerLoopback<L> {
    slot: Arc<Mutex<Option<L>>>,
    port: u16,
}

impl<L: crate::accept::Listener> ListenerLoopback<L> {
    /// Over `listener`, which listens on 127.0.0.1 at `port`.
    pub fn new(listener: L, port: u16) -> ListenerLoopback<L> {
        ListenerLoopback {
            slot: Arc::new(Mutex::new(Some(listener))),
            port,
        }
    }
}

impl<L> std::fmt::Debug for ListenerLoopback<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerLoopback")
            .field("port", &self.port)
            .finish()
    }
}

/// Puts the listener back when an accept ends or is dropped.
struct Borrowed<L> {
    slot: Arc<Mutex<Option<L>>>,
    listener: Option<L>,
}

impl<L> Drop for Borrowed<L> {
    fn drop(&mut self) {
        if let Some(l) = self.listener.take() {
            *lock(&self.slot) = Some(l);
        }
    }
}

impl<L: crate::accept::Listener> LoopbackListener for ListenerLoopback<L> {
    fn port(&self) -> u16 {
        self.port
    }

    fn accept(&self) -> BoxFuture<'static, io::Result<BoxStream>> {
        // Taken now and owned by the guard, so a future dropped even before its first poll
        // gives the listener back.
        let mut borrowed = Borrowed {
            slot: self.slot.clone(),
            listener: lock(&self.slot).take(),
        };
        Box::pin(async move {
            let Some(listener) = borrowed.listener.as_mut() else {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "another accept is running",
                ));
            };
            let stream = listener.accept().await?;
            Ok(Box::new(stream) as BoxStream)
        })
    }
}

/// Authorizes in the user's browser: shows the URL (through `show`, e.g. printing it) and
/// waits for the redirect to `http://127.0.0.1:<port>/callback` on the listener. Requests to
/// other paths get 404; the first request to the callback path ends the wait.
pub struct LoopbackAuthorization {
    listener: Arc<dyn LoopbackListener>,
    show: Arc<dyn Fn(&str) + Send + Sync>,
}

impl LoopbackAuthorization {
    /// Over `listener` (see `mcp_tokio::loopback_listener` / `mcp_smol::loopback_listener`,
    /// or [`ListenerLoopback`] over any listener).
    pub fn new(
        listener: Arc<dyn LoopbackListener>,
        show: impl Fn(&str) + Send + Sync + 'static,
    ) -> LoopbackAuthorization {
        LoopbackAuthorization {
            listener,
            show: Arc::new(show),
        }
    }
}

impl std::fmt::Debug for LoopbackAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackAuthorization")
            .field("port", &self.listener.port())
            .finish()
    }
}

/// Longest request head the loopback listener reads.
const MAX_CALLBACK_HEAD: usize = 16 * 1024;

impl AuthorizationHandler for LoopbackAuthorization {
    fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.listener.port())
    }

    fn authorize(
        &self,
        url: String,
        _http: AuthHttp,
    ) -> BoxFuture<'static, Result<Vec<(String, String)>, String>> {
        (self.show)(&url);
        let listener = self.listener.clone();
        Box::pin(async move {
            loop {
                let mut stream = listener.accept().await.map_err(|e| e.to_string())?;
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
                    if n == 0 || head.len() + n > MAX_CALLBACK_HEAD {
                        break;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                let line = String::from_utf8_lossy(&head);
                let target = line
                    .lines()
                    .next()
                    .and_then(|l| l.strip_prefix("GET "))
                    .and_then(|l| l.split(' ').next())
                    .unwrap_or("");
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                if path != "/callback" {
                    let _ = stream
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    continue;
                }
                let body = "Authorization received. You can close this window.";
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.flush().await;
                return Ok(url::parse_query(query));
            }
        })
    }
}

/// Signs `private_key_jwt` assertions with a PKCS#8 private key (ES256 or RS256), using
/// `ring` (already the TLS stack's crypto provider).
pub struct PemSigner {
    alg: &'static str,
    key: SigningKey,
}

enum SigningKey {
    Ecdsa(ring::signature::EcdsaKeyPair),
    Rsa(ring::signature::RsaKeyPair),
}

impl PemSigner {
    /// From a PEM `PRIVATE KEY` (PKCS#8) and the JWS algorithm (`ES256` or `RS256`).
    pub fn from_pkcs8_pem(pem: &str, alg: &str) -> Result<PemSigner, String> {
        use base64::Engine;
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| format!("PEM: {e}"))?;
        let rng = ring::rand::SystemRandom::new();
        match alg {
            "ES256" => ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
                &rng,
            )
            .map(|k| PemSigner {
                alg: "ES256",
                key: SigningKey::Ecdsa(k),
            })
            .map_err(|e| format!("ES256 key: {e}")),
            "RS256" => ring::signature::RsaKeyPair::from_pkcs8(&der)
                .map(|k| PemSigner {
                    alg: "RS256",
                    key: SigningKey::Rsa(k),
                })
                .map_err(|e| format!("RS256 key: {e}")),
            other => Err(format!("unsupported signing algorithm {other}")),
        }
    }
}

impl std::fmt::Debug for PemSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemSigner").field("alg", &self.alg).finish()
    }
}

impl PemSigner {
    /// A fresh ES256 key (for DPoP, where the key only has to live as long as its tokens).
    pub fn generate_es256() -> Result<PemSigner, String> {
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let der = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng)
            .map_err(|e| format!("ES256 key: {e}"))?;
        ring::signature::EcdsaKeyPair::from_pkcs8(alg, der.as_ref(), &rng)
            .map(|k| PemSigner {
                alg: "ES256",
                key: SigningKey::Ecdsa(k),
            })
            .map_err(|e| format!("ES256 key: {e}"))
    }
}

impl JwtSigner for PemSigner {
    fn alg(&self) -> &str {
        self.alg
    }

    fn public_jwk(&self) -> Option<serde_json::Value> {
        use mcp_proto::auth::base64url;
        use ring::signature::KeyPair;
        Some(match &self.key {
            SigningKey::Ecdsa(k) => {
                // The uncompressed point: 0x04 || x || y, 32 bytes each for P-256.
                let point = k.public_key().as_ref();
                if point.len() != 65 {
                    return None;
                }
                serde_json::json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": base64url(&point[1..33]),
                    "y": base64url(&point[33..]),
                })
            }
            SigningKey::Rsa(k) => {
                let c = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(k.public());
                serde_json::json!({"kty": "RSA", "n": base64url(&c.n), "e": base64url(&c.e)})
            }
        })
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        let rng = ring::rand::SystemRandom::new();
        match &self.key {
            SigningKey::Ecdsa(k) => k
                .sign(&rng, input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| e.to_string()),
            SigningKey::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, input, &mut sig)
                    .map_err(|e| e.to_string())?;
                Ok(sig)
            }
        }
    }
}

// ----- the OAuth client ----------------------------------------------------------------------

/// How long before its expiry a token is refreshed.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// OAuth 2.1 credentials for one MCP server; put it in
/// [`HttpClientOptions::auth`](super::client::HttpClientOptions::auth). Clones share state.
#[derive(Clone)]
pub struct OAuth {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<OAuthConfig>,
    store: Arc<dyn CredentialStore>,
    handler: Option<Arc<dyn AuthorizationHandler>>,
    clock: fn() -> SystemTime,
    budget: u32,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    loaded: bool,
    tokens: Option<TokenSet>,
    discovery: Option<Box<Discovery>>,
    flight: Option<Arc<Flight>>,
    last_error: Option<AuthError>,
    flows: u64,
    /// The MCP server's latest DPoP nonce (RFC 9449 §9).
    dpop_nonce: Option<String>,
}

impl OAuth {
    /// The code flow for `config.server_url`, with `handler` for the user's part. The
    /// handler's redirect URI replaces `config.redirect_uri`.
    pub fn new(mut config: OAuthConfig, handler: Arc<dyn AuthorizationHandler>) -> OAuth {
        config.redirect_uri = handler.redirect_uri();
        OAuth::build(config, Some(handler))
    }

    /// A flow without a user (client credentials: set `config.grant`).
    pub fn without_user(config: OAuthConfig) -> OAuth {
        OAuth::build(config, None)
    }

    fn build(config: OAuthConfig, handler: Option<Arc<dyn AuthorizationHandler>>) -> OAuth {
        OAuth {
            inner: Arc::new(Inner {
                config: Arc::new(config),
                store: Arc::new(MemoryStore::default()),
                handler,
                clock: SystemTime::now,
                budget: 3,
                state: Mutex::new(State::default()),
            }),
        }
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::get_mut(&mut self.inner).expect("configure OAuth before cloning it")
    }

    /// Keeps clients and tokens in `store` (default: memory). Configure before cloning.
    #[must_use]
    pub fn with_store(mut self, store: Arc<dyn CredentialStore>) -> OAuth {
        self.inner_mut().store = store;
        self
    }

    /// How often one request may be sent again after 401/403 (default 3).
    #[must_use]
    pub fn with_retry_budget(mut self, budget: u32) -> OAuth {
        self.inner_mut().budget = budget;
        self
    }

    /// The wall clock (tests move it; default `SystemTime::now`).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> OAuth {
        self.inner_mut().clock = clock;
        self
    }

    /// The current tokens, if any.
    pub fn tokens(&self) -> Option<TokenSet> {
        let mut st = lock(&self.inner.state);
        self.inner.load(&mut st);
        st.tokens.clone()
    }

    /// Why the last flow failed, if it did.
    pub fn last_error(&self) -> Option<AuthError> {
        lock(&self.inner.state).last_error.clone()
    }

    /// How many flows (authorizations and refreshes) ran.
    pub fn flows(&self) -> u64 {
        lock(&self.inner.state).flows
    }

    /// Runs `start` once, or joins the flow already running. `sent` is the token a refused
    /// request carried: if the current one differs, it was replaced meanwhile and the request
    /// is simply sent again.
    fn single_flight(
        &self,
        sent: Option<Option<&str>>,
        http: AuthHttp,
        start: impl FnOnce(&State) -> Option<Start>,
    ) -> BoxFuture<'static, bool> {
        let mut st = lock(&self.inner.state);
        self.inner.load(&mut st);
        if let Some(f) = &st.flight {
            return Box::pin(f.clone().wait());
        }
        if let Some(sent) = sent {
            if st.tokens.as_ref().map(|t| t.access_token.as_str()) != sent {
                return Box::pin(async { true });
            }
        }
        let Some(start) = start(&st) else {
            return Box::pin(async { false });
        };
        let flight = Arc::new(Flight::default());
        st.flight = Some(flight.clone());
        st.flows += 1;
        drop(st);
        let inner = self.inner.clone();
        Box::pin(async move {
            let mut guard = FlightGuard {
                inner: inner.clone(),
                flight,
                done: false,
            };
            let refresh = matches!(start, Start::Refresh { .. });
            let result = inner.run(start, http).await;
            let ok = inner.apply(result, refresh);
            guard.finish(ok);
            ok
        })
    }
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn load(&self, st: &mut State) {
        if !st.loaded {
            st.loaded = true;
            st.tokens = self
                .store
                .tokens(&self.config.server_url)
                .filter(|t| url::resource_covers(&t.resource, &self.config.server_url));
        }
    }

    async fn run(&self, start: Start, http: AuthHttp) -> Result<FlowOutcome, AuthError> {
        let now = self.clock;
        let mut flow = AuthFlow::new(self.config.clone(), start, now(), Box::new(OsEntropy));
        loop {
            match flow.poll_step() {
                Some(Step::Send(req)) => match http.send(req).await {
                    Ok(r) => flow.handle_response(now(), r),
                    Err(e) => flow.handle_transport_error(now(), e),
                },
                Some(Step::LoadClient { issuer }) => {
                    let stored = self.store.client(&issuer);
                    flow.handle_client(now(), stored);
                }
                Some(Step::Authorize { url }) => {
                    let Some(handler) = &self.handler else {
                        return Err(AuthError::AuthorizationDenied {
                            error: "no_user".into(),
                            description: Some("no authorization handler".into()),
                        });
                    };
                    match handler.authorize(url, http.clone()).await {
                        Ok(params) => flow.handle_redirect(now(), &params),
                        Err(e) => {
                            return Err(AuthError::AuthorizationDenied {
                                error: "authorization_failed".into(),
                                description: Some(e),
                            })
                        }
                    }
                }
                Some(Step::Done(outcome)) => return Ok(*outcome),
                Some(Step::Failed(e)) => return Err(e),
                None => return Err(AuthError::Usage("the flow stalled")),
            }
        }
    }

    fn apply(&self, result: Result<FlowOutcome, AuthError>, refresh: bool) -> bool {
        // (`refresh`: a failed refresh also forgets the tokens.)
        let mut st = lock(&self.state);
        match result {
            Ok(o) => {
                crate::trace::event!(
                    info,
                    refresh,
                    registered = o.registered.is_some(),
                    "auth: tokens obtained"
                );
                if let Some(c) = &o.registered {
                    self.store.save_client(c);
                }
                self.store.save_tokens(&self.config.server_url, &o.tokens);
                st.tokens = Some(o.tokens);
                st.discovery = Some(Box::new(o.discovery));
                st.last_error = None;
                true
            }
            Err(e) => {
                crate::trace::event!(warn, refresh, error = %e, "auth: flow failed");
                if refresh {
                    // A refresh that failed for good: the next refusal authorizes anew.
                    st.tokens = None;
                    self.store.remove_tokens(&self.config.server_url);
                }
                st.last_error = Some(e);
                false
            }
        }
    }
}

impl BearerAuth for OAuth {
    fn token(&self) -> Option<String> {
        let mut st = lock(&self.inner.state);
        self.inner.load(&mut st);
        st.tokens.as_ref().map(|t| t.access_token.clone())
    }

    /// A `DPoP` token goes as `Authorization: DPoP <token>` with a fresh proof for this
    /// method and URL (and the server's nonce, once it gave one).
    fn headers(&self, method: &str, url: &str) -> Vec<(String, String)> {
        let Some(signer) = &self.inner.config.dpop else {
            return Vec::new();
        };
        let (token, nonce) = {
            let mut st = lock(&self.inner.state);
            self.inner.load(&mut st);
            match &st.tokens {
                Some(t) if t.token_type.eq_ignore_ascii_case("dpop") => {
                    (t.access_token.clone(), st.dpop_nonce.clone())
                }
                _ => return Vec::new(),
            }
        };
        let request = ProofRequest {
            method,
            url,
            nonce: nonce.as_deref(),
            access_token: Some(&token),
        };
        let now = unix_seconds((self.inner.clock)());
        match dpop::proof(signer.as_ref(), request, now, &mut OsEntropy) {
            Ok(proof) => vec![
                ("authorization".into(), format!("DPoP {token}")),
                ("dpop".into(), proof),
            ],
            Err(e) => {
                lock(&self.inner.state).last_error = Some(AuthError::Signing(e));
                Vec::new()
            }
        }
    }

    fn needs_prepare(&self) -> bool {
        let mut st = lock(&self.inner.state);
        self.inner.load(&mut st);
        let now = (self.inner.clock)();
        st.flight.is_some()
            || st
                .tokens
                .as_ref()
                .is_some_and(|t| t.refresh_token.is_some() && t.expires_within(now, REFRESH_MARGIN))
    }

    fn prepare(&self, http: AuthHttp) -> BoxFuture<'static, ()> {
        let refresh = self.single_flight(None, http, |st| {
            let t = st.tokens.clone()?;
            t.refresh_token.as_ref()?;
            Some(Start::Refresh {
                tokens: t,
                discovery: st.discovery.clone(),
            })
        });
        Box::pin(async move {
            refresh.await;
        })
    }

    fn rejected(&self, r: Rejection<'_>, http: AuthHttp) -> BoxFuture<'static, bool> {
        if self.inner.config.dpop.is_some() {
            // The token was fine; the proof lacked the server's nonce: send again with it.
            if let Some(n) = dpop::nonce_challenge(r.status, r.www_authenticate, r.dpop_nonce) {
                lock(&self.inner.state).dpop_nonce = Some(n);
                return Box::pin(async { true });
            }
        }
        let www = r.www_authenticate.map(str::to_owned);
        // A first refusal is answered with a refresh when possible; a request refused again
        // (its retry carried a fresh token) calls for a new authorization.
        let first = r.attempt == 0;
        match r.status {
            401 => self.single_flight(Some(r.sent_token), http, |st| match &st.tokens {
                Some(t) if first && t.refresh_token.is_some() => Some(Start::Refresh {
                    tokens: t.clone(),
                    discovery: st.discovery.clone(),
                }),
                _ => Some(Start::Authorize {
                    www_authenticate: www,
                    previous_scope: None,
                }),
            }),
            403 => {
                let insufficient = www
                    .as_deref()
                    .and_then(bearer_challenge)
                    .is_some_and(|c| c.error() == Some("insufficient_scope"));
                if !insufficient {
                    return Box::pin(async { false });
                }
                self.single_flight(Some(r.sent_token), http, |st| {
                    Some(Start::Authorize {
                        previous_scope: st.tokens.as_ref().and_then(|t| t.scope.clone()),
                        www_authenticate: www,
                    })
                })
            }
            _ => Box::pin(async { false }),
        }
    }

    fn retry_budget(&self) -> u32 {
        self.inner.budget
    }
}

// ----- single flight -------------------------------------------------------------------------

/// The outcome of the flow in progress, for the requests waiting on it.
#[derive(Default)]
struct Flight {
    result: Mutex<Option<bool>>,
    waiters: Mutex<Vec<Waker>>,
}

impl Flight {
    fn finish(&self, ok: bool) {
        *lock(&self.result) = Some(ok);
        for w in lock(&self.waiters).drain(..) {
            w.wake();
        }
    }

    fn wait(self: Arc<Self>) -> impl Future<Output = bool> + Send + 'static {
        FlightWait(self)
    }
}

struct FlightWait(Arc<Flight>);

impl Future for FlightWait {
    type Output = bool;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        if let Some(r) = *lock(&self.0.result) {
            return Poll::Ready(r);
        }
        lock(&self.0.waiters).push(cx.waker().clone());
        // Finished between the check and the registration: the waker was drained already.
        match *lock(&self.0.result) {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }
}

/// Ends the flight however the leading request ends: a leader dropped mid-flow (its call
/// cancelled) must not leave the others waiting forever.
struct FlightGuard {
    inner: Arc<Inner>,
    flight: Arc<Flight>,
    done: bool,
}

impl FlightGuard {
    fn finish(&mut self, ok: bool) {
        self.done = true;
        lock(&self.inner.state).flight = None;
        self.flight.finish(ok);
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if !self.done {
            self.finish(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use mcp_proto::auth::dpop::{self, ProofRequest};
    use mcp_proto::auth::{client_assertion, JwtSigner};
    use mcp_proto::entropy::SeededEntropy;
    use ring::signature;
    use serde_json::Value;

    use super::PemSigner;

    /// A throwaway RSA key, made for this test with `openssl genpkey`.
    const RSA_KEY: &str = include_str!("testdata/rs256-test-key.pem");

    fn b64(s: &str) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    }

    /// (signing input, header, claims, signature) of a compact JWS.
    fn split(jws: &str) -> (String, Value, Value, Vec<u8>) {
        let p: Vec<&str> = jws.split('.').collect();
        assert_eq!(p.len(), 3);
        (
            format!("{}.{}", p[0], p[1]),
            serde_json::from_slice(&b64(p[0])).unwrap(),
            serde_json::from_slice(&b64(p[1])).unwrap(),
            b64(p[2]),
        )
    }

    #[test]
    fn es256_dpop_proof_verifies_with_the_key_in_its_header() {
        let key = PemSigner::generate_es256().unwrap();
        let req = ProofRequest {
            method: "GET",
            url: "http://127.0.0.1:1/mcp?x=1",
            nonce: Some("n"),
            access_token: Some("tok"),
        };
        let proof = dpop::proof(&key, req, 1_800_000_000, &mut SeededEntropy::new(1)).unwrap();
        let (input, header, claims, sig) = split(&proof);
        let jwk = &header["jwk"];
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str()),
            (Some("EC"), Some("P-256"))
        );
        assert!(jwk.get("d").is_none(), "no private part in the header");
        let mut point = vec![4u8];
        point.extend(b64(jwk["x"].as_str().unwrap()));
        point.extend(b64(jwk["y"].as_str().unwrap()));
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
            .verify(input.as_bytes(), &sig)
            .expect("the proof verifies with its own jwk");
        assert_eq!(claims["htu"], "http://127.0.0.1:1/mcp");
        assert_eq!(claims["ath"], dpop::ath("tok"));
    }

    #[test]
    fn rs256_private_key_jwt_assertion_verifies() {
        let key = PemSigner::from_pkcs8_pem(RSA_KEY, "RS256").unwrap();
        assert_eq!(key.alg(), "RS256");
        let jwt = client_assertion(
            &key,
            "client-1",
            "http://127.0.0.1:2",
            1_800_000_000,
            &mut SeededEntropy::new(2),
        )
        .unwrap();
        let (input, header, claims, sig) = split(&jwt);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");
        assert_eq!(claims["aud"], "http://127.0.0.1:2");
        assert_eq!(claims["exp"], 1_800_000_300u64);
        let jwk = key.public_jwk().unwrap();
        let public = signature::RsaPublicKeyComponents {
            n: b64(jwk["n"].as_str().unwrap()),
            e: b64(jwk["e"].as_str().unwrap()),
        };
        public
            .verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                input.as_bytes(),
                &sig,
            )
            .expect("the assertion verifies with the key's public half");
        // A tampered assertion does not.
        let mut bad = input.clone().into_bytes();
        bad[0] ^= 1;
        assert!(public
            .verify(&signature::RSA_PKCS1_2048_8192_SHA256, &bad, &sig)
            .is_err());
        // Wrong algorithm for the key, and a garbled key, are errors, not panics.
        assert!(PemSigner::from_pkcs8_pem(RSA_KEY, "ES256").is_err());
        assert!(PemSigner::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n", "RS256").is_err());
    }
}
