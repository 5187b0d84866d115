//! An MCP client and server talking over stdio, with no async runtime.
//!
//! ```text
//! cargo run -p mcp-proto --example stdio_demo              # lands on 2026-07-28
//! cargo run -p mcp-proto --example stdio_demo -- --legacy  # initialize-based session
//! ```
//!
//! The program starts a copy of itself with the argument `serve` as a child process. The child
//! is the server: it reads JSON-RPC lines on stdin, answers on stdout and logs on stderr. The
//! parent is the client: it connects, lists and calls tools, reads a resource, gets a prompt,
//! prints what happened and exits 0 (1 on any failure).
//!
//! Both sides run the same loop around a Sans-IO session, which never does IO or reads a
//! clock itself:
//!
//! 1. feed input with `handle_bytes(now, &mut buf)` (or `handle_timeout(now)` when the
//!    deadline from `poll_timeout` passes);
//! 2. write every frame from `poll_transmit`;
//! 3. act on every event from `poll_event` (answering may queue more frames: go to 2);
//! 4. wait for more input, but no longer than `poll_timeout`.
//!
//! Blocking reads cannot time out, so a thread reads the pipe into a channel and the loop
//! waits on the channel with `recv_timeout`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use mcp_proto::entropy::Entropy;
use mcp_proto::jsonrpc::{ErrorObject, RequestId};
use mcp_proto::schema::content::{ContentBlock, Resource, ResourceContents, TextResourceContents};
use mcp_proto::schema::lifecycle::{
    PromptsCapability, ResourcesCapability, ServerCapabilities, ToolsCapability,
};
use mcp_proto::schema::messages::{ClientRequest, ServerResult};
use mcp_proto::schema::prompts::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage,
};
use mcp_proto::schema::resources::{
    ListResourcesResult, ReadResourceRequestParams, ReadResourceResult,
};
use mcp_proto::schema::tools::{CallToolRequestParams, CallToolResult, ListToolsResult, Tool};
use mcp_proto::schema::{Implementation, PaginatedRequestParams};
use mcp_proto::session::{
    ClientConfig, ClientEvent, ClientSession, EraPreference, RequestOptions, ServerConfig,
    ServerDescription, ServerEvent, ServerSession,
};
use serde_json::{json, Map, Value};

