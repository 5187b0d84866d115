use mcp_tokio::mcp_driver::ToolError;
use mcp_tokio::tool;

#[tool]
async fn add(a: i64, b: i64) -> Result<i64, ToolError> {
    Ok(a + b)
}

fn main() {}
