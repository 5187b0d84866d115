//! OAuth 2.1 for MCP clients as data: discovery, registration, authorization, tokens.
//!
//! [`AuthFlow`] is a state machine that obtains a token for one MCP server. It never does
//! IO: it says what to do next through [`AuthFlow::poll_step`] ([`Step::Send`] an HTTP
//! request, [`Step::LoadClient`] from the caller's store, [`Step::Authorize`] in the user's
//! browser), and takes the results through `handle_*` with the current wall-clock time.
//! Randomness (PKCE verifier, `state`, assertion ids) comes from an injected
//! [`Entropy`](crate::entropy::Entropy); signatures (`private_key_jwt`) from an injected
//! [`JwtSigner`]. Redirects are never followed: the caller gets the `Location`.
//!
//! What a flow does, in order:
//! 1. protected resource metadata (RFC 9728): the challenge's `resource_metadata` URL, the
//!    path-inserted well-known URL, then the root one; its `resource` must cover the MCP
//!    server URL. Without any (a 2025-03-26 server), the MCP server's origin stands in for
//!    the authorization server;
//! 2. authorization server metadata (RFC 8414, then OpenID Connect Discovery, in the MCP
//!    spec's order for issuers with and without a path). A document whose `issuer` is not
//!    exactly the issuer used to build its URL is refused. For a 2025-03-26 server without
//!    metadata the default `/authorize`, `/token` and `/register` at its origin are used;
//! 3. client identity: pre-registered credentials, then credentials the caller stored for
//!    this issuer (and only this issuer), then a Client ID Metadata Document URL when the
//!    server supports it, then dynamic registration (RFC 7591);
//! 4. the grant: authorization code with PKCE S256 (refused when the server does not
//!    advertise it), `state`, the RFC 8707 `resource` in both requests, and the RFC 9207
//!    `iss` compared to the recorded issuer as plain strings; or client credentials; or a
//!    refresh (whose answer without a refresh token keeps the old one; `invalid_grant`
//!    starts the whole flow over, once).
//!
//! DPoP ([`dpop`], RFC 9449): with a key in [`OAuthConfig::dpop`] and an authorization server
//! that lists its algorithm, token requests carry a proof and answer a `use_dpop_nonce`
//! refusal by sending again with the server's nonce (at most [`dpop::MAX_NONCE_RETRIES`]
//! times); the HTTP client adds a fresh proof to every request that carries a `DPoP` token.
//!
//! Scopes: the challenge's `scope`, else the resource's `scopes_supported`, else none;
//! `offline_access` is added only when the authorization server lists it; a step-up asks for
//! the union of what was asked before and what the challenge wants ([`select_scope`]).
//!
//! Issuers, resources and `iss` are kept as the exact strings received: a URL type that
//! adds a trailing slash breaks these comparisons.

mod challenge;
pub mod dpop;
mod flow;
mod jwt;
mod metadata;
mod pkce;
pub mod resource;
mod scope;
pub mod url;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dpop;

pub use challenge::{bearer as bearer_challenge, parse as parse_www_authenticate};
pub use challenge::{BearerChallenge, Challenge};
pub use flow::{AuthFlow, Discovery, FlowOutcome, Start, Step};
pub use jwt::{client_assertion, JwtSigner, CLIENT_ASSERTION_TYPE};
pub use metadata::{
    AuthorizationServerMetadata, ErrorResponse, ProtectedResourceMetadata, RegistrationResponse,
    TokenResponse,
};
pub use pkce::{base64url, random_token, s256, Pkce};
pub use resource::{Call, Principal, ResourceServer, ResourceServerConfig};
pub use scope::{scope_union, select_scope};

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// An HTTP request the flow wants sent (never a redirect to follow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// `GET` or `POST`.
    pub method: AuthMethod,
    /// The absolute URL.
    pub url: String,
    /// Headers (lowercase names).
    pub headers: Vec<(String, String)>,
    /// The body (form or JSON), empty for GET.
    pub body: Vec<u8>,
}

/// The two methods OAuth uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Metadata and the authorization URL.
    Get,
    /// Token and registration endpoints.
    Post,
}

/// The response to an [`AuthRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthResponse {
    /// Status code.
    pub status: u16,
    /// Headers (lowercase names).
    pub headers: Vec<(String, String)>,
    /// The body (the transport bounds its size).
    pub body: Vec<u8>,
}

impl AuthResponse {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// A public client: `client_id` in the body, no secret.
    None,
    /// HTTP Basic with the form-encoded id and secret.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the body.
    ClientSecretPost,
    /// A signed JWT assertion (RFC 7523) from the configured [`JwtSigner`].
    PrivateKeyJwt,
}

