//! Wire framing: newline-delimited JSON for stdio and Server-Sent Events for streamable HTTP.
//!
//! Both decoders follow one contract, in the spirit of `httparse`: you own the buffer, they own
//! no IO. Append whatever bytes arrived to a [`BytesMut`](bytes::BytesMut) and call `decode`
//! until it returns `None`:
//!
//! - `Some(Ok(item))`: one complete item was taken off the front of the buffer.
//! - `Some(Err(e))`: the peer sent something malformed; it has been consumed or is being
//!   skipped, and decoding can go on. Errors never poison the decoder.
//! - `None`: no complete item is buffered. Whatever partial input remains stays in the buffer
//!   (or, for input being skipped, is dropped); read more and call again.
//!
//! Only ever append to the buffer between calls: decoders remember how far they scanned, so
//! input arriving in tiny pieces costs linear time. Memory is bounded by the limit given at
//! construction, whatever the peer sends. At end of stream call `finish` the same way to flush
//! what a final, unterminated line allows.
//!
//! Encoders are free functions that append to a caller-owned buffer.
//!
//! ```
//! use bytes::BytesMut;
//! use mcp_proto::codec::LineDecoder;
//!
//! let mut dec = LineDecoder::new(4 << 20);
//! let mut inbound = BytesMut::new();
//! let mut frames = Vec::new();
//! for read in [&b"{\"id\":1}\n{\"i"[..], b"d\":2}\n"] {
//!     inbound.extend_from_slice(read);
//!     while let Some(frame) = dec.decode(&mut inbound) {
//!         match frame {
//!             Ok(json) => frames.push(json),
//!             Err(e) => eprintln!("skipping bad frame: {e}"),
//!         }
//!     }
//! }
//! assert_eq!(frames, [&b"{\"id\":1}"[..], b"{\"id\":2}"]);
//! ```

pub mod flow;
pub mod line;
pub mod sse;

pub use line::{encode_line, FrameError, LineDecoder};
pub use sse::{
    encode_comment, encode_event, encode_retry, SseDecoder, SseEncodeError, SseError, SseEvent,
    SseEventRef, SseItem,
};
