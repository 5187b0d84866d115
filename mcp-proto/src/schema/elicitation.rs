//! `elicitation/create`: asking the user for input through the client.
//!
//! Form mode (2025-06-18+) sends a restricted JSON Schema ([`RequestedSchema`]) that the client
//! renders as a form; URL mode (2025-11-25+) sends the user to a web page instead. In 2026-07-28
//! these requests travel inside `InputRequiredResult.inputRequests` (see [`super::mrtr`]).

use std::collections::BTreeMap;

use serde::de::{self, Deserializer, MapAccess, Unexpected, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::common::{Extra, Meta, ResultType, TaskMetadata};

/// Method name of the elicitation request.
pub const METHOD_ELICIT: &str = "elicitation/create";
/// Method name of the URL-elicitation completion notification (2025-11-25).
pub const METHOD_ELICITATION_COMPLETE: &str = "notifications/elicitation/complete";

/// Defines a unit struct that is (de)serialized as one fixed string, for `type`/`mode` keys.
macro_rules! fixed_str {
    ($(#[$m:meta])* $name:ident = $value:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl $name {
            /// The wire string.
            pub const VALUE: &'static str = $value;
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($value)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if s == $value {
                    Ok($name)
                } else {
                    Err(de::Error::invalid_value(
                        Unexpected::Str(&s),
                        &concat!("\"", $value, "\""),
                    ))
                }
            }
        }
    };
}

fixed_str!(
    /// The literal `"form"` (elicitation mode).
    ModeForm = "form"
);
fixed_str!(
    /// The literal `"url"` (elicitation mode).
    ModeUrl = "url"
);
fixed_str!(
    /// The literal `"string"` (JSON Schema `type`).
    TypeString = "string"
);
fixed_str!(
    /// The literal `"boolean"` (JSON Schema `type`).
    TypeBoolean = "boolean"
);
fixed_str!(
    /// The literal `"array"` (JSON Schema `type`).
    TypeArray = "array"
);
fixed_str!(
    /// The literal `"object"` (JSON Schema `type`).
    TypeObject = "object"
);

/// Parameters of `elicitation/create`: a form or a URL.
///
/// On the wire the two are told apart by `mode`; a missing `mode` means form (that is how
/// 2025-06-18 sends it). Decoding keeps whether `mode` was present, so the message re-encodes
/// unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitRequestParams {
    /// `mode: "form"` or no `mode`.
    Form(ElicitRequestFormParams),
    /// `mode: "url"` (2025-11-25+).
    Url(ElicitRequestURLParams),
}

impl ElicitRequestParams {
    /// A form elicitation with an explicit `mode: "form"`.
    pub fn form(message: impl Into<String>, requested_schema: RequestedSchema) -> Self {
        ElicitRequestParams::Form(ElicitRequestFormParams {
            mode: Some(ModeForm),
            message: message.into(),
            requested_schema,
            ..Default::default()
        })
    }

    /// A URL elicitation.
    pub fn url(message: impl Into<String>, url: impl Into<String>) -> Self {
        ElicitRequestParams::Url(ElicitRequestURLParams {
            message: message.into(),
            url: url.into(),
            ..Default::default()
        })
    }

    /// The message shown to the user.
    pub fn message(&self) -> &str {
        match self {
            ElicitRequestParams::Form(p) => &p.message,
            ElicitRequestParams::Url(p) => &p.message,
        }
    }

    /// `_meta`.
    pub fn meta(&self) -> Option<&Meta> {
        match self {
            ElicitRequestParams::Form(p) => p.meta.as_ref(),
            ElicitRequestParams::Url(p) => p.meta.as_ref(),
        }
    }

    /// `task` (2025-11-25 task augmentation).
    pub fn task(&self) -> Option<&TaskMetadata> {
        match self {
            ElicitRequestParams::Form(p) => p.task.as_ref(),
            ElicitRequestParams::Url(p) => p.task.as_ref(),
        }
    }
}

impl From<ElicitRequestFormParams> for ElicitRequestParams {
    fn from(p: ElicitRequestFormParams) -> Self {
        ElicitRequestParams::Form(p)
    }
}

impl From<ElicitRequestURLParams> for ElicitRequestParams {
    fn from(p: ElicitRequestURLParams) -> Self {
        ElicitRequestParams::Url(p)
    }
}

