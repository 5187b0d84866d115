//! The quickstart's client side: a host that answers the server's asks, and a tour of the
//! `everything` server's features over any connected [`Client`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use futures_lite::future;
use mcp_driver::mcp_proto::jsonrpc::{ErrorObject, RequestId};
use mcp_driver::mcp_proto::schema::completion::{CompleteRequestParams, CompletionReference};
use mcp_driver::mcp_proto::schema::content::{ContentBlock, ResourceContents};
use mcp_driver::mcp_proto::schema::elicitation::{
    ElicitRequestParams, ElicitResult, ElicitValue, PrimitiveSchemaDefinition,
};
use mcp_driver::mcp_proto::schema::lifecycle::{
    ClientCapabilities, ElicitationCapability, RootsCapability, SamplingCapability,
};
use mcp_driver::mcp_proto::schema::logging::SetLevelRequestParams;
use mcp_driver::mcp_proto::schema::messages::{ClientRequest, ServerNotification, ServerResult};
use mcp_driver::mcp_proto::schema::prompts::GetPromptResult;
use mcp_driver::mcp_proto::schema::resources::{
    ReadResourceResult, SubscribeRequestParams, UnsubscribeRequestParams,
};
use mcp_driver::mcp_proto::schema::roots::{ListRootsResult, Root};
use mcp_driver::mcp_proto::schema::sampling::{
    CreateMessageRequestParams, CreateMessageResult, StopReason,
};
use mcp_driver::mcp_proto::schema::subscriptions::{
    SubscriptionFilter, SubscriptionsListenRequestParams,
};
use mcp_driver::mcp_proto::schema::tools::{CallToolRequestParams, CallToolResult};
use mcp_driver::mcp_proto::schema::{meta_keys, Era, Implementation, LoggingLevel, Meta};
use mcp_driver::mcp_proto::session::{ClientConfig, EraPreference, RequestOptions};
use mcp_driver::{BoxFuture, Client, ClientHandler};
use serde_json::{json, Value};

use crate::cli::QuickstartOptions;
use crate::server::{BYTES, COUNTER_URI, README_URI};

/// Why the tour stopped.
pub type TourError = Box<dyn std::error::Error + Send + Sync>;

/// The model the host pretends to run.
const MODEL: &str = "quickstart-canned-model";

/// Plays the host application: a canned model for sampling, a user who fills in every form,
/// one root. Prints the server's log messages, and passes resource updates to the tour.
#[derive(Debug)]
pub struct Host {
    updates_tx: async_channel::Sender<String>,
    updates: async_channel::Receiver<String>,
}

impl Default for Host {
    fn default() -> Self {
        let (updates_tx, updates) = async_channel::unbounded();
        Host {
            updates_tx,
            updates,
        }
    }
}

impl Host {
    /// The URI of the next `notifications/resources/updated`.
    async fn next_update(&self) -> Result<String, TourError> {
        Ok(self.updates.recv().await?)
    }
}

impl ClientHandler for Host {
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>> {
        let asked: Vec<String> = params
            .messages
            .iter()
            .flat_map(|m| m.content.blocks())
            .filter_map(ContentBlock::as_text)
            .map(str::to_owned)
            .collect();
        let asked = asked.join(" ");
        println!("  [host] the server asks our model: {asked:?}");
        let reply = format!("(a canned answer to {asked:?})");
        Box::pin(async move {
            Ok(CreateMessageResult::new(
                MODEL,
                ContentBlock::text(reply),
                Some(StopReason::EndTurn),
            ))
        })
    }

    fn elicit(
        &self,
        params: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        println!("  [host] the server asks the user: {:?}", params.message());
        let answer = match params {
            ElicitRequestParams::Form(form) => {
                let filled = form
                    .requested_schema
                    .properties
                    .iter()
                    .filter_map(|(name, schema)| Some((name.clone(), fill(name, schema)?)))
                    .collect();
                ElicitResult::accept(filled)
            }
            // The quickstart does not open browsers.
            ElicitRequestParams::Url(_) => ElicitResult::decline(),
        };
        Box::pin(async move { Ok(answer) })
    }

    fn list_roots(&self) -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> {
        println!("  [host] the server asks for our roots");
        Box::pin(async {
            Ok(ListRootsResult::new(vec![Root::new(
                "file:///tmp/quickstart-project",
                "quickstart-project",
            )]))
        })
    }

    fn on_notification(&self, notification: ServerNotification, _subscription: Option<RequestId>) {
        match notification {
            ServerNotification::LoggingMessage(m) => {
                let logger = m.logger.as_deref().unwrap_or("-");
                println!("  [server log] {:?} {logger}: {}", m.level, m.data);
            }
            ServerNotification::ResourceUpdated(u) => {
                let _ = self.updates_tx.try_send(u.uri);
            }
            _ => {}
        }
    }
}

