//! The typed server builder end to end, on every runtime, over the in-memory pipe (bytes
//! through the stream pump), in both eras: typed tools and their schemas, structured output,
//! state, progress, pagination, resources, prompts, completions, list changes at run time,
//! resource subscriptions and logging.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mcp_driver::mcp_proto::jsonrpc::RequestId;
use mcp_driver::mcp_proto::schema::completion::{CompleteRequestParams, CompletionReference};
use mcp_driver::mcp_proto::schema::content::{
    ContentBlock, EmbeddedResource, ResourceContents, TextResourceContents,
};
use mcp_driver::mcp_proto::schema::messages::{ClientRequest, ServerNotification};
use mcp_driver::mcp_proto::schema::prompts::PromptMessage;
use mcp_driver::mcp_proto::schema::resources::SubscribeRequestParams;
use mcp_driver::mcp_proto::schema::subscriptions::{
    SubscriptionFilter, SubscriptionsListenRequestParams,
};
use mcp_driver::mcp_proto::schema::{Era, Implementation, LoggingLevel, Role};
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference, RequestError};
use mcp_driver::schemars::JsonSchema;
use mcp_driver::serde::{Deserialize, Serialize};
use mcp_driver::{
    Args, CallError, Client, ClientHandler, Json, RequestCx, RpcError, Runtime, Server,
    ServerControl, Service, State, ToolError, UriVars,
};
use serde_json::{json, Value};

use crate::{link_up, within, Link};

const ERAS: [EraPreference; 2] = [EraPreference::Auto, EraPreference::Legacy];
/// Bounds the wait for one notification; only a lost one reaches it.
const GUARD: Duration = Duration::from_secs(30);

#[derive(Deserialize, JsonSchema)]
#[serde(crate = "mcp_driver::serde")]
#[schemars(crate = "mcp_driver::schemars")]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Deserialize, JsonSchema)]
#[serde(crate = "mcp_driver::serde")]
#[schemars(crate = "mcp_driver::schemars")]
struct Numbers {
    values: Vec<f64>,
}

#[derive(Serialize, JsonSchema)]
#[serde(crate = "mcp_driver::serde")]
#[schemars(crate = "mcp_driver::schemars")]
struct Stats {
    count: usize,
    mean: f64,
}

/// Arguments of the `greet` prompt.
#[derive(Deserialize, JsonSchema)]
#[serde(crate = "mcp_driver::serde")]
#[schemars(crate = "mcp_driver::schemars")]
struct Greet {
    /// Who to greet.
    name: String,
    /// How many exclamation marks.
    excitement: Option<u8>,
}

#[derive(Clone)]
struct Greeting(String);

/// The notifications a client received, in order, and the waiters for the next one.
#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<(VecDeque<ServerNotification>, Vec<Waker>)>>);

