//! Turning fuzzer bytes into decisions, deterministically.

use bytes::Bytes;
use serde_json::Value;

/// Reads small values off the front of the input; yields zeros once it runs dry, so every
/// input, however short, decodes to something.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte, or 0.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.data.split_at(n.min(self.data.len()));
        self.data = tail;
        head
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// How an input stream is cut into reads: a tiny xorshift generator, so a one-byte seed in the
/// input picks a whole chunking. Seed 0 delivers everything in one read.
#[derive(Debug, Clone)]
pub struct Chunker {
    state: u64,
    whole: bool,
}

impl Chunker {
    /// A chunker derived from `seed` (0: no splitting).
    pub fn new(seed: u8) -> Self {
        Chunker {
            state: 0x9E37_79B9_7F4A_7C15 ^ u64::from(seed).wrapping_mul(0x1000_0000_01B3),
            whole: seed == 0,
        }
    }

    /// One read of everything.
    pub fn whole() -> Self {
        Self::new(0)
    }

    /// A pseudo-random number (also used for other harness decisions).
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    /// Length of the next read when `remaining` bytes are left (at least 1 if any remain).
    pub fn next_len(&mut self, remaining: usize) -> usize {
        if self.whole {
            return remaining;
        }
        let r = self.next_u64();
        let len = match r % 8 {
            0..=3 => 1 + (r >> 8) as usize % 4,
            4..=5 => 1 + (r >> 8) as usize % 32,
            6 => 1 + (r >> 8) as usize % 512,
            _ => remaining,
        };
        len.clamp(1, remaining.max(1))
    }

    /// Cuts `input` into reads.
    pub fn split<'a>(&mut self, mut input: &'a [u8]) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        while !input.is_empty() {
            let (head, tail) = input.split_at(self.next_len(input.len()));
            out.push(head);
            input = tail;
        }
        out
    }
}

/// Checks that a frame a session produced is one JSON-RPC message (or the array answering a
/// batch) on one line. It reads the envelope only, without building a tree: this runs for
/// every frame of every input.
pub fn check_frame(frame: &Bytes) {
    let body = frame
        .strip_suffix(b"\n")
        .unwrap_or_else(|| panic!("frame does not end in a newline: {frame:?}"));
    assert!(
        !body.contains(&b'\n'),
        "frame holds a raw newline: {frame:?}"
    );
    if body.first() == Some(&b'[') {
        let answers: Vec<Envelope<'_>> = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("session wrote an invalid batch answer ({e}): {frame:?}"));
        assert!(!answers.is_empty(), "empty batch answer");
        for a in &answers {
            a.check(frame);
            assert!(
                a.method.is_none(),
                "a batch answer holds only responses: {frame:?}"
            );
        }
        return;
    }
    let env: Envelope<'_> = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("session wrote invalid JSON ({e}): {frame:?}"));
    env.check(frame);
}

/// [`check_frame`], returning the message as a tree for a closer look.
pub fn frame_value(frame: &Bytes) -> Value {
    check_frame(frame);
    serde_json::from_slice(frame).expect("checked above")
}

/// The members `check_frame` looks at; `deny_unknown_fields` is not wanted (`id`, `params`).
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    method: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    result: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

impl Envelope<'_> {
    fn check(&self, frame: &Bytes) {
        assert_eq!(
            self.jsonrpc.as_deref(),
            Some("2.0"),
            "frame is not JSON-RPC 2.0: {frame:?}"
        );
        let kinds = [
            self.method.is_some(),
            self.result.is_some(),
            self.error.is_some(),
        ]
        .iter()
        .filter(|k| **k)
        .count();
        assert_eq!(
            kinds, 1,
            "frame must be exactly one of request/notification/response: {frame:?}"
        );
    }
}
