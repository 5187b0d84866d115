//! Asks that need the client's say-so, end to end: URL-mode elicitation (the
//! `elicitation.url` capability, `notifications/elicitation/complete`, and the -32042 error
//! that sends the user to a page before a call can go on) and sampling with tools (the
//! `sampling.tools` capability).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_driver::mcp_proto::jsonrpc::{ErrorObject, RequestId};
use mcp_driver::mcp_proto::schema::elicitation::{
    ElicitAction, ElicitRequestParams, ElicitRequestURLParams, ElicitResult,
};
use mcp_driver::mcp_proto::schema::errors::{url_elicitation_required, URLElicitationRequiredData};
use mcp_driver::mcp_proto::schema::lifecycle::{
    ClientCapabilities, ServerCapabilities, ToolsCapability,
};
use mcp_driver::mcp_proto::schema::messages::{ClientRequest, ServerNotification};
use mcp_driver::mcp_proto::schema::sampling::{CreateMessageRequestParams, CreateMessageResult};
use mcp_driver::mcp_proto::schema::tools::CallToolResult;
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference, RequestError, ServerConfig};
use mcp_driver::{
    AskError, BoxFuture, CallError, Client, ClientHandler, Handler, HandlerResult, RequestCx,
    Runtime, ServerHandle, Service,
};
use serde_json::{json, Value};

use crate::{expected_era, link_up, within, Link, Signal};

/// The page URL-mode elicitations send the user to (never fetched).
const PAGE: &str = "https://auth.example/connect?account=42";
/// The server's id for that elicitation.
const ELICITATION_ID: &str = "connect-42";
const GUARD: Duration = Duration::from_secs(30);

/// The server side: a tool asking in URL mode, a tool refusing with -32042 until the user
/// has been to the page, and a tool sampling with tools.
#[derive(Clone, Default)]
struct Asker {
    /// Set once the user finished at the page (the test plays the browser).
    connected: Arc<AtomicBool>,
}

fn url_params(era_has_ids: bool) -> ElicitRequestURLParams {
    ElicitRequestURLParams {
        message: "Connect your account to go on".into(),
        url: PAGE.into(),
        // 2026-07-28 dropped elicitation ids.
        elicitation_id: era_has_ids.then(|| ELICITATION_ID.into()),
        ..Default::default()
    }
}

fn weather_request() -> CreateMessageRequestParams {
    serde_json::from_value(json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": "Weather in Paris?"}}],
        "maxTokens": 64,
        "tools": [{
            "name": "weather",
            "description": "Looks up the weather",
            "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}}
        }],
        "toolChoice": {"mode": "auto"}
    }))
    .unwrap_or_else(|e| unreachable!("a valid literal: {e}"))
}

fn outcome(text: String) -> HandlerResult {
    Ok(CallToolResult::text(text).into())
}

impl Handler for Asker {
    fn handle(&self, request: ClientRequest, cx: RequestCx) -> BoxFuture<'static, HandlerResult> {
        let me = self.clone();
        Box::pin(async move {
            let ClientRequest::CallTool(p) = request else {
                return Err(ErrorObject::method_not_found(request.method()));
            };
            let legacy = cx.era() == mcp_driver::mcp_proto::schema::Era::Legacy;
            match p.name.as_str() {
                "sign_in" => match cx.elicit(url_params(legacy).into()).await {
                    Ok(r) => outcome(format!("{:?}", r.action)),
                    Err(AskError::Refused(e)) => outcome(format!("refused: {e}")),
                    Err(e) => Err(ErrorObject::internal(e.to_string())),
                },
                "account" if me.connected.load(Ordering::SeqCst) => {
                    outcome("account connected".into())
                }
                "account" => Err(url_elicitation_required(
                    "connect your account first",
                    vec![url_params(true)],
                )),
                "agent" => match cx.sample(weather_request()).await {
                    Ok(r) => outcome(format!(
                        "{}: {}",
                        r.model,
                        serde_json::to_value(&r.content).unwrap_or_default()["text"]
                    )),
                    Err(AskError::Refused(e)) => outcome(format!("refused: {e}")),
                    Err(e) => Err(ErrorObject::internal(e.to_string())),
                },
                other => Err(ErrorObject::invalid_params(format!("unknown tool {other}"))),
            }
        })
    }
}

