//! Server-Sent Events: an incremental parser following the WHATWG `EventSource` stream rules,
//! and an encoder, for the streamable HTTP transport.
//!
//! # Decoding
//!
//! [`SseDecoder::decode`] reads lines ending in LF, CRLF or a lone CR (a CR at the end of one
//! read and an LF at the start of the next count as one line ending), strips one leading UTF-8
//! BOM from the stream, and applies the field rules: `field:value` with one optional space after
//! the colon removed, a line without a colon is a field with an empty value, unknown fields are
//! ignored, an `id` containing NUL is ignored, `retry` is accepted only if it is all ASCII
//! digits. Bytes that are not valid UTF-8 decode to U+FFFD, as the standard requires.
//!
//! A blank line ends a block and yields:
//! - [`SseItem::Event`] if the block had at least one `data` line (even an empty one, so an MCP
//!   priming event `id: 1\ndata: \n\n` arrives as an event with empty data and id `1`);
//! - [`SseItem::Control`] if it had no `data` but set `id` and/or `retry`: the standard
//!   dispatches nothing, yet the last event id and the reconnection delay still change;
//! - nothing otherwise.
//!
//! Comment lines (`: keep-alive`) are surfaced at once as [`SseItem::Comment`], so a client
//! can treat them as liveness signals. An unterminated block at end of stream is discarded.
//!
//! # Encoding
//!
//! [`encode_event`] writes an [`SseEventRef`] (borrowed, so a JSON frame is written straight
//! from its `Bytes`); [`encode_comment`] and [`encode_retry`] cover keep-alives and reconnection
//! hints.
//!
//! ```
//! use bytes::BytesMut;
//! use mcp_proto::codec::{encode_event, SseDecoder, SseEventRef, SseItem};
//!
//! let mut wire = BytesMut::new();
//! encode_event(&mut wire, &SseEventRef::new(b"{\"jsonrpc\":\"2.0\"}\n").id("7")).unwrap();
//! assert_eq!(&wire[..], b"id: 7\ndata: {\"jsonrpc\":\"2.0\"}\n\n");
//!
//! let mut dec = SseDecoder::new(1 << 20);
//! match dec.decode(&mut wire) {
//!     Some(Ok(SseItem::Event(ev))) => {
//!         assert_eq!(ev.data, "{\"jsonrpc\":\"2.0\"}");
//!         assert_eq!(ev.id.as_deref(), Some("7"));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! assert_eq!(dec.last_event_id(), "7");
//! ```

use bytes::{Buf, BytesMut};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A fault in an inbound event stream. Decoding continues after it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// The event being assembled grew past the decoder's limit. Reported once; the event is
    /// dropped and decoding resumes after the next blank line.
    #[error("SSE event exceeds the limit of {max_event_len} bytes")]
    TooLong {
        /// The limit that was exceeded.
        max_event_len: usize,
    },
}

/// A value the encoder cannot write without changing the stream's meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseEncodeError {
    /// An `id` or `event` value contains CR or LF (or, for `id`, NUL, which readers ignore).
    #[error("SSE `{field}` value contains a line break or NUL")]
    InvalidField {
        /// `"id"` or `"event"`.
        field: &'static str,
    },
}

/// A dispatched event: a block that contained at least one `data` line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event` field; `None` when absent or empty (the standard's type `"message"`).
    pub event: Option<String>,
    /// The `id` field if this block set one. `Some("")` clears the last event id.
    /// [`SseDecoder::last_event_id`] keeps the value in effect across blocks.
    pub id: Option<String>,
    /// The `data` lines joined with `\n` (no trailing newline). May be empty.
    pub data: String,
    /// The `retry` field (reconnection delay in milliseconds) if this block set one.
    pub retry: Option<u64>,
}

