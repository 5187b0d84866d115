//! The client the official MCP conformance suite (`@modelcontextprotocol/conformance`) starts
//! for its client scenarios: `conformance_client <server-url>`, with the scenario in
//! `MCP_CONFORMANCE_SCENARIO`, the protocol version in `MCP_CONFORMANCE_PROTOCOL_VERSION`
//! (2026-07-28 selects the stateless era; anything else the `initialize` handshake with that
//! version, 2025-11-25 when unset) and scenario data in `MCP_CONFORMANCE_CONTEXT`.
//!
//! ```sh
//! cargo build -p mcp-tokio --example conformance_client
//! scripts/conformance client 0.2.0-alpha.12 target/debug/examples/conformance_client
//! ```
//!
//! Every scenario connects over streamable HTTP with `mcp_tokio::connect_http` and then does
//! what the scenario's mock server checks (see `scripts/CONFORMANCE-NOTES.md`, section 4).
//! Exit status 0 means the client did its part; the suite judges the wire.

use std::sync::Arc;
use std::time::Duration;

use mcp_tokio::mcp_driver::{BoxFuture, CallError, Client, ClientHandler};
use mcp_tokio::mcp_proto::auth::{Grant, IdJagExchange, OAuthConfig, PreRegistered};
use mcp_tokio::mcp_proto::jsonrpc::ErrorObject;
use mcp_tokio::mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_tokio::mcp_proto::schema::lifecycle::{
    ClientCapabilities, ElicitationCapability, RootsCapability, SamplingCapability,
};
use mcp_tokio::mcp_proto::schema::roots::ListRootsResult;
use mcp_tokio::mcp_proto::schema::sampling::{CreateMessageRequestParams, CreateMessageResult};
use mcp_tokio::mcp_proto::schema::version::{Era, ProtocolVersion};
use mcp_tokio::mcp_proto::schema::Implementation;
use mcp_tokio::mcp_proto::session::{ClientConfig, EraPreference};
use mcp_tokio::{connect_http, HeadlessAuthorization, HttpClientOptions, OAuth, PemSigner};
use serde_json::{json, Map, Value};

/// Accepts every elicitation with the schema's defaults (SEP-1034), answers sampling with a
/// canned message and lists one root.
struct Host;

