//! PKCE (RFC 7636, S256 only) and the base64url text it and JWTs use.

use sha2::{Digest, Sha256};

use crate::entropy::Entropy;

/// A PKCE pair: the verifier kept for the token request and its S256 challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    /// `code_verifier` (43 characters of base64url from 32 random bytes).
    pub verifier: String,
    /// `code_challenge` = BASE64URL(SHA256(verifier)).
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair from `entropy`.
    pub fn generate(entropy: &mut dyn Entropy) -> Pkce {
        let mut bytes = [0u8; 32];
        entropy.fill_bytes(&mut bytes);
        Pkce::from_verifier(base64url(&bytes))
    }

    /// The pair for a given verifier.
    pub fn from_verifier(verifier: String) -> Pkce {
        let challenge = s256(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// BASE64URL(SHA256(ascii(verifier))).
pub fn s256(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// An unguessable opaque value (`state`, `jti`): 16 random bytes as base64url.
pub fn random_token(entropy: &mut dyn Entropy) -> String {
    let mut bytes = [0u8; 16];
    entropy.fill_bytes(&mut bytes);
    base64url(&bytes)
}

/// Base64url without padding (RFC 4648 §5, as JWS and PKCE use it).
pub fn base64url(bytes: &[u8]) -> String {
    crate::http::base64::encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}
