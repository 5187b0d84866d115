//! SSE parsing of arbitrary streams, and encode/decode round trips.
//!
//! The logic lives in `common/`, shared with the corpus replay in `mcp-proto/tests`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::codec::sse_decoder(data);
});
