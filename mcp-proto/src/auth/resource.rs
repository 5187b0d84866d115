//! The resource-server side of OAuth for an MCP server, as data: which requests need a
//! token, what a refusal says, and whether a verified token may make a given call.
//!
//! [`ResourceServer`] decides; the transport runs the (async) token verification in between
//! and feeds the resulting [`Principal`] back in with the current wall-clock time:
//!
//! 1. [`ResourceServer::handle_metadata`]: GET (and the CORS preflight) of the protected
//!    resource metadata (RFC 9728) at the path-inserted and the root well-known URLs; served
//!    before any `Origin` check, since browsers fetch it from other origins;
//! 2. [`ResourceServer::bearer`]: the token of the `Authorization` header, or the response
//!    to send: 401 with a `WWW-Authenticate: Bearer resource_metadata=…, scope=…` challenge
//!    when there is none, 400 when the header is malformed;
//! 3. [`ResourceServer::authorize`]: given the verified token and `now`, 401
//!    `invalid_token` for an expired token or one issued for another resource, 403
//!    `insufficient_scope` naming every scope the call needs when scopes are missing.
//!
//! The call whose scopes are checked comes from the `Mcp-Method` / `Mcp-Name` headers for a
//! 2026-07-28 request ([`Call::from_headers`], before the body is read: a missing scope is
//! an HTTP 403 before anything is handled) or from the parsed message for the older
//! revisions ([`Call::from_message`]).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde_json::{Map, Value};

use super::challenge::BearerChallenge;
use super::metadata::ProtectedResourceMetadata;
use super::url;
use crate::http::{decode_header_value, header, Headers, Response};
use crate::jsonrpc::{ErrorObject, RawMessage};
use crate::schema::{Era, ProtocolVersion};

/// Who a verified access token speaks for, as a token verifier found it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Principal {
    /// `sub`: the user (or the client, for client credentials).
    pub subject: Option<String>,
    /// `client_id` (or `azp`): the application acting.
    pub client_id: Option<String>,
    /// `iss`: the authorization server that issued the token.
    pub issuer: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// `aud`: the resources the token is for.
    pub audience: Vec<String>,
    /// `exp`, when the token has one.
    pub expires_at: Option<SystemTime>,
    /// Every claim, as the verifier received them.
    pub claims: Map<String, Value>,
}

impl Principal {
    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// A stable key naming this principal (issuer and subject, else issuer and client):
    /// sessions, tasks and request states issued to one principal are bound to it.
    pub fn key(&self) -> String {
        let who = self
            .subject
            .as_deref()
            .map(|s| format!("sub:{s}"))
            .or_else(|| self.client_id.as_deref().map(|c| format!("client:{c}")))
            .unwrap_or_default();
        format!("{}\u{0}{who}", self.issuer.as_deref().unwrap_or(""))
    }

    /// Reads the registered claims of a token (JWT payload or RFC 7662 introspection
    /// response): `scope` (space-separated) or `scp` (a list), `aud` (a string or a list),
    /// `client_id` or `azp`, `exp` in seconds since the epoch.
    pub fn from_claims(claims: Map<String, Value>) -> Principal {
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        let list = |v: Option<&Value>| -> Vec<String> {
            match v {
                Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_owned).collect(),
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let scopes = match claims.get("scope") {
            Some(v) => list(Some(v)),
            None => list(claims.get("scp")),
        };
        let audience = match claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            other => list(other),
        };
        let expires_at = claims
            .get("exp")
            .and_then(Value::as_u64)
            .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        Principal {
            subject: text("sub"),
            client_id: text("client_id").or_else(|| text("azp")),
            issuer: text("iss"),
            scopes,
            audience,
            expires_at,
            claims,
        }
    }
}