/// What a user would type into a form field.
fn fill(name: &str, schema: &PrimitiveSchemaDefinition) -> Option<ElicitValue> {
    use PrimitiveSchemaDefinition as P;
    Some(match schema {
        P::String(s) => s
            .default
            .clone()
            .unwrap_or_else(|| match name {
                "name" => "Ada Lovelace".into(),
                _ => "quickstart".into(),
            })
            .into(),
        P::Boolean(b) => b.default.unwrap_or(true).into(),
        P::Number(_) => 42i64.into(),
        P::UntitledSingleSelectEnum(e) => e.enum_.first()?.clone().into(),
        _ => return None,
    })
}

/// The quickstart's client configuration: it offers sampling, form elicitation and roots,
/// and detects the era unless `options.legacy`.
pub fn client_config(options: &QuickstartOptions) -> ClientConfig {
    let mut config = ClientConfig::new(Implementation::new(
        "mcp-rs-quickstart",
        env!("CARGO_PKG_VERSION"),
    ));
    config.era = match options.legacy {
        true => EraPreference::Legacy,
        false => EraPreference::Auto,
    };
    config.capabilities = ClientCapabilities {
        sampling: Some(SamplingCapability::default()),
        elicitation: Some(ElicitationCapability {
            form: Some(Default::default()),
            ..Default::default()
        }),
        roots: Some(RootsCapability::default()),
        ..Default::default()
    };
    config
}

/// Finds the example binary `name` of package `package` next to the running example
/// (`target/<profile>/examples/`).
///
/// `cargo run --example quickstart` builds only the quickstart, so on a fresh checkout the
/// server is not there yet. Then this builds it with the same cargo that runs us (`$CARGO`,
/// which `cargo run` sets; else the cargo that compiled this crate), in the same profile,
/// and looks again. Once built, starting the quickstart again needs no cargo at all.
pub fn example_binary(package: &str, name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("where am I? {e}"))?;
    let dir = exe
        .parent()
        .ok_or_else(|| format!("{} has no directory", exe.display()))?;
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        return Ok(path);
    }
    eprintln!("the `{name}` example is not built yet: building it (once) with cargo");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("Cargo.toml");
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet", "--package", package, "--example", name])
        .arg("--manifest-path")
        .arg(manifest);
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    let status = build
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the `{name}` example failed ({status})"));
    }
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is still missing; build it with `cargo build -p {package} --example {name}`",
            path.display()
        ))
    }
}

/// Walks through every feature of the `everything` server over `client`, printing what it
/// sees. `host` must be the client's [`ClientHandler`]. Fails on the first call that fails
/// or answers something unexpected.
pub async fn tour(client: &Client, host: &Host) -> Result<(), TourError> {
    introduce(client);
    tools(client).await?;
    task(client).await?;
    asks(client).await?;
    logging(client).await?;
    resources(client).await?;
    follow_counter(client, host).await?;
    prompts(client).await?;
    completions(client).await?;
    Ok(())
}

fn heading(title: &str) {
    println!("\n== {title}");
}

/// Prints a result under the call that produced it.
fn answer(text: &str) {
    println!("  -> {}", text.replace('\n', "\n     "));
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), TourError> {
    if ok {
        Ok(())
    } else {
        Err(what().into())
    }
}

fn text_of(content: &[ContentBlock]) -> String {
    let texts: Vec<&str> = content.iter().filter_map(ContentBlock::as_text).collect();
    texts.join("\n")
}

/// The text of a successful tool result.
fn tool_text(name: &str, result: &CallToolResult) -> Result<String, TourError> {
    let text = text_of(&result.content);
    ensure(result.is_error != Some(true), || {
        format!("tool `{name}` failed: {text}")
    })?;
    Ok(text)
}

fn introduce(client: &Client) {
    let server = client.server();
    let (name, version) = server
        .server_info
        .as_ref()
        .map_or(("(anonymous)", ""), |i| {
            (i.name.as_str(), i.version.as_str())
        });
    println!("Connected to {name} {version}");
    let era = match server.era {
        Era::Modern => "stateless era, found with server/discover",
        Era::Legacy => "legacy era, initialize handshake",
    };
    println!("  protocol version {} ({era})", server.version);
    if let Some(instructions) = &server.instructions {
        println!("  instructions: {instructions}");
    }
}

