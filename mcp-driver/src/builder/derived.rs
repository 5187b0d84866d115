//! What schemars derives (the `schemars` feature): the [`Args<T>`] extractor and [`Json<T>`]
//! output with their schemas, and the schemas themselves.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, PoisonError, RwLock};

use mcp_proto::schema::tools::CallToolResult;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::handler::{Args, FromRequest, Rejection, RequestParts};
use super::output::{IntoToolResult, Json};
use super::schema::ArgumentsInfo;

impl<T: DeserializeOwned + JsonSchema> FromRequest for Args<T> {
    fn from_request(parts: &RequestParts) -> Result<Self, Rejection> {
        let value = parts.arguments();
        T::deserialize(&value)
            .map(Args)
            .map_err(|e| Rejection::invalid_params(format!("invalid arguments: {e}")))
    }

    fn arguments() -> Option<ArgumentsInfo> {
        Some(ArgumentsInfo::of::<T>())
    }
}

impl<T: Serialize + JsonSchema + Send + 'static> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> CallToolResult {
        match serde_json::to_value(&self.0) {
            Ok(v) if wraps_output::<T>() => CallToolResult::structured(json!({ "result": v })),
            Ok(v) => CallToolResult::structured(v),
            Err(e) => {
                CallToolResult::error_text(format!("the tool's output did not serialize: {e}"))
            }
        }
    }

    fn output_schema() -> Option<Value> {
        Some(output_schema::<T>())
    }
}

impl ArgumentsInfo {
    /// The arguments are a `T`: its schema comes from schemars, and the declaration order
    /// of its fields orders a prompt's arguments.
    pub fn of<T: DeserializeOwned + JsonSchema>() -> Self {
        ArgumentsInfo {
            schema: arguments_schema::<T>(),
            fields: struct_fields::<T>(),
        }
    }
}

/// The schema of arguments deserialized into `T` (JSON Schema 2020-12).
pub(crate) fn arguments_schema<T: JsonSchema>() -> Value {
    SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

fn is_object_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
}

/// The schema of `T` as serialized (JSON Schema 2020-12).
fn serialized_schema<T: JsonSchema>() -> Value {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// A tool's `outputSchema` for structured output of type `T`. It must describe an object;
/// anything else is wrapped as `{"result": T}` (see [`wraps_output`]).
pub(crate) fn output_schema<T: JsonSchema>() -> Value {
    let schema = serialized_schema::<T>();
    if is_object_schema(&schema) {
        return schema;
    }
    let mut inner = match schema {
        Value::Object(o) => o,
        other => {
            return json!({
                "type": "object",
                "properties": { "result": other },
                "required": ["result"],
            })
        }
    };
    let mut outer = Map::new();
    // Keep the dialect and the shared definitions at the root, where `$ref`s point.
    for key in ["$schema", "$defs", "definitions"] {
        if let Some(v) = inner.remove(key) {
            outer.insert(key.into(), v);
        }
    }
    outer.insert("type".into(), "object".into());
    outer.insert(
        "properties".into(),
        json!({ "result": Value::Object(inner) }),
    );
    outer.insert("required".into(), json!(["result"]));
    Value::Object(outer)
}

/// Whether structured output of type `T` is wrapped as `{"result": ...}` (its schema is not
/// an object schema). Computed once per type.
pub(crate) fn wraps_output<T: JsonSchema + 'static>() -> bool {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, bool>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let id = TypeId::of::<T>();
    if let Some(w) = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
    {
        return *w;
    }
    let wraps = !is_object_schema(&serialized_schema::<T>());
    cache
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(id, wraps);
    wraps
}

/// The field names of `T` in declaration order, if `T` deserializes as a plain struct
/// (serde hands them to `deserialize_struct`).
pub(crate) fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut fields = None;
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields
}

struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probe")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Stop
    }
}

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = Some(fields);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
