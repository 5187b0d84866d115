//! The HTTP server endpoint through whole exchange sequences (admission, eviction, stream
//! slots, expiry). The logic lives in `common/`, shared with the corpus replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::endpoint::http_endpoint(data);
});
