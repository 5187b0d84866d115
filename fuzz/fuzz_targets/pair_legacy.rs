//! Op sequences against a client/server pair over a lossy link, with protocol invariants,
//! the server offering only legacy versions.
//!
//! The logic lives in `common/`, shared with the corpus replay in `mcp-proto/tests`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::ops::pair_legacy(data);
});