/// One thing the decoder found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// An event to deliver.
    Event(SseEvent),
    /// A block without `data` that set `id` and/or `retry`: record them, deliver nothing.
    ///
    /// Also returned by [`SseDecoder::finish`] (with `id: None`) for a `retry` in a block the
    /// stream cut short, since a reconnection delay takes effect as soon as it is read.
    Control {
        /// The new last event id, if the block set one (`Some("")` clears it).
        id: Option<String>,
        /// The new reconnection delay in milliseconds, if the block set one.
        retry: Option<u64>,
    },
    /// A comment line, without its leading `:` and one following space. Servers send these
    /// as keep-alives.
    Comment(String),
}

/// Incremental SSE parser bounding memory by a per-event limit.
///
/// Feed it a buffer that you only ever append to; each [`decode`](Self::decode) call consumes
/// input up to the next item. Scanning resumes where it stopped, so tiny reads cost linear
/// time. While a call returns `None`, `buf` plus the event being assembled stay within
/// `max_event_len` bytes (plus at most a 2-byte partial BOM).
///
/// The limit counts the raw bytes of the block's `data`, `event` and `id` lines, and the length
/// of any single line (a line of another kind cannot be judged until it ends).
#[derive(Debug, Clone)]
pub struct SseDecoder {
    max_event_len: usize,
    /// Still at the start of the stream, where one BOM may appear.
    at_stream_start: bool,
    /// The previous line ended in CR: an LF that follows belongs to it.
    skip_lf: bool,
    /// Bytes at the front of the buffer already known to hold no CR or LF.
    scanned: usize,
    /// Dropping an oversized event up to the next blank line.
    discarding: bool,
    /// While discarding: the current line has content, so its end is not a blank line.
    discard_line_has_content: bool,
    block: Block,
    last_event_id: String,
}

/// Fields of the block being assembled.
#[derive(Debug, Clone, Default)]
struct Block {
    /// Raw bytes of retained lines, for the size limit.
    len: usize,
    /// `data` values, each followed by `\n`; non-empty iff a `data` line was seen.
    data: String,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
}

/// The result of looking for one line at the front of the buffer.
enum Scan {
    /// A line of `len` bytes ends there; its terminator is `terminator_len` bytes long.
    Line { len: usize, terminator_len: usize },
    /// No line ending yet; `len` bytes of a partial line are buffered.
    Partial { len: usize },
}

impl SseDecoder {
    /// A decoder that rejects events larger than `max_event_len` bytes.
    pub fn new(max_event_len: usize) -> Self {
        SseDecoder {
            max_event_len,
            at_stream_start: true,
            skip_lf: false,
            scanned: 0,
            discarding: false,
            discard_line_has_content: false,
            block: Block::default(),
            last_event_id: String::new(),
        }
    }

    /// The event size limit this decoder was built with.
    pub fn max_event_len(&self) -> usize {
        self.max_event_len
    }

    /// The last event id in effect: set by every completed block that carried a valid `id`,
    /// kept across [`finish`](Self::finish). Empty means none (send no `Last-Event-ID`).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Consumes input from the front of `buf` up to and including the next item.
    ///
    /// Returns `None` when more bytes are needed (a partial line stays in `buf`; append and
    /// call again). `Some(Err(_))` reports an oversized event that is being skipped; keep
    /// calling.
    #[must_use = "a returned item is removed from the buffer"]
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Result<SseItem, SseError>> {
        loop {
            if self.at_stream_start {
                let n = buf.len().min(BOM.len());
                if buf.get(..n) != BOM.get(..n) {
                    self.at_stream_start = false;
                } else if n == BOM.len() {
                    buf.advance(n);
                    self.at_stream_start = false;
                } else {
                    return None; // empty, or a prefix of a BOM: wait for more
                }
            }
            if self.skip_lf {
                match buf.first() {
                    None => return None,
                    Some(b'\n') => buf.advance(1),
                    Some(_) => {}
                }
                self.skip_lf = false;
            }

            match self.scan(buf) {
                Scan::Partial { len } => {
                    if self.discarding {
                        self.discard_line_has_content |= len > 0;
                        buf.clear();
                        self.scanned = 0;
                        return None;
                    }
                    if self.block.len.saturating_add(len) > self.max_event_len {
                        buf.clear();
                        self.scanned = 0;
                        return Some(Err(self.start_discarding(true)));
                    }
                    return None;
                }
                Scan::Line {
                    len,
                    terminator_len,
                } => {
                    self.scanned = 0;
                    let item = if self.discarding {
                        if len == 0 && !self.discard_line_has_content {
                            self.discarding = false;
                        }
                        self.discard_line_has_content = false;
                        None
                    } else if self.block.len.saturating_add(len) > self.max_event_len {
                        Some(Err(self.start_discarding(false)))
                    } else {
                        buf.get(..len).and_then(|line| self.line(line)).map(Ok)
                    };
                    buf.advance((len + terminator_len).min(buf.len()));
                    if item.is_some() {
                        return item;
                    }
                }
            }
        }
    }