/// The client side: answers URL elicitations with accept and sampling with a canned model,
/// recording what it was asked; records `notifications/elicitation/complete`.
#[derive(Default)]
struct Host {
    urls: Mutex<Vec<ElicitRequestURLParams>>,
    sampled_tools: Mutex<Vec<Vec<String>>>,
    completed: Mutex<Vec<String>>,
    completion: Signal,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ClientHandler for Host {
    fn elicit(
        &self,
        params: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        let ElicitRequestParams::Url(p) = params else {
            return Box::pin(async { Err(ErrorObject::invalid_params("form mode unexpected")) });
        };
        lock(&self.urls).push(p);
        Box::pin(async { Ok(ElicitResult::accept_url()) })
    }

    fn create_message(
        &self,
        params: CreateMessageRequestParams,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>> {
        let tools = params
            .tools
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.name)
            .collect();
        lock(&self.sampled_tools).push(tools);
        Box::pin(async {
            serde_json::from_value(json!({
                "role": "assistant",
                "content": {"type": "text", "text": "sunny"},
                "model": "canned-model"
            }))
            .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }

    fn on_notification(&self, n: ServerNotification, _subscription: Option<RequestId>) {
        if let ServerNotification::ElicitationComplete(p) = n {
            lock(&self.completed).push(p.elicitation_id);
            self.completion.set();
        }
    }
}

fn service(asker: &Asker) -> Service {
    let caps = ServerCapabilities {
        tools: Some(ToolsCapability::default()),
        ..Default::default()
    };
    Service::new(
        ServerConfig::new(Implementation::new("asks", "1"), caps),
        asker.clone(),
    )
}

async fn connect<R: Runtime>(
    rt: R,
    link: Link,
    era: EraPreference,
    capabilities: Value,
) -> (Client, ServerHandle, Asker, Arc<Host>) {
    let asker = Asker::default();
    let host = Arc::new(Host::default());
    let mut cfg = ClientConfig::new(Implementation::new("asks-client", "1"));
    cfg.era = era;
    cfg.capabilities = serde_json::from_value::<ClientCapabilities>(capabilities)
        .unwrap_or_else(|e| unreachable!("valid capabilities: {e}"));
    let (client, server) = link_up(rt, link, service(&asker), cfg, host.clone()).await;
    assert_eq!(client.server().era, expected_era(era));
    (client, server, asker, host)
}

fn text(r: &CallToolResult) -> &str {
    r.content[0].as_text().unwrap_or_default()
}

const ERAS: [EraPreference; 2] = [EraPreference::Legacy, EraPreference::Auto];

/// URL-mode elicitation, end to end in both eras: a client that declared URL mode is asked
/// (the page, and in 2025-11-25 the elicitation id, reach its handler), then hears
/// `notifications/elicitation/complete`; one that declared only form mode is never asked,
/// the server's ask is refused for the missing `elicitation.url`, and no completion is sent.
pub async fn url_elicitation_end_to_end<R: Runtime>(rt: R, link: Link) {
    for era in ERAS {
        let legacy = era == EraPreference::Legacy;
        let caps = json!({"elicitation": {"form": {}, "url": {}}});
        let (client, server, _, host) = connect(rt.clone(), link, era, caps).await;
        let r = client.call_tool("sign_in", json!({})).await.unwrap();
        assert_eq!(text(&r), format!("{:?}", ElicitAction::Accept), "{era:?}");
        {
            let urls = lock(&host.urls);
            assert_eq!(urls.len(), 1, "{era:?}: asked once");
            assert_eq!(urls[0].url, PAGE);
            assert_eq!(urls[0].message, "Connect your account to go on");
            assert_eq!(
                urls[0].elicitation_id.as_deref(),
                legacy.then_some(ELICITATION_ID),
                "{era:?}"
            );
        }
        // The user finished at the page: the server says so (2025-11-25 only).
        assert_eq!(server.notify_elicitation_complete(ELICITATION_ID), legacy);
        if legacy {
            within(
                &rt,
                GUARD,
                "notifications/elicitation/complete",
                host.completion.wait(),
            )
            .await;
            assert_eq!(*lock(&host.completed), [ELICITATION_ID]);
        }

        // Form mode only: the server may not ask in URL mode.
        let caps = json!({"elicitation": {"form": {}}});
        let (client, server, _, host) = connect(rt.clone(), link, era, caps).await;
        let r = client.call_tool("sign_in", json!({})).await.unwrap();
        assert!(
            text(&r).starts_with("refused: ") && text(&r).contains("elicitation"),
            "{era:?}: {}",
            text(&r)
        );
        assert!(lock(&host.urls).is_empty(), "{era:?}: never asked");
        assert!(!server.notify_elicitation_complete(ELICITATION_ID));
        // Whatever was queued reaches the client before this answer.
        client.call_tool("sign_in", json!({})).await.unwrap();
        assert!(lock(&host.completed).is_empty(), "{era:?}");
    }
}

/// The -32042 flow of 2025-11-25: the call is refused until the user has been to a page;
/// the error carries that URL elicitation (with its id); the server's completion
/// notification arrives; the retried call succeeds.
pub async fn url_elicitation_required_then_retried<R: Runtime>(rt: R, link: Link) {
    let caps = json!({"elicitation": {"url": {}}});
    let (client, server, asker, host) =
        connect(rt.clone(), link, EraPreference::Legacy, caps).await;
    let e = client.call_tool("account", json!({})).await.unwrap_err();
    let CallError::Request(RequestError::Rpc(e)) = e else {
        panic!("expected -32042, got {e:?}");
    };
    assert_eq!(e.code, -32042, "{e:?}");
    let data: URLElicitationRequiredData =
        serde_json::from_value(e.data.clone().expect("-32042 carries data"))
            .unwrap_or_else(|err| panic!("data of {e:?}: {err}"));
    assert_eq!(data.elicitations.len(), 1);
    assert_eq!(data.elicitations[0].url, PAGE);
    assert_eq!(
        data.elicitations[0].elicitation_id.as_deref(),
        Some(ELICITATION_ID)
    );

    // The browser side: the user connects; the server tells the client, which retries.
    asker.connected.store(true, Ordering::SeqCst);
    assert!(server.notify_elicitation_complete(ELICITATION_ID));
    within(
        &rt,
        GUARD,
        "notifications/elicitation/complete",
        host.completion.wait(),
    )
    .await;
    assert_eq!(*lock(&host.completed), [ELICITATION_ID]);
    let r = client.call_tool("account", json!({})).await.unwrap();
    assert_eq!(text(&r), "account connected");
    assert!(lock(&host.urls).is_empty(), "nothing was asked in-band");
}

/// Sampling with tools, both eras: a client that declared `sampling.tools` gets the tools
/// and answers; one that declared only `sampling` is never asked and the server's ask is
/// refused for the missing `sampling.tools`.
pub async fn sampling_with_tools_needs_the_capability<R: Runtime>(rt: R, link: Link) {
    for era in ERAS {
        let caps = json!({"sampling": {"tools": {}}});
        let (client, _server, _, host) = connect(rt.clone(), link, era, caps).await;
        let r = client.call_tool("agent", json!({})).await.unwrap();
        assert_eq!(text(&r), "canned-model: \"sunny\"", "{era:?}");
        assert_eq!(*lock(&host.sampled_tools), [vec!["weather".to_owned()]]);

        let caps = json!({"sampling": {}});
        let (client, _server, _, host) = connect(rt.clone(), link, era, caps).await;
        let r = client
            .call_tool("agent", json!({}))
            .await
            .unwrap_or_else(|e| panic!("{era:?}: {e}"));
        assert!(
            text(&r).starts_with("refused: ") && text(&r).contains("sampling.tools"),
            "{era:?}: {}",
            text(&r)
        );
        assert!(lock(&host.sampled_tools).is_empty(), "{era:?}: never asked");
    }
}