impl Serialize for ElicitRequestParams {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ElicitRequestParams::Form(p) => p.serialize(s),
            ElicitRequestParams::Url(p) => p.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ElicitRequestParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let mode = match value.get("mode") {
            None => None,
            Some(Value::String(m)) => Some(m.as_str()),
            Some(_) => return Err(de::Error::custom("elicitation `mode` must be a string")),
        };
        match mode {
            None | Some("form") => serde_json::from_value(value)
                .map(ElicitRequestParams::Form)
                .map_err(de::Error::custom),
            Some("url") => serde_json::from_value(value)
                .map(ElicitRequestParams::Url)
                .map_err(de::Error::custom),
            Some(other) => Err(de::Error::unknown_variant(other, &["form", "url"])),
        }
    }
}

/// Form-mode elicitation: a message and a flat schema for the answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// `"form"`, or `None` when the sender left `mode` out (the default, and the only form in
    /// 2025-06-18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ModeForm>,
    /// What is asked, for the user.
    pub message: String,
    /// The schema the answer must match.
    pub requested_schema: RequestedSchema,
    /// Task augmentation (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// URL-mode elicitation (2025-11-25+): the user completes the interaction on a web page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestURLParams {
    /// Always `"url"`.
    pub mode: ModeUrl,
    /// Why the user should go there.
    pub message: String,
    /// The page to open.
    pub url: String,
    /// Server-unique id of this elicitation (2025-11-25 only; 2026-07-28 dropped it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation_id: Option<String>,
    /// Task augmentation (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `requestedSchema` of a form elicitation: an object schema with flat, primitive properties.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestedSchema {
    /// `$schema` (2025-11-25+).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Always `"object"`.
    #[serde(rename = "type")]
    pub type_: TypeObject,
    /// The fields, in the order the sender wrote them (the order a form shows them in).
    #[serde(with = "ordered_map")]
    pub properties: Vec<(String, PrimitiveSchemaDefinition)>,
    /// Names of the fields that must be filled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

impl RequestedSchema {
    /// An object schema without properties.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field (replacing one of the same name) and marks it required if asked.
    pub fn with_property(
        mut self,
        name: impl Into<String>,
        schema: impl Into<PrimitiveSchemaDefinition>,
        required: bool,
    ) -> Self {
        let name = name.into();
        let schema = schema.into();
        match self.properties.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = schema,
            None => self.properties.push((name.clone(), schema)),
        }
        if required {
            let list = self.required.get_or_insert_with(Vec::new);
            if !list.contains(&name) {
                list.push(name);
            }
        }
        self
    }

    /// The schema of a field.
    pub fn property(&self, name: &str) -> Option<&PrimitiveSchemaDefinition> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    /// Whether a field is listed in `required`.
    pub fn is_required(&self, name: &str) -> bool {
        self.required
            .as_ref()
            .is_some_and(|r| r.iter().any(|n| n == name))
    }
}

/// A JSON object kept as an ordered list of entries (a later duplicate key replaces the earlier).
mod ordered_map {
    use super::*;

