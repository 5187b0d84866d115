//! The server the official MCP conformance suite (`@modelcontextprotocol/conformance`) tests:
//! every tool, resource and prompt its server scenarios call by name, in both protocol eras,
//! built with the typed builder.
//!
//! The names, arguments and texts follow the suite's scenarios (0.1.16 and 0.2.0-alpha.12).
//! What the suite checks at the HTTP level (status codes, headers, SSE priming and
//! resumption, DNS-rebinding protection) belongs to the transport serving this service, not
//! to the service itself.
//!
//! The tasks extension's fixtures are task tools of the builder: `slow_compute` (optional),
//! `failing_job` (required; a tool error, so the task completes with `isError`),
//! `protocol_error_job` (a JSON-RPC error, so the task fails), `confirm_delete` and
//! `multi_input` (input requests answered with `tasks/update`), `test_tool_with_task`
//! (required; asks in an `input_required` round first, then detaches into a task), and the
//! synchronous `greet`. Legacy clients can call the same tools as SEP-1686 tasks.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use futures_lite::future;
use mcp_driver::mcp_proto::jsonrpc::ErrorObject;
use mcp_driver::mcp_proto::schema::content::{ContentBlock, Resource, ResourceContents};
use mcp_driver::mcp_proto::schema::elicitation::{
    BooleanSchema, ElicitAction, ElicitRequestParams, ElicitResult, ElicitValue,
    LegacyTitledEnumSchema, NumberSchema, NumberType, RequestedSchema, StringSchema,
    TitledEnumItems, TitledEnumOption, TitledMultiSelectEnumSchema, TitledSingleSelectEnumSchema,
    UntitledEnumItems, UntitledMultiSelectEnumSchema, UntitledSingleSelectEnumSchema,
};
use mcp_driver::mcp_proto::schema::prompts::PromptMessage;
use mcp_driver::mcp_proto::schema::resources::ResourceTemplate;
use mcp_driver::mcp_proto::schema::sampling::{
    CreateMessageRequestParams, CreateMessageResult, SamplingMessage,
};
use mcp_driver::mcp_proto::schema::tools::Tool;
use mcp_driver::mcp_proto::schema::{LoggingLevel, Role};
use mcp_driver::{
    Args, BoxFuture, RequestCx, RpcError, Runtime, Server, ServerControl, Service, State,
    TaskOptions, TaskStart, TaskSupport, ToolError, UriVars,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Number, Value};

/// `test_simple_text`'s answer.
pub const SIMPLE_TEXT: &str = "This is a simple text response for testing.";
/// `test_error_handling`'s error message.
pub const ERROR_TEXT: &str = "This tool intentionally returns an error for testing";
/// The fixed text resource.
pub const STATIC_TEXT_URI: &str = "test://static-text";
/// The text of [`STATIC_TEXT_URI`].
pub const STATIC_TEXT: &str = "This is the content of the static text resource.";
/// The fixed binary resource (the PNG of [`PNG_BASE64`]).
pub const STATIC_BINARY_URI: &str = "test://static-binary";
/// The resource template; `test://template/123/data` reads
/// `{"id":"123","templateTest":true,"data":"Data for ID: 123"}`.
pub const TEMPLATE: &str = "test://template/{id}/data";
/// The resource clients subscribe to; it changes every [`WATCHED_PERIOD`].
pub const WATCHED_URI: &str = "test://watched-resource";
/// How often [`WATCHED_URI`] changes.
pub const WATCHED_PERIOD: Duration = Duration::from_secs(3);
/// The messages `test_tool_with_logging` logs, in order, [`STEP`] apart.
pub const LOG_MESSAGES: [&str; 3] = [
    "Tool execution started",
    "Tool processing data",
    "Tool execution completed",
];
/// The pause between the log messages and between the progress reports.
pub const STEP: Duration = Duration::from_millis(50);
/// The tool `test_trigger_tool_change` adds and removes in turn.
pub const DYNAMIC_TOOL: &str = "test_dynamic_tool";
/// The prompt `test_trigger_prompt_change` adds and removes in turn.
pub const DYNAMIC_PROMPT: &str = "test_dynamic_prompt";
/// A 1x1 red PNG, base64.
pub const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
/// A WAV of eight silent 8-bit samples at 8 kHz, base64.
pub const WAV_BASE64: &str =
    "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";

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

