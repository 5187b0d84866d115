//! The `everything` demo server: one of each MCP feature, built with the typed builder.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future;
use mcp_driver::mcp_proto::jsonrpc::ErrorObject;
use mcp_driver::mcp_proto::schema::content::{
    ContentBlock, EmbeddedResource, Resource, ResourceContents, TextResourceContents,
};
use mcp_driver::mcp_proto::schema::elicitation::{
    BooleanSchema, ElicitAction, ElicitRequestParams, RequestedSchema, StringSchema,
};
use mcp_driver::mcp_proto::schema::prompts::PromptMessage;
use mcp_driver::mcp_proto::schema::resources::ResourceTemplate;
use mcp_driver::mcp_proto::schema::sampling::{CreateMessageRequestParams, SamplingMessage};
use mcp_driver::mcp_proto::schema::{LoggingLevel, Role};
use mcp_driver::{
    Args, BoxFuture, Json, RequestCx, RpcError, Runtime, Server, ServerControl, Service, State,
    TaskSupport, ToolError, UriVars,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A fixed text resource.
pub const README_URI: &str = "everything://static/readme";
/// The text of [`README_URI`].
pub const README_TEXT: &str = "This server demonstrates every feature of the Model Context \
Protocol: tools, resources, resource templates, subscriptions, prompts, completions, logging, \
progress, cancellation, and requests back to the client (sampling, elicitation, roots).";
/// A fixed binary resource (`application/octet-stream`).
pub const BYTES_URI: &str = "everything://static/bytes";
/// The contents of [`BYTES_URI`] (base64 `AAECf4D+/01DUA==`).
pub const BYTES: &[u8] = &[0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff, b'M', b'C', b'P'];
/// A resource template: `everything://greeting/Ada` reads `Hello, Ada!`.
pub const GREETING_TEMPLATE: &str = "everything://greeting/{name}";
/// A resource that changes: a counter, incremented every [`COUNTER_PERIOD`]. Subscribe to it
/// to be told (`notifications/resources/updated`).
pub const COUNTER_URI: &str = "everything://counter";
/// How often the counter moves.
pub const COUNTER_PERIOD: Duration = Duration::from_secs(2);

/// Names offered when completing the greeting template's `name`.
const NAMES: [&str; 6] = ["Ada", "Alan", "Barbara", "Edsger", "Grace", "Margaret"];
/// Styles of the `greeting` prompt.
const STYLES: [&str; 3] = ["casual", "formal", "pirate"];

/// The runtime's timer, as the handlers need it.
#[derive(Clone)]
struct Timer(Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>);

impl Timer {
    fn of<R: Runtime>(rt: R) -> Self {
        Timer(Arc::new(move |d| rt.sleep_until(rt.now() + d)))
    }

    async fn sleep(&self, d: Duration) {
        (self.0)(d).await;
    }
}

/// The value behind [`COUNTER_URI`].
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    message: String,
}

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    /// `a + b`.
    sum: i64,
}

#[derive(Deserialize, JsonSchema)]
struct LongRunningArgs {
    /// How many steps to take (1 to 100; default 5).
    steps: Option<u32>,
    /// How long each step takes, in milliseconds (at most 10000; default 200).
    step_ms: Option<u64>,
}

#[derive(Deserialize, JsonSchema)]
struct CrunchArgs {
    /// How many numbers to sum, one step of work each (1 to 100; default 10).
    numbers: Option<u32>,
    /// How long each step takes, in milliseconds (at most 10000; default 300).
    step_ms: Option<u64>,
}

#[derive(Deserialize, JsonSchema)]
struct ApproveArgs {
    /// What to ask approval for.
    action: String,
}

#[derive(Deserialize, JsonSchema)]
struct SampleArgs {
    /// What to ask the client's model.
    prompt: String,
    /// The most tokens the model may produce (default 100).
    max_tokens: Option<u64>,
}

/// Arguments of the `greeting` prompt.
#[derive(Deserialize, JsonSchema)]
struct GreetingArgs {
    /// Who to greet.
    name: String,
    /// How to greet: casual, formal or pirate (default casual).
    style: Option<String>,
}

