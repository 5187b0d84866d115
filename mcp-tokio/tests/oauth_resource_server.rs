//! Our HTTP server protected by OAuth, against a real authorization server: npm
//! `oidc-provider` (`tests/interop/oauth_as.mjs`), started here on 127.0.0.1 for the URL this
//! test serves. The server verifies the provider's JWT access tokens against its JWKS
//! ([`JwtVerifier`]) on every request.
//!
//! Covered: the protected resource metadata; our OAuth client completing the code flow (and a
//! step-up to a tool's scope) in both eras; and refusals, each with its status and challenge:
//! no token, a malformed header, a token for another resource, an expired one (the server's
//! clock is moved, no sleeping), a forged signature, too few scopes, a legacy session id used
//! with another principal's token, and a task read by another principal.
//!
//! Needs `node` (or `MCP_NODE`) and `.tools/npm` from `scripts/install-peers` (or
//! `MCP_TS_NPM`); without them the test says so and passes, unless `MCP_REQUIRE_INTEROP=1`.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mcp_tokio::mcp_driver::http::auth::{JwtVerifier, Protection, TokenVerifier};
use mcp_tokio::mcp_driver::{Client, NoHandler, RequestCx, Server, TaskOptions, TaskSupport};
use mcp_tokio::mcp_proto::auth::{
    base64url, parse_www_authenticate, AuthMethod, AuthRequest, AuthResponse, Challenge, Grant,
    JwtSigner, OAuthConfig, PreRegistered, ResourceServerConfig,
};
use mcp_tokio::mcp_proto::schema::Implementation;
use mcp_tokio::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_tokio::{
    connect_http, AuthHttp, HeadlessAuthorization, HttpClientOptions, HttpService, OAuth,
    PemSigner, TokioConnector, TokioRuntime,
};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[path = "interop/support.rs"]
mod support;
use support::{missing, required, script};

const GUARD: Duration = Duration::from_secs(30);
const OTHER: &str = "http://127.0.0.1:9/other";

/// Seconds the protected server's clock runs ahead of the wall clock.
static AHEAD: AtomicU64 = AtomicU64::new(0);

fn server_clock() -> SystemTime {
    SystemTime::now() + Duration::from_secs(AHEAD.load(Ordering::SeqCst))
}

fn npm_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MCP_TS_NPM")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::tools("npm"));
    for package in ["oidc-provider", "jose"] {
        required(
            dir.join("node_modules").join(package).join("package.json"),
            package,
            "run scripts/install-peers",
        )?;
    }
    Some(dir)
}

async fn node() -> Option<PathBuf> {
    let node = std::env::var_os("MCP_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    match Command::new(&node).arg("--version").output().await {
        Ok(out) if out.status.success() => Some(node),
        _ => missing("cannot run `node`; install Node.js 20 or newer, or set MCP_NODE"),
    }
}

fn service() -> mcp_tokio::mcp_driver::Service {
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
            mcp_tokio::mcp_proto::schema::tools::Tool::new("slow", "slow", Value::Null),
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
        tokio::time::timeout(GUARD, self.http.send(request))
            .await
            .unwrap()
            .unwrap()
    }

    /// An access token by client credentials for client `n` (0: alice, 1: bob).
    async fn token(&self, n: usize, resource: &str, scope: &str) -> String {
        let c = &self.clients[n];
        let basic = mcp_tokio::mcp_proto::http::base64::encode(
            format!(
                "{}:{}",
                c["client_id"].as_str().unwrap(),
                c["client_secret"].as_str().unwrap()
            )
            .as_bytes(),
        );
        let body = mcp_tokio::mcp_proto::auth::url::form(&[
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

async fn connect(url: &str, auth: &OAuth, era: EraPreference) -> Client {
    let options = HttpClientOptions::default().with_auth(Some(Arc::new(auth.clone())));
    tokio::time::timeout(
        GUARD,
        connect_http(url, client_config(era), Arc::new(NoHandler), options),
    )
    .await
    .expect("connect within the guard")
    .unwrap_or_else(|e| panic!("connected through OAuth: {e} ({:?})", auth.last_error()))
}

async fn call_text(client: &Client, auth: &OAuth, tool: &str) -> String {
    let r = tokio::time::timeout(GUARD, client.call_tool(tool, json!({})))
        .await
        .unwrap()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_server_against_oidc_provider() {
    let Some(npm) = npm_dir() else { return };
    let Some(node) = node().await else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let resources = json!({ url.clone(): "mcp:tools mcp:admin", OTHER: "mcp:tools" });
    let mut peer = Command::new(node)
        .arg(script("oauth_as.mjs"))
        .env("MCP_TS_NPM", &npm)
        .env("MCP_RESOURCES", resources.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut lines = BufReader::new(peer.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(GUARD, lines.next_line())
        .await
        .expect("the provider says where it listens")
        .unwrap()
        .expect("its first line");
    let info: Value = serde_json::from_str(&line).unwrap();
    let issuer = info["issuer"].as_str().unwrap().to_owned();

    let http = AuthHttp::standalone(TokioRuntime, Arc::new(TokioConnector), Default::default());
    let verifier = JwtVerifier::new(&issuer, &url, http.clone()).with_clock(server_clock);
    let config = ResourceServerConfig::new(&url, &issuer)
        .require(&["mcp:tools"])
        .tool_scopes("admin_op", &["mcp:admin"]);
    let protection = Protection::new(
        config,
        Arc::new(Arc::new(verifier)) as Arc<dyn TokenVerifier>,
    )
    .with_clock(server_clock);
    let mut http_config = mcp_examples_common::http_config(listener.local_addr().unwrap());
    http_config.json_response = true;
    let server = HttpService::protected(TokioRuntime, service(), http_config, protection);
    tokio::spawn(mcp_tokio::serve_http_with(listener, server));

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
    AHEAD.store(7200, Ordering::SeqCst);
    let c = refused(
        &f.modern_call(&alice, "whoami").await,
        401,
        Some("invalid_token"),
    );
    assert!(
        c.param("error_description").unwrap().contains("expired"),
        "{c:?}"
    );
    AHEAD.store(0, Ordering::SeqCst);
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
        let client = connect(&url, &auth, era).await;
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
    let a = connect(&url, &alice_auth, EraPreference::Modern).await;
    let b = connect(&url, &bob_auth, EraPreference::Modern).await;
    let task = tokio::time::timeout(GUARD, a.call_tool_as_task("slow", json!({})))
        .await
        .unwrap()
        .unwrap();
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
    drop(peer.stdin.take());
}
