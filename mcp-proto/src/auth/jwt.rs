//! Client assertions for `private_key_jwt` (RFC 7523 §2.2): the JWT is assembled here, the
//! signature comes from an injected [`JwtSigner`] (the core has no key material or crypto).

use serde_json::json;

use super::pkce::{base64url, random_token};
use crate::entropy::Entropy;

/// `client_assertion_type` for a JWT assertion.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Signs JWS signing input with a private key.
pub trait JwtSigner: Send + Sync {
    /// The JWS `alg` (`ES256`, `RS256` …).
    fn alg(&self) -> &str;

    /// The key id to put in the header, if any.
    fn kid(&self) -> Option<&str> {
        None
    }

    /// The signature over `input` (for ES256 the 64-byte `r || s`).
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, String>;

    /// The public key as a JWK (RFC 7517), without any private part; DPoP proofs carry it.
    /// `None` (the default): this signer cannot make DPoP proofs.
    fn public_jwk(&self) -> Option<serde_json::Value> {
        None
    }
}

/// A signed client assertion: `iss` = `sub` = `client_id`, `aud` = the issuer, valid for five
/// minutes from `now_unix`, with a random `jti`.
pub fn client_assertion(
    signer: &dyn JwtSigner,
    client_id: &str,
    audience: &str,
    now_unix: u64,
    entropy: &mut dyn Entropy,
) -> Result<String, String> {
    let mut header = json!({"alg": signer.alg(), "typ": "JWT"});
    if let Some(kid) = signer.kid() {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now_unix,
        "exp": now_unix + 300,
        "jti": random_token(entropy),
    });
    let input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let sig = signer.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", base64url(&sig)))
}
