//! The JSON Schemas the builder advertises: tool input schemas and prompt argument lists,
//! from the schemas [`derived`](super::derived) (or given by hand).

use std::collections::BTreeSet;

use mcp_proto::schema::prompts::PromptArgument;
use serde_json::{json, Map, Value};

/// The JSON Schema of the arguments an extractor reads, used to advertise a tool's
/// `inputSchema` and a prompt's `arguments`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgumentsInfo {
    pub(crate) schema: Value,
    pub(crate) fields: Option<&'static [&'static str]>,
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
