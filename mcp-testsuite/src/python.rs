//! Our client against a server we did not write: `peers/python_server.py`, built on the
//! official Python SDK (PyPI `mcp` 2.3.0, pinned by `scripts/install-peers`), over stdio and
//! streamable HTTP, in both eras, on every runtime.
//!
//! The Python is `.tools/py/bin/python` at the repository's root, or `MCP_PYTHON`. Without
//! it the cases record a skip and pass, unless `MCP_REQUIRE_INTEROP` is set (see
//! [`crate::interop_skip`]). Over HTTP one server process serves both eras; over stdio each
//! era is one child (a stdio server serves one client).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_driver::http::client::{connect_http, HttpClientOptions};
use mcp_driver::mcp_proto::jsonrpc::ErrorObject;
use mcp_driver::mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_driver::mcp_proto::schema::lifecycle::{ClientCapabilities, ElicitationCapability};
use mcp_driver::mcp_proto::schema::Implementation;
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_driver::{BoxFuture, CallError, Client, ClientHandler, Runtime};
use serde_json::{json, Value};

use crate::child::Processes;
use crate::{expected_era, within, Signal};

/// Bounds each step against the peer: a Python process starting on a loaded 2-core machine
/// can take seconds; only a hang reaches this.
const GUARD: Duration = Duration::from_secs(60);
const ERAS: [EraPreference; 2] = [EraPreference::Legacy, EraPreference::Auto];

/// The Python with the SDK, or `None` after recording the skip.
fn python() -> Option<PathBuf> {
    let path = std::env::var_os("MCP_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/py/bin/python"),
        PathBuf::from,
    );
    if path.is_file() {
        return Some(path);
    }
    crate::interop_skip(&format!(
        "the Python SDK's venv not found at {}; run scripts/install-peers",
        path.display()
    ))
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/python_server.py")
}

/// Answers the peer's elicitation with a name, and records what it was asked.
#[derive(Default)]
struct Host {
    asked: Mutex<Vec<String>>,
}

