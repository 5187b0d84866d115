//! Sans-IO core of the Model Context Protocol (MCP), both eras.
//!
//! Bytes, messages and the current time go in; frames to write, events, timer deadlines and
//! task transitions come out. Nothing here reads a clock, touches a socket, spawns a thread
//! or draws randomness of its own, so the same state machines run under tokio, smol, a
//! blocking loop, a simulator or a fuzzer.
//!
//! Layers, bottom up: [`jsonrpc`] (envelope, ids, errors), [`schema`] (wire types of every
//! version), [`codec`] (newline framing, SSE), [`tasks`] (task table), [`session`] (the
//! [`ServerSession`](session::ServerSession) and [`ClientSession`](session::ClientSession)
//! state machines).
//!
//! # The run loop
//!
//! After every input (`handle_*`) or command (`respond`, `send_request`, ...), drain
//! transmits, then events, then ask for the next deadline. A loop that skips a drain leaves
//! frames unsent. Here a client and a server are wired back to back with a fake clock:
//!
//! ```
//! use std::time::{Duration, Instant, SystemTime};
//! use bytes::BytesMut;
//! use mcp_proto::entropy::SeededEntropy;
//! use mcp_proto::schema::lifecycle::{ServerCapabilities, ToolsCapability};
//! use mcp_proto::schema::messages::{ClientRequest, ServerResult};
//! use mcp_proto::schema::tools::{CallToolRequestParams, CallToolResult};
//! use mcp_proto::schema::Implementation;
//! use mcp_proto::session::*;
//!
//! let now = Instant::now();
//! let caps = ServerCapabilities { tools: Some(ToolsCapability::default()), ..Default::default() };
//! let mut server = ServerSession::new(
//!     ServerConfig::new(Implementation::new("demo", "1.0"), caps),
//!     now,
//!     SystemTime::now(),
//!     Box::new(SeededEntropy::new(1)), // use an OS-backed Entropy in production
//! );
//! let mut client = ClientSession::new(ClientConfig::new(Implementation::new("me", "1.0")), now);
//!
//! client.connect(now).unwrap();
//! let call = ClientRequest::CallTool(CallToolRequestParams { name: "echo".into(), ..Default::default() });
//! let id = client.send_request(now, call, RequestOptions::default()).unwrap();
//!
//! let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
//! let mut answer = None;
//! for _ in 0..10 {
//!     // 1. transmits
//!     while let Some(t) = client.poll_transmit() { to_server.extend_from_slice(&t.frame); }
//!     server.handle_bytes(now, &mut to_server);
//!     while let Some(t) = server.poll_transmit() { to_client.extend_from_slice(&t.frame); }
//!     client.handle_bytes(now, &mut to_client);
//!     // 2. events
//!     while let Some(ev) = server.poll_event() {
//!         if let ServerEvent::Request { id, request: ClientRequest::CallTool(p), .. } = ev {
//!             server.respond(&id, CallToolResult::text(format!("hello from {}", p.name))).unwrap();
//!         }
//!     }
//!     while let Some(ev) = client.poll_event() {
//!         if let ClientEvent::Response { id: rid, result } = ev {
//!             assert_eq!(rid, id);
//!             answer = Some(result);
//!         }
//!     }
//!     // 3. timers
//!     if let Some(deadline) = client.poll_timeout() {
//!         if deadline <= now { client.handle_timeout(now); }
//!     }
//! }
//! let Some(Ok(ServerResult::CallTool(r))) = answer else { panic!("no answer") };
//! assert_eq!(r.content[0].as_text(), Some("hello from echo"));
//! assert_eq!(client.server().unwrap().era, mcp_proto::schema::Era::Modern);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
pub mod entropy;
pub mod jsonrpc;
pub mod schema;
pub mod session;
pub mod tasks;
