//! Newline-delimited JSON framing, as used by the MCP stdio transport.
//!
//! Each message is one line of UTF-8 JSON ending in `\n` (a `\r` before it is tolerated and
//! stripped). Lines that are empty or hold only JSON whitespace are skipped. Serialized JSON never
//! contains a raw newline (line breaks inside strings are escaped), so no escaping is needed.
//!
//! ```
//! use bytes::BytesMut;
//! use mcp_proto::codec::{encode_line, LineDecoder};
//!
//! let mut wire = BytesMut::new();
//! encode_line(&mut wire, br#"{"jsonrpc":"2.0","method":"ping","id":1}"#);
//!
//! let mut dec = LineDecoder::new(1 << 20);
//! let mut inbound = BytesMut::new();
//! inbound.extend_from_slice(&wire[..10]); // a partial read
//! assert!(dec.decode(&mut inbound).is_none());
//! inbound.extend_from_slice(&wire[10..]);
//! let frame = dec.decode(&mut inbound).unwrap().unwrap();
//! assert_eq!(&frame[..], br#"{"jsonrpc":"2.0","method":"ping","id":1}"#);
//! assert!(inbound.is_empty());
//! ```

use bytes::{Buf, Bytes, BytesMut};

/// A framing fault in the inbound byte stream. Decoding can continue after any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A line grew past the decoder's limit. Reported once; the rest of the line is dropped
    /// as it arrives and decoding resumes after its newline.
    #[error("frame exceeds the limit of {max_frame_len} bytes")]
    TooLong {
        /// The limit that was exceeded.
        max_frame_len: usize,
    },
    /// A complete line was not valid UTF-8. The line has been consumed.
    #[error("frame is not valid UTF-8 (valid up to byte {valid_up_to})")]
    InvalidUtf8 {
        /// Length of the longest valid UTF-8 prefix of the line.
        valid_up_to: usize,
    },
}

/// Incremental decoder for newline-delimited frames.
///
/// Feed it a buffer that you only ever append to; each [`decode`](Self::decode) call takes at
/// most one frame off its front. The decoder remembers how far it has scanned, so delivering
/// the input one byte at a time costs linear, not quadratic, time. While a call returns `None`,
/// `buf` holds at most `max_frame_len + 1` bytes (the `+ 1` leaves room for a `\r`).
#[derive(Debug, Clone)]
pub struct LineDecoder {
    max_frame_len: usize,
    /// Bytes at the front of the buffer already known to contain no `\n`.
    scanned: usize,
    /// Inside an oversized line: drop bytes up to and including the next `\n`.
    discarding: bool,
}

impl LineDecoder {
    /// A decoder that rejects frames longer than `max_frame_len` bytes (line ending excluded).
    pub fn new(max_frame_len: usize) -> Self {
        LineDecoder {
            max_frame_len,
            scanned: 0,
            discarding: false,
        }
    }

    /// The frame length limit this decoder was built with.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// Takes the next complete frame off the front of `buf`.
    ///
    /// Returns `None` when `buf` holds no complete line yet (any partial line stays in `buf`;
    /// append more bytes and call again). `Some(Err(_))` reports a bad line that has been dealt
    /// with; keep calling. Frames are split off `buf` without copying, line ending removed.
    #[must_use = "a returned frame is removed from the buffer"]
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Result<Bytes, FrameError>> {
        loop {
            let start = self.scanned.min(buf.len());
            let newline = buf
                .get(start..)
                .and_then(|rest| memchr::memchr(b'\n', rest))
                .map(|i| start + i);

            let Some(nl) = newline else {
                if self.discarding {
                    buf.clear();
                    self.scanned = 0;
                    return None;
                }
                self.scanned = buf.len();
                if self.exceeds_limit(buf) {
                    buf.clear();
                    self.scanned = 0;
                    self.discarding = true;
                    return Some(Err(self.too_long()));
                }
                return None;
            };

            self.scanned = 0;
            if self.discarding {
                buf.advance(nl + 1);
                self.discarding = false;
                continue;
            }
            if let Some(item) = self.take_line(buf, nl, 1) {
                return Some(item);
            }
        }
    }

    /// Call at end of input: yields what [`decode`](Self::decode) would, then the final line
    /// even if it lacks a trailing newline.
    ///
    /// Call it until it returns `None`; by then `buf` is empty and the decoder is reset for a
    /// new stream. A truncated oversized line (already reported) is dropped silently.
    #[must_use = "a returned frame is removed from the buffer"]
    pub fn finish(&mut self, buf: &mut BytesMut) -> Option<Result<Bytes, FrameError>> {
        if let Some(item) = self.decode(buf) {
            return Some(item);
        }
        let len = buf.len();
        self.scanned = 0;
        if self.discarding || len == 0 {
            self.discarding = false;
            buf.clear();
            return None;
        }
        // `decode` found no newline, so the whole buffer is the last line.
        self.take_line(buf, len, 0)
    }