impl Inbox {
    fn push(&self, n: ServerNotification) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.0.push_back(n);
        for w in g.1.drain(..) {
            w.wake();
        }
    }

    async fn pop(&self) -> ServerNotification {
        futures_lite::future::poll_fn(|cx: &mut Context<'_>| {
            let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
            match g.0.pop_front() {
                Some(n) => Poll::Ready(n),
                None => {
                    g.1.push(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// Records every notification the server sends.
struct Recorder(Inbox);

impl ClientHandler for Recorder {
    fn on_notification(&self, notification: ServerNotification, _subscription: Option<RequestId>) {
        self.0.push(notification);
    }
}

/// A connected client and the notifications it receives.
struct Peer<R: Runtime> {
    rt: R,
    client: Client,
    notifications: Inbox,
}

impl<R: Runtime> Peer<R> {
    /// The next notification for which `pick` returns something (others are skipped).
    async fn next<T>(&mut self, pick: impl Fn(ServerNotification) -> Option<T>) -> T {
        let wait = async {
            loop {
                if let Some(t) = pick(self.notifications.pop().await) {
                    return t;
                }
            }
        };
        within(&self.rt, GUARD, "the awaited notification", wait).await
    }
}

async fn connect<R: Runtime>(rt: R, service: Service, era: EraPreference) -> Peer<R> {
    connect_with(rt, service, era, None).await
}

async fn connect_with<R: Runtime>(
    rt: R,
    service: Service,
    era: EraPreference,
    log_level: Option<LoggingLevel>,
) -> Peer<R> {
    let notifications = Inbox::default();
    let mut cfg = ClientConfig::new(Implementation::new("test-client", "1"));
    cfg.era = era;
    cfg.log_level = log_level;
    let handler = Arc::new(Recorder(notifications.clone()));
    let (client, _server) = link_up(rt.clone(), Link::Pipe, service, cfg, handler).await;
    let expected = match era {
        EraPreference::Legacy => Era::Legacy,
        _ => Era::Modern,
    };
    assert_eq!(client.server().era, expected);
    Peer {
        rt,
        client,
        notifications,
    }
}

fn calc() -> Service {
    Server::builder("calc", "1.0.0")
        .title("Calculator")
        .instructions("Adds numbers.")
        .state(Greeting("hello".into()))
        .tool(
            "add",
            "Add two integers",
            |Args(Add { a, b }): Args<Add>| async move { Ok(a + b) },
        )
        .tool("ping", "No arguments", || async { Ok("pong") })
        .tool(
            "stats",
            "Count and mean",
            |Args(Numbers { values }): Args<Numbers>| async move {
                let count = values.len();
                let mean = values.iter().sum::<f64>() / count.max(1) as f64;
                Ok(Json(Stats { count, mean }))
            },
        )
        .tool(
            "doubled",
            "Each value twice",
            |Args(Numbers { values }): Args<Numbers>| async move {
                Ok(Json(values.iter().map(|v| v * 2.0).collect::<Vec<_>>()))
            },
        )
        .tool("fail", "Always fails", || async {
            Err::<String, _>(ToolError::new("the disk is on fire"))
        })
        .tool(
            "parse",
            "Fails through `?`",
            |Args(Numbers { values }): Args<Numbers>| async move {
                let n: i32 = format!("{}x", values.len()).parse()?;
                Ok(n)
            },
        )
        .tool(
            "greet",
            "Uses the state",
            |State(Greeting(g)): State<Greeting>, Args(Add { a, .. }): Args<Add>| async move {
                Ok(format!("{g} #{a}"))
            },
        )
        .tool(
            "unset",
            "Asks for a state nobody registered",
            |State(n): State<u64>| async move { Ok(n) },
        )
        .tool("count", "Reports progress", |cx: RequestCx| async move {
            for i in 1..=3 {
                cx.progress(f64::from(i), Some(3.0), Some(format!("step {i}")))?;
            }
            Ok("counted")
        })
        .build()
}

fn rpc_code(e: CallError) -> i64 {
    match e {
        CallError::Request(RequestError::Rpc(e)) => e.code,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

fn text(r: &mcp_driver::mcp_proto::schema::tools::CallToolResult) -> &str {
    r.content[0].as_text().expect("a text block")
}

/// Typed tools and their schemas, in both eras.
pub async fn typed_tools_and_their_schemas<R: Runtime>(rt: R) {
    for era in ERAS {
        let peer = connect(rt.clone(), calc(), era).await;
        let c = &peer.client;
        let server = c.server();
        let info = server.server_info.as_ref().expect("server info");
        assert_eq!(
            (info.name.as_str(), info.title.as_deref()),
            ("calc", Some("Calculator"))
        );
        assert_eq!(server.instructions.as_deref(), Some("Adds numbers."));
        let caps = &server.capabilities;
        assert!(caps.tools.is_some() && caps.logging.is_some());
        assert!(caps.prompts.is_none() && caps.resources.is_none() && caps.completions.is_none());
        assert_eq!(caps.tools.as_ref().unwrap().list_changed, None);

        let r = c.call_tool("add", json!({"a": 2, "b": 40})).await.unwrap();
        assert_eq!((text(&r), r.is_error), ("42", None));
        let r = c.call_tool("ping", Value::Null).await.unwrap();
        assert_eq!(text(&r), "pong");

        let tools = c.list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["add", "ping", "stats", "doubled", "fail", "parse", "greet", "unset", "count"]
        );
        let add = &tools[0];
        assert_eq!(add.description.as_deref(), Some("Add two integers"));
        assert_eq!(add.input_schema["type"], "object");
        assert_eq!(add.input_schema["properties"]["a"]["type"], "integer");
        assert_eq!(add.input_schema["required"], json!(["a", "b"]));
        assert_eq!(add.output_schema, None);
        assert_eq!(
            tools[1].input_schema,
            json!({"type": "object", "additionalProperties": false})
        );
    }
}

/// Structured output matches its schema, in both eras.
pub async fn structured_output_matches_its_schema<R: Runtime>(rt: R) {
    for era in ERAS {
        let peer = connect(rt.clone(), calc(), era).await;
        let c = &peer.client;
        let r = c
            .call_tool("stats", json!({"values": [1.0, 2.0, 6.0]}))
            .await
            .unwrap();
        let expected = json!({"count": 3, "mean": 3.0});
        assert_eq!(r.structured_content, Some(expected.clone()));
        let echoed: Value = serde_json::from_str(text(&r)).unwrap();
        assert_eq!(echoed, expected);

        // Not an object: wrapped as {"result": ...} in the value and the schema alike.
        let r = c
            .call_tool("doubled", json!({"values": [1.5, 2.0]}))
            .await
            .unwrap();
        assert_eq!(r.structured_content, Some(json!({"result": [3.0, 4.0]})));

        let tools = c.list_all_tools().await.unwrap();
        let schema_of = |name: &str| {
            tools
                .iter()
                .find(|t| t.name == name)
                .and_then(|t| t.output_schema.clone())
                .expect("an output schema")
        };
        let stats = schema_of("stats");
        assert_eq!(stats["type"], "object");
        assert_eq!(stats["properties"]["count"]["type"], "integer");
        assert_eq!(stats["properties"]["mean"]["type"], "number");
        let doubled = schema_of("doubled");
        assert_eq!(doubled["type"], "object");
        assert_eq!(doubled["required"], json!(["result"]));
        assert_eq!(doubled["properties"]["result"]["type"], "array");
    }
}

/// Tool failures are results and unknown tools are errors, in both eras.
pub async fn tool_failures_are_results_and_unknown_tools_are_errors<R: Runtime>(rt: R) {
    for era in ERAS {
        let peer = connect(rt.clone(), calc(), era).await;
        let c = &peer.client;
        // Arguments that do not deserialize: a result the model can read (SEP-1303).
        let r = c.call_tool("add", json!({"a": 1})).await.unwrap();
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("missing field `b`"), "{}", text(&r));
        let r = c
            .call_tool("add", json!({"a": "one", "b": 2}))
            .await
            .unwrap();
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("invalid type"), "{}", text(&r));

        let r = c.call_tool("fail", json!({})).await.unwrap();
        assert_eq!((text(&r), r.is_error), ("the disk is on fire", Some(true)));
        let r = c.call_tool("parse", json!({"values": []})).await.unwrap();
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("invalid digit"), "{}", text(&r));

        let r = c.call_tool("unset", json!({})).await.unwrap();
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("no state of type `u64`"), "{}", text(&r));

        let e = c.call_tool("nope", json!({})).await.unwrap_err();
        assert_eq!(rpc_code(e), -32602);
    }
}

/// Registered state reaches the handlers that ask for it.
pub async fn state_reaches_handlers<R: Runtime>(rt: R) {
    let peer = connect(rt.clone(), calc(), EraPreference::Auto).await;
    let r = peer
        .client
        .call_tool("greet", json!({"a": 7, "b": 0}))
        .await
        .unwrap();
    assert_eq!((text(&r), r.is_error), ("hello #7", None));
}

/// Tools report progress, in both eras.
pub async fn tools_report_progress<R: Runtime>(rt: R) {
    for era in ERAS {
        let peer = connect(rt.clone(), calc(), era).await;
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let r = peer
            .client
            .call_tool_with(
                "count",
                json!({}),
                Some(Box::new(move |p| {
                    s.lock().unwrap().push((p.progress, p.total, p.message))
                })),
            )
            .await
            .unwrap();
        assert_eq!(text(&r), "counted");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2], (3.0, Some(3.0), Some("step 3".into())));
    }
}