    /// Call at end of a stream: yields what [`decode`](Self::decode) still finds, then a
    /// [`SseItem::Control`] for a `retry` read in the unterminated last block, if any.
    ///
    /// Call it until it returns `None`; by then `buf` is empty and the decoder is ready for a
    /// new stream (a reconnection), keeping only [`last_event_id`](Self::last_event_id). Per
    /// the standard, an unterminated event or partial line is dropped.
    #[must_use = "a returned item is removed from the buffer"]
    pub fn finish(&mut self, buf: &mut BytesMut) -> Option<Result<SseItem, SseError>> {
        if let Some(item) = self.decode(buf) {
            return Some(item);
        }
        if let Some(retry) = self.block.retry.take() {
            return Some(Ok(SseItem::Control {
                id: None,
                retry: Some(retry),
            }));
        }
        buf.clear();
        let last_event_id = std::mem::take(&mut self.last_event_id);
        *self = SseDecoder::new(self.max_event_len);
        self.last_event_id = last_event_id;
        None
    }

    /// Finds the first CR or LF at or after the already scanned prefix.
    fn scan(&mut self, buf: &[u8]) -> Scan {
        let start = self.scanned.min(buf.len());
        let found = buf
            .get(start..)
            .and_then(|rest| memchr::memchr2(b'\n', b'\r', rest))
            .map(|i| start + i);
        let Some(pos) = found else {
            self.scanned = buf.len();
            return Scan::Partial { len: buf.len() };
        };
        let terminator_len = match (buf.get(pos), buf.get(pos + 1)) {
            (Some(b'\r'), Some(b'\n')) => 2,
            (Some(b'\r'), None) => {
                // The LF of a CRLF may still be in flight.
                self.skip_lf = true;
                1
            }
            _ => 1,
        };
        Scan::Line {
            len: pos,
            terminator_len,
        }
    }

    /// Drops the block in progress and skips input up to the next blank line.
    fn start_discarding(&mut self, mid_line: bool) -> SseError {
        self.block = Block::default();
        self.discarding = true;
        self.discard_line_has_content = mid_line;
        SseError::TooLong {
            max_event_len: self.max_event_len,
        }
    }