/// What a protected MCP endpoint requires.
#[derive(Debug, Clone, Default)]
pub struct ResourceServerConfig {
    /// The canonical URI of the MCP endpoint (RFC 8707), e.g. `https://mcp.example.com/mcp`:
    /// the `resource` of the metadata and the audience tokens must carry.
    pub resource: String,
    /// Issuer identifiers of the authorization servers clients may get tokens from.
    pub authorization_servers: Vec<String>,
    /// Scopes the resource knows (the metadata's `scopes_supported`).
    pub scopes_supported: Vec<String>,
    /// Scopes every request needs.
    pub required_scopes: Vec<String>,
    /// Scopes a JSON-RPC method needs besides (`"resources/read" → ["files:read"]`).
    pub method_scopes: HashMap<String, Vec<String>>,
    /// Scopes a `tools/call` of a tool needs besides (`"delete_repo" → ["repo:admin"]`).
    pub tool_scopes: HashMap<String, Vec<String>>,
    /// Further audiences accepted besides `resource` (an authorization server that names
    /// the resource differently).
    pub extra_audiences: Vec<String>,
    /// Clock skew tolerated on `exp`.
    pub leeway: Duration,
    /// A human-readable name for the metadata's `resource_name`.
    pub resource_name: Option<String>,
}

impl ResourceServerConfig {
    /// A resource at `resource` whose tokens come from `issuer`.
    pub fn new(resource: impl Into<String>, issuer: impl Into<String>) -> Self {
        ResourceServerConfig {
            resource: resource.into(),
            authorization_servers: vec![issuer.into()],
            leeway: Duration::from_secs(30),
            ..Default::default()
        }
    }

    /// Every request needs `scopes` (they are also listed as supported).
    #[must_use]
    pub fn require(mut self, scopes: &[&str]) -> Self {
        for s in scopes {
            push_unique(&mut self.required_scopes, s);
            push_unique(&mut self.scopes_supported, s);
        }
        self
    }

    /// A `tools/call` of `tool` also needs `scopes` (they are also listed as supported).
    #[must_use]
    pub fn tool_scopes(mut self, tool: &str, scopes: &[&str]) -> Self {
        let entry = self.tool_scopes.entry(tool.to_owned()).or_default();
        for s in scopes {
            push_unique(entry, s);
            push_unique(&mut self.scopes_supported, s);
        }
        self
    }

    /// Requests of `method` also need `scopes` (they are also listed as supported).
    #[must_use]
    pub fn method_scopes(mut self, method: &str, scopes: &[&str]) -> Self {
        let entry = self.method_scopes.entry(method.to_owned()).or_default();
        for s in scopes {
            push_unique(entry, s);
            push_unique(&mut self.scopes_supported, s);
        }
        self
    }
}

fn push_unique(list: &mut Vec<String>, s: &str) {
    if !list.iter().any(|x| x == s) {
        list.push(s.to_owned());
    }
}

/// The JSON-RPC call a request makes, as far as scopes go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    /// The method, when known.
    pub method: Option<String>,
    /// The tool of a `tools/call`.
    pub tool: Option<String>,
}

impl Call {
    /// A 2026-07-28 request's call, from its `Mcp-Method` and `Mcp-Name` headers (which the
    /// endpoint later checks against the body). `None` for a request of an older revision.
    pub fn from_headers(headers: &(impl Headers + ?Sized)) -> Option<Call> {
        let version = headers
            .get_str(header::PROTOCOL_VERSION)
            .and_then(|v| ProtocolVersion::parse(v.trim()))?;
        if version.era() != Era::Modern {
            return None;
        }
        let method = headers.get(header::METHOD).and_then(decode_header_value);
        let tool = match method.as_deref() {
            Some("tools/call") => headers.get(header::NAME).and_then(decode_header_value),
            _ => None,
        };
        Some(Call { method, tool })
    }

    /// The call of a parsed message (responses and notifications make none that needs
    /// more than the base scopes).
    pub fn from_message(msg: &RawMessage<'_>) -> Call {
        #[derive(serde::Deserialize)]
        struct Named {
            name: Option<String>,
        }
        match msg {
            RawMessage::Request { method, params, .. } => {
                let tool = (method == "tools/call")
                    .then(|| params.and_then(|p| serde_json::from_str::<Named>(p.get()).ok()))
                    .flatten()
                    .and_then(|n| n.name);
                Call {
                    method: Some(method.to_string()),
                    tool,
                }
            }
            _ => Call::default(),
        }
    }
}

/// The resource-server decisions (see the module docs).
#[derive(Debug, Clone)]
pub struct ResourceServer {
    config: ResourceServerConfig,
    /// The path-inserted and the root well-known paths.
    metadata_paths: [String; 2],
    metadata_url: String,
    metadata_json: Bytes,
}

