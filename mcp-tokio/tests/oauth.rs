//! OAuth end to end on 127.0.0.1: a hyper server that is both the protected MCP server and
//! its authorization server (rotating refresh tokens, scope checks), and our client with
//! `OAuth` in its options.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use mcp_tokio::mcp_driver::http::HyperIo;
use mcp_tokio::mcp_driver::NoHandler;
use mcp_tokio::mcp_proto::auth::{unix_seconds, ClientCredentials, OAuthConfig, TokenSet};
use mcp_tokio::mcp_proto::schema::Implementation;
use mcp_tokio::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_tokio::{
    connect_http, CredentialStore, HeadlessAuthorization, HttpClientOptions, MemoryStore, OAuth,
};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::compat::TokioAsyncReadCompatExt;

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
    while let Some(Ok(f)) = std::future::poll_fn(|cx| Pin::new(&mut b).poll_frame(cx)).await {
        if let Ok(d) = f.into_data() {
            out.extend_from_slice(&d);
        }
    }
    out
}

/// The protected server and its authorization server, in one.
#[derive(Default)]
struct Server {
    origin: Mutex<String>,
    /// Scope a `tools/call` needs (none: any valid token).
    call_scope: Option<&'static str>,
    /// Valid access tokens and their scopes.
    valid: Mutex<HashMap<String, String>>,
    /// The one refresh token that works now (rotated on use).
    refresh: Mutex<Option<String>>,
    issued: AtomicUsize,
    token_requests: AtomicUsize,
    refresh_requests: AtomicUsize,
    unauthorized: AtomicUsize,
    authorize_scopes: Mutex<Vec<String>>,
    get_authorization: Mutex<Vec<Option<String>>>,
    get_seen: Notify,
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
        json!({"access_token": at, "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": rt, "scope": scope})
    }

    async fn handle(self: Arc<Self>, req: hyper::Request<Incoming>) -> Result<Resp, Infallible> {
        let origin = self.origin();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        let method = req.method().clone();
        let bearer = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = body_of(req.into_body()).await;
        let prm_url = format!("{origin}/.well-known/oauth-protected-resource/mcp");
        Ok(match (method.as_str(), path.as_str()) {
            ("GET", "/.well-known/oauth-protected-resource/mcp") => reply(
                200,
                &[],
                Some(json!({"resource": format!("{origin}/mcp"),
                    "authorization_servers": [origin], "scopes_supported": ["read"]})),
            ),
            ("GET", "/.well-known/oauth-authorization-server") => reply(
                200,
                &[],
                Some(json!({"issuer": origin,
                    "authorization_endpoint": format!("{origin}/authorize"),
                    "token_endpoint": format!("{origin}/token"),
                    "registration_endpoint": format!("{origin}/register"),
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["none"]})),
            ),
            ("POST", "/register") => reply(201, &[], Some(json!({"client_id": "registered"}))),
            ("GET", "/authorize") => {
                let q: HashMap<String, String> =
                    mcp_tokio::mcp_proto::auth::url::parse_query(&query)
                        .into_iter()
                        .collect();
                self.authorize_scopes
                    .lock()
                    .unwrap()
                    .push(q.get("scope").cloned().unwrap_or_default());
                let to = mcp_tokio::mcp_proto::auth::url::with_query(
                    &q["redirect_uri"],
                    &[
                        (
                            "code",
                            &format!("code:{}", q.get("scope").cloned().unwrap_or_default()),
                        ),
                        ("state", &q["state"]),
                        ("iss", &origin),
                    ],
                );
                reply(302, &[("location", to)], None)
            }
            ("POST", "/token") => {
                self.token_requests.fetch_add(1, Ordering::SeqCst);
                let form: HashMap<String, String> = mcp_tokio::mcp_proto::auth::url::parse_query(
                    std::str::from_utf8(&body).unwrap(),
                )
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
                self.get_authorization.lock().unwrap().push(bearer);
                self.get_seen.notify_waiters();
                reply(405, &[], None)
            }
            ("DELETE", "/mcp") => reply(200, &[], None),
            ("POST", "/mcp") => {
                let token = bearer.as_deref().and_then(|b| b.strip_prefix("Bearer "));
                let scope = token.and_then(|t| self.valid.lock().unwrap().get(t).cloned());
                let Some(scope) = scope else {
                    self.unauthorized.fetch_add(1, Ordering::SeqCst);
                    return Ok(reply(
                        401,
                        &[(
                            "www-authenticate",
                            format!("Bearer resource_metadata=\"{prm_url}\""),
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

async fn serve(server: Server) -> (SocketAddr, Arc<Server>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    *server.origin.lock().unwrap() = format!("http://{addr}");
    let server = Arc::new(server);
    let s = server.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| s.clone().handle(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(HyperIo::new(tcp.compat()), svc)
                    .await;
            });
        }
    });
    (addr, server)
}

fn client_config() -> ClientConfig {
    let mut cfg = ClientConfig::new(Implementation::new("oauth-test", "0.1"));
    cfg.era = EraPreference::Legacy;
    cfg
}

fn oauth(url: &str) -> OAuth {
    OAuth::new(
        OAuthConfig::new(url, ""),
        Arc::new(HeadlessAuthorization::new("http://127.0.0.1:1/cb")),
    )
}

async fn connect(url: &str, auth: &OAuth) -> mcp_tokio::mcp_driver::Client {
    let options = HttpClientOptions {
        auth: Some(Arc::new(auth.clone())),
        ..Default::default()
    };
    tokio::time::timeout(
        GUARD,
        connect_http(url, client_config(), Arc::new(NoHandler), options),
    )
    .await
    .unwrap()
    .expect("connected through OAuth")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_401s_cause_one_token_request_and_rotation_holds() {
    let (addr, server) = serve(Server::default()).await;
    let url = format!("http://{addr}/mcp");
    let auth = oauth(&url);
    let client = connect(&url, &auth).await;
    assert_eq!(
        server.token_requests.load(Ordering::SeqCst),
        1,
        "one code exchange"
    );
    assert_eq!(
        server.authorize_scopes.lock().unwrap().clone(),
        vec!["read"]
    );

    for round in 1..=2 {
        // Every access token is revoked: 32 calls at once are refused.
        server.valid.lock().unwrap().clear();
        let before = server.token_requests.load(Ordering::SeqCst);
        let calls = (0..32).map(|_| {
            let c = client.clone();
            async move { c.list_tools(None).await }
        });
        let results = tokio::time::timeout(GUARD, futures_join_all(calls))
            .await
            .unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(
            server.token_requests.load(Ordering::SeqCst) - before,
            1,
            "round {round}: exactly one token request for 32 refusals"
        );
        assert_eq!(server.refresh_requests.load(Ordering::SeqCst), round);
    }
    // The rotated refresh token was used each time (a replay would have failed with
    // invalid_grant and sent the user to the authorization endpoint again).
    assert_eq!(server.authorize_scopes.lock().unwrap().len(), 1);
    assert_eq!(
        auth.tokens().unwrap().refresh_token.as_deref(),
        Some("rt-3")
    );
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_on_403_asks_for_the_union_and_the_get_stream_carries_the_token() {
    let (addr, server) = serve(Server {
        call_scope: Some("write"),
        ..Default::default()
    })
    .await;
    let url = format!("http://{addr}/mcp");
    let auth = oauth(&url);
    let seen = server.get_seen.notified();
    let client = connect(&url, &auth).await;
    // The standalone GET stream went out with the token.
    let got = server.get_authorization.lock().unwrap().clone();
    if got.is_empty() {
        tokio::time::timeout(GUARD, seen).await.unwrap();
    }
    let got = server.get_authorization.lock().unwrap().clone();
    assert!(
        got.iter()
            .all(|a| a.as_deref().is_some_and(|a| a.starts_with("Bearer at-"))),
        "{got:?}"
    );
    let r = tokio::time::timeout(GUARD, client.call_tool("t", json!({})))
        .await
        .unwrap()
        .expect("called after the step-up");
    assert_eq!(
        serde_json::to_value(&r).unwrap()["content"][0]["text"],
        "read write"
    );
    assert_eq!(
        server.authorize_scopes.lock().unwrap().clone(),
        vec!["read".to_owned(), "read write".to_owned()]
    );
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_expired_token_is_refreshed_before_use() {
    let (addr, server) = serve(Server::default()).await;
    let origin = format!("http://{addr}");
    let url = format!("{origin}/mcp");
    *server.refresh.lock().unwrap() = Some("rt-stored".into());
    let store = Arc::new(MemoryStore::default());
    store.save_client(&ClientCredentials {
        issuer: origin.clone(),
        client_id: "stored-client".into(),
        client_secret: None,
        auth_method: None,
    });
    store.save_tokens(
        &url,
        &TokenSet {
            access_token: "expired".into(),
            token_type: "Bearer".into(),
            refresh_token: Some("rt-stored".into()),
            expires_at: Some(unix_seconds(SystemTime::now()) - 10),
            scope: Some("read".into()),
            issuer: origin.clone(),
            resource: url.clone(),
        },
    );
    let auth = oauth(&url).with_store(store.clone());
    let client = connect(&url, &auth).await;
    assert_eq!(
        server.unauthorized.load(Ordering::SeqCst),
        0,
        "never sent the stale token"
    );
    assert_eq!(server.refresh_requests.load(Ordering::SeqCst), 1);
    assert!(server.authorize_scopes.lock().unwrap().is_empty());
    // The new tokens went back to the store, with an absolute expiry.
    let saved = store.tokens(&url).unwrap();
    assert_eq!(saved.access_token, "at-1");
    assert!(saved.expires_at.unwrap() > unix_seconds(SystemTime::now()) + 3000);
    client.close();
}

/// Awaits every future (a tiny join_all: no extra dependency).
async fn futures_join_all<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