impl ClientHandler for Host {
    fn elicit(
        &self,
        p: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        self.asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(p.message().to_owned());
        Box::pin(async {
            serde_json::from_value(json!({"action": "accept", "content": {"name": "Ferris"}}))
                .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }
}

fn config(era: EraPreference) -> ClientConfig {
    let mut c = ClientConfig::new(Implementation::new("rust-interop", "1"));
    c.era = era;
    c.capabilities = ClientCapabilities {
        elicitation: Some(ElicitationCapability::default()),
        ..Default::default()
    };
    // The era must not depend on how fast Python starts: a timed-out probe would fall back
    // to `initialize` and pass as a legacy server.
    c.probe_timeout = GUARD;
    c.initialize_timeout = GUARD;
    c
}

fn json_of<T: mcp_driver::serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or_else(|e| panic!("serialises: {e}"))
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

/// Everything the peer offers, through our client, in the era `era` asked for.
async fn tour(client: &Client, host: &Host, era: EraPreference, ctx: &str) {
    let server = client.server();
    assert_eq!(server.era, expected_era(era), "{ctx}");
    assert_eq!(
        server.server_info.as_ref().map(|i| i.name.as_str()),
        Some("python-peer"),
        "{ctx}"
    );
    assert!(
        server
            .instructions
            .as_deref()
            .is_some_and(|i| i.contains("Python SDK")),
        "{ctx}: {:?}",
        server.instructions
    );

    // Tools: the list with their schemas, a structured result, plain text, a failure.
    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["add", "echo", "fail", "greet"], "{ctx}");
    let add = json_of(tools.iter().find(|t| t.name == "add").expect("add"));
    assert_eq!(add["inputSchema"]["properties"]["a"]["type"], "integer");
    assert_eq!(add["outputSchema"]["properties"]["sum"]["type"], "integer");

    let r = json_of(
        &client
            .call_tool("add", json!({"a": 2, "b": 40}))
            .await
            .expect("add"),
    );
    assert_eq!(r["structuredContent"], json!({"sum": 42}), "{ctx}: {r}");
    assert_ne!(r["isError"], true, "{ctx}: {r}");
    let r = json_of(
        &client
            .call_tool("echo", json!({"text": "hello from rust"}))
            .await
            .expect("echo"),
    );
    assert_eq!(text_of(&r), "hello from rust", "{ctx}: {r}");
    let r = json_of(&client.call_tool("fail", json!({})).await.expect("fail"));
    assert_eq!(r["isError"], true, "{ctx}: {r}");
    assert!(text_of(&r).contains("fails on purpose"), "{ctx}: {r}");

    // The peer asks: a request to us in 2025-11-25, an `input_required` round in
    // 2026-07-28; either way our handler answers once and the call completes.
    let r = json_of(&client.call_tool("greet", json!({})).await.expect("greet"));
    assert_eq!(text_of(&r), "Hello, Ferris, from python!", "{ctx}: {r}");
    assert_eq!(
        *host.asked.lock().unwrap_or_else(|p| p.into_inner()),
        ["Who is calling the python peer?"],
        "{ctx}"
    );

    // Resources: a static one and a template instance.
    let resources = json_of(&client.list_all_resources().await.expect("resources/list"));
    assert_eq!(
        resources[0]["uri"], "peer://static/note",
        "{ctx}: {resources}"
    );
    assert_eq!(
        resources.as_array().map(Vec::len),
        Some(1),
        "{ctx}: {resources}"
    );
    let templates = json_of(
        &client
            .list_all_resource_templates()
            .await
            .expect("resources/templates/list"),
    );
    assert_eq!(
        templates[0]["uriTemplate"], "peer://greeting/{name}",
        "{ctx}: {templates}"
    );
    let read = json_of(
        &client
            .read_resource("peer://static/note")
            .await
            .expect("resources/read"),
    );
    assert_eq!(read["contents"][0]["text"], "a note from the python peer");
    assert_eq!(read["contents"][0]["mimeType"], "text/plain");
    let read = json_of(
        &client
            .read_resource("peer://greeting/Ferris")
            .await
            .expect("resources/read of a template"),
    );
    assert_eq!(read["contents"][0]["text"], "Greetings, Ferris.", "{ctx}");

    // Prompts: the list with its argument, one rendered.
    let prompts = json_of(&client.list_all_prompts().await.expect("prompts/list"));
    assert_eq!(prompts[0]["name"], "review", "{ctx}: {prompts}");
    assert_eq!(prompts[0]["arguments"][0]["name"], "code");
    assert_eq!(prompts[0]["arguments"][0]["required"], true);
    let prompt = json_of(
        &client
            .get_prompt("review", &[("code", "fn main() {}")])
            .await
            .expect("prompts/get"),
    );
    assert_eq!(prompt["messages"][0]["role"], "user", "{ctx}: {prompt}");
    assert_eq!(
        prompt["messages"][0]["content"]["text"], "Please review this code: fn main() {}",
        "{ctx}: {prompt}"
    );

    // An unknown tool is the peer's error or an error result, never a hang.
    match client.call_tool("no_such_tool", json!({})).await {
        Ok(r) => assert_eq!(r.is_error, Some(true), "{ctx}: {r:?}"),
        Err(e) => assert!(matches!(e, CallError::Request(_)), "{ctx}: {e:?}"),
    }
}

/// Our client against the Python SDK's server over stdio, both eras (one child each).
pub async fn python_server_over_stdio<R: Runtime, P: Processes>(rt: R, procs: P) {
    let Some(python) = python() else { return };
    for era in ERAS {
        let ctx = format!("python peer over stdio, {era:?}");
        let host = Arc::new(Host::default());
        let mut command = Command::new(&python);
        command.arg(script()).arg("stdio");
        let child = within(
            &rt,
            GUARD,
            &format!("{ctx}: connect"),
            procs.connect_child(command, config(era), host.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("{ctx}: connect failed: {e}"));
        within(&rt, GUARD, &ctx, tour(P::client(&child), &host, era, &ctx)).await;
        let status = within(
            &rt,
            GUARD,
            &format!("{ctx}: shutdown"),
            P::shutdown(child, Duration::from_secs(10)),
        )
        .await
        .unwrap_or_else(|e| panic!("{ctx}: shutdown: {e}"));
        assert!(status.success(), "{ctx}: the peer exited with {status}");
    }
}

/// The Python server on streamable HTTP: one process, ended when dropped (its stdin
/// closes, and it is killed in case it did not listen).
struct PythonHttp {
    child: Child,
    url: Option<String>,
    stderr: Arc<Mutex<String>>,
}

impl PythonHttp {
    /// Starts the peer; its stderr is read on a thread, which sets `listening` once the
    /// peer said where it serves.
    fn start(python: &Path, listening: Signal) -> (PythonHttp, Arc<Mutex<Option<String>>>) {
        let mut child = Command::new(python)
            .arg(script())
            .arg("http")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", python.display()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let url = Arc::new(Mutex::new(None));
        let lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let (log, found) = (stderr.clone(), url.clone());
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some((_, u)) = line.split_once("python peer serving at ") {
                    *found.lock().unwrap_or_else(|p| p.into_inner()) = Some(u.trim().to_owned());
                    listening.set();
                }
                let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
            // Ended without serving: wake the waiter, which then finds no URL.
            listening.set();
        });
        (
            PythonHttp {
                child,
                url: None,
                stderr,
            },
            url,
        )
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for PythonHttp {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our client against the Python SDK's server over streamable HTTP, both eras against one
/// server process.
pub async fn python_server_over_http<R: Runtime, N: crate::http::Net<R>>(rt: R, net: N) {
    let Some(python) = python() else { return };
    let listening = Signal::default();
    let (mut peer, url) = PythonHttp::start(&python, listening.clone());
    within(
        &rt,
        GUARD,
        "the python peer says where it serves",
        listening.wait(),
    )
    .await;
    peer.url = url.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let Some(url) = peer.url.clone() else {
        panic!("the python peer ended before serving:\n{}", peer.stderr());
    };
    for era in ERAS {
        let ctx = format!("python peer at {url}, {era:?}");
        let host = Arc::new(Host::default());
        let connect = connect_http(
            rt.clone(),
            net.connector(),
            &url,
            config(era),
            host.clone(),
            HttpClientOptions::default(),
        );
        let client = within(&rt, GUARD, &format!("{ctx}: connect"), connect)
            .await
            .unwrap_or_else(|e| panic!("{ctx}: connect failed: {e}\n{}", peer.stderr()));
        within(&rt, GUARD, &ctx, tour(&client, &host, era, &ctx)).await;
        client.close();
        within(&rt, GUARD, &format!("{ctx}: close"), client.closed()).await;
    }
}