async fn tools(client: &Client) -> Result<(), TourError> {
    heading("Tools");
    for tool in client.list_all_tools().await? {
        let description = tool.description.unwrap_or_default();
        println!("  {:<13} {description}", tool.name);
    }

    let message = "hello from the quickstart";
    let r = client
        .call_tool("echo", json!({ "message": message }))
        .await?;
    let echoed = tool_text("echo", &r)?;
    println!("echo({message:?}) -> {echoed:?}");
    ensure(echoed == message, || format!("echo sent back {echoed:?}"))?;

    let r = client.call_tool("add", json!({"a": 2, "b": 40})).await?;
    tool_text("add", &r)?;
    let structured = r.structured_content.unwrap_or(Value::Null);
    println!("add(2, 40) -> structured content {structured}");
    ensure(structured == json!({"sum": 42}), || {
        format!("add answered {structured}")
    })?;

    println!("long_running(steps: 5, step_ms: 100):");
    let r = client
        .call_tool_with(
            "long_running",
            json!({"steps": 5, "step_ms": 100}),
            Some(Box::new(|p| {
                let total = p.total.map_or(String::new(), |t| format!(" of {t}"));
                let message = p.message.unwrap_or_default();
                println!("  progress {}{total}: {message}", p.progress);
            })),
        )
        .await?;
    answer(&tool_text("long_running", &r)?);

    let r = client.call_tool("fail", json!({})).await?;
    let text = text_of(&r.content);
    println!("fail -> isError: {:?}, {text:?}", r.is_error);
    ensure(r.is_error == Some(true), || {
        "the fail tool did not fail".into()
    })?;
    Ok(())
}

/// One call as a task, from creation to result: the server answers at once with a task,
/// which the client polls (at the server's suggested interval) until it has the result.
async fn task(client: &Client) -> Result<(), TourError> {
    heading("Tasks");
    println!("crunch(numbers: 5, step_ms: 100), as a task:");
    let task = client
        .call_tool_as_task("crunch", json!({"numbers": 5, "step_ms": 100}))
        .await?;
    let id = task
        .task_id()
        .ok_or("the server ran crunch without a task")?
        .to_owned();
    println!("  created task {id}");
    let info = task.status().await?;
    let every = info.poll_interval.map_or(String::new(), |d| {
        format!(", poll every {} ms", d.as_millis())
    });
    println!("  tasks/get -> {}{every}", info.status);
    let r = task.wait().await?;
    let text = tool_text("crunch", &r)?;
    answer(&text);
    ensure(text == "the sum of 1..=5 is 15", || {
        format!("crunch answered {text:?}")
    })?;
    let done = task.status().await?;
    println!("  tasks/get -> {} (kept for {:?})", done.status, done.ttl);
    Ok(())
}

async fn asks(client: &Client) -> Result<(), TourError> {
    heading("The server asks the client");
    let asks = [
        ("sample", json!({"prompt": "What is MCP, in five words?"})),
        ("elicit", json!({})),
        ("roots", json!({})),
    ];
    for (tool, arguments) in asks {
        println!("{tool}:");
        let r = client.call_tool(tool, arguments).await?;
        answer(&tool_text(tool, &r)?);
    }
    Ok(())
}

async fn logging(client: &Client) -> Result<(), TourError> {
    heading("Logging");
    let mut params = CallToolRequestParams::new("log", None);
    match client.server().era {
        // One level for the whole session.
        Era::Legacy => {
            let level = SetLevelRequestParams {
                meta: None,
                level: LoggingLevel::Info,
                extra: Default::default(),
            };
            client.request(ClientRequest::SetLevel(level)).await?;
            println!("logging/setLevel info, then log:");
        }
        // A level per request, in its `_meta`.
        Era::Modern => {
            let mut meta = Meta::new();
            meta.insert(meta_keys::LOG_LEVEL, json!("info"));
            params.meta = Some(meta);
            println!("log, with _meta logLevel info:");
        }
    }
    let r = match client.request(ClientRequest::CallTool(params)).await? {
        ServerResult::CallTool(r) => r,
        other => return Err(format!("log answered {other:?}").into()),
    };
    answer(&tool_text("log", &r)?);
    Ok(())
}

/// The one text of a read, or an error naming the URI.
fn read_text(uri: &str, read: &ReadResourceResult) -> Result<String, TourError> {
    match &read.contents[..] {
        [ResourceContents::Text(t)] => Ok(t.text.clone()),
        other => Err(format!("{uri} read as {other:?}").into()),
    }
}

