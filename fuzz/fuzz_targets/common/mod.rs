//! The logic of every fuzz target, as plain functions over `&[u8]`.
//!
//! The targets in `fuzz/fuzz_targets/*.rs` are one-line wrappers around these functions, and
//! `mcp-proto/tests/fuzz_corpus.rs` includes this module with `#[path]` to replay the checked-in
//! corpus through the very same code under `cargo test`. So this module depends only on what
//! `mcp-proto`'s tests can see: `mcp-proto`, `bytes`, `serde_json` and std (no libFuzzer, no
//! `arbitrary`). Inputs are decoded by a small byte reader instead, which means a corpus file
//! means the same thing to the fuzzer and to the replay test.
//!
//! Each function panics (the fuzzer's crash signal) when an invariant breaks.
#![allow(dead_code)]

pub mod auth;
pub mod codec;
pub mod endpoint;
pub mod fixtures;
pub mod http;
pub mod ops;
pub mod reader;
pub mod seeds;
pub mod sessions;

/// Runs the logic of the target called `name` on `data`; `false` for an unknown name.
pub fn run_target(name: &str, data: &[u8]) -> bool {
    match name {
        "server_bytes" => sessions::server_bytes(data),
        "server_app" => sessions::server_app(data),
        "client_bytes" => sessions::client_bytes(data),
        "client_app" => sessions::client_app(data),
        "line_decoder" => codec::line_decoder(data),
        "sse_decoder" => codec::sse_decoder(data),
        "pair_legacy" => ops::pair_legacy(data),
        "pair_modern" => ops::pair_modern(data),
        "http_exchange" => http::http_exchange(data),
        "http_endpoint" => endpoint::http_endpoint(data),
        "auth_flow" => auth::auth_flow(data),
        _ => return false,
    }
    true
}

/// Names of every target, as in `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 11] = [
    "server_bytes",
    "server_app",
    "client_bytes",
    "client_app",
    "line_decoder",
    "sse_decoder",
    "pair_legacy",
    "pair_modern",
    "http_exchange",
    "http_endpoint",
    "auth_flow",
];
