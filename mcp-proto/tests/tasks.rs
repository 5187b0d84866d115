//! Task table through the server session: both wire shapes, legal transitions only, TTL with
//! fake time, tasks/result blocking until terminal.
mod support;

use std::time::Duration;

use mcp_proto::jsonrpc::{code, ErrorObject, RequestId};
use mcp_proto::schema::elicitation::ElicitRequestParams;
use mcp_proto::schema::mrtr::InputRequest;
use mcp_proto::schema::tasks::TaskStatus;
use mcp_proto::schema::tools::CallToolResult;
use mcp_proto::session::{ServerEvent, UsageError};
use serde_json::{json, Value};
use support::*;

fn legacy() -> Raw {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-11-25");
    raw
}

fn call_as_task(raw: &mut Raw, id: i64) -> String {
    let out = raw.send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"slow","task":{"ttl":60000},"_meta":{"progressToken":"p"}}}));
    assert!(out.is_empty());
    let task_id = raw
        .server
        .create_task(
            raw.now,
            &RequestId::Number(id),
            Some(Duration::from_secs(60)),
        )
        .unwrap();
    let out = raw.drain();
    assert_eq!(out[0]["id"], id);
    let task = &out[0]["result"]["task"];
    assert_eq!(task["taskId"], task_id.as_str());
    assert_eq!(task["status"], "working");
    assert_eq!(task["ttl"], 60000);
    assert!(task["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(task_id.len(), 32, "128-bit hex id");
    task_id
}

fn req(raw: &mut Raw, id: i64, method: &str, params: Value) -> Vec<Value> {
    raw.send(json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}))
}