fn many(page_size: usize) -> Service {
    let mut b = Server::builder("many", "1").page_size(page_size);
    for i in 0..5 {
        b = b
            .tool(format!("t{i}"), "numbered", move || async move { Ok(i) })
            .prompt(format!("p{i}"), "numbered", || async { Ok("hi") })
            .text_resource(format!("mem://r{i}"), format!("r{i}"), "x")
            .resource_template(format!("mem://{i}/{{x}}"), format!("t{i}"), || async {
                Ok("y")
            });
    }
    b.build()
}

/// Lists are paginated, in both eras.
pub async fn lists_are_paginated<R: Runtime>(rt: R) {
    for era in ERAS {
        let peer = connect(rt.clone(), many(2), era).await;
        let c = &peer.client;
        let tools = c.list_all_tools().await.unwrap();
        let names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["t0", "t1", "t2", "t3", "t4"]);
        let first = c.list_tools(None).await.unwrap();
        assert_eq!(first.tools.len(), 2);
        let cursor = first.next_cursor.expect("more pages");
        let second = c.list_tools(Some(cursor.clone())).await.unwrap();
        assert_eq!(second.tools[0].name, "t2");
        if era == EraPreference::Auto {
            // 2026-07-28 lists say how long they may be cached.
            assert_eq!(first.ttl_ms, Some(0));
            assert!(first.cache_scope.is_some());
        }
        assert_eq!(c.list_all_prompts().await.unwrap().len(), 5);
        assert_eq!(c.list_all_resources().await.unwrap().len(), 5);
        assert_eq!(c.list_all_resource_templates().await.unwrap().len(), 5);
        for bad in ["", "bogus", "dG9vbHM6eA=="] {
            let e = c.list_tools(Some(bad.into())).await.unwrap_err();
            assert_eq!(rpc_code(e), -32602, "{bad:?}");
        }
        // A cursor of one list is no cursor of another.
        let e = c.list_prompts(Some(cursor)).await.unwrap_err();
        assert_eq!(rpc_code(e), -32602);
    }
    // Without a page size, one page.
    let peer = connect(rt.clone(), many(0), EraPreference::Auto).await;
    let all = peer.client.list_tools(None).await.unwrap();
    assert_eq!((all.tools.len(), all.next_cursor), (5, None));
}

