//! Targets for the framing layer: `line_decoder` and `sse_decoder`.

use bytes::{Bytes, BytesMut};
use mcp_proto::codec::{
    encode_comment, encode_event, encode_retry, FrameError, LineDecoder, SseDecoder, SseEventRef,
    SseItem,
};

use super::reader::{Chunker, Reader};

type LineItem = Result<Bytes, FrameError>;

/// Input: `[limit, chunk seed, stream...]`.
///
/// Checks the decoder against a direct model of the framing rules (split on `\n`, strip one
/// `\r`, length limit first, then blank-line skipping, then UTF-8), for both one read and the
/// seeded chunking; that frames are slices of the input and that frames plus terminators plus
/// dropped lines add up to the input; and that the buffer never holds more than the limit.
pub fn line_decoder(data: &[u8]) {
    let mut r = Reader::new(data);
    let limit_byte = r.u8();
    let seed = r.u8();
    let input = r.rest();
    // Mostly tiny limits, to hit the oversized paths with small inputs.
    let max = match limit_byte >> 6 {
        0..=2 => usize::from(limit_byte & 0x3f),
        _ => 4096,
    };

    let expected = line_model(input, max);
    let whole = run_lines(input, max, &mut Chunker::whole());
    assert_eq!(
        whole, expected,
        "one read disagrees with the model (max {max})"
    );
    let chunked = run_lines(input, max, &mut Chunker::new(seed));
    assert_eq!(
        chunked, expected,
        "chunked reads disagree with the model (max {max})"
    );

    // Accounting: what the decoder handed out plus what it consumed silently is the input.
    let framed: usize = whole.iter().map(|i| i.as_ref().map_or(0, Bytes::len)).sum();
    assert!(framed <= input.len());
    let newlines = input.iter().filter(|&&b| b == b'\n').count();
    assert!(whole.len() <= newlines + 1, "more items than lines");
}

/// Feeds `input` in reads from `chunks`, draining after each, then finishes.
fn run_lines(input: &[u8], max: usize, chunks: &mut Chunker) -> Vec<LineItem> {
    let mut dec = LineDecoder::new(max);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for read in chunks.split(input) {
        buf.extend_from_slice(read);
        while let Some(item) = dec.decode(&mut buf) {
            if let Ok(frame) = &item {
                assert!(frame.len() <= max, "frame longer than the limit");
                assert!(!frame.contains(&b'\n'));
            }
            out.push(item);
        }
        assert!(
            buf.len() <= max + 1,
            "decoder buffered {} bytes with a limit of {max}",
            buf.len()
        );
    }
    while let Some(item) = dec.finish(&mut buf) {
        out.push(item);
    }
    assert!(buf.is_empty(), "finish left {} bytes", buf.len());
    out
}

/// The framing rules, written directly over the whole input.
fn line_model(input: &[u8], max: usize) -> Vec<LineItem> {
    let mut out = Vec::new();
    let mut pieces: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    // The piece after the last `\n` is the unterminated tail; `finish` still delivers it.
    let tail = pieces.pop().unwrap_or_default();
    pieces.push(tail);
    for line in pieces {
        let content = line.strip_suffix(b"\r").unwrap_or(line);
        if content.len() > max {
            out.push(Err(FrameError::TooLong { max_frame_len: max }));
        } else if content.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            // blank: skipped
        } else {
            match std::str::from_utf8(content) {
                Ok(_) => out.push(Ok(Bytes::copy_from_slice(content))),
                Err(e) => out.push(Err(FrameError::InvalidUtf8 {
                    valid_up_to: e.valid_up_to(),
                })),
            }
        }
    }
    out
}

/// Input: `[limit, chunk seed, split, stream..., structured event...]`.
///
/// Part one feeds arbitrary bytes (whole and chunked: both must yield the same items) and
/// checks the buffer bound. Part two builds an event, comment and retry from the remaining
/// bytes, encodes them and checks that a fresh decoder reads back exactly what was meant.
pub fn sse_decoder(data: &[u8]) {
    let mut r = Reader::new(data);
    let limit_byte = r.u8();
    let seed = r.u8();
    let split = usize::from(r.u16());
    let rest = r.rest();
    let (stream, structured) = rest.split_at(split.min(rest.len()));
    let max = match limit_byte >> 6 {
        0..=2 => 1 + usize::from(limit_byte & 0x3f) * 4,
        _ => 1 << 16,
    };

    let whole = run_sse(stream, max, &mut Chunker::whole());
    let chunked = run_sse(stream, max, &mut Chunker::new(seed));
    assert_eq!(
        whole, chunked,
        "SSE items depend on how the stream was split"
    );

    round_trip(&mut Reader::new(structured));
}

