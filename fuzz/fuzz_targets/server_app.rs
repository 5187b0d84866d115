//! Raw bytes into a server session with an application answering: one answer per request,
//! tasks, timeouts, close.
//!
//! The logic lives in `common/`, shared with the corpus replay in `mcp-proto/tests`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::sessions::server_app(data);
});
