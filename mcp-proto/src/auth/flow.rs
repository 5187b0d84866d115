//! The flow that obtains tokens for one MCP server (see the module doc of [`super`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;

use super::dpop::{self, ProofRequest};
use super::metadata::{
    AuthorizationServerMetadata, ErrorResponse, ProtectedResourceMetadata, RegistrationResponse,
    TokenResponse,
};
use super::pkce::{random_token, Pkce};
use super::url::{self, form, form_encode, with_query};
use super::{
    challenge, client_assertion, select_scope, unix_seconds, AuthError, AuthMethod, AuthRequest,
    AuthResponse, ClientCredentials, Grant, JwtSigner, OAuthConfig, TokenAuth, TokenSet,
    CLIENT_ASSERTION_TYPE,
};
use crate::entropy::Entropy;

/// How a flow starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// Obtain tokens from scratch: after a 401 or 403 (with its `WWW-Authenticate`), or
    /// before the first request.
    Authorize {
        /// The `WWW-Authenticate` header of the refusal, if any.
        www_authenticate: Option<String>,
        /// The scopes asked for last time (a step-up asks for them again, plus the new ones).
        previous_scope: Option<String>,
    },
    /// Refresh `tokens` (their issuer's token endpoint, their client).
    Refresh {
        /// The tokens, with their refresh token.
        tokens: TokenSet,
        /// What an earlier flow found for the same issuer, to skip discovery.
        discovery: Option<Box<Discovery>>,
    },
}

/// What the caller does next; see [`AuthFlow::poll_step`].
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send this request and report with [`AuthFlow::handle_response`] (or
    /// [`AuthFlow::handle_transport_error`]).
    Send(AuthRequest),
    /// Look up the stored client for this issuer; answer with [`AuthFlow::handle_client`].
    LoadClient {
        /// The issuer (exact string): credentials of any other must not be returned.
        issuer: String,
    },
    /// Have the user authorize at `url`; answer with the redirect's query parameters through
    /// [`AuthFlow::handle_redirect`].
    Authorize {
        /// The authorization URL.
        url: String,
    },
    /// Finished with tokens.
    Done(Box<FlowOutcome>),
    /// Finished without.
    Failed(AuthError),
}

/// What a successful flow produced.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowOutcome {
    /// The tokens, with absolute expiry.
    pub tokens: TokenSet,
    /// A client this flow registered, for the caller to store under its issuer.
    pub registered: Option<ClientCredentials>,
    /// What discovery found, to reuse for refreshes.
    pub discovery: Discovery,
}

/// The authorization server that protects a resource, as discovered.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// The resource identifier (RFC 8707), exact.
    pub resource: String,
    /// The issuer, exact.
    pub issuer: String,
    /// Its metadata.
    pub metadata: AuthorizationServerMetadata,
    /// The resource's `scopes_supported`.
    pub resource_scopes: Option<Vec<String>>,
    /// The metadata was made up from the default endpoints (2025-03-26 fallback).
    pub synthesized: bool,
}

enum Phase {
    Prm {
        candidates: VecDeque<String>,
    },
    AsMeta {
        issuer: String,
        candidates: VecDeque<String>,
        legacy: bool,
        resource: String,
        resource_scopes: Option<Vec<String>>,
    },
    Client,
    Registering,
    Authorizing {
        pkce: Pkce,
        state: String,
    },
    Token,
    Exchange,
    Finished,
}