    /// Splits the line ending at `end` (exclusive) plus `terminator_len` bytes off `buf`.
    /// Returns `None` for blank lines, which are dropped.
    fn take_line(
        &mut self,
        buf: &mut BytesMut,
        end: usize,
        terminator_len: usize,
    ) -> Option<Result<Bytes, FrameError>> {
        let content_len = match buf.get(..end) {
            Some([head @ .., b'\r']) => head.len(),
            Some(_) => end,
            None => buf.len(), // unreachable for callers in this module; stay total anyway
        };
        let frame = buf.split_to(content_len.min(buf.len())).freeze();
        buf.advance((end.saturating_sub(content_len) + terminator_len).min(buf.len()));

        if frame.len() > self.max_frame_len {
            return Some(Err(self.too_long()));
        }
        if frame.iter().all(|&b| matches!(b, b' ' | b'\t' | b'\r')) {
            return None;
        }
        match std::str::from_utf8(&frame) {
            Ok(_) => Some(Ok(frame)),
            Err(e) => Some(Err(FrameError::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
            })),
        }
    }

    /// Whether a newline-free partial line can no longer fit in a frame.
    fn exceeds_limit(&self, partial: &[u8]) -> bool {
        let max = self.max_frame_len;
        match partial.len().checked_sub(max) {
            None | Some(0) => false,
            // One byte over is fine only if it is the `\r` of a coming `\r\n`.
            Some(1) => partial.last() != Some(&b'\r'),
            Some(_) => true,
        }
    }

    fn too_long(&self) -> FrameError {
        FrameError::TooLong {
            max_frame_len: self.max_frame_len,
        }
    }
}