/// The server's own control, for the tools that change what it offers (set once built).
#[derive(Clone, Default)]
struct Control(Arc<OnceLock<ServerControl>>);

impl Control {
    fn get(&self) -> Result<&ServerControl, ToolError> {
        self.0
            .get()
            .ok_or_else(|| ToolError::new("the server is still being built"))
    }
}

#[derive(Deserialize, JsonSchema)]
struct SamplingArgs {
    /// The prompt to send to the LLM.
    prompt: String,
}

#[derive(Deserialize, JsonSchema)]
struct ElicitationArgs {
    /// The message to show the user.
    message: String,
}

#[derive(Deserialize, JsonSchema)]
struct GreetArgs {
    /// Who to greet.
    name: String,
}

#[derive(Deserialize, JsonSchema)]
struct SlowArgs {
    /// How long to work, in seconds.
    #[serde(default)]
    seconds: f64,
    /// A label echoed in the result.
    #[serde(default)]
    label: String,
}

#[derive(Deserialize, JsonSchema)]
struct DeleteArgs {
    /// The file to delete once the user confirms.
    filename: String,
}

/// The longest `slow_compute` works, whatever it is asked.
const MAX_COMPUTE: Duration = Duration::from_secs(600);

/// Arguments of the tool with an `x-mcp-header` parameter.
#[derive(Deserialize, JsonSchema)]
struct HeaderArgs {
    /// A region, mirrored into the `Mcp-Param-Region` HTTP header (SEP-2243).
    #[schemars(extend("x-mcp-header" = "Region"))]
    region: String,
}

/// Arguments of `test_prompt_with_arguments`.
#[derive(Deserialize, JsonSchema)]
struct PromptArgs {
    /// First test argument.
    arg1: String,
    /// Second test argument.
    arg2: String,
}

/// Arguments of `test_prompt_with_embedded_resource`.
#[derive(Deserialize, JsonSchema)]
struct EmbeddedArgs {
    /// URI of the resource to embed.
    #[serde(rename = "resourceUri")]
    resource_uri: String,
}

/// Values offered when completing `arg1` of `test_prompt_with_arguments`.
const ARG1_VALUES: [&str; 4] = ["paris", "park", "party", "test"];