#[test]
fn legacy_create_poll_result() {
    let mut raw = legacy();
    let task = call_as_task(&mut raw, 1);
    let out = req(&mut raw, 2, "tasks/get", json!({"taskId": task}));
    assert_eq!(out[0]["result"]["status"], "working");
    assert_eq!(out[0]["result"]["pollInterval"], 1000);
    // tasks/result blocks while working.
    assert!(req(&mut raw, 3, "tasks/result", json!({"taskId": task})).is_empty());
    // Progress keeps flowing on the original token until terminal.
    raw.server
        .notify_task_progress(&task, 50.0, Some(100.0), None)
        .unwrap();
    let p = raw.drain();
    assert_eq!(p[0]["params"]["progressToken"], "p");
    raw.server
        .finish_task(raw.now, &task, Ok(CallToolResult::text("done").into()))
        .unwrap();
    let out = raw.drain();
    let status = out
        .iter()
        .find(|m| m["method"] == "notifications/tasks/status")
        .unwrap();
    assert_eq!(status["params"]["status"], "completed");
    let result = out.iter().find(|m| m["id"] == 3).unwrap();
    assert_eq!(result["result"]["content"][0]["text"], "done");
    assert_eq!(
        result["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        task.as_str()
    );
    assert!(raw
        .server
        .notify_task_progress(&task, 60.0, None, None)
        .is_err());
    // tasks/result after the fact answers at once; tasks/list shows it.
    let out = req(&mut raw, 4, "tasks/result", json!({"taskId": task}));
    assert_eq!(out[0]["result"]["content"][0]["text"], "done");
    let out = req(&mut raw, 5, "tasks/list", json!({}));
    assert_eq!(out[0]["result"]["tasks"][0]["status"], "completed");
}

#[test]
fn legacy_failure_surfaces_the_original_error() {
    let mut raw = legacy();
    let task = call_as_task(&mut raw, 1);
    raw.server
        .finish_task(
            raw.now,
            &task,
            Err(ErrorObject::invalid_params("bad input")),
        )
        .unwrap();
    raw.drain();
    let out = req(&mut raw, 2, "tasks/result", json!({"taskId": task}));
    assert_eq!(out[0]["error"]["code"], code::INVALID_PARAMS);
    assert_eq!(out[0]["error"]["message"], "bad input");
    let out = req(&mut raw, 3, "tasks/get", json!({"taskId": task}));
    assert_eq!(out[0]["result"]["status"], "failed");
}

#[test]
fn cancel_while_working_then_after_completion() {
    let mut raw = legacy();
    let task = call_as_task(&mut raw, 1);
    let waiting = req(&mut raw, 2, "tasks/result", json!({"taskId": task}));
    assert!(waiting.is_empty());
    let out = req(&mut raw, 3, "tasks/cancel", json!({"taskId": task}));
    let resp = out.iter().find(|m| m["id"] == 3).unwrap();
    assert_eq!(resp["result"]["status"], "cancelled");
    assert!(raw
        .events
        .iter()
        .any(|e| matches!(e, ServerEvent::TaskCancelRequested { task_id } if *task_id == task)));
    // The blocked tasks/result gets an answer too, and it is exactly one.
    let blocked: Vec<_> = out.iter().filter(|m| m["id"] == 2).collect();
    assert_eq!(blocked.len(), 1);
    assert!(blocked[0]["error"].is_object());
    // Terminal is sticky: the handler's late result is refused, and cancelling again is -32602.
    assert!(matches!(
        raw.server
            .finish_task(raw.now, &task, Ok(CallToolResult::text("late").into())),
        Err(UsageError::NotAllowed(_))
    ));
    let out = req(&mut raw, 4, "tasks/cancel", json!({"taskId": task}));
    assert_eq!(out[0]["error"]["code"], code::INVALID_PARAMS);
    let t2 = call_as_task(&mut raw, 5);
    raw.server
        .finish_task(raw.now, &t2, Ok(CallToolResult::text("ok").into()))
        .unwrap();
    raw.drain();
    let out = req(&mut raw, 6, "tasks/cancel", json!({"taskId": t2}));
    assert_eq!(out[0]["error"]["code"], code::INVALID_PARAMS);
}

#[test]
fn only_legal_transitions_happen() {
    let mut raw = legacy();
    let task = call_as_task(&mut raw, 1);
    raw.server
        .update_task(
            raw.now,
            &task,
            TaskStatus::InputRequired,
            Some("need input".into()),
        )
        .unwrap();
    raw.server
        .update_task(raw.now, &task, TaskStatus::Working, None)
        .unwrap();
    raw.server
        .update_task(raw.now, &task, TaskStatus::Completed, None)
        .unwrap();
    for next in [
        TaskStatus::Working,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
        TaskStatus::InputRequired,
    ] {
        assert!(
            raw.server.update_task(raw.now, &task, next, None).is_err(),
            "{next:?}"
        );
    }
    raw.drain();
    let transitions: Vec<_> = raw
        .events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Task(t) => Some((t.from, t.to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        transitions,
        vec![
            (TaskStatus::Working, TaskStatus::InputRequired),
            (TaskStatus::InputRequired, TaskStatus::Working),
            (TaskStatus::Working, TaskStatus::Completed),
        ]
    );
}

#[test]
fn ttl_expiry_removes_the_task_after_not_before() {
    let mut raw = legacy();
    let task = call_as_task(&mut raw, 1);
    raw.server
        .finish_task(raw.now, &task, Ok(CallToolResult::text("kept").into()))
        .unwrap();
    raw.drain();
    let deadline = raw.server.poll_timeout().expect("expiry scheduled");
    assert_eq!(deadline, raw.now + Duration::from_secs(60));
    raw.now += Duration::from_secs(59);
    raw.server.handle_timeout(raw.now);
    let out = req(&mut raw, 2, "tasks/result", json!({"taskId": task}));
    assert_eq!(out[0]["result"]["content"][0]["text"], "kept");
    raw.now += Duration::from_secs(1);
    raw.server.handle_timeout(raw.now);
    raw.drain();
    assert!(raw
        .events
        .iter()
        .any(|e| matches!(e, ServerEvent::TaskExpired { task_id } if *task_id == task)));
    let out = req(&mut raw, 3, "tasks/get", json!({"taskId": task}));
    assert_eq!(out[0]["error"]["code"], code::INVALID_PARAMS);
    assert!(raw.server.tasks().is_empty());
}

#[test]
fn task_table_is_bounded() {
    let mut cfg = server_config();
    cfg.tasks.max_tasks = 1;
    let mut raw = Raw::new(cfg);
    raw.initialize("2025-11-25");
    call_as_task(&mut raw, 1);
    raw.send(
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","task":{}}}),
    );
    assert_eq!(
        raw.server.create_task(raw.now, &RequestId::Number(2), None),
        Err(UsageError::Limit("max_tasks"))
    );
    // A legacy call that did not ask for a task cannot become one.
    raw.send(json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"slow"}}));
    assert!(matches!(
        raw.server.create_task(raw.now, &RequestId::Number(3), None),
        Err(UsageError::NotAllowed(_))
    ));
}