/// The `everything` server, on runtime `rt`, and a control for changing it while it runs.
///
/// Spawns (on `rt`) the task that moves the counter at [`COUNTER_URI`] every
/// [`COUNTER_PERIOD`] and tells subscribers; the task runs as long as the process does, so
/// call this from inside the runtime, once per process.
pub fn everything_service<R: Runtime>(rt: R) -> (Service, ServerControl) {
    let counter = Counter::default();
    let timer = Timer::of(rt.clone());
    let (service, control) =
        Server::builder("everything", env!("CARGO_PKG_VERSION"))
            .title("Everything (mcp-rs demo)")
            .instructions(
                "A demo server with one of every MCP feature. Try the `echo` and `add` tools, \
             read everything://static/readme, or get the `greeting` prompt.",
            )
            .state(counter.clone())
            .state(timer.clone())
            // Tools.
            .tool(
                "echo",
                "Sends the message back",
                |Args(EchoArgs { message }): Args<EchoArgs>| async move { Ok(message) },
            )
            .tool(
                "add",
                "Adds two integers; the sum comes back as structured content",
                |Args(AddArgs { a, b }): Args<AddArgs>| async move {
                    match a.checked_add(b) {
                        Some(sum) => Ok(Json(Sum { sum })),
                        None => Err(ToolError::new("the sum does not fit in 64 bits")),
                    }
                },
            )
            .tool(
                "long_running",
                "Takes a while, reporting progress at every step; stops when cancelled",
                long_running,
            )
            .tool("sample", "Asks the client's model (sampling)", sample)
            .tool(
                "elicit",
                "Asks the user to fill in a form (elicitation)",
                elicit,
            )
            .tool("roots", "Lists the client's roots", roots)
            .tool("fail", "Always fails, with an error result", || async {
                Err::<String, _>(ToolError::new("this tool always fails"))
            })
            .tool(
                "log",
                "Sends log messages at four levels (debug, info, warning, error)",
                log,
            )
            // Task tools: called as tasks, they answer at once with a task to poll.
            .task_tool(
                "crunch",
                "A slow computation (sums 1..=numbers, one step at a time) reporting progress; \
                 runs as a task when the client allows it",
                TaskSupport::Optional,
                crunch,
            )
            .task_tool(
                "failing_job",
                "A job that fails after a short while (runs only as a task; its task fails)",
                TaskSupport::Required,
                |State(timer): State<Timer>| async move {
                    timer.sleep(Duration::from_millis(200)).await;
                    Err::<String, _>(ToolError::rpc(ErrorObject::internal(
                        "the job failed: the database is on fire",
                    )))
                },
            )
            .task_tool(
                "approve",
                "Prepares an action, asks the user to approve it midway, then carries it out \
                 (runs as a task when the client allows it)",
                TaskSupport::Optional,
                approve,
            )
            // Resources.
            .text_resource(README_URI, "readme", README_TEXT)
            .blob_resource(BYTES_URI, "bytes", "application/octet-stream", BYTES)
            .resource_template_with(
                ResourceTemplate {
                    description: Some("A greeting for anyone".into()),
                    mime_type: Some("text/plain".into()),
                    ..ResourceTemplate::new(GREETING_TEMPLATE, "greeting")
                },
                |UriVars(vars): UriVars| async move {
                    let name = vars.get("name").map_or("stranger", String::as_str);
                    Ok(format!("Hello, {name}!"))
                },
            )
            .complete_resource_variable(GREETING_TEMPLATE, "name", |typed: String| async move {
                starting_with(&NAMES, &typed)
            })
            .resource_with(
                Resource {
                    uri: COUNTER_URI.into(),
                    name: "counter".into(),
                    description: Some(format!(
                        "A number that goes up every {} seconds; subscribe to follow it",
                        COUNTER_PERIOD.as_secs()
                    )),
                    mime_type: Some("text/plain".into()),
                    ..Default::default()
                },
                |State(Counter(n)): State<Counter>| async move {
                    Ok(n.load(Ordering::SeqCst).to_string())
                },
            )
            // Prompts.
            .prompt("simple", "A prompt without arguments", || async {
                Ok("Tell me something interesting about the Model Context Protocol.")
            })
            .prompt("greeting", "Greets someone, in a style", greeting)
            .prompt(
                "with_resource",
                "A prompt that embeds the readme resource",
                || async {
                    let readme = ResourceContents::Text(TextResourceContents {
                        uri: README_URI.into(),
                        mime_type: Some("text/plain".into()),
                        text: README_TEXT.into(),
                        ..Default::default()
                    });
                    let embedded = ContentBlock::Resource(EmbeddedResource {
                        resource: readme,
                        annotations: None,
                        meta: None,
                        extra: Default::default(),
                    });
                    Ok(vec![
                        PromptMessage::new(Role::User, embedded),
                        PromptMessage::user_text("Summarise the document above in one sentence."),
                    ])
                },
            )
            .complete_prompt_argument("greeting", "style", |typed: String| async move {
                starting_with(&STYLES, &typed)
            })
            .build_with_control();
    rt.spawn(Box::pin(move_counter(counter, timer, control.clone())));
    (service, control)
}

