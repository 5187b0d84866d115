//! Standard base64 (RFC 4648, with padding), for the `=?base64?…?=` header sentinel.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes `text`; `None` unless it is valid padded base64 (the sentinel requires padding).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 {
        return None;
    }
    let text = body;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Decodes unpadded base64url (RFC 4648 §5), the encoding of JWT parts; `None` unless valid.
pub fn decode_url(text: &str) -> Option<Vec<u8>> {
    if text.contains(['+', '/', '=']) {
        return None;
    }
    let mut padded = text.replace('-', "+").replace('_', "/");
    while !padded.len().is_multiple_of(4) {
        padded.push('=');
    }
    decode(&padded)
}

/// A header value for `value`: as is when it is plain visible ASCII without surrounding
/// whitespace, else the `=?base64?…?=` form (2026-07-28 `Mcp-Name` / `Mcp-Param-*`).
pub fn header_value(value: &str) -> String {
    let sentinel_like = value.starts_with("=?base64?") && value.ends_with("?=");
    let padded = value.starts_with(' ') || value.ends_with(' ');
    let visible = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
    let plain = !value.is_empty() && visible && !padded && !sentinel_like;
    if plain {
        value.to_owned()
    } else {
        format!("=?base64?{}?=", encode(value.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_without_padding() {
        // RFC 7515 appendix A.1's protected header.
        assert_eq!(
            decode_url("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9").as_deref(),
            Some(&b"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"[..])
        );
        assert_eq!(decode_url("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
        for bad in ["+/8", "-_8=", "a", "*"] {
            assert_eq!(decode_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_and_spec_examples() {
        for s in [
            "",
            "f",
            "fo",
            "foo",
            "foob",
            "fooba",
            "foobar",
            "Hello, 世界",
        ] {
            assert_eq!(decode(&encode(s.as_bytes())).unwrap(), s.as_bytes());
        }
        assert_eq!(header_value("us-west1"), "us-west1");
        assert_eq!(
            header_value("Hello, 世界"),
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert_eq!(header_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(header_value("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
        assert_eq!(
            header_value("=?base64?literal?="),
            "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
        );
        assert!(decode("a$b=").is_none());
        assert!(decode("SGVsbG8").is_none());
        assert!(decode("SGVsbG8=").is_some());
    }
}
