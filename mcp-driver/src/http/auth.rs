//! Protecting the HTTP server with OAuth: the token verification the core's
//! [`ResourceServer`] decisions wait on.
//!
//! [`Protection`] pairs the decisions with a [`TokenVerifier`]; give it to
//! [`HttpService::protected`](super::server::HttpService::protected). Two verifiers are
//! here: [`JwtVerifier`] (JWT access tokens checked against the issuer's JWKS, RFC 9068) and
//! [`IntrospectionVerifier`] (RFC 7662, for opaque tokens). Both fetch over an
//! [`AuthHttp`], the HTTP client's own connections.

// Without `auth` only the protection itself is built, not the two verifiers.
#![cfg_attr(not(feature = "auth"), allow(unused_imports))]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

#[cfg(feature = "auth")]
use jsonwebtoken::jwk::JwkSet;
#[cfg(feature = "auth")]
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mcp_proto::auth::{
    unix_seconds, url, AuthMethod, AuthRequest, Principal, ResourceServer, ResourceServerConfig,
};
use serde_json::{Map, Value};

#[cfg(feature = "auth")]
use super::client::AuthHttp;
use crate::engine::lock;
use crate::runtime::BoxFuture;

/// Why a token was refused (the description of the 401's challenge).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(pub String);

/// Checks an access token and says whom it speaks for. Implement it for any token format;
/// the expiry, audience and scopes of the [`Principal`] are checked afterwards by the core
/// against the request.
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verifies `token` (signature or introspection, issuer, validity period).
    fn verify(&self, token: &str) -> BoxFuture<'static, Result<Principal, TokenError>>;
}

/// What a protected HTTP server needs: the resource's decisions, a verifier, and the clock
/// the decisions are taken at.
#[derive(Clone)]
pub struct Protection {
    pub(crate) resource: Arc<ResourceServer>,
    pub(crate) verifier: Arc<dyn TokenVerifier>,
    pub(crate) clock: fn() -> SystemTime,
}

impl std::fmt::Debug for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protection")
            .field("resource", &self.resource.config().resource)
            .finish_non_exhaustive()
    }
}

impl Protection {
    /// Protects the resource `config` describes with `verifier`.
    pub fn new(config: ResourceServerConfig, verifier: Arc<dyn TokenVerifier>) -> Protection {
        Protection {
            resource: Arc::new(ResourceServer::new(config)),
            verifier,
            clock: SystemTime::now,
        }
    }

    /// Uses `clock` instead of the system's wall clock for expiry checks (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> Protection {
        self.clock = clock;
        self
    }

    /// The decisions.
    pub fn resource(&self) -> &ResourceServer {
        &self.resource
    }
}

#[cfg(feature = "auth")]
/// Algorithms accepted by default: asymmetric signatures only (never `none`, never an HMAC
/// whose key would be the public key).
pub const DEFAULT_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

#[cfg(feature = "auth")]
struct Jwks {
    uri: Option<String>,
    keys: Option<JwkSet>,
    /// When the keys were last fetched (or tried), to bound refetches.
    fetched: Option<SystemTime>,
}

#[cfg(feature = "auth")]
/// Verifies JWT access tokens against the issuer's JSON Web Key Set.
///
/// The key set is fetched once and cached; a token signed with a key id the cache does not
/// know makes it fetch again, at most once per [`Self::refetch_interval`] (a flood of
/// tokens with made-up key ids costs one fetch a minute, not one per request). The header's
/// algorithm must be on the allow-list and match the key's; `iss` must be the issuer, `aud`
/// one of the audiences, `exp` (required) and `nbf` are checked against the clock.
pub struct JwtVerifier {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    http: AuthHttp,
    jwks: Mutex<Jwks>,
    refetch: Duration,
    leeway: Duration,
    clock: fn() -> SystemTime,
}