/// Moves the counter forever, telling subscribers each time.
async fn move_counter(counter: Counter, timer: Timer, control: ServerControl) {
    loop {
        timer.sleep(COUNTER_PERIOD).await;
        counter.0.fetch_add(1, Ordering::SeqCst);
        control.resource_updated(COUNTER_URI);
    }
}

/// The candidates that start with `typed`, ignoring case.
fn starting_with(candidates: &[&str], typed: &str) -> Vec<String> {
    let typed = typed.to_lowercase();
    candidates
        .iter()
        .filter(|c| c.to_lowercase().starts_with(&typed))
        .map(|c| (*c).to_owned())
        .collect()
}

async fn long_running(
    Args(args): Args<LongRunningArgs>,
    State(timer): State<Timer>,
    cx: RequestCx,
) -> Result<String, ToolError> {
    let steps = args.steps.unwrap_or(5);
    if !(1..=100).contains(&steps) {
        return Err(ToolError::new("steps must be between 1 and 100"));
    }
    let step = Duration::from_millis(args.step_ms.unwrap_or(200).min(10_000));
    for i in 1..=steps {
        // Sleep, unless the client cancels first: then stop where we are.
        let slept = future::or(
            async {
                timer.sleep(step).await;
                true
            },
            async {
                cx.cancelled().await;
                false
            },
        )
        .await;
        if !slept || cx.is_cancelled() {
            eprintln!("everything: long_running cancelled after {} steps", i - 1);
            return Err(ToolError::new("cancelled"));
        }
        cx.progress(
            f64::from(i),
            Some(f64::from(steps)),
            Some(format!("step {i} of {steps}")),
        )?;
    }
    Ok(format!("done: {steps} steps of {} ms", step.as_millis()))
}

/// Sums `1..=numbers`, a step of work per number, reporting progress (which a legacy task
/// keeps sending on the call's token). Cancelling the task drops it between steps.
async fn crunch(
    Args(args): Args<CrunchArgs>,
    State(timer): State<Timer>,
    cx: RequestCx,
) -> Result<String, ToolError> {
    let numbers = args.numbers.unwrap_or(10);
    if !(1..=100).contains(&numbers) {
        return Err(ToolError::new("numbers must be between 1 and 100"));
    }
    let step = Duration::from_millis(args.step_ms.unwrap_or(300).min(10_000));
    let mut sum = 0u64;
    for i in 1..=numbers {
        timer.sleep(step).await;
        sum += u64::from(i);
        cx.progress(
            f64::from(i),
            Some(f64::from(numbers)),
            Some(format!("added {i}")),
        )?;
    }
    Ok(format!("the sum of 1..={numbers} is {sum}"))
}

/// Work, then a question to the user (the task waits in `input_required`), then more work.
async fn approve(
    Args(ApproveArgs { action }): Args<ApproveArgs>,
    State(timer): State<Timer>,
    cx: RequestCx,
) -> Result<String, ToolError> {
    timer.sleep(Duration::from_millis(100)).await;
    let approved = BooleanSchema {
        title: Some("Approve?".into()),
        ..Default::default()
    };
    let form = RequestedSchema::new().with_property("approved", approved, true);
    let answer = cx
        .ask("approval")
        .elicit(ElicitRequestParams::form(
            format!("Approve this action: {action}?"),
            form,
        ))
        .await?;
    let yes = answer.action == ElicitAction::Accept
        && answer
            .content
            .as_ref()
            .and_then(|c| c.get("approved"))
            .and_then(|v| v.as_bool())
            == Some(true);
    if !yes {
        return Ok(format!("not approved: {action} was not done"));
    }
    timer.sleep(Duration::from_millis(100)).await;
    Ok(format!("approved and done: {action}"))
}

