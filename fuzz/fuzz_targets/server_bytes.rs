//! Raw bytes into a server session: its output must not depend on how the input was split.
//!
//! The logic lives in `common/`, shared with the corpus replay in `mcp-proto/tests`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::sessions::server_bytes(data);
});
