//! Request tracking on a live Pair: exactly one outcome per request, cancellation both ways,
//! timeouts with fake time, progress, server asks (legacy) and MRTR (2026-07-28), listen streams.
mod support;

use std::time::Duration;

use mcp_proto::jsonrpc::{code, ErrorObject, RequestId};
use mcp_proto::schema::elicitation::ElicitRequestParams;
use mcp_proto::schema::messages::{
    ClientRequest, ClientResult, ServerNotification, ServerRequest, ServerResult,
};
use mcp_proto::schema::mrtr::InputRequiredResult;
use mcp_proto::schema::subscriptions::{SubscriptionFilter, SubscriptionsListenRequestParams};
use mcp_proto::schema::tools::{CallToolRequestParams, CallToolResult};
use mcp_proto::schema::{PaginatedRequestParams, RequestParams};
use mcp_proto::session::{
    ClientEvent, EraPreference, RequestError, RequestOptions, ServerEvent, Timeout, UsageError,
};
use serde_json::json;
use support::*;

fn call(name: &str) -> ClientRequest {
    ClientRequest::CallTool(CallToolRequestParams {
        name: name.into(),
        ..Default::default()
    })
}

fn pair(era: EraPreference) -> Pair {
    let mut cc = client_config();
    cc.era = era;
    let mut p = Pair::new(cc, server_config());
    p.connect();
    assert!(p.client.is_ready());
    p.take_client_events();
    p.take_server_events();
    p
}

fn send(p: &mut Pair, req: ClientRequest, opts: RequestOptions) -> RequestId {
    let id = p.client.send_request(p.now, req, opts).unwrap();
    p.drive();
    id
}

/// The server-side id of the single request the server has seen.
fn served(p: &mut Pair) -> RequestId {
    let ev = p.take_server_events();
    let ids: Vec<_> = ev
        .into_iter()
        .filter_map(|e| match e {
            ServerEvent::Request { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 1, "expected one request");
    ids[0].clone()
}

fn responses(p: &mut Pair) -> Vec<(RequestId, Result<ServerResult, RequestError>)> {
    p.take_client_events()
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::Response { id, result } => Some((id, result)),
            _ => None,
        })
        .collect()
}

#[test]
fn tool_call_round_trip_in_both_eras_and_all_splits() {
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        for chunk in [1usize, 3, 11, usize::MAX] {
            let mut cc = client_config();
            cc.era = era;
            let mut p = Pair::with_chunks(cc, server_config(), vec![chunk]);
            p.connect();
            let id = send(&mut p, call("echo"), RequestOptions::default());
            let sid = served(&mut p);
            p.server
                .respond(&sid, CallToolResult::text("pong"))
                .unwrap();
            p.drive();
            let r = responses(&mut p);
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].0, id);
            match &r[0].1 {
                Ok(ServerResult::CallTool(c)) => assert_eq!(c.content[0].as_text(), Some("pong")),
                other => panic!("{other:?}"),
            }
            // Answering twice is misuse.
            assert_eq!(
                p.server.respond(&sid, CallToolResult::text("x")),
                Err(UsageError::UnknownRequest(sid))
            );
        }
    }
}

