//! 2026-07-28 custom headers: tool parameters annotated `x-mcp-header` are mirrored into
//! `Mcp-Param-{Name}` headers, so intermediaries can route on them; servers check that the
//! headers match the body.

use serde_json::Value;

use super::{base64, decode_header_value, Headers, Response};
use crate::jsonrpc::{code, ErrorObject, RequestId};

/// One tool parameter mirrored into a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderParam {
    /// The `{Name}` of `Mcp-Param-{Name}`.
    pub name: String,
    /// Property names from the arguments object down to the value.
    pub path: Vec<String>,
}

impl HeaderParam {
    /// The full header name, lowercase.
    pub fn header_name(&self) -> String {
        format!("mcp-param-{}", self.name.to_ascii_lowercase())
    }

    /// The header value for these `arguments`: `None` when the value is absent or null (the
    /// header is then omitted), or not a string, number or boolean.
    pub fn value_in(&self, arguments: Option<&Value>) -> Option<String> {
        let mut v = arguments?;
        for key in &self.path {
            v = v.get(key)?;
        }
        scalar_text(v).map(|s| base64::header_value(&s))
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Why a tool's `x-mcp-header` annotations are invalid (clients then drop the tool).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid x-mcp-header annotation: {0}")]
pub struct BadAnnotation(pub String);

/// The mirrored parameters a tool's `inputSchema` declares. Annotations must be non-empty
/// header-name tokens, unique case-insensitively, on properties of primitive type reached
/// through `properties` only.
pub fn header_params(input_schema: &Value) -> Result<Vec<HeaderParam>, BadAnnotation> {
    let mut out = Vec::new();
    walk(input_schema, &mut Vec::new(), &mut out, true)?;
    let mut seen: Vec<String> = Vec::new();
    for p in &out {
        let lower = p.name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(BadAnnotation(format!("duplicate header name {}", p.name)));
        }
        seen.push(lower);
    }
    Ok(out)
}

fn walk(
    schema: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<HeaderParam>,
    root: bool,
) -> Result<(), BadAnnotation> {
    let Some(obj) = schema.as_object() else {
        return Ok(());
    };
    if let Some(name) = obj.get("x-mcp-header") {
        let Some(name) = name.as_str() else {
            return Err(BadAnnotation("x-mcp-header must be a string".into()));
        };
        if root {
            return Err(BadAnnotation("x-mcp-header on the arguments object".into()));
        }
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(BadAnnotation(format!("'{name}' is not a header name")));
        }
        let primitive = match obj.get("type") {
            Some(Value::String(t)) => {
                matches!(t.as_str(), "string" | "integer" | "number" | "boolean")
            }
            None => true,
            _ => false,
        };
        if !primitive {
            return Err(BadAnnotation(format!(
                "'{name}' is on a non-primitive property"
            )));
        }
        out.push(HeaderParam {
            name: name.to_owned(),
            path: path.clone(),
        });
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (key, sub) in props {
            path.push(key.clone());
            walk(sub, path, out, false)?;
            path.pop();
        }
    }
    Ok(())
}

/// Checks the `Mcp-Param-*` headers of a `tools/call` against its arguments. `Err` is the
/// 400 / -32020 response to send.
pub fn check_param_headers(
    id: Option<&RequestId>,
    headers: &(impl Headers + ?Sized),
    params: &[HeaderParam],
    arguments: Option<&Value>,
) -> Result<(), Response> {
    let fail = |message: String| {
        Err(Response::rpc_error_for(
            400,
            id,
            &ErrorObject::new(code::HEADER_MISMATCH, message),
        ))
    };
    for p in params {
        let header = p.header_name();
        let body = {
            let mut v = arguments;
            for key in &p.path {
                v = v.and_then(|v| v.get(key));
            }
            v.filter(|v| !v.is_null())
        };
        match (headers.get(&header), body) {
            (None, None) => {}
            (None, Some(_)) => return fail(format!("missing header Mcp-Param-{}", p.name)),
            (Some(_), None) => {
                return fail(format!(
                    "header Mcp-Param-{} given but the argument is absent",
                    p.name
                ))
            }
            (Some(raw), Some(value)) => {
                let Some(text) = decode_header_value(raw) else {
                    return fail(format!("invalid value in header Mcp-Param-{}", p.name));
                };
                if !matches_value(&text, value) {
                    return fail(format!(
                        "header Mcp-Param-{} value '{text}' does not match the argument",
                        p.name
                    ));
                }
            }
        }
    }
    Ok(())
}

fn matches_value(text: &str, value: &Value) -> bool {
    match value {
        Value::String(s) => s == text,
        Value::Bool(b) => text == if *b { "true" } else { "false" },
        Value::Number(n) => match (text.parse::<f64>(), n.as_f64()) {
            (Ok(a), Some(b)) => a == b,
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotations_and_validation() {
        let schema = json!({"type":"object","properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "n":{"type":"integer","x-mcp-header":"N"},
            "q":{"type":"string"}}});
        let params = header_params(&schema).unwrap();
        assert_eq!(params.len(), 2);
        let args = json!({"region":"Hello","n":42,"q":"x"});
        let region = params.iter().find(|p| p.name == "Region").unwrap();
        assert_eq!(region.value_in(Some(&args)).as_deref(), Some("Hello"));
        let ok = [
            ("mcp-param-region", "=?base64?SGVsbG8=?="),
            ("mcp-param-n", "42.0"),
        ];
        assert!(check_param_headers(None, &ok, &params, Some(&args)).is_ok());
        for bad in [
            [
                ("mcp-param-region", "=?base64?SGVsbG8?="),
                ("mcp-param-n", "42"),
            ],
            [
                ("mcp-param-region", "=?base64?SGVs!!!bG8=?="),
                ("mcp-param-n", "42"),
            ],
            [("mcp-param-region", "Bye"), ("mcp-param-n", "42")],
            [("x", "y"), ("mcp-param-n", "42")],
        ] {
            assert_eq!(
                check_param_headers(None, &bad, &params, Some(&args))
                    .unwrap_err()
                    .status,
                400
            );
        }
        let bad_schema = json!({"type":"object","properties":{
            "o":{"type":"object","x-mcp-header":"O"}}});
        assert!(header_params(&bad_schema).is_err());
        let dup = json!({"type":"object","properties":{
            "a":{"type":"string","x-mcp-header":"X"},"b":{"type":"string","x-mcp-header":"x"}}});
        assert!(header_params(&dup).is_err());
    }
}