fn library() -> Service {
    Server::builder("library", "1")
        .text_resource("mem://readme", "readme", "hello")
        .resource("mem://logo.png", "logo", "image/png", || async {
            Ok(vec![0u8, 1, 2, 255])
        })
        .resource_template(
            "file:///{name}",
            "files",
            |UriVars(vars): UriVars| async move {
                match vars["name"].as_str() {
                    "missing.txt" => Err(RpcError::resource_not_found("file:///missing.txt")),
                    name => Ok(format!("contents of {name}")),
                }
            },
        )
        .complete_resource_variable("file:///{name}", "name", |typed: String| async move {
            vec![format!("{typed}.txt")]
        })
        .prompt(
            "greet",
            "Greets someone",
            |Args(Greet { name, excitement }): Args<Greet>| async move {
                let marks = "!".repeat(usize::from(excitement.unwrap_or(1)));
                Ok(vec![
                    PromptMessage::user_text(format!("Say hello to {name}{marks}")),
                    PromptMessage::assistant_text("Sure."),
                ])
            },
        )
        .prompt("plain", "No arguments", || async { Ok("Just say hi") })
        .prompt("with_readme", "Embeds a resource", || async {
            let readme = ResourceContents::Text(TextResourceContents {
                uri: "mem://readme".into(),
                mime_type: Some("text/plain".into()),
                text: "hello".into(),
                ..Default::default()
            });
            let block = ContentBlock::Resource(EmbeddedResource {
                resource: readme,
                annotations: None,
                meta: None,
                extra: Default::default(),
            });
            Ok(PromptMessage::new(Role::User, block))
        })
        .complete_prompt_argument("greet", "name", |typed: String| async move {
            (0..250).map(|i| format!("{typed}{i}")).collect()
        })
        .build()
}

