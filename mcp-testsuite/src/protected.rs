//! A server protected by OAuth, on every runtime, against a real authorization server: npm
//! `oidc-provider` (`peers/oauth_as.mjs`), started by the case on 127.0.0.1 for the URL the
//! case serves. The server verifies the provider's JWT access tokens against its JWKS
//! ([`JwtVerifier`], fetched over the runtime's own connections) on every request.
//!
//! Covered: the protected resource metadata; our OAuth client completing the code flow (and
//! a step-up to a tool's scope) in both eras; and refusals, each with its status and
//! challenge: no token, a malformed header, a token for another resource, an expired one (the
//! server's clock is moved, no sleeping), a forged signature, too few scopes, a legacy session
//! id used with another principal's token, and a task read or cancelled by another principal.
//!
//! Needs `node` (or `MCP_NODE`) and `.tools/npm` from `scripts/install-peers` (or
//! `MCP_TS_NPM`); without them the case says so and passes, unless `MCP_REQUIRE_INTEROP=1`.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use mcp_driver::http::auth::{JwtVerifier, Protection, TokenVerifier};
use mcp_driver::http::client::{connect_http, AuthHttp, HttpClientOptions};
use mcp_driver::http::oauth::{HeadlessAuthorization, OAuth, PemSigner};
use mcp_driver::http::server::HttpService;
use mcp_driver::mcp_proto::auth::{
    base64url, parse_www_authenticate, AuthMethod, AuthRequest, AuthResponse, Challenge, Grant,
    JwtSigner, OAuthConfig, PreRegistered, ResourceServerConfig,
};
use mcp_driver::mcp_proto::http::HttpServerConfig;
use mcp_driver::mcp_proto::schema::tools::Tool;
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_driver::{
    BoxFuture, Client, NoHandler, RequestCx, Runtime, Server, TaskOptions, TaskSupport,
};
use serde_json::{json, Value};

use crate::http::Net;

const OTHER: &str = "http://127.0.0.1:9/other";

/// Seconds the protected server's clock runs ahead of the wall clock (a test binary runs this
/// case once, for its one runtime).
static AHEAD: AtomicU64 = AtomicU64::new(0);

fn server_clock() -> SystemTime {
    SystemTime::now() + Duration::from_secs(AHEAD.load(Ordering::SeqCst))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn npm_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MCP_TS_NPM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/npm"));
    for package in ["oidc-provider", "jose"] {
        let p = dir.join("node_modules").join(package).join("package.json");
        if !p.is_file() {
            return crate::interop_skip(&format!(
                "{package} not found at {}; run scripts/install-peers",
                p.display()
            ));
        }
    }
    Some(dir)
}

fn node() -> Option<PathBuf> {
    let node = std::env::var_os("MCP_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    match std::process::Command::new(&node).arg("--version").output() {
        Ok(out) if out.status.success() => Some(node),
        _ => crate::interop_skip("cannot run `node`; install Node.js 20 or newer, or set MCP_NODE"),
    }
}

