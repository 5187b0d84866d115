//! Interop: our OAuth client against an authorization server nobody here wrote, npm
//! `oidc-provider` (a certified OpenID provider), protecting a TypeScript SDK server behind the
//! SDK's own bearer middleware, which verifies the provider's JWT access tokens against its
//! JWKS (`tests/interop/oauth_peers.mjs` runs both on 127.0.0.1).
//!
//! One run of the peers covers: the authorization code flow with PKCE, dynamic registration,
//! resource indicators and RFC 9207 `iss` (the headless handler follows the provider's login
//! and consent redirects, which it completes on its own for a fixed account); a refresh of
//! the expired token (rotated); and client credentials with a pre-registered confidential
//! client. Each lists the tools and calls one.
//!
//! Needs `node` (or `MCP_NODE`) and the packages `scripts/install-peers` puts in `.tools/npm`
//! (or `MCP_TS_NPM`). Without them the test says so and passes, unless
//! `MCP_REQUIRE_INTEROP=1` (CI sets it), where that is a failure.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mcp_tokio::mcp_driver::{Client, NoHandler};
use mcp_tokio::mcp_proto::auth::{Grant, OAuthConfig, PreRegistered};
use mcp_tokio::mcp_proto::schema::Implementation;
use mcp_tokio::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_tokio::{connect_http, HeadlessAuthorization, HttpClientOptions, OAuth};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[path = "interop/support.rs"]
mod support;
use support::{missing, required, script};

const GUARD: Duration = Duration::from_secs(30);

/// Seconds the OAuth client's clock runs ahead of the wall clock (to expire a token).
static AHEAD: AtomicU64 = AtomicU64::new(0);

fn clock() -> SystemTime {
    SystemTime::now() + Duration::from_secs(AHEAD.load(Ordering::SeqCst))
}

fn npm_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MCP_TS_NPM")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::tools("npm"));
    for package in [
        "oidc-provider",
        "@modelcontextprotocol/sdk",
        "jose",
        "express",
    ] {
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
        _ => missing(&format!(
            "cannot run `{}`; install Node.js 20 or newer, or set MCP_NODE",
            node.display()
        )),
    }
}

fn client_config() -> ClientConfig {
    let mut cfg = ClientConfig::new(Implementation::new("mcp-rs-oauth-interop", "0.1"));
    cfg.era = EraPreference::Legacy;
    cfg
}

async fn connect(url: &str, auth: &OAuth) -> Client {
    let options = HttpClientOptions::default().with_auth(Some(Arc::new(auth.clone())));
    tokio::time::timeout(
        GUARD,
        connect_http(url, client_config(), Arc::new(NoHandler), options),
    )
    .await
    .expect("connect within the guard")
    .unwrap_or_else(|e| panic!("connected through OAuth: {e} ({:?})", auth.last_error()))
}

/// Lists the tools, calls `whoami`, and returns what the server's token verifier saw.
async fn whoami(client: &Client, auth: &OAuth) -> Value {
    let tools = tokio::time::timeout(GUARD, client.list_tools(None))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("tools/list: {e} ({:?})", auth.last_error()));
    let names: Vec<String> = tools.tools.iter().map(|t| t.name.clone()).collect();
    assert_eq!(names, ["whoami"]);
    let r = tokio::time::timeout(GUARD, client.call_tool("whoami", serde_json::json!({})))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("tools/call: {e} ({:?})", auth.last_error()));
    let r = serde_json::to_value(&r).unwrap();
    let text = r["content"][0]["text"].as_str().expect("a text result");
    serde_json::from_str(text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_provider_and_the_typescript_bearer_middleware() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "oidc_provider_and_the_typescript_bearer_middleware",
        async move {
            let Some(npm) = npm_dir() else { return };
            let Some(node) = node().await else { return };
            let started = Instant::now();
            let mut peers = Command::new(node)
                .arg(script("oauth_peers.mjs"))
                .env("MCP_TS_NPM", &npm)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .expect("node starts");
            let mut lines = BufReader::new(peers.stdout.take().unwrap()).lines();
            let line = tokio::time::timeout(GUARD, lines.next_line())
                .await
                .expect("the peers say where they listen")
                .unwrap()
                .expect("the peers' first line");
            let info: Value = serde_json::from_str(&line).unwrap();
            let url = info["mcp_url"].as_str().unwrap().to_owned();
            let issuer = info["issuer"].as_str().unwrap().to_owned();
            assert!(
                url.starts_with("http://127.0.0.1:") && issuer.starts_with("http://127.0.0.1:")
            );

            // The code flow: discovery from the bearer middleware's 401, registration, the provider's
            // login and consent, the code exchange with PKCE and the resource.
            let auth = OAuth::new(
                OAuthConfig::new(&url, ""),
                Arc::new(HeadlessAuthorization::new("http://127.0.0.1:1/callback")),
            )
            .with_clock(clock);
            let client = connect(&url, &auth).await;
            let me = whoami(&client, &auth).await;
            assert_eq!(me["sub"], "interop-user", "{me}");
            assert_eq!(me["scopes"], serde_json::json!(["mcp:tools"]), "{me}");
            let first = auth.tokens().expect("tokens after the code flow");
            assert_eq!(first.issuer, issuer);
            assert_eq!(first.resource, url);
            assert_eq!(
                first.access_token.split('.').count(),
                3,
                "a JWT access token"
            );
            let first_refresh = first.refresh_token.clone().expect("a refresh token");
            assert_eq!(auth.flows(), 1);

            // An hour later on the client's clock the token has expired: refreshed before the next
            // request, with the rotated refresh token kept.
            AHEAD.store(3600, Ordering::SeqCst);
            let me = whoami(&client, &auth).await;
            assert_eq!(me["sub"], "interop-user", "{me}");
            let second = auth.tokens().unwrap();
            assert_eq!(auth.flows(), 2, "one refresh");
            assert_ne!(second.access_token, first.access_token);
            let second_refresh = second.refresh_token.clone().expect("a refresh token");
            assert_ne!(
                second_refresh, first_refresh,
                "public clients' refresh tokens rotate"
            );
            client.close();
            AHEAD.store(0, Ordering::SeqCst);

            // Client credentials with the pre-registered confidential client (client_secret_basic).
            let mut cfg = OAuthConfig::new(&url, "");
            cfg.grant = Grant::ClientCredentials;
            cfg.pre_registered = Some(PreRegistered {
                client_id: info["service_client"]["client_id"].as_str().unwrap().into(),
                client_secret: info["service_client"]["client_secret"]
                    .as_str()
                    .map(str::to_owned),
                issuer: Some(issuer.clone()),
            });
            let service = OAuth::without_user(cfg);
            let client = connect(&url, &service).await;
            let me = whoami(&client, &service).await;
            assert_eq!(me["client_id"], "mcp-rs-service", "{me}");
            assert_eq!(me["scopes"], serde_json::json!(["mcp:tools"]), "{me}");
            assert!(service.tokens().unwrap().refresh_token.is_none());
            client.close();

            drop(peers.stdin.take());
            eprintln!(
                "oauth interop (peers started, code flow, refresh, client credentials): {:?}",
                started.elapsed()
            );
        },
    )
    .await
}