async fn sample(Args(args): Args<SampleArgs>, cx: RequestCx) -> Result<String, ToolError> {
    let mut params = CreateMessageRequestParams::new(
        vec![SamplingMessage::user_text(args.prompt)],
        args.max_tokens.unwrap_or(100),
    );
    params.system_prompt = Some("You are a helpful assistant. Answer briefly.".into());
    let reply = cx.sample(params).await?;
    let text: Vec<&str> = reply
        .content
        .blocks()
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect();
    Ok(format!("{} replied: {}", reply.model, text.join("\n")))
}

async fn elicit(cx: RequestCx) -> Result<String, ToolError> {
    let name = StringSchema {
        title: Some("Your name".into()),
        min_length: Some(1),
        ..Default::default()
    };
    let likes_rust = BooleanSchema {
        title: Some("Do you like Rust?".into()),
        default: Some(true),
        ..Default::default()
    };
    let form = RequestedSchema::new()
        .with_property("name", name, true)
        .with_property("likes_rust", likes_rust, false);
    let answer = cx
        .elicit(ElicitRequestParams::form(
            "Tell the everything server about yourself",
            form,
        ))
        .await?;
    Ok(match answer.action {
        ElicitAction::Accept => {
            let content = answer.content.unwrap_or_default();
            let name = content
                .get("name")
                .and_then(|v| v.as_str())
                .unwrap_or("(no name)");
            match content.get("likes_rust").and_then(|v| v.as_bool()) {
                Some(true) => format!("Hello, {name}! Glad you like Rust."),
                Some(false) => format!("Hello, {name}! Maybe Rust will grow on you."),
                None => format!("Hello, {name}!"),
            }
        }
        ElicitAction::Decline => "The user declined to answer.".into(),
        ElicitAction::Cancel => "The user dismissed the form.".into(),
    })
}

async fn roots(cx: RequestCx) -> Result<String, ToolError> {
    let roots = cx.list_roots().await?.roots;
    if roots.is_empty() {
        return Ok("The client has no roots.".into());
    }
    let lines: Vec<String> = roots
        .iter()
        .map(|r| match &r.name {
            Some(name) => format!("{} ({name})", r.uri),
            None => r.uri.clone(),
        })
        .collect();
    Ok(format!("The client's roots:\n{}", lines.join("\n")))
}

async fn log(cx: RequestCx) -> Result<String, ToolError> {
    let messages = [
        (LoggingLevel::Debug, "a debug message"),
        (LoggingLevel::Info, "an info message"),
        (LoggingLevel::Warning, "a warning"),
        (LoggingLevel::Error, "an error (nothing is wrong)"),
    ];
    let mut sent = 0;
    for (level, text) in messages {
        if cx.log(level, Some("everything"), json!(text))? {
            sent += 1;
        }
    }
    Ok(format!(
        "sent {sent} of {} log messages (the others were below the level the client asked for)",
        messages.len()
    ))
}

async fn greeting(Args(args): Args<GreetingArgs>) -> Result<Vec<PromptMessage>, RpcError> {
    let name = args.name;
    let request = match args.style.as_deref().unwrap_or("casual") {
        "casual" => format!("Say hi to {name}, casually."),
        "formal" => format!("Write a formal greeting for {name}."),
        "pirate" => format!("Greet {name} the way a pirate would."),
        other => {
            return Err(RpcError::invalid_params(format!(
                "unknown style `{other}`: use one of {}",
                STYLES.join(", ")
            )))
        }
    };
    Ok(vec![
        PromptMessage::user_text(request),
        PromptMessage::assistant_text(format!("Certainly. Here is a greeting for {name}:")),
    ])
}
