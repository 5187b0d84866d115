//! 2026-07-28 `x-mcp-header` annotations: which tool parameters a client mirrors into
//! `Mcp-Param-{Name}` headers, checked once when a `tools/list` page arrives and applied to
//! every `tools/call` of that tool.

use serde_json::{Map, Value};

use crate::http::base64;

/// The annotation keyword inside a property's schema.
const KEYWORD: &str = "x-mcp-header";

/// JavaScript's safe integer range: integers beyond it cannot round-trip through a double.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// One mirrored parameter: the header name part and the property path leading to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamHeader {
    /// `{Name}` of `Mcp-Param-{Name}`, as the server spelled it.
    pub name: String,
    /// The chain of `properties` keys from the schema root.
    pub path: Vec<String>,
}

/// The parameters a tool's `inputSchema` mirrors, or why the tool must be rejected.
pub(crate) fn param_headers(input_schema: &Value) -> Result<Vec<ParamHeader>, String> {
    let mut found = Vec::new();
    collect_reachable(input_schema, &mut Vec::new(), &mut found, 0)?;
    let total = count_annotations(input_schema, false, 0);
    if total != found.len() {
        return Err(format!(
            "{KEYWORD} may only annotate properties reachable through `properties` alone"
        ));
    }
    let mut out: Vec<ParamHeader> = Vec::with_capacity(found.len());
    for (path, schema) in found {
        let Some(name) = schema.get(KEYWORD).and_then(Value::as_str) else {
            return Err(format!("{KEYWORD} at {} is not a string", path.join(".")));
        };
        if name.is_empty() {
            return Err(format!("{KEYWORD} at {} is empty", path.join(".")));
        }
        if !name.bytes().all(is_tchar) {
            return Err(format!(
                "{KEYWORD} {name:?} at {} is not an HTTP field-name token",
                path.join(".")
            ));
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("string" | "integer" | "boolean") => {}
            other => {
                return Err(format!(
                    "{KEYWORD} {name:?} annotates a parameter of type {}; only string, integer \
                     and boolean are allowed",
                    other.unwrap_or("(none)")
                ))
            }
        }
        if out.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
            return Err(format!(
                "{KEYWORD} {name:?} appears twice (case-insensitively)"
            ));
        }
        out.push(ParamHeader {
            name: name.to_owned(),
            path,
        });
    }
    Ok(out)
}

/// Schemas nest; a hostile one must not overflow the stack.
const MAX_DEPTH: usize = 64;

fn collect_reachable<'a>(
    schema: &'a Value,
    path: &mut Vec<String>,
    found: &mut Vec<(Vec<String>, &'a Map<String, Value>)>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("inputSchema nests too deeply".into());
    }
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (key, sub) in props {
        let Some(obj) = sub.as_object() else { continue };
        path.push(key.clone());
        if obj.contains_key(KEYWORD) {
            found.push((path.clone(), obj));
        }
        collect_reachable(sub, path, found, depth + 1)?;
        path.pop();
    }
    Ok(())
}

