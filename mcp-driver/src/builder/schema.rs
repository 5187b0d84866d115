//! The JSON Schemas the builder advertises, derived with schemars: tool input and output
//! schemas and prompt argument lists.

use std::any::TypeId;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{OnceLock, PoisonError, RwLock};

use mcp_proto::schema::prompts::PromptArgument;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{json, Map, Value};

/// The JSON Schema of the arguments an extractor reads, used to advertise a tool's
/// `inputSchema` and a prompt's `arguments`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgumentsInfo {
    pub(crate) schema: Value,
    pub(crate) fields: Option<&'static [&'static str]>,
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

/// A tool's `inputSchema`: an object schema, `{"type": "object", "additionalProperties":
/// false}` for a tool that takes no arguments.
pub(crate) fn input_schema(args: Option<ArgumentsInfo>) -> Value {
    let Some(info) = args else {
        return json!({ "type": "object", "additionalProperties": false });
    };
    match info.schema {
        Value::Object(mut o) => {
            // Sum types of structs come out as a bare `oneOf`; arguments are always an object.
            o.entry("type").or_insert_with(|| "object".into());
            Value::Object(o)
        }
        // `true` (e.g. `serde_json::Value`) accepts anything: say it is an object.
        _ => json!({ "type": "object" }),
    }
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

/// What a prompt learns from its arguments' schema: the advertised list and which
/// arguments are parsed as JSON (those not typed as strings).
pub(crate) struct PromptArgs {
    pub(crate) list: Vec<PromptArgument>,
    pub(crate) parse_json: BTreeSet<String>,
}

/// A prompt's argument list, from the properties of its arguments' object schema, in field
/// declaration order when known.
pub(crate) fn prompt_arguments(info: &ArgumentsInfo) -> PromptArgs {
    let empty = Map::new();
    let props = info
        .schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required: BTreeSet<&str> = info
        .schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut names: Vec<&str> = Vec::with_capacity(props.len());
    for f in info.fields.unwrap_or_default() {
        if props.contains_key(*f) && !names.contains(f) {
            names.push(f);
        }
    }
    for k in props.keys() {
        if !names.contains(&k.as_str()) {
            names.push(k);
        }
    }
    let mut out = PromptArgs {
        list: Vec::with_capacity(names.len()),
        parse_json: BTreeSet::new(),
    };
    for name in names {
        let prop = &props[name];
        let text = |k: &str| prop.get(k).and_then(Value::as_str).map(str::to_owned);
        out.list.push(PromptArgument {
            name: name.to_owned(),
            title: text("title"),
            description: text("description"),
            required: Some(required.contains(name)),
            ..Default::default()
        });
        if !admits_string(prop) {
            out.parse_json.insert(name.to_owned());
        }
    }
    out
}

/// Whether a property schema may hold a string as is (typed `string`, or untyped such as a
/// `$ref` to a string enum).
fn admits_string(prop: &Value) -> bool {
    match prop.get("type") {
        None => true,
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        Some(_) => true,
    }
}

/// A prompt argument's value as JSON: strings stay strings unless the argument is typed
/// otherwise and the text parses as JSON (`"3"` for an integer, `"true"` for a bool).
pub(crate) fn prompt_value(text: String, parse_json: bool) -> Value {
    if parse_json {
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            return v;
        }
    }
    Value::String(text)
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