/// The conformance server, on runtime `rt`, and a control for changing it while it runs.
///
/// Declares `logging`, `completions`, `tools`/`prompts`/`resources` with `listChanged` and
/// `resources.subscribe`. Spawns (on `rt`) the task that changes [`WATCHED_URI`] every
/// [`WATCHED_PERIOD`] and tells subscribers; it runs as long as the process does, so call
/// this from inside the runtime, once per process.
pub fn conformance_service<R: Runtime>(rt: R) -> (Service, ServerControl) {
    let timer = Timer::of(rt.clone());
    let control = Control::default();
    let png = BASE64.decode(PNG_BASE64).unwrap_or_default();
    let (service, server_control) = Server::builder("mcp-rs-conformance", env!("CARGO_PKG_VERSION"))
        .title("Conformance (mcp-rs)")
        .state(timer.clone())
        .state(control.clone())
        // Tools of every era. `test_simple_text` comes first: header scenarios call the
        // first tool listed without arguments.
        .tool("test_simple_text", "Returns simple text content", || async {
            Ok(SIMPLE_TEXT)
        })
        .tool("test_image_content", "Returns image content (a PNG)", || async {
            Ok(ContentBlock::image(PNG_BASE64, "image/png"))
        })
        .tool("test_audio_content", "Returns audio content (a WAV)", || async {
            Ok(ContentBlock::audio(WAV_BASE64, "audio/wav"))
        })
        .tool(
            "test_embedded_resource",
            "Returns an embedded text resource",
            || async {
                Ok(ContentBlock::resource(ResourceContents::text(
                    "test://embedded-resource",
                    Some("text/plain"),
                    "This is an embedded resource content.",
                )))
            },
        )
        .tool(
            "test_multiple_content_types",
            "Returns text, an image and an embedded resource",
            || async {
                Ok(vec![
                    ContentBlock::text("Multiple content types test:"),
                    ContentBlock::image(PNG_BASE64, "image/png"),
                    ContentBlock::resource(ResourceContents::text(
                        "test://mixed-content-resource",
                        Some("application/json"),
                        json!({"test": "data", "value": 123}).to_string(),
                    )),
                ])
            },
        )
        .tool(
            "test_tool_with_logging",
            "Logs three info messages, 50 ms apart, while it runs",
            tool_with_logging,
        )
        .tool(
            "test_error_handling",
            "Always fails with an error result",
            || async { Err::<(), _>(ToolError::new(ERROR_TEXT)) },
        )
        .tool(
            "test_tool_with_progress",
            "Reports progress 0, 50 and 100 of 100, 50 ms apart",
            tool_with_progress,
        )
        .tool(
            "test_sampling",
            "Asks the client's LLM (sampling) and returns its answer",
            |Args(SamplingArgs { prompt }): Args<SamplingArgs>, cx: RequestCx| async move {
                let reply = cx
                    .sample(CreateMessageRequestParams::new(
                        vec![SamplingMessage::user_text(prompt)],
                        100,
                    ))
                    .await?;
                Ok(format!("LLM response: {}", reply_text(&reply)))
            },
        )
        .tool(
            "test_elicitation",
            "Asks the user for a username and an email (elicitation)",
            |Args(ElicitationArgs { message }): Args<ElicitationArgs>, cx: RequestCx| async move {
                let form = RequestedSchema::new()
                    .with_property("username", described("User's response"), true)
                    .with_property("email", described("User's email address"), true);
                let answer = cx.elicit(ElicitRequestParams::form(message, form)).await?;
                Ok(format!("User response: {}", describe(&answer)))
            },
        )
        .tool_with(
            Tool::new(
                "json_schema_2020_12_tool",
                "Tool with JSON Schema 2020-12 features",
                json_schema_2020_12(),
            ),
            |Args(args): Args<Value>| async move { Ok(format!("Received: {args}")) },
        )
        .tool(
            "test_elicitation_sep1034_defaults",
            "Asks for a form whose fields all have defaults (SEP-1034)",
            |cx: RequestCx| async move {
                let answer = cx
                    .elicit(ElicitRequestParams::form(
                        "Please review and update the form fields with defaults",
                        defaults_form(),
                    ))
                    .await?;
                Ok(format!("Elicitation completed: {}", describe(&answer)))
            },
        )
        .tool(
            "test_elicitation_sep1330_enums",
            "Asks for a form with the five kinds of enum field (SEP-1330)",
            |cx: RequestCx| async move {
                let answer = cx
                    .elicit(ElicitRequestParams::form(
                        "Please select options from the enum fields",
                        enums_form(),
                    ))
                    .await?;
                Ok(format!("Elicitation completed: {}", describe(&answer)))
            },
        )
        .tool(
            "test_reconnection",
            "Takes a moment, so the transport can close its stream mid-call (SEP-1699)",
            |cx: RequestCx, State(timer): State<Timer>| async move {
                // Over HTTP the client now reconnects and resumes; the answer waits for it
                // in the event store.
                cx.close_sse_stream();
                timer.sleep(Duration::from_millis(100)).await;
                Ok("Reconnection test completed")
            },
        )
        // 2026-07-28 tools.
        .tool(
            "test_missing_capability",
            "Needs the client's sampling capability; without it the call fails with -32021",
            |cx: RequestCx| async move {
                let reply = cx
                    .sample(CreateMessageRequestParams::new(
                        vec![SamplingMessage::user_text("Say hello")],
                        50,
                    ))
                    .await?;
                Ok(format!("LLM response: {}", reply_text(&reply)))
            },
        )
        .tool(
            "test_streaming_elicitation",
            "Asks the user to confirm (elicitation), then answers",
            |cx: RequestCx| async move {
                let form = RequestedSchema::new().with_property(
                    "confirmed",
                    BooleanSchema::default(),
                    true,
                );
                let answer = cx
                    .ask("confirmation")
                    .elicit(ElicitRequestParams::form("Please confirm", form))
                    .await?;
                Ok(format!("Elicitation completed: {}", describe(&answer)))
            },
        )
        .tool(
            "test_logging_tool",
            "Logs three info messages (sent only at the level the request asked for)",
            |cx: RequestCx| async move {
                let mut sent = 0;
                for text in LOG_MESSAGES {
                    if cx.log(LoggingLevel::Info, Some("conformance"), json!(text))? {
                        sent += 1;
                    }
                }
                Ok(format!("Sent {sent} of {} log messages", LOG_MESSAGES.len()))
            },
        )
        .tool(
            "test_trigger_tool_change",
            "Adds or removes test_dynamic_tool, so the tool list changes",
            |State(control): State<Control>| async move {
                let control = control.get()?;
                if control.remove_tool(DYNAMIC_TOOL) {
                    return Ok(format!("Removed {DYNAMIC_TOOL}"));
                }
                control.add_tool(DYNAMIC_TOOL, "Comes and goes", || async {
                    Ok("This tool was added at run time.")
                });
                Ok(format!("Added {DYNAMIC_TOOL}"))
            },
        )
        .tool(
            "test_trigger_prompt_change",
            "Adds or removes test_dynamic_prompt, so the prompt list changes",
            |State(control): State<Control>| async move {
                let control = control.get()?;
                if control.remove_prompt(DYNAMIC_PROMPT) {
                    return Ok(format!("Removed {DYNAMIC_PROMPT}"));
                }
                control.add_prompt(DYNAMIC_PROMPT, "Comes and goes", || async {
                    Ok("This prompt was added at run time.")
                });
                Ok(format!("Added {DYNAMIC_PROMPT}"))
            },
        )
        // Input-required (MRTR) tools; on a legacy session the same asks are requests.
        .tool(
            "test_input_required_result_elicitation",
            "Asks the user's name (input_required, key user_name)",
            |cx: RequestCx| async move {
                let answer = cx.ask("user_name").elicit(name_form("What is your name?")).await?;
                Ok(format!("Hello, {}!", field(&answer, "name")))
            },
        )
        .tool(
            "test_input_required_result_sampling",
            "Asks the client's LLM a question (input_required, key capital_question)",
            |cx: RequestCx| async move {
                let reply = cx
                    .ask("capital_question")
                    .sample(CreateMessageRequestParams::new(
                        vec![SamplingMessage::user_text("What is the capital of France?")],
                        100,
                    ))
                    .await?;
                Ok(format!("LLM response: {}", reply_text(&reply)))
            },
        )
        .tool(
            "test_input_required_result_list_roots",
            "Asks the client's roots (input_required, key client_roots)",
            |cx: RequestCx| async move {
                let roots = cx.ask("client_roots").list_roots().await?.roots;
                let uris: Vec<&str> = roots.iter().map(|r| r.uri.as_str()).collect();
                Ok(format!("Client roots: {}", uris.join(", ")))
            },
        )
        .tool(
            "test_input_required_result_request_state",
            "Asks for a confirmation; the answer comes back through the sealed requestState",
            confirm,
        )
        .tool(
            "test_input_required_result_multiple_inputs",
            "Asks for a name, an LLM greeting and the roots, all in one round",
            multiple_inputs,
        )
        .tool(
            "test_input_required_result_multi_round",
            "Asks for a name, then for a favorite color, in two rounds",
            |cx: RequestCx| async move {
                let step1 = cx
                    .ask("step1")
                    .elicit(name_form("Step 1: What is your name?"))
                    .await?;
                let color = RequestedSchema::new().with_property(
                    "color",
                    StringSchema::default(),
                    true,
                );
                let step2 = cx
                    .ask("step2")
                    .elicit(ElicitRequestParams::form(
                        "Step 2: What is your favorite color?",
                        color,
                    ))
                    .await?;
                Ok(format!(
                    "Hello, {}! Your favorite color is {}.",
                    field(&step1, "name"),
                    field(&step2, "color")
                ))
            },
        )
        .tool(
            "test_input_required_result_tampered_state",
            "Asks for a confirmation; a tampered requestState is refused (-32602)",
            confirm,
        )
        .tool(
            "test_input_required_result_capabilities",
            "Asks only for what the request's client capabilities declare",
            by_capabilities,
        )
        // Tasks extension: the synchronous fixture.
        .tool(
            "greet",
            "Greets someone (synchronous, never a task)",
            |Args(GreetArgs { name }): Args<GreetArgs>| async move { Ok(format!("Hello, {name}!")) },
        )
        .task_tool(
            "slow_compute",
            "Works for `seconds`, then answers (runs as a task when the client allows it)",
            TaskSupport::Optional,
            slow_compute,
        )
        .task_tool(
            "failing_job",
            "Fails after about a second with a tool error (runs only as a task)",
            TaskSupport::Required,
            |State(timer): State<Timer>| async move {
                timer.sleep(Duration::from_secs(1)).await;
                Err::<String, _>(ToolError::new("the job failed: intentional tool error"))
            },
        )
        .task_tool(
            "protocol_error_job",
            "Fails with a JSON-RPC internal error, which fails its task",
            TaskSupport::Optional,
            |State(timer): State<Timer>| async move {
                timer.sleep(Duration::from_millis(100)).await;
                Err::<String, _>(ToolError::rpc(ErrorObject::internal(
                    "the job crashed: intentional protocol error",
                )))
            },
        )
        .task_tool(
            "confirm_delete",
            "Asks the user to confirm, then deletes `filename` (pretend)",
            TaskSupport::Optional,
            confirm_delete,
        )
        .task_tool(
            "multi_input",
            "Asks two questions at once, then answers",
            TaskSupport::Optional,
            multi_input,
        )
        .task_tool_with(
            Tool::new(
                "test_tool_with_task",
                "Asks for a name in an input_required round, then runs as a task",
                Value::Null,
            ),
            TaskOptions::new(TaskSupport::Required).start(TaskStart::OnDetach),
            tool_with_task,
        )
        // SEP-2243: a parameter mirrored into an HTTP header.
        .tool(
            "test_header_param",
            "Echoes its region, which HTTP clients also send as Mcp-Param-Region",
            |Args(HeaderArgs { region }): Args<HeaderArgs>| async move {
                Ok(format!("region={region}"))
            },
        )
        // Resources.
        .resource_with(
            Resource {
                uri: STATIC_TEXT_URI.into(),
                name: "static-text".into(),
                description: Some("A fixed text resource".into()),
                mime_type: Some("text/plain".into()),
                ..Default::default()
            },
            || async { Ok(STATIC_TEXT) },
        )
        .resource_with(
            Resource {
                uri: STATIC_BINARY_URI.into(),
                name: "static-binary".into(),
                description: Some("A fixed binary resource (a PNG)".into()),
                mime_type: Some("image/png".into()),
                ..Default::default()
            },
            move || {
                let png = png.clone();
                async move { Ok(png) }
            },
        )
        .resource_with(
            Resource {
                uri: WATCHED_URI.into(),
                name: "watched-resource".into(),
                description: Some(format!(
                    "Changes every {} seconds; subscribe to be told",
                    WATCHED_PERIOD.as_secs()
                )),
                mime_type: Some("text/plain".into()),
                ..Default::default()
            },
            || async { Ok("Watched resource content") },
        )
        .resource_template_with(
            ResourceTemplate {
                description: Some("Data for any id".into()),
                mime_type: Some("application/json".into()),
                ..ResourceTemplate::new(TEMPLATE, "template-data")
            },
            |UriVars(vars): UriVars| async move {
                let id = vars.get("id").cloned().unwrap_or_default();
                let data = format!("Data for ID: {id}");
                Ok(json!({"id": id, "templateTest": true, "data": data}).to_string())
            },
        )
        // Prompts.
        .prompt(
            "test_simple_prompt",
            "A prompt without arguments",
            || async { Ok("This is a simple prompt for testing.") },
        )
        .prompt(
            "test_prompt_with_arguments",
            "A prompt with two required arguments",
            |Args(PromptArgs { arg1, arg2 }): Args<PromptArgs>| async move {
                Ok(format!(
                    "Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
                ))
            },
        )
        .complete_prompt_argument(
            "test_prompt_with_arguments",
            "arg1",
            |typed: String| async move {
                ARG1_VALUES
                    .iter()
                    .filter(|v| v.starts_with(&typed))
                    .map(|v| (*v).to_owned())
                    .collect()
            },
        )
        .prompt(
            "test_prompt_with_embedded_resource",
            "A prompt that embeds the resource it is given",
            |Args(EmbeddedArgs { resource_uri }): Args<EmbeddedArgs>| async move {
                let resource = ContentBlock::resource(ResourceContents::text(
                    resource_uri,
                    Some("text/plain"),
                    "Embedded resource content for testing.",
                ));
                Ok(vec![
                    PromptMessage::new(Role::User, resource),
                    PromptMessage::user_text("Please process the embedded resource above."),
                ])
            },
        )
        .prompt(
            "test_prompt_with_image",
            "A prompt with an image",
            || async {
                Ok(vec![
                    PromptMessage::new(Role::User, ContentBlock::image(PNG_BASE64, "image/png")),
                    PromptMessage::user_text("Please analyze the image above."),
                ])
            },
        )
        .prompt(
            "test_input_required_result_prompt",
            "Asks what context to use (input_required, key user_context), then builds the prompt",
            |cx: RequestCx| async move {
                let form = RequestedSchema::new().with_property(
                    "context",
                    StringSchema::default(),
                    true,
                );
                let answer = cx
                    .ask("user_context")
                    .elicit(ElicitRequestParams::form(
                        "What context should the prompt use?",
                        form,
                    ))
                    .await?;
                let context = field(&answer, "context");
                Ok::<_, RpcError>(format!("Answer with this context in mind: {context}"))
            },
        )
        .build_with_control();
    // Only this function sets it, once.
    let _ = control.0.set(server_control.clone());
    rt.spawn(Box::pin(watch(timer, server_control.clone())));
    (service, server_control)
}