/// How long the client waits for any one step before giving up on the server.
const STEP_TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return match serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("[server] error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let legacy = args.iter().any(|a| a == "--legacy");
    match run_client(legacy) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

// ----- shared plumbing ---------------------------------------------------------------------

/// Reads `input` on a thread; each read arrives as `Some(bytes)`, end of stream as `None`.
fn spawn_reader(mut input: impl Read + Send + 'static) -> Receiver<Option<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match input.read(&mut chunk) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(n) => {
                    if tx.send(Some(chunk[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// What one wait produced.
enum Input {
    Bytes(Vec<u8>),
    Eof,
    /// The session's deadline passed (or the caller's, whichever is first).
    Timeout,
}

/// Waits for input until `deadline` (forever if `None`).
fn wait(rx: &Receiver<Option<Vec<u8>>>, deadline: Option<Instant>) -> Input {
    let got = match deadline {
        Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
    };
    match got {
        Ok(Some(bytes)) => Input::Bytes(bytes),
        Ok(None) | Err(RecvTimeoutError::Disconnected) => Input::Eof,
        Err(RecvTimeoutError::Timeout) => Input::Timeout,
    }
}

/// Randomness for task ids, from the per-process random keys of std's `RandomState`.
/// Good enough for a demo; use an OS generator (e.g. the `getrandom` crate) in production.
struct DemoEntropy(RandomState, u64);

impl Entropy for DemoEntropy {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            self.1 += 1;
            let mut h = self.0.build_hasher();
            h.write_u64(self.1);
            let bytes = h.finish().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

// ----- the server (child process) ----------------------------------------------------------

fn serve() -> io::Result<()> {
    let caps = ServerCapabilities {
        tools: Some(ToolsCapability::default()),
        resources: Some(ResourcesCapability::default()),
        prompts: Some(PromptsCapability::default()),
        ..Default::default()
    };
    let info = Implementation::new("stdio-demo-server", env!("CARGO_PKG_VERSION"));
    let mut config = ServerConfig::new(info, caps);
    config.instructions = Some("A demo server: echo, add, one resource, one prompt.".into());

    let entropy = DemoEntropy(RandomState::new(), 0);
    let mut session =
        ServerSession::new(config, Instant::now(), SystemTime::now(), Box::new(entropy));
    let stdin = spawn_reader(io::stdin());
    let mut stdout = io::stdout().lock();
    let mut inbound = BytesMut::new();
    eprintln!("[server] ready on stdio");

    loop {
        // Write what is queued, act on events, and repeat until both are drained.
        loop {
            while let Some(t) = session.poll_transmit() {
                stdout.write_all(&t.frame)?;
            }
            let Some(event) = session.poll_event() else {
                break;
            };
            on_server_event(&mut session, event);
        }
        stdout.flush()?;

        match wait(&stdin, session.poll_timeout()) {
            Input::Bytes(bytes) => {
                inbound.extend_from_slice(&bytes);
                session.handle_bytes(Instant::now(), &mut inbound);
            }
            Input::Timeout => session.handle_timeout(Instant::now()),
            Input::Eof => {
                session.handle_eof(Instant::now(), &mut inbound);
                session.close();
                while let Some(t) = session.poll_transmit() {
                    stdout.write_all(&t.frame)?;
                }
                stdout.flush()?;
                eprintln!("[server] stdin closed, exiting");
                return Ok(());
            }
        }
    }
}

fn on_server_event(session: &mut ServerSession, event: ServerEvent) {
    match event {
        ServerEvent::Initialized {
            version,
            client_info,
            ..
        } => eprintln!(
            "[server] legacy session {version} with {} {}",
            client_info.name, client_info.version
        ),
        ServerEvent::Request {
            id,
            request,
            context,
        } => {
            eprintln!(
                "[server] {} (id {id}, protocol {})",
                request.method(),
                context.version
            );
            let answer = match handle_request(request) {
                Ok(result) => session.respond(&id, result),
                Err(error) => session.respond_error(&id, error),
            };
            if let Err(e) = answer {
                eprintln!("[server] could not answer {id}: {e}");
            }
        }
        ServerEvent::Cancelled { id, .. } => eprintln!("[server] client cancelled {id}"),
        ServerEvent::PeerFault(f) => eprintln!("[server] peer fault: {}", f.message),
        other => eprintln!("[server] {other:?}"),
    }
}

/// The application: what each request means.
fn handle_request(request: ClientRequest) -> Result<ServerResult, ErrorObject> {
    Ok(match request {
        ClientRequest::ListTools(_) => ListToolsResult {
            tools: vec![
                Tool::new(
                    "echo",
                    "Echo the given text back",
                    json!({"type": "object", "properties": {"text": {"type": "string"}},
                           "required": ["text"]}),
                ),
                Tool::new(
                    "add",
                    "Add two integers",
                    json!({"type": "object",
                           "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                           "required": ["a", "b"]}),
                ),
            ],
            ..Default::default()
        }
        .into(),
        ClientRequest::CallTool(call) => {
            let args = call.arguments.unwrap_or_default();
            match call.name.as_str() {
                "echo" => match args.get("text").and_then(Value::as_str) {
                    Some(text) => CallToolResult::text(text),
                    None => CallToolResult::error_text("echo needs a string `text`"),
                },
                "add" => match (
                    args.get("a").and_then(Value::as_i64),
                    args.get("b").and_then(Value::as_i64),
                ) {
                    (Some(a), Some(b)) => match a.checked_add(b) {
                        Some(sum) => CallToolResult::structured(json!(sum)),
                        None => CallToolResult::error_text("the sum overflows"),
                    },
                    _ => CallToolResult::error_text("add needs integers `a` and `b`"),
                },
                other => return Err(ErrorObject::invalid_params(format!("unknown tool {other}"))),
            }
            .into()
        }
        ClientRequest::ListResources(_) => ListResourcesResult {
            resources: vec![Resource {
                uri: "demo://greeting".into(),
                name: "greeting".into(),
                mime_type: Some("text/plain".into()),
                ..Default::default()
            }],
            ..Default::default()
        }
        .into(),
        ClientRequest::ReadResource(read) if read.uri == "demo://greeting" => {
            ReadResourceResult::new(vec![ResourceContents::Text(TextResourceContents {
                uri: read.uri,
                mime_type: Some("text/plain".into()),
                text: "Hello from a resource.".into(),
                ..Default::default()
            })])
            .into()
        }
        ClientRequest::ReadResource(read) => {
            return Err(ErrorObject::new(
                mcp_proto::jsonrpc::code::RESOURCE_NOT_FOUND,
                format!("no resource {}", read.uri),
            ))
        }
        ClientRequest::ListPrompts(_) => ListPromptsResult {
            prompts: vec![Prompt {
                arguments: Some(vec![PromptArgument {
                    name: "name".into(),
                    required: Some(true),
                    ..Default::default()
                }]),
                ..Prompt::new("greet", "Greet someone by name")
            }],
            ..Default::default()
        }
        .into(),
        ClientRequest::GetPrompt(get) if get.name == "greet" => {
            let name = get
                .arguments
                .as_ref()
                .and_then(|a| a.get("name"))
                .map_or("stranger", String::as_str);
            GetPromptResult::new(vec![PromptMessage::user_text(format!(
                "Please greet {name} warmly."
            ))])
            .into()
        }
        other => return Err(ErrorObject::method_not_found(other.method())),
    })
}

// ----- the client (parent process) ---------------------------------------------------------

/// The client side: a session, the child's pipes, and a blocking `request` helper.
struct Client {
    session: ClientSession,
    child: Child,
    /// `None` once we closed it (the server's signal to exit).
    to_server: Option<ChildStdin>,
    from_server: Receiver<Option<Vec<u8>>>,
    inbound: BytesMut,
    server: Option<ServerDescription>,
}

impl Drop for Client {
    /// Never leave the child running, whatever happened.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Client {
    fn spawn(legacy: bool) -> Result<Client, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut child = Command::new(exe)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("spawning the server: {e}"))?;
        let to_server = child.stdin.take().ok_or("no child stdin")?;
        let from_server = spawn_reader(child.stdout.take().ok_or("no child stdout")?);

        let info = Implementation::new("stdio-demo-client", env!("CARGO_PKG_VERSION"));
        let mut config = ClientConfig::new(info);
        if legacy {
            config.era = EraPreference::Legacy;
        }
        Ok(Client {
            session: ClientSession::new(config, Instant::now()),
            child,
            to_server: Some(to_server),
            from_server,
            inbound: BytesMut::new(),
            server: None,
        })
    }

    /// Runs the loop until `done` picks an event out, or the step times out.
    fn run_until<T>(
        &mut self,
        mut done: impl FnMut(&mut Self, ClientEvent) -> Option<Result<T, String>>,
    ) -> Result<T, String> {
        let give_up = Instant::now() + STEP_TIMEOUT;
        loop {
            let pipe = self.to_server.as_mut().ok_or("stdin already closed")?;
            while let Some(t) = self.session.poll_transmit() {
                pipe.write_all(&t.frame)
                    .map_err(|e| format!("writing to the server: {e}"))?;
            }
            pipe.flush().map_err(|e| e.to_string())?;
            while let Some(event) = self.session.poll_event() {
                if let Some(outcome) = done(self, event) {
                    return outcome;
                }
            }
            if Instant::now() >= give_up {
                return Err("the server did not answer in time".into());
            }
            let deadline = self
                .session
                .poll_timeout()
                .map_or(give_up, |t| t.min(give_up));
            match wait(&self.from_server, Some(deadline)) {
                Input::Bytes(bytes) => {
                    self.inbound.extend_from_slice(&bytes);
                    self.session.handle_bytes(Instant::now(), &mut self.inbound);
                }
                Input::Timeout => self.session.handle_timeout(Instant::now()),
                Input::Eof => return Err("the server closed its stdout".into()),
            }
        }
    }

    fn connect(&mut self) -> Result<ServerDescription, String> {
        self.session
            .connect(Instant::now())
            .map_err(|e| e.to_string())?;
        let desc = self.run_until(|_, event| match event {
            ClientEvent::Ready(desc) => Some(Ok(desc)),
            ClientEvent::ConnectFailed(e) => Some(Err(format!("connect failed: {e}"))),
            _ => None,
        })?;
        self.server = Some(desc.clone());
        Ok(desc)
    }

    /// Sends one request and waits for its answer.
    fn request(&mut self, request: ClientRequest) -> Result<ServerResult, String> {
        let method = request.method().to_owned();
        let id: RequestId = self
            .session
            .send_request(Instant::now(), request, RequestOptions::default())
            .map_err(|e| format!("{method}: {e}"))?;
        self.run_until(|_, event| match event {
            ClientEvent::Response { id: got, result } if got == id => {
                Some(result.map_err(|e| format!("{method}: {e}")))
            }
            ClientEvent::PeerFault(f) => {
                eprintln!("[client] peer fault: {}", f.message);
                None
            }
            _ => None,
        })
    }

    /// Closes our end of stdin and waits for the server to exit on its own.
    fn shut_down(mut self) -> Result<(), String> {
        self.session.close();
        drop(self.to_server.take()); // EOF on the server's stdin
        let give_up = Instant::now() + STEP_TIMEOUT;
        while Instant::now() < give_up {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("the server exited with {status}")),
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("the server did not exit after EOF".into())
    }
}

fn call_tool(name: &str, args: Value) -> ClientRequest {
    let args: Map<String, Value> = match args {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    ClientRequest::CallTool(CallToolRequestParams::new(name, Some(args)))
}

fn tool_text(result: &ServerResult) -> Result<String, String> {
    match result {
        ServerResult::CallTool(r) if r.is_error == Some(true) => Err(format!(
            "tool error: {}",
            r.content
                .first()
                .and_then(ContentBlock::as_text)
                .unwrap_or("?")
        )),
        ServerResult::CallTool(r) => Ok(r
            .content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect::<Vec<_>>()
            .join(" ")),
        other => Err(format!("unexpected result {other:?}")),
    }
}

fn run_client(legacy: bool) -> Result<(), String> {
    let mut client = Client::spawn(legacy)?;
    println!(
        "mcp-proto stdio demo: client pid {}, server pid {}",
        std::process::id(),
        client.child.id()
    );

    let desc = client.connect()?;
    let who = desc
        .server_info
        .as_ref()
        .map_or("an unnamed server".to_owned(), |i| {
            format!("{} {}", i.name, i.version)
        });
    println!(
        "connected: protocol {} ({:?} era) to {who}",
        desc.version, desc.era
    );
    if let Some(text) = &desc.instructions {
        println!("  instructions: {text}");
    }

    let tools = match client.request(ClientRequest::ListTools(PaginatedRequestParams::default()))? {
        ServerResult::ListTools(r) => r.tools,
        other => return Err(format!("tools/list returned {other:?}")),
    };
    println!("tools/list: {} tools", tools.len());
    for t in &tools {
        println!("  - {}: {}", t.name, t.description.as_deref().unwrap_or(""));
    }

    let echoed =
        tool_text(&client.request(call_tool("echo", json!({"text": "hello over stdio"})))?)?;
    println!("tools/call echo {{text: \"hello over stdio\"}} -> {echoed:?}");
    if echoed != "hello over stdio" {
        return Err(format!("echo returned {echoed:?}"));
    }

    let sum = tool_text(&client.request(call_tool("add", json!({"a": 2, "b": 40})))?)?;
    println!("tools/call add {{a: 2, b: 40}} -> {sum}");
    if sum != "42" {
        return Err(format!("add returned {sum:?}"));
    }

    let read = ClientRequest::ReadResource(ReadResourceRequestParams::new("demo://greeting"));
    match client.request(read)? {
        ServerResult::ReadResource(r) => {
            for c in &r.contents {
                match c {
                    ResourceContents::Text(t) => {
                        println!("resources/read {} -> {:?}", t.uri, t.text)
                    }
                    ResourceContents::Blob(b) => println!(
                        "resources/read {} -> {} bytes of base64",
                        b.uri,
                        b.blob.len()
                    ),
                }
            }
        }
        other => return Err(format!("resources/read returned {other:?}")),
    }

    let mut get = GetPromptRequestParams::new("greet");
    get.arguments = Some([("name".to_owned(), "Ada".to_owned())].into());
    match client.request(ClientRequest::GetPrompt(get))? {
        ServerResult::GetPrompt(r) => {
            for m in &r.messages {
                println!(
                    "prompts/get greet {{name: Ada}} -> {:?}: {:?}",
                    m.role,
                    m.content.as_text().unwrap_or("(non-text)")
                );
            }
        }
        other => return Err(format!("prompts/get returned {other:?}")),
    }

    client.shut_down()?;
    println!("done: the server exited cleanly");
    Ok(())
}
