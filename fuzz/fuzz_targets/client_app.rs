//! Raw bytes into a client session with an application answering: exactly one outcome per
//! request.
//!
//! The logic lives in `common/`, shared with the corpus replay in `mcp-proto/tests`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::sessions::client_app(data);
});