/// Tells the subscribers of [`WATCHED_URI`] it changed, every [`WATCHED_PERIOD`], forever.
async fn watch(timer: Timer, control: ServerControl) {
    loop {
        timer.sleep(WATCHED_PERIOD).await;
        control.resource_updated(WATCHED_URI);
    }
}

async fn tool_with_logging(
    State(timer): State<Timer>,
    cx: RequestCx,
) -> Result<&'static str, ToolError> {
    for (i, text) in LOG_MESSAGES.into_iter().enumerate() {
        if i > 0 {
            timer.sleep(STEP).await;
        }
        cx.log(LoggingLevel::Info, Some("conformance"), json!(text))?;
    }
    Ok("Tool with logging executed successfully")
}

async fn tool_with_progress(
    State(timer): State<Timer>,
    cx: RequestCx,
) -> Result<&'static str, ToolError> {
    for (i, done) in [0.0, 50.0, 100.0].into_iter().enumerate() {
        if i > 0 {
            timer.sleep(STEP).await;
        }
        cx.progress(done, Some(100.0), None)?;
    }
    Ok("Tool with progress executed successfully")
}

async fn slow_compute(
    Args(SlowArgs { seconds, label }): Args<SlowArgs>,
    State(timer): State<Timer>,
    cx: RequestCx,
) -> Result<String, ToolError> {
    let total = Duration::try_from_secs_f64(seconds.max(0.0))
        .unwrap_or(MAX_COMPUTE)
        .min(MAX_COMPUTE);
    // Progress in tenths (legacy tasks keep reporting on the call's token).
    for step in 1..=10u32 {
        timer.sleep(total / 10).await;
        cx.progress(f64::from(step) * 10.0, Some(100.0), None)?;
    }
    Ok(format!("{label}: computed in {seconds}s"))
}

