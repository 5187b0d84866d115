//! Tasks end to end on tokio: task tools of the typed builder, called as tasks by the typed
//! client in both eras, in process and over streamable HTTP on 127.0.0.1. The handlers wait
//! on gates the tests open, never on sleeps; time moves only where the test moves it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_tokio::mcp_driver::{
    connect_in_process, BoxFuture, CallError, Client, ClientHandler, ProgressFn, RequestCx, Server,
    Service, TaskOptions, TaskStart, TaskSupport, ToolError,
};
use mcp_tokio::mcp_proto::jsonrpc::{code, ErrorObject};
use mcp_tokio::mcp_proto::schema::elicitation::{
    ElicitRequestParams, ElicitResult, ElicitValue, RequestedSchema, StringSchema,
};
use mcp_tokio::mcp_proto::schema::lifecycle::{ClientCapabilities, ElicitationCapability};
use mcp_tokio::mcp_proto::schema::messages::ServerNotification;
use mcp_tokio::mcp_proto::schema::mrtr::{InputResponse, InputResponses};
use mcp_tokio::mcp_proto::schema::subscriptions::SubscriptionFilter;
use mcp_tokio::mcp_proto::schema::tasks::TaskStatus;
use mcp_tokio::mcp_proto::schema::tools::{CallToolResult, Tool};
use mcp_tokio::mcp_proto::schema::{Era, Implementation};
use mcp_tokio::mcp_proto::session::{ClientConfig, EraPreference, RequestError};
use mcp_tokio::mcp_proto::tasks::{TaskEntry, TaskError, TaskPage, TaskStore};
use mcp_tokio::TokioRuntime;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

const GUARD: Duration = Duration::from_secs(20);
const ERAS: [EraPreference; 2] = [EraPreference::Auto, EraPreference::Legacy];
const POLL: Duration = Duration::from_millis(5);

/// What the tests control and observe of the server's handlers.
#[derive(Clone)]
struct Probe {
    /// `compute` finishes once this turns true.
    release: watch::Receiver<bool>,
    /// Each `forever` handler sends here when it is dropped (its task was cancelled).
    dropped: mpsc::UnboundedSender<()>,
}

/// Sends on drop: proves the handler was stopped, not left running.
struct OnDrop(mpsc::UnboundedSender<()>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

fn name_form() -> ElicitRequestParams {
    let schema = RequestedSchema::new().with_property("name", StringSchema::default(), true);
    ElicitRequestParams::form("What is your name?", schema)
}

fn task_service(probe: Probe) -> Service {
    let fast = |support| TaskOptions::new(support).poll_interval(POLL);
    let tool = |name: &str| Tool::new(name, name, Value::Null);
    let p1 = probe.clone();
    let p2 = probe;
    Server::builder("tasks", "1.0.0")
        .task_tool_with(
            tool("compute"),
            fast(TaskSupport::Optional),
            move |cx: RequestCx| {
                let mut release = p1.release.clone();
                async move {
                    cx.progress(1.0, Some(2.0), None)?;
                    release
                        .wait_for(|open| *open)
                        .await
                        .map_err(|_| ToolError::new("gate gone"))?;
                    cx.progress(2.0, Some(2.0), None)?;
                    Ok("42")
                }
            },
        )
        .task_tool_with(tool("forever"), fast(TaskSupport::Optional), move || {
            let guard = OnDrop(p2.dropped.clone());
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok("never")
            }
        })
        .task_tool_with(tool("instant"), fast(TaskSupport::Optional), || async {
            Ok("done at once")
        })
        .task_tool_with(tool("bad_input"), fast(TaskSupport::Required), || async {
            Err::<String, _>(ToolError::rpc(ErrorObject::invalid_params("bad input")))
        })
        .task_tool_with(tool("tool_error"), fast(TaskSupport::Optional), || async {
            Err::<String, _>(ToolError::new("it broke"))
        })
        .task_tool_with(
            tool("greet_later"),
            fast(TaskSupport::Optional),
            |cx: RequestCx| async move {
                let answer = cx.ask("name").elicit(name_form()).await?;
                Ok(format!("Hello, {}!", text(&answer, "name")))
            },
        )
        .task_tool_with(
            tool("ask_then_detach"),
            fast(TaskSupport::Required).start(TaskStart::OnDetach),
            |cx: RequestCx| async move {
                let answer = cx.ask("name").elicit(name_form()).await?;
                let task = cx.detach()?;
                Ok(format!("{} in {}", text(&answer, "name"), task.is_some()))
            },
        )
        .tool("plain", "never a task", || async { Ok("plain") })
        .tool(
            "greet_now",
            "asks, never a task itself",
            |cx: RequestCx| async move {
                let answer = cx.ask("name").elicit(name_form()).await?;
                Ok(format!("Hi, {}!", text(&answer, "name")))
            },
        )
        .build()
}

