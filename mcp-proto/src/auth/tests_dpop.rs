//! DPoP (RFC 9449) in the core: proof contents, nonces at the token endpoint and the
//! resource, on a fixed clock with seeded entropy.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::dpop::{self, ProofRequest};
use super::tests::{as_meta, authorize, t0, Fake, AS, MCP};
use super::*;
use crate::entropy::SeededEntropy;

/// A signer with a fixed public key and a signature that is the first bytes of the input
/// (the core never verifies; the driver tests check real ES256 signatures).
struct FakeKey;

impl JwtSigner for FakeKey {
    fn alg(&self) -> &str {
        "ES256"
    }
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        Ok(input.iter().take(8).copied().collect())
    }
    fn public_jwk(&self) -> Option<Value> {
        Some(json!({"kty": "EC", "crv": "P-256", "x": "xx", "y": "yy"}))
    }
}

fn decode(part: &str) -> Value {
    serde_json::from_slice(&crate::http::base64::decode_url(part).unwrap()).unwrap()
}

/// (header, claims) of a proof.
fn open(proof: &str) -> (Value, Value) {
    let parts: Vec<&str> = proof.split('.').collect();
    assert_eq!(parts.len(), 3, "{proof}");
    (decode(parts[0]), decode(parts[1]))
}

#[test]
fn proof_header_and_claims() {
    let mut entropy = SeededEntropy::new(9);
    let req = ProofRequest {
        method: "POST",
        url: "https://rs.example/mcp?session=1#frag",
        nonce: Some("n-1"),
        // RFC 9449 §7.1's example token and its `ath`.
        access_token: Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
    };
    let p1 = dpop::proof(&FakeKey, req, 1_800_000_000, &mut entropy).unwrap();
    let (h, c) = open(&p1);
    assert_eq!(h["typ"], "dpop+jwt");
    assert_eq!(h["alg"], "ES256");
    assert_eq!(h["jwk"], FakeKey.public_jwk().unwrap());
    assert_eq!(c["htm"], "POST");
    assert_eq!(c["htu"], "https://rs.example/mcp");
    assert_eq!(c["iat"], 1_800_000_000u64);
    assert_eq!(c["nonce"], "n-1");
    assert_eq!(c["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");

    // Another proof for the same request: a new jti; without nonce and token, no claims.
    let bare = ProofRequest {
        method: "GET",
        url: "https://as.example/token",
        nonce: None,
        access_token: None,
    };
    let (_, c2) = open(&dpop::proof(&FakeKey, bare, 1_800_000_001, &mut entropy).unwrap());
    assert_ne!(c["jti"], c2["jti"]);
    assert!(c2["jti"].as_str().is_some_and(|j| j.len() >= 16));
    assert!(c2.get("nonce").is_none() && c2.get("ath").is_none());
    assert_eq!(c2["htm"], "GET");

    // A signer without a public key cannot make proofs.
    struct NoKey;
    impl JwtSigner for NoKey {
        fn alg(&self) -> &str {
            "ES256"
        }
        fn sign(&self, _: &[u8]) -> Result<Vec<u8>, String> {
            Ok(vec![1])
        }
    }
    assert!(dpop::proof(&NoKey, bare, 0, &mut entropy).is_err());
}

#[test]
fn resource_nonce_challenges() {
    let ch = r#"DPoP error="use_dpop_nonce", resource_metadata="http://x/prm""#;
    assert_eq!(
        dpop::nonce_challenge(401, Some(ch), Some("abc")),
        Some("abc".to_owned())
    );
    // Not a nonce refusal: other status, other scheme, other error, no or a bad nonce.
    assert_eq!(dpop::nonce_challenge(403, Some(ch), Some("abc")), None);
    assert_eq!(
        dpop::nonce_challenge(401, Some(r#"Bearer error="use_dpop_nonce""#), Some("abc")),
        None
    );
    assert_eq!(
        dpop::nonce_challenge(401, Some(r#"DPoP error="invalid_token""#), Some("abc")),
        None
    );
    assert_eq!(dpop::nonce_challenge(401, Some(ch), None), None);
    assert_eq!(dpop::nonce_challenge(401, None, Some("abc")), None);
    assert_eq!(dpop::nonce_challenge(401, Some(ch), Some("a\"b")), None);
    assert_eq!(dpop::nonce_challenge(401, Some(ch), Some("")), None);
    let long = "n".repeat(2000);
    assert_eq!(dpop::nonce_challenge(401, Some(ch), Some(&long)), None);
}

fn dpop_config() -> Arc<OAuthConfig> {
    let mut cfg = OAuthConfig::new(MCP, "http://127.0.0.1:4444/callback");
    cfg.dpop = Some(Arc::new(FakeKey));
    Arc::new(cfg)
}

/// A fake whose authorization server advertises ES256 proofs.
fn dpop_fake() -> Fake {
    let mut fake = Fake::new();
    let mut meta = as_meta(AS);
    meta["dpop_signing_alg_values_supported"] = json!(["ES256"]);
    fake.docs
        .insert(format!("{AS}/.well-known/oauth-authorization-server"), meta);
    fake
}

/// Runs `flow` against `fake`, with `token` answering the token endpoint (the request and
/// its proof, if any); returns the outcome and the proofs seen there.
fn drive(
    fake: &mut Fake,
    mut flow: AuthFlow,
    mut token: impl FnMut(&AuthRequest, Option<&str>) -> AuthResponse,
) -> (Result<FlowOutcome, AuthError>, Vec<String>) {
    let mut proofs = Vec::new();
    for _ in 0..64 {
        match flow.poll_step().expect("a next step") {
            Step::Send(req) if req.url == format!("{AS}/token") => {
                let proof = req
                    .headers
                    .iter()
                    .find(|(k, _)| k == "dpop")
                    .map(|(_, v)| v.clone());
                let resp = token(&req, proof.as_deref());
                proofs.extend(proof);
                flow.handle_response(t0(), resp);
            }
            Step::Send(req) => {
                let resp = fake.answer(&req);
                flow.handle_response(t0(), resp);
            }
            Step::LoadClient { .. } => flow.handle_client(t0(), None),
            Step::Authorize { url } => {
                let q = url::redirect_params(&url);
                let state = q.iter().find(|(k, _)| k == "state").unwrap().1.clone();
                flow.handle_redirect(
                    t0(),
                    &[
                        ("code".into(), "c".into()),
                        ("state".into(), state),
                        ("iss".into(), AS.into()),
                    ],
                );
            }
            Step::Done(o) => return (Ok(*o), proofs),
            Step::Failed(e) => return (Err(e), proofs),
        }
    }
    panic!("flow did not finish");
}

fn json_response(status: u16, headers: &[(&str, &str)], body: Value) -> AuthResponse {
    AuthResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_string().into_bytes(),
    }
}

#[test]
fn token_request_carries_a_proof_and_retries_with_the_servers_nonce() {
    let mut fake = dpop_fake();
    let flow = AuthFlow::new(
        dpop_config(),
        authorize(None),
        t0(),
        Box::new(SeededEntropy::new(4)),
    );
    let forms = Arc::new(Mutex::new(Vec::new()));
    let f = forms.clone();
    let (out, proofs) = drive(&mut fake, flow, move |req, proof| {
        f.lock()
            .unwrap()
            .push(String::from_utf8(req.body.clone()).unwrap());
        let (_, claims) = open(proof.expect("a proof on every token request"));
        if claims.get("nonce").and_then(Value::as_str) != Some("as-nonce-1") {
            return json_response(
                400,
                &[("dpop-nonce", "as-nonce-1")],
                json!({"error": "use_dpop_nonce"}),
            );
        }
        json_response(
            200,
            &[],
            json!({"access_token": "bound", "token_type": "DPoP", "expires_in": 60}),
        )
    });
    let out = out.unwrap();
    assert_eq!(out.tokens.token_type, "DPoP");
    assert_eq!(proofs.len(), 2, "sent once, then again with the nonce");
    let (h, first) = open(&proofs[0]);
    let (_, second) = open(&proofs[1]);
    assert_eq!(h["typ"], "dpop+jwt");
    assert_eq!(first["htm"], "POST");
    assert_eq!(first["htu"], format!("{AS}/token"));
    assert!(
        first.get("ath").is_none(),
        "no access token at the token endpoint"
    );
    assert!(first.get("nonce").is_none());
    assert_eq!(second["nonce"], "as-nonce-1");
    assert_ne!(first["jti"], second["jti"]);
    // The same grant both times (same code, verifier and resource).
    let forms = forms.lock().unwrap();
    assert_eq!(forms[0], forms[1]);
    assert!(forms[0].contains("grant_type=authorization_code"));
}

#[test]
fn nonce_retries_are_bounded() {
    let mut fake = dpop_fake();
    let flow = AuthFlow::new(
        dpop_config(),
        authorize(None),
        t0(),
        Box::new(SeededEntropy::new(5)),
    );
    let mut n = 0;
    let (out, proofs) = drive(&mut fake, flow, move |_, _| {
        n += 1;
        // A new nonce every time: never satisfied.
        let nonce = format!("nonce-{n}");
        json_response(
            400,
            &[("dpop-nonce", nonce.as_str())],
            json!({"error": "use_dpop_nonce"}),
        )
    });
    assert!(
        matches!(out, Err(AuthError::Endpoint { status: 400, ref error, .. }) if error == "use_dpop_nonce"),
        "{out:?}"
    );
    assert_eq!(proofs.len() as u32, 1 + dpop::MAX_NONCE_RETRIES);
}

#[test]
fn no_proof_where_the_server_does_not_list_the_algorithm() {
    // Without dpop_signing_alg_values_supported, and with a list lacking ES256.
    for algs in [None, Some(json!(["RS256"]))] {
        let mut fake = Fake::new();
        if let Some(a) = algs {
            let mut meta = as_meta(AS);
            meta["dpop_signing_alg_values_supported"] = a;
            fake.docs
                .insert(format!("{AS}/.well-known/oauth-authorization-server"), meta);
        }
        let flow = AuthFlow::new(
            dpop_config(),
            authorize(None),
            t0(),
            Box::new(SeededEntropy::new(6)),
        );
        let (out, proofs) = drive(&mut fake, flow, |_, _| {
            // A use_dpop_nonce answer is an ordinary refusal for a flow without DPoP.
            json_response(
                400,
                &[("dpop-nonce", "x")],
                json!({"error": "use_dpop_nonce"}),
            )
        });
        assert!(proofs.is_empty());
        assert!(matches!(out, Err(AuthError::Endpoint { .. })), "{out:?}");
    }
}

#[test]
fn refresh_of_a_bound_token_carries_a_proof() {
    let mut fake = dpop_fake();
    let tokens = TokenSet {
        access_token: "old".into(),
        token_type: "DPoP".into(),
        refresh_token: Some("rt".into()),
        expires_at: Some(1),
        scope: None,
        issuer: AS.into(),
        resource: MCP.into(),
    };
    fake.stored.push(ClientCredentials {
        issuer: AS.into(),
        client_id: "c".into(),
        client_secret: None,
        auth_method: None,
    });
    let stored = fake.stored.clone();
    let mut flow = AuthFlow::new(
        dpop_config(),
        Start::Refresh {
            tokens,
            discovery: None,
        },
        t0(),
        Box::new(SeededEntropy::new(8)),
    );
    // The stored client answers LoadClient (the shared driver answers None).
    let mut proofs = Vec::new();
    let out = loop {
        match flow.poll_step().unwrap() {
            Step::Send(req) if req.url.ends_with("/token") => {
                let body = String::from_utf8(req.body.clone()).unwrap();
                assert!(body.contains("grant_type=refresh_token"));
                proofs.extend(req.headers.iter().filter(|(k, _)| k == "dpop").cloned());
                flow.handle_response(
                    t0(),
                    json_response(
                        200,
                        &[],
                        json!({"access_token": "new", "token_type": "DPoP"}),
                    ),
                );
            }
            Step::Send(req) => {
                let r = fake.answer(&req);
                flow.handle_response(t0(), r);
            }
            Step::LoadClient { .. } => flow.handle_client(t0(), stored.first().cloned()),
            Step::Done(o) => break o,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(out.tokens.access_token, "new");
    assert_eq!(out.tokens.refresh_token.as_deref(), Some("rt"));
    assert_eq!(proofs.len(), 1);
}
