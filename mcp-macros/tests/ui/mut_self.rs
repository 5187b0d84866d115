use mcp_tokio::mcp_driver::ToolError;
use mcp_tokio::tool;

#[derive(Clone)]
struct Counter(u64);

#[tool]
impl Counter {
    /// Counts.
    #[tool]
    async fn bump(&mut self) -> Result<u64, ToolError> {
        self.0 += 1;
        Ok(self.0)
    }
}

fn main() {}