fn modern_task_meta() -> Value {
    let mut m = modern_meta();
    m["io.modelcontextprotocol/clientCapabilities"] =
        json!({"elicitation": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}});
    m
}

#[test]
fn extension_tasks_input_required_then_resumed() {
    let mut raw = Raw::new(server_config());
    let out = req(
        &mut raw,
        1,
        "tools/call",
        json!({"_meta": modern_task_meta(), "name": "wizard"}),
    );
    assert!(out.is_empty());
    let task = raw
        .server
        .create_task(raw.now, &RequestId::Number(1), None)
        .unwrap();
    let out = raw.drain();
    assert_eq!(out[0]["result"]["resultType"], "task");
    assert_eq!(out[0]["result"]["taskId"], task.as_str());
    assert!(out[0]["result"]["ttlMs"].is_u64());
    // Listen for this task's notifications.
    let out = req(
        &mut raw,
        2,
        "subscriptions/listen",
        json!({"_meta": modern_task_meta(), "notifications": {"taskIds": [task]}}),
    );
    assert_eq!(
        out[0]["params"]["notifications"]["taskIds"][0],
        task.as_str()
    );
    let elicit: ElicitRequestParams = serde_json::from_value(json!({"message":"colour?","requestedSchema":{"type":"object","properties":{"c":{"type":"string"}}}})).unwrap();
    let mut asks = mcp_proto::schema::mrtr::InputRequests::new();
    asks.insert("colour".into(), InputRequest::Elicit(elicit));
    raw.server
        .task_requires_input(raw.now, &task, asks, None)
        .unwrap();
    let out = raw.drain();
    assert_eq!(out[0]["method"], "notifications/tasks");
    assert_eq!(out[0]["params"]["status"], "input_required");
    assert_eq!(
        out[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        2
    );
    let out = req(
        &mut raw,
        3,
        "tasks/get",
        json!({"_meta": modern_task_meta(), "taskId": task}),
    );
    assert_eq!(out[0]["result"]["resultType"], "complete");
    assert_eq!(
        out[0]["result"]["inputRequests"]["colour"]["method"],
        "elicitation/create"
    );
    let out = req(
        &mut raw,
        4,
        "tasks/update",
        json!({"_meta": modern_task_meta(), "taskId": task, "inputResponses": {"colour": {"action":"accept","content":{"c":"blue"}}}}),
    );
    assert_eq!(out[0]["result"]["resultType"], "complete");
    assert!(raw.events.iter().any(|e| matches!(e, ServerEvent::TaskInput { task_id, responses } if *task_id == task && responses.contains_key("colour"))));
    // Every outstanding request answered: the task is working again, without inputRequests.
    let out = req(
        &mut raw,
        41,
        "tasks/get",
        json!({"_meta": modern_task_meta(), "taskId": task}),
    );
    assert_eq!(out[0]["result"]["status"], "working");
    assert!(out[0]["result"].get("inputRequests").is_none());
    raw.server
        .finish_task(
            raw.now,
            &task,
            Ok(CallToolResult::text("blue it is").into()),
        )
        .unwrap();
    raw.drain();
    let out = req(
        &mut raw,
        5,
        "tasks/get",
        json!({"_meta": modern_task_meta(), "taskId": task}),
    );
    assert_eq!(out[0]["result"]["status"], "completed");
    assert_eq!(
        out[0]["result"]["result"]["content"][0]["text"],
        "blue it is"
    );
    // Cancelling a terminal extension task is acknowledged and changes nothing.
    let out = req(
        &mut raw,
        6,
        "tasks/cancel",
        json!({"_meta": modern_task_meta(), "taskId": task}),
    );
    assert_eq!(
        out[0]["result"],
        json!({"resultType": "complete", "_meta": out[0]["result"]["_meta"]})
    );
    let out = req(
        &mut raw,
        7,
        "tasks/get",
        json!({"_meta": modern_task_meta(), "taskId": task}),
    );
    assert_eq!(out[0]["result"]["status"], "completed");
}

#[test]
fn extension_methods_need_the_declared_capability() {
    let mut raw = Raw::new(server_config());
    let out = req(
        &mut raw,
        1,
        "tasks/get",
        json!({"_meta": modern_meta(), "taskId": "x"}),
    );
    assert_eq!(
        out[0]["error"]["code"],
        code::MISSING_REQUIRED_CLIENT_CAPABILITY
    );
    assert!(
        out[0]["error"]["data"]["requiredCapabilities"]["extensions"]
            ["io.modelcontextprotocol/tasks"]
            .is_object()
    );
    let out = req(
        &mut raw,
        2,
        "subscriptions/listen",
        json!({"_meta": modern_meta(), "notifications": {"taskIds": ["x"]}}),
    );
    assert_eq!(
        out[0]["error"]["code"],
        code::MISSING_REQUIRED_CLIENT_CAPABILITY
    );
    req(
        &mut raw,
        3,
        "tools/call",
        json!({"_meta": modern_meta(), "name": "slow"}),
    );
    assert!(matches!(
        raw.server.create_task(raw.now, &RequestId::Number(3), None),
        Err(UsageError::MissingCapability(_))
    ));
    let out = req(
        &mut raw,
        4,
        "tasks/get",
        json!({"_meta": modern_task_meta(), "taskId": "nope"}),
    );
    assert_eq!(out[0]["error"]["code"], code::INVALID_PARAMS);
}

#[test]
fn client_watch_polls_at_the_server_interval_until_terminal() {
    use mcp_proto::schema::messages::ClientRequest;
    use mcp_proto::schema::tools::CallToolRequestParams;
    use mcp_proto::session::{ClientEvent, EraPreference, RequestOptions};
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let mut cc = client_config();
        cc.era = era;
        let mut p = Pair::new(cc, server_config());
        p.connect();
        let call = ClientRequest::CallTool(CallToolRequestParams {
            name: "slow".into(),
            task: Some(Default::default()),
            ..Default::default()
        });
        p.client
            .send_request(p.now, call, RequestOptions::default())
            .unwrap();
        p.drive();
        let sid = p
            .server_events
            .iter()
            .find_map(|e| match e {
                ServerEvent::Request { id, .. } => Some(id.clone()),
                _ => None,
            })
            .unwrap();
        let task = p.server.create_task(p.now, &sid, None).unwrap();
        p.drive();
        p.take_client_events();
        p.client
            .watch_task(p.now, &task, Duration::from_secs(5))
            .unwrap();
        p.drive();
        // First poll at once; the next one waits for the server's 1 s pollInterval.
        let polled = |p: &mut Pair| -> Vec<TaskStatus> {
            p.take_client_events()
                .into_iter()
                .filter_map(|e| match e {
                    ClientEvent::TaskPolled { status, .. } => Some(status),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(polled(&mut p), vec![TaskStatus::Working]);
        assert_eq!(
            p.client.poll_timeout().map(|t| t - p.now),
            Some(Duration::from_secs(1))
        );
        p.advance(Duration::from_millis(999));
        assert!(polled(&mut p).is_empty());
        p.advance(Duration::from_millis(1));
        let n = p.c2s_log.len();
        let got = polled(&mut p);
        assert_eq!(
            got,
            vec![TaskStatus::Working],
            "{era:?} {:?}",
            &p.c2s_log[n.saturating_sub(3)..]
        );
        p.server
            .finish_task(p.now, &task, Ok(CallToolResult::text("done").into()))
            .unwrap();
        p.advance(Duration::from_secs(1));
        let ev = p.take_client_events();
        let done = ev.iter().find_map(|e| match e {
            ClientEvent::TaskPolled { status, detail, .. } => Some((*status, detail.clone())),
            _ => None,
        });
        let (status, detail) = done.expect("terminal poll");
        assert_eq!(status, TaskStatus::Completed, "{era:?}");
        if era == EraPreference::Modern {
            let v = serde_json::to_value(&detail).unwrap();
            assert_eq!(v["result"]["content"][0]["text"], "done");
        }
        // The watch ended: no more polls scheduled for it.
        let before = p.c2s_log.len();
        p.advance(Duration::from_secs(10));
        assert_eq!(p.c2s_log.len(), before);
    }
}