/// One run of discovery, identity and a grant; see the [module](super) docs.
///
/// Drive it like this: call [`poll_step`](Self::poll_step), perform the step, report the
/// result with the matching `handle_*`, and repeat until [`Step::Done`] or [`Step::Failed`].
/// A `handle_*` that does not answer the pending step fails the flow with
/// [`AuthError::Usage`].
pub struct AuthFlow {
    config: Arc<OAuthConfig>,
    entropy: Box<dyn Entropy>,
    phase: Phase,
    pending: Option<Step>,
    challenge_scope: Option<String>,
    resource_metadata_url: Option<String>,
    previous_scope: Option<String>,
    discovery: Option<Discovery>,
    client: Option<ClientCredentials>,
    registered: Option<ClientCredentials>,
    refreshing: Option<TokenSet>,
    requested_scope: Option<String>,
    restarted: bool,
    /// The grant's own fields of the last token request, to send it again with a new nonce.
    token_form: Vec<(&'static str, String)>,
    /// The authorization server's latest DPoP nonce.
    dpop_nonce: Option<String>,
    nonce_retries: u32,
}

impl std::fmt::Debug for AuthFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthFlow")
            .field("server_url", &self.config.server_url)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl AuthFlow {
    /// A flow for `config.server_url`, started as `start` says.
    pub fn new(
        config: Arc<OAuthConfig>,
        start: Start,
        now: SystemTime,
        entropy: Box<dyn Entropy>,
    ) -> AuthFlow {
        let mut flow = AuthFlow {
            config,
            entropy,
            phase: Phase::Finished,
            pending: None,
            challenge_scope: None,
            resource_metadata_url: None,
            previous_scope: None,
            discovery: None,
            client: None,
            registered: None,
            refreshing: None,
            requested_scope: None,
            restarted: false,
            token_form: Vec::new(),
            dpop_nonce: None,
            nonce_retries: 0,
        };
        match start {
            Start::Authorize {
                www_authenticate,
                previous_scope,
            } => {
                if let Some(c) = www_authenticate.as_deref().and_then(challenge::bearer) {
                    flow.challenge_scope = c.scope().map(str::to_owned);
                    flow.resource_metadata_url = c.resource_metadata().map(str::to_owned);
                }
                flow.previous_scope = previous_scope;
                flow.start_discovery(now);
            }
            Start::Refresh { tokens, discovery } => {
                flow.previous_scope = tokens.scope.clone();
                let issuer = tokens.issuer.clone();
                let resource = tokens.resource.clone();
                flow.refreshing = Some(tokens);
                match discovery.filter(|d| d.issuer == issuer) {
                    Some(d) => flow.discovered(now, *d),
                    None => {
                        let legacy =
                            url::split(&flow.config.server_url).is_some_and(|p| p.origin == issuer);
                        flow.start_metadata(now, issuer, legacy, resource, None);
                    }
                }
            }
        }
        flow
    }

    /// The next thing to do; `None` while a step is out (or after the end was taken).
    #[must_use]
    pub fn poll_step(&mut self) -> Option<Step> {
        self.pending.take()
    }

    /// The response to the last [`Step::Send`].
    pub fn handle_response(&mut self, now: SystemTime, response: AuthResponse) {
        if response.body.len() > self.config.max_body_len {
            return self.handle_transport_error(now, "response body too large".into());
        }
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Prm { candidates } => self.on_prm(now, response, candidates),
            Phase::AsMeta {
                issuer,
                candidates,
                legacy,
                resource,
                resource_scopes,
            } => self.on_metadata(
                now,
                response,
                issuer,
                candidates,
                legacy,
                resource,
                resource_scopes,
            ),
            Phase::Registering => self.on_registration(now, response),
            Phase::Token => self.on_token(now, response),
            Phase::Exchange => self.on_exchange(now, response),
            other => {
                self.phase = other;
                self.fail(AuthError::Usage("a response with no request out"));
            }
        }
    }