/// The well-known prefix of protected resource metadata (RFC 9728 §3).
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

impl ResourceServer {
    /// The decisions for `config`. A `resource` that is not an absolute http(s) URL is
    /// taken as a path on no origin (metadata URLs are then relative).
    pub fn new(config: ResourceServerConfig) -> ResourceServer {
        let (origin, path) = match url::split(&config.resource) {
            Some(p) => (p.origin.to_owned(), p.path.trim_end_matches('/').to_owned()),
            None => (
                String::new(),
                config.resource.trim_end_matches('/').to_owned(),
            ),
        };
        let inserted = format!("{WELL_KNOWN}{path}");
        let metadata_url = format!("{origin}{inserted}");
        let mut doc = serde_json::to_value(ProtectedResourceMetadata {
            resource: Some(config.resource.clone()),
            authorization_servers: config.authorization_servers.clone(),
            scopes_supported: (!config.scopes_supported.is_empty())
                .then(|| config.scopes_supported.clone()),
        })
        .unwrap_or(Value::Null);
        if let Value::Object(o) = &mut doc {
            o.insert(
                "bearer_methods_supported".into(),
                serde_json::json!(["header"]),
            );
            if let Some(name) = &config.resource_name {
                o.insert("resource_name".into(), Value::String(name.clone()));
            }
        }
        ResourceServer {
            metadata_paths: [inserted, WELL_KNOWN.to_owned()],
            metadata_url,
            metadata_json: Bytes::from(serde_json::to_vec(&doc).unwrap_or_default()),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ResourceServerConfig {
        &self.config
    }

    /// The (path-inserted) URL of the protected resource metadata, as challenges carry it.
    pub fn metadata_url(&self) -> &str {
        &self.metadata_url
    }

    /// The response to a request for the protected resource metadata, when `path` is one
    /// of its well-known paths: the document to a GET (with CORS, so a browser client on
    /// another origin can read it), the preflight's answer to OPTIONS, 405 otherwise.
    /// `None` for any other path. Asked before any `Origin` or token check.
    pub fn handle_metadata(&self, method: &str, path: &str) -> Option<Response> {
        let path = path.split('?').next().unwrap_or(path);
        if !self.metadata_paths.iter().any(|p| p == path) {
            return None;
        }
        let cors = |r: Response| {
            r.with_header("access-control-allow-origin", "*")
                .with_header("access-control-allow-methods", "GET, OPTIONS")
        };
        Some(match method {
            "GET" | "HEAD" => cors(Response::json(200, self.metadata_json.clone()))
                .with_header("cache-control", "max-age=3600"),
            "OPTIONS" => cors(Response::status(204))
                .with_header("access-control-allow-headers", "mcp-protocol-version")
                .with_header("access-control-max-age", "86400"),
            _ => Response::status(405).with_header("allow", "GET, OPTIONS"),
        })
    }

    /// The scopes `call` needs: the base ones, the method's, the tool's; no duplicates.
    pub fn scopes_for(&self, call: &Call) -> Vec<&str> {
        let cfg = &self.config;
        let method = call
            .method
            .as_deref()
            .and_then(|m| cfg.method_scopes.get(m));
        let tool = call.tool.as_deref().and_then(|t| cfg.tool_scopes.get(t));
        let mut out: Vec<&str> = Vec::new();
        for s in cfg
            .required_scopes
            .iter()
            .chain(method.into_iter().flatten())
            .chain(tool.into_iter().flatten())
        {
            if !out.contains(&s.as_str()) {
                out.push(s);
            }
        }
        out
    }

    fn challenge(&self, call: &Call, error: Option<&str>, description: Option<String>) -> String {
        let scopes = self.scopes_for(call);
        BearerChallenge {
            resource_metadata: Some(self.metadata_url.clone()),
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
            error: error.map(str::to_owned),
            error_description: description,
            ..Default::default()
        }
        .to_header()
    }

    fn refusal(
        &self,
        status: u16,
        call: &Call,
        error: Option<&str>,
        description: String,
    ) -> Response {
        let challenge = self.challenge(call, error, Some(description.clone()));
        Response::rpc_error(status, &ErrorObject::invalid_request(description))
            .with_header("www-authenticate", challenge)
    }

    /// The bearer token of a request, or the response to send instead: 401 with a
    /// challenge when no `Authorization` header is present (the scope named is what `call`
    /// needs), 400 `invalid_request` when the header is not `Bearer <token>`.
    pub fn bearer<'h, H: Headers + ?Sized>(
        &self,
        headers: &'h H,
        call: &Call,
    ) -> Result<&'h str, Response> {
        let Some(raw) = headers.get(header::AUTHORIZATION) else {
            return Err(self.refusal(
                401,
                call,
                None,
                "this server needs an OAuth access token".into(),
            ));
        };
        let malformed = |why: &str| self.refusal(400, call, Some("invalid_request"), why.into());
        let text = std::str::from_utf8(raw).map_err(|_| malformed("Authorization is not text"))?;
        let (scheme, token) = text
            .trim()
            .split_once(' ')
            .ok_or_else(|| malformed("Authorization must be `Bearer <token>`"))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(malformed("only Bearer tokens are accepted"));
        }
        let token = token.trim_start_matches(' ');
        // RFC 6750 §2.1: b64token, one of them.
        let b64token = !token.is_empty()
            && token.trim_end_matches('=').bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
            });
        if !b64token {
            return Err(malformed("the bearer token is not a b64token"));
        }
        Ok(token)
    }

    /// The 401 for a token the verifier refused (bad signature, unknown issuer, revoked),
    /// with `why` as its description.
    pub fn invalid_token(&self, call: &Call, why: &str) -> Response {
        self.refusal(
            401,
            call,
            Some("invalid_token"),
            format!("invalid access token: {why}"),
        )
    }

    /// [`Self::authorize`] for every call of a 2025-03-26 batch at once: the 403 names the
    /// scopes all of them need together.
    pub fn authorize_batch(
        &self,
        now: SystemTime,
        principal: &Principal,
        calls: &[Call],
    ) -> Result<(), Response> {
        self.authorize(now, principal, &Call::default())?;
        let mut needed: Vec<&str> = Vec::new();
        for c in calls {
            for s in self.scopes_for(c) {
                if !needed.contains(&s) {
                    needed.push(s);
                }
            }
        }
        let missing: Vec<&str> = needed
            .iter()
            .copied()
            .filter(|s| !principal.has_scope(s))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let challenge = BearerChallenge {
            resource_metadata: Some(self.metadata_url.clone()),
            scope: Some(needed.join(" ")),
            error: Some("insufficient_scope".into()),
            error_description: Some(format!("missing scope: {}", missing.join(" "))),
            ..Default::default()
        };
        Err(Response::rpc_error(
            403,
            &ErrorObject::invalid_request(format!("missing scope: {}", missing.join(" "))),
        )
        .with_header("www-authenticate", challenge.to_header()))
    }

    /// Whether the verified `principal` may make `call` at `now`: `Err` is the response
    /// to send (401 `invalid_token` for an expired token or one for another resource, 403
    /// `insufficient_scope` naming every scope `call` needs).
    pub fn authorize(
        &self,
        now: SystemTime,
        principal: &Principal,
        call: &Call,
    ) -> Result<(), Response> {
        if let Some(exp) = principal.expires_at {
            if exp + self.config.leeway <= now {
                return Err(self.invalid_token(call, "the token has expired"));
            }
        }
        let ours = principal.audience.iter().any(|a| {
            a == &self.config.resource
                || a.trim_end_matches('/') == self.config.resource.trim_end_matches('/')
                || self.config.extra_audiences.contains(a)
        });
        if !ours {
            return Err(self.invalid_token(call, "the token was issued for another resource"));
        }
        let needed = self.scopes_for(call);
        let missing: Vec<&str> = needed
            .iter()
            .copied()
            .filter(|s| !principal.has_scope(s))
            .collect();
        if !missing.is_empty() {
            return Err(self.refusal(
                403,
                call,
                Some("insufficient_scope"),
                format!("missing scope: {}", missing.join(" ")),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::parse_www_authenticate;

    const MCP: &str = "https://mcp.example.com/mcp";
    const AS: &str = "https://auth.example.com";

    fn rs() -> ResourceServer {
        ResourceServer::new(
            ResourceServerConfig::new(MCP, AS)
                .require(&["mcp:tools"])
                .tool_scopes("delete", &["mcp:admin"])
                .method_scopes("resources/read", &["files:read"]),
        )
    }

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn principal(scopes: &[&str], aud: &str, exp: u64) -> Principal {
        Principal::from_claims(
            serde_json::json!({
                "iss": AS, "sub": "alice", "client_id": "app", "aud": aud, "exp": exp,
                "scope": scopes.join(" "),
            })
            .as_object()
            .unwrap()
            .clone(),
        )
    }

    fn challenge(r: &Response) -> crate::auth::Challenge {
        parse_www_authenticate(r.header("www-authenticate").unwrap())
            .into_iter()
            .next()
            .unwrap()
    }

    #[test]
    fn metadata_is_served_at_both_well_known_urls_with_cors() {
        let rs = rs();
        assert_eq!(
            rs.metadata_url(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        for path in [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ] {
            let r = rs.handle_metadata("GET", path).unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(r.header("access-control-allow-origin"), Some("*"));
            let crate::http::Body::Full(body) = &r.body else {
                panic!()
            };
            let doc: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(doc["resource"], MCP);
            assert_eq!(doc["authorization_servers"], serde_json::json!([AS]));
            assert_eq!(
                doc["scopes_supported"],
                serde_json::json!(["mcp:tools", "mcp:admin", "files:read"])
            );
            assert_eq!(rs.handle_metadata("OPTIONS", path).unwrap().status, 204);
            assert_eq!(rs.handle_metadata("POST", path).unwrap().status, 405);
        }
        assert!(rs.handle_metadata("GET", "/mcp").is_none());
        assert!(rs
            .handle_metadata("GET", "/.well-known/oauth-protected-resource/other")
            .is_none());
    }

    #[test]
    fn a_request_without_a_token_gets_401_with_the_metadata_url_and_scope() {
        let rs = rs();
        let none: [(&str, &str); 0] = [];
        let r = rs.bearer(none.as_slice(), &Call::default()).unwrap_err();
        assert_eq!(r.status, 401);
        let c = challenge(&r);
        assert_eq!(c.scheme.to_ascii_lowercase(), "bearer");
        assert_eq!(c.resource_metadata(), Some(rs.metadata_url()));
        assert_eq!(c.scope(), Some("mcp:tools"));
        assert_eq!(c.error(), None);
        // A 2026-07-28 call names its tool in the headers: the challenge asks for its scope.
        let h = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "delete"),
        ];
        let call = Call::from_headers(h.as_slice()).unwrap();
        assert_eq!(call.tool.as_deref(), Some("delete"));
        let r = rs.bearer(h.as_slice(), &call).unwrap_err();
        assert_eq!(challenge(&r).scope(), Some("mcp:tools mcp:admin"));
    }

    #[test]
    fn malformed_authorization_is_400_and_a_good_one_yields_its_token() {
        let rs = rs();
        let call = Call::default();
        for bad in ["Basic abc", "Bearer", "Bearer a b", "Bearer ", "bearer é"] {
            let h = [("authorization", bad)];
            let r = rs.bearer(h.as_slice(), &call).unwrap_err();
            assert_eq!(r.status, 400, "{bad}");
            assert_eq!(challenge(&r).error(), Some("invalid_request"));
        }
        let h = [("authorization", "bearer abc.DEF-_~+/==")];
        assert_eq!(rs.bearer(h.as_slice(), &call), Ok("abc.DEF-_~+/=="));
    }

    #[test]
    fn expiry_audience_and_scopes_are_checked_against_now() {
        let rs = rs();
        let base = Call {
            method: Some("tools/list".into()),
            tool: None,
        };
        let p = principal(&["mcp:tools"], MCP, 1000);
        assert_eq!(rs.authorize(t(999), &p, &base), Ok(()));
        // Within the leeway, then past it.
        assert_eq!(rs.authorize(t(1029), &p, &base), Ok(()));
        let r = rs.authorize(t(1030), &p, &base).unwrap_err();
        assert_eq!(r.status, 401);
        assert_eq!(challenge(&r).error(), Some("invalid_token"));

        let other = principal(&["mcp:tools"], "https://other.example.com/mcp", 1000);
        let r = rs.authorize(t(0), &other, &base).unwrap_err();
        assert_eq!(
            (r.status, challenge(&r).error()),
            (401, Some("invalid_token"))
        );
        // A trailing slash names the same resource.
        let slash = principal(&["mcp:tools"], &format!("{MCP}/"), 1000);
        assert_eq!(rs.authorize(t(0), &slash, &base), Ok(()));

        let none = principal(&[], MCP, 1000);
        let r = rs.authorize(t(0), &none, &base).unwrap_err();
        assert_eq!(r.status, 403);
        assert_eq!(challenge(&r).error(), Some("insufficient_scope"));
        assert_eq!(challenge(&r).scope(), Some("mcp:tools"));

        // Step-up: the tool's scope, and every other one the call needs, are named.
        let delete = Call {
            method: Some("tools/call".into()),
            tool: Some("delete".into()),
        };
        let r = rs.authorize(t(0), &p, &delete).unwrap_err();
        assert_eq!(r.status, 403);
        assert_eq!(challenge(&r).scope(), Some("mcp:tools mcp:admin"));
        let admin = principal(&["mcp:tools", "mcp:admin"], MCP, 1000);
        assert_eq!(rs.authorize(t(0), &admin, &delete), Ok(()));
        let read = Call::from_message(
            &RawMessage::parse(
                r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"x"}}"#,
            )
            .unwrap(),
        );
        assert_eq!(rs.scopes_for(&read), ["mcp:tools", "files:read"]);
    }

    #[test]
    fn a_batch_needs_the_scopes_of_all_its_calls() {
        let rs = rs();
        let batch = crate::jsonrpc::RawBatch::parse(
            r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},
                {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete"}},
                {"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"x"}}]"#,
        )
        .unwrap();
        let calls: Vec<Call> = batch
            .items()
            .iter()
            .filter_map(|m| m.as_ref().ok())
            .map(Call::from_message)
            .collect();
        let p = principal(&["mcp:tools", "mcp:admin"], MCP, 1000);
        let r = rs.authorize_batch(t(0), &p, &calls).unwrap_err();
        assert_eq!(r.status, 403);
        assert_eq!(
            challenge(&r).scope(),
            Some("mcp:tools mcp:admin files:read")
        );
        let all = principal(&["mcp:tools", "mcp:admin", "files:read"], MCP, 1000);
        assert_eq!(rs.authorize_batch(t(0), &all, &calls), Ok(()));
        let r = rs.authorize_batch(t(2000), &all, &calls).unwrap_err();
        assert_eq!(r.status, 401);
    }

    #[test]
    fn the_call_comes_from_the_message_or_the_modern_headers() {
        let msg = RawMessage::parse(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete","arguments":{}}}"#,
        )
        .unwrap();
        assert_eq!(
            Call::from_message(&msg),
            Call {
                method: Some("tools/call".into()),
                tool: Some("delete".into())
            }
        );
        let legacy = [("mcp-protocol-version", "2025-11-25"), ("mcp-method", "x")];
        assert_eq!(Call::from_headers(legacy.as_slice()), None);
        let encoded = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?ZGVsZXRl?="),
        ];
        assert_eq!(
            Call::from_headers(encoded.as_slice())
                .unwrap()
                .tool
                .as_deref(),
            Some("delete")
        );
    }

    #[test]
    fn principals_read_registered_claims_and_have_stable_keys() {
        let p = Principal::from_claims(
            serde_json::json!({"iss": AS, "azp": "app", "aud": [MCP, "x"], "scp": ["a", "b"]})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(p.client_id.as_deref(), Some("app"));
        assert_eq!(p.audience, [MCP, "x"]);
        assert_eq!(p.scopes, ["a", "b"]);
        assert_eq!(p.expires_at, None);
        assert_ne!(p.key(), principal(&[], MCP, 1).key());
        assert_eq!(
            principal(&["x"], MCP, 1).key(),
            principal(&[], "y", 2).key()
        );
    }
}