    pub fn serialize<S: Serializer, V: Serialize>(
        entries: &[(String, V)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(entries.len()))?;
        for (k, v) in entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<(String, V)>, D::Error> {
        struct Entries<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = Vec<(String, V)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, V)> = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some((k, v)) = a.next_entry::<String, V>()? {
                    match out.iter_mut().find(|(n, _)| *n == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(Entries(std::marker::PhantomData))
    }
}

/// One field of a form: a primitive JSON Schema.
///
/// Covers the schema's `StringSchema | NumberSchema | BooleanSchema | EnumSchema`, with
/// `EnumSchema` (`SingleSelectEnumSchema | MultiSelectEnumSchema | LegacyTitledEnumSchema`)
/// spread into its five shapes. Told apart by `type` and by which of `enum`, `enumNames`,
/// `oneOf`, `items.anyOf` is present. A shape none of these describe (a newer or non-conforming
/// sender) is kept as [`PrimitiveSchemaDefinition::Other`].
#[derive(Debug, Clone, PartialEq)]
pub enum PrimitiveSchemaDefinition {
    /// Free text.
    String(StringSchema),
    /// A number or integer.
    Number(NumberSchema),
    /// A checkbox.
    Boolean(BooleanSchema),
    /// Pick one of `enum`.
    UntitledSingleSelectEnum(UntitledSingleSelectEnumSchema),
    /// Pick one of `oneOf` (values with labels).
    TitledSingleSelectEnum(TitledSingleSelectEnumSchema),
    /// Pick several of `items.enum`.
    UntitledMultiSelectEnum(UntitledMultiSelectEnumSchema),
    /// Pick several of `items.anyOf` (values with labels).
    TitledMultiSelectEnum(TitledMultiSelectEnumSchema),
    /// `enum` with `enumNames` labels (2025-06-18 `EnumSchema`; deprecated).
    LegacyTitledEnum(LegacyTitledEnumSchema),
    /// A schema none of the above describe, verbatim.
    Other(Value),
}

impl Serialize for PrimitiveSchemaDefinition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PrimitiveSchemaDefinition::String(x) => x.serialize(s),
            PrimitiveSchemaDefinition::Number(x) => x.serialize(s),
            PrimitiveSchemaDefinition::Boolean(x) => x.serialize(s),
            PrimitiveSchemaDefinition::UntitledSingleSelectEnum(x) => x.serialize(s),
            PrimitiveSchemaDefinition::TitledSingleSelectEnum(x) => x.serialize(s),
            PrimitiveSchemaDefinition::UntitledMultiSelectEnum(x) => x.serialize(s),
            PrimitiveSchemaDefinition::TitledMultiSelectEnum(x) => x.serialize(s),
            PrimitiveSchemaDefinition::LegacyTitledEnum(x) => x.serialize(s),
            PrimitiveSchemaDefinition::Other(x) => x.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for PrimitiveSchemaDefinition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use PrimitiveSchemaDefinition as P;
        let value = Value::deserialize(d)?;
        let has = |k: &str| value.get(k).is_some();
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
        fn decode<T: serde::de::DeserializeOwned, E: de::Error>(v: Value) -> Result<T, E> {
            serde_json::from_value(v).map_err(E::custom)
        }
        Ok(match kind {
            "string" if has("oneOf") => P::TitledSingleSelectEnum(decode(value)?),
            "string" if has("enumNames") => P::LegacyTitledEnum(decode(value)?),
            "string" if has("enum") => P::UntitledSingleSelectEnum(decode(value)?),
            "string" => P::String(decode(value)?),
            "number" | "integer" => P::Number(decode(value)?),
            "boolean" => P::Boolean(decode(value)?),
            "array" => {
                let items = value.get("items");
                if items.and_then(|i| i.get("anyOf")).is_some() {
                    P::TitledMultiSelectEnum(decode(value)?)
                } else if items.and_then(|i| i.get("enum")).is_some() {
                    P::UntitledMultiSelectEnum(decode(value)?)
                } else {
                    P::Other(value)
                }
            }
            _ => P::Other(value),
        })
    }
}

macro_rules! into_primitive {
    ($($t:ident => $v:ident),* $(,)?) => {$(
        impl From<$t> for PrimitiveSchemaDefinition {
            fn from(x: $t) -> Self {
                PrimitiveSchemaDefinition::$v(x)
            }
        }
    )*};
}

into_primitive!(
    StringSchema => String,
    NumberSchema => Number,
    BooleanSchema => Boolean,
    UntitledSingleSelectEnumSchema => UntitledSingleSelectEnum,
    TitledSingleSelectEnumSchema => TitledSingleSelectEnum,
    UntitledMultiSelectEnumSchema => UntitledMultiSelectEnum,
    TitledMultiSelectEnumSchema => TitledMultiSelectEnum,
    LegacyTitledEnumSchema => LegacyTitledEnum,
);

/// A text field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StringSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: TypeString,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// `"email"`, `"uri"`, `"date"` or `"date-time"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Default value (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `type` of a [`NumberSchema`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberType {
    /// Any number.
    #[default]
    Number,
    /// Whole numbers only.
    Integer,
}