async fn confirm_delete(
    Args(DeleteArgs { filename }): Args<DeleteArgs>,
    cx: RequestCx,
) -> Result<String, ToolError> {
    let form = RequestedSchema::new().with_property("confirm", BooleanSchema::default(), true);
    let answer = cx
        .ask("confirm")
        .elicit(ElicitRequestParams::form(
            format!("Delete {filename}?"),
            form,
        ))
        .await?;
    let yes = answer.action == ElicitAction::Accept
        && answer
            .content
            .as_ref()
            .and_then(|c| c.get("confirm"))
            .is_some_and(|v| matches!(v, ElicitValue::Boolean(true)));
    Ok(if yes {
        format!("Deleted {filename}")
    } else {
        format!("Kept {filename}")
    })
}

/// Two asks awaited together: a task waits on both keys at once and may get them answered
/// one `tasks/update` at a time.
async fn multi_input(cx: RequestCx) -> Result<String, ToolError> {
    let name = cx.ask("name").elicit(name_form("What is your name?"));
    let form = RequestedSchema::new().with_property("confirm", BooleanSchema::default(), true);
    let confirm = cx
        .ask("confirm")
        .elicit(ElicitRequestParams::form("Shall I go on?", form));
    let (name, confirm) = future::zip(name, confirm).await;
    let (name, confirm) = (name?, confirm?);
    Ok(format!(
        "name: {}; {}",
        field(&name, "name"),
        describe(&confirm)
    ))
}

