//! The suite over streamable HTTP on 127.0.0.1: the same fixture, served by
//! [`HttpService`] and reached by [`connect_http`], so every runtime proves its HTTP server
//! and client (sessions, SSE, resumption, cancellation) the same way.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use std::net::SocketAddr;

use mcp_driver::http::client::{
    connect_http, rustls, BoxStream, Connector, HttpClientOptions, HttpConnectError,
};
use mcp_driver::http::server::HttpService;
use mcp_driver::mcp_proto::http::HttpError;
use mcp_driver::mcp_proto::http::HttpServerConfig;
use mcp_driver::mcp_proto::schema::lifecycle::{
    ClientCapabilities, ElicitationCapability, RootsCapability, ServerCapabilities, ToolsCapability,
};
use mcp_driver::mcp_proto::schema::tasks::TaskStatus;
use mcp_driver::mcp_proto::schema::{Era, Implementation};
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference, ServerConfig};
use mcp_driver::{BoxFuture, CallError, Client, ClientHandler, NoHandler, Runtime, Service};
use serde_json::json;

pub use crate::crossing::http_tasks_expire_after_their_ttl;
pub use crate::fair_streams::http_one_client_at_its_stream_limit_does_not_lock_out_another;
pub use crate::python::python_server_over_http;
pub use crate::stall::http_a_stalled_server_cannot_hold_the_client;
use crate::tasks::{client_config, task_service, text, Gates};
use crate::{
    asking_caps, call_recording_progress, drop_a_call_and_go_on, expected_era, fixture_service,
    panics_are_answered, Answers, Fixture, Panicky,
};

/// Takes one accepted connection (and serves it).
pub type Accept = Arc<dyn Fn(BoxStream) -> BoxFuture<'static, ()> + Send + Sync>;

/// What a runtime lends the HTTP cases: a listener and TCP connections, on 127.0.0.1.
pub trait Net<R: Runtime>: Clone + Send + Sync + 'static {
    /// Listens on 127.0.0.1 at a port of the OS's choosing and hands every accepted
    /// connection to `accept`, each on its own task; resolves to the address once listening.
    fn listen(&self, accept: Accept) -> BoxFuture<'static, SocketAddr>;
    /// Opens client connections.
    fn connector(&self) -> Arc<dyn Connector>;
    /// Serves `http` in the background and resolves to its MCP URL. By default every
    /// accepted connection goes to [`HttpService::serve_connection`]; a runtime overrides it
    /// to prove the endpoint mounted elsewhere (inside an axum router, say) passes the same
    /// cases.
    fn serve_mcp(&self, http: HttpService<R>) -> BoxFuture<'static, String> {
        let listening = self.listen(Arc::new(move |stream| {
            Box::pin(http.serve_connection(stream)) as BoxFuture<'static, ()>
        }));
        Box::pin(async move { format!("http://{}/mcp", listening.await) })
    }
}

/// Serves `http` in the background; resolves to the MCP URL.
pub async fn serve<R: Runtime, N: Net<R>>(net: &N, http: HttpService<R>) -> String {
    net.serve_mcp(http).await
}

/// An HTTP server of the fixture and a client of it.
pub struct HttpSetup<R: Runtime> {
    /// The client.
    pub client: Client,
    /// The server's handler (signals).
    pub fixture: Fixture,
    /// The server (to end its sessions).
    pub http: HttpService<R>,
}

/// Serves the fixture over HTTP and connects a client with `era` and `capabilities`.
pub async fn http_setup<R: Runtime, N: Net<R>>(
    rt: R,
    net: &N,
    era: EraPreference,
    capabilities: ClientCapabilities,
    handler: Arc<dyn ClientHandler>,
) -> HttpSetup<R> {
    let fixture = Fixture::default();
    let service = fixture_service(&fixture);
    let mut config = HttpServerConfig::default();
    // Resumptions come quickly (the default `retry` is a second).
    config.streams.retry = std::time::Duration::from_millis(20);
    let http = HttpService::new(rt.clone(), service, config);
    let url = serve(net, http.clone()).await;
    let mut cfg = ClientConfig::new(Implementation::new("suite-client", "1"));
    cfg.era = era;
    cfg.capabilities = capabilities;
    let client = connect_http(
        rt,
        net.connector(),
        &url,
        cfg,
        handler,
        HttpClientOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("connect over HTTP failed: {e}"));
    HttpSetup {
        client,
        fixture,
        http,
    }
}

async fn plain<R: Runtime, N: Net<R>>(rt: R, net: &N, era: EraPreference) -> HttpSetup<R> {
    http_setup(
        rt,
        net,
        era,
        ClientCapabilities::default(),
        Arc::new(NoHandler),
    )
    .await
}

