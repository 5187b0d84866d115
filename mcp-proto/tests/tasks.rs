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

// ----- client and server sessions back to back ---------------------------------------------

mod pair {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use mcp_proto::jsonrpc::{code, ErrorObject, RequestId};
    use mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
    use mcp_proto::schema::messages::{ClientRequest, ClientResult, ServerRequest, ServerResult};
    use mcp_proto::schema::mrtr::{InputRequest, InputRequests, InputResponse, InputResponses};
    use mcp_proto::schema::tasks::{
        CancelTaskRequestParams, GetTaskPayloadRequestParams, GetTaskRequestParams, TaskStatus,
    };
    use mcp_proto::schema::tasks_ext::UpdateTaskRequestParams;
    use mcp_proto::schema::tools::{CallToolRequestParams, CallToolResult};
    use mcp_proto::schema::TaskMetadata;
    use mcp_proto::session::{
        ClientEvent, EraPreference, RequestError, RequestOptions, ServerEvent,
    };
    use mcp_proto::tasks::{MemoryTaskStore, TaskEntry, TaskError, TaskPage, TaskStore};
    use serde_json::{json, Value};

    use super::support::*;

    const ERAS: [EraPreference; 2] = [EraPreference::Legacy, EraPreference::Modern];

    fn pair(era: EraPreference) -> Pair {
        pair_seeded(era, 7)
    }

    /// A pair whose server draws its ids (task ids, its legacy scope) from `seed`.
    fn pair_seeded(era: EraPreference, seed: u64) -> Pair {
        let mut cc = client_config();
        cc.era = era;
        let mut p = Pair::new(cc, server_config());
        p.server = mcp_proto::session::ServerSession::new(
            server_config(),
            p.now,
            std::time::SystemTime::UNIX_EPOCH,
            Box::new(mcp_proto::entropy::SeededEntropy::new(seed)),
        );
        p.connect();
        p.take_client_events();
        p.take_server_events();
        p
    }

    /// Sends a request from the client; returns its id.
    fn send(p: &mut Pair, r: ClientRequest) -> RequestId {
        let id = p
            .client
            .send_request(p.now, r, RequestOptions::default())
            .unwrap();
        p.drive();
        id
    }

    /// The answer to `id`, once it came.
    fn answer(p: &mut Pair, id: &RequestId) -> Option<Result<ServerResult, RequestError>> {
        let events = p.take_client_events();
        let mut found = None;
        for e in events {
            match e {
                ClientEvent::Response { id: rid, result } if rid == *id => found = Some(result),
                other => p.client_events.push(other),
            }
        }
        found
    }

    fn call(p: &mut Pair, name: &str) -> RequestId {
        let params = CallToolRequestParams {
            name: name.into(),
            task: Some(TaskMetadata::default()),
            ..Default::default()
        };
        send(p, ClientRequest::CallTool(params))
    }

    /// Calls `slow` as a task; returns the task id.
    fn start(p: &mut Pair) -> String {
        let cid = call(p, "slow");
        let sid = p
            .take_server_events()
            .into_iter()
            .find_map(|e| match e {
                ServerEvent::Request { id, .. } => Some(id),
                _ => None,
            })
            .expect("the call reached the application");
        let task = p.server.create_task(p.now, &sid, None).unwrap();
        p.drive();
        match answer(p, &cid) {
            Some(Ok(ServerResult::CreateTask(r))) => assert_eq!(r.task.task_id, task),
            Some(Ok(ServerResult::CreateTaskExt(r))) => assert_eq!(r.task.task_id, task),
            other => panic!("not a created task: {other:?}"),
        }
        task
    }

    fn get(p: &mut Pair, task: &str) -> Result<ServerResult, RequestError> {
        let id = send(p, ClientRequest::GetTask(GetTaskRequestParams::new(task)));
        answer(p, &id).expect("tasks/get answered")
    }

    fn status(p: &mut Pair, task: &str) -> TaskStatus {
        match get(p, task).unwrap() {
            ServerResult::GetTask(t) => t.task.status,
            ServerResult::GetTaskExt(t) => t.task.task.status,
            other => panic!("{other:?}"),
        }
    }

    fn wire(r: &ServerResult) -> Value {
        serde_json::to_value(r).unwrap()
    }