#[test]
fn modern_requests_carry_meta_and_legacy_ones_do_not() {
    let mut p = pair(EraPreference::Auto);
    send(&mut p, call("echo"), RequestOptions::default());
    let last = p.c2s_log.last().unwrap();
    assert_eq!(
        last["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
        "2026-07-28"
    );
    assert!(
        last["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]["elicitation"]
            .is_object()
    );
    let mut p = pair(EraPreference::Legacy);
    send(&mut p, call("echo"), RequestOptions::default());
    assert!(p.c2s_log.last().unwrap()["params"].get("_meta").is_none());
}

#[test]
fn errors_reach_the_caller() {
    let mut p = pair(EraPreference::Auto);
    let id = send(&mut p, call("nope"), RequestOptions::default());
    let sid = served(&mut p);
    p.server
        .respond_error(&sid, ErrorObject::invalid_params("unknown tool nope"))
        .unwrap();
    p.drive();
    let r = responses(&mut p);
    assert!(
        matches!(&r[..], [(rid, Err(RequestError::Rpc(e)))] if *rid == id && e.code == code::INVALID_PARAMS)
    );
}

#[test]
fn client_cancel_reaches_server_and_late_answers_vanish() {
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let mut p = pair(era);
        let id = send(&mut p, call("slow"), RequestOptions::default());
        let sid = served(&mut p);
        p.client.cancel(&id, Some("user".into())).unwrap();
        p.drive();
        assert!(p.server_events.iter().any(|e| matches!(e, ServerEvent::Cancelled { id: c, reason: Some(r) } if *c == sid && r == "user")));
        // The race: the handler finishes anyway. Accepted, nothing sent.
        let before = p.s2c_log.len();
        p.server
            .respond(&sid, CallToolResult::text("late"))
            .unwrap();
        p.drive();
        assert_eq!(p.s2c_log.len(), before);
        assert!(responses(&mut p).is_empty());
        assert_eq!(p.server.in_flight(), 0);
        assert_eq!(p.client.pending(), 0);
    }
}

#[test]
fn late_answer_after_client_cancel_is_dropped_quietly() {
    let mut p = pair(EraPreference::Legacy);
    let id = send(&mut p, call("slow"), RequestOptions::default());
    let sid = served(&mut p);
    p.drop_c2s = true; // the cancel is lost in transit
    p.client.cancel(&id, None).unwrap();
    p.drive();
    p.drop_c2s = false;
    p.server
        .respond(&sid, CallToolResult::text("late"))
        .unwrap();
    p.drive();
    let ev = p.take_client_events();
    assert!(ev.is_empty(), "{ev:?}");
}

#[test]
fn initialize_cannot_be_cancelled() {
    let mut cc = client_config();
    cc.era = EraPreference::Legacy;
    let mut p = Pair::new(cc, server_config());
    p.client.connect(p.now).unwrap();
    let init_id = RequestId::Number(0);
    assert!(matches!(
        p.client.cancel(&init_id, None),
        Err(UsageError::NotAllowed(_))
    ));
}

#[test]
fn timeouts_fire_once_and_send_a_cancel() {
    let mut p = pair(EraPreference::Legacy);
    let opts = RequestOptions::default()
        .with_timeout(Some(Some(Timeout::fixed(Duration::from_secs(10)))))
        .with_progress(false);
    let id = send(&mut p, call("slow"), opts);
    let sid = served(&mut p);
    p.advance(Duration::from_secs(9));
    assert!(responses(&mut p).is_empty());
    p.advance(Duration::from_secs(1));
    let r = responses(&mut p);
    assert!(matches!(&r[..], [(rid, Err(RequestError::Timeout))] if *rid == id));
    assert_eq!(
        p.c2s_log.last().unwrap()["method"],
        "notifications/cancelled"
    );
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::Cancelled { id, .. } if *id == sid)));
    p.advance(Duration::from_secs(100));
    assert!(responses(&mut p).is_empty());
    assert_eq!(p.client.poll_timeout(), None);
}

#[test]
fn progress_extends_the_idle_timeout_up_to_the_hard_cap() {
    let mut p = pair(EraPreference::Auto);
    let t = Timeout {
        idle: Duration::from_secs(10),
        max_total: Some(Duration::from_secs(25)),
        reset_on_progress: true,
    };
    let id = send(
        &mut p,
        call("long"),
        RequestOptions::default()
            .with_timeout(Some(Some(t)))
            .with_progress(true),
    );
    let sid = served(&mut p);
    for step in 1..=3 {
        p.advance(Duration::from_secs(8));
        p.server
            .notify_progress(&sid, step as f64, Some(10.0), None)
            .unwrap();
        p.drive();
    }
    let ev = p.take_client_events();
    let prog: Vec<f64> = ev
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Progress { id: pid, params } if *pid == id => Some(params.progress),
            _ => None,
        })
        .collect();
    assert_eq!(prog, vec![1.0, 2.0, 3.0]);
    // 24 s elapsed; the idle clock says 34 s but the cap is 25 s.
    p.advance(Duration::from_secs(1));
    let r = responses(&mut p);
    assert!(
        matches!(&r[..], [(rid, Err(RequestError::Timeout))] if *rid == id),
        "{r:?}"
    );
}

