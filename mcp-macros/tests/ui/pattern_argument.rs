use mcp_tokio::mcp_driver::ToolError;
use mcp_tokio::tool;

/// Adds a pair.
#[tool]
async fn add((a, b): (i64, i64)) -> Result<i64, ToolError> {
    Ok(a + b)
}

fn main() {}
