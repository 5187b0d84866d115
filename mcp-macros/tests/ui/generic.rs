use mcp_tokio::mcp_driver::ToolError;
use mcp_tokio::tool;

/// Echoes.
#[tool]
async fn echo<T: Send>(x: T) -> Result<T, ToolError> {
    Ok(x)
}

fn main() {}
