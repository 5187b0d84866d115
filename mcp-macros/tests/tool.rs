//! `#[tool]` against the real builder: the registered tools' names, descriptions and input
//! schemas as a client lists them, and calls through extractors and state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mcp_tokio::mcp_driver::{
    connect_in_process, Client, Json, NoHandler, RequestCx, Server, State, ToolError,
};
use mcp_tokio::mcp_proto::schema::tools::Tool;
use mcp_tokio::mcp_proto::schema::Implementation;
use mcp_tokio::mcp_proto::session::ClientConfig;
use mcp_tokio::{tool, TokioRuntime};
use serde_json::{json, Value};

/// Add two integers.
///
/// Both may be negative.
#[tool]
async fn add(
    a: i64,
    #[schemars(description = "the second term")] b: i64,
) -> Result<i64, ToolError> {
    Ok(a + b)
}

/// Says hello.
#[tool(name = "greet")]
async fn hello(#[serde(default)] name: Option<String>) -> Result<String, ToolError> {
    Ok(format!("hello, {}", name.as_deref().unwrap_or("world")))
}

#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

/// Counts its calls, through state given to the builder.
#[tool(description = "Count calls")]
async fn count(State(c): State<Counter>, cx: RequestCx) -> Result<Json<Value>, std::io::Error> {
    let n = c.0.fetch_add(1, Ordering::SeqCst) + 1;
    Ok(Json(json!({ "calls": n, "id": cx.id().to_string() })))
}

/// Fails with a tool error.
#[tool]
async fn fail(reason: String) -> Result<(), ToolError> {
    Err(ToolError::new(reason))
}

#[derive(Clone)]
struct Calc {
    scale: i64,
}

#[tool]
impl Calc {
    /// Multiplies by the calculator's scale.
    #[tool]
    async fn scale(&self, x: i64) -> Result<i64, ToolError> {
        Ok(x * self.scale)
    }

    /// Negates.
    #[tool(name = "negate")]
    async fn neg(x: i64) -> Result<i64, ToolError> {
        Ok(-x)
    }

    /// Not a tool: left alone.
    fn helper(&self) -> i64 {
        self.scale
    }
}

async fn client() -> Client {
    let service = Server::builder("macros", "1.0")
        .state(Counter::default())
        .register(add_tool)
        .register(hello_tool)
        .register(count_tool)
        .register(fail_tool)
        .register(Calc { scale: 3 }.tools())
        .build();
    let config = ClientConfig::new(Implementation::new("t", "1"));
    let (client, _server) = connect_in_process(TokioRuntime, service, config, Arc::new(NoHandler))
        .await
        .unwrap();
    client
}

fn find<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools.iter().find(|t| t.name == name).unwrap()
}

#[tokio::test]
async fn tools_are_listed_with_doc_descriptions_and_argument_schemas() {
    let client = client().await;
    let tools = client.list_tools(None).await.unwrap().tools;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["add", "greet", "count", "fail", "scale", "negate"]);

    let add = find(&tools, "add");
    assert_eq!(
        add.description.as_deref(),
        Some("Add two integers.\n\nBoth may be negative.")
    );
    let schema = serde_json::to_value(&add.input_schema).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["a"]["type"], "integer");
    assert_eq!(schema["properties"]["b"]["description"], "the second term");
    assert_eq!(schema["required"], json!(["a", "b"]));

    let greet = serde_json::to_value(&find(&tools, "greet").input_schema).unwrap();
    assert!(greet.get("required").is_none_or(|r| r == &json!([])));

    let count = find(&tools, "count");
    assert_eq!(count.description.as_deref(), Some("Count calls"));
    assert!(count.output_schema.is_some());
    // Extractors only: no arguments.
    let schema = serde_json::to_value(&count.input_schema).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        find(&tools, "scale").description.as_deref(),
        Some("Multiplies by the calculator's scale.")
    );
    assert_eq!(Calc { scale: 2 }.helper(), 2);
}

#[tokio::test]
async fn calls_reach_the_functions_through_the_builder() {
    let client = client().await;
    let r = client
        .call_tool("add", json!({"a": 2, "b": -5}))
        .await
        .unwrap();
    assert_ne!(r.is_error, Some(true));
    assert_eq!(text(&r), "-3");
    let r = client.call_tool("greet", json!({})).await.unwrap();
    assert_eq!(text(&r), "hello, world");
    let r = client
        .call_tool("greet", json!({"name": "mcp"}))
        .await
        .unwrap();
    assert_eq!(text(&r), "hello, mcp");
    client.call_tool("count", json!({})).await.unwrap();
    let r = client.call_tool("count", json!({})).await.unwrap();
    // A `Value` output has no object schema, so it is wrapped as `{"result": ...}`.
    assert_eq!(r.structured_content.as_ref().unwrap()["result"]["calls"], 2);
    let r = client.call_tool("scale", json!({"x": 7})).await.unwrap();
    assert_eq!(text(&r), "21");
    let r = client.call_tool("negate", json!({"x": 7})).await.unwrap();
    assert_eq!(text(&r), "-7");
}

#[tokio::test]
async fn errors_and_bad_arguments_are_tool_errors() {
    let client = client().await;
    let r = client
        .call_tool("fail", json!({"reason": "no"}))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(text(&r), "no");
    // Arguments that do not match the generated struct: the builder's own answer.
    let r = client.call_tool("add", json!({"a": "two"})).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("invalid arguments"), "{}", text(&r));
}

fn text(r: &mcp_tokio::mcp_proto::schema::tools::CallToolResult) -> String {
    serde_json::to_value(&r.content).unwrap()[0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