#[cfg(feature = "auth")]
impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "auth")]
impl JwtVerifier {
    /// Tokens from `issuer` for `audience` (the resource's canonical URI); the JWKS URL is
    /// found in the issuer's metadata (RFC 8414, then OpenID Connect Discovery) on first use.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, http: AuthHttp) -> Self {
        JwtVerifier {
            issuer: issuer.into(),
            audiences: vec![audience.into()],
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            http,
            jwks: Mutex::new(Jwks {
                uri: None,
                keys: None,
                fetched: None,
            }),
            refetch: Duration::from_secs(60),
            leeway: Duration::from_secs(30),
            clock: SystemTime::now,
        }
    }

    /// Fetches the keys from `uri` instead of discovering it.
    #[must_use]
    pub fn with_jwks_uri(self, uri: impl Into<String>) -> Self {
        lock(&self.jwks).uri = Some(uri.into());
        self
    }

    /// Accepts only `algorithms` (default: [`DEFAULT_ALGORITHMS`]).
    #[must_use]
    pub fn with_algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// The shortest time between two fetches of the key set (default one minute).
    #[must_use]
    pub fn refetch_interval(mut self, every: Duration) -> Self {
        self.refetch = every;
        self
    }

    /// Uses `clock` for `exp`/`nbf` and the refetch bound (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }

    /// The cached key for `kid`, if any.
    fn key_for(&self, kid: Option<&str>) -> Option<DecodingKey> {
        let g = lock(&self.jwks);
        let set = g.keys.as_ref()?;
        let jwk = match kid {
            Some(kid) => set.find(kid)?,
            // Without a key id, only a set of one key is unambiguous.
            None if set.keys.len() == 1 => &set.keys[0],
            None => return None,
        };
        DecodingKey::from_jwk(jwk).ok()
    }

    fn key_alg_matches(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        let g = lock(&self.jwks);
        let Some(set) = g.keys.as_ref() else {
            return false;
        };
        let jwk = match kid {
            Some(kid) => set.find(kid),
            None => set.keys.first(),
        };
        match jwk.and_then(|k| k.common.key_algorithm) {
            None => true,
            Some(ka) => serde_json::to_value(ka).ok() == serde_json::to_value(alg).ok(),
        }
    }

    /// Fetches the key set unless it was fetched within the refetch interval.
    async fn refresh(&self) -> Result<(), TokenError> {
        let now = (self.clock)();
        let uri = {
            let mut g = lock(&self.jwks);
            if g.fetched
                .is_some_and(|t| now.duration_since(t).unwrap_or_default() < self.refetch)
            {
                return Ok(());
            }
            g.fetched = Some(now);
            g.uri.clone()
        };
        let uri = match uri {
            Some(u) => u,
            None => {
                let u = self.discover().await?;
                lock(&self.jwks).uri = Some(u.clone());
                u
            }
        };
        let body = get_json(&self.http, &uri).await?;
        let set: JwkSet = serde_json::from_value(body)
            .map_err(|e| TokenError(format!("the key set at {uri} is not a JWKS: {e}")))?;
        lock(&self.jwks).keys = Some(set);
        Ok(())
    }

    async fn discover(&self) -> Result<String, TokenError> {
        let mut last = String::from("no metadata URL");
        for u in url::authorization_server_metadata_urls(&self.issuer) {
            match get_json(&self.http, &u).await {
                Ok(doc) => {
                    if doc.get("issuer").and_then(Value::as_str) != Some(self.issuer.as_str()) {
                        last = format!("{u} names another issuer");
                        continue;
                    }
                    if let Some(j) = doc.get("jwks_uri").and_then(Value::as_str) {
                        return Ok(j.to_owned());
                    }
                    last = format!("{u} has no jwks_uri");
                }
                Err(e) => last = e.0,
            }
        }
        Err(TokenError(format!("cannot find the issuer's keys: {last}")))
    }

    fn check(&self, token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Principal, String> {
        let mut v = Validation::new(alg);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&self.audiences);
        // Time is checked below against our clock, not the library's.
        v.validate_exp = false;
        v.validate_nbf = false;
        v.required_spec_claims = ["exp", "iss", "aud"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &v)
            .map_err(|e| e.to_string())?;
        let now = unix_seconds((self.clock)());
        let leeway = self.leeway.as_secs();
        let at = |k: &str| data.claims.get(k).and_then(Value::as_u64);
        if at("exp").is_some_and(|exp| exp + leeway <= now) {
            return Err("the token has expired".into());
        }
        if at("nbf").is_some_and(|nbf| nbf > now + leeway) {
            return Err("the token is not valid yet".into());
        }
        Ok(Principal::from_claims(data.claims))
    }

    async fn verify_owned(self: Arc<Self>, token: String) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(&token)
            .map_err(|e| TokenError(format!("not a JWT: {e}")))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(TokenError(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header.kid.as_deref();
        let key = match self.key_for(kid) {
            Some(k) => k,
            None => {
                self.refresh().await?;
                self.key_for(kid)
                    .ok_or_else(|| TokenError("signed with an unknown key".into()))?
            }
        };
        if !self.key_alg_matches(kid, header.alg) {
            return Err(TokenError("the key is not for this algorithm".into()));
        }
        self.check(&token, &key, header.alg).map_err(TokenError)
    }
}