    /// The last [`Step::Send`] failed in transport. Discovery moves on to the next URL;
    /// anything else fails.
    pub fn handle_transport_error(&mut self, now: SystemTime, reason: String) {
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Prm { candidates } => self.next_prm(now, candidates),
            Phase::AsMeta {
                issuer,
                candidates,
                legacy,
                resource,
                resource_scopes,
            } => self.next_metadata(now, issuer, candidates, legacy, resource, resource_scopes),
            _ => self.fail(AuthError::Transport(reason)),
        }
    }

    /// The answer to [`Step::LoadClient`]: the stored client for that issuer, if any.
    pub fn handle_client(&mut self, now: SystemTime, stored: Option<ClientCredentials>) {
        if !matches!(self.phase, Phase::Client) {
            return self.fail(AuthError::Usage("a client nobody asked for"));
        }
        let Some(d) = self.discovery.clone() else {
            return self.fail(AuthError::Usage("a client before discovery"));
        };
        // Credentials of another issuer are never used here, whatever the store returned.
        if let Some(c) = stored.filter(|c| c.issuer == d.issuer) {
            self.client = Some(c);
            return self.with_client(now);
        }
        if self.config.grant == Grant::AuthorizationCode {
            if let Some(cimd) = &self.config.client_metadata_url {
                if d.metadata.client_id_metadata_document_supported == Some(true) {
                    self.client = Some(ClientCredentials {
                        issuer: d.issuer.clone(),
                        client_id: cimd.clone(),
                        client_secret: None,
                        auth_method: Some(TokenAuth::None),
                    });
                    return self.with_client(now);
                }
            }
        }
        if self.refreshing.is_some() {
            // A new registration cannot use this refresh token: authorize from scratch.
            return self.restart(now);
        }
        match d.metadata.registration_endpoint.clone() {
            Some(endpoint) => self.register(endpoint),
            None => self.fail(AuthError::NoClientIdentity { issuer: d.issuer }),
        }
    }

    /// The query parameters the authorization server redirected the user back with.
    pub fn handle_redirect(&mut self, now: SystemTime, params: &[(String, String)]) {
        let Phase::Authorizing { pkce, state } =
            std::mem::replace(&mut self.phase, Phase::Finished)
        else {
            return self.fail(AuthError::Usage("a redirect with no authorization out"));
        };
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("state") != Some(state.as_str()) {
            return self.fail(AuthError::StateMismatch);
        }
        let Some(d) = self.discovery.clone() else {
            return self.fail(AuthError::Usage("a redirect before discovery"));
        };
        // RFC 9207: a present `iss` must be the recorded issuer, by plain string comparison;
        // a missing one is refused when the server says it sends it.
        match get("iss") {
            Some(iss) if iss != d.issuer => {
                return self.fail(AuthError::IssuerMismatch {
                    expected: d.issuer,
                    found: Some(iss.to_owned()),
                })
            }
            None if d.metadata.authorization_response_iss_parameter_supported == Some(true) => {
                return self.fail(AuthError::IssuerMismatch {
                    expected: d.issuer,
                    found: None,
                })
            }
            _ => {}
        }
        if let Some(error) = get("error") {
            return self.fail(AuthError::AuthorizationDenied {
                error: error.to_owned(),
                description: get("error_description").map(str::to_owned),
            });
        }
        let Some(code) = get("code") else {
            return self.fail(AuthError::MissingCode);
        };
        let code = code.to_owned();
        let redirect_uri = self.config.redirect_uri.clone();
        self.token_request(
            now,
            vec![
                ("grant_type", "authorization_code".into()),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", pkce.verifier),
            ],
        );
    }

    // ----- discovery -----------------------------------------------------------------------

    fn start_discovery(&mut self, now: SystemTime) {
        let candidates = url::protected_resource_metadata_urls(
            &self.config.server_url,
            self.resource_metadata_url.as_deref(),
        );
        self.next_prm(now, candidates.into());
    }

    fn next_prm(&mut self, now: SystemTime, mut candidates: VecDeque<String>) {
        match candidates.pop_front() {
            Some(u) => {
                self.pending = Some(Step::Send(get(&u)));
                self.phase = Phase::Prm { candidates };
            }
            None => {
                // No protected resource metadata: a 2025-03-26 server, whose origin is the
                // authorization server.
                let origin = url::split(&self.config.server_url)
                    .map(|p| p.origin.to_owned())
                    .unwrap_or_default();
                let resource = url::canonical_resource(&self.config.server_url);
                self.start_metadata(now, origin, true, resource, None);
            }
        }
    }

    fn on_prm(&mut self, now: SystemTime, response: AuthResponse, candidates: VecDeque<String>) {
        if response.status != 200 {
            return self.next_prm(now, candidates);
        }
        let Ok(prm) = serde_json::from_slice::<ProtectedResourceMetadata>(&response.body) else {
            return self.next_prm(now, candidates);
        };
        let server_url = self.config.server_url.clone();
        let resource = match prm.resource {
            Some(r) if url::resource_covers(&r, &server_url) => r,
            Some(r) => {
                return self.fail(AuthError::ResourceMismatch {
                    resource: r,
                    server_url,
                })
            }
            None => url::canonical_resource(&server_url),
        };
        let Some(issuer) = prm.authorization_servers.into_iter().next() else {
            return self.fail(AuthError::NoAuthorizationServer);
        };
        self.start_metadata(now, issuer, false, resource, prm.scopes_supported);
    }

    fn start_metadata(
        &mut self,
        now: SystemTime,
        issuer: String,
        legacy: bool,
        resource: String,
        resource_scopes: Option<Vec<String>>,
    ) {
        let candidates = url::authorization_server_metadata_urls(&issuer).into();
        self.next_metadata(now, issuer, candidates, legacy, resource, resource_scopes);
    }

    fn next_metadata(
        &mut self,
        now: SystemTime,
        issuer: String,
        mut candidates: VecDeque<String>,
        legacy: bool,
        resource: String,
        resource_scopes: Option<Vec<String>>,
    ) {
        match candidates.pop_front() {
            Some(u) => {
                self.pending = Some(Step::Send(get(&u)));
                self.phase = Phase::AsMeta {
                    issuer,
                    candidates,
                    legacy,
                    resource,
                    resource_scopes,
                };
            }
            None if legacy => {
                let d = Discovery {
                    resource,
                    metadata: AuthorizationServerMetadata::defaults_at(&issuer),
                    issuer,
                    resource_scopes,
                    synthesized: true,
                };
                self.discovered(now, d);
            }
            None => self.fail(AuthError::NoMetadata { issuer }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_metadata(
        &mut self,
        now: SystemTime,
        response: AuthResponse,
        issuer: String,
        candidates: VecDeque<String>,
        legacy: bool,
        resource: String,
        resource_scopes: Option<Vec<String>>,
    ) {
        let parsed = (response.status == 200)
            .then(|| serde_json::from_slice::<AuthorizationServerMetadata>(&response.body).ok())
            .flatten()
            .filter(|m| !m.token_endpoint.is_empty());
        let Some(metadata) = parsed else {
            return self.next_metadata(now, issuer, candidates, legacy, resource, resource_scopes);
        };
        // RFC 8414 §3.3: the document must name the issuer its URL was built from, exactly.
        // A 2025-03-26 server's origin only stands in for an issuer, so it names its own.
        let issuer = if legacy {
            if metadata.issuer.is_empty() {
                issuer
            } else {
                metadata.issuer.clone()
            }
        } else if metadata.issuer != issuer {
            return self.fail(AuthError::MetadataIssuerMismatch {
                expected: issuer,
                found: metadata.issuer,
            });
        } else {
            issuer
        };
        let d = Discovery {
            resource,
            issuer,
            metadata,
            resource_scopes,
            synthesized: false,
        };
        self.discovered(now, d);
    }

    fn discovered(&mut self, now: SystemTime, d: Discovery) {
        let pre = self
            .config
            .pre_registered
            .as_ref()
            .filter(|p| p.issuer.as_deref().is_none_or(|i| i == d.issuer))
            .map(|p| ClientCredentials {
                issuer: d.issuer.clone(),
                client_id: p.client_id.clone(),
                client_secret: p.client_secret.clone(),
                auth_method: None,
            });
        let issuer = d.issuer.clone();
        self.discovery = Some(d);
        match pre {
            Some(c) => {
                self.client = Some(c);
                self.with_client(now);
            }
            None => {
                self.phase = Phase::Client;
                self.pending = Some(Step::LoadClient { issuer });
            }
        }
    }

    // ----- identity ------------------------------------------------------------------------

    fn register(&mut self, endpoint: String) {
        let redirect = &self.config.redirect_uri;
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| redirect.starts_with(p));
        let grant_types: &[&str] = match self.config.grant {
            Grant::AuthorizationCode => &["authorization_code", "refresh_token"],
            Grant::ClientCredentials => &["client_credentials"],
            Grant::JwtBearer => &[super::JWT_BEARER_GRANT],
        };
        let body = json!({
            "client_name": self.config.client_name,
            "redirect_uris": [redirect],
            "grant_types": grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": if loopback { "native" } else { "web" },
        });
        self.pending = Some(Step::Send(AuthRequest {
            method: AuthMethod::Post,
            url: endpoint,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("accept".into(), "application/json".into()),
            ],
            body: body.to_string().into_bytes(),
        }));
        self.phase = Phase::Registering;
    }

    fn on_registration(&mut self, now: SystemTime, response: AuthResponse) {
        if !(200..300).contains(&response.status) {
            return self.fail(endpoint_error("registration", &response));
        }
        let reg = match serde_json::from_slice::<RegistrationResponse>(&response.body) {
            Ok(r) => r,
            Err(e) => {
                return self.fail(AuthError::Malformed {
                    what: "registration response",
                    reason: e.to_string(),
                })
            }
        };
        let Some(d) = &self.discovery else {
            return self.fail(AuthError::Usage("registration before discovery"));
        };
        let c = ClientCredentials {
            issuer: d.issuer.clone(),
            client_id: reg.client_id,
            client_secret: reg.client_secret,
            auth_method: reg
                .token_endpoint_auth_method
                .as_deref()
                .and_then(TokenAuth::parse),
        };
        self.registered = Some(c.clone());
        self.client = Some(c);
        self.with_client(now);
    }

    fn with_client(&mut self, now: SystemTime) {
        let Some(d) = self.discovery.clone() else {
            return self.fail(AuthError::Usage("a client before discovery"));
        };
        if let Some(tokens) = &self.refreshing {
            let Some(refresh) = tokens.refresh_token.clone() else {
                return self.restart(now);
            };
            return self.token_request(
                now,
                vec![
                    ("grant_type", "refresh_token".into()),
                    ("refresh_token", refresh),
                ],
            );
        }
        let offered = d.metadata.supports_scope("offline_access");
        let want_offline =
            self.config.offline_access && self.config.grant == Grant::AuthorizationCode;
        self.requested_scope = select_scope(
            self.challenge_scope.as_deref(),
            d.resource_scopes.as_deref(),
            self.config.default_scope.as_deref(),
            self.previous_scope.as_deref(),
            offered,
            want_offline,
        );
        match self.config.grant {
            Grant::ClientCredentials => {
                let mut form = vec![("grant_type", "client_credentials".to_owned())];
                if let Some(s) = &self.requested_scope {
                    form.push(("scope", s.clone()));
                }
                self.token_request(now, form);
            }
            Grant::JwtBearer if self.config.id_jag.is_some() && self.config.assertion.is_none() => {
                self.exchange_for_id_jag(&d)
            }
            Grant::JwtBearer => {
                let Some(assertion) = self.config.assertion.clone() else {
                    return self.fail(AuthError::Signing(
                        "no assertion for the JWT-bearer grant".into(),
                    ));
                };
                let mut form = vec![
                    ("grant_type", super::JWT_BEARER_GRANT.to_owned()),
                    ("assertion", assertion),
                ];
                if let Some(s) = &self.requested_scope {
                    form.push(("scope", s.clone()));
                }
                self.token_request(now, form);
            }
            Grant::AuthorizationCode => {
                if !d.synthesized && !d.metadata.supports_s256() {
                    return self.fail(AuthError::PkceNotSupported);
                }
                let Some(endpoint) = d.metadata.authorization_endpoint.clone() else {
                    return self.fail(AuthError::Malformed {
                        what: "authorization server metadata",
                        reason: "no authorization_endpoint".into(),
                    });
                };
                let Some(client) = &self.client else {
                    return self.fail(AuthError::Usage("no client"));
                };
                let pkce = Pkce::generate(self.entropy.as_mut());
                let state = random_token(self.entropy.as_mut());
                let mut q: Vec<(&str, &str)> = vec![
                    ("response_type", "code"),
                    ("client_id", &client.client_id),
                    ("redirect_uri", &self.config.redirect_uri),
                    ("code_challenge", &pkce.challenge),
                    ("code_challenge_method", "S256"),
                    ("state", &state),
                    ("resource", &d.resource),
                ];
                if let Some(s) = &self.requested_scope {
                    q.push(("scope", s));
                }
                let url = with_query(&endpoint, &q);
                self.pending = Some(Step::Authorize { url });
                self.phase = Phase::Authorizing { pkce, state };
            }
        }
    }

    // ----- enterprise-managed authorization (SEP-990) ----------------------------------------

    fn exchange_for_id_jag(&mut self, d: &Discovery) {
        let Some(x) = self.config.id_jag.clone() else {
            return self.fail(AuthError::Usage("no ID-JAG exchange configured"));
        };
        let mut fields: Vec<(&str, &str)> = vec![
            ("grant_type", super::TOKEN_EXCHANGE_GRANT),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:id-jag",
            ),
            ("subject_token", &x.id_token),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
            ("audience", &d.issuer),
            ("resource", &d.resource),
        ];
        let mut headers = vec![
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        match &x.client_secret {
            Some(secret) => {
                let pair = format!("{}:{}", form_encode(&x.client_id), form_encode(secret));
                headers.push((
                    "authorization".to_owned(),
                    format!("Basic {}", crate::http::base64::encode(pair.as_bytes())),
                ));
            }
            None => fields.push(("client_id", &x.client_id)),
        }
        if let Some(s) = &self.requested_scope {
            fields.push(("scope", s));
        }
        let body = form(&fields).into_bytes();
        self.pending = Some(Step::Send(AuthRequest {
            method: AuthMethod::Post,
            url: x.token_endpoint,
            headers,
            body,
        }));
        self.phase = Phase::Exchange;
    }

    fn on_exchange(&mut self, now: SystemTime, response: AuthResponse) {
        if response.status != 200 {
            return self.fail(endpoint_error("token exchange", &response));
        }
        let jag = match serde_json::from_slice::<TokenResponse>(&response.body) {
            Ok(t) if !t.access_token.is_empty() => t.access_token,
            _ => {
                return self.fail(AuthError::Malformed {
                    what: "token exchange response",
                    reason: "no access_token".into(),
                })
            }
        };
        let mut form = vec![
            ("grant_type", super::JWT_BEARER_GRANT.to_owned()),
            ("assertion", jag),
        ];
        if let Some(s) = &self.requested_scope {
            form.push(("scope", s.clone()));
        }
        self.token_request(now, form);
    }

    // ----- tokens --------------------------------------------------------------------------

    fn auth_method(&self, d: &Discovery, c: &ClientCredentials) -> TokenAuth {
        if let Some(m) = c.auth_method {
            return m;
        }
        let m = &d.metadata;
        if self.config.signer.is_some() && m.allows_auth_method("private_key_jwt") {
            return TokenAuth::PrivateKeyJwt;
        }
        if c.client_secret.is_none() {
            return TokenAuth::None;
        }
        if !m.allows_auth_method("client_secret_basic")
            && m.allows_auth_method("client_secret_post")
        {
            TokenAuth::ClientSecretPost
        } else {
            TokenAuth::ClientSecretBasic
        }
    }

    fn token_request(&mut self, now: SystemTime, mut fields: Vec<(&'static str, String)>) {
        let (Some(d), Some(c)) = (self.discovery.clone(), self.client.clone()) else {
            return self.fail(AuthError::Usage("a token request before discovery"));
        };
        self.token_form = fields.clone();
        fields.push(("resource", d.resource.clone()));
        let mut headers = vec![
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        match self.auth_method(&d, &c) {
            TokenAuth::None => fields.push(("client_id", c.client_id.clone())),
            TokenAuth::ClientSecretPost => {
                fields.push(("client_id", c.client_id.clone()));
                fields.push(("client_secret", c.client_secret.clone().unwrap_or_default()));
            }
            TokenAuth::ClientSecretBasic => {
                let pair = format!(
                    "{}:{}",
                    form_encode(&c.client_id),
                    form_encode(c.client_secret.as_deref().unwrap_or(""))
                );
                headers.push((
                    "authorization".to_owned(),
                    format!("Basic {}", crate::http::base64::encode(pair.as_bytes())),
                ));
            }
            TokenAuth::PrivateKeyJwt => {
                let Some(signer) = self.config.signer.clone() else {
                    return self.fail(AuthError::Signing("no signer configured".into()));
                };
                let assertion = match client_assertion(
                    signer.as_ref(),
                    &c.client_id,
                    &d.issuer,
                    unix_seconds(now),
                    self.entropy.as_mut(),
                ) {
                    Ok(a) => a,
                    Err(e) => return self.fail(AuthError::Signing(e)),
                };
                fields.push(("client_id", c.client_id.clone()));
                fields.push(("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()));
                fields.push(("client_assertion", assertion));
            }
        }
        if let Some(signer) = self.dpop_signer(&d) {
            let request = ProofRequest {
                method: "POST",
                url: &d.metadata.token_endpoint,
                nonce: self.dpop_nonce.as_deref(),
                access_token: None,
            };
            match dpop::proof(
                signer.as_ref(),
                request,
                unix_seconds(now),
                self.entropy.as_mut(),
            ) {
                Ok(p) => headers.push(("dpop".to_owned(), p)),
                Err(e) => return self.fail(AuthError::Signing(e)),
            }
        }
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.pending = Some(Step::Send(AuthRequest {
            method: AuthMethod::Post,
            url: d.metadata.token_endpoint.clone(),
            headers,
            body: form(&pairs).into_bytes(),
        }));
        self.phase = Phase::Token;
    }

    fn on_token(&mut self, now: SystemTime, response: AuthResponse) {
        let Some(d) = self.discovery.clone() else {
            return self.fail(AuthError::Usage("a token before discovery"));
        };
        if response.status != 200 {
            let err = serde_json::from_slice::<ErrorResponse>(&response.body).ok();
            // RFC 9449 §8: a proof without the server's nonce; send again with it, a bounded
            // number of times.
            let nonce = response
                .header("dpop-nonce")
                .map(str::trim)
                .filter(|n| dpop::valid_nonce(n));
            let use_nonce = err
                .as_ref()
                .is_some_and(|e| e.error == dpop::USE_DPOP_NONCE);
            if let Some(n) = nonce.filter(|_| use_nonce && response.status == 400) {
                if self.dpop_signer(&d).is_some() && self.nonce_retries < dpop::MAX_NONCE_RETRIES {
                    self.nonce_retries += 1;
                    self.dpop_nonce = Some(n.to_owned());
                    let form = std::mem::take(&mut self.token_form);
                    return self.token_request(now, form);
                }
            }
            let invalid_grant = err.as_ref().is_some_and(|e| e.error == "invalid_grant");
            if self.refreshing.is_some() && invalid_grant && !self.restarted {
                return self.restart(now);
            }
            return self.fail(endpoint_error("token", &response));
        }
        let t = match serde_json::from_slice::<TokenResponse>(&response.body) {
            Ok(t) if !t.access_token.is_empty() => t,
            Ok(_) => {
                return self.fail(AuthError::Malformed {
                    what: "token response",
                    reason: "empty access_token".into(),
                })
            }
            Err(e) => {
                return self.fail(AuthError::Malformed {
                    what: "token response",
                    reason: e.to_string(),
                })
            }
        };
        let old = self.refreshing.take();
        let tokens = TokenSet {
            access_token: t.access_token,
            token_type: if t.token_type.is_empty() {
                "Bearer".to_owned()
            } else {
                t.token_type
            },
            // A refresh answer without a refresh token leaves the old one valid.
            refresh_token: t
                .refresh_token
                .or_else(|| old.as_ref().and_then(|o| o.refresh_token.clone())),
            expires_at: t.expires_in.map(|s| unix_seconds(now).saturating_add(s)),
            scope: t
                .scope
                .or_else(|| self.requested_scope.clone())
                .or_else(|| old.as_ref().and_then(|o| o.scope.clone())),
            issuer: d.issuer.clone(),
            resource: d.resource.clone(),
        };
        self.phase = Phase::Finished;
        self.pending = Some(Step::Done(Box::new(FlowOutcome {
            tokens,
            registered: self.registered.take(),
            discovery: d,
        })));
    }

    /// The DPoP key, when the authorization server accepts its algorithm.
    fn dpop_signer(&self, d: &Discovery) -> Option<Arc<dyn JwtSigner>> {
        let signer = self.config.dpop.as_ref()?;
        let advertised = d.metadata.dpop_signing_alg_values_supported.as_deref();
        dpop::server_accepts(advertised, signer.alg()).then(|| signer.clone())
    }

    /// Refresh impossible: authorize from scratch (once per flow).
    fn restart(&mut self, now: SystemTime) {
        if self.restarted {
            return self.fail(AuthError::Usage("restarted twice"));
        }
        self.restarted = true;
        self.refreshing = None;
        self.discovery = None;
        self.client = None;
        self.start_discovery(now);
    }

    fn fail(&mut self, e: AuthError) {
        self.phase = Phase::Finished;
        self.pending = Some(Step::Failed(e));
    }
}

fn get(url: &str) -> AuthRequest {
    AuthRequest {
        method: AuthMethod::Get,
        url: url.to_owned(),
        headers: vec![("accept".into(), "application/json".into())],
        body: Vec::new(),
    }
}

fn endpoint_error(endpoint: &'static str, response: &AuthResponse) -> AuthError {
    let error = match serde_json::from_slice::<ErrorResponse>(&response.body) {
        Ok(e) => match e.error_description {
            Some(d) => format!("{}: {d}", e.error),
            None => e.error,
        },
        Err(_) => String::from_utf8_lossy(&response.body)
            .chars()
            .take(200)
            .collect(),
    };
    AuthError::Endpoint {
        endpoint,
        status: response.status,
        error,
    }
}
