//! The shared driver on tokio, end to end over an in-process pipe.

use std::sync::Arc;
use std::time::Duration;

use mcp_tokio::mcp_driver::{
    BoxFuture, CallError, Handler, HandlerResult, NoHandler, RequestCx, Service,
};

use mcp_tokio::mcp_proto::jsonrpc::ErrorObject;
use mcp_tokio::mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_tokio::mcp_proto::schema::lifecycle::{
    ClientCapabilities, ElicitationCapability, RootsCapability,
};
use mcp_tokio::mcp_proto::schema::lifecycle::{ServerCapabilities, ToolsCapability};
use mcp_tokio::mcp_proto::schema::messages::ClientRequest;
use mcp_tokio::mcp_proto::schema::roots::ListRootsResult;
use mcp_tokio::mcp_proto::schema::tools::CallToolResult;
use mcp_tokio::mcp_proto::schema::{Era, Implementation};
use mcp_tokio::mcp_proto::session::{ClientConfig, EraPreference, RequestError, ServerConfig};
use serde_json::json;

struct Echo {
    started: Arc<tokio::sync::Notify>,
    cancelled: Arc<tokio::sync::Notify>,
}

impl Handler for Echo {
    fn handle(&self, request: ClientRequest, cx: RequestCx) -> BoxFuture<'static, HandlerResult> {
        let started = self.started.clone();
        let cancelled = self.cancelled.clone();
        Box::pin(async move {
            match request {
                ClientRequest::CallTool(p) if p.name == "echo" => {
                    let text = p
                        .arguments
                        .and_then(|a| a.get("text").cloned())
                        .unwrap_or_default();
                    Ok(CallToolResult::text(text.as_str().unwrap_or_default()).into())
                }
                ClientRequest::CallTool(p) if p.name == "progress" => {
                    for i in 1..=3 {
                        cx.progress(i as f64, Some(3.0), None).unwrap();
                    }
                    Ok(CallToolResult::text("done").into())
                }
                ClientRequest::CallTool(p) if p.name == "hang" => {
                    // The driver drops a cancelled handler; the guard observes that.
                    let _dropped = NotifyOnDrop(cancelled);
                    started.notify_one();
                    std::future::pending::<()>().await;
                    Ok(CallToolResult::text("never sent").into())
                }
                ClientRequest::CallTool(p) if p.name == "ask" => {
                    // Two asks in a row: in 2026-07-28 this takes two input_required rounds.
                    let form = |m: &str| -> ElicitRequestParams {
                        serde_json::from_value(json!({"message": m, "requestedSchema": {"type":"object","properties":{"v":{"type":"string"}}}})).unwrap()
                    };
                    let a = cx
                        .elicit(form("first?"))
                        .await
                        .map_err(|e| ErrorObject::internal(e.to_string()))?;
                    let b = cx
                        .elicit(form("second?"))
                        .await
                        .map_err(|e| ErrorObject::internal(e.to_string()))?;
                    let roots = cx
                        .list_roots()
                        .await
                        .map_err(|e| ErrorObject::internal(e.to_string()))?;
                    let v = |r: &ElicitResult| {
                        serde_json::to_value(r.content.as_ref().unwrap()).unwrap()["v"]
                            .as_str()
                            .unwrap()
                            .to_owned()
                    };
                    Ok(
                        CallToolResult::text(format!("{}+{}+{}", v(&a), v(&b), roots.roots.len()))
                            .into(),
                    )
                }
                other => Err(ErrorObject::method_not_found(other.method())),
            }
        })
    }
}

struct NotifyOnDrop(Arc<tokio::sync::Notify>);

impl Drop for NotifyOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

fn service() -> (Service, Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>) {
    let caps = ServerCapabilities {
        tools: Some(ToolsCapability::default()),
        ..Default::default()
    };
    let started = Arc::new(tokio::sync::Notify::new());
    let cancelled = Arc::new(tokio::sync::Notify::new());
    let svc = Service::new(
        ServerConfig::new(Implementation::new("echo", "1"), caps),
        Echo {
            started: started.clone(),
            cancelled: cancelled.clone(),
        },
    );
    (svc, started, cancelled)
}

async fn pair(
    era: EraPreference,
) -> (
    mcp_tokio::mcp_driver::Client,
    Arc<tokio::sync::Notify>,
    Arc<tokio::sync::Notify>,
) {
    let (svc, started, cancelled) = service();
    let (a, b) = tokio::io::duplex(64 * 1024);
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    tokio::spawn(mcp_tokio::serve(svc, ar, aw));
    let mut cfg = ClientConfig::new(Implementation::new("c", "1"));
    cfg.era = era;
    let client = mcp_tokio::connect(cfg, Arc::new(NoHandler), br, bw)
        .await
        .unwrap();
    (client, started, cancelled)
}

#[tokio::test]
async fn calls_round_trip_in_both_eras() {
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let (client, _, _) = pair(era).await;
        assert_eq!(
            client.server().era,
            if era == EraPreference::Legacy {
                Era::Legacy
            } else {
                Era::Modern
            }
        );
        let r = client
            .call_tool("echo", json!({"text": "hi"}))
            .await
            .unwrap();
        assert_eq!(r.content[0].as_text(), Some("hi"));
        let many = futures_join(&client).await;
        assert_eq!(many, (0..50).map(|i| i.to_string()).collect::<Vec<_>>());
    }
}