impl ClientHandler for Host {
    fn elicit(
        &self,
        params: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        let schema = serde_json::to_value(&params)
            .ok()
            .and_then(|p| p.get("requestedSchema").cloned())
            .unwrap_or(Value::Null);
        Box::pin(async move {
            let content = defaults(&schema);
            serde_json::from_value(json!({"action": "accept", "content": content}))
                .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }

    fn create_message(
        &self,
        _params: CreateMessageRequestParams,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>> {
        Box::pin(async {
            serde_json::from_value(json!({
                "role": "assistant",
                "content": {"type": "text", "text": "Hello there!"},
                "model": "conformance-model",
                "stopReason": "endTurn"
            }))
            .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }

    fn list_roots(&self) -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> {
        Box::pin(async {
            serde_json::from_value(json!({"roots": [{"uri": "file:///tmp", "name": "tmp"}]}))
                .map_err(|e| ErrorObject::internal(e.to_string()))
        })
    }
}

/// A form filled with each property's default; a boolean without one is confirmed.
fn defaults(schema: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return out;
    };
    for (name, prop) in props {
        if let Some(d) = prop.get("default") {
            out.insert(name.clone(), d.clone());
        } else if prop.get("type").and_then(Value::as_str) == Some("boolean") {
            out.insert(name.clone(), Value::Bool(true));
        }
    }
    out
}

/// Placeholder arguments that satisfy a tool's required properties.
fn placeholder_arguments(schema: &Value) -> Value {
    let mut args = Map::new();
    let props = schema.get("properties").and_then(Value::as_object);
    let required = schema.get("required").and_then(Value::as_array);
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        let kind = props
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("string");
        let v = match kind {
            "integer" | "number" => json!(1),
            "boolean" => json!(true),
            "object" => json!({}),
            "array" => json!([]),
            _ => json!("placeholder"),
        };
        args.insert(name.to_owned(), v);
    }
    Value::Object(args)
}

fn config(version: &str) -> Result<ClientConfig, String> {
    let wanted = ProtocolVersion::parse(version)
        .ok_or_else(|| format!("unknown protocol version {version}"))?;
    let mut cfg = ClientConfig::new(Implementation::new("mcp-rs-conformance-client", "0.1.0"));
    cfg.capabilities = ClientCapabilities {
        sampling: Some(SamplingCapability::default()),
        elicitation: Some(ElicitationCapability::default()),
        roots: Some(RootsCapability::default()),
        ..Default::default()
    };
    if wanted.era() == Era::Modern {
        cfg.era = EraPreference::Modern;
        cfg.versions = vec![wanted];
    } else {
        // Offer the wanted version; accept an older one the server may answer with.
        cfg.era = EraPreference::Legacy;
        cfg.versions = ProtocolVersion::ALL
            .into_iter()
            .filter(|v| v.era() == Era::Legacy && *v <= wanted)
            .collect();
    }
    Ok(cfg)
}

/// The Client ID Metadata Document URL the suite's authorization servers accept.
const CIMD_URL: &str = "https://conformance-test.local/client-metadata.json";

/// OAuth for the `auth/*` scenarios: pre-registered credentials and signing keys from the
/// context, client credentials for `auth/client-credentials-*`, and a headless authorization
/// (the suite's authorization servers approve on their own).
fn oauth(url: &str, scenario: &str, context: &Value) -> Result<OAuth, String> {
    let redirect = "http://localhost:3000/callback";
    let mut cfg = OAuthConfig::new(url, redirect);
    cfg.client_name = "mcp-rs-conformance-client".into();
    cfg.client_metadata_url = Some(CIMD_URL.into());
    let text = |k: &str| context.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(client_id) = text("client_id") {
        cfg.pre_registered = Some(PreRegistered {
            client_id,
            client_secret: text("client_secret"),
            issuer: None,
        });
    }
    if let Some(pem) = text("private_key_pem") {
        let alg = text("signing_algorithm").unwrap_or_else(|| "ES256".into());
        cfg.signer = Some(Arc::new(PemSigner::from_pkcs8_pem(&pem, &alg)?));
    }
    // A DPoP key for every flow: it is used only where the authorization server lists ES256
    // in `dpop_signing_alg_values_supported` (auth/dpop, auth/dpop-nonce).
    cfg.dpop = Some(Arc::new(PemSigner::generate_es256()?));
    if scenario.starts_with("auth/client-credentials") {
        cfg.grant = Grant::ClientCredentials;
        return Ok(OAuth::without_user(cfg));
    }
    if let (Some(id_token), Some(token_endpoint)) =
        (text("idp_id_token"), text("idp_token_endpoint"))
    {
        // Enterprise-managed: the IdP's ID token becomes an ID-JAG, then the grant.
        cfg.grant = Grant::JwtBearer;
        cfg.id_jag = Some(IdJagExchange {
            token_endpoint,
            id_token,
            client_id: text("idp_client_id").unwrap_or_default(),
            client_secret: text("idp_client_secret"),
        });
        return Ok(OAuth::without_user(cfg));
    }
    if let Some(jwt) = text("valid_jwt") {
        // Workload identity: the platform's JWT is the grant.
        cfg.grant = Grant::JwtBearer;
        cfg.assertion = Some(jwt);
        return Ok(OAuth::without_user(cfg));
    }
    Ok(OAuth::new(
        cfg,
        Arc::new(HeadlessAuthorization::new(redirect)),
    ))
}

async fn run(url: &str, scenario: &str, version: &str, context: &Value) -> Result<(), String> {
    let mut options = HttpClientOptions::default();
    let auth = if scenario.starts_with("auth/") {
        let o = oauth(url, scenario, context)?;
        options.auth = Some(Arc::new(o.clone()));
        Some(o)
    } else {
        None
    };
    let why = |e: String| match auth.as_ref().and_then(OAuth::last_error) {
        Some(a) => format!("{e} (OAuth: {a})"),
        None => e,
    };
    let client = connect_http(url, config(version)?, Arc::new(Host), options)
        .await
        .map_err(|e| why(format!("connect: {e}")))?;
    let outcome = scenario_steps(&client, scenario, context)
        .await
        .map_err(why);
    client.close();
    // Let a legacy session's DELETE go out before the process ends (bounded).
    let _ = tokio::time::timeout(Duration::from_secs(2), client.closed()).await;
    outcome
}

fn err(what: &str) -> impl Fn(CallError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

async fn scenario_steps(client: &Client, scenario: &str, context: &Value) -> Result<(), String> {
    match scenario {
        "initialize" => Ok(()),
        "tools_call" => {
            client.list_all_tools().await.map_err(err("tools/list"))?;
            client
                .call_tool("add_numbers", json!({"a": 5, "b": 3}))
                .await
                .map_err(err("tools/call"))?;
            Ok(())
        }
        "elicitation-sep1034-client-defaults" => {
            client.list_all_tools().await.map_err(err("tools/list"))?;
            client
                .call_tool("test_client_elicitation_defaults", json!({}))
                .await
                .map_err(err("tools/call"))?;
            Ok(())
        }
        "sse-retry" => {
            client.list_all_tools().await.map_err(err("tools/list"))?;
            client
                .call_tool("test_reconnection", json!({}))
                .await
                .map_err(err("tools/call"))?;
            Ok(())
        }
        "request-metadata" => {
            // The probe was refused once and retried; one more request carries the same
            // metadata (this mock declares no capabilities, so ask it to describe itself).
            client.discover().await.map_err(err("server/discover"))?;
            Ok(())
        }
        "sep-2322-client-request-state" => {
            client.list_all_tools().await.map_err(err("tools/list"))?;
            for tool in [
                "test_mrtr_echo_state",
                "test_mrtr_no_state",
                "test_mrtr_unrelated",
                "test_mrtr_no_result_type",
            ] {
                client.call_tool(tool, json!({})).await.map_err(err(tool))?;
            }
            Ok(())
        }
        "http-standard-headers" => {
            for tool in client.list_all_tools().await.map_err(err("tools/list"))? {
                let args = placeholder_arguments(&tool.input_schema);
                client
                    .call_tool(&tool.name, args)
                    .await
                    .map_err(err("tools/call"))?;
            }
            for r in client
                .list_all_resources()
                .await
                .map_err(err("resources/list"))?
            {
                client
                    .read_resource(&r.uri)
                    .await
                    .map_err(err("resources/read"))?;
            }
            for p in client
                .list_all_prompts()
                .await
                .map_err(err("prompts/list"))?
            {
                client
                    .get_prompt(&p.name, &[])
                    .await
                    .map_err(err("prompts/get"))?;
            }
            Ok(())
        }
        "http-custom-headers" => {
            client.list_all_tools().await.map_err(err("tools/list"))?;
            let calls = context
                .get("toolCalls")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for call in calls {
                let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
                let args = call.get("arguments").cloned().unwrap_or(json!({}));
                client
                    .call_tool(name, args)
                    .await
                    .map_err(err("tools/call"))?;
            }
            Ok(())
        }
        "http-invalid-tool-headers" => {
            // Tools with invalid x-mcp-header annotations never reach this list.
            for tool in client.list_all_tools().await.map_err(err("tools/list"))? {
                let args = placeholder_arguments(&tool.input_schema);
                client
                    .call_tool(&tool.name, args)
                    .await
                    .map_err(err("tools/call"))?;
            }
            Ok(())
        }
        "json-schema-2020-12-preservation" => {
            let tools = client.list_all_tools().await.map_err(err("tools/list"))?;
            let focal = tools
                .iter()
                .find(|t| t.name == "json_schema_2020_12_tool")
                .ok_or("json_schema_2020_12_tool not listed")?;
            client
                .call_tool(
                    "json_schema_echo",
                    json!({"schema": focal.input_schema.clone()}),
                )
                .await
                .map_err(err("tools/call"))?;
            Ok(())
        }
        // OAuth scenarios: the protected server's one tool, listed and called with a token.
        s if s.starts_with("auth/") => {
            for tool in client.list_all_tools().await.map_err(err("tools/list"))? {
                let args = placeholder_arguments(&tool.input_schema);
                client
                    .call_tool(&tool.name, args)
                    .await
                    .map_err(err("tools/call"))?;
            }
            Ok(())
        }
        // json-schema-ref-no-deref, and any other: list the tools (schemas stay raw JSON; no
        // $ref is ever fetched).
        _ => {
            if client.server().capabilities.tools.is_some() {
                client.list_all_tools().await.map_err(err("tools/list"))?;
            }
            Ok(())
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(url) = std::env::args().skip(1).last() else {
        eprintln!("usage: conformance_client <server-url>");
        std::process::exit(2);
    };
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let version = std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "2025-11-25".to_owned());
    let context = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(Value::Null);
    let run = run(&url, &scenario, &version, &context);
    match tokio::time::timeout(Duration::from_secs(25), run).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("conformance_client {scenario}: {e}");
            std::process::exit(1);
        }
        Err(_) => {
            eprintln!("conformance_client {scenario}: timed out");
            std::process::exit(1);
        }
    }
}
