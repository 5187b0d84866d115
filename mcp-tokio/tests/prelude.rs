//! The prelude alone is enough for a typed server and a client talking to it, with typed
//! arguments in and typed structured content out.

use mcp_tokio::prelude::*;

#[derive(Serialize, Deserialize, JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Note {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Sum {
    sum: i64,
}

/// A calculator served over an in-memory pipe, and a client connected to it.
async fn calculator() -> Client {
    let server = Server::builder("calc", "1.0")
        .tool(
            "add",
            "Add two integers",
            |Args(Add { a, b }): Args<Add>| async move { Ok(Json(Sum { sum: a + b })) },
        )
        .tool(
            "echo",
            "Echo the arguments",
            |Args(v): Args<Note>| async move { Ok(Json(v)) },
        )
        .build();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_io);
    tokio::spawn(serve(server, server_read, server_write));
    let (client_read, client_write) = tokio::io::split(client_io);
    connect(
        ClientConfig::named("calc-client", "1.0"),
        Arc::new(NoHandler),
        client_read,
        client_write,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn typed_arguments_in_and_typed_structured_content_out() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "typed_arguments_in_and_typed_structured_content_out",
        async move {
            let client = calculator().await;
            let info = client.server().server_info.clone().unwrap();
            assert_eq!((info.name.as_str(), info.version.as_str()), ("calc", "1.0"));
            let result: CallToolResult = client.call_tool("add", Add { a: 2, b: 3 }).await.unwrap();
            assert_eq!(result.structured_as::<Sum>().unwrap(), Sum { sum: 5 });
            // json! still works, as any Serialize does.
            let result = client
                .call_tool("add", serde_json::json!({"a": 1, "b": 1}))
                .await
                .unwrap();
            assert_eq!(result.structured_as::<Sum>().unwrap(), Sum { sum: 2 });
        },
    )
    .await
}

#[tokio::test]
async fn a_shape_mismatch_is_a_clear_error() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_shape_mismatch_is_a_clear_error",
        async move {
            let client = calculator().await;
            let result = client.call_tool("add", Add { a: 2, b: 3 }).await.unwrap();
            let err = result.structured_as::<Vec<String>>().unwrap_err();
            assert!(matches!(err, StructuredError::Mismatch { .. }), "{err:?}");
            assert!(
                err.to_string().contains("Vec<alloc::string::String>"),
                "{err}"
            );
        },
    )
    .await
}

#[tokio::test]
async fn non_object_arguments_are_refused_not_wrapped() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "non_object_arguments_are_refused_not_wrapped",
        async move {
            let client = calculator().await;
            for (args, kind) in [
                (serde_json::json!(5), "a number"),
                (serde_json::json!("five"), "a string"),
                (serde_json::json!([2, 3]), "an array"),
                (serde_json::json!(true), "a boolean"),
            ] {
                match client.call_tool("echo", args).await {
                    Err(CallError::Arguments(why)) => assert!(why.contains(kind), "{why}"),
                    other => panic!("{kind}: {other:?}"),
                }
            }
            // `()` is no arguments at all; the server sees none and the connection is fine.
            let result = client.call_tool("echo", ()).await.unwrap();
            assert_eq!(result.structured_as::<Note>().unwrap(), Note::default());
            let note = Note {
                text: Some("hi".into()),
            };
            let result = client.call_tool("echo", &note).await.unwrap();
            assert_eq!(result.structured_as::<Note>().unwrap(), note);
        },
    )
    .await
}
