//! Tasks through the suite's links: task tools of the typed builder, called as tasks with
//! [`Client::call_tool_as_task`] and followed with their [`TaskHandle`](mcp_driver::TaskHandle),
//! in both eras (2025-11-25 tasks, the 2026-07-28 tasks extension). The handlers wait on
//! signals the cases set, never on time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_driver::mcp_proto::jsonrpc::{code, ErrorObject};
use mcp_driver::mcp_proto::schema::elicitation::{
    ElicitRequestParams, ElicitValue, RequestedSchema, StringSchema,
};
use mcp_driver::mcp_proto::schema::lifecycle::{ClientCapabilities, ElicitationCapability};
use mcp_driver::mcp_proto::schema::tasks::TaskStatus;
use mcp_driver::mcp_proto::schema::tools::{CallToolResult, Tool};
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference, RequestError};
use mcp_driver::{
    CallError, Client, ClientHandler, NoHandler, ProgressFn, RequestCx, Runtime, Server, Service,
    TaskOptions, TaskSupport, ToolError,
};
use serde_json::{json, Value};

use crate::{expected_era, link_up, Answers, Link, SetOnDrop, Signal};

/// The eras every case runs in.
pub(crate) const ERAS: [EraPreference; 2] = [EraPreference::Auto, EraPreference::Legacy];

/// The polling interval the task tools suggest (the client polls at it).
pub(crate) const POLL: Duration = Duration::from_millis(5);

/// What the cases control and observe of the task tools.
#[derive(Clone, Default)]
pub struct Gates {
    /// `compute` finishes once set.
    pub release: Signal,
    /// Set when a `forever` handler is dropped (its task was cancelled).
    pub dropped: Signal,
}

fn name_form() -> ElicitRequestParams {
    let schema = RequestedSchema::new().with_property("v", StringSchema::default(), true);
    ElicitRequestParams::form("Who is asking?", schema)
}

/// The task tools: `compute` (progress, then waits for `release`), `forever` (until
/// cancelled), `bad_input` (fails; task-only), `tool_error` (a tool error, which completes),
/// `greet_later` (asks the client, then answers), and `plain`, which never runs as a task.
pub fn task_service(gates: &Gates) -> Service {
    let fast = |support| TaskOptions::new(support).poll_interval(POLL);
    let tool = |name: &str| Tool::new(name, name, Value::Null);
    let release = gates.release.clone();
    let dropped = gates.dropped.clone();
    Server::builder("suite-tasks", "1")
        .task_tool_with(
            tool("compute"),
            fast(TaskSupport::Optional),
            move |cx: RequestCx| {
                let release = release.clone();
                async move {
                    cx.progress(1.0, Some(2.0), None)?;
                    release.wait().await;
                    cx.progress(2.0, Some(2.0), None)?;
                    Ok("42")
                }
            },
        )
        .task_tool_with(tool("forever"), fast(TaskSupport::Optional), move || {
            let guard = SetOnDrop(dropped.clone());
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok("never")
            }
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
                let answer = cx.ask("who").elicit(name_form()).await?;
                let who = match answer.content.as_ref().and_then(|c| c.get("v")) {
                    Some(ElicitValue::String(s)) => s.clone(),
                    _ => "?".into(),
                };
                Ok(format!("Hello, {who}!"))
            },
        )
        .tool("plain", "never a task", || async { Ok("plain") })
        .build()
}

/// A client config for `era` that can answer elicitations.
pub(crate) fn client_config(era: EraPreference) -> ClientConfig {
    let mut config = ClientConfig::new(Implementation::new("suite-tasks-client", "1"));
    config.era = era;
    config.capabilities = ClientCapabilities {
        elicitation: Some(ElicitationCapability::default()),
        ..Default::default()
    };
    config
}

pub(crate) fn text(r: &CallToolResult) -> &str {
    r.content[0].as_text().unwrap_or_default()
}