fn text(answer: &ElicitResult, field: &str) -> String {
    match answer.content.as_ref().and_then(|c| c.get(field)) {
        Some(ElicitValue::String(s)) => s.clone(),
        _ => "?".into(),
    }
}

fn result_text(r: &CallToolResult) -> String {
    let v = serde_json::to_value(r).unwrap();
    v["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The host: fills every form with `Ada`, records what it was asked.
#[derive(Default)]
struct Host {
    asked: Mutex<Vec<Value>>,
}

impl ClientHandler for Host {
    fn elicit(
        &self,
        params: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        self.asked
            .lock()
            .unwrap()
            .push(serde_json::to_value(&params).unwrap());
        let mut content = BTreeMap::new();
        content.insert("name".to_owned(), ElicitValue::String("Ada".into()));
        Box::pin(async move { Ok(ElicitResult::accept(content)) })
    }
}

fn client_config(era: EraPreference) -> ClientConfig {
    let mut config = ClientConfig::new(Implementation::new("tasks-test", "1.0.0"));
    config.era = era;
    config.capabilities = ClientCapabilities {
        elicitation: Some(ElicitationCapability::default()),
        ..Default::default()
    };
    config
}

struct Rig {
    client: Client,
    host: Arc<Host>,
    release: watch::Sender<bool>,
    dropped: mpsc::UnboundedReceiver<()>,
}

async fn rig(era: EraPreference) -> Rig {
    let (release, rx) = watch::channel(false);
    let (dropped_tx, dropped) = mpsc::unbounded_channel();
    let probe = Probe {
        release: rx,
        dropped: dropped_tx,
    };
    let host = Arc::new(Host::default());
    let (client, _server) = connect_in_process(
        TokioRuntime,
        task_service(probe),
        client_config(era),
        host.clone(),
    )
    .await
    .unwrap();
    Rig {
        client,
        host,
        release,
        dropped,
    }
}

fn rpc(e: CallError) -> ErrorObject {
    match e {
        CallError::Request(RequestError::Rpc(e)) => e,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

#[tokio::test]
async fn create_poll_result_in_both_eras() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "create_poll_result_in_both_eras",
        async move {
            tokio::time::timeout(GUARD, async {
                for era in ERAS {
                    let r = rig(era).await;
                    let expected = match era {
                        EraPreference::Legacy => Era::Legacy,
                        _ => Era::Modern,
                    };
                    assert_eq!(r.client.server().era, expected);
                    let (progress_tx, mut progress) = mpsc::unbounded_channel();
                    let on_progress: ProgressFn = Box::new(move |p| {
                        let _ = progress_tx.send(p.progress);
                    });
                    let task = r
                        .client
                        .call_tool_as_task_with("compute", json!({}), Some(on_progress))
                        .await
                        .unwrap();
                    let id = task.task_id().expect("a task").to_owned();
                    let info = task.status().await.unwrap();
                    assert_eq!(info.task_id.as_deref(), Some(id.as_str()));
                    assert_eq!(info.status, TaskStatus::Working, "{era:?}");
                    assert_eq!(info.poll_interval, Some(POLL));
                    assert!(info.ttl.is_some());
                    r.release.send(true).unwrap();
                    let result = task.wait().await.unwrap();
                    assert_eq!(result_text(&result), "42", "{era:?}");
                    // A legacy task reports progress on the call's token until it ends; the 2026-07-28
                    // extension has no progress on tasks.
                    let mut seen = Vec::new();
                    while let Ok(p) = progress.try_recv() {
                        seen.push(p);
                    }
                    let expected: &[f64] = match era {
                        EraPreference::Legacy => &[1.0, 2.0],
                        _ => &[],
                    };
                    assert_eq!(seen, expected, "{era:?}");
                    assert_eq!(task.status().await.unwrap().status, TaskStatus::Completed);
                    // The same result again, for as long as the task lives.
                    assert_eq!(result_text(&task.wait().await.unwrap()), "42");
                    // A tool without task support is simply called.
                    let plain = r
                        .client
                        .call_tool_as_task("plain", json!({}))
                        .await
                        .unwrap();
                    assert!(plain.task_id().is_none());
                    assert_eq!(result_text(&plain.wait().await.unwrap()), "plain");
                }
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn cancel_while_working_stops_the_handler() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "cancel_while_working_stops_the_handler",
        async move {
            tokio::time::timeout(GUARD, async {
                for era in ERAS {
                    let mut r = rig(era).await;
                    let task = r
                        .client
                        .call_tool_as_task("forever", json!({}))
                        .await
                        .unwrap();
                    assert_eq!(task.status().await.unwrap().status, TaskStatus::Working);
                    task.cancel().await.unwrap();
                    // The handler was dropped, and the task says so.
                    r.dropped.recv().await.unwrap();
                    assert_eq!(task.status().await.unwrap().status, TaskStatus::Cancelled);
                    match task.wait().await {
                        Err(CallError::TaskCancelled(id)) => {
                            assert_eq!(Some(id.as_str()), task.task_id())
                        }
                        other => panic!("{era:?}: {other:?}"),
                    }
                }
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn cancel_after_completion_is_an_error_for_legacy_and_an_ack_for_the_extension() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "cancel_after_completion_is_an_error_for_legacy_and_an_ack_for_the_extension",
        async move {
            tokio::time::timeout(GUARD, async {
                for era in ERAS {
                    let r = rig(era).await;
                    let task = r
                        .client
                        .call_tool_as_task("instant", json!({}))
                        .await
                        .unwrap();
                    assert!(task.task_id().is_some(), "{era:?}");
                    assert_eq!(result_text(&task.wait().await.unwrap()), "done at once");
                    let cancelled = task.cancel().await;
                    if era == EraPreference::Legacy {
                        assert_eq!(rpc(cancelled.unwrap_err()).code, code::INVALID_PARAMS);
                    } else {
                        cancelled.unwrap();
                    }
                    // Terminal is final either way.
                    assert_eq!(task.status().await.unwrap().status, TaskStatus::Completed);
                }
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn failure_surfaces_the_original_error_and_tool_errors_complete() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "failure_surfaces_the_original_error_and_tool_errors_complete",
        async move {
            tokio::time::timeout(GUARD, async {
                for era in ERAS {
                    let r = rig(era).await;
                    let task = r
                        .client
                        .call_tool_as_task("bad_input", json!({}))
                        .await
                        .unwrap();
                    assert!(task.task_id().is_some());
                    let e = rpc(task.wait().await.unwrap_err());
                    assert_eq!(e.code, code::INVALID_PARAMS, "{era:?}");
                    assert_eq!(e.message, "bad input");
                    assert_eq!(task.status().await.unwrap().status, TaskStatus::Failed);
                    // A tool error is a result the model reads: the task completes with it.
                    let task = r
                        .client
                        .call_tool_as_task("tool_error", json!({}))
                        .await
                        .unwrap();
                    let result = task.wait().await.unwrap();
                    assert_eq!(result.is_error, Some(true));
                    assert_eq!(task.status().await.unwrap().status, TaskStatus::Completed);
                }
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn a_required_task_tool_refuses_plain_calls() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_required_task_tool_refuses_plain_calls",
        async move {
            tokio::time::timeout(GUARD, async {
                // Legacy: -32601 without `params.task`.
                let r = rig(EraPreference::Legacy).await;
                let e = rpc(r
                    .client
                    .call_tool("bad_input", json!({}))
                    .await
                    .unwrap_err());
                assert_eq!(e.code, code::METHOD_NOT_FOUND);
                // 2026-07-28: -32021 naming the extension, when the call does not allow tasks.
                let r = rig(EraPreference::Auto).await;
                let e = rpc(r
                    .client
                    .call_tool("bad_input", json!({}))
                    .await
                    .unwrap_err());
                assert_eq!(e.code, code::MISSING_REQUIRED_CLIENT_CAPABILITY);
                let data = e.data.unwrap();
                assert!(data["requiredCapabilities"]["extensions"]
                    ["io.modelcontextprotocol/tasks"]
                    .is_object());
                // An optional one runs as a plain call.
                r.release.send(true).unwrap();
                let plain = r.client.call_tool("compute", json!({})).await.unwrap();
                assert_eq!(result_text(&plain), "42");
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn input_required_then_resumed_in_both_eras() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "input_required_then_resumed_in_both_eras",
        async move {
            tokio::time::timeout(GUARD, async {
                // 2026-07-28: the task waits in input_required, a tasks/update resumes it.
                let r = rig(EraPreference::Auto).await;
                let task = r
                    .client
                    .call_tool_as_task("greet_later", json!({}))
                    .await
                    .unwrap();
                let info = loop {
                    let info = task.status().await.unwrap();
                    if info.status != TaskStatus::Working {
                        break info;
                    }
                    tokio::task::yield_now().await;
                };
                assert_eq!(info.status, TaskStatus::InputRequired);
                assert_eq!(info.input_requests.keys().collect::<Vec<_>>(), ["name"]);
                let mut answers = InputResponses::new();
                let mut content = BTreeMap::new();
                content.insert("name".to_owned(), ElicitValue::String("Grace".into()));
                answers.insert(
                    "name".into(),
                    InputResponse::from(ElicitResult::accept(content)),
                );
                task.respond(answers).await.unwrap();
                assert_eq!(result_text(&task.wait().await.unwrap()), "Hello, Grace!");
                assert!(r.host.asked.lock().unwrap().is_empty(), "answered by hand");
                // wait() answers through the handler when nobody else does.
                let task = r
                    .client
                    .call_tool_as_task("greet_later", json!({}))
                    .await
                    .unwrap();
                assert_eq!(result_text(&task.wait().await.unwrap()), "Hello, Ada!");
                assert_eq!(r.host.asked.lock().unwrap().len(), 1);

                // Legacy: the server asks with elicitation/create tied to the task.
                let r = rig(EraPreference::Legacy).await;
                let task = r
                    .client
                    .call_tool_as_task("greet_later", json!({}))
                    .await
                    .unwrap();
                assert_eq!(result_text(&task.wait().await.unwrap()), "Hello, Ada!");
                let asked = r.host.asked.lock().unwrap().clone();
                assert_eq!(
                    asked[0]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
                    task.task_id().unwrap()
                );
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn a_client_that_runs_elicitations_as_tasks_gets_them_as_tasks() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_client_that_runs_elicitations_as_tasks_gets_them_as_tasks",
        async move {
            use mcp_tokio::mcp_proto::schema::lifecycle::{
                ClientTaskRequests, ClientTasksCapability, ElicitationTaskRequests,
            };
            tokio::time::timeout(GUARD, async {
                let (_release, rx) = watch::channel(false);
                let (dropped, _keep) = mpsc::unbounded_channel();
                let mut config = client_config(EraPreference::Legacy);
                config.capabilities.tasks = Some(ClientTasksCapability {
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
                let host = Arc::new(Host::default());
                let service = task_service(Probe {
                    release: rx,
                    dropped,
                });
                let (client, _server) =
                    connect_in_process(TokioRuntime, service, config, host.clone())
                        .await
                        .unwrap();
                // The server's elicitation goes out as a task of the client, polled, then read.
                let r = client.call_tool("greet_now", json!({})).await.unwrap();
                assert_eq!(result_text(&r), "Hi, Ada!");
                let asked = host.asked.lock().unwrap().clone();
                assert_eq!(asked.len(), 1);
                assert!(asked[0]["task"].is_object(), "{asked:?}");
                // A client that does not declare it is asked plainly.
                let r = rig(EraPreference::Legacy).await;
                let plain = r.client.call_tool("greet_now", json!({})).await.unwrap();
                assert_eq!(result_text(&plain), "Hi, Ada!");
                assert!(r.host.asked.lock().unwrap()[0].get("task").is_none());
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn asks_before_detaching_are_an_input_required_round() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "asks_before_detaching_are_an_input_required_round",
        async move {
            tokio::time::timeout(GUARD, async {
                for era in ERAS {
                    let r = rig(era).await;
                    let task = r
                        .client
                        .call_tool_as_task("ask_then_detach", json!({}))
                        .await
                        .unwrap();
                    assert!(task.task_id().is_some(), "{era:?}");
                    assert_eq!(result_text(&task.wait().await.unwrap()), "Ada in true");
                    assert_eq!(r.host.asked.lock().unwrap().len(), 1, "{era:?}");
                }
            })
            .await
            .unwrap();
        },
    )
    .await
}

/// A second store: entries kept as JSON text in a map that stands for a disk, so a new
/// store over the same map (a restarted server) finds them again.
#[derive(Clone, Default)]
struct Disk(Arc<Mutex<BTreeMap<String, String>>>);

struct JsonStore {
    disk: Disk,
    max: usize,
}

impl JsonStore {
    fn read(&self) -> Vec<TaskEntry> {
        let mut all: Vec<TaskEntry> = self
            .disk
            .0
            .lock()
            .unwrap()
            .values()
            .filter_map(|t| serde_json::from_str(t).ok())
            .collect();
        all.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        all
    }

    fn write(&self, entry: &TaskEntry) -> Result<(), TaskError> {
        let text = serde_json::to_string(entry).map_err(|e| TaskError::Store(e.to_string()))?;
        self.disk.0.lock().unwrap().insert(entry.id.clone(), text);
        Ok(())
    }
}

impl TaskStore for JsonStore {
    fn insert(&mut self, now_ms: u64, entry: TaskEntry) -> Result<(), TaskError> {
        self.expire(now_ms);
        if self.len() >= self.max {
            return Err(TaskError::Full(self.max));
        }
        self.write(&entry)
    }

    fn get(&self, id: &str) -> Option<TaskEntry> {
        let text = self.disk.0.lock().unwrap().get(id).cloned()?;
        serde_json::from_str(&text).ok()
    }

    fn update(
        &mut self,
        id: &str,
        f: &mut dyn FnMut(&mut TaskEntry) -> Result<(), TaskError>,
    ) -> Result<TaskEntry, TaskError> {
        let mut entry = self.get(id).ok_or_else(|| TaskError::Unknown(id.into()))?;
        f(&mut entry)?;
        self.write(&entry)?;
        Ok(entry)
    }

    fn remove(&mut self, id: &str) -> Option<TaskEntry> {
        let entry = self.get(id);
        self.disk.0.lock().unwrap().remove(id);
        entry
    }

    fn list(
        &self,
        now_ms: u64,
        owner: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TaskPage, TaskError> {
        let start: usize =
            cursor.map_or(Ok(0), |c| c.parse().map_err(|_| TaskError::InvalidCursor))?;
        let mine: Vec<TaskEntry> = self
            .read()
            .into_iter()
            .filter(|t| t.owner.as_deref() == owner && !t.is_expired(now_ms))
            .collect();
        let end = (start + limit).min(mine.len());
        Ok(TaskPage {
            tasks: mine.get(start..end).unwrap_or_default().to_vec(),
            next_cursor: (end < mine.len()).then(|| end.to_string()),
        })
    }

    fn expire(&mut self, now_ms: u64) -> Vec<String> {
        let gone: Vec<String> = self
            .read()
            .into_iter()
            .filter(|t| t.is_expired(now_ms))
            .map(|t| t.id)
            .collect();
        let mut disk = self.disk.0.lock().unwrap();
        for id in &gone {
            disk.remove(id);
        }
        gone
    }

    fn next_expiry(&self) -> Option<u64> {
        self.read()
            .iter()
            .filter_map(TaskEntry::expires_at_ms)
            .min()
    }

    fn len(&self) -> usize {
        self.disk.0.lock().unwrap().len()
    }
}

fn restartable(store: Option<Disk>) -> Service {
    let builder = Server::builder("restartable", "1.0.0").task_tool_with(
        Tool::new("compute", "compute", Value::Null),
        TaskOptions::new(TaskSupport::Optional).poll_interval(POLL),
        || async { Ok("survived") },
    );
    match store {
        Some(disk) => builder.task_store(JsonStore { disk, max: 8 }).build(),
        None => builder.build(),
    }
}

#[tokio::test]
async fn a_restart_loses_in_memory_tasks_but_not_those_of_a_lasting_store() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_restart_loses_in_memory_tasks_but_not_those_of_a_lasting_store",
        async move {
            tokio::time::timeout(GUARD, async {
                let connect = |service: Service| async move {
                    connect_in_process(
                        TokioRuntime,
                        service,
                        client_config(EraPreference::Auto),
                        Arc::new(Host::default()),
                    )
                    .await
                    .unwrap()
                    .0
                };
                // Default store: the task is gone with the server that ran it.
                let first = connect(restartable(None)).await;
                let task = first.call_tool_as_task("compute", json!({})).await.unwrap();
                assert_eq!(result_text(&task.wait().await.unwrap()), "survived");
                let id = task.task_id().unwrap().to_owned();
                first.close();
                let restarted = connect(restartable(None)).await;
                let lost = restarted.resume_task(&id).status().await.unwrap_err();
                assert_eq!(rpc(lost).code, code::INVALID_PARAMS);

                // A store that outlives the server: the restarted one still has the result.
                let disk = Disk::default();
                let first = connect(restartable(Some(disk.clone()))).await;
                let task = first.call_tool_as_task("compute", json!({})).await.unwrap();
                assert_eq!(result_text(&task.wait().await.unwrap()), "survived");
                let id = task.task_id().unwrap().to_owned();
                first.close();
                assert_eq!(disk.0.lock().unwrap().len(), 1);
                let restarted = connect(restartable(Some(disk))).await;
                let found = restarted.resume_task(&id);
                assert_eq!(found.status().await.unwrap().status, TaskStatus::Completed);
                assert_eq!(result_text(&found.wait().await.unwrap()), "survived");
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn listen_streams_hear_of_task_changes_in_process_and_over_http() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "listen_streams_hear_of_task_changes_in_process_and_over_http",
        async move {
            tokio::time::timeout(GUARD, async {
                let (release, rx) = watch::channel(false);
                let (dropped_tx, _dropped) = mpsc::unbounded_channel();
                let service = task_service(Probe {
                    release: rx,
                    dropped: dropped_tx,
                });
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let config = mcp_examples_common::http_config(addr);
                tokio::spawn(mcp_tokio::serve_http(listener, service.clone(), config));
                // A client that declares the extension may follow tasks on a listen stream.
                let mut config = client_config(EraPreference::Auto);
                config.capabilities.extensions = Some(
                    [("io.modelcontextprotocol/tasks".to_owned(), json!({}))]
                        .into_iter()
                        .collect(),
                );
                let in_process = connect_in_process(
                    TokioRuntime,
                    service,
                    config.clone(),
                    Arc::new(Host::default()),
                )
                .await
                .unwrap()
                .0;
                let url = format!("http://{addr}/mcp");
                let over_http = mcp_tokio::connect_http(
                    &url,
                    config,
                    Arc::new(Host::default()),
                    Default::default(),
                )
                .await
                .unwrap();
                let mut pending = Vec::new();
                for client in [in_process, over_http] {
                    let task = client
                        .call_tool_as_task("compute", json!({}))
                        .await
                        .unwrap();
                    let id = task.task_id().unwrap().to_owned();
                    let filter = SubscriptionFilter {
                        task_ids: Some(vec![id.clone()]),
                        ..Default::default()
                    };
                    let mut stream = client.listen(filter).unwrap();
                    match stream.next().await {
                        Some(ServerNotification::SubscriptionsAcknowledged(a)) => {
                            assert_eq!(a.notifications.task_ids, Some(vec![id.clone()]));
                        }
                        other => panic!("{other:?}"),
                    }
                    pending.push((client, task, id, stream));
                }
                release.send(true).unwrap();
                for (_client, task, id, mut stream) in pending {
                    let note = loop {
                        match stream.next().await {
                            Some(ServerNotification::Task(t))
                                if t.task.task.status.is_terminal() =>
                            {
                                break t
                            }
                            Some(_) => {}
                            None => panic!("the listen stream ended"),
                        }
                    };
                    assert_eq!(note.task.task.task_id, id);
                    assert_eq!(note.task.task.status, TaskStatus::Completed);
                    let inline: CallToolResult = note.task.result_as().unwrap().unwrap();
                    assert_eq!(result_text(&inline), "42");
                    assert_eq!(result_text(&task.wait().await.unwrap()), "42");
                }
            })
            .await
            .unwrap();
        },
    )
    .await
}

#[tokio::test]
async fn over_http_every_request_finds_the_task() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "over_http_every_request_finds_the_task",
        async move {
            tokio::time::timeout(GUARD, async {
                let (release, rx) = watch::channel(false);
                let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
                let service = task_service(Probe {
                    release: rx,
                    dropped: dropped_tx,
                });
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let config = mcp_examples_common::http_config(addr);
                tokio::spawn(mcp_tokio::serve_http(listener, service, config));
                let url = format!("http://{addr}/mcp");
                for era in ERAS {
                    let host = Arc::new(Host::default());
                    let client = mcp_tokio::connect_http(
                        &url,
                        client_config(era),
                        host.clone(),
                        Default::default(),
                    )
                    .await
                    .unwrap();
                    // Created on one exchange, polled and answered on others (2026-07-28:
                    // tasks/update; legacy: the ask on the session's GET stream).
                    let task = client
                        .call_tool_as_task("greet_later", json!({}))
                        .await
                        .unwrap();
                    assert!(task.task_id().is_some(), "{era:?}");
                    assert_eq!(result_text(&task.wait().await.unwrap()), "Hello, Ada!");
                    // Cancelled from another exchange: the handler stops.
                    let task = client
                        .call_tool_as_task("forever", json!({}))
                        .await
                        .unwrap();
                    task.cancel().await.unwrap();
                    dropped.recv().await.unwrap();
                    assert!(matches!(
                        task.wait().await,
                        Err(CallError::TaskCancelled(_))
                    ));
                    let failed = client
                        .call_tool_as_task("bad_input", json!({}))
                        .await
                        .unwrap();
                    assert_eq!(rpc(failed.wait().await.unwrap_err()).message, "bad input");
                }
                release.send(true).unwrap();
            })
            .await
            .unwrap();
        },
    )
    .await
}

/// A host that never answers an elicitation: its task stays `working`.
struct Stuck;

impl ClientHandler for Stuck {
    fn elicit(
        &self,
        _params: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn a_client_task_past_its_deadline_is_cancelled_and_the_ask_fails_typed() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_client_task_past_its_deadline_is_cancelled_and_the_ask_fails_typed",
        async move {
            use mcp_tokio::mcp_driver::AskError;
            use mcp_tokio::mcp_proto::schema::lifecycle::{
                ClientTaskRequests, ClientTasksCapability, ElicitationTaskRequests,
            };
            use mcp_tokio::mcp_proto::schema::messages::{ClientResult, ServerRequest};
            tokio::time::timeout(GUARD, async {
                let mut config = client_config(EraPreference::Legacy);
                config.capabilities.tasks = Some(ClientTasksCapability {
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
                let service = Server::builder("deadline", "1.0.0")
                    .tool(
                        "ask_briefly",
                        "asks with a short task deadline",
                        |cx: RequestCx| async move {
                            let asked = cx
                                .ask("name")
                                .task_deadline(Duration::from_millis(100))
                                .elicit(name_form())
                                .await;
                            let task_id = match asked {
                                Err(AskError::TaskDeadline { task_id, after }) => {
                                    assert_eq!(after, Duration::from_millis(100));
                                    task_id
                                }
                                other => return Ok(format!("unexpected: {other:?}")),
                            };
                            // Asked after the cancellation went out, on the same connection.
                            let listed = cx
                                .request(ServerRequest::ListTasks(Default::default()))
                                .await?;
                            let status = match listed {
                                ClientResult::ListTasks(l) => l
                                    .tasks
                                    .into_iter()
                                    .find(|t| t.task_id == task_id)
                                    .map(|t| t.status),
                                _ => None,
                            };
                            Ok(format!("deadline passed; the client's task: {status:?}"))
                        },
                    )
                    .build();
                let (client, _server) =
                    connect_in_process(TokioRuntime, service, config, Arc::new(Stuck))
                        .await
                        .unwrap();
                let r = client.call_tool("ask_briefly", json!({})).await.unwrap();
                assert_eq!(
                    result_text(&r),
                    format!(
                        "deadline passed; the client's task: {:?}",
                        Some(TaskStatus::Cancelled)
                    )
                );
            })
            .await
            .unwrap();
        },
    )
    .await
}