/// Resources: text, binary and templates, in both eras.
pub async fn resources_text_binary_and_templates<R: Runtime>(rt: R) {
    for era in ERAS {
        let peer = connect(rt.clone(), library(), era).await;
        let c = &peer.client;
        let caps = &c.server().capabilities;
        let res = caps.resources.as_ref().expect("resources capability");
        assert_eq!((res.subscribe, res.list_changed), (Some(true), None));
        assert!(caps.prompts.is_some() && caps.completions.is_some() && caps.tools.is_none());

        let listed = c.list_all_resources().await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].mime_type.as_deref(), Some("image/png"));
        let templates = c.list_all_resource_templates().await.unwrap();
        assert_eq!(templates[0].uri_template, "file:///{name}");

        let r = c.read_resource("mem://readme").await.unwrap();
        match &r.contents[..] {
            [ResourceContents::Text(t)] => {
                assert_eq!((t.uri.as_str(), t.text.as_str()), ("mem://readme", "hello"));
                assert_eq!(t.mime_type.as_deref(), Some("text/plain"));
            }
            other => panic!("{other:?}"),
        }
        let r = c.read_resource("mem://logo.png").await.unwrap();
        match &r.contents[..] {
            [ResourceContents::Blob(b)] => {
                assert_eq!(
                    (b.blob.as_str(), b.mime_type.as_deref()),
                    ("AAEC/w==", Some("image/png"))
                );
            }
            other => panic!("{other:?}"),
        }
        let r = c.read_resource("file:///notes%20v2.txt").await.unwrap();
        match &r.contents[..] {
            [ResourceContents::Text(t)] => {
                assert_eq!(t.text, "contents of notes v2.txt");
                assert_eq!(t.uri, "file:///notes%20v2.txt");
            }
            other => panic!("{other:?}"),
        }

        let not_found = match era {
            EraPreference::Legacy => -32002,
            _ => -32602,
        };
        for uri in ["mem://nothing", "file:///a/b", "file:///missing.txt"] {
            let e = c.read_resource(uri).await.unwrap_err();
            assert_eq!(rpc_code(e), not_found, "{uri}");
        }
    }
}

