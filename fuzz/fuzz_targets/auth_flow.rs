//! The OAuth flow under hostile metadata, redirects, stores and token responses.
//!
//! The logic lives in `common/`, shared with the corpus replay in `mcp-proto/tests`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::auth::auth_flow(data);
});
