//! Matching URIs against RFC 6570 templates, reading the variables back out.
//!
//! Level 1 (`{var}`, simple string expansion) is what resource templates use: a variable's
//! value never contains `/`, `?` or `#` (expansion percent-encodes them), it is non-empty,
//! and it is percent-decoded. Level 2 reserved expansion (`{+var}`) is also understood: it
//! may span `/` (for paths) and is not decoded. Matching is leftmost and linear: a variable
//! ends where the next literal text first appears, so two variables must be separated by
//! literal text (a template like `{a}{b}` never matches).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Var { name: String, reserved: bool },
}

/// A parsed URI template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UriTemplate {
    parts: Vec<Part>,
}

impl UriTemplate {
    /// Parses `template`. Text that is not a well-formed `{var}` or `{+var}` expression is
    /// kept as literal text, so a malformed template only fails to match.
    pub(crate) fn parse(template: &str) -> Self {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                literal.push_str(&rest[open..]);
                rest = "";
                break;
            };
            let expr = &after[..close];
            let (reserved, name) = match expr.strip_prefix('+') {
                Some(n) => (true, n),
                None => (false, expr),
            };
            if is_var_name(name) {
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(Part::Var {
                    name: name.to_owned(),
                    reserved,
                });
            } else {
                literal.push_str(&rest[open..open + close + 2]);
            }
            rest = &after[close + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        UriTemplate { parts }
    }

    /// The variables if `uri` matches the whole template.
    pub(crate) fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        let mut vars = BTreeMap::new();
        let mut rest = uri;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
                Part::Var { name, reserved } => {
                    let end = match parts.peek() {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        Some(Part::Var { .. }) => return None,
                        None => rest.len(),
                    };
                    let raw = &rest[..end];
                    let stops: &[char] = if *reserved { &[] } else { &['/', '?', '#'] };
                    if raw.is_empty() || raw.contains(stops) {
                        return None;
                    }
                    let value = if *reserved {
                        raw.to_owned()
                    } else {
                        percent_decode(raw)
                    };
                    if !safe_value(&value, *reserved) {
                        return None;
                    }
                    vars.insert(name.clone(), value);
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(vars)
    }
}

/// Checked after decoding, since `%2F` and `%2E%2E` decode to `/` and `..`: a simple
/// variable holds no `/` or `\` and is not `.` or `..`; a reserved one (which may span `/`)
/// has no `.` or `..` segment, read raw or decoded. Handlers that build paths from
/// variables cannot then be walked out of their directory.
fn safe_value(value: &str, reserved: bool) -> bool {
    let dots = |seg: &str| seg == "." || seg == "..";
    if !reserved {
        return !value.contains(['/', '\\', '\0']) && !dots(value);
    }
    let decoded = percent_decode(value);
    [value, decoded.as_str()]
        .iter()
        .all(|v| !v.contains('\0') && !v.split(['/', '\\']).any(dots))
}

fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'%')
}

/// Decodes `%XX` escapes; invalid escapes or non-UTF-8 results leave the text as it is.
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn level_one_variables() {
        let t = UriTemplate::parse("file:///{path}");
        assert_eq!(
            t.matches("file:///notes.txt"),
            vars(&[("path", "notes.txt")])
        );
        assert_eq!(t.matches("file:///a%20b"), vars(&[("path", "a b")]));
        assert_eq!(t.matches("file:///a/b"), None);
        assert_eq!(t.matches("file:///"), None);
        assert_eq!(t.matches("http:///x"), None);
        let t = UriTemplate::parse("db://{table}/rows/{id}.json");
        assert_eq!(
            t.matches("db://users/rows/42.json"),
            vars(&[("table", "users"), ("id", "42")])
        );
        assert_eq!(t.matches("db://users/rows/42.json/x"), None);
        assert_eq!(t.matches("db://users/cols/42.json"), None);
    }

    /// Before: `%2F`, `%2E%2E` and `..` came out as `/` and `..` in the variables.
    #[test]
    fn decoded_variables_cannot_climb_out_of_a_directory() {
        let t = UriTemplate::parse("file:///srv/{name}");
        for bad in [
            "file:///srv/..",
            "file:///srv/%2E%2E",
            "file:///srv/.",
            "file:///srv/..%2Fetc%2Fpasswd",
            "file:///srv/a%2Fb",
            "file:///srv/a%5Cb",
            "file:///srv/a%00",
        ] {
            assert_eq!(t.matches(bad), None, "{bad}");
        }
        assert_eq!(t.matches("file:///srv/a..b"), vars(&[("name", "a..b")]));
        assert_eq!(t.matches("file:///srv/.env"), vars(&[("name", ".env")]));
        let t = UriTemplate::parse("file:///srv/{+path}");
        for bad in [
            "file:///srv/../etc",
            "file:///srv/a/%2e%2e/b",
            "file:///srv/a/./b",
            "file:///srv/a\\..\\b",
        ] {
            assert_eq!(t.matches(bad), None, "{bad}");
        }
        assert_eq!(t.matches("file:///srv/a/b..c"), vars(&[("path", "a/b..c")]));
    }

    #[test]
    fn reserved_expansion_spans_slashes() {
        let t = UriTemplate::parse("file:///{+path}");
        assert_eq!(t.matches("file:///a/b%20c"), vars(&[("path", "a/b%20c")]));
    }

    #[test]
    fn odd_templates_do_not_panic() {
        for t in ["{", "}", "{}", "a{b", "{a}{b}", "{ä}", "x{+}y", "%{a}%"] {
            let t = UriTemplate::parse(t);
            for uri in ["", "x", "ab", "%", "%4", "%zz", "é%C3%A9"] {
                let _ = t.matches(uri);
            }
        }
        assert_eq!(UriTemplate::parse("{a}{b}").matches("xy"), None);
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
        assert_eq!(percent_decode("%FF"), "%FF");
    }
}