async fn futures_join(client: &mcp_tokio::mcp_driver::Client) -> Vec<String> {
    let mut handles = Vec::new();
    for i in 0..50 {
        let c = client.clone();
        handles.push(tokio::spawn(async move {
            c.call_tool("echo", json!({"text": i.to_string()})).await
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(
            h.await.unwrap().unwrap().content[0]
                .as_text()
                .unwrap()
                .to_owned(),
        );
    }
    out
}

#[tokio::test]
async fn progress_reaches_the_callback() {
    let (client, _, _) = pair(EraPreference::Auto).await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let r = client
        .call_tool_with(
            "progress",
            json!({}),
            Some(Box::new(move |p| s.lock().unwrap().push(p.progress))),
        )
        .await
        .unwrap();
    assert_eq!(r.content[0].as_text(), Some("done"));
    assert_eq!(*seen.lock().unwrap(), vec![1.0, 2.0, 3.0]);
}

#[tokio::test]
async fn dropping_a_call_cancels_it_on_the_server() {
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let (client, started, cancelled) = pair(era).await;
        let c = client.clone();
        let call = tokio::spawn(async move { c.call_tool("hang", json!({})).await });
        started.notified().await;
        call.abort();
        tokio::time::timeout(Duration::from_secs(5), cancelled.notified())
            .await
            .expect("handler saw the cancel");
        // The connection is still fine.
        assert_eq!(
            client
                .call_tool("echo", json!({"text": "after"}))
                .await
                .unwrap()
                .content[0]
                .as_text(),
            Some("after")
        );
    }
}

#[tokio::test]
async fn server_errors_and_disconnects_reach_the_caller() {
    let (client, started, _) = pair(EraPreference::Auto).await;
    let err = client
        .request(ClientRequest::ListTools(Default::default()))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Request(RequestError::Rpc(e)) if e.code == -32601));
    // A client that goes away mid-call: the pending call ends with Closed, not a hang.
    let c = client.clone();
    let call = tokio::spawn(async move { c.call_tool("hang", json!({})).await });
    started.notified().await;
    client.close();
    let r = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(r, Err(CallError::Request(RequestError::Closed))),
        "{r:?}"
    );
    assert!(matches!(
        client.call_tool("echo", json!({})).await,
        Err(CallError::Request(RequestError::Closed))
    ));
}

/// Answers elicitations with a counter and lists one root.
struct Answers(std::sync::atomic::AtomicUsize);

impl mcp_tokio::mcp_driver::ClientHandler for Answers {
    fn elicit(
        &self,
        _p: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            Ok(
                serde_json::from_value(json!({"action":"accept","content":{"v": format!("a{n}")}}))
                    .unwrap(),
            )
        })
    }
    fn list_roots(&self) -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> {
        Box::pin(async {
            Ok(serde_json::from_value(json!({"roots":[{"uri":"file:///tmp"}]})).unwrap())
        })
    }
}

#[tokio::test]
async fn the_same_handler_asks_in_both_eras() {
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let (svc, _, _) = service();
        let (a, b) = tokio::io::duplex(64 * 1024);
        let (ar, aw) = tokio::io::split(a);
        let (br, bw) = tokio::io::split(b);
        tokio::spawn(mcp_tokio::serve(svc, ar, aw));
        let mut cfg = ClientConfig::new(Implementation::new("c", "1"));
        cfg.era = era;
        cfg.capabilities = ClientCapabilities {
            elicitation: Some(ElicitationCapability::default()),
            roots: Some(RootsCapability::default()),
            ..Default::default()
        };
        let handler = Arc::new(Answers(Default::default()));
        let client = mcp_tokio::connect(cfg, handler.clone(), br, bw)
            .await
            .unwrap();
        let r = client.call_tool("ask", json!({})).await.unwrap();
        assert_eq!(r.content[0].as_text(), Some("a0+a1+1"), "{era:?}");
        // Each question was put to the user exactly once, even though the modern handler replays.
        assert_eq!(handler.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn tampered_request_state_is_refused() {
    let (svc, _, _) = service();
    let (a, b) = tokio::io::duplex(64 * 1024);
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    tokio::spawn(mcp_tokio::serve(svc, ar, aw));
    let mut cfg = ClientConfig::new(Implementation::new("c", "1"));
    cfg.capabilities.elicitation = Some(ElicitationCapability::default());
    let client = mcp_tokio::connect(cfg, Arc::new(NoHandler), br, bw)
        .await
        .unwrap();
    let req = |state: &str| {
        ClientRequest::CallTool(
            serde_json::from_value(json!({"name": "ask", "requestState": state})).unwrap(),
        )
    };
    for forged in ["", "e30.AAAA", "not-even-close"] {
        let err = client.request(req(forged)).await.unwrap_err();
        assert!(
            matches!(&err, CallError::Request(RequestError::Rpc(e)) if e.code == -32602),
            "{err:?}"
        );
    }
}
