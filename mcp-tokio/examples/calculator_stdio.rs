use mcp_tokio::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: i64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let server = Server::builder("calculator", "1.0")
        .tool(
            "add",
            "Add two integers",
            |Args(Add { a, b }): Args<Add>| async move { Ok(Json(Sum { sum: a + b })) },
        )
        .build();
    serve_stdio(server).await
}