impl TokenAuth {
    /// The RFC 7591 name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuth::None => "none",
            TokenAuth::ClientSecretBasic => "client_secret_basic",
            TokenAuth::ClientSecretPost => "client_secret_post",
            TokenAuth::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// From the RFC 7591 name.
    pub fn parse(s: &str) -> Option<TokenAuth> {
        Some(match s {
            "none" => TokenAuth::None,
            "client_secret_basic" => TokenAuth::ClientSecretBasic,
            "client_secret_post" => TokenAuth::ClientSecretPost,
            "private_key_jwt" => TokenAuth::PrivateKeyJwt,
            _ => return None,
        })
    }
}

/// A client identity at one authorization server. Stored by issuer and never presented to
/// another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCredentials {
    /// The issuer these credentials belong to (exact string).
    pub issuer: String,
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, for a confidential client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The token endpoint auth method the server assigned (or `None` to choose from its
    /// metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<TokenAuth>,
}

/// Tokens for one resource from one issuer, with an absolute expiry so a stored set is
/// refreshed when loaded after it lapsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The access token.
    pub access_token: String,
    /// `Bearer` (as the server wrote it).
    pub token_type: String,
    /// The refresh token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Expiry as seconds since the Unix epoch (absolute, so it survives storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The scopes requested (or granted, when the server said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The issuer that granted them (exact string).
    pub issuer: String,
    /// The resource they are for (exact string).
    pub resource: String,
}

impl TokenSet {
    /// Whether the access token is expired at `now`, or will be within `margin`.
    pub fn expires_within(&self, now: SystemTime, margin: Duration) -> bool {
        match self.expires_at {
            Some(at) => unix_seconds(now).saturating_add(margin.as_secs()) >= at,
            None => false,
        }
    }
}

/// Seconds since the Unix epoch (0 before it).
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Credentials given by the user for a server that does not register clients dynamically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreRegistered {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, if any.
    pub client_secret: Option<String>,
    /// Only for this issuer (exact string); `None`: for whichever the resource names.
    pub issuer: Option<String>,
}

/// Which grant obtains tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Authorization code with PKCE: a user authorizes in a browser.
    AuthorizationCode,
    /// Client credentials (machine to machine; needs [`PreRegistered`] credentials or a
    /// signer).
    ClientCredentials,
    /// The RFC 7523 JWT-bearer grant with [`OAuthConfig::assertion`] (workload identity
    /// federation: a token from the workload's platform is exchanged for an access token).
    JwtBearer,
}

/// Where and with what the ID-JAG of enterprise-managed authorization is obtained
/// (RFC 8693 token exchange at the enterprise IdP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdJagExchange {
    /// The IdP's token endpoint.
    pub token_endpoint: String,
    /// The user's ID token from the IdP (the subject token).
    pub id_token: String,
    /// The client's id at the IdP.
    pub client_id: String,
    /// The client's secret at the IdP, if any (sent with HTTP Basic).
    pub client_secret: Option<String>,
}

/// `grant_type` of RFC 8693 token exchange.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// `grant_type` of the RFC 7523 JWT-bearer grant.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// What a flow needs to know about the client.
#[derive(Clone)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// The MCP endpoint (exact string).
    pub server_url: String,
    /// The grant.
    pub grant: Grant,
    /// Where the authorization server sends the user back (registered with the client).
    pub redirect_uri: String,
    /// `client_name` for registration.
    pub client_name: String,
    /// The Client ID Metadata Document URL, used as `client_id` where supported.
    pub client_metadata_url: Option<String>,
    /// Pre-registered credentials, used before anything else.
    pub pre_registered: Option<PreRegistered>,
    /// Signs `private_key_jwt` client assertions.
    pub signer: Option<Arc<dyn JwtSigner>>,
    /// Ask for `offline_access` (a refresh token) when the authorization server offers it.
    pub offline_access: bool,
    /// Scopes to ask for when neither the challenge nor the resource says.
    pub default_scope: Option<String>,
    /// The assertion of the [`Grant::JwtBearer`] grant (a workload identity JWT).
    pub assertion: Option<String>,
    /// Enterprise-managed authorization (SEP-990): before the [`Grant::JwtBearer`] grant,
    /// the user's ID token is exchanged at the enterprise IdP for an ID-JAG, which becomes
    /// the assertion.
    pub id_jag: Option<IdJagExchange>,
    /// The DPoP key (RFC 9449). When set and the authorization server lists its algorithm in
    /// `dpop_signing_alg_values_supported`, every token request carries a proof, and tokens of
    /// type `DPoP` are bound to this key.
    pub dpop: Option<Arc<dyn JwtSigner>>,
    /// Largest response body the flow accepts from the transport (documented bound for it).
    pub max_body_len: usize,
}