#[test]
fn progress_rules_are_enforced_on_the_server() {
    let mut p = pair(EraPreference::Auto);
    send(
        &mut p,
        call("a"),
        RequestOptions::default()
            .with_timeout(None)
            .with_progress(true),
    );
    let sid = served(&mut p);
    p.server.notify_progress(&sid, 5.0, None, None).unwrap();
    assert!(matches!(
        p.server.notify_progress(&sid, 5.0, None, None),
        Err(UsageError::ProgressNotIncreasing { .. })
    ));
    assert!(matches!(
        p.server.notify_progress(&sid, f64::NAN, None, None),
        Err(UsageError::ProgressNotIncreasing { .. })
    ));
    p.server
        .respond(&sid, CallToolResult::text("done"))
        .unwrap();
    assert!(matches!(
        p.server.notify_progress(&sid, 6.0, None, None),
        Err(UsageError::UnknownRequest(_))
    ));
    // Without a token there is no progress.
    send(&mut p, call("b"), RequestOptions::default());
    let sid = served(&mut p);
    assert!(matches!(
        p.server.notify_progress(&sid, 1.0, None, None),
        Err(UsageError::NotAllowed(_))
    ));
}

#[test]
fn legacy_server_asks_the_client() {
    let mut p = pair(EraPreference::Legacy);
    send(&mut p, call("ask"), RequestOptions::default());
    let sid = served(&mut p);
    let elicit: ElicitRequestParams = serde_json::from_value(json!({
        "message": "name?", "requestedSchema": {"type":"object","properties":{"name":{"type":"string"}}}
    })).unwrap();
    let ask = p
        .server
        .send_request(p.now, ServerRequest::Elicit(elicit), Some(&sid))
        .unwrap();
    p.drive();
    let ev = p.take_client_events();
    let Some(ClientEvent::Request {
        id: cid,
        request: ServerRequest::Elicit(_),
    }) = ev.into_iter().next()
    else {
        panic!()
    };
    let answer: mcp_proto::schema::elicitation::ElicitResult =
        serde_json::from_value(json!({"action":"accept","content":{"name":"Ada"}})).unwrap();
    p.client
        .respond(&cid, ClientResult::Elicit(answer))
        .unwrap();
    p.drive();
    let got = p.take_server_events();
    assert!(
        matches!(&got[..], [ServerEvent::Response { id, result: Ok(ClientResult::Elicit(e)) }] if *id == ask && serde_json::to_value(e.content.as_ref().unwrap()).unwrap()["name"] == "Ada"),
        "{got:?}"
    );
    // Ping both ways is answered by the sessions.
    p.server
        .send_request(p.now, ServerRequest::Ping(RequestParams::default()), None)
        .unwrap();
    p.drive();
    assert!(p.take_server_events().iter().any(|e| matches!(
        e,
        ServerEvent::Response {
            result: Ok(ClientResult::Empty(_)),
            ..
        }
    )));
}

#[test]
fn server_asks_need_declared_capabilities() {
    let mut cc = client_config();
    cc.era = EraPreference::Legacy;
    cc.capabilities.sampling = None;
    let mut p = Pair::new(cc, server_config());
    p.connect();
    let params = serde_json::from_value(json!({"messages": [], "maxTokens": 10})).unwrap();
    assert_eq!(
        p.server
            .send_request(p.now, ServerRequest::CreateMessage(params), None),
        Err(UsageError::MissingCapability("sampling"))
    );
    // A server that asks anyway gets -32601 from the client.
    p.client.handle_message(p.now, br#"{"jsonrpc":"2.0","id":99,"method":"sampling/createMessage","params":{"messages":[],"maxTokens":1}}"#);
    let t = p.client.poll_transmit().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&t.frame).unwrap();
    assert_eq!(v["id"], 99);
    assert_eq!(v["error"]["code"], code::METHOD_NOT_FOUND);
    // A declared capability reaches the application instead.
    p.client.handle_message(
        p.now,
        br#"{"jsonrpc":"2.0","id":100,"method":"roots/list"}"#,
    );
    assert!(p.client.poll_transmit().is_none());
    assert!(matches!(
        p.client.poll_event(),
        Some(ClientEvent::Request {
            request: ServerRequest::ListRoots(_),
            ..
        })
    ));
}

