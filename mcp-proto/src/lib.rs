#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
mod borrowed;
pub mod codec;
pub mod entropy;
pub mod http;
pub mod jsonrpc;
pub mod schema;
pub mod session;
pub mod tasks;

/// The starting instant of unit tests: the library itself never reads a clock, and tests
/// read it once here, then move time by explicit offsets from it.
#[cfg(test)]
pub(crate) fn test_start() -> std::time::Instant {
    std::time::Instant::now()
}
