//! URL text handling for OAuth, on exact strings.
//!
//! Issuers, resources and `iss` values are compared as the strings received (RFC 9207 §2.4,
//! RFC 8414 §3.3): nothing here normalizes a URL that is later compared. The splitting is
//! only what discovery needs (origin, path, query), plus form encoding.

/// A URL split into the parts discovery needs, borrowing the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// `scheme://authority`, as written.
    pub origin: &'a str,
    /// The scheme, as written.
    pub scheme: &'a str,
    /// The path (`""` when absent), without query or fragment.
    pub path: &'a str,
    /// The query without `?`, if any.
    pub query: Option<&'a str>,
    /// Whether a fragment (`#…`) is present.
    pub has_fragment: bool,
}

/// Splits an absolute `http://` or `https://` URL; `None` for anything else.
pub fn split(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if authority_len == 0 {
        return None;
    }
    let origin = &url[..scheme.len() + 3 + authority_len];
    let tail = &rest[authority_len..];
    let (before_fragment, has_fragment) = match tail.find('#') {
        Some(i) => (&tail[..i], true),
        None => (tail, false),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (before_fragment, None),
    };
    Some(UrlParts {
        origin,
        scheme,
        path,
        query,
        has_fragment,
    })
}

/// The well-known URLs of protected resource metadata for `server_url`, in the order of
/// RFC 9728 §3 and the MCP spec: the `resource_metadata` URL from the challenge, then the
/// path-inserted well-known URL, then the root one. Duplicates are dropped.
pub fn protected_resource_metadata_urls(
    server_url: &str,
    from_challenge: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(u) = from_challenge.filter(|u| split(u).is_some()) {
        out.push(u.to_owned());
    }
    if let Some(p) = split(server_url) {
        let path = p.path.trim_end_matches('/');
        if !path.is_empty() {
            out.push(format!(
                "{}/.well-known/oauth-protected-resource{path}",
                p.origin
            ));
        }
        out.push(format!("{}/.well-known/oauth-protected-resource", p.origin));
    }
    dedup(out)
}

/// The metadata URLs to try for an authorization server `issuer`, in the MCP spec's order:
/// with a path, OAuth (path inserted), OpenID Connect (path inserted), OpenID Connect (path
/// appended); without one, OAuth then OpenID Connect at the root.
pub fn authorization_server_metadata_urls(issuer: &str) -> Vec<String> {
    let Some(p) = split(issuer) else {
        return Vec::new();
    };
    let path = p.path.trim_end_matches('/');
    let o = p.origin;
    if path.is_empty() {
        vec![
            format!("{o}/.well-known/oauth-authorization-server"),
            format!("{o}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{o}/.well-known/oauth-authorization-server{path}"),
            format!("{o}/.well-known/openid-configuration{path}"),
            format!("{o}{path}/.well-known/openid-configuration"),
        ]
    }
}

/// Whether the protected resource metadata's `resource` covers `server_url`: same scheme and
/// authority (case-insensitively, as URLs define them), and the resource's path is the server
/// path or a parent of it on a segment boundary.
pub fn resource_covers(resource: &str, server_url: &str) -> bool {
    let (Some(r), Some(s)) = (split(resource), split(server_url)) else {
        return false;
    };
    if r.has_fragment || r.query.is_some() || !r.origin.eq_ignore_ascii_case(s.origin) {
        return false;
    }
    let rp = r.path.trim_end_matches('/');
    let sp = s.path;
    sp == rp
        || sp
            .strip_prefix(rp)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The canonical resource identifier of an MCP endpoint (RFC 8707: no fragment).
pub fn canonical_resource(server_url: &str) -> String {
    match server_url.find('#') {
        Some(i) => server_url[..i].to_owned(),
        None => server_url.to_owned(),
    }
}

/// Percent-encodes `s` for `application/x-www-form-urlencoded` (and query strings): unreserved
/// characters stay, space becomes `%20` (never `+`, which every decoder reads the same way).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A form body or query string from pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `url` with `pairs` added to its query.
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let sep = if base.contains('?') {
        if base.ends_with('?') || base.ends_with('&') {
            ""
        } else {
            "&"
        }
    } else {
        "?"
    };
    format!("{base}{sep}{}{fragment}", form(pairs))
}

/// Decodes a query string (or form body) into pairs; `+` is a space. Invalid percent
/// escapes are kept as written; invalid UTF-8 is replaced.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// The query parameters of a redirect URL (such as a `Location` header).
pub fn redirect_params(url: &str) -> Vec<(String, String)> {
    let without_fragment = url.split('#').next().unwrap_or("");
    match without_fragment.split_once('?') {
        Some((_, q)) => parse_query(q),
        None => Vec::new(),
    }
}

/// The absolute URL a `Location` header points to from `base` (RFC 9110 §10.2.2, RFC 3986
/// §5.2 for the forms redirects use: absolute, scheme-relative, absolute-path, and
/// path-relative). `None` unless the result is `http://` or `https://`.
pub fn resolve(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    let b = split(base)?;
    let out = if split(location).is_some() {
        location.to_owned()
    } else if location.contains("://") {
        return None;
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{}://{rest}", b.scheme)
    } else if location.starts_with('/') {
        format!("{}{location}", b.origin)
    } else if location.starts_with('?') {
        format!("{}{}{location}", b.origin, b.path)
    } else {
        let dir = b.path.rfind('/').map_or("/", |i| &b.path[..=i]);
        format!("{}{dir}{location}", b.origin)
    };
    split(&out).is_some().then_some(out)
}

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for s in v {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}