/// Gathers the name in an `input_required` round (before any task exists), then detaches:
/// the retry that brings the name gets the task.
async fn tool_with_task(State(timer): State<Timer>, cx: RequestCx) -> Result<String, ToolError> {
    let answer = cx
        .ask("user_name")
        .elicit(name_form("What is your name?"))
        .await?;
    cx.detach()?;
    timer.sleep(STEP).await;
    Ok(format!("Hello, {}!", field(&answer, "name")))
}

/// One confirmation, under the key `confirm`. What reaches the second run went through the
/// sealed `requestState` (or this retry's `inputResponses`); a tampered state never gets
/// here (the driver answers -32602).
async fn confirm(cx: RequestCx) -> Result<String, ToolError> {
    let form = RequestedSchema::new().with_property("ok", BooleanSchema::default(), true);
    let answer = cx
        .ask("confirm")
        .elicit(ElicitRequestParams::form("Please confirm", form))
        .await?;
    Ok(format!("state-ok: {}", describe(&answer)))
}

/// Three asks awaited together, so a 2026-07-28 client gets them in one round.
async fn multiple_inputs(cx: RequestCx) -> Result<String, ToolError> {
    let name = cx.ask("user_name").elicit(name_form("What is your name?"));
    let greeting = cx.ask("greeting").sample(CreateMessageRequestParams::new(
        vec![SamplingMessage::user_text("Generate a greeting")],
        50,
    ));
    let roots = cx.ask("client_roots").list_roots();
    let ((name, greeting), roots) = future::zip(future::zip(name, greeting), roots).await;
    let (name, greeting, roots) = (name?, greeting?, roots?);
    Ok(format!(
        "name: {}; greeting: {}; roots: {}",
        field(&name, "name"),
        reply_text(&greeting),
        roots.roots.len()
    ))
}