pub(crate) fn rpc(e: CallError) -> ErrorObject {
    match e {
        CallError::Request(RequestError::Rpc(e)) => e,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

async fn task_client<R: Runtime>(
    rt: R,
    link: Link,
    era: EraPreference,
    handler: Arc<dyn ClientHandler>,
) -> (Client, Gates) {
    let gates = Gates::default();
    let (client, _server) =
        link_up(rt, link, task_service(&gates), client_config(era), handler).await;
    assert_eq!(client.server().era, expected_era(era));
    (client, gates)
}

/// Create → poll → result, in both eras: the call answers with a working task that has the
/// tool's poll interval and a TTL; once released it completes with the tool's result (read
/// again as often as asked), a legacy task having reported its progress on the way. A tool
/// without task support is simply called.
pub async fn tasks_run_from_creation_to_result<R: Runtime>(rt: R, link: Link) {
    for era in ERAS {
        let (client, gates) = task_client(rt.clone(), link, era, Arc::new(NoHandler)).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let on_progress: ProgressFn = Box::new(move |p| {
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(p.progress)
        });
        let task = client
            .call_tool_as_task_with("compute", json!({}), Some(on_progress))
            .await
            .unwrap();
        let id = task.task_id().expect("a task").to_owned();
        let info = task.status().await.unwrap();
        assert_eq!(info.task_id.as_deref(), Some(id.as_str()));
        assert_eq!(info.status, TaskStatus::Working, "{era:?}");
        assert_eq!(info.poll_interval, Some(POLL), "{era:?}");
        assert!(info.ttl.is_some(), "{era:?}");
        gates.release.set();
        assert_eq!(text(&task.wait().await.unwrap()), "42", "{era:?}");
        // A legacy task reports progress on the call's token until it ends; the 2026-07-28
        // extension has no progress on tasks.
        let expected: &[f64] = match era {
            EraPreference::Legacy => &[1.0, 2.0],
            _ => &[],
        };
        assert_eq!(
            *seen.lock().unwrap_or_else(|e| e.into_inner()),
            expected,
            "{era:?}"
        );
        assert_eq!(task.status().await.unwrap().status, TaskStatus::Completed);
        assert_eq!(text(&task.wait().await.unwrap()), "42", "{era:?}");
        // The same task, found again by its id.
        let again = client.resume_task(&id);
        assert_eq!(text(&again.wait().await.unwrap()), "42", "{era:?}");

        let plain = client.call_tool_as_task("plain", json!({})).await.unwrap();
        assert!(plain.task_id().is_none(), "{era:?}");
        assert_eq!(text(&plain.wait().await.unwrap()), "plain");
    }
}

/// Cancel while working, in both eras: the server drops the handler, the task reads
/// `cancelled`, and waiting on it ends with `TaskCancelled` naming it.
pub async fn tasks_cancelled_while_working_stop_their_handler<R: Runtime>(rt: R, link: Link) {
    for era in ERAS {
        let (client, gates) = task_client(rt.clone(), link, era, Arc::new(NoHandler)).await;
        let task = client
            .call_tool_as_task("forever", json!({}))
            .await
            .unwrap();
        assert!(task.task_id().is_some(), "{era:?}");
        assert_eq!(task.status().await.unwrap().status, TaskStatus::Working);
        task.cancel().await.unwrap();
        gates.dropped.wait().await;
        assert_eq!(
            task.status().await.unwrap().status,
            TaskStatus::Cancelled,
            "{era:?}"
        );
        match task.wait().await {
            Err(CallError::TaskCancelled(id)) => assert_eq!(Some(id.as_str()), task.task_id()),
            other => panic!("{era:?}: {other:?}"),
        }
        // The connection is unharmed.
        let plain = client.call_tool("plain", json!({})).await.unwrap();
        assert_eq!(text(&plain), "plain");
    }
}

/// A failed task gives back the error the call itself would have (and reads `failed`); a
/// tool error is a result, so its task completes; a task-only tool refuses a plain call.
pub async fn tasks_fail_with_the_calls_own_error<R: Runtime>(rt: R, link: Link) {
    for era in ERAS {
        let (client, _gates) = task_client(rt.clone(), link, era, Arc::new(NoHandler)).await;
        let task = client
            .call_tool_as_task("bad_input", json!({}))
            .await
            .unwrap();
        assert!(task.task_id().is_some(), "{era:?}");
        let e = rpc(task.wait().await.unwrap_err());
        assert_eq!(e.code, code::INVALID_PARAMS, "{era:?}");
        assert_eq!(e.message, "bad input");
        assert_eq!(task.status().await.unwrap().status, TaskStatus::Failed);

        let task = client
            .call_tool_as_task("tool_error", json!({}))
            .await
            .unwrap();
        assert_eq!(task.wait().await.unwrap().is_error, Some(true), "{era:?}");
        assert_eq!(task.status().await.unwrap().status, TaskStatus::Completed);

        let refused = rpc(client.call_tool("bad_input", json!({})).await.unwrap_err());
        let expected = match era {
            EraPreference::Legacy => code::METHOD_NOT_FOUND,
            _ => code::MISSING_REQUIRED_CLIENT_CAPABILITY,
        };
        assert_eq!(refused.code, expected, "{era:?}");
    }
}

/// A task that asks its client for input gets the answer from the client's handler, once,
/// in both eras (2026-07-28: `input_required` answered by `wait` with `tasks/update`;
/// legacy: an elicitation request tied to the task).
pub async fn tasks_ask_their_client_in_both_eras<R: Runtime>(rt: R, link: Link) {
    for era in ERAS {
        let answers = Arc::new(Answers::default());
        let (client, _gates) = task_client(rt.clone(), link, era, answers.clone()).await;
        let task = client
            .call_tool_as_task("greet_later", json!({}))
            .await
            .unwrap();
        assert!(task.task_id().is_some(), "{era:?}");
        assert_eq!(text(&task.wait().await.unwrap()), "Hello, a0!", "{era:?}");
        assert_eq!(
            answers.0.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{era:?}"
        );
    }
}