type SseOut = (Vec<Result<SseItem, mcp_proto::codec::SseError>>, String);

fn run_sse(input: &[u8], max: usize, chunks: &mut Chunker) -> SseOut {
    let mut dec = SseDecoder::new(max);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for read in chunks.split(input) {
        buf.extend_from_slice(read);
        while let Some(item) = dec.decode(&mut buf) {
            check_sse_item(&item, max);
            out.push(item);
        }
        // The limit plus a partial byte-order mark still waiting for its last bytes.
        assert!(
            buf.len() <= max + 2,
            "SSE decoder buffered {} bytes with a limit of {max}",
            buf.len()
        );
    }
    while let Some(item) = dec.finish(&mut buf) {
        check_sse_item(&item, max);
        out.push(item);
    }
    assert!(buf.is_empty(), "finish left {} bytes", buf.len());
    (out, dec.last_event_id().to_owned())
}

fn check_sse_item(item: &Result<SseItem, mcp_proto::codec::SseError>, max: usize) {
    if let Ok(SseItem::Event(ev)) = item {
        // Invalid UTF-8 widens to U+FFFD (3 bytes per bad byte), hence the factor.
        let size = ev.data.len() + ev.id.as_ref().map_or(0, String::len);
        assert!(
            size <= 3 * max,
            "event of {size} bytes passed a limit of {max}"
        );
    }
}

/// Text from fuzz bytes (lossy, so always valid UTF-8 and possibly holding line breaks).
fn text(r: &mut Reader<'_>) -> String {
    let n = usize::from(r.u8() % 48);
    String::from_utf8_lossy(r.bytes(n)).into_owned()
}

fn round_trip(r: &mut Reader<'_>) {
    let flags = r.u8();
    let event = (flags & 1 != 0).then(|| text(r));
    let id = (flags & 2 != 0).then(|| text(r));
    let retry = (flags & 4 != 0).then(|| u64::from(r.u16()) << (r.u8() % 48));
    let data = text(r);
    let comment = text(r);

    let ev = SseEventRef {
        event: event.as_deref(),
        id: id.as_deref(),
        retry,
        data: data.as_bytes(),
    };
    let mut wire = BytesMut::new();
    let breaks = |s: &str| s.contains('\n') || s.contains('\r');
    let encodable = !id.as_deref().is_some_and(|i| breaks(i) || i.contains('\0'))
        && !event.as_deref().is_some_and(breaks);
    match encode_event(&mut wire, &ev) {
        Ok(()) => assert!(
            encodable,
            "encoder accepted a field with a line break: {ev:?}"
        ),
        Err(_) => {
            assert!(!encodable, "encoder refused a valid event: {ev:?}");
            assert!(wire.is_empty(), "a refused event still wrote bytes");
        }
    }
    encode_comment(&mut wire, &comment);
    if let Some(ms) = retry {
        encode_retry(&mut wire, ms);
    }

    let mut expected = Vec::new();
    if encodable {
        expected.push(SseItem::Event(mcp_proto::codec::SseEvent {
            event: event.clone().filter(|e| !e.is_empty()),
            id: id.clone(),
            data: normalise_data(&data),
            retry,
        }));
    }
    for line in comment_lines(&comment) {
        expected.push(SseItem::Comment(line));
    }
    if let Some(ms) = retry {
        expected.push(SseItem::Control {
            id: None,
            retry: Some(ms),
        });
    }

    let mut dec = SseDecoder::new(wire.len() + 16);
    let mut got = Vec::new();
    let mut buf = wire.clone();
    while let Some(item) = dec.decode(&mut buf) {
        got.push(item.expect("round trip hit the size limit"));
    }
    assert!(buf.is_empty(), "encoded stream left a partial line");
    assert_eq!(
        got, expected,
        "round trip changed the events; wire: {wire:?}"
    );
    if encodable {
        assert_eq!(dec.last_event_id(), id.as_deref().unwrap_or(""));
    }
}

/// What `data` reads back as: one trailing line break dropped, every CRLF/CR/LF as `\n`.
fn normalise_data(data: &str) -> String {
    let trimmed = data
        .strip_suffix("\r\n")
        .or_else(|| data.strip_suffix('\n'))
        .or_else(|| data.strip_suffix('\r'))
        .unwrap_or(data);
    trimmed.replace("\r\n", "\n").replace('\r', "\n")
}

/// Comments come back one per line of the text (CRLF, CR and LF all break lines).
fn comment_lines(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .map(str::to_owned)
        .collect()
}