/// Asks for sampling and elicitation, each only if the request's client capabilities declare
/// it (both in one round).
async fn by_capabilities(cx: RequestCx) -> Result<String, ToolError> {
    let caps = cx.client_capabilities().unwrap_or_default();
    let sample = async {
        if caps.sampling.is_none() {
            return Ok(None);
        }
        let params =
            CreateMessageRequestParams::new(vec![SamplingMessage::user_text("Say something")], 50);
        cx.ask("sampling_request").sample(params).await.map(Some)
    };
    let elicit = async {
        if !caps.supports_elicitation_form() {
            return Ok(None);
        }
        let form = name_form("What is your name?");
        cx.ask("elicitation_request").elicit(form).await.map(Some)
    };
    let (sampled, elicited) = future::zip(sample, elicit).await;
    let mut parts = Vec::new();
    if let Some(reply) = sampled? {
        parts.push(format!("LLM response: {}", reply_text(&reply)));
    }
    if let Some(answer) = elicited? {
        parts.push(format!("User response: {}", describe(&answer)));
    }
    if parts.is_empty() {
        return Ok("The client declared neither sampling nor elicitation.".into());
    }
    Ok(parts.join("; "))
}

/// A form asking for a required `name`.
fn name_form(message: &str) -> ElicitRequestParams {
    let form = RequestedSchema::new().with_property("name", StringSchema::default(), true);
    ElicitRequestParams::form(message, form)
}