/// Every annotation anywhere in the schema. Keys of a `properties` map are parameter names,
/// not keywords, so a parameter literally named `x-mcp-header` does not count.
fn count_annotations(v: &Value, keys_are_names: bool, depth: usize) -> usize {
    if depth > MAX_DEPTH {
        return usize::MAX; // never equal to the reachable count: the tool is rejected
    }
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, sub)| {
                let own = usize::from(!keys_are_names && k == KEYWORD);
                let nested =
                    count_annotations(sub, !keys_are_names && k == "properties", depth + 1);
                own.saturating_add(nested)
            })
            .fold(0usize, usize::saturating_add),
        Value::Array(a) => a
            .iter()
            .map(|sub| count_annotations(sub, false, depth + 1))
            .fold(0usize, usize::saturating_add),
        _ => 0,
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `Mcp-Param-*` headers of one call: each annotated parameter present in `arguments`
/// (and not null), converted to text and encoded for a header.
pub(crate) fn headers_for_call(
    params: &[ParamHeader],
    arguments: Option<&Value>,
) -> Vec<(String, String)> {
    let Some(arguments) = arguments else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in params {
        let mut at = arguments;
        let mut present = true;
        for key in &p.path {
            match at.get(key) {
                Some(v) => at = v,
                None => {
                    present = false;
                    break;
                }
            }
        }
        if !present {
            continue;
        }
        let text = match at {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => i.to_string(),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64 => {
                    (f as i64).to_string()
                }
                _ => n.to_string(),
            },
            // Null, or a value of a type the schema does not allow: nothing to mirror.
            _ => continue,
        };
        out.push((
            format!("mcp-param-{}", p.name.to_ascii_lowercase()),
            base64::header_value(&text),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_annotations_and_extraction() {
        let schema = json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "n": {"type": "integer", "x-mcp-header": "N"},
                "flag": {"type": "boolean", "x-mcp-header": "Flag"},
                "nested": {"type": "object", "properties": {
                    "deep": {"type": "string", "x-mcp-header": "Deep"}
                }},
                "x-mcp-header": {"type": "string"},
                "query": {"type": "string"}
            }
        });
        let p = param_headers(&schema).unwrap();
        assert_eq!(p.len(), 4);
        let args = json!({"region": "us-west1", "n": 42, "flag": false,
            "nested": {"deep": "Hello, 世界"}, "query": "SELECT"});
        let mut h = headers_for_call(&p, Some(&args));
        h.sort();
        assert_eq!(
            h,
            vec![
                (
                    "mcp-param-deep".into(),
                    "=?base64?SGVsbG8sIOS4lueVjA==?=".into()
                ),
                ("mcp-param-flag".into(), "false".into()),
                ("mcp-param-n".into(), "42".into()),
                ("mcp-param-region".into(), "us-west1".into()),
            ]
        );
        // Null and absent values are omitted.
        let h = headers_for_call(&p, Some(&json!({"region": null, "n": 1.0})));
        assert_eq!(h, vec![("mcp-param-n".into(), "1".into())]);
        // Empty strings travel in the sentinel form (an empty plain value is ambiguous).
        let h = headers_for_call(&p, Some(&json!({"region": ""})));
        assert_eq!(h, vec![("mcp-param-region".into(), "=?base64??=".into())]);
    }

    #[test]
    fn invalid_annotations_reject_the_tool() {
        let bad = [
            json!({"properties": {"v": {"type": "string", "x-mcp-header": ""}}}),
            json!({"properties": {"v": {"type": "object", "x-mcp-header": "V"}}}),
            json!({"properties": {"v": {"type": "array", "x-mcp-header": "V"}}}),
            json!({"properties": {"v": {"type": "null", "x-mcp-header": "V"}}}),
            json!({"properties": {"v": {"type": "number", "x-mcp-header": "V"}}}),
            json!({"properties": {"v": {"x-mcp-header": "V"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "R"},
                                  "b": {"type": "string", "x-mcp-header": "R"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "MyField"},
                                  "b": {"type": "string", "x-mcp-header": "myfield"}}}),
            json!({"properties": {"v": {"type": "string", "x-mcp-header": "My Region"}}}),
            json!({"properties": {"v": {"type": "string", "x-mcp-header": "Region:1"}}}),
            json!({"properties": {"v": {"type": "string", "x-mcp-header": "Région"}}}),
            json!({"properties": {"v": {"type": "string", "x-mcp-header": "Region\t1"}}}),
            json!({"properties": {"v": {"type": "string", "x-mcp-header": 7}}}),
            json!({"properties": {"v": {"type": "array",
                                        "items": {"type": "string", "x-mcp-header": "I"}}}}),
            json!({"anyOf": [{"properties": {"v": {"type": "string", "x-mcp-header": "V"}}}]}),
            json!({"$defs": {"d": {"type": "string", "x-mcp-header": "D"}}}),
            json!({"type": "object", "x-mcp-header": "Root"}),
        ];
        for schema in bad {
            assert!(param_headers(&schema).is_err(), "accepted {schema}");
        }
        assert_eq!(param_headers(&json!({"type": "object"})).unwrap(), vec![]);
    }
}
