//! The streamable HTTP front door and response streams under arbitrary input.
//!
//! The logic lives in `common/`, shared with the corpus replay in `mcp-proto/tests`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::http::http_exchange(data);
});
