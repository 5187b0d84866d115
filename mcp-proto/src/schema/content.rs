//! Content blocks shared by tools, prompts, sampling and resources.

use std::fmt;

use serde::de::{self, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::common::{Annotations, Extra, Icon, Meta};
use crate::borrowed::Text;

/// Text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextContent {
    /// The text.
    pub text: String,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Base64 image or audio data with its MIME type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaContent {
    /// Base64 data.
    pub data: String,
    /// MIME type, e.g. `image/png` or `audio/wav`.
    pub mime_type: String,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A resource the server can read (also the body of a `resource_link` block).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// URI.
    pub uri: String,
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Icons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The contents of a resource: text or base64 blob, told apart by which key is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResourceContents {
    /// `text` is present.
    Text(TextResourceContents),
    /// `blob` is present.
    Blob(BlobResourceContents),
}

impl ResourceContents {
    /// Text contents of `uri`.
    pub fn text(uri: impl Into<String>, mime_type: Option<&str>, text: impl Into<String>) -> Self {
        ResourceContents::Text(TextResourceContents {
            uri: uri.into(),
            mime_type: mime_type.map(str::to_owned),
            text: text.into(),
            ..Default::default()
        })
    }

    /// Binary contents of `uri`, already base64-encoded.
    pub fn blob(
        uri: impl Into<String>,
        mime_type: Option<&str>,
        base64: impl Into<String>,
    ) -> Self {
        ResourceContents::Blob(BlobResourceContents {
            uri: uri.into(),
            mime_type: mime_type.map(str::to_owned),
            blob: base64.into(),
            ..Default::default()
        })
    }

    /// The URI.
    pub fn uri(&self) -> &str {
        match self {
            ResourceContents::Text(t) => &t.uri,
            ResourceContents::Blob(b) => &b.uri,
        }
    }
}

/// Text resource contents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextResourceContents {
    /// URI.
    pub uri: String,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The text.
    pub text: String,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Binary resource contents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobResourceContents {
    /// URI.
    pub uri: String,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Base64 data.
    pub blob: String,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A resource embedded in a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddedResource {
    /// The contents.
    pub resource: ResourceContents,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A model's request to call a tool (sampling with tools, 2025-11-25+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolUseContent {
    /// Id matching the later `tool_result`.
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Arguments.
    pub input: Value,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The result of a tool use (sampling with tools, 2025-11-25+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResultContent {
    /// The `tool_use` id answered.
    pub tool_use_id: String,
    /// Unstructured result.
    pub content: Vec<ContentBlock>,
    /// Structured result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Any content block, tagged by `type`.
///
/// One enum serves tool results, prompt messages and sampling messages; the spec narrows which
/// variants each may carry, and peers may send what a later version adds.
///
/// Read with a hand-written visitor: when `type` is the object's first key (every SDK writes
/// it first) the rest of the object goes straight into the variant, without the buffered copy
/// serde's derived internally-tagged enums make of every block. Any other order still works.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum ContentBlock {
    /// `"text"`.
    #[serde(rename = "text")]
    Text(TextContent),
    /// `"image"`.
    #[serde(rename = "image")]
    Image(MediaContent),
    /// `"audio"`.
    #[serde(rename = "audio")]
    Audio(MediaContent),
    /// `"resource_link"`.
    #[serde(rename = "resource_link")]
    ResourceLink(Resource),
    /// `"resource"`.
    #[serde(rename = "resource")]
    Resource(EmbeddedResource),
    /// `"tool_use"`.
    #[serde(rename = "tool_use")]
    ToolUse(ToolUseContent),
    /// `"tool_result"`.
    #[serde(rename = "tool_result")]
    ToolResult(ToolResultContent),
}

/// The `type` values [`ContentBlock`] knows.
const BLOCK_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "resource_link",
    "resource",
    "tool_use",
    "tool_result",
];

/// Reads the variant named `kind` from `d` (an object without its `type` key).
fn block_of<'de, D: Deserializer<'de>>(kind: &str, d: D) -> Result<ContentBlock, D::Error> {
    Ok(match kind {
        "text" => ContentBlock::Text(TextContent::deserialize(d)?),
        "image" => ContentBlock::Image(MediaContent::deserialize(d)?),
        "audio" => ContentBlock::Audio(MediaContent::deserialize(d)?),
        "resource_link" => ContentBlock::ResourceLink(Resource::deserialize(d)?),
        "resource" => ContentBlock::Resource(EmbeddedResource::deserialize(d)?),
        "tool_use" => ContentBlock::ToolUse(ToolUseContent::deserialize(d)?),
        "tool_result" => ContentBlock::ToolResult(ToolResultContent::deserialize(d)?),
        other => return Err(de::Error::unknown_variant(other, BLOCK_TYPES)),
    })
}

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ContentBlock;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a content block object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ContentBlock, A::Error> {
                let Some(Text(first)) = map.next_key::<Text<'de>>()? else {
                    return Err(de::Error::missing_field("type"));
                };
                if first == "type" {
                    let Text(kind) = map.next_value::<Text<'de>>()?;
                    return block_of(&kind, de::value::MapAccessDeserializer::new(map));
                }
                // `type` comes later: gather the object, then read it.
                let mut object = Map::new();
                object.insert(first.into_owned(), map.next_value::<Value>()?);
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    object.insert(k, v);
                }
                let kind = match object.remove("type") {
                    Some(Value::String(kind)) => kind,
                    Some(_) => {
                        return Err(de::Error::custom("content block `type` is not a string"))
                    }
                    None => return Err(de::Error::missing_field("type")),
                };
                block_of(&kind, object.into_deserializer()).map_err(de::Error::custom)
            }
        }
        d.deserialize_map(V)
    }
}