#[test]
fn modern_server_asks_through_input_required() {
    let mut p = pair(EraPreference::Modern);
    let id = send(&mut p, call("ask"), RequestOptions::default());
    let sid = served(&mut p);
    // Legacy-style server requests are refused in this era.
    let ping = ServerRequest::Ping(RequestParams::default());
    assert!(matches!(
        p.server.send_request(p.now, ping, Some(&sid)),
        Err(UsageError::NotAllowed(_))
    ));
    let elicit: ElicitRequestParams = serde_json::from_value(
        json!({"message": "ok?", "requestedSchema": {"type":"object","properties":{}}}),
    )
    .unwrap();
    let ir = InputRequiredResult::new()
        .with_request("confirm", elicit)
        .with_state("opaque-state");
    p.server.respond(&sid, ir).unwrap();
    p.drive();
    let r = responses(&mut p);
    match &r[..] {
        [(rid, Ok(ServerResult::InputRequired(ir)))] if *rid == id => {
            assert_eq!(ir.request_state.as_deref(), Some("opaque-state"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        p.s2c_log.last().unwrap()["result"]["resultType"],
        "input_required"
    );
}

#[test]
fn input_required_is_checked_against_method_and_capabilities() {
    let mut cc = client_config();
    cc.era = EraPreference::Modern;
    cc.capabilities.elicitation = None;
    let mut p = Pair::new(cc, server_config());
    p.connect();
    send(&mut p, call("ask"), RequestOptions::default());
    let sid = served(&mut p);
    let elicit: ElicitRequestParams = serde_json::from_value(
        json!({"message": "?", "requestedSchema": {"type":"object","properties":{}}}),
    )
    .unwrap();
    let ir = InputRequiredResult::new().with_request("k", elicit);
    assert_eq!(
        p.server.respond(&sid, ir),
        Err(UsageError::MissingCapability("elicitation"))
    );
    assert!(matches!(
        p.server.respond(&sid, InputRequiredResult::new()),
        Err(UsageError::NotAllowed(_))
    ));
    send(
        &mut p,
        ClientRequest::ListTools(PaginatedRequestParams::default()),
        RequestOptions::default(),
    );
    let lid = served(&mut p);
    let ir = InputRequiredResult::new().with_state("s");
    assert!(matches!(
        p.server.respond(&lid, ir),
        Err(UsageError::NotAllowed(_))
    ));
}

#[test]
fn empty_string_cursor_is_a_cursor() {
    let mut p = pair(EraPreference::Auto);
    let req = ClientRequest::ListTools(PaginatedRequestParams {
        cursor: Some(String::new()),
        ..Default::default()
    });
    send(&mut p, req, RequestOptions::default());
    let ev = p.take_server_events();
    assert!(
        matches!(&ev[..], [ServerEvent::Request { request: ClientRequest::ListTools(PaginatedRequestParams { cursor: Some(c), .. }), .. }] if c.is_empty())
    );
}

#[test]
fn listen_streams_acknowledge_filter_and_close() {
    let mut p = pair(EraPreference::Modern);
    let filter = SubscriptionFilter {
        tools_list_changed: Some(true),
        resource_subscriptions: Some(vec!["file:///a".into()]),
        ..Default::default()
    };
    let listen = ClientRequest::Listen(SubscriptionsListenRequestParams {
        notifications: filter,
        ..Default::default()
    });
    let lid = send(&mut p, listen, RequestOptions::default());
    let ack = p.s2c_log.last().unwrap().clone();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        serde_json::to_value(&lid).unwrap()
    );
    assert_eq!(ack["params"]["notifications"]["toolsListChanged"], true);
    p.take_client_events();
    p.server.notify_tools_list_changed();
    p.server.notify_prompts_list_changed(); // not asked for: not sent
    p.server.notify_resource_updated("file:///a");
    p.server.notify_resource_updated("file:///b"); // not subscribed
    p.drive();
    let ev = p.take_client_events();
    let got: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Notification {
                notification,
                subscription: Some(s),
            } if *s == lid => Some(notification.method().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        vec![
            "notifications/tools/list_changed",
            "notifications/resources/updated"
        ],
        "{ev:?}"
    );
    // The listen request has no timeout and stays open.
    assert_eq!(p.client.poll_timeout(), None);
    let sub = p.server.subscriptions().next().unwrap().clone();
    p.server.close_subscription(&sub).unwrap();
    p.drive();
    let r = responses(&mut p);
    assert!(matches!(&r[..], [(rid, Ok(ServerResult::Listen(_)))] if *rid == lid));
    assert_eq!(p.server.in_flight(), 0);
}

#[test]
fn client_cancel_ends_a_listen_stream() {
    let mut p = pair(EraPreference::Modern);
    let listen = ClientRequest::Listen(SubscriptionsListenRequestParams {
        notifications: SubscriptionFilter {
            tools_list_changed: Some(true),
            ..Default::default()
        },
        ..Default::default()
    });
    let lid = send(&mut p, listen, RequestOptions::default());
    p.client.cancel(&lid, None).unwrap();
    p.drive();
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::SubscriptionClosed { .. })));
    assert_eq!(p.server.subscriptions().count(), 0);
    let before = p.s2c_log.len();
    p.server.notify_tools_list_changed();
    p.drive();
    assert_eq!(p.s2c_log.len(), before);
}

