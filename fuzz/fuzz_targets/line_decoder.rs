//! Newline framing against a model of its rules, with bounded buffering.
//!
//! The logic lives in `common/`, shared with the corpus replay in `mcp-proto/tests`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::codec::line_decoder(data);
});