impl ContentBlock {
    /// A plain text block.
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text(TextContent {
            text: text.into(),
            ..Default::default()
        })
    }

    /// An image block from base64 data.
    pub fn image(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        ContentBlock::Image(MediaContent {
            data: data.into(),
            mime_type: mime_type.into(),
            ..Default::default()
        })
    }

    /// An audio block from base64 data.
    pub fn audio(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        ContentBlock::Audio(MediaContent {
            data: data.into(),
            mime_type: mime_type.into(),
            ..Default::default()
        })
    }

    /// An embedded resource block.
    pub fn resource(contents: ResourceContents) -> Self {
        ContentBlock::Resource(EmbeddedResource {
            resource: contents,
            annotations: None,
            meta: None,
            extra: Default::default(),
        })
    }

    /// The text, if this is a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ContentBlock::Text(t) => Some(&t.text),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<ContentBlock, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn type_first_or_later_reads_the_same_block() {
        let first = parse(r#"{"type":"text","text":"hi","x-vendor":1}"#).unwrap();
        let later = parse(r#"{"text":"hi","x-vendor":1,"type":"text"}"#).unwrap();
        assert_eq!(first, later);
        let ContentBlock::Text(t) = &first else {
            panic!("not text: {first:?}")
        };
        assert_eq!(t.text, "hi");
        // The tag is not an unknown field; the vendor key is.
        assert_eq!(t.extra.len(), 1);
        assert_eq!(t.extra["x-vendor"], json!(1));
        // Written back, the tag comes first again and nothing is lost.
        let back = serde_json::to_value(&first).unwrap();
        assert_eq!(back, json!({"type": "text", "text": "hi", "x-vendor": 1}));
    }

    #[test]
    fn escaped_tag_and_nested_blocks() {
        let b = parse(r#"{"type":"te\u0078t","text":"esc"}"#).unwrap();
        assert_eq!(b.as_text(), Some("esc"));
        let nested = json!({
            "type": "tool_result",
            "toolUseId": "u1",
            "content": [{"text": "inner", "type": "text"}, {"type": "image", "data": "AA==", "mimeType": "image/png"}],
        });
        // Through a tree (another deserializer) as well as text.
        let from_tree: ContentBlock = serde_json::from_value(nested.clone()).unwrap();
        let from_text = parse(&nested.to_string()).unwrap();
        assert_eq!(from_tree, from_text);
        let ContentBlock::ToolResult(r) = from_text else {
            panic!("not a tool result")
        };
        assert_eq!(r.content[0].as_text(), Some("inner"));
        assert!(matches!(r.content[1], ContentBlock::Image(_)));
    }

    #[test]
    fn bad_blocks_are_typed_errors() {
        for (text, needle) in [
            (r#"{"text":"no tag"}"#, "missing field `type`"),
            (r#"{}"#, "missing field `type`"),
            (r#"{"type":"video","url":"x"}"#, "unknown variant `video`"),
            (r#"{"text":"x","type":"video"}"#, "unknown variant `video`"),
            (r#"{"text":"x","type":7}"#, "not a string"),
            (r#"{"type":7,"text":"x"}"#, "invalid type"),
            (r#"{"type":"text"}"#, "missing field `text`"),
            (r#"["text","hi"]"#, "invalid type"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
