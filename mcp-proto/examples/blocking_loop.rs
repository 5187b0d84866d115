//! The Sans-IO core with no runtime at all: a client and a server session in one thread,
//! each frame handed across by a plain loop. `cargo run -p mcp-proto --example blocking_loop`
//!
//! Over a real pipe or socket the loop is the same with reads and writes in place of the
//! hand-over: feed bytes in with `handle_bytes`, write what `poll_transmit` gives, act on
//! what `poll_event` gives, and sleep no longer than `poll_timeout` (then `handle_timeout`).
//! `stdio_demo` does exactly that over a child's stdio.

use std::time::{Instant, SystemTime};

use bytes::BytesMut;
use mcp_proto::entropy::SeededEntropy;
use mcp_proto::schema::lifecycle::{ServerCapabilities, ToolsCapability};
use mcp_proto::schema::messages::{ClientRequest, ServerResult};
use mcp_proto::schema::tools::{CallToolRequestParams, CallToolResult};
use mcp_proto::schema::Implementation;
use mcp_proto::session::{
    ClientConfig, ClientEvent, ClientSession, RequestOptions, ServerConfig, ServerEvent,
    ServerSession,
};

fn main() {
    let caps = ServerCapabilities {
        tools: Some(ToolsCapability::default()),
        ..Default::default()
    };
    let config = ServerConfig::new(Implementation::new("loop-server", "1.0"), caps);
    // Task ids come from injected entropy; a real server uses the OS's (e.g. `getrandom`).
    let entropy = Box::new(SeededEntropy::new(7));
    let mut server = ServerSession::new(config, Instant::now(), SystemTime::now(), entropy);
    let mut client = ClientSession::new(ClientConfig::named("loop-client", "1.0"), Instant::now());
    client
        .connect(Instant::now())
        .expect("a new session connects");

    let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
    let mut call = None;
    // Each round moves everything that is ready; a handful of rounds finish the job.
    for _round in 0..8 {
        // Move every frame across; whatever arrives may make the other side answer.
        while let Some(t) = client.poll_transmit() {
            to_server.extend_from_slice(&t.frame);
        }
        server.handle_bytes(Instant::now(), &mut to_server);
        while let Some(event) = server.poll_event() {
            if let ServerEvent::Request { id, request, .. } = event {
                // The application: one tool that greets.
                let result = match request {
                    ClientRequest::CallTool(p) => {
                        CallToolResult::text(format!("hello from {}", p.name))
                    }
                    other => panic!("unexpected request {}", other.method()),
                };
                server
                    .respond(&id, ServerResult::CallTool(result))
                    .expect("answered once");
            }
        }
        while let Some(t) = server.poll_transmit() {
            to_client.extend_from_slice(&t.frame);
        }
        client.handle_bytes(Instant::now(), &mut to_client);
        while let Some(event) = client.poll_event() {
            match event {
                ClientEvent::Ready(server) => {
                    println!("connected: protocol {}", server.version);
                    let request =
                        ClientRequest::CallTool(CallToolRequestParams::new("greet", None));
                    call = Some(
                        client
                            .send_request(Instant::now(), request, RequestOptions::default())
                            .expect("ready"),
                    );
                }
                ClientEvent::Response { id, result } if Some(&id) == call.as_ref() => {
                    match result.expect("the tool answers") {
                        ServerResult::CallTool(r) => {
                            println!("{}", r.content[0].as_text().unwrap_or(""))
                        }
                        other => panic!("unexpected result {other:?}"),
                    }
                    return;
                }
                other => println!("client event: {other:?}"),
            }
        }
    }
    eprintln!("no answer after 8 rounds");
    std::process::exit(1);
}