/// Prompts with and without arguments, in both eras.
pub async fn prompts_with_and_without_arguments<R: Runtime>(rt: R) {
    for era in ERAS {
        let peer = connect(rt.clone(), library(), era).await;
        let c = &peer.client;
        let prompts = c.list_all_prompts().await.unwrap();
        let greet = &prompts[0];
        let args = greet.arguments.as_ref().expect("derived arguments");
        let summary: Vec<_> = args
            .iter()
            .map(|a| (a.name.as_str(), a.description.as_deref(), a.required))
            .collect();
        assert_eq!(
            summary,
            [
                ("name", Some("Who to greet."), Some(true)),
                (
                    "excitement",
                    Some("How many exclamation marks."),
                    Some(false)
                ),
            ]
        );
        assert_eq!(prompts[1].arguments, None);

        let r = c
            .get_prompt("greet", &[("name", "Ada"), ("excitement", "3")])
            .await
            .unwrap();
        assert_eq!(r.description.as_deref(), Some("Greets someone"));
        assert_eq!(r.messages.len(), 2);
        assert_eq!(r.messages[0].content.as_text(), Some("Say hello to Ada!!!"));
        assert_eq!(r.messages[1].role, Role::Assistant);

        let r = c.get_prompt("plain", &[]).await.unwrap();
        assert_eq!(r.messages[0].content.as_text(), Some("Just say hi"));

        let r = c.get_prompt("with_readme", &[]).await.unwrap();
        match &r.messages[0].content {
            ContentBlock::Resource(e) => match &e.resource {
                ResourceContents::Text(t) => assert_eq!(t.text, "hello"),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }

        let e = c.get_prompt("nope", &[]).await.unwrap_err();
        assert_eq!(rpc_code(e), -32602);
        let e = c
            .get_prompt("greet", &[("excitement", "2")])
            .await
            .unwrap_err();
        assert_eq!(rpc_code(e), -32602);
    }
}

/// Completions are capped at 100, in both eras.
pub async fn completions_are_capped_at_100<R: Runtime>(rt: R) {
    for era in ERAS {
        let peer = connect(rt.clone(), library(), era).await;
        let c = &peer.client;
        let r = c
            .complete(CompleteRequestParams::new(
                CompletionReference::prompt("greet"),
                "name",
                "A",
            ))
            .await
            .unwrap();
        let done = r.completion;
        assert_eq!(done.values.len(), 100);
        assert_eq!(
            (done.values[0].as_str(), done.values[99].as_str()),
            ("A0", "A99")
        );
        assert_eq!((done.total, done.has_more), (Some(250), Some(true)));

        let r = c
            .complete(CompleteRequestParams::new(
                CompletionReference::resource("file:///{name}"),
                "name",
                "rea",
            ))
            .await
            .unwrap();
        assert_eq!(r.completion.values, ["rea.txt"]);
        assert_eq!((r.completion.total, r.completion.has_more), (None, None));

        // A known prompt's argument without a completer: nothing to suggest.
        let r = c
            .complete(CompleteRequestParams::new(
                CompletionReference::prompt("greet"),
                "excitement",
                "",
            ))
            .await
            .unwrap();
        assert!(r.completion.values.is_empty());
        let e = c
            .complete(CompleteRequestParams::new(
                CompletionReference::prompt("nope"),
                "x",
                "",
            ))
            .await
            .unwrap_err();
        assert_eq!(rpc_code(e), -32602);
    }
}

fn dynamic() -> (Service, ServerControl) {
    Server::builder("dynamic", "1")
        .tool("first", "There from the start", || async { Ok(1) })
        .text_resource("mem://watched", "watched", "v1")
        .build_with_control()
}

/// Opens a 2026-07-28 listen stream for `filter` and waits for its acknowledgement.
async fn listen<R: Runtime>(peer: &mut Peer<R>, filter: SubscriptionFilter) {
    let c = peer.client.clone();
    peer.rt.spawn(Box::pin(async move {
        let _ = c
            .request(ClientRequest::Listen(
                SubscriptionsListenRequestParams::new(filter),
            ))
            .await;
    }));
    peer.next(|n| match n {
        ServerNotification::SubscriptionsAcknowledged(_) => Some(()),
        _ => None,
    })
    .await;
}

/// Runtime changes reach connected clients, in both eras.
pub async fn runtime_changes_reach_connected_clients<R: Runtime>(rt: R) {
    for era in ERAS {
        let (service, control) = dynamic();
        let mut peer = connect(rt.clone(), service, era).await;
        let caps = peer.client.server().capabilities.clone();
        assert_eq!(caps.tools.unwrap().list_changed, Some(true));
        assert_eq!(caps.prompts.unwrap().list_changed, Some(true));
        let res = caps.resources.unwrap();
        assert_eq!((res.subscribe, res.list_changed), (Some(true), Some(true)));
        if era == EraPreference::Auto {
            let filter = SubscriptionFilter {
                tools_list_changed: Some(true),
                prompts_list_changed: Some(true),
                ..Default::default()
            };
            listen(&mut peer, filter).await;
        }

        control.add_tool(
            "second",
            "Added at run time",
            |Args(Add { a, b }): Args<Add>| async move { Ok(a * b) },
        );
        peer.next(|n| matches!(n, ServerNotification::ToolListChanged(_)).then_some(()))
            .await;
        let names: Vec<_> = peer
            .client
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["first", "second"]);
        let r = peer
            .client
            .call_tool("second", json!({"a": 6, "b": 7}))
            .await
            .unwrap();
        assert_eq!(text(&r), "42");

        assert!(control.remove_tool("first"));
        assert!(!control.remove_tool("first"));
        peer.next(|n| matches!(n, ServerNotification::ToolListChanged(_)).then_some(()))
            .await;
        let e = peer.client.call_tool("first", json!({})).await.unwrap_err();
        assert_eq!(rpc_code(e), -32602);

        control.add_prompt("later", "Added at run time", || async { Ok("hi") });
        peer.next(|n| matches!(n, ServerNotification::PromptListChanged(_)).then_some(()))
            .await;
        assert_eq!(peer.client.list_all_prompts().await.unwrap().len(), 1);
    }
}