#[test]
fn legacy_list_changed_and_resource_subscriptions() {
    let mut p = pair(EraPreference::Legacy);
    let sub =
        ClientRequest::Subscribe(serde_json::from_value(json!({"uri": "file:///a"})).unwrap());
    send(&mut p, sub, RequestOptions::default());
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::ResourceSubscribed { uri } if uri == "file:///a")));
    p.take_client_events();
    p.server.notify_resource_updated("file:///a");
    p.server.notify_resource_updated("file:///other");
    p.server.notify_tools_list_changed();
    p.drive();
    let methods: Vec<_> = p
        .take_client_events()
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::Notification {
                notification,
                subscription: None,
            } => Some(notification),
            _ => None,
        })
        .collect();
    assert!(
        matches!(&methods[..], [ServerNotification::ResourceUpdated(u), ServerNotification::ToolListChanged(_)] if u.uri == "file:///a")
    );
}

#[test]
fn logging_follows_the_level_rules() {
    use mcp_proto::schema::LoggingLevel;
    // Legacy: setLevel filters session logs.
    let mut p = pair(EraPreference::Legacy);
    send(
        &mut p,
        ClientRequest::SetLevel(serde_json::from_value(json!({"level": "warning"})).unwrap()),
        RequestOptions::default(),
    );
    assert_eq!(
        p.server.log(LoggingLevel::Info, None, json!("quiet")),
        Ok(false)
    );
    assert_eq!(
        p.server.log(LoggingLevel::Error, Some("db"), json!("loud")),
        Ok(true)
    );
    // Modern: only requests that opted in with logLevel get messages.
    let mut p = pair(EraPreference::Modern);
    send(&mut p, call("x"), RequestOptions::default());
    let sid = served(&mut p);
    assert_eq!(
        p.server
            .log_for(&sid, LoggingLevel::Emergency, None, json!("no opt-in")),
        Ok(false)
    );
    let mut raw = Raw::new(server_config());
    let mut meta = modern_meta();
    meta["io.modelcontextprotocol/logLevel"] = json!("info");
    raw.send(
        json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta": meta, "name": "x"}}),
    );
    let id = RequestId::Number(1);
    assert_eq!(
        raw.server
            .log_for(&id, LoggingLevel::Debug, None, json!("below")),
        Ok(false)
    );
    assert_eq!(
        raw.server
            .log_for(&id, LoggingLevel::Info, None, json!("at")),
        Ok(true)
    );
    let out = raw.drain();
    assert_eq!(out[0]["method"], "notifications/message");
    assert!(raw.server.client_capabilities(&id).is_some());
}

#[test]
fn close_answers_everything_in_flight() {
    let mut p = pair(EraPreference::Legacy);
    let a = send(&mut p, call("a"), RequestOptions::default());
    let b = send(&mut p, call("b"), RequestOptions::default());
    p.server.close();
    p.drive();
    let r = responses(&mut p);
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|(id, res)| (*id == a || *id == b)
        && matches!(res, Err(RequestError::Rpc(e)) if e.code == code::INTERNAL_ERROR)));
    let c = send(&mut p, call("c"), RequestOptions::default());
    p.client.close();
    p.drive();
    let r = responses(&mut p);
    assert!(matches!(&r[..], [(id, Err(RequestError::Closed))] if *id == c));
}