/// Calls round-trip over HTTP in both eras (a legacy session, then stateless requests).
pub async fn http_calls_round_trip_in_both_eras<R: Runtime, N: Net<R>>(rt: R, net: N) {
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let s = plain(rt.clone(), &net, era).await;
        assert_eq!(s.client.server().era, expected_era(era));
        for i in 0..3 {
            let r = s
                .client
                .call_tool("echo", json!({"text": format!("hi{i}")}))
                .await
                .unwrap();
            assert_eq!(r.content[0].as_text(), Some(format!("hi{i}").as_str()));
        }
        let legacy = s.client.server().era == Era::Legacy;
        assert_eq!(s.http.session_count(), usize::from(legacy), "{era:?}");
        s.client.close();
        s.client.closed().await;
        assert!(s.client.is_closed());
        // `closed` waited for the legacy session's DELETE to be answered.
        assert_eq!(s.http.session_count(), 0, "{era:?}");
    }
}

/// Calls made together over HTTP are in flight together, in both eras: every handler waits
/// for all the others (the fixture's `gather` barrier), so the client's pool must have grown
/// to one connection per call (HTTP/1.1 carries one exchange at a time), and the server saw
/// that many connections.
pub async fn http_concurrent_calls_grow_the_pool<R: Runtime, N: Net<R>>(rt: R, net: N) {
    const CALLS: usize = 16;
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let fixture = Fixture::default();
        let http = HttpService::new(
            rt.clone(),
            fixture_service(&fixture),
            HttpServerConfig::default(),
        );
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let addr = net
            .listen(Arc::new(move |stream| {
                counter.fetch_add(1, Ordering::SeqCst);
                Box::pin(http.serve_connection(stream)) as BoxFuture<'static, ()>
            }))
            .await;
        let mut cfg = ClientConfig::new(Implementation::new("suite-client", "1"));
        cfg.era = era;
        let client = connect_http(
            rt.clone(),
            net.connector(),
            &format!("http://{addr}/mcp"),
            cfg,
            Arc::new(NoHandler),
            HttpClientOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("connect over HTTP failed: {e}"));
        crate::all_in_flight_together(&rt, &client, &fixture, CALLS).await;
        let connections = accepted.load(Ordering::SeqCst);
        assert!(
            connections >= CALLS,
            "{era:?}: {CALLS} calls in flight together over {connections} connections"
        );
        client.close();
    }
}

/// One handler asks over HTTP in both eras: legacy server-to-client requests on the SSE
/// stream, 2026-07-28 input_required rounds.
pub async fn http_asks_in_both_eras<R: Runtime, N: Net<R>>(rt: R, net: N) {
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let answers = Arc::new(Answers::default());
        let caps = ClientCapabilities {
            elicitation: Some(ElicitationCapability::default()),
            roots: Some(RootsCapability::default()),
            ..Default::default()
        };
        let s = http_setup(rt.clone(), &net, era, caps, answers.clone()).await;
        let r = s.client.call_tool("ask", json!({})).await.unwrap();
        assert_eq!(r.content[0].as_text(), Some("a0+a1+1"), "{era:?}");
        assert_eq!(answers.0.load(Ordering::SeqCst), 2);
    }
}

/// Over HTTP too, a panic in user code answers its request with -32603 and the server and
/// client go on: a tool that panics, and a host whose callbacks panic when asked.
pub async fn http_panicking_handlers_answer_errors<R: Runtime, N: Net<R>>(rt: R, net: N) {
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let s = http_setup(rt.clone(), &net, era, asking_caps(), Arc::new(Panicky)).await;
        panics_are_answered(&s.client, era).await;
        s.client.close();
    }
}

/// Progress arrives on the request's SSE stream in both eras.
pub async fn http_progress_reaches_the_callback<R: Runtime, N: Net<R>>(rt: R, net: N) {
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let s = plain(rt.clone(), &net, era).await;
        let (r, seen) = call_recording_progress(&s.client, "progress").await;
        assert_eq!(r.content[0].as_text(), Some("done"));
        assert_eq!(seen, [1.0, 2.0, 3.0]);
    }
}

/// Dropping a call cancels it on the server in both eras (2026-07-28: the response stream
/// closes; legacy: `notifications/cancelled`).
pub async fn http_dropping_a_call_cancels_it<R: Runtime, N: Net<R>>(rt: R, net: N) {
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let s = plain(rt.clone(), &net, era).await;
        drop_a_call_and_go_on(&s.client, &s.fixture).await;
    }
}

/// A legacy server that ends a response stream mid-call (SEP-1699 polling) loses nothing:
/// the client resumes with `Last-Event-ID` and gets every progress report and the answer.
pub async fn http_a_cut_stream_is_resumed<R: Runtime, N: Net<R>>(rt: R, net: N) {
    let s = plain(rt, &net, EraPreference::Legacy).await;
    let (r, seen) = call_recording_progress(&s.client, "resumable").await;
    assert_eq!(r.content[0].as_text(), Some("resumed after a cut"));
    assert_eq!(seen, [1.0, 2.0, 3.0]);
}

/// When the server ends a legacy session, the client's next call meets a 404, opens a new
/// session and succeeds.
pub async fn http_an_ended_session_is_reopened<R: Runtime, N: Net<R>>(rt: R, net: N) {
    let s = plain(rt, &net, EraPreference::Legacy).await;
    let r = s.client.call_tool("echo", json!({"text": "one"})).await;
    assert_eq!(r.unwrap().content[0].as_text(), Some("one"));
    assert_eq!(s.http.session_count(), 1);
    s.http.close_sessions();
    assert_eq!(s.http.session_count(), 0);
    let r = s.client.call_tool("echo", json!({"text": "two"})).await;
    assert_eq!(r.unwrap().content[0].as_text(), Some("two"));
    assert_eq!(s.http.session_count(), 1);
}

