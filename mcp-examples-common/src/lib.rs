//! What the runtime examples share, so each runtime's example reads as glue.
//!
//! - [`everything_service`]: the `everything` demo server, which offers every MCP feature
//!   (tools, resources, templates, subscriptions, prompts, completions, logging, asks to
//!   the client). The tokio and smol `everything` examples serve it on stdio.
//! - [`tour`]: the quickstart's client side. Given a connected [`Client`](mcp_driver::Client)
//!   and a [`Host`] answering the server's asks, it walks through every feature and prints
//!   what it sees.
//! - [`parse_everything_args`], [`parse_quickstart_args`] and [`example_binary`]: the small
//!   command-line plumbing the examples have in common.
//!
//! This crate is not published; it exists for the examples only.

mod cli;
mod client;
pub mod conformance;
mod server;

pub use cli::{
    everything_usage, exit_with_usage, parse_everything_args, parse_quickstart_args,
    quickstart_usage, ArgsError, QuickstartOptions, ServeCommand,
};
pub use client::{client_config, example_binary, tour, Host, TourError};
pub use server::{
    everything_service, BYTES, BYTES_URI, COUNTER_PERIOD, COUNTER_URI, GREETING_TEMPLATE,
    README_TEXT, README_URI,
};

/// The `everything` server protected by OAuth (`http --auth ISSUER_URL`): every request
/// needs a JWT access token from `issuer` for `http://{bind}/mcp` with the `mcp:tools`
/// scope, verified against the issuer's JWKS (fetched over `connector`).
pub fn protected_http<R: mcp_driver::Runtime>(
    rt: R,
    connector: std::sync::Arc<dyn mcp_driver::http::client::Connector>,
    service: mcp_driver::Service,
    bind: std::net::SocketAddr,
    issuer: &str,
) -> mcp_driver::http::server::HttpService<R> {
    use mcp_driver::http::auth::{JwtVerifier, Protection};
    use mcp_driver::http::client::AuthHttp;
    use mcp_driver::mcp_proto::auth::ResourceServerConfig;
    use std::sync::Arc;

    let resource = format!("http://{bind}/mcp");
    let http = AuthHttp::standalone(rt.clone(), connector, Default::default());
    let verifier = Arc::new(JwtVerifier::new(issuer, &resource, http));
    let config = ResourceServerConfig::new(&resource, issuer).require(&["mcp:tools"]);
    let protection = Protection::new(config, Arc::new(verifier));
    mcp_driver::http::server::HttpService::protected(rt, service, http_config(bind), protection)
}

/// The HTTP configuration of the examples: the protective defaults, plus the bound address
/// itself as an allowed `Host` when it is not loopback.
pub fn http_config(bind: std::net::SocketAddr) -> mcp_driver::mcp_proto::http::HttpServerConfig {
    let mut config = mcp_driver::mcp_proto::http::HttpServerConfig::default();
    if !bind.ip().is_loopback() {
        if let Some(hosts) = config.allowed_hosts.as_mut() {
            hosts.push(bind.ip().to_string());
        }
    }
    config
}

/// Serves `service` on every connection `listener` accepts, as newline-delimited JSON-RPC
/// (one session per connection), for the `everything` example's `tcp` command.
pub async fn serve_tcp<R: mcp_driver::Runtime, L: mcp_driver::accept::Listener>(
    rt: R,
    listener: L,
    service: mcp_driver::Service,
) {
    let config = mcp_driver::accept::AcceptConfig::default();
    let rt2 = rt.clone();
    mcp_driver::accept::accept_loop(rt, listener, config, move |stream| {
        let (reader, writer) = futures_lite::io::split(stream);
        let (_handle, conn) = mcp_driver::serve(rt2.clone(), service.clone(), reader, writer);
        async move {
            let _ = conn.await;
        }
    })
    .await;
}