/// Resource updates reach subscribers, in both eras.
pub async fn resource_updates_reach_subscribers<R: Runtime>(rt: R) {
    for era in ERAS {
        let (service, control) = dynamic();
        let mut peer = connect(rt.clone(), service, era).await;
        let uri = "mem://watched";
        match era {
            EraPreference::Legacy => {
                let sub = SubscribeRequestParams {
                    uri: uri.into(),
                    ..Default::default()
                };
                peer.client
                    .request(ClientRequest::Subscribe(sub))
                    .await
                    .unwrap();
            }
            _ => {
                let filter = SubscriptionFilter {
                    resource_subscriptions: Some(vec![uri.into()]),
                    ..Default::default()
                };
                listen(&mut peer, filter).await;
            }
        }
        control.add_text_resource(uri, "watched", "v2");
        control.resource_updated(uri);
        let updated = peer
            .next(|n| match n {
                ServerNotification::ResourceUpdated(p) => Some(p.uri),
                _ => None,
            })
            .await;
        assert_eq!(updated, uri);
        let r = peer.client.read_resource(uri).await.unwrap();
        match &r.contents[..] {
            [ResourceContents::Text(t)] => assert_eq!(t.text, "v2"),
            other => panic!("{other:?}"),
        }
        assert!(control.connections() >= 1);
    }
}

/// Log messages reach the client from the level it asked for up (legacy: `logging/setLevel`;
/// 2026-07-28: the level each request carries); lower ones are never sent.
pub async fn log_messages_follow_the_clients_level<R: Runtime>(rt: R) {
    for era in ERAS {
        let service = Server::builder("chatty", "1")
            .tool(
                "chatty",
                "Logs at three levels",
                |cx: RequestCx| async move {
                    cx.log(LoggingLevel::Debug, Some("chatty"), json!("too fine"))?;
                    cx.log(LoggingLevel::Info, Some("chatty"), json!("worth knowing"))?;
                    cx.log(LoggingLevel::Error, Some("chatty"), json!("gone wrong"))?;
                    Ok("logged")
                },
            )
            .build();
        let level = (era == EraPreference::Auto).then_some(LoggingLevel::Info);
        let mut peer = connect_with(rt.clone(), service, era, level).await;
        assert!(peer.client.server().capabilities.logging.is_some());
        if era == EraPreference::Legacy {
            peer.client.set_log_level(LoggingLevel::Info).await.unwrap();
        }
        let r = peer.client.call_tool("chatty", json!({})).await.unwrap();
        assert_eq!(text(&r), "logged");
        // In order: a debug message would come before the info one.
        let mut seen = Vec::new();
        while seen.len() < 2 {
            let p = peer
                .next(|n| match n {
                    ServerNotification::LoggingMessage(p) => Some(p),
                    _ => None,
                })
                .await;
            seen.push((p.level, p.logger, p.data));
        }
        let chatty = || Some("chatty".to_owned());
        assert_eq!(
            seen,
            [
                (LoggingLevel::Info, chatty(), json!("worth knowing")),
                (LoggingLevel::Error, chatty(), json!("gone wrong")),
            ],
            "{era:?}"
        );
    }
}