/// The authorization server's process, ended when dropped. Its stdout stays open meanwhile
/// (a closed pipe would kill it at its next write).
struct Peer(
    std::process::Child,
    std::io::BufReader<std::process::ChildStdout>,
);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the authorization server for `resources`; its first line says where it listens.
fn start_provider(node: PathBuf, npm: PathBuf, resources: &Value) -> (Peer, Value) {
    let mut child = std::process::Command::new(node)
        .arg(repo().join("mcp-testsuite/peers/oauth_as.mjs"))
        .env("MCP_TS_NPM", npm)
        .env("MCP_RESOURCES", resources.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node starts");
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut peer = Peer(child, stdout);
    // One line, written once it listens (the watchdog bounds a provider that never starts).
    let mut line = String::new();
    peer.1.read_line(&mut line).unwrap();
    let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (peer, info)
}

fn service() -> mcp_driver::Service {
    let whoami = |cx: RequestCx| async move {
        let me = cx
            .principal()
            .map(|p| json!({"sub": p.subject, "client_id": p.client_id, "scopes": p.scopes}));
        Ok(me.unwrap_or(Value::Null).to_string())
    };
    Server::builder("protected", "1.0.0")
        .tool("whoami", "Who the access token speaks for", whoami)
        .tool("admin_op", "Needs mcp:admin", || async { Ok("done") })
        .task_tool_with(
            Tool::new("slow", "slow", Value::Null),
            TaskOptions::new(TaskSupport::Optional),
            || async {
                std::future::pending::<()>().await;
                Ok("never")
            },
        )
        .build()
}

struct Fixture {
    url: String,
    issuer: String,
    clients: Value,
    http: AuthHttp,
    token_endpoint: String,
}

impl Fixture {
    async fn send(
        &self,
        method: AuthMethod,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> AuthResponse {
        let request = AuthRequest {
            method,
            url: url.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        };
        self.http.send(request).await.unwrap()
    }

    /// An access token by client credentials for client `n` (0: alice, 1: bob).
    async fn token(&self, n: usize, resource: &str, scope: &str) -> String {
        let c = &self.clients[n];
        let basic = mcp_driver::mcp_proto::http::base64::encode(
            format!(
                "{}:{}",
                c["client_id"].as_str().unwrap(),
                c["client_secret"].as_str().unwrap()
            )
            .as_bytes(),
        );
        let body = mcp_driver::mcp_proto::auth::url::form(&[
            ("grant_type", "client_credentials"),
            ("resource", resource),
            ("scope", scope),
        ]);
        let r = self
            .send(
                AuthMethod::Post,
                &self.token_endpoint,
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("authorization", &format!("Basic {basic}")),
                ],
                &body,
            )
            .await;
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(r.status, 200, "{v}");
        v["access_token"].as_str().unwrap().to_owned()
    }

    /// POSTs a JSON-RPC body to the MCP endpoint.
    async fn post(&self, token: Option<&str>, extra: &[(&str, &str)], body: Value) -> AuthResponse {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ];
        if let Some(b) = &bearer {
            headers.push(("authorization", b));
        }
        headers.extend_from_slice(extra);
        self.send(AuthMethod::Post, &self.url, &headers, &body.to_string())
            .await
    }

    /// A 2026-07-28 `tools/call` of `tool`.
    async fn modern_call(&self, token: &str, tool: &str) -> AuthResponse {
        let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
            "name": tool, "arguments": {}, "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}}}});
        let h = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", tool),
        ];
        self.post(Some(token), &h, body).await
    }

    /// A legacy `initialize`; the session id when it succeeded.
    async fn initialize(&self, token: &str) -> (u16, Option<String>) {
        let body = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
            "protocolVersion":"2025-06-18","capabilities":{},
            "clientInfo":{"name":"raw","version":"1"}}});
        let r = self.post(Some(token), &[], body).await;
        (r.status, r.header("mcp-session-id").map(str::to_owned))
    }
}

fn challenge(r: &AuthResponse) -> Challenge {
    let h = r
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("a challenge with {}", r.status));
    parse_www_authenticate(h).into_iter().next().unwrap()
}

fn refused(r: &AuthResponse, status: u16, error: Option<&str>) -> Challenge {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    let c = challenge(r);
    assert_eq!(c.error(), error, "{c:?}");
    c
}

fn client_config(era: EraPreference) -> ClientConfig {
    let mut cfg = ClientConfig::new(Implementation::new("mcp-rs-protected", "0.1"));
    cfg.era = era;
    cfg.capabilities.extensions = Some(
        [("io.modelcontextprotocol/tasks".to_owned(), json!({}))]
            .into_iter()
            .collect(),
    );
    cfg
}

async fn connect<R: Runtime, N: Net<R>>(
    rt: &R,
    net: &N,
    url: &str,
    auth: &OAuth,
    era: EraPreference,
) -> Client {
    let options = HttpClientOptions::default().with_auth(Some(Arc::new(auth.clone())));
    let cfg = client_config(era);
    connect_http(
        rt.clone(),
        net.connector(),
        url,
        cfg,
        Arc::new(NoHandler),
        options,
    )
    .await
    .unwrap_or_else(|e| panic!("connected through OAuth: {e} ({:?})", auth.last_error()))
}