    /// Applies one complete line (terminator removed).
    fn line(&mut self, line: &[u8]) -> Option<SseItem> {
        if line.is_empty() {
            return self.dispatch();
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let (name, rest) = line.split_at(colon);
                let value = rest.get(1..).unwrap_or_default();
                (name, value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"" => return Some(SseItem::Comment(text(value))),
            b"data" => {
                self.block.data.push_str(&String::from_utf8_lossy(value));
                self.block.data.push('\n');
            }
            b"event" => self.block.event = Some(text(value)),
            b"id" if !value.contains(&0) => self.block.id = Some(text(value)),
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let millis = value.iter().fold(0u64, |acc, &d| {
                    acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
                self.block.retry = Some(millis);
            }
            _ => return None, // unknown field, or an ignored `id`/`retry`
        }
        if matches!(name, b"data" | b"event" | b"id") {
            self.block.len = self.block.len.saturating_add(line.len());
        }
        None
    }

    /// Handles a blank line: ends the block.
    fn dispatch(&mut self) -> Option<SseItem> {
        let Block {
            mut data,
            event,
            id,
            retry,
            ..
        } = std::mem::take(&mut self.block);
        if let Some(id) = &id {
            self.last_event_id.clone_from(id);
        }
        if data.is_empty() {
            return (id.is_some() || retry.is_some()).then_some(SseItem::Control { id, retry });
        }
        data.pop(); // the `\n` after the last data line
        Some(SseItem::Event(SseEvent {
            event: event.filter(|e| !e.is_empty()),
            id,
            data,
            retry,
        }))
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A borrowed event to encode; build one with [`SseEventRef::new`] and the setters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SseEventRef<'a> {
    /// The `event` field (omitted when `None` or empty).
    pub event: Option<&'a str>,
    /// The `id` field.
    pub id: Option<&'a str>,
    /// The `retry` field, in milliseconds.
    pub retry: Option<u64>,
    /// The payload, expected to be UTF-8. Each line break (LF, CRLF or CR) starts a new `data`
    /// line, so it reads back as `\n`; one trailing line break is dropped.
    pub data: &'a [u8],
}

impl<'a> SseEventRef<'a> {
    /// An event carrying `data` and no other fields.
    pub fn new(data: &'a [u8]) -> Self {
        SseEventRef {
            data,
            ..SseEventRef::default()
        }
    }

    /// Sets the `id` field.
    #[must_use]
    pub fn id(mut self, id: &'a str) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the `event` field.
    #[must_use]
    pub fn event(mut self, event: &'a str) -> Self {
        self.event = Some(event);
        self
    }

    /// Sets the `retry` field (milliseconds).
    #[must_use]
    pub fn retry(mut self, millis: u64) -> Self {
        self.retry = Some(millis);
        self
    }
}

impl<'a> From<&'a SseEvent> for SseEventRef<'a> {
    fn from(ev: &'a SseEvent) -> Self {
        SseEventRef {
            event: ev.event.as_deref(),
            id: ev.id.as_deref(),
            retry: ev.retry,
            data: ev.data.as_bytes(),
        }
    }
}

/// Appends `event` (its fields, at least one `data` line, and the blank line) to `dst`.
///
/// Fails, leaving `dst` untouched, if `id` or `event` holds a line break or `id` holds NUL.
pub fn encode_event(dst: &mut BytesMut, event: &SseEventRef<'_>) -> Result<(), SseEncodeError> {
    let breaks = |s: &str| s.bytes().any(|b| b == b'\n' || b == b'\r');
    if event.id.is_some_and(|id| breaks(id) || id.contains('\0')) {
        return Err(SseEncodeError::InvalidField { field: "id" });
    }
    if event.event.is_some_and(breaks) {
        return Err(SseEncodeError::InvalidField { field: "event" });
    }

    dst.reserve(event.data.len() + 32);
    if let Some(name) = event.event.filter(|e| !e.is_empty()) {
        put_field(dst, b"event", name.as_bytes());
    }
    if let Some(id) = event.id {
        put_field(dst, b"id", id.as_bytes());
    }
    if let Some(millis) = event.retry {
        put_field(dst, b"retry", millis.to_string().as_bytes());
    }
    let data = strip_line_break(event.data);
    for line in Lines(Some(data)) {
        put_field(dst, b"data", line);
    }
    dst.extend_from_slice(b"\n");
    Ok(())
}

/// Appends a comment (`: text`) to `dst`, one comment line per line of `text`.
/// Readers ignore comments; servers send them as keep-alives.
pub fn encode_comment(dst: &mut BytesMut, text: &str) {
    for line in Lines(Some(text.as_bytes())) {
        dst.extend_from_slice(b":");
        if !line.is_empty() {
            dst.extend_from_slice(b" ");
            dst.extend_from_slice(line);
        }
        dst.extend_from_slice(b"\n");
    }
}

/// Appends a block that only sets the reconnection delay (`retry: millis` and a blank line);
/// it decodes as [`SseItem::Control`].
pub fn encode_retry(dst: &mut BytesMut, millis: u64) {
    put_field(dst, b"retry", millis.to_string().as_bytes());
    dst.extend_from_slice(b"\n");
}

fn put_field(dst: &mut BytesMut, name: &[u8], value: &[u8]) {
    dst.extend_from_slice(name);
    if value.is_empty() {
        dst.extend_from_slice(b":\n");
    } else {
        dst.extend_from_slice(b": ");
        dst.extend_from_slice(value);
        dst.extend_from_slice(b"\n");
    }
}

/// Removes one trailing LF, CRLF or CR.
fn strip_line_break(data: &[u8]) -> &[u8] {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    data.strip_suffix(b"\r").unwrap_or(data)
}

/// Splits on LF, CRLF and CR; always yields at least one (possibly empty) line.
struct Lines<'a>(Option<&'a [u8]>);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.0?;
        match memchr::memchr2(b'\n', b'\r', rest) {
            None => {
                self.0 = None;
                Some(rest)
            }
            Some(pos) => {
                let (line, tail) = rest.split_at(pos);
                let skip = if tail.starts_with(b"\r\n") { 2 } else { 1 };
                self.0 = Some(tail.get(skip..).unwrap_or_default());
                Some(line)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Item = Result<SseItem, SseError>;

    fn run_with(dec: &mut SseDecoder, chunks: &[&[u8]]) -> Vec<Item> {
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

    fn run(chunks: &[&[u8]]) -> Vec<Item> {
        run_with(&mut SseDecoder::new(1024), chunks)
    }

    fn data(d: &str) -> Item {
        Ok(SseItem::Event(SseEvent {
            data: d.into(),
            ..SseEvent::default()
        }))
    }

    fn event(event: Option<&str>, id: Option<&str>, d: &str, retry: Option<u64>) -> Item {
        Ok(SseItem::Event(SseEvent {
            event: event.map(Into::into),
            id: id.map(Into::into),
            data: d.into(),
            retry,
        }))
    }

    fn comment(c: &str) -> Item {
        Ok(SseItem::Comment(c.into()))
    }

    fn too_long(max_event_len: usize) -> Item {
        Err(SseError::TooLong { max_event_len })
    }

    /// Checks that every two-way and three-way split of `input` decodes like the whole.
    fn assert_split_invariant(max: usize, input: &[u8]) -> Vec<Item> {
        let whole = run_with(&mut SseDecoder::new(max), &[input]);
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let (a, rest) = input.split_at(i);
                let (b, c) = rest.split_at(j - i);
                let got = run_with(&mut SseDecoder::new(max), &[a, b, c]);
                assert_eq!(got, whole, "split at {i}, {j}");
            }
        }
        whole
    }

    #[test]
    fn multi_line_data() {
        assert_eq!(
            run(&[b"data: YHOO\ndata: +2\ndata: 10\n\n"]),
            vec![data("YHOO\n+2\n10")]
        );
    }

    #[test]
    fn standard_example_with_ids_and_comments() {
        let input = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n";
        let mut dec = SseDecoder::new(1024);
        let got = run_with(&mut dec, &[input]);
        assert_eq!(
            got,
            vec![
                comment("test stream"),
                event(None, Some("1"), "first event", None),
                event(None, Some(""), "second event", None),
                data(" third event"),
            ]
        );
        assert_eq!(dec.last_event_id(), "");
    }

    #[test]
    fn empty_data_lines_and_unterminated_event() {
        assert_eq!(
            run(&[b"data\n\ndata\ndata\n\ndata:"]),
            vec![data(""), data("\n")]
        );
        assert_eq!(
            run(&[b"data:test\n\ndata: test\n\n"]),
            vec![data("test"), data("test")]
        );
    }

    #[test]
    fn line_ending_variants_agree() {
        let lf = b"event: add\ndata: a\ndata: b\nid: 9\n\n: ka\ndata\n\n".to_vec();
        let expect = vec![
            event(Some("add"), Some("9"), "a\nb", None),
            comment("ka"),
            data(""),
        ];
        let swap = |to: &[u8]| -> Vec<u8> {
            lf.iter()
                .flat_map(|&b| if b == b'\n' { to.to_vec() } else { vec![b] })
                .collect()
        };
        for input in [lf.clone(), swap(b"\r\n"), swap(b"\r")] {
            assert_eq!(assert_split_invariant(1024, &input), expect, "{input:?}");
        }
        // Mixed endings in one stream.
        assert_eq!(
            run(&[b"data: a\r\ndata: b\rdata: c\n\r\n"]),
            vec![data("a\nb\nc")]
        );
    }

    #[test]
    fn cr_at_chunk_end_then_lf_is_one_line_ending() {
        assert_eq!(
            run(&[b"data: x\r", b"\ndata: y\r", b"\n\r", b"\n"]),
            vec![data("x\ny")]
        );
        // Whereas CR, CR is a line and a blank line.
        assert_eq!(run(&[b"data: x\r", b"\r"]), vec![data("x")]);
    }

    #[test]
    fn bom_is_stripped_once_at_stream_start() {
        assert_eq!(run(&[b"\xEF\xBB\xBFdata: a\n\n"]), vec![data("a")]);
        assert_eq!(
            run(&[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"]),
            vec![data("a")]
        );
        // A second BOM is part of the field name, which is then unknown.
        assert_eq!(run(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n"]), vec![]);
        assert_eq!(
            run(&[b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"]),
            vec![data("a")]
        );
        // A partial BOM prefix that turns out not to be one is kept.
        assert_eq!(run(&[b"\xEF", b"x\n"]), vec![]);
        assert_eq!(run(&[b"\xEF\xBB:\n"]), vec![]);
    }

    #[test]
    fn finish_rearms_bom_and_keeps_last_event_id() {
        let mut dec = SseDecoder::new(64);
        assert_eq!(run_with(&mut dec, &[b"id: 4\ndata: a\n\n"]).len(), 1);
        assert_eq!(
            run_with(&mut dec, &[b"\xEF\xBB\xBFdata: b\n\n"]),
            vec![data("b")]
        );
        assert_eq!(dec.last_event_id(), "4");
    }

    #[test]
    fn field_parsing_rules() {
        let input = b"data:no-space\ndata:  two-spaces\nfoo: bar\nDATA: upper\ndata\nevent\nid\n\n";
        assert_eq!(
            run(&[input]),
            vec![event(None, Some(""), "no-space\n two-spaces\n", None)]
        );
        // A field value may contain colons.
        assert_eq!(run(&[b"data: a:b: c\n\n"]), vec![data("a:b: c")]);
        // Invalid UTF-8 becomes U+FFFD.
        assert_eq!(run(&[b"data: \xff\n\n"]), vec![data("\u{FFFD}")]);
    }

    #[test]
    fn id_with_nul_is_ignored() {
        let mut dec = SseDecoder::new(64);
        let got = run_with(&mut dec, &[b"id: 1\n\nid: a\0b\ndata: x\n\n"]);
        assert_eq!(
            got,
            vec![
                Ok(SseItem::Control {
                    id: Some("1".into()),
                    retry: None
                }),
                data("x"),
            ]
        );
        assert_eq!(dec.last_event_id(), "1");
    }

    #[test]
    fn priming_event_and_id_only_block() {
        assert_eq!(
            run(&[b"id: 1\ndata: \n\n"]),
            vec![event(None, Some("1"), "", None)]
        );
        let mut dec = SseDecoder::new(64);
        assert_eq!(
            run_with(&mut dec, &[b"id: 42\n\nevent: only-type\n\n"]),
            vec![Ok(SseItem::Control {
                id: Some("42".into()),
                retry: None
            })]
        );
        assert_eq!(dec.last_event_id(), "42");
        // An id in an unterminated block is not applied.
        assert_eq!(run_with(&mut dec, &[b"id: 43\n"]), vec![]);
        assert_eq!(dec.last_event_id(), "42");
    }

    #[test]
    fn retry_parsing() {
        let control = |r| {
            Ok(SseItem::Control {
                id: None,
                retry: Some(r),
            })
        };
        assert_eq!(run(&[b"retry: 1500\n\n"]), vec![control(1500)]);
        assert_eq!(run(&[b"retry:0\n\n"]), vec![control(0)]);
        assert_eq!(
            run(&[b"retry: 99999999999999999999999\n\n"]),
            vec![control(u64::MAX)]
        );
        for bad in [
            &b"retry: 10a\n\n"[..],
            b"retry: -1\n\n",
            b"retry:\n\n",
            b"retry: 1 \n\n",
            b"retry\n\n",
        ] {
            assert_eq!(run(&[bad]), vec![], "{bad:?}");
        }
        assert_eq!(
            run(&[b"retry: 7\ndata: x\n\n"]),
            vec![event(None, None, "x", Some(7))]
        );
        // A retry in a block the stream cut short still takes effect.
        assert_eq!(run(&[b"retry: 9\ndata: x\n"]), vec![control(9)]);
    }

    #[test]
    fn comments_are_surfaced() {
        assert_eq!(
            run(&[b": keep-alive\n:\n::x\n:  two\n"]),
            vec![
                comment("keep-alive"),
                comment(""),
                comment(":x"),
                comment(" two")
            ]
        );
    }

    #[test]
    fn oversized_event_resyncs_at_blank_line() {
        let input =
            b"data: ok\n\ndata: 0123456789\ndata: 0123456789\ndata: more\n\ndata: after\n\n";
        assert_eq!(
            assert_split_invariant(24, input),
            vec![data("ok"), too_long(24), data("after")]
        );
        // A single line longer than the limit, complete or partial.
        let input = b"data: 0123456789012345678901234567890123\r\nid: 3\r\n\r\n: hi\r\n";
        assert_eq!(
            assert_split_invariant(24, input),
            vec![too_long(24), comment("hi")]
        );
    }

    #[test]
    fn oversized_in_tiny_chunks_stays_bounded() {
        let max = 64;
        let mut dec = SseDecoder::new(max);
        let mut buf = BytesMut::new();
        let mut errors = 0;
        buf.extend_from_slice(b"data: ");
        for i in 0..20_000 {
            buf.extend_from_slice(if i % 100 == 99 { b"\ndata: " } else { b"x" });
            while let Some(item) = dec.decode(&mut buf) {
                assert_eq!(item, too_long(max));
                errors += 1;
            }
            assert!(
                buf.len() + dec.block.data.len() <= max,
                "grew to {}",
                buf.len()
            );
        }
        assert_eq!(errors, 1);
        buf.extend_from_slice(b"\n\ndata: fine\n\n");
        assert_eq!(dec.decode(&mut buf), Some(data("fine")));
    }

    #[test]
    fn keep_alive_comments_do_not_count_toward_the_limit() {
        let mut input = Vec::new();
        for _ in 0..100 {
            input.extend_from_slice(b": keep-alive\n");
        }
        input.extend_from_slice(b"data: x\n\n");
        let got = run_with(&mut SseDecoder::new(16), &[&input]);
        assert_eq!(got.len(), 101);
        assert_eq!(got.last(), Some(&data("x")));
    }

    #[test]
    fn byte_at_a_time_is_linear() {
        let len = 200_000;
        let mut dec = SseDecoder::new(len + 16);
        let mut buf = BytesMut::from(&b"data: "[..]);
        for _ in 0..len {
            buf.extend_from_slice(b"x");
            assert!(dec.decode(&mut buf).is_none());
        }
        buf.extend_from_slice(b"\n\n");
        match dec.decode(&mut buf) {
            Some(Ok(SseItem::Event(ev))) => assert_eq!(ev.data.len(), len),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn encoder_output() {
        let mut out = BytesMut::new();
        encode_event(
            &mut out,
            &SseEventRef::new(b"{\"a\":1}\n")
                .id("5")
                .event("message")
                .retry(3000),
        )
        .unwrap();
        assert_eq!(
            &out[..],
            b"event: message\nid: 5\nretry: 3000\ndata: {\"a\":1}\n\n"
        );

        out.clear();
        encode_event(&mut out, &SseEventRef::new(b"").id("0")).unwrap();
        assert_eq!(&out[..], b"id: 0\ndata:\n\n");

        out.clear();
        encode_event(&mut out, &SseEventRef::new(b"a\nb\r\nc\rd\r\n")).unwrap();
        assert_eq!(&out[..], b"data: a\ndata: b\ndata: c\ndata: d\n\n");

        out.clear();
        encode_comment(&mut out, "keep-alive");
        encode_comment(&mut out, "");
        encode_comment(&mut out, "two\nlines");
        encode_retry(&mut out, 250);
        assert_eq!(&out[..], b": keep-alive\n:\n: two\n: lines\nretry: 250\n\n");
    }

    #[test]
    fn encoder_rejects_fields_that_would_break_framing() {
        let mut out = BytesMut::from(&b"prefix"[..]);
        let bad_id = SseEventRef::new(b"x").id("1\n");
        let nul_id = SseEventRef::new(b"x").id("1\0");
        let bad_event = SseEventRef::new(b"x").event("a\rb");
        assert_eq!(
            encode_event(&mut out, &bad_id),
            Err(SseEncodeError::InvalidField { field: "id" })
        );
        assert_eq!(
            encode_event(&mut out, &nul_id),
            Err(SseEncodeError::InvalidField { field: "id" })
        );
        assert_eq!(
            encode_event(&mut out, &bad_event),
            Err(SseEncodeError::InvalidField { field: "event" })
        );
        assert_eq!(&out[..], b"prefix");
    }

    #[test]
    fn round_trip_at_every_split_point() {
        let events = [
            SseEvent {
                id: Some("1".into()),
                ..SseEvent::default()
            },
            SseEvent {
                event: Some("progress".into()),
                id: Some("stream-1:2".into()),
                data: "{\"jsonrpc\":\"2.0\",\"method\":\"x\"}".into(),
                retry: Some(1000),
            },
            SseEvent {
                data: "line one\n  line two\n\nlast".into(),
                ..SseEvent::default()
            },
            SseEvent {
                id: Some(String::new()),
                data: " leading space, ünïcödé".into(),
                ..SseEvent::default()
            },
        ];
        let mut wire = BytesMut::from(&b"\xEF\xBB\xBF"[..]);
        let mut expect = Vec::new();
        for (i, ev) in events.iter().enumerate() {
            encode_event(&mut wire, &SseEventRef::from(ev)).unwrap();
            expect.push(Ok(SseItem::Event(ev.clone())));
            if i == 1 {
                encode_comment(&mut wire, "keep-alive");
                expect.push(comment("keep-alive"));
            }
        }
        // JSON frames end in a newline; it must not add an empty data line.
        encode_event(&mut wire, &SseEventRef::new(b"{}\n")).unwrap();
        expect.push(data("{}"));

        assert_eq!(assert_split_invariant(1024, &wire), expect);
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(run(&bytes), expect);
    }

    #[test]
    fn pseudo_random_input_is_split_invariant() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pieces: [&[u8]; 14] = [
            b"\n",
            b"\r",
            b"\r\n",
            b":",
            b" ",
            b"data",
            b"id",
            b"event",
            b"retry",
            b"12",
            b"x",
            b"\0",
            b"\xEF\xBB\xBF",
            b"\xff",
        ];
        for _ in 0..500 {
            let mut input = Vec::new();
            for _ in 0..(next() % 40) {
                input.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let max = (next() % 24) as usize;
            let whole = run_with(&mut SseDecoder::new(max), &[&input]);
            let mut chunks = Vec::new();
            let mut rest = &input[..];
            while !rest.is_empty() {
                let n = ((next() % 6) as usize).min(rest.len());
                let (a, b) = rest.split_at(n);
                chunks.push(a);
                rest = b;
            }
            let got = run_with(&mut SseDecoder::new(max), &chunks);
            assert_eq!(got, whole, "{input:?} max {max}");
        }
    }
}
