#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
pub mod entropy;
pub mod http;
pub mod jsonrpc;
pub mod schema;
pub mod session;
pub mod tasks;