async fn resources(client: &Client) -> Result<(), TourError> {
    heading("Resources");
    for r in client.list_all_resources().await? {
        let mime = r.mime_type.unwrap_or_default();
        println!("  {:<28} {mime:<26} {}", r.uri, r.name);
    }
    for t in client.list_all_resource_templates().await? {
        println!("  {:<28} (template)", t.uri_template);
    }

    let readme = read_text(README_URI, &client.read_resource(README_URI).await?)?;
    println!("{README_URI}:\n  {readme}");

    let uri = crate::server::BYTES_URI;
    let read = client.read_resource(uri).await?;
    let bytes = match &read.contents[..] {
        [ResourceContents::Blob(b)] => BASE64.decode(&b.blob)?,
        other => return Err(format!("{uri} read as {other:?}").into()),
    };
    let hex = bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x} ");
        s
    });
    println!("{uri}: {} bytes: {}", bytes.len(), hex.trim_end());
    ensure(bytes == BYTES, || format!("{uri} has other bytes"))?;

    let uri = "everything://greeting/Ada";
    let greeting = read_text(uri, &client.read_resource(uri).await?)?;
    println!("{uri} (from the template): {greeting:?}");
    ensure(greeting == "Hello, Ada!", || {
        format!("{uri} read {greeting:?}")
    })?;
    Ok(())
}

/// Subscribes to the counter, waits for it to move, and reads it again.
async fn follow_counter(client: &Client, host: &Host) -> Result<(), TourError> {
    heading("Subscriptions");
    let before = read_text(COUNTER_URI, &client.read_resource(COUNTER_URI).await?)?;
    println!("{COUNTER_URI} is {before}; waiting for it to change...");
    let updated = match client.server().era {
        Era::Legacy => {
            let subscribe = SubscribeRequestParams {
                meta: None,
                uri: COUNTER_URI.into(),
                extra: Default::default(),
            };
            client.request(ClientRequest::Subscribe(subscribe)).await?;
            let updated = host.next_update().await?;
            let unsubscribe = UnsubscribeRequestParams {
                meta: None,
                uri: COUNTER_URI.into(),
                extra: Default::default(),
            };
            client
                .request(ClientRequest::Unsubscribe(unsubscribe))
                .await?;
            updated
        }
        Era::Modern => {
            // A listen stream stays open until the client stops listening: dropping the
            // request (when the update came) closes it.
            let filter = SubscriptionFilter {
                resource_subscriptions: Some(vec![COUNTER_URI.into()]),
                ..Default::default()
            };
            let options = RequestOptions::default().with_timeout(Some(None));
            let listen = client.request_with(
                ClientRequest::Listen(SubscriptionsListenRequestParams::new(filter)),
                options,
                None,
            );
            let ended = async {
                let end = listen.await;
                Err(format!("the listen stream ended: {end:?}").into())
            };
            future::or(ended, host.next_update()).await?
        }
    };
    let after = read_text(COUNTER_URI, &client.read_resource(COUNTER_URI).await?)?;
    println!("notifications/resources/updated for {updated}; it is now {after}");
    ensure(updated == COUNTER_URI, || format!("update for {updated}"))?;
    Ok(())
}

fn print_prompt(result: &GetPromptResult) {
    for m in &result.messages {
        let content = match &m.content {
            ContentBlock::Resource(e) => match &e.resource {
                ResourceContents::Text(t) => format!("[embedded {}] {}", t.uri, t.text),
                ResourceContents::Blob(b) => format!("[embedded {}] (binary)", b.uri),
            },
            other => other.as_text().unwrap_or("(not text)").to_owned(),
        };
        println!("  {:?}: {content}", m.role);
    }
}

async fn prompts(client: &Client) -> Result<(), TourError> {
    heading("Prompts");
    for p in client.list_all_prompts().await? {
        let arguments: Vec<String> = p
            .arguments
            .unwrap_or_default()
            .into_iter()
            .map(|a| match a.required {
                Some(true) => a.name,
                _ => format!("{}?", a.name),
            })
            .collect();
        println!(
            "  {}({}) {}",
            p.name,
            arguments.join(", "),
            p.description.unwrap_or_default()
        );
    }
    let calls: [(&str, &[(&str, &str)]); 3] = [
        ("simple", &[]),
        ("greeting", &[("name", "Ada"), ("style", "pirate")]),
        ("with_resource", &[]),
    ];
    for (name, arguments) in calls {
        println!("{name}{arguments:?}:");
        let result = client.get_prompt(name, arguments).await?;
        ensure(!result.messages.is_empty(), || format!("{name} is empty"))?;
        print_prompt(&result);
    }
    Ok(())
}

async fn completions(client: &Client) -> Result<(), TourError> {
    heading("Completions");
    let asks = [
        (CompletionReference::prompt("greeting"), "style", "f"),
        (
            CompletionReference::resource(crate::server::GREETING_TEMPLATE),
            "name",
            "a",
        ),
    ];
    for (reference, argument, typed) in asks {
        let label = serde_json::to_string(&reference)?;
        let r = client
            .complete(CompleteRequestParams::new(reference, argument, typed))
            .await?;
        println!(
            "{label} {argument} = {typed:?}... -> {:?}",
            r.completion.values
        );
        ensure(!r.completion.values.is_empty(), || {
            format!("no completions for {argument}")
        })?;
    }
    Ok(())
}
