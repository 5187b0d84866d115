//! Connects to an MCP server behind OAuth and lists its tools.
//!
//! ```sh
//! cargo run -p mcp-tokio --example oauth_client -- https://example.com/mcp
//! ```
//!
//! The first run discovers the server's authorization server, registers this client (or uses
//! a Client ID Metadata Document where supported), prints the authorization URL to open in a
//! browser, and waits for the redirect on 127.0.0.1. Clients and tokens are kept in
//! `./oauth-credentials.json` (mode 0600), so later runs reuse them and refresh expired
//! tokens without the browser.

use std::sync::Arc;

use mcp_tokio::mcp_driver::NoHandler;
use mcp_tokio::mcp_proto::auth::OAuthConfig;
use mcp_tokio::mcp_proto::schema::Implementation;
use mcp_tokio::mcp_proto::session::ClientConfig;
use mcp_tokio::{
    connect_http, loopback_listener, FileStore, HttpClientOptions, LoopbackAuthorization, OAuth,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: oauth_client <server-url>");
        std::process::exit(2);
    };
    let listener = loopback_listener(0).await?;
    let handler = LoopbackAuthorization::new(listener, |url| {
        println!("Open this URL in your browser to authorize:\n\n  {url}\n");
    });
    let mut config = OAuthConfig::new(url.clone(), "");
    config.client_name = "mcp-rs oauth_client example".into();
    let oauth = OAuth::new(config, Arc::new(handler))
        .with_store(Arc::new(FileStore::new("oauth-credentials.json")));
    let options = HttpClientOptions::default().with_auth(Some(Arc::new(oauth.clone())));
    let client_config = ClientConfig::new(Implementation::new("oauth_client", "0.1.0"));
    let client = match connect_http(&url, client_config, Arc::new(NoHandler), options).await {
        Ok(c) => c,
        Err(e) => {
            match oauth.last_error() {
                Some(a) => eprintln!("connect: {e} (OAuth: {a})"),
                None => eprintln!("connect: {e}"),
            }
            std::process::exit(1);
        }
    };
    for tool in client.list_all_tools().await? {
        println!("{}: {}", tool.name, tool.description.unwrap_or_default());
    }
    client.close();
    client.closed().await;
    Ok(())
}