/// A text field with a description.
fn described(description: &str) -> StringSchema {
    StringSchema {
        description: Some(description.into()),
        ..Default::default()
    }
}

/// SEP-1034: a default for every kind of field.
fn defaults_form() -> RequestedSchema {
    RequestedSchema::new()
        .with_property(
            "name",
            StringSchema {
                default: Some("John Doe".into()),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "age",
            NumberSchema {
                type_: NumberType::Integer,
                default: Some(Number::from(30)),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "score",
            NumberSchema {
                type_: NumberType::Number,
                default: Number::from_f64(95.5),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "status",
            UntitledSingleSelectEnumSchema {
                enum_: strings(&["active", "inactive", "pending"]),
                default: Some("active".into()),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "verified",
            BooleanSchema {
                default: Some(true),
                ..Default::default()
            },
            false,
        )
}

/// SEP-1330: the five enum shapes.
fn enums_form() -> RequestedSchema {
    let titled = |labels: [&str; 3]| -> Vec<TitledEnumOption> {
        labels
            .iter()
            .enumerate()
            .map(|(i, label)| TitledEnumOption::new(format!("value{}", i + 1), *label))
            .collect()
    };
    RequestedSchema::new()
        .with_property(
            "untitledSingle",
            UntitledSingleSelectEnumSchema {
                enum_: strings(&["option1", "option2", "option3"]),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "titledSingle",
            TitledSingleSelectEnumSchema {
                one_of: titled(["First Option", "Second Option", "Third Option"]),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "legacyEnum",
            LegacyTitledEnumSchema {
                enum_: strings(&["opt1", "opt2", "opt3"]),
                enum_names: Some(strings(&["Option One", "Option Two", "Option Three"])),
                ..Default::default()
            },
            false,
        )
        .with_property(
            "untitledMulti",
            UntitledMultiSelectEnumSchema {
                items: UntitledEnumItems {
                    enum_: strings(&["option1", "option2", "option3"]),
                    ..Default::default()
                },
                ..Default::default()
            },
            false,
        )
        .with_property(
            "titledMulti",
            TitledMultiSelectEnumSchema {
                items: TitledEnumItems {
                    any_of: titled(["First Choice", "Second Choice", "Third Choice"]),
                    ..Default::default()
                },
                ..Default::default()
            },
            false,
        )
}

/// The input schema of `json_schema_2020_12_tool`: the 2020-12 dialect with `$defs` (and an
/// `$anchor` in them), `allOf`/`anyOf`, `if`/`then`/`else` and `additionalProperties: false`,
/// advertised exactly as written.
fn json_schema_2020_12() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {
                    "street": { "type": "string" },
                    "city": { "type": "string" }
                }
            }
        },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" }
        },
        "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
        "if": {
            "properties": { "contactMethod": { "const": "phone" } },
            "required": ["contactMethod"]
        },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false
    })
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// `action=accept, content={...}`.
fn describe(answer: &ElicitResult) -> String {
    let action = serde_json::to_value(answer.action).unwrap_or(Value::Null);
    let action = action.as_str().unwrap_or("?");
    let content = serde_json::to_string(&answer.content).unwrap_or_default();
    format!("action={action}, content={content}")
}

/// A text field of an accepted form, or a placeholder.
fn field(answer: &ElicitResult, name: &str) -> String {
    answer
        .content
        .as_ref()
        .and_then(|c| c.get(name))
        .and_then(|v| v.as_str())
        .unwrap_or("(no answer)")
        .to_owned()
}

/// The text of a sampling reply.
fn reply_text(reply: &CreateMessageResult) -> String {
    let text: Vec<&str> = reply
        .content
        .blocks()
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect();
    text.join("\n")
}
