//! The prelude alone is enough for a typed server and a client talking to it.

use mcp_tokio::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

#[tokio::test]
async fn a_server_and_a_client_need_only_the_prelude() {
    let server = Server::builder("calc", "1.0")
        .tool(
            "add",
            "Add two integers",
            |Args(Add { a, b }): Args<Add>| async move { Ok(a + b) },
        )
        .build();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_io);
    tokio::spawn(serve(server, server_read, server_write));
    let (client_read, client_write) = tokio::io::split(client_io);
    let client = connect(
        ClientConfig::named("calc-client", "1.0"),
        Arc::new(NoHandler),
        client_read,
        client_write,
    )
    .await
    .unwrap();
    let info = client.server().server_info.clone().unwrap();
    assert_eq!((info.name.as_str(), info.version.as_str()), ("calc", "1.0"));
    let result: CallToolResult = client
        .call_tool("add", serde_json::json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(result.content[0].as_text(), Some("5"));
}