/// A numeric field. Bounds are kept as JSON numbers so `18` stays `18` (not `18.0`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NumberSchema {
    /// `"number"` or `"integer"`.
    #[serde(rename = "type")]
    pub type_: NumberType,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Number>,
    /// Upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Number>,
    /// Default value (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Number>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A yes/no field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BooleanSchema {
    /// Always `"boolean"`.
    #[serde(rename = "type")]
    pub type_: TypeBoolean,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Single choice among plain values (2025-11-25+).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UntitledSingleSelectEnumSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: TypeString,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The values.
    #[serde(rename = "enum")]
    pub enum_: Vec<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A value with a display label (`{const, title}`), used by the titled enum schemas.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TitledEnumOption {
    /// The value.
    #[serde(rename = "const")]
    pub const_: String,
    /// Its label.
    pub title: String,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TitledEnumOption {
    /// A value and its label.
    pub fn new(value: impl Into<String>, title: impl Into<String>) -> Self {
        TitledEnumOption {
            const_: value.into(),
            title: title.into(),
            extra: Extra::new(),
        }
    }
}

/// Single choice among labelled values (2025-11-25+).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledSingleSelectEnumSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: TypeString,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The choices.
    pub one_of: Vec<TitledEnumOption>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `items` of an [`UntitledMultiSelectEnumSchema`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UntitledEnumItems {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: TypeString,
    /// The values.
    #[serde(rename = "enum")]
    pub enum_: Vec<String>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Several choices among plain values (2025-11-25+).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntitledMultiSelectEnumSchema {
    /// Always `"array"`.
    #[serde(rename = "type")]
    pub type_: TypeArray,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fewest choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Most choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The values.
    pub items: UntitledEnumItems,
    /// Default selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `items` of a [`TitledMultiSelectEnumSchema`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledEnumItems {
    /// The choices.
    pub any_of: Vec<TitledEnumOption>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Several choices among labelled values (2025-11-25+).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledMultiSelectEnumSchema {
    /// Always `"array"`.
    #[serde(rename = "type")]
    pub type_: TypeArray,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fewest choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Most choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The choices.
    pub items: TitledEnumItems,
    /// Default selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Single choice with labels in the non-standard `enumNames` (the 2025-06-18 `EnumSchema`;
/// deprecated in favour of [`TitledSingleSelectEnumSchema`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTitledEnumSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: TypeString,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The values.
    #[serde(rename = "enum")]
    pub enum_: Vec<String>,
    /// Labels, index for index with `enum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enum_names: Option<Vec<String>>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Unknown keywords.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What the user did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted the form or confirmed.
    Accept,
    /// Explicitly said no.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// One submitted form value: string, number, boolean or (2025-11-25+) list of strings.
///
/// Anything else a peer sends is kept as [`ElicitValue::Other`] rather than rejected.
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitValue {
    /// Text (also enum choices).
    String(String),
    /// A number, as written.
    Number(Number),
    /// A boolean.
    Boolean(bool),
    /// Multi-select choices.
    StringArray(Vec<String>),
    /// A value outside the spec, verbatim.
    Other(Value),
}

impl ElicitValue {
    /// The text, for [`ElicitValue::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ElicitValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as `f64`, for [`ElicitValue::Number`].
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ElicitValue::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The number as `i64` when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ElicitValue::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The boolean, for [`ElicitValue::Boolean`].
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            ElicitValue::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The choices, for [`ElicitValue::StringArray`].
    pub fn as_str_array(&self) -> Option<&[String]> {
        match self {
            ElicitValue::StringArray(v) => Some(v),
            _ => None,
        }
    }
}

impl From<Value> for ElicitValue {
    fn from(v: Value) -> Self {
        match v {
            Value::String(s) => ElicitValue::String(s),
            Value::Number(n) => ElicitValue::Number(n),
            Value::Bool(b) => ElicitValue::Boolean(b),
            Value::Array(items) if items.iter().all(Value::is_string) => ElicitValue::StringArray(
                items
                    .into_iter()
                    .filter_map(|i| match i {
                        Value::String(s) => Some(s),
                        _ => None,
                    })
                    .collect(),
            ),
            other => ElicitValue::Other(other),
        }
    }
}

impl From<ElicitValue> for Value {
    fn from(v: ElicitValue) -> Self {
        match v {
            ElicitValue::String(s) => Value::String(s),
            ElicitValue::Number(n) => Value::Number(n),
            ElicitValue::Boolean(b) => Value::Bool(b),
            ElicitValue::StringArray(v) => Value::Array(v.into_iter().map(Value::String).collect()),
            ElicitValue::Other(v) => v,
        }
    }
}

impl From<&str> for ElicitValue {
    fn from(s: &str) -> Self {
        ElicitValue::String(s.to_owned())
    }
}

impl From<String> for ElicitValue {
    fn from(s: String) -> Self {
        ElicitValue::String(s)
    }
}

impl From<bool> for ElicitValue {
    fn from(b: bool) -> Self {
        ElicitValue::Boolean(b)
    }
}

impl From<i64> for ElicitValue {
    fn from(n: i64) -> Self {
        ElicitValue::Number(n.into())
    }
}

impl From<Vec<String>> for ElicitValue {
    fn from(v: Vec<String>) -> Self {
        ElicitValue::StringArray(v)
    }
}

impl Serialize for ElicitValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ElicitValue::String(x) => s.serialize_str(x),
            ElicitValue::Number(x) => x.serialize(s),
            ElicitValue::Boolean(x) => s.serialize_bool(*x),
            ElicitValue::StringArray(x) => x.serialize(s),
            ElicitValue::Other(x) => x.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ElicitValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(ElicitValue::from)
    }
}

/// The client's answer to `elicitation/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted values (form mode, `accept` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<BTreeMap<String, ElicitValue>>,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `resultType` (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ElicitResult {
    fn with_action(action: ElicitAction) -> Self {
        ElicitResult {
            action,
            content: None,
            meta: None,
            result_type: None,
            extra: Map::new(),
        }
    }

    /// `accept` with form values.
    pub fn accept(content: BTreeMap<String, ElicitValue>) -> Self {
        ElicitResult {
            content: Some(content),
            ..Self::with_action(ElicitAction::Accept)
        }
    }

    /// `accept` without content (URL mode).
    pub fn accept_url() -> Self {
        Self::with_action(ElicitAction::Accept)
    }

    /// `decline`.
    pub fn decline() -> Self {
        Self::with_action(ElicitAction::Decline)
    }

    /// `cancel`.
    pub fn cancel() -> Self {
        Self::with_action(ElicitAction::Cancel)
    }
}

crate::impl_wire_result!(ElicitResult);

/// Params of `notifications/elicitation/complete` (2025-11-25): a URL elicitation finished.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// The `elicitationId` of the request.
    pub elicitation_id: String,
    /// `_meta`.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(v: Value) -> T {
        let t: T = serde_json::from_value(v.clone()).expect("decode");
        assert_eq!(serde_json::to_value(&t).unwrap(), v);
        t
    }

    #[test]
    fn missing_mode_is_form_and_stays_missing() {
        let v = json!({"message": "m", "requestedSchema": {"type": "object", "properties": {}}});
        let p: ElicitRequestParams = round_trip(v);
        assert!(matches!(
            p,
            ElicitRequestParams::Form(ElicitRequestFormParams { mode: None, .. })
        ));
    }

    #[test]
    fn url_mode_and_unknown_mode() {
        let v = json!({"mode": "url", "message": "m", "url": "https://x", "elicitationId": "e1"});
        let p: ElicitRequestParams = round_trip(v);
        assert!(matches!(p, ElicitRequestParams::Url(_)));
        let bad = json!({"mode": "telepathy", "message": "m"});
        assert!(serde_json::from_value::<ElicitRequestParams>(bad).is_err());
    }

    #[test]
    fn property_order_is_kept() {
        let text = r#"{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"boolean"}}}"#;
        let s: RequestedSchema = serde_json::from_str(text).unwrap();
        let names: Vec<_> = s.properties.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha"]);
        assert_eq!(serde_json::to_string(&s).unwrap(), text);
    }

    #[test]
    fn primitive_shapes() {
        let cases = [
            (json!({"type": "string", "enum": ["a"]}), "untitled-single"),
            (
                json!({"type": "string", "enum": ["a"], "enumNames": ["A"]}),
                "legacy",
            ),
            (
                json!({"type": "string", "oneOf": [{"const": "a", "title": "A"}]}),
                "titled-single",
            ),
            (
                json!({"type": "array", "items": {"type": "string", "enum": ["a"]}}),
                "untitled-multi",
            ),
            (
                json!({"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}}),
                "titled-multi",
            ),
            (
                json!({"type": "integer", "minimum": 1, "x-custom": true}),
                "number",
            ),
            (json!({"type": "object", "properties": {}}), "other"),
        ];
        for (v, want) in cases {
            let p: PrimitiveSchemaDefinition = round_trip(v);
            let got = match p {
                PrimitiveSchemaDefinition::UntitledSingleSelectEnum(_) => "untitled-single",
                PrimitiveSchemaDefinition::LegacyTitledEnum(_) => "legacy",
                PrimitiveSchemaDefinition::TitledSingleSelectEnum(_) => "titled-single",
                PrimitiveSchemaDefinition::UntitledMultiSelectEnum(_) => "untitled-multi",
                PrimitiveSchemaDefinition::TitledMultiSelectEnum(_) => "titled-multi",
                PrimitiveSchemaDefinition::Number(_) => "number",
                PrimitiveSchemaDefinition::Other(_) => "other",
                _ => "?",
            };
            assert_eq!(got, want);
        }
    }

    #[test]
    fn elicit_values() {
        let r: ElicitResult = round_trip(json!({
            "action": "accept",
            "content": {"s": "x", "n": 3, "f": 1.5, "b": true, "a": ["p", "q"], "o": {"k": 1}}
        }));
        let c = r.content.unwrap();
        assert_eq!(c["s"].as_str(), Some("x"));
        assert_eq!(c["n"].as_i64(), Some(3));
        assert_eq!(c["f"].as_f64(), Some(1.5));
        assert_eq!(c["b"].as_bool(), Some(true));
        assert_eq!(c["a"].as_str_array().map(<[String]>::len), Some(2));
        assert!(matches!(c["o"], ElicitValue::Other(_)));
    }
}