crate::__config_setters!(OAuthConfig {
    with_server_url => server_url: String,
    with_grant => grant: Grant,
    with_redirect_uri => redirect_uri: String,
    with_client_name => client_name: String,
    with_client_metadata_url => client_metadata_url: Option<String>,
    with_pre_registered => pre_registered: Option<PreRegistered>,
    with_signer => signer: Option<Arc<dyn JwtSigner>>,
    with_offline_access => offline_access: bool,
    with_default_scope => default_scope: Option<String>,
    with_assertion => assertion: Option<String>,
    with_id_jag => id_jag: Option<IdJagExchange>,
    with_dpop => dpop: Option<Arc<dyn JwtSigner>>,
    with_max_body_len => max_body_len: usize,
});

impl OAuthConfig {
    /// An authorization-code configuration for `server_url` with redirect `redirect_uri`.
    pub fn new(server_url: impl Into<String>, redirect_uri: impl Into<String>) -> OAuthConfig {
        OAuthConfig {
            server_url: server_url.into(),
            grant: Grant::AuthorizationCode,
            redirect_uri: redirect_uri.into(),
            client_name: "mcp-rs client".to_owned(),
            client_metadata_url: None,
            pre_registered: None,
            signer: None,
            offline_access: true,
            default_scope: None,
            assertion: None,
            id_jag: None,
            dpop: None,
            max_body_len: 1 << 20,
        }
    }
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("server_url", &self.server_url)
            .field("grant", &self.grant)
            .field("redirect_uri", &self.redirect_uri)
            .field("client_metadata_url", &self.client_metadata_url)
            .field("pre_registered", &self.pre_registered.is_some())
            .field("signer", &self.signer.is_some())
            .field("dpop", &self.dpop.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a flow failed. Each is final for that flow; the caller decides whether to start
/// another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The protected resource metadata names another resource (RFC 9728 §3.3).
    #[error("protected resource metadata is for {resource}, not {server_url}")]
    ResourceMismatch {
        /// The `resource` received.
        resource: String,
        /// The MCP server URL.
        server_url: String,
    },
    /// The protected resource metadata lists no authorization server.
    #[error("protected resource metadata lists no authorization server")]
    NoAuthorizationServer,
    /// No authorization server metadata could be found.
    #[error("no authorization server metadata for {issuer}")]
    NoMetadata {
        /// The issuer tried.
        issuer: String,
    },
    /// Authorization server metadata whose `issuer` is not the one used to find it.
    #[error("authorization server metadata says issuer {found}, expected {expected}")]
    MetadataIssuerMismatch {
        /// The issuer used to build the metadata URL.
        expected: String,
        /// The `issuer` in the document.
        found: String,
    },
    /// The server does not advertise PKCE S256.
    #[error("the authorization server does not advertise PKCE S256")]
    PkceNotSupported,
    /// No way to identify the client (no pre-registration, no CIMD, no registration).
    #[error(
        "no client identity for {issuer}: no registration endpoint and no pre-registered client"
    )]
    NoClientIdentity {
        /// The issuer.
        issuer: String,
    },
    /// The redirect's `state` is not the one sent.
    #[error("authorization response state mismatch")]
    StateMismatch,
    /// The redirect's `iss` is not the recorded issuer (RFC 9207).
    #[error("authorization response iss {found:?}, expected {expected}")]
    IssuerMismatch {
        /// The recorded issuer.
        expected: String,
        /// The `iss` received (`None`: missing though the server advertises it).
        found: Option<String>,
    },
    /// The authorization server answered the authorization request with an error.
    #[error("authorization refused: {error}")]
    AuthorizationDenied {
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// The redirect has no `code`.
    #[error("authorization response without a code")]
    MissingCode,
    /// The token or registration endpoint refused.
    #[error("{endpoint} endpoint refused (HTTP {status}): {error}")]
    Endpoint {
        /// `token` or `registration`.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// The OAuth `error` (or the start of the body).
        error: String,
    },
    /// A response that could not be read.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which document.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(String),
    /// `private_key_jwt` is required but no signer is configured, or signing failed.
    #[error("client assertion: {0}")]
    Signing(String),
    /// The flow was driven out of order (a `handle_*` that does not answer the pending step).
    #[error("unexpected input: {0}")]
    Usage(&'static str),
}