    fn rpc_code(r: Result<ServerResult, RequestError>) -> i64 {
        match r {
            Err(RequestError::Rpc(e)) => e.code,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn create_poll_result_in_both_eras() {
        for era in ERAS {
            let mut p = pair(era);
            let task = start(&mut p);
            assert_eq!(status(&mut p, &task), TaskStatus::Working, "{era:?}");
            // Legacy: tasks/result waits for the end.
            let waiting = (era == EraPreference::Legacy).then(|| {
                send(
                    &mut p,
                    ClientRequest::GetTaskPayload(GetTaskPayloadRequestParams::new(&task)),
                )
            });
            if let Some(w) = &waiting {
                assert!(answer(&mut p, w).is_none(), "still working: no answer yet");
            }
            p.server
                .finish_task(p.now, &task, Ok(CallToolResult::text("done").into()))
                .unwrap();
            p.drive();
            let detail = get(&mut p, &task).unwrap();
            let v = wire(&detail);
            assert_eq!(v["status"], "completed", "{era:?}");
            match era {
                EraPreference::Legacy => {
                    assert!(
                        v.get("result").is_none(),
                        "legacy results come from tasks/result"
                    );
                    let r = answer(&mut p, &waiting.unwrap()).unwrap().unwrap();
                    let r = wire(&r);
                    assert_eq!(r["content"][0]["text"], "done");
                    assert_eq!(
                        r["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
                        task.as_str()
                    );
                }
                _ => {
                    assert_eq!(v["resultType"], "complete");
                    assert_eq!(v["result"]["content"][0]["text"], "done");
                    assert!(v["result"].get("_meta").is_none(), "no related-task inline");
                    assert!(v["result"].get("resultType").is_none());
                }
            }
        }
    }

    #[test]
    fn cancel_while_working_then_after_completion() {
        for era in ERAS {
            let mut p = pair(era);
            let task = start(&mut p);
            let id = send(
                &mut p,
                ClientRequest::CancelTask(CancelTaskRequestParams::new(&task)),
            );
            let ack = wire(&answer(&mut p, &id).unwrap().unwrap());
            match era {
                EraPreference::Legacy => assert_eq!(ack["status"], "cancelled"),
                _ => assert!(ack.get("status").is_none() && ack["resultType"] == "complete"),
            }
            assert!(p.take_server_events().iter().any(
                |e| matches!(e, ServerEvent::TaskCancelRequested { task_id } if *task_id == task)
            ));
            assert_eq!(status(&mut p, &task), TaskStatus::Cancelled);
            // The handler's late result changes nothing.
            assert!(p
                .server
                .finish_task(p.now, &task, Ok(CallToolResult::text("late").into()))
                .is_err());
            assert_eq!(status(&mut p, &task), TaskStatus::Cancelled);

            let done = start(&mut p);
            p.server
                .finish_task(p.now, &done, Ok(CallToolResult::text("ok").into()))
                .unwrap();
            p.drive();
            let id = send(
                &mut p,
                ClientRequest::CancelTask(CancelTaskRequestParams::new(&done)),
            );
            let r = answer(&mut p, &id).unwrap();
            match era {
                EraPreference::Legacy => assert_eq!(rpc_code(r), code::INVALID_PARAMS),
                _ => assert_eq!(wire(&r.unwrap())["resultType"], "complete"),
            }
            assert_eq!(status(&mut p, &done), TaskStatus::Completed, "{era:?}");
        }
    }

    #[test]
    fn failure_surfaces_the_original_error() {
        for era in ERAS {
            let mut p = pair(era);
            let task = start(&mut p);
            let error = ErrorObject::invalid_params("bad input").with_data(json!({"field": "x"}));
            p.server.finish_task(p.now, &task, Err(error)).unwrap();
            p.drive();
            let v = wire(&get(&mut p, &task).unwrap());
            assert_eq!(v["status"], "failed");
            assert_eq!(v["statusMessage"], "bad input");
            match era {
                EraPreference::Legacy => {
                    let id = send(
                        &mut p,
                        ClientRequest::GetTaskPayload(GetTaskPayloadRequestParams::new(&task)),
                    );
                    match answer(&mut p, &id).unwrap() {
                        Err(RequestError::Rpc(e)) => {
                            assert_eq!(e.code, code::INVALID_PARAMS);
                            assert_eq!(e.message, "bad input");
                            assert_eq!(e.data, Some(json!({"field": "x"})));
                        }
                        other => panic!("{other:?}"),
                    }
                }
                _ => {
                    assert_eq!(v["error"]["code"], code::INVALID_PARAMS);
                    assert_eq!(v["error"]["data"]["field"], "x");
                    assert!(v.get("result").is_none());
                }
            }
        }
    }

    fn elicit_form() -> ElicitRequestParams {
        serde_json::from_value(json!({"message": "colour?", "requestedSchema":
            {"type": "object", "properties": {"c": {"type": "string"}}}}))
        .unwrap()
    }

    fn accept(value: &str) -> InputResponse {
        InputResponse::from(
            serde_json::from_value::<ElicitResult>(
                json!({"action": "accept", "content": {"c": value}}),
            )
            .unwrap(),
        )
    }

    #[test]
    fn extension_input_required_then_resumed_one_key_at_a_time() {
        let mut p = pair(EraPreference::Modern);
        let task = start(&mut p);
        let mut asks = InputRequests::new();
        asks.insert("a".into(), InputRequest::Elicit(elicit_form()));
        p.server
            .task_requires_input(p.now, &task, asks, None)
            .unwrap();
        let mut more = InputRequests::new();
        more.insert("b".into(), InputRequest::Elicit(elicit_form()));
        p.server
            .task_requires_input(p.now, &task, more, None)
            .unwrap();
        p.drive();
        let v = wire(&get(&mut p, &task).unwrap());
        assert_eq!(v["status"], "input_required");
        assert_eq!(v["inputRequests"].as_object().unwrap().len(), 2);
        // One answer (and one for a key never asked): acked, the other key still waits.
        let mut answers = InputResponses::new();
        answers.insert("a".into(), accept("red"));
        answers.insert("nope".into(), accept("ignored"));
        let id = send(
            &mut p,
            ClientRequest::UpdateTask(UpdateTaskRequestParams::new(&task, answers)),
        );
        assert_eq!(
            wire(&answer(&mut p, &id).unwrap().unwrap())["resultType"],
            "complete"
        );
        let got: Vec<_> = p
            .take_server_events()
            .into_iter()
            .filter_map(|e| match e {
                ServerEvent::TaskInput { responses, .. } => {
                    Some(responses.keys().cloned().collect::<Vec<_>>())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            got,
            vec![vec!["a".to_owned()]],
            "only outstanding keys count"
        );
        let v = wire(&get(&mut p, &task).unwrap());
        assert_eq!(v["status"], "input_required");
        assert_eq!(
            v["inputRequests"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["b"]
        );
        // Answering "a" again does nothing; "b" resumes the task.
        let mut answers = InputResponses::new();
        answers.insert("a".into(), accept("again"));
        answers.insert("b".into(), accept("blue"));
        send(
            &mut p,
            ClientRequest::UpdateTask(UpdateTaskRequestParams::new(&task, answers)),
        );
        let v = wire(&get(&mut p, &task).unwrap());
        assert_eq!(v["status"], "working");
        assert!(v.get("inputRequests").is_none());
        // A key is never used twice in a task's life.
        let mut again = InputRequests::new();
        again.insert("a".into(), InputRequest::Elicit(elicit_form()));
        assert!(p
            .server
            .task_requires_input(p.now, &task, again, None)
            .is_err());
    }

    #[test]
    fn legacy_asks_carry_the_task_and_flip_its_status() {
        let mut p = pair(EraPreference::Legacy);
        let task = start(&mut p);
        // A tasks/result waiting on the task: the ask travels on its stream.
        let waiting = send(
            &mut p,
            ClientRequest::GetTaskPayload(GetTaskPayloadRequestParams::new(&task)),
        );
        let ask_id = p
            .server
            .send_task_request(p.now, &task, ServerRequest::Elicit(elicit_form()))
            .unwrap();
        p.drive();
        assert_eq!(status(&mut p, &task), TaskStatus::InputRequired);
        let (cid, request) = p
            .take_client_events()
            .into_iter()
            .find_map(|e| match e {
                ClientEvent::Request { id, request } => Some((id, request)),
                _ => None,
            })
            .expect("the ask reached the client");
        let related = request
            .meta()
            .and_then(|m| m.get("io.modelcontextprotocol/related-task"))
            .cloned();
        assert_eq!(related, Some(json!({"taskId": task})));
        let sent = p
            .s2c_log
            .iter()
            .find(|m| m["method"] == "elicitation/create")
            .unwrap();
        assert_eq!(sent["id"], serde_json::to_value(&ask_id).unwrap());
        let reply: ElicitResult =
            serde_json::from_value(json!({"action": "accept", "content": {"c": "red"}})).unwrap();
        p.client.respond(&cid, ClientResult::Elicit(reply)).unwrap();
        p.drive();
        assert!(p
            .take_server_events()
            .iter()
            .any(|e| matches!(e, ServerEvent::Response { id, result: Ok(_) } if *id == ask_id)));
        assert_eq!(status(&mut p, &task), TaskStatus::Working);
        p.server
            .finish_task(p.now, &task, Ok(CallToolResult::text("red").into()))
            .unwrap();
        p.drive();
        let r = wire(&answer(&mut p, &waiting).unwrap().unwrap());
        assert_eq!(r["content"][0]["text"], "red");
        // Status notifications told the client each step.
        let statuses: Vec<String> = p
            .s2c_log
            .iter()
            .filter(|m| m["method"] == "notifications/tasks/status")
            .map(|m| m["params"]["status"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(statuses, ["input_required", "working", "completed"]);
    }

    #[test]
    fn ttl_expiry_to_the_millisecond_on_a_fake_clock() {
        for era in ERAS {
            let mut p = pair(era);
            let cid = call(&mut p, "slow");
            let sid = p
                .take_server_events()
                .into_iter()
                .find_map(|e| match e {
                    ServerEvent::Request { id, .. } => Some(id),
                    _ => None,
                })
                .unwrap();
            let task = p
                .server
                .create_task(p.now, &sid, Some(Duration::from_millis(1500)))
                .unwrap();
            p.drive();
            answer(&mut p, &cid);
            p.server
                .finish_task(p.now, &task, Ok(CallToolResult::text("kept").into()))
                .unwrap();
            p.drive();
            p.advance(Duration::from_millis(1499));
            assert_eq!(status(&mut p, &task), TaskStatus::Completed, "{era:?}");
            p.advance(Duration::from_millis(1));
            assert!(p
                .take_server_events()
                .iter()
                .any(|e| matches!(e, ServerEvent::TaskExpired { task_id } if *task_id == task)));
            assert_eq!(
                rpc_code(get(&mut p, &task)),
                code::INVALID_PARAMS,
                "{era:?}"
            );
            assert!(p.server.tasks().is_empty());
        }
    }

    /// A store two sessions share (the driver does this for every session of a service).
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<MemoryTaskStore>>);

    impl Shared {
        fn new() -> Self {
            Shared(Arc::new(Mutex::new(MemoryTaskStore::new(16))))
        }
    }

    impl TaskStore for Shared {
        fn insert(&mut self, now_ms: u64, entry: TaskEntry) -> Result<(), TaskError> {
            self.0.lock().unwrap().insert(now_ms, entry)
        }
        fn get(&self, id: &str) -> Option<TaskEntry> {
            self.0.lock().unwrap().get(id)
        }
        fn update(
            &mut self,
            id: &str,
            f: &mut dyn FnMut(&mut TaskEntry) -> Result<(), TaskError>,
        ) -> Result<TaskEntry, TaskError> {
            self.0.lock().unwrap().update(id, f)
        }
        fn remove(&mut self, id: &str) -> Option<TaskEntry> {
            self.0.lock().unwrap().remove(id)
        }
        fn list(
            &self,
            now_ms: u64,
            owner: Option<&str>,
            cursor: Option<&str>,
            limit: usize,
        ) -> Result<TaskPage, TaskError> {
            self.0.lock().unwrap().list(now_ms, owner, cursor, limit)
        }
        fn expire(&mut self, now_ms: u64) -> Vec<String> {
            self.0.lock().unwrap().expire(now_ms)
        }
        fn next_expiry(&self) -> Option<u64> {
            self.0.lock().unwrap().next_expiry()
        }
        fn len(&self) -> usize {
            self.0.lock().unwrap().len()
        }
    }

    #[test]
    fn a_shared_store_shows_extension_tasks_everywhere_and_legacy_ones_to_their_session() {
        let store = Shared::new();
        let two = |era, seed| {
            let mut p = pair_seeded(era, seed);
            p.server.set_task_store(Box::new(store.clone()));
            p
        };
        // 2026-07-28: created on one session, followed on another.
        let mut a = two(EraPreference::Modern, 1);
        let mut b = two(EraPreference::Modern, 2);
        let task = start(&mut a);
        let listen = mcp_proto::schema::subscriptions::SubscriptionsListenRequestParams {
            notifications: mcp_proto::schema::subscriptions::SubscriptionFilter {
                task_ids: Some(vec![task.clone()]),
                ..Default::default()
            },
            ..Default::default()
        };
        send(&mut b, ClientRequest::Listen(listen));
        assert_eq!(status(&mut b, &task), TaskStatus::Working);
        a.server
            .finish_task(a.now, &task, Ok(CallToolResult::text("done").into()))
            .unwrap();
        a.drive();
        b.server.task_changed(b.now, &task);
        b.drive();
        let note = b
            .s2c_log
            .iter()
            .find(|m| m["method"] == "notifications/tasks")
            .expect("the listen stream heard of it");
        assert_eq!(note["params"]["status"], "completed");
        assert_eq!(note["params"]["result"]["content"][0]["text"], "done");
        assert!(note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"].is_number());

        // Legacy: only the session that created a task sees it.
        let mut a = two(EraPreference::Legacy, 3);
        let mut b = two(EraPreference::Legacy, 4);
        let task = start(&mut a);
        assert_eq!(status(&mut a, &task), TaskStatus::Working);
        assert_eq!(rpc_code(get(&mut b, &task)), code::INVALID_PARAMS);
        let list = |p: &mut Pair| {
            let id = send(p, ClientRequest::ListTasks(Default::default()));
            wire(&answer(p, &id).unwrap().unwrap())["tasks"]
                .as_array()
                .unwrap()
                .len()
        };
        assert_eq!(list(&mut a), 1);
        assert_eq!(list(&mut b), 0);
    }

    /// Before: a task swept from a shared store by another session left this session's
    /// `tasks/result` waiter unanswered for ever (its own sweep no longer saw the task).
    #[test]
    fn a_task_expired_by_another_sessions_sweep_answers_every_waiter() {
        let store = Shared::new();
        let two = |seed| {
            let mut p = pair_seeded(EraPreference::Legacy, seed);
            p.server.set_task_store(Box::new(store.clone()));
            p
        };
        let mut a = two(5);
        let mut b = two(6);
        let waited = |a: &mut Pair| {
            let cid = call(a, "slow");
            let sid = a
                .take_server_events()
                .into_iter()
                .find_map(|e| match e {
                    ServerEvent::Request { id, .. } => Some(id),
                    _ => None,
                })
                .unwrap();
            let task = a
                .server
                .create_task(a.now, &sid, Some(Duration::from_millis(1000)))
                .unwrap();
            a.drive();
            answer(a, &cid);
            let rid = send(
                a,
                ClientRequest::GetTaskPayload(GetTaskPayloadRequestParams::new(&task)),
            );
            assert!(
                answer(a, &rid).is_none(),
                "tasks/result blocks while working"
            );
            (task, rid)
        };
        // 1. The driver tells every session sharing the store (`task_changed`).
        let (task, rid) = waited(&mut a);
        b.advance(Duration::from_millis(2000));
        b.server.handle_timeout(b.now);
        b.drive();
        assert!(store.0.lock().unwrap().get(&task).is_none(), "b swept it");
        a.server.task_changed(a.now, &task);
        a.drive();
        assert_eq!(
            rpc_code(answer(&mut a, &rid).expect("answered")),
            code::INVALID_PARAMS
        );
        assert!(a
            .take_server_events()
            .iter()
            .any(|e| matches!(e, ServerEvent::TaskExpired { task_id } if *task_id == task)));

        // 2. Without that call, the session's next input answers it.
        let (task, rid) = waited(&mut a);
        b.advance(Duration::from_millis(2000));
        b.server.handle_timeout(b.now);
        assert!(store.0.lock().unwrap().get(&task).is_none());
        a.server.handle_timeout(a.now);
        a.drive();
        assert_eq!(
            rpc_code(answer(&mut a, &rid).expect("answered")),
            code::INVALID_PARAMS
        );
        assert_eq!(a.server.in_flight(), 0);
    }
}

// ----- the client as task receiver (task-augmented elicitation and sampling) ----------------

mod client_tasks {
    use mcp_proto::entropy::SeededEntropy;
    use mcp_proto::jsonrpc::code;
    use mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
    use mcp_proto::schema::lifecycle::{
        ClientTaskRequests, ClientTasksCapability, ElicitationTaskRequests,
    };
    use mcp_proto::schema::messages::{ClientResult, ServerRequest};
    use mcp_proto::schema::tasks::{
        CancelTaskRequestParams, GetTaskPayloadRequestParams, GetTaskRequestParams,
    };
    use mcp_proto::schema::TaskMetadata;
    use mcp_proto::session::{ClientEvent, EraPreference, ServerEvent};
    use mcp_proto::tasks::TaskConfig;
    use serde_json::{json, Value};

    use super::support::*;

    /// A legacy pair whose client declares task-augmented elicitation and serves tasks.
    fn pair(declared: bool) -> Pair {
        let mut cc = client_config();
        cc.era = EraPreference::Legacy;
        if declared {
            cc.capabilities.tasks = Some(ClientTasksCapability {
                list: Some(Default::default()),
                cancel: Some(Default::default()),
                requests: Some(ClientTaskRequests {
                    elicitation: Some(ElicitationTaskRequests {
                        create: Some(Default::default()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        let mut p = Pair::new(cc, server_config());
        p.client.serve_tasks(
            std::time::SystemTime::UNIX_EPOCH,
            Box::new(SeededEntropy::new(11)),
            TaskConfig::default(),
        );
        p.connect();
        p.take_client_events();
        p.take_server_events();
        p
    }

    fn elicit_as_task() -> ServerRequest {
        let mut e: ElicitRequestParams = serde_json::from_value(json!({
            "message": "colour?",
            "requestedSchema": {"type": "object", "properties": {"c": {"type": "string"}}}
        }))
        .unwrap();
        if let ElicitRequestParams::Form(f) = &mut e {
            f.task = Some(TaskMetadata {
                ttl: Some(60_000),
                ..Default::default()
            });
        }
        ServerRequest::Elicit(e)
    }

    /// Sends a server request; returns its id.
    fn ask(p: &mut Pair, r: ServerRequest) -> mcp_proto::jsonrpc::RequestId {
        let id = p.server.send_request(p.now, r, None).unwrap();
        p.drive();
        id
    }

    /// The server's answer to its request `id`, as JSON (`Err` for an error).
    fn answer(p: &mut Pair, id: &mcp_proto::jsonrpc::RequestId) -> Option<Result<Value, i64>> {
        p.take_server_events().into_iter().find_map(|e| match e {
            ServerEvent::Response { id: rid, result } if rid == *id => Some(match result {
                Ok(r) => Ok(serde_json::to_value(r).unwrap()),
                Err(mcp_proto::session::RequestError::Rpc(e)) => Err(e.code),
                Err(other) => panic!("{other:?}"),
            }),
            _ => None,
        })
    }

    fn client_request(p: &mut Pair) -> mcp_proto::jsonrpc::RequestId {
        p.take_client_events()
            .into_iter()
            .find_map(|e| match e {
                ClientEvent::Request { id, .. } => Some(id),
                _ => None,
            })
            .expect("the ask reached the client application")
    }

    /// Before: the note that a request asked for a task stayed after the request ended
    /// without becoming one, so a server could grow the client's table without bound.
    #[test]
    fn task_requests_that_never_became_tasks_are_forgotten() {
        let mut p = pair(true);
        // Answered directly, refused, cancelled by the server.
        let mut ended = Vec::new();
        for how in 0..3 {
            let sid = ask(&mut p, elicit_as_task());
            let cid = client_request(&mut p);
            assert!(p.client.task_requested(&cid));
            match how {
                0 => {
                    let reply: ElicitResult =
                        serde_json::from_value(json!({"action": "decline"})).unwrap();
                    p.client.respond(&cid, ClientResult::Elicit(reply)).unwrap();
                }
                1 => p
                    .client
                    .respond_error(&cid, mcp_proto::jsonrpc::ErrorObject::internal("no"))
                    .unwrap(),
                _ => p.server.cancel_request(&sid, None).unwrap(),
            }
            p.drive();
            ended.push(cid);
        }
        for cid in &ended {
            assert!(!p.client.task_requested(cid), "{cid} is still noted");
            assert!(p.client.create_task(p.now, cid).is_err());
        }
        // Still open at close: forgotten too.
        ask(&mut p, elicit_as_task());
        let cid = client_request(&mut p);
        p.client.close();
        assert!(!p.client.task_requested(&cid));
    }

    #[test]
    fn a_task_augmented_elicitation_runs_as_a_client_task() {
        let mut p = pair(true);
        let sid = ask(&mut p, elicit_as_task());
        let cid = client_request(&mut p);
        assert!(p.client.task_requested(&cid));
        let task = p.client.create_task(p.now, &cid).unwrap();
        p.drive();
        let created = answer(&mut p, &sid).unwrap().unwrap();
        assert_eq!(created["task"]["taskId"], task.as_str());
        assert_eq!(created["task"]["ttl"], 60_000);
        // The server polls; tasks/result waits for the end.
        let get = ask(
            &mut p,
            ServerRequest::GetTask(GetTaskRequestParams::new(&task)),
        );
        assert_eq!(answer(&mut p, &get).unwrap().unwrap()["status"], "working");
        let result = ask(
            &mut p,
            ServerRequest::GetTaskPayload(GetTaskPayloadRequestParams::new(&task)),
        );
        assert!(answer(&mut p, &result).is_none());
        let reply: ElicitResult =
            serde_json::from_value(json!({"action": "accept", "content": {"c": "red"}})).unwrap();
        p.client
            .finish_task(p.now, &task, Ok(ClientResult::Elicit(reply)))
            .unwrap();
        p.drive();
        let payload = answer(&mut p, &result).unwrap().unwrap();
        assert_eq!(payload["content"]["c"], "red");
        assert_eq!(
            payload["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
            task.as_str()
        );
        // The server heard of each change.
        assert!(p
            .c2s_log
            .iter()
            .any(|m| m["method"] == "notifications/tasks/status"
                && m["params"]["status"] == "completed"));
        // Terminal: cancelling is refused.
        let cancel = ask(
            &mut p,
            ServerRequest::CancelTask(CancelTaskRequestParams::new(&task)),
        );
        assert_eq!(answer(&mut p, &cancel).unwrap(), Err(code::INVALID_PARAMS));
    }

    #[test]
    fn the_server_can_cancel_a_client_task() {
        let mut p = pair(true);
        ask(&mut p, elicit_as_task());
        let cid = client_request(&mut p);
        let task = p.client.create_task(p.now, &cid).unwrap();
        p.drive();
        p.take_server_events();
        let cancel = ask(
            &mut p,
            ServerRequest::CancelTask(CancelTaskRequestParams::new(&task)),
        );
        assert_eq!(
            answer(&mut p, &cancel).unwrap().unwrap()["status"],
            "cancelled"
        );
        assert!(p.take_client_events().iter().any(
            |e| matches!(e, ClientEvent::TaskCancelRequested { task_id } if *task_id == task)
        ));
        let late: ElicitResult = serde_json::from_value(json!({"action": "decline"})).unwrap();
        assert!(p
            .client
            .finish_task(p.now, &task, Ok(ClientResult::Elicit(late)))
            .is_err());
    }

    #[test]
    fn without_the_capability_the_task_param_is_ignored() {
        let mut p = pair(false);
        let sid = ask(&mut p, elicit_as_task());
        let cid = client_request(&mut p);
        assert!(!p.client.task_requested(&cid));
        assert!(p.client.create_task(p.now, &cid).is_err());
        let reply: ElicitResult = serde_json::from_value(json!({"action": "decline"})).unwrap();
        p.client.respond(&cid, ClientResult::Elicit(reply)).unwrap();
        p.drive();
        assert_eq!(answer(&mut p, &sid).unwrap().unwrap()["action"], "decline");
    }
}