#[cfg(feature = "auth")]
impl TokenVerifier for Arc<JwtVerifier> {
    fn verify(&self, token: &str) -> BoxFuture<'static, Result<Principal, TokenError>> {
        Box::pin(self.clone().verify_owned(token.to_owned()))
    }
}

#[cfg(feature = "auth")]
async fn get_json(http: &AuthHttp, uri: &str) -> Result<Value, TokenError> {
    let r = http
        .send(AuthRequest {
            method: AuthMethod::Get,
            url: uri.to_owned(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
        })
        .await
        .map_err(|e| TokenError(format!("GET {uri}: {e}")))?;
    if r.status != 200 {
        return Err(TokenError(format!("GET {uri}: status {}", r.status)));
    }
    serde_json::from_slice(&r.body).map_err(|e| TokenError(format!("GET {uri}: {e}")))
}

#[cfg(feature = "auth")]
/// Most introspection answers kept at once.
const MAX_CACHED: usize = 4096;

#[cfg(feature = "auth")]
/// Verifies opaque tokens by RFC 7662 introspection at the authorization server, caching
/// each active answer until the token's `exp` (at most `max_cache`), keyed by a SHA-256 of
/// the token (the cache holds no token).
pub struct IntrospectionVerifier {
    endpoint: String,
    /// `Authorization` for the introspection request (the resource server's credentials).
    authorization: String,
    issuer: Option<String>,
    http: AuthHttp,
    cache: Mutex<HashMap<[u8; 32], (Principal, SystemTime)>>,
    max_cache: Duration,
    clock: fn() -> SystemTime,
}

#[cfg(feature = "auth")]
impl std::fmt::Debug for IntrospectionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionVerifier")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "auth")]
impl IntrospectionVerifier {
    /// Introspects at `endpoint`, authenticating with HTTP Basic as `client_id`.
    pub fn new(
        endpoint: impl Into<String>,
        client_id: &str,
        client_secret: &str,
        http: AuthHttp,
    ) -> Self {
        let pair = format!(
            "{}:{}",
            url::form_encode(client_id),
            url::form_encode(client_secret)
        );
        IntrospectionVerifier {
            endpoint: endpoint.into(),
            authorization: format!("Basic {}", mcp_proto::http::base64::encode(pair.as_bytes())),
            issuer: None,
            http,
            cache: Mutex::new(HashMap::new()),
            max_cache: Duration::from_secs(300),
            clock: SystemTime::now,
        }
    }

    /// Refuses tokens whose `iss` is not `issuer`.
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Uses `clock` for the cache's expiry (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }

    async fn verify_owned(self: Arc<Self>, token: String) -> Result<Principal, TokenError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        let now = (self.clock)();
        if let Some((p, until)) = lock(&self.cache).get(&key) {
            if *until > now {
                return Ok(p.clone());
            }
        }
        let r = self
            .http
            .send(AuthRequest {
                method: AuthMethod::Post,
                url: self.endpoint.clone(),
                headers: vec![
                    (
                        "content-type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                    ("accept".into(), "application/json".into()),
                    ("authorization".into(), self.authorization.clone()),
                ],
                body: url::form(&[("token", &token), ("token_type_hint", "access_token")])
                    .into_bytes(),
            })
            .await
            .map_err(|e| TokenError(format!("introspection: {e}")))?;
        if r.status != 200 {
            return Err(TokenError(format!("introspection: status {}", r.status)));
        }
        let claims: Map<String, Value> = serde_json::from_slice(&r.body)
            .map_err(|e| TokenError(format!("introspection: {e}")))?;
        if claims.get("active") != Some(&Value::Bool(true)) {
            return Err(TokenError("the token is not active".into()));
        }
        let p = Principal::from_claims(claims);
        if let Some(iss) = &self.issuer {
            if p.issuer.as_deref().is_some_and(|i| i != iss) {
                return Err(TokenError("issued by another authorization server".into()));
            }
        }
        let until = p
            .expires_at
            .map_or(now + self.max_cache, |e| e.min(now + self.max_cache));
        let mut cache = lock(&self.cache);
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, (_, u)| *u > now);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(key, (p.clone(), until));
        Ok(p)
    }
}

#[cfg(feature = "auth")]
impl TokenVerifier for Arc<IntrospectionVerifier> {
    fn verify(&self, token: &str) -> BoxFuture<'static, Result<Principal, TokenError>> {
        Box::pin(self.clone().verify_owned(token.to_owned()))
    }
}