/// Appends `json` as one frame (the payload plus `\n`) to `dst`.
///
/// `json` should be serialized JSON, which never holds a raw newline. If it does anyway, each
/// `\n` is written as a space: outside strings that is equivalent JSON whitespace, and inside a
/// string a raw newline was invalid JSON to begin with. Either way the frame cannot split.
pub fn encode_line(dst: &mut BytesMut, json: &[u8]) {
    dst.reserve(json.len() + 1);
    let mut rest = json;
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        let (head, tail) = rest.split_at(i);
        dst.extend_from_slice(head);
        dst.extend_from_slice(b" ");
        rest = tail.get(1..).unwrap_or_default();
    }
    dst.extend_from_slice(rest);
    dst.extend_from_slice(b"\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    type Item = Result<Bytes, FrameError>;

    /// Feeds `chunks` in order, draining after each, then finishes.
    fn run(dec: &mut LineDecoder, chunks: &[&[u8]]) -> Vec<Item> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(item) = dec.decode(&mut buf) {
                out.push(item);
            }
        }
        while let Some(item) = dec.finish(&mut buf) {
            out.push(item);
        }
        assert!(buf.is_empty());
        out
    }

    fn ok(s: &str) -> Item {
        Ok(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn too_long(max_frame_len: usize) -> Item {
        Err(FrameError::TooLong { max_frame_len })
    }

    #[test]
    fn frames_survive_every_split() {
        let input: &[u8] =
            b"{\"a\":1}\n\r\n{\"b\":2}\r\n   \n\n{\"toolongforthelimit\":0}\nx\xffy\n{\"c\":3}\r";
        let whole = run(&mut LineDecoder::new(16), &[input]);
        assert_eq!(
            whole,
            vec![
                ok("{\"a\":1}"),
                ok("{\"b\":2}"),
                too_long(16),
                Err(FrameError::InvalidUtf8 { valid_up_to: 1 }),
                ok("{\"c\":3}"),
            ]
        );
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let (a, rest) = input.split_at(i);
                let (b, c) = rest.split_at(j - i);
                let got = run(&mut LineDecoder::new(16), &[a, b, c]);
                assert_eq!(got, whole, "split at {i}, {j}");
            }
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(&mut LineDecoder::new(16), &bytes), whole);
    }

    #[test]
    fn crlf_and_blank_lines() {
        let got = run(
            &mut LineDecoder::new(64),
            &[b"\n\r\n \t \r\n{}\r\n\r\n[1]\n\n"],
        );
        assert_eq!(got, vec![ok("{}"), ok("[1]")]);
    }

    #[test]
    fn partial_tail_stays_in_buffer() {
        let mut dec = LineDecoder::new(64);
        let mut buf = BytesMut::from(&b"{\"a\":1}\n{\"b\""[..]);
        assert_eq!(dec.decode(&mut buf), Some(ok("{\"a\":1}")));
        assert_eq!(dec.decode(&mut buf), None);
        assert_eq!(&buf[..], b"{\"b\"");
        buf.extend_from_slice(b":2}\n");
        assert_eq!(dec.decode(&mut buf), Some(ok("{\"b\":2}")));
        assert!(buf.is_empty());
    }

    #[test]
    fn frame_at_exact_limit_is_accepted() {
        let got = run(&mut LineDecoder::new(4), &[b"1234\r\n12345\n1234\n"]);
        assert_eq!(got, vec![ok("1234"), too_long(4), ok("1234")]);
        // The `\r` of a CRLF may sit just past the limit while the `\n` is still in flight.
        let got = run(&mut LineDecoder::new(4), &[b"1234\r", b"\n"]);
        assert_eq!(got, vec![ok("1234")]);
    }

    #[test]
    fn oversized_then_good_frame() {
        let mut dec = LineDecoder::new(8);
        let mut buf = BytesMut::from(&b"0123456789abcdef"[..]);
        assert_eq!(dec.decode(&mut buf), Some(too_long(8)));
        assert_eq!(dec.decode(&mut buf), None);
        buf.extend_from_slice(b"more junk\n{\"ok\":1}\n");
        assert_eq!(dec.decode(&mut buf), Some(ok("{\"ok\":1}")));
        assert_eq!(dec.decode(&mut buf), None);
    }

    #[test]
    fn oversized_in_tiny_chunks_stays_bounded() {
        let max = 32;
        let mut dec = LineDecoder::new(max);
        let mut buf = BytesMut::new();
        let mut errors = 0;
        for _ in 0..10_000 {
            buf.extend_from_slice(b"abc");
            while let Some(item) = dec.decode(&mut buf) {
                assert_eq!(item, too_long(max));
                errors += 1;
            }
            assert!(buf.len() <= max + 1, "buffer grew to {}", buf.len());
        }
        assert_eq!(errors, 1);
        buf.extend_from_slice(b"\n{}\n");
        assert_eq!(dec.decode(&mut buf), Some(ok("{}")));
    }

    #[test]
    fn byte_at_a_time_is_linear() {
        // Quadratic rescanning would need ~10^10 steps here and never finish in a test run.
        let len = 200_000;
        let mut dec = LineDecoder::new(len);
        let mut buf = BytesMut::with_capacity(len + 1);
        for _ in 0..len {
            buf.extend_from_slice(b"x");
            assert!(dec.decode(&mut buf).is_none());
        }
        buf.extend_from_slice(b"\n");
        let frame = dec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(frame.len(), len);
    }

    #[test]
    fn invalid_utf8_then_good_frame() {
        let got = run(
            &mut LineDecoder::new(64),
            &[b"{\"s\":\"\xc3\x28\"}\n{\"ok\":true}\n"],
        );
        assert_eq!(
            got,
            vec![
                Err(FrameError::InvalidUtf8 { valid_up_to: 6 }),
                ok("{\"ok\":true}")
            ]
        );
    }

    #[test]
    fn finish_yields_unterminated_last_line() {
        assert_eq!(
            run(&mut LineDecoder::new(64), &[b"{}\n[2]"]),
            vec![ok("{}"), ok("[2]")]
        );
        assert_eq!(run(&mut LineDecoder::new(64), &[b"[2]\r"]), vec![ok("[2]")]);
        assert_eq!(run(&mut LineDecoder::new(64), &[b"  "]), vec![]);
        // A truncated oversized line was already reported; EOF does not report it again.
        assert_eq!(
            run(&mut LineDecoder::new(2), &[b"[1,2,3"]),
            vec![too_long(2)]
        );
    }

    #[test]
    fn finish_resets_for_a_new_stream() {
        let mut dec = LineDecoder::new(4);
        let mut buf = BytesMut::from(&b"toolong"[..]);
        assert_eq!(dec.decode(&mut buf), Some(too_long(4)));
        assert_eq!(dec.finish(&mut buf), None);
        buf.extend_from_slice(b"[1]\n");
        assert_eq!(dec.decode(&mut buf), Some(ok("[1]")));
    }

    #[test]
    fn decoded_frames_share_the_input_allocation() {
        let mut dec = LineDecoder::new(64);
        let mut buf = BytesMut::from(&b"{\"a\":1}\n"[..]);
        let base = buf.as_ptr();
        let frame = dec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(frame.as_ptr(), base);
    }

    #[test]
    fn encode_round_trips_and_neutralises_newlines() {
        let mut wire = BytesMut::new();
        encode_line(&mut wire, b"{\"a\":1}");
        encode_line(&mut wire, b"{\n\"b\": 2\n}\n");
        assert_eq!(&wire[..], b"{\"a\":1}\n{ \"b\": 2 } \n");
        let got = run(&mut LineDecoder::new(64), &[&wire]);
        assert_eq!(got, vec![ok("{\"a\":1}"), ok("{ \"b\": 2 } ")]);
    }

    #[test]
    fn pseudo_random_input_is_split_invariant() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"\n\r {}a\xff\xc3\xa9";
        for _ in 0..300 {
            let len = (next() % 64) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let max = (next() % 12) as usize;
            let whole = run(&mut LineDecoder::new(max), &[&input]);
            let mut chunks = Vec::new();
            let mut rest = &input[..];
            while !rest.is_empty() {
                let n = ((next() % 5) as usize).min(rest.len());
                let (a, b) = rest.split_at(n);
                chunks.push(a);
                rest = b;
            }
            assert_eq!(run(&mut LineDecoder::new(max), &chunks), whole, "{input:?}");
        }
    }
}
