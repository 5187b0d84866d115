//! The documents OAuth discovery and registration exchange, as serde types. Unknown fields
//! are ignored; URLs and issuers are kept as the exact strings received.

use serde::{Deserialize, Serialize};

/// Protected resource metadata (RFC 9728 §2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedResourceMetadata {
    /// The resource identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Issuer identifiers of the authorization servers that protect the resource.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// Scopes the resource knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
}

/// Authorization server metadata (RFC 8414 §2; OpenID Connect Discovery uses the same names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    /// The issuer identifier.
    #[serde(default)]
    pub issuer: String,
    /// Where the user authorizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// Where codes, refresh tokens and assertions are exchanged for tokens.
    #[serde(default)]
    pub token_endpoint: String,
    /// Dynamic client registration (RFC 7591).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// Scopes the server knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// Grant types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// Token endpoint client authentication methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// PKCE methods (the client refuses to proceed without `S256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the authorization response carries `iss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// Client ID Metadata Documents: a URL may serve as `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_document_supported: Option<bool>,
    /// RFC 9449 §5.1: the JWS algorithms the server accepts in DPoP proofs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl AuthorizationServerMetadata {
    /// Metadata for a 2025-03-26 server that publishes none: the default endpoints at `base`
    /// (the MCP server's origin).
    pub fn defaults_at(base: &str) -> AuthorizationServerMetadata {
        AuthorizationServerMetadata {
            issuer: base.to_owned(),
            authorization_endpoint: Some(format!("{base}/authorize")),
            token_endpoint: format!("{base}/token"),
            registration_endpoint: Some(format!("{base}/register")),
            ..Default::default()
        }
    }

    fn lists(list: &Option<Vec<String>>, item: &str) -> bool {
        list.as_ref().is_some_and(|l| l.iter().any(|s| s == item))
    }

    /// Whether `scopes_supported` lists `scope`.
    pub fn supports_scope(&self, scope: &str) -> bool {
        Self::lists(&self.scopes_supported, scope)
    }

    /// Whether PKCE S256 is advertised.
    pub fn supports_s256(&self) -> bool {
        Self::lists(&self.code_challenge_methods_supported, "S256")
    }

    /// Whether token endpoint auth method `m` is allowed (RFC 8414: absent means
    /// `client_secret_basic` only).
    pub fn allows_auth_method(&self, m: &str) -> bool {
        match &self.token_endpoint_auth_methods_supported {
            Some(l) => l.iter().any(|s| s == m),
            None => m == "client_secret_basic",
        }
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `Bearer` (or `DPoP`).
    #[serde(default)]
    pub token_type: String,
    /// Lifetime in seconds.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// A refresh token, when issued.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The granted scopes when they differ from those requested.
    #[serde(default)]
    pub scope: Option<String>,
}

/// An OAuth error response (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorResponse {
    /// The error code (`invalid_grant` …).
    pub error: String,
    /// A human-readable description.
    #[serde(default)]
    pub error_description: Option<String>,
}

/// The registered client a dynamic registration answers with (RFC 7591 §3.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegistrationResponse {
    /// The client identifier.
    pub client_id: String,
    /// The secret, for a confidential client.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// How the client authenticates at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
}
