//! Test harnesses: a client/server `Pair` over a fake clock, and a raw-frame server driver.
#![allow(dead_code)]

use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use mcp_proto::entropy::SeededEntropy;
use mcp_proto::schema::lifecycle::{
    ClientCapabilities, ElicitationCapability, PromptsCapability, ResourcesCapability,
    RootsCapability, SamplingCapability, ServerCapabilities, ServerTaskRequests,
    ServerTasksCapability, ToolsCapability, ToolsTaskRequests,
};
use mcp_proto::schema::Implementation;
use mcp_proto::session::{
    ClientConfig, ClientEvent, ClientSession, ServerConfig, ServerEvent, ServerSession,
};
use serde_json::{json, Value};

/// Every capability a test server may need.
pub fn full_server_caps() -> ServerCapabilities {
    let mut ext = serde_json::Map::new();
    ext.insert("io.modelcontextprotocol/tasks".into(), json!({}));
    ServerCapabilities {
        tools: Some(ToolsCapability {
            list_changed: Some(true),
            ..Default::default()
        }),
        prompts: Some(PromptsCapability {
            list_changed: Some(true),
            ..Default::default()
        }),
        resources: Some(ResourcesCapability {
            subscribe: Some(true),
            list_changed: Some(true),
            ..Default::default()
        }),
        logging: Some(Default::default()),
        completions: Some(Default::default()),
        tasks: Some(ServerTasksCapability {
            list: Some(Default::default()),
            cancel: Some(Default::default()),
            requests: Some(ServerTaskRequests {
                tools: Some(ToolsTaskRequests {
                    call: Some(Default::default()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        extensions: Some(ext),
        ..Default::default()
    }
}

pub fn full_client_caps() -> ClientCapabilities {
    let mut ext = serde_json::Map::new();
    ext.insert("io.modelcontextprotocol/tasks".into(), json!({}));
    ClientCapabilities {
        roots: Some(RootsCapability {
            list_changed: Some(true),
            ..Default::default()
        }),
        sampling: Some(SamplingCapability::default()),
        elicitation: Some(ElicitationCapability {
            form: Some(Default::default()),
            url: Some(Default::default()),
            ..Default::default()
        }),
        extensions: Some(ext),
        ..Default::default()
    }
}

pub fn server_config() -> ServerConfig {
    ServerConfig::new(
        Implementation::new("test-server", "1.0.0"),
        full_server_caps(),
    )
}

pub fn client_config() -> ClientConfig {
    let mut c = ClientConfig::new(Implementation::new("test-client", "1.0.0"));
    c.capabilities = full_client_caps();
    c
}

pub fn new_server(config: ServerConfig, now: Instant) -> ServerSession {
    ServerSession::new(
        config,
        now,
        SystemTime::UNIX_EPOCH,
        Box::new(SeededEntropy::new(7)),
    )
}

/// Client and server wired back to back, with every frame cut into pieces of the sizes in
/// `chunks` (cycled) to exercise partial-frame handling.
pub struct Pair {
    pub now: Instant,
    pub client: ClientSession,
    pub server: ServerSession,
    c2s: BytesMut,
    s2c: BytesMut,
    pub client_events: Vec<ClientEvent>,
    pub server_events: Vec<ServerEvent>,
    /// Every frame sent, decoded, for assertions.
    pub c2s_log: Vec<Value>,
    pub s2c_log: Vec<Value>,
    chunks: Vec<usize>,
    chunk_at: usize,
    /// Frames the client sends are dropped while set (a lossy or dead link).
    pub drop_c2s: bool,
    pub drop_s2c: bool,
}

impl Pair {
    pub fn new(client: ClientConfig, server: ServerConfig) -> Pair {
        Self::with_chunks(client, server, vec![usize::MAX])
    }

    pub fn with_chunks(client: ClientConfig, server: ServerConfig, chunks: Vec<usize>) -> Pair {
        let now = Instant::now();
        Pair {
            now,
            client: ClientSession::new(client, now),
            server: new_server(server, now),
            c2s: BytesMut::new(),
            s2c: BytesMut::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            c2s_log: Vec::new(),
            s2c_log: Vec::new(),
            chunks,
            chunk_at: 0,
            drop_c2s: false,
            drop_s2c: false,
        }
    }

    fn next_chunk(&mut self) -> usize {
        let n = self.chunks[self.chunk_at % self.chunks.len()].max(1);
        self.chunk_at += 1;
        n
    }

    /// Moves every pending frame one hop; returns whether anything happened.
    pub fn step(&mut self) -> bool {
        let mut moved = false;
        let mut out_c = BytesMut::new();
        while let Some(t) = self.client.poll_transmit() {
            self.c2s_log
                .push(serde_json::from_slice(&t.frame).expect("client sent invalid JSON"));
            if !self.drop_c2s {
                out_c.extend_from_slice(&t.frame);
            }
            moved = true;
        }
        while let Some(t) = self.server.poll_transmit() {
            self.s2c_log
                .push(serde_json::from_slice(&t.frame).expect("server sent invalid JSON"));
            if !self.drop_s2c {
                self.s2c.extend_from_slice(&t.frame);
            }
            moved = true;
        }
        // Feed in chunks.
        let mut pending = out_c;
        while !pending.is_empty() {
            let n = self.next_chunk().min(pending.len());
            let piece = pending.split_to(n);
            self.c2s.extend_from_slice(&piece);
            self.server.handle_bytes(self.now, &mut self.c2s);
        }
        let mut pending = std::mem::take(&mut self.s2c);
        let mut inbound = BytesMut::new();
        while !pending.is_empty() {
            let n = self.next_chunk().min(pending.len());
            let piece = pending.split_to(n);
            inbound.extend_from_slice(&piece);
            self.client.handle_bytes(self.now, &mut inbound);
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
            moved = true;
        }
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
            moved = true;
        }
        moved
    }

    /// Steps until quiet; false if still busy after `max` steps (livelock).
    pub fn drive_bounded(&mut self, max: usize) -> bool {
        for _ in 0..max {
            if !self.step() {
                return true;
            }
        }
        false
    }

    pub fn drive(&mut self) {
        assert!(self.drive_bounded(1000), "pair did not settle: livelock");
    }

    /// Moves the clock and fires due timers on both sides.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            self.server.handle_timeout(self.now);
        }
        self.drive();
    }

    /// Connects and drives to a settled state.
    pub fn connect(&mut self) {
        self.client.connect(self.now).unwrap();
        self.drive();
    }

    pub fn take_client_events(&mut self) -> Vec<ClientEvent> {
        std::mem::take(&mut self.client_events)
    }

    pub fn take_server_events(&mut self) -> Vec<ServerEvent> {
        std::mem::take(&mut self.server_events)
    }
}

/// A server fed raw frames, returning what it wrote back as JSON.
pub struct Raw {
    pub now: Instant,
    pub server: ServerSession,
    pub events: Vec<ServerEvent>,
}

impl Raw {
    pub fn new(config: ServerConfig) -> Raw {
        let now = Instant::now();
        Raw {
            now,
            server: new_server(config, now),
            events: Vec::new(),
        }
    }

    /// Feeds bytes (framing included) and returns every frame written back.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Value> {
        let mut buf = BytesMut::from(bytes);
        self.server.handle_bytes(self.now, &mut buf);
        self.drain()
    }

    /// Feeds one JSON message as a line.
    pub fn send(&mut self, v: Value) -> Vec<Value> {
        let mut line = serde_json::to_vec(&v).unwrap();
        line.push(b'\n');
        self.feed(&line)
    }

    pub fn drain(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(t) = self.server.poll_transmit() {
            assert_eq!(t.frame.last(), Some(&b'\n'));
            out.push(serde_json::from_slice(&t.frame).expect("server wrote invalid JSON"));
        }
        while let Some(e) = self.server.poll_event() {
            self.events.push(e);
        }
        out
    }

    /// Performs a legacy handshake at `version`.
    pub fn initialize(&mut self, version: &str) -> Value {
        let out = self.send(
            json!({"jsonrpc":"2.0","id":"init","method":"initialize","params":{
            "protocolVersion": version,
            "capabilities": {"sampling": {}, "elicitation": {}, "roots": {"listChanged": true}},
            "clientInfo": {"name": "raw", "version": "0"}}}),
        );
        let more = self.send(json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        assert!(more.is_empty());
        out.into_iter().next().expect("initialize answered")
    }
}

/// Per-request `_meta` for a 2026-07-28 request.
pub fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"}
    })
}