async fn call_text(client: &Client, auth: &OAuth, tool: &str) -> String {
    let r = client
        .call_tool(tool, json!({}))
        .await
        .unwrap_or_else(|e| panic!("tools/call {tool}: {e} ({:?})", auth.last_error()));
    let r = serde_json::to_value(&r).unwrap();
    r["content"][0]["text"].as_str().unwrap().to_owned()
}

fn service_auth(f: &Fixture, n: usize) -> OAuth {
    let mut cfg = OAuthConfig::new(&f.url, "");
    cfg.grant = Grant::ClientCredentials;
    cfg.pre_registered = Some(PreRegistered {
        client_id: f.clients[n]["client_id"].as_str().unwrap().into(),
        client_secret: f.clients[n]["client_secret"].as_str().map(str::to_owned),
        issuer: Some(f.issuer.clone()),
    });
    OAuth::without_user(cfg)
}

/// The case (see the module docs).
pub async fn oauth_protected_server_against_oidc_provider<R: Runtime, N: Net<R>>(rt: R, net: N) {
    let Some(npm) = npm_dir() else { return };
    let Some(node) = node() else { return };
    // Listen first: the provider must know the resource, and the server the provider.
    let slot: Arc<OnceLock<HttpService<R>>> = Arc::default();
    let serving = slot.clone();
    let addr = net
        .listen(Arc::new(move |stream| match serving.get() {
            Some(http) => Box::pin(http.serve_connection(stream)) as BoxFuture<'static, ()>,
            None => Box::pin(async {}),
        }))
        .await;
    let url = format!("http://{addr}/mcp");
    let resources = json!({ url.clone(): "mcp:tools mcp:admin", OTHER: "mcp:tools" });
    let (_peer, info) = start_provider(node, npm, &resources);
    let issuer = info["issuer"].as_str().unwrap().to_owned();

    let http = AuthHttp::standalone(rt.clone(), net.connector(), Default::default());
    let verifier = JwtVerifier::new(&issuer, &url, http.clone()).with_clock(server_clock);
    let config = ResourceServerConfig::new(&url, &issuer)
        .require(&["mcp:tools"])
        .tool_scopes("admin_op", &["mcp:admin"]);
    let verifier: Arc<dyn TokenVerifier> = Arc::new(Arc::new(verifier));
    let protection = Protection::new(config, verifier).with_clock(server_clock);
    let http_config = HttpServerConfig::default().with_json_response(true);
    let server = HttpService::protected(rt.clone(), service(), http_config, protection);
    assert!(slot.set(server).is_ok());

    let f = Fixture {
        url: url.clone(),
        issuer: issuer.clone(),
        clients: info["clients"].clone(),
        token_endpoint: format!("{issuer}/token"),
        http,
    };

    // The metadata, at both well-known URLs, readable from any origin.
    let origin = url.trim_end_matches("/mcp");
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let r = f
            .send(
                AuthMethod::Get,
                &format!("{origin}{path}"),
                &[("origin", "https://elsewhere.example")],
                "",
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        let doc: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(doc["resource"], url.as_str());
        assert_eq!(doc["authorization_servers"], json!([issuer]));
    }

    // No token: 401 pointing at the metadata, with the scope the call needs.
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    let c = refused(&f.post(None, &[], ping.clone()).await, 401, None);
    assert_eq!(
        c.resource_metadata(),
        Some(format!("{origin}/.well-known/oauth-protected-resource/mcp").as_str())
    );
    assert_eq!(c.scope(), Some("mcp:tools"));
    let r = f
        .post(None, &[("authorization", "Basic YTpi")], ping.clone())
        .await;
    refused(&r, 400, Some("invalid_request"));

    let alice = f.token(0, &url, "mcp:tools").await;
    let bob = f.token(1, &url, "mcp:tools").await;
    assert_eq!(f.modern_call(&alice, "whoami").await.status, 200);

    // A token for another resource, an expired one, a forged one: 401 invalid_token.
    let other = f.token(0, OTHER, "mcp:tools").await;
    refused(
        &f.modern_call(&other, "whoami").await,
        401,
        Some("invalid_token"),
    );
    let expired = {
        AHEAD.store(7200, Ordering::SeqCst);
        let r = f.modern_call(&alice, "whoami").await;
        AHEAD.store(0, Ordering::SeqCst);
        r
    };
    let c = refused(&expired, 401, Some("invalid_token"));
    assert!(
        c.param("error_description").unwrap().contains("expired"),
        "{c:?}"
    );
    let signed = alice.rsplit_once('.').unwrap().0;
    let forger = PemSigner::generate_es256().unwrap();
    let forged = format!(
        "{signed}.{}",
        base64url(&forger.sign(signed.as_bytes()).unwrap())
    );
    refused(
        &f.modern_call(&forged, "whoami").await,
        401,
        Some("invalid_token"),
    );

    // Too few scopes: 403 before the body is handled, naming every scope the tool needs.
    let c = refused(
        &f.modern_call(&alice, "admin_op").await,
        403,
        Some("insufficient_scope"),
    );
    assert_eq!(c.scope(), Some("mcp:tools mcp:admin"));
    let admin = f.token(0, &url, "mcp:tools mcp:admin").await;
    assert_eq!(f.modern_call(&admin, "admin_op").await.status, 200);

    // A legacy session belongs to whoever opened it: bob's token cannot use alice's session.
    let (status, session) = f.initialize(&alice).await;
    assert_eq!(status, 200);
    let session = session.expect("a session id");
    let legacy = |s: &str| {
        [
            ("mcp-session-id", s.to_owned()),
            ("mcp-protocol-version", "2025-06-18".to_owned()),
        ]
    };
    let h = legacy(&session);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(f.post(Some(&bob), &h, ping.clone()).await.status, 404);
    assert_eq!(f.post(Some(&alice), &h, ping.clone()).await.status, 200);
    // In a legacy session the tool's scope is checked once the body is read.
    let call = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"admin_op","arguments":{}}});
    let c = refused(
        &f.post(Some(&alice), &h, call).await,
        403,
        Some("insufficient_scope"),
    );
    assert_eq!(c.scope(), Some("mcp:tools mcp:admin"));

    // Our OAuth client, in both eras: the code flow, then a step-up to the tool's scope.
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let auth = OAuth::new(
            OAuthConfig::new(&url, ""),
            Arc::new(HeadlessAuthorization::new("http://127.0.0.1:1/callback")),
        );
        let client = connect(&rt, &net, &url, &auth, era).await;
        let me: Value = serde_json::from_str(&call_text(&client, &auth, "whoami").await).unwrap();
        assert_eq!(me["sub"], "interop-user", "{me}");
        assert_eq!(me["scopes"], json!(["mcp:tools"]), "{era:?} {me}");
        assert_eq!(auth.flows(), 1);
        assert_eq!(call_text(&client, &auth, "admin_op").await, "done");
        assert_eq!(auth.flows(), 2, "{era:?}: one step-up");
        let me: Value = serde_json::from_str(&call_text(&client, &auth, "whoami").await).unwrap();
        assert_eq!(
            me["scopes"],
            json!(["mcp:tools", "mcp:admin"]),
            "{era:?} {me}"
        );
        client.close();
    }

    // A 2026-07-28 task belongs to the principal that started it.
    let (alice_auth, bob_auth) = (service_auth(&f, 0), service_auth(&f, 1));
    let a = connect(&rt, &net, &url, &alice_auth, EraPreference::Modern).await;
    let b = connect(&rt, &net, &url, &bob_auth, EraPreference::Modern).await;
    let task = a.call_tool_as_task("slow", json!({})).await.unwrap();
    let id = task.task_id().unwrap().to_owned();
    assert!(a.resume_task(&id).status().await.is_ok());
    let stolen = b.resume_task(&id).status().await;
    assert!(stolen.is_err(), "bob read alice's task: {stolen:?}");
    assert!(b.resume_task(&id).cancel().await.is_err());
    assert!(
        a.resume_task(&id).status().await.is_ok(),
        "bob's cancel was refused"
    );
    a.resume_task(&id).cancel().await.unwrap();
}
