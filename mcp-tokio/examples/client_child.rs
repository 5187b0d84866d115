use mcp_tokio::prelude::*;

#[derive(Serialize)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Deserialize)]
struct Sum {
    sum: i64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let program = std::env::args()
        .nth(1)
        .ok_or("usage: client_child <server program>")?;
    let config = ClientConfig::named("calculator-client", "1.0");
    let server = connect_child(
        Command::new(program),
        config,
        Arc::new(NoHandler),
        Stderr::Inherit,
    )
    .await?;
    let result = server.client().call_tool("add", Add { a: 2, b: 3 }).await?;
    println!("2 + 3 = {}", result.structured_as::<Sum>()?.sum);
    Ok(())
}
