//! DPoP (RFC 9449): proofs of possession of the client's key, one per HTTP request.
//!
//! A proof is a JWT of type `dpop+jwt` whose header carries the public key (`jwk`) and whose
//! claims bind it to one request: `htm` (method), `htu` (the URL without query and fragment),
//! `iat`, a unique `jti`, the server's `nonce` when it gave one and, on requests to a resource,
//! `ath` (the hash of the access token they carry). The signature comes from the injected
//! [`JwtSigner`]; the `jti` from the injected [`Entropy`].
//!
//! A server that wants a nonce refuses with the error `use_dpop_nonce` and the nonce in the
//! `DPoP-Nonce` header: the token endpoint with 400 and a JSON error body (RFC 9449 §8), a
//! resource with 401 and a `DPoP` challenge (§9). [`nonce_challenge`] recognises the latter;
//! the flow handles the former itself.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::challenge;
use super::jwt::JwtSigner;
use super::pkce::{base64url, random_token};
use crate::entropy::Entropy;

/// The `typ` of a DPoP proof.
pub const DPOP_JWT_TYPE: &str = "dpop+jwt";

/// The error a server answers with when a proof must carry its nonce.
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";

/// Most token requests one flow sends again for a new nonce: a server that hands out a
/// different nonce every time cannot keep the flow going forever.
pub const MAX_NONCE_RETRIES: u32 = 2;

/// What one proof is for.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// The HTTP method (`POST`, `GET` …).
    pub method: &'a str,
    /// The request URL; its query and fragment are left out of `htu`.
    pub url: &'a str,
    /// The server's latest nonce, if it gave one.
    pub nonce: Option<&'a str>,
    /// The access token the request carries (resource requests): its hash becomes `ath`.
    pub access_token: Option<&'a str>,
}

/// A signed DPoP proof for `request` at `now_unix`, with a fresh `jti` from `entropy`.
/// Fails when the signer has no public key to show or cannot sign.
pub fn proof(
    signer: &dyn JwtSigner,
    request: ProofRequest<'_>,
    now_unix: u64,
    entropy: &mut dyn Entropy,
) -> Result<String, String> {
    let jwk = signer
        .public_jwk()
        .ok_or("the DPoP signer has no public key")?;
    let header = json!({"typ": DPOP_JWT_TYPE, "alg": signer.alg(), "jwk": jwk});
    let mut claims = json!({
        "jti": random_token(entropy),
        "htm": request.method,
        "htu": htu(request.url),
        "iat": now_unix,
    });
    if let Some(n) = request.nonce {
        claims["nonce"] = json!(n);
    }
    if let Some(t) = request.access_token {
        claims["ath"] = json!(ath(t));
    }
    let input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let sig = signer.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", base64url(&sig)))
}

/// `htu`: the URL without its query and fragment (RFC 9449 §4.2).
pub fn htu(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// `ath`: base64url of the SHA-256 of the access token (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    base64url(&Sha256::digest(access_token.as_bytes()))
}

/// Whether a signer's algorithm is one the authorization server accepts for proofs: it must
/// advertise `dpop_signing_alg_values_supported` with that algorithm (no list: no DPoP).
pub fn server_accepts(advertised: Option<&[String]>, alg: &str) -> bool {
    advertised.is_some_and(|l| l.iter().any(|a| a == alg))
}

/// The nonce to send again with, when a resource refused a request with `use_dpop_nonce`
/// (401, a `DPoP` challenge with that error, and a non-empty `DPoP-Nonce` header). Anything
/// else is an ordinary refusal.
pub fn nonce_challenge(
    status: u16,
    www_authenticate: Option<&str>,
    dpop_nonce: Option<&str>,
) -> Option<String> {
    if status != 401 {
        return None;
    }
    let nonce = dpop_nonce.map(str::trim).filter(|n| valid_nonce(n))?;
    let asks = challenge::parse(www_authenticate?)
        .iter()
        .any(|c| c.scheme.eq_ignore_ascii_case("dpop") && c.error() == Some(USE_DPOP_NONCE));
    asks.then(|| nonce.to_owned())
}

/// RFC 9449 §8.1: a nonce is 1*NQCHAR (printable ASCII without `"` and `\`); bounded so a
/// hostile server cannot make every proof huge.
pub fn valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce.len() <= 1024
        && nonce
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}
