//! Strings read without copying when the input allows it.
//!
//! serde's derive borrows a `Cow<str>` field only when the field's type is exactly
//! `Cow<str>`; wrapped in an `Option` (or read by hand) it always allocates. These helpers
//! keep the borrow, and fall back to an owned string when the text has escapes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A string borrowed from the input when possible.
pub(crate) struct Text<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `deserialize_with` for an `Option<Cow<str>>` field that should borrow.
pub(crate) fn option_cow<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    Option::<Text<'de>>::deserialize(d).map(|t| t.map(|Text(s)| s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(default, borrow, deserialize_with = "option_cow")]
        s: Option<Cow<'a, str>>,
    }

    #[test]
    fn borrows_plain_text_and_owns_escaped_text() {
        let p: Probe<'_> = serde_json::from_str(r#"{"s":"plain"}"#).unwrap();
        assert!(matches!(p.s, Some(Cow::Borrowed("plain"))));
        let p: Probe<'_> = serde_json::from_str(r#"{"s":"a\nb"}"#).unwrap();
        assert!(matches!(p.s.as_deref(), Some("a\nb")));
        assert!(matches!(p.s, Some(Cow::Owned(_))));
        let p: Probe<'_> = serde_json::from_str(r#"{"s":null}"#).unwrap();
        assert!(p.s.is_none());
        let p: Probe<'_> = serde_json::from_str(r#"{}"#).unwrap();
        assert!(p.s.is_none());
        assert!(serde_json::from_str::<Probe<'_>>(r#"{"s":3}"#).is_err());
    }
}
