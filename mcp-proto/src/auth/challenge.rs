//! `WWW-Authenticate` (RFC 9110 §11.6.1): parsing the challenges a resource server sends, and
//! building the Bearer challenge a server sends (RFC 6750 §3, RFC 9728 §5.1).

/// One challenge: an auth scheme with its parameters (or a token68).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    /// The scheme as written (`Bearer`, `DPoP` …); compare it case-insensitively.
    pub scheme: String,
    /// `name=value` parameters, names lowercased, values unquoted.
    pub params: Vec<(String, String)>,
    /// A token68 instead of parameters, if that is what followed the scheme.
    pub token68: Option<String>,
}

impl Challenge {
    /// The value of parameter `name` (lowercase).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `error` (`invalid_token`, `insufficient_scope` …).
    pub fn error(&self) -> Option<&str> {
        self.param("error")
    }

    /// `scope`: the scopes the resource wants, space-separated.
    pub fn scope(&self) -> Option<&str> {
        self.param("scope")
    }

    /// `resource_metadata`: where the protected resource metadata is (RFC 9728 §5.1).
    pub fn resource_metadata(&self) -> Option<&str> {
        self.param("resource_metadata")
    }
}

/// The Bearer challenge of a `WWW-Authenticate` value, if there is one (else the first).
pub fn bearer(header: &str) -> Option<Challenge> {
    let all = parse(header);
    let i = all
        .iter()
        .position(|c| c.scheme.eq_ignore_ascii_case("bearer"))
        .unwrap_or(0);
    all.into_iter().nth(i)
}

/// Every challenge of a `WWW-Authenticate` value. Malformed parts are skipped, never an
/// error: a hostile header yields fewer challenges, not a failure.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        p.skip_separators();
        if p.done() {
            break;
        }
        let Some(scheme) = p.token() else {
            // Not a token: skip one byte and resynchronize at the next comma.
            p.skip_to_comma();
            continue;
        };
        let mut c = Challenge {
            scheme,
            ..Default::default()
        };
        p.skip_ws();
        // token68 or the first parameter, if anything follows on this challenge.
        if let Some(t68) = p.token68() {
            c.token68 = Some(t68);
            out.push(c);
            continue;
        }
        loop {
            let save = p.i;
            p.skip_ws();
            while p.peek() == Some(b',') {
                p.i += 1;
                p.skip_ws();
            }
            let Some(name) = p.token() else {
                p.i = save;
                break;
            };
            p.skip_ws();
            if p.peek() != Some(b'=') {
                // A bare token: the scheme of the next challenge.
                p.i = save;
                break;
            }
            p.i += 1;
            p.skip_ws();
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token().unwrap_or_default()
            };
            c.params.push((name.to_ascii_lowercase(), value));
        }
        out.push(c);
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    fn skip_to_comma(&mut self) {
        self.i += 1;
        while let Some(b) = self.peek() {
            if b == b',' {
                break;
            }
            self.i += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(b) = self.peek() {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if !tchar {
                break;
            }
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A token68 (`abc==`) that ends the challenge (followed by a comma or the end).
    fn token68(&mut self) -> Option<String> {
        let start = self.i;
        let mut j = start;
        while let Some(&b) = self.s.get(j) {
            if b.is_ascii_alphanumeric() || b"-._~+/".contains(&b) {
                j += 1;
            } else {
                break;
            }
        }
        if j == start {
            return None;
        }
        let body_end = j;
        while self.s.get(j) == Some(&b'=') {
            j += 1;
        }
        let mut k = j;
        while matches!(self.s.get(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        if !matches!(self.s.get(k), None | Some(b',')) {
            return None;
        }
        let text = &self.s[start..j];
        // A bare token before a comma reads the same as the next challenge's scheme: it is
        // a token68 only with padding or a character a token cannot hold.
        if j == body_end && !text.contains(&b'/') {
            return None;
        }
        self.i = k;
        Some(String::from_utf8_lossy(text).into_owned())
    }

    fn quoted(&mut self) -> String {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                b => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A Bearer challenge for a resource server to send (`WWW-Authenticate: Bearer …`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// `realm`.
    pub realm: Option<String>,
    /// `error` (`invalid_token`, `insufficient_scope`, `invalid_request`).
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `scope`, space-separated.
    pub scope: Option<String>,
    /// `resource_metadata`: the protected resource metadata URL.
    pub resource_metadata: Option<String>,
}

impl BearerChallenge {
    /// The header value; every parameter is a quoted string.
    pub fn to_header(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("realm", &self.realm),
            ("resource_metadata", &self.resource_metadata),
            ("scope", &self.scope),
            ("error", &self.error),
            ("error_description", &self.error_description),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}=\"{}\"", quote(v)));
            }
        }
        if parts.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", parts.join(", "))
        }
    }
}

/// Escapes `"` and `\` for a quoted-string; control characters (which a header may not
/// carry) are dropped.
fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
