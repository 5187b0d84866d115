//! OAuth end to end on 127.0.0.1, on every runtime: a hyper server that is both the protected
//! MCP server and its authorization server (rotating refresh tokens, scope checks, DPoP
//! nonces), and our HTTP client with [`OAuth`] in its options.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use mcp_driver::http::client::{connect_http, HttpClientOptions};
use mcp_driver::http::oauth::{
    CredentialStore, FileStore, HeadlessAuthorization, MemoryStore, OAuth, PemSigner,
};
use mcp_driver::http::HyperIo;
use mcp_driver::mcp_proto::auth::url::{parse_query, with_query};
use mcp_driver::mcp_proto::auth::{unix_seconds, ClientCredentials, OAuthConfig, TokenSet};
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_driver::{BoxFuture, Client, NoHandler, Runtime};
use serde_json::{json, Value};

use crate::http::Net;

pub use crate::protected::oauth_protected_server_against_oidc_provider;
use crate::Signal;

/// Bounds every wait of these cases.
const GUARD: Duration = Duration::from_secs(30);

struct Full(Option<Bytes>);

impl Body for Full {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|b| Ok(Frame::data(b))))
    }
    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }
    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }
}

type Resp = hyper::Response<Full>;

fn reply(status: u16, headers: &[(&str, String)], body: Option<Value>) -> Resp {
    let mut r = hyper::Response::new(Full(body.map(|b| Bytes::from(b.to_string()))));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    for (k, v) in headers {
        r.headers_mut().insert(
            hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    r
}

async fn body_of(mut b: Incoming) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(Ok(f)) =
        futures_lite::future::poll_fn(|cx| Pin::new(&mut b).poll_frame(cx)).await
    {
        if let Ok(d) = f.into_data() {
            out.extend_from_slice(&d);
        }
    }
    out
}

/// The claims of a compact JWS (unverified: the signature is checked in the driver's tests).
fn jws_claims(jws: &str) -> Value {
    let part = jws.split('.').nth(1).unwrap_or_default();
    mcp_driver::mcp_proto::http::base64::decode_url(part)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// The protected server and its authorization server, in one.
#[derive(Default)]
struct Server {
    origin: Mutex<String>,
    /// Scope a `tools/call` needs (none: any valid token).
    call_scope: Option<&'static str>,
    /// Issue DPoP tokens and require proofs with this nonce at the MCP endpoint.
    dpop_nonce: Option<&'static str>,
    /// Valid access tokens and their scopes.
    valid: Mutex<HashMap<String, String>>,
    /// The one refresh token that works now (rotated on use).
    refresh: Mutex<Option<String>>,
    issued: AtomicUsize,
    token_requests: AtomicUsize,
    refresh_requests: AtomicUsize,
    unauthorized: AtomicUsize,
    nonce_refusals: AtomicUsize,
    proofs: Mutex<Vec<Value>>,
    authorize_scopes: Mutex<Vec<String>>,
    get_authorization: Mutex<Vec<Option<String>>>,
    get_seen: Signal,
}

impl Server {
    fn origin(&self) -> String {
        self.origin.lock().unwrap().clone()
    }

    fn mint(&self, scope: &str) -> Value {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let (at, rt) = (format!("at-{n}"), format!("rt-{n}"));
        self.valid
            .lock()
            .unwrap()
            .insert(at.clone(), scope.to_owned());
        *self.refresh.lock().unwrap() = Some(rt.clone());
        let token_type = if self.dpop_nonce.is_some() {
            "DPoP"
        } else {
            "Bearer"
        };
        json!({"access_token": at, "token_type": token_type, "expires_in": 3600,
            "refresh_token": rt, "scope": scope})
    }

    /// The token of an `Authorization` header, if its scheme is the one this server issues
    /// and (for DPoP) its proof is for this request and carries the nonce.
    fn check_auth(
        &self,
        auth: Option<&str>,
        proof: Option<&str>,
        method: &str,
        prm_url: &str,
    ) -> Result<String, Box<Resp>> {
        let refuse = |www: String| {
            Err(Box::new(reply(
                401,
                &[("www-authenticate", www)],
                Some(json!({"error": "invalid_token"})),
            )))
        };
        let Some(nonce) = self.dpop_nonce else {
            return match auth.and_then(|b| b.strip_prefix("Bearer ")) {
                Some(t) => Ok(t.to_owned()),
                None => refuse(format!("Bearer resource_metadata=\"{prm_url}\"")),
            };
        };
        let Some(token) = auth.and_then(|b| b.strip_prefix("DPoP ")) else {
            return refuse(format!("DPoP resource_metadata=\"{prm_url}\""));
        };
        let claims = proof.map(jws_claims).unwrap_or(Value::Null);
        let origin = self.origin();
        assert_eq!(claims["htm"], method, "proof for this method");
        assert_eq!(claims["htu"], format!("{origin}/mcp"), "proof for this URL");
        assert_eq!(
            claims["ath"],
            mcp_driver::mcp_proto::auth::dpop::ath(token),
            "proof for this token"
        );
        self.proofs.lock().unwrap().push(claims.clone());
        if claims["nonce"] != nonce {
            self.nonce_refusals.fetch_add(1, Ordering::SeqCst);
            return Err(Box::new(reply(
                401,
                &[
                    (
                        "www-authenticate",
                        "DPoP error=\"use_dpop_nonce\"".to_owned(),
                    ),
                    ("dpop-nonce", nonce.to_owned()),
                ],
                Some(json!({"error": "use_dpop_nonce"})),
            )));
        }
        Ok(token.to_owned())
    }

    async fn handle(self: Arc<Self>, req: hyper::Request<Incoming>) -> Result<Resp, Infallible> {
        let origin = self.origin();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        let method = req.method().clone();
        let header = |n: &str| {
            req.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (auth, proof) = (header("authorization"), header("dpop"));
        let body = body_of(req.into_body()).await;
        let prm_url = format!("{origin}/.well-known/oauth-protected-resource/mcp");
        Ok(match (method.as_str(), path.as_str()) {
            ("GET", "/.well-known/oauth-protected-resource/mcp") => reply(
                200,
                &[],
                Some(json!({"resource": format!("{origin}/mcp"),
                    "authorization_servers": [origin], "scopes_supported": ["read"]})),
            ),
            ("GET", "/.well-known/oauth-authorization-server") => {
                let mut meta = json!({"issuer": origin,
                    "authorization_endpoint": format!("{origin}/authorize"),
                    "token_endpoint": format!("{origin}/token"),
                    "registration_endpoint": format!("{origin}/register"),
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["none"]});
                if self.dpop_nonce.is_some() {
                    meta["dpop_signing_alg_values_supported"] = json!(["ES256"]);
                }
                reply(200, &[], Some(meta))
            }
            ("POST", "/register") => reply(201, &[], Some(json!({"client_id": "registered"}))),
            ("GET", "/authorize") => {
                let q: HashMap<String, String> = parse_query(&query).into_iter().collect();
                let scope = q.get("scope").cloned().unwrap_or_default();
                self.authorize_scopes.lock().unwrap().push(scope.clone());
                let to = with_query(
                    &q["redirect_uri"],
                    &[
                        ("code", &format!("code:{scope}")),
                        ("state", &q["state"]),
                        ("iss", &origin),
                    ],
                );
                reply(302, &[("location", to)], None)
            }
            ("POST", "/token") => {
                self.token_requests.fetch_add(1, Ordering::SeqCst);
                if self.dpop_nonce.is_some() {
                    let claims = proof.as_deref().map(jws_claims).unwrap_or(Value::Null);
                    assert_eq!(claims["htu"], format!("{origin}/token"), "a token proof");
                }
                let form: HashMap<String, String> =
                    parse_query(std::str::from_utf8(&body).unwrap())
                        .into_iter()
                        .collect();
                match form["grant_type"].as_str() {
                    "refresh_token" => {
                        self.refresh_requests.fetch_add(1, Ordering::SeqCst);
                        let current = self.refresh.lock().unwrap().clone();
                        if current.as_deref() == Some(form["refresh_token"].as_str()) {
                            reply(200, &[], Some(self.mint("read")))
                        } else {
                            // A replayed (rotated-out) refresh token.
                            reply(400, &[], Some(json!({"error": "invalid_grant"})))
                        }
                    }
                    _ => {
                        let scope = form["code"].trim_start_matches("code:").to_owned();
                        reply(200, &[], Some(self.mint(&scope)))
                    }
                }
            }
            ("GET", "/mcp") => {
                self.get_authorization.lock().unwrap().push(auth.clone());
                self.get_seen.set();
                reply(405, &[], None)
            }
            ("DELETE", "/mcp") => reply(200, &[], None),
            ("POST", "/mcp") => {
                let token =
                    match self.check_auth(auth.as_deref(), proof.as_deref(), "POST", &prm_url) {
                        Ok(t) => t,
                        Err(r) => return Ok(*r),
                    };
                let scope = self.valid.lock().unwrap().get(&token).cloned();
                let Some(scope) = scope else {
                    self.unauthorized.fetch_add(1, Ordering::SeqCst);
                    let scheme = if self.dpop_nonce.is_some() {
                        "DPoP"
                    } else {
                        "Bearer"
                    };
                    return Ok(reply(
                        401,
                        &[(
                            "www-authenticate",
                            format!("{scheme} resource_metadata=\"{prm_url}\""),
                        )],
                        Some(json!({"error": "invalid_token"})),
                    ));
                };
                let msg: Value = serde_json::from_slice(&body).unwrap();
                let id = msg["id"].clone();
                match msg["method"].as_str().unwrap_or("") {
                    "initialize" => reply(
                        200,
                        &[],
                        Some(json!({"jsonrpc": "2.0", "id": id, "result": {
                        "protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                        "serverInfo": {"name": "protected", "version": "1"}}})),
                    ),
                    m if m.starts_with("notifications/") => reply(202, &[], None),
                    "tools/list" => reply(
                        200,
                        &[],
                        Some(json!({"jsonrpc": "2.0", "id": id,
                        "result": {"tools": [{"name": "t", "inputSchema": {"type": "object"}}]}})),
                    ),
                    "tools/call" => {
                        let needed = self.call_scope;
                        if needed.is_some_and(|s| !scope.split(' ').any(|x| x == s)) {
                            return Ok(reply(
                                403,
                                &[("www-authenticate", format!(
                                    "Bearer error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{prm_url}\"",
                                    needed.unwrap()))],
                                Some(json!({"error": "insufficient_scope"})),
                            ));
                        }
                        reply(
                            200,
                            &[],
                            Some(json!({"jsonrpc": "2.0", "id": id,
                            "result": {"content": [{"type": "text", "text": scope}]}})),
                        )
                    }
                    _ => reply(
                        200,
                        &[],
                        Some(json!({"jsonrpc": "2.0", "id": id, "result": {}})),
                    ),
                }
            }
            _ => reply(404, &[], None),
        })
    }
}

async fn serve<R: Runtime, N: Net<R>>(net: &N, server: Server) -> (String, Arc<Server>) {
    let server = Arc::new(server);
    let s = server.clone();
    let addr = net
        .listen(Arc::new(move |stream| {
            let s = s.clone();
            Box::pin(async move {
                let svc = hyper::service::service_fn(move |req| s.clone().handle(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(HyperIo::new(stream), svc)
                    .await;
            }) as BoxFuture<'static, ()>
        }))
        .await;
    let origin = format!("http://{addr}");
    *server.origin.lock().unwrap() = origin.clone();
    (origin, server)
}

fn oauth(url: &str) -> OAuth {
    OAuth::new(
        OAuthConfig::new(url, ""),
        Arc::new(HeadlessAuthorization::new("http://127.0.0.1:1/cb")),
    )
}

/// `fut`, or a panic after [`GUARD`].
async fn guarded<R: Runtime, T>(rt: &R, what: &str, fut: impl Future<Output = T>) -> T {
    let deadline = rt.sleep_until(rt.now() + GUARD);
    futures_lite::future::or(async { Some(fut.await) }, async {
        deadline.await;
        None
    })
    .await
    .unwrap_or_else(|| panic!("{what}: not done within {GUARD:?}"))
}

async fn connect<R: Runtime, N: Net<R>>(rt: &R, net: &N, url: &str, auth: &OAuth) -> Client {
    let options = HttpClientOptions::default().with_auth(Some(Arc::new(auth.clone())));
    let mut cfg = ClientConfig::new(Implementation::new("oauth-suite", "0.1"));
    cfg.era = EraPreference::Legacy;
    let connecting = connect_http(
        rt.clone(),
        net.connector(),
        url,
        cfg,
        Arc::new(NoHandler),
        options,
    );
    guarded(rt, "connect", connecting)
        .await
        .unwrap_or_else(|e| panic!("connected through OAuth: {e} ({:?})", auth.last_error()))
}

/// Runs every future to its end on the runtime, at once; the outputs in order.
async fn join_all<R: Runtime, T: Send + 'static>(
    rt: &R,
    futs: Vec<BoxFuture<'static, T>>,
) -> Vec<T> {
    let n = futs.len();
    let slots: Arc<Mutex<Vec<Option<T>>>> = Arc::new(Mutex::new((0..n).map(|_| None).collect()));
    let done = Arc::new(AtomicUsize::new(0));
    let all = Signal::default();
    for (i, f) in futs.into_iter().enumerate() {
        let (slots, done, all) = (slots.clone(), done.clone(), all.clone());
        rt.spawn(Box::pin(async move {
            let out = f.await;
            slots.lock().unwrap()[i] = Some(out);
            if done.fetch_add(1, Ordering::SeqCst) + 1 == n {
                all.set();
            }
        }));
    }
    if n > 0 {
        all.wait().await;
    }
    let mut slots = slots.lock().unwrap();
    slots.iter_mut().map(|s| s.take().unwrap()).collect()
}

/// 32 calls refused at once with 401 cause exactly one token request; rotated refresh tokens
/// are used in turn (a replay would fail and send the user to authorize again).
pub async fn oauth_concurrent_401s_cause_one_token_request_and_rotation_holds<
    R: Runtime,
    N: Net<R>,
>(
    rt: R,
    net: N,
) {
    let (origin, server) = serve(&net, Server::default()).await;
    let url = format!("{origin}/mcp");
    let auth = oauth(&url);
    let client = connect(&rt, &net, &url, &auth).await;
    assert_eq!(
        server.token_requests.load(Ordering::SeqCst),
        1,
        "one code exchange"
    );
    assert_eq!(*server.authorize_scopes.lock().unwrap(), ["read"]);

    for round in 1..=2 {
        // Every access token is revoked: 32 calls at once are refused.
        server.valid.lock().unwrap().clear();
        let before = server.token_requests.load(Ordering::SeqCst);
        let calls = (0..32)
            .map(|_| {
                let c = client.clone();
                Box::pin(async move { c.list_tools(None).await.map(|_| ()) })
                    as BoxFuture<'static, _>
            })
            .collect();
        let results = guarded(&rt, "32 calls", join_all(&rt, calls)).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(
            server.token_requests.load(Ordering::SeqCst) - before,
            1,
            "round {round}: exactly one token request for 32 refusals"
        );
        assert_eq!(server.refresh_requests.load(Ordering::SeqCst), round);
    }
    assert_eq!(server.authorize_scopes.lock().unwrap().len(), 1);
    assert_eq!(
        auth.tokens().unwrap().refresh_token.as_deref(),
        Some("rt-3")
    );
    client.close();
}

/// A 403 `insufficient_scope` authorizes again for the union of scopes; the standalone GET
/// stream carries the token too.
pub async fn oauth_step_up_on_403_and_the_get_stream_carries_the_token<R: Runtime, N: Net<R>>(
    rt: R,
    net: N,
) {
    let (origin, server) = serve(
        &net,
        Server {
            call_scope: Some("write"),
            ..Default::default()
        },
    )
    .await;
    let url = format!("{origin}/mcp");
    let auth = oauth(&url);
    let client = connect(&rt, &net, &url, &auth).await;
    guarded(&rt, "the GET stream", server.get_seen.wait()).await;
    let got = server.get_authorization.lock().unwrap().clone();
    assert!(
        got.iter()
            .all(|a| a.as_deref().is_some_and(|a| a.starts_with("Bearer at-"))),
        "{got:?}"
    );
    let r = guarded(&rt, "the call", client.call_tool("t", json!({})))
        .await
        .expect("called after the step-up");
    assert_eq!(
        serde_json::to_value(&r).unwrap()["content"][0]["text"],
        "read write"
    );
    assert_eq!(
        *server.authorize_scopes.lock().unwrap(),
        ["read", "read write"]
    );
    client.close();
}

/// A stored token past its absolute expiry is refreshed before it is ever sent.
pub async fn oauth_a_stored_expired_token_is_refreshed_before_use<R: Runtime, N: Net<R>>(
    rt: R,
    net: N,
) {
    let (origin, server) = serve(&net, Server::default()).await;
    let url = format!("{origin}/mcp");
    let store = Arc::new(MemoryStore::default());
    seed_expired(&*store, &server, &origin, &url);
    let auth = oauth(&url).with_store(store.clone());
    let client = connect(&rt, &net, &url, &auth).await;
    assert_eq!(
        server.unauthorized.load(Ordering::SeqCst),
        0,
        "never sent the stale token"
    );
    assert_eq!(server.refresh_requests.load(Ordering::SeqCst), 1);
    assert!(server.authorize_scopes.lock().unwrap().is_empty());
    let saved = store.tokens(&url).unwrap();
    assert_eq!(saved.access_token, "at-1");
    assert!(saved.expires_at.unwrap() > unix_seconds(SystemTime::now()) + 3000);
    client.close();
}

/// A client and an expired token (whose refresh token the server accepts) in `store`.
fn seed_expired(store: &dyn CredentialStore, server: &Server, origin: &str, url: &str) {
    *server.refresh.lock().unwrap() = Some("rt-stored".into());
    store.save_client(&ClientCredentials {
        issuer: origin.to_owned(),
        client_id: "stored-client".into(),
        client_secret: None,
        auth_method: None,
    });
    store.save_tokens(
        url,
        &TokenSet {
            access_token: "expired".into(),
            token_type: "Bearer".into(),
            refresh_token: Some("rt-stored".into()),
            expires_at: Some(unix_seconds(SystemTime::now()) - 10),
            scope: Some("read".into()),
            issuer: origin.to_owned(),
            resource: url.to_owned(),
        },
    );
}

/// `FileStore`: tokens persisted with their absolute expiry by one process are reloaded by
/// the next (a new store over the same file), refreshed before use, and written back; the
/// file is the owner's only.
pub async fn oauth_file_store_persists_and_refreshes_reloaded_tokens<R: Runtime, N: Net<R>>(
    rt: R,
    net: N,
) {
    let (origin, server) = serve(&net, Server::default()).await;
    let url = format!("{origin}/mcp");
    let dir = std::env::temp_dir().join(format!(
        "mcp-oauth-filestore-{}-{}",
        std::process::id(),
        server.origin().rsplit(':').next().unwrap_or("0")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("credentials.json");
    let _ = std::fs::remove_file(&path);
    seed_expired(&FileStore::new(&path), &server, &origin, &url);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "credentials readable by the owner only"
        );
    }
    // Another "process": a fresh store over the file.
    let auth = oauth(&url).with_store(Arc::new(FileStore::new(&path)));
    let client = connect(&rt, &net, &url, &auth).await;
    assert_eq!(
        server.unauthorized.load(Ordering::SeqCst),
        0,
        "never sent the stale token"
    );
    assert_eq!(server.refresh_requests.load(Ordering::SeqCst), 1);
    client.close();
    let reloaded = FileStore::new(&path)
        .tokens(&url)
        .expect("tokens in the file");
    assert_eq!(reloaded.access_token, "at-1");
    assert_eq!(reloaded.refresh_token.as_deref(), Some("rt-1"));
    assert!(reloaded.expires_at.unwrap() > unix_seconds(SystemTime::now()) + 3000);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("stored-client"),
        "the client persisted under its issuer"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// DPoP on the wire: `Authorization: DPoP`, a fresh proof per request bound to its method,
/// URL and token, and the resource's `use_dpop_nonce` answered by sending again with it.
pub async fn oauth_dpop_proofs_and_the_resources_nonce<R: Runtime, N: Net<R>>(rt: R, net: N) {
    let (origin, server) = serve(
        &net,
        Server {
            dpop_nonce: Some("rs-nonce-1"),
            ..Default::default()
        },
    )
    .await;
    let url = format!("{origin}/mcp");
    let mut cfg = OAuthConfig::new(&url, "");
    cfg.dpop = Some(Arc::new(PemSigner::generate_es256().unwrap()));
    let auth = OAuth::new(
        cfg,
        Arc::new(HeadlessAuthorization::new("http://127.0.0.1:1/cb")),
    );
    let client = connect(&rt, &net, &url, &auth).await;
    for _ in 0..3 {
        guarded(&rt, "tools/list", client.list_tools(None))
            .await
            .unwrap();
    }
    assert_eq!(auth.tokens().unwrap().token_type, "DPoP");
    assert_eq!(
        server.nonce_refusals.load(Ordering::SeqCst),
        1,
        "the nonce is learnt once and then sent"
    );
    let proofs = server.proofs.lock().unwrap().clone();
    let mut jtis: Vec<&str> = proofs.iter().filter_map(|p| p["jti"].as_str()).collect();
    let n = jtis.len();
    assert!(n >= 5, "{proofs:?}");
    jtis.sort_unstable();
    jtis.dedup();
    assert_eq!(jtis.len(), n, "a fresh jti on every request");
    client.close();
}
