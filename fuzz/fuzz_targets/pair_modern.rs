//! Op sequences against a client/server pair over a lossy link, with protocol invariants,
//! the server offering 2026-07-28.
//!
//! The logic lives in `common/`, shared with the corpus replay in `mcp-proto/tests`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::ops::pair_modern(data);
});