/// `https://` works with rustls on every runtime: the client trusts the server's certificate
/// when told to, and refuses it (typed) with the default roots.
pub async fn http_tls_with_rustls<R: Runtime, N: Net<R>>(rt: R, net: N) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .unwrap_or_else(|e| panic!("certificate: {e}"));
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_tls = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .and_then(|b| {
            b.with_no_client_auth()
                .with_single_cert(vec![cert.clone()], key)
        })
        .unwrap_or_else(|e| panic!("server TLS config: {e}"));
    let acceptor = futures_rustls::TlsAcceptor::from(Arc::new(server_tls));
    let service = Service::new(
        ServerConfig::new(
            Implementation::new("suite", "1"),
            ServerCapabilities {
                tools: Some(ToolsCapability::default()),
                ..Default::default()
            },
        ),
        Fixture::default(),
    );
    let http = HttpService::new(rt.clone(), service, HttpServerConfig::default());
    let addr = net
        .listen(Arc::new(move |tcp| {
            let (acceptor, http) = (acceptor.clone(), http.clone());
            Box::pin(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    http.serve_connection(tls).await;
                }
            }) as BoxFuture<'static, ()>
        }))
        .await;
    let url = format!("https://localhost:{}/mcp", addr.port());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(cert)
        .unwrap_or_else(|e| panic!("root store: {e}"));
    let client_tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|e| panic!("client TLS config: {e}"));
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let mut cfg = ClientConfig::new(Implementation::new("suite-client", "1"));
        cfg.era = era;
        let options = HttpClientOptions::default().with_tls(Some(Arc::new(client_tls.clone())));
        let client = connect_http(
            rt.clone(),
            net.connector(),
            &url,
            cfg,
            Arc::new(NoHandler),
            options,
        )
        .await
        .unwrap_or_else(|e| panic!("connect over TLS failed: {e}"));
        let r = client
            .call_tool("echo", json!({"text": "tls"}))
            .await
            .unwrap();
        assert_eq!(r.content[0].as_text(), Some("tls"));
        client.close();
    }
    let refused = connect_http(
        rt,
        net.connector(),
        &url,
        ClientConfig::new(Implementation::new("suite-client", "1")),
        Arc::new(NoHandler),
        HttpClientOptions::default().with_max_attempts(1),
    )
    .await;
    // Refused for the certificate, typed: not some other failure that happens to be an error.
    match refused {
        Err(HttpConnectError::Http(HttpError::Unreachable { reason, .. })) => assert!(
            reason.contains("TLS") && reason.contains("certificate"),
            "a self-signed certificate must fail TLS with the default roots: {reason}"
        ),
        Err(other) => panic!("refused, but not for the certificate: {other:?}"),
        Ok(_) => panic!("a self-signed certificate must not pass the default roots"),
    }
}

/// Tasks over HTTP in both eras, every request on an exchange of its own: created by one
/// POST, then polled, read, asked through (2026-07-28: `tasks/update`; legacy: the ask on
/// the session's GET stream) and cancelled by others, each finding the task.
pub async fn http_tasks_find_their_task_on_every_exchange<R: Runtime, N: Net<R>>(rt: R, net: N) {
    for era in crate::tasks::ERAS {
        let gates = Gates::default();
        let http = HttpService::new(
            rt.clone(),
            task_service(&gates),
            HttpServerConfig::default(),
        );
        let url = serve(&net, http).await;
        let answers = Arc::new(Answers::default());
        let client = connect_http(
            rt.clone(),
            net.connector(),
            &url,
            client_config(era),
            answers.clone(),
            HttpClientOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("connect over HTTP failed: {e}"));
        assert_eq!(client.server().era, expected_era(era));

        let task = client
            .call_tool_as_task("compute", json!({}))
            .await
            .unwrap();
        assert!(task.task_id().is_some(), "{era:?}");
        assert_eq!(task.status().await.unwrap().status, TaskStatus::Working);
        gates.release.set();
        assert_eq!(text(&task.wait().await.unwrap()), "42", "{era:?}");
        assert_eq!(task.status().await.unwrap().status, TaskStatus::Completed);

        let task = client
            .call_tool_as_task("greet_later", json!({}))
            .await
            .unwrap();
        assert_eq!(text(&task.wait().await.unwrap()), "Hello, a0!", "{era:?}");
        assert_eq!(answers.0.load(Ordering::SeqCst), 1, "{era:?}");

        let task = client
            .call_tool_as_task("forever", json!({}))
            .await
            .unwrap();
        task.cancel().await.unwrap();
        gates.dropped.wait().await;
        assert!(
            matches!(task.wait().await, Err(CallError::TaskCancelled(_))),
            "{era:?}"
        );
        client.close();
    }
}
