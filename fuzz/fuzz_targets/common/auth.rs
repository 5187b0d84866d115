//! The OAuth flow against hostile documents, redirects and stores.
//!
//! Input: `[start, then per step: choice bytes...]`. Every request the flow emits is answered
//! from the bytes: a status, then either a document built from fixed fragments (so the
//! fuzzer reaches deep states quickly: right and wrong resources, issuers, endpoints) or raw
//! bytes. Invariants:
//! - no panic, and the flow ends within a bounded number of steps;
//! - the authorization code is only ever POSTed to a token endpoint named by metadata whose
//!   `issuer` built the URL it was served from (or, for a 2025-03-26 server without protected
//!   resource metadata, by the MCP server's own origin); the refresh token only to one named
//!   by its own issuer's metadata;
//! - a client the (hostile) store returns for another issuer is never shown to anyone;
//! - with a DPoP key (RFC 9449): every proof is for the request it rides on (`htm` POST,
//!   `htu` the URL without query), only a well-formed nonce the server sent is echoed, and
//!   a server that keeps asking for nonces gets a bounded number of token requests.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mcp_proto::auth::{
    dpop, url, AuthFlow, AuthMethod, AuthResponse, ClientCredentials, JwtSigner, OAuthConfig,
    Start, Step, TokenSet,
};
use mcp_proto::entropy::SeededEntropy;
use serde_json::json;

use super::reader::Reader;

const MCP: &str = "http://mcp.test/mcp";
const AS: &str = "http://as.test";
const CODE: &str = "CODE-SECRET";
const RT: &str = "RT-SECRET";
const FOREIGN: &str = "FOREIGN-SECRET";

/// A DPoP key whose signature is a constant (the flow never verifies).
struct FuzzKey;

impl JwtSigner for FuzzKey {
    fn alg(&self) -> &str {
        "ES256"
    }
    fn sign(&self, _: &[u8]) -> Result<Vec<u8>, String> {
        Ok(vec![0; 64])
    }
    fn public_jwk(&self) -> Option<serde_json::Value> {
        Some(json!({"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}))
    }
}

/// Nonces a hostile server hands out (some not well-formed).
const NONCES: &[&str] = &["n-1", "n-2", "\"bad", "", "sp ace", "n-1"];

/// The claims of a DPoP proof.
fn proof_claims(proof: &str) -> serde_json::Value {
    let part = proof.split('.').nth(1).expect("a proof has claims");
    let bytes = mcp_proto::http::base64::decode_url(part).expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

fn pick<'a>(r: &mut Reader<'_>, options: &[&'a str]) -> &'a str {
    options[usize::from(r.u8()) % options.len()]
}

/// Runs one flow on `data`.
pub fn auth_flow(data: &[u8]) {
    let mut r = Reader::new(data);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let first = r.u8();
    let mut config = OAuthConfig::new(MCP, "http://127.0.0.1:1/cb");
    // (The first byte's second bit, and the DPoP choices below are read only with it on, so
    // older corpus entries and seeds keep their meaning.)
    let with_dpop = first & 2 != 0;
    if with_dpop {
        config.dpop = Some(Arc::new(FuzzKey));
    }
    let config = Arc::new(config);
    let start = if first.is_multiple_of(2) {
        Start::Authorize {
            www_authenticate: Some(
                pick(
                    &mut r,
                    &[
                        "Bearer resource_metadata=\"http://mcp.test/prm\"",
                        "Bearer scope=\"a b\", error=\"insufficient_scope\"",
                        "Bearer",
                        "Bearer resource_metadata=\"http://evil.test/prm\"",
                        "\u{0}\"",
                    ],
                )
                .to_owned(),
            ),
            previous_scope: Some("old".into()),
        }
    } else {
        Start::Refresh {
            tokens: TokenSet {
                access_token: "AT".into(),
                token_type: "Bearer".into(),
                refresh_token: Some(RT.into()),
                expires_at: Some(1),
                scope: None,
                issuer: AS.into(),
                resource: MCP.into(),
            },
            discovery: None,
        }
    };
    let mut flow = AuthFlow::new(config, start, now, Box::new(SeededEntropy::new(1)));
    // (issuer, token endpoint) of metadata served from that issuer's own well-known URLs.
    let mut trusted: Vec<(String, String)> = Vec::new();
    // Well-formed nonces the server sent; token requests in a row refused for a nonce.
    let mut nonces_sent: Vec<String> = Vec::new();
    let mut nonce_refusals = 0u32;
    for _ in 0..64 {
        let Some(step) = flow.poll_step() else {
            panic!("a flow with no next step");
        };
        match step {
            Step::Send(req) => {
                let text = format!(
                    "{} {:?} {}",
                    req.url,
                    req.headers,
                    String::from_utf8_lossy(&req.body)
                );
                assert!(
                    !text.contains(FOREIGN),
                    "another issuer's client shown to {}",
                    req.url
                );
                if let Some((_, proof)) = req.headers.iter().find(|(k, _)| k == "dpop") {
                    let c = proof_claims(proof);
                    assert_eq!(c["htm"], "POST");
                    assert_eq!(req.method, AuthMethod::Post);
                    assert_eq!(c["htu"].as_str(), Some(dpop::htu(&req.url)));
                    if let Some(n) = c.get("nonce") {
                        let n = n.as_str().expect("a string nonce");
                        assert!(nonces_sent.iter().any(|s| s == n), "nonce {n:?} echoed");
                    }
                }
                let legacy = req.url.starts_with("http://mcp.test/");
                if text.contains(CODE) {
                    assert_eq!(req.method, AuthMethod::Post);
                    assert!(
                        legacy || trusted.iter().any(|(_, t)| *t == req.url),
                        "the code sent to {}",
                        req.url
                    );
                }
                if text.contains(RT) {
                    assert_eq!(req.method, AuthMethod::Post);
                    assert!(
                        trusted.iter().any(|(i, t)| i == AS && *t == req.url),
                        "the refresh token sent to {}",
                        req.url
                    );
                }
                let status = match r.u8() % 8 {
                    0 => 404,
                    1 => 400,
                    2 => 500,
                    3 => 201,
                    _ => 200,
                };
                let body = match r.u8() % 4 {
                    0 => {
                        let n = usize::from(r.u8());
                        r.bytes(n).to_vec()
                    }
                    1 => json!({
                        "resource": pick(&mut r, &[MCP, "http://mcp.test", "http://evil.test/mcp"]),
                        "authorization_servers": [pick(&mut r, &[AS, "http://as.test/", "http://evil.test"])],
                        "scopes_supported": ["a", "offline_access"],
                    })
                    .to_string()
                    .into_bytes(),
                    2 => {
                        let issuer = pick(&mut r, &[AS, "http://as.test/", "http://evil.test"]);
                        let token = pick(&mut r, &["http://as.test/token", "http://evil.test/token"]);
                        let mut doc = json!({
                            "issuer": issuer,
                            "authorization_endpoint": pick(&mut r, &["http://as.test/authorize", "http://evil.test/a?x=1"]),
                            "token_endpoint": token,
                            "registration_endpoint": "http://as.test/register",
                            "code_challenge_methods_supported": [pick(&mut r, &["S256", "plain"])],
                            "authorization_response_iss_parameter_supported": r.u8().is_multiple_of(2),
                            "token_endpoint_auth_methods_supported": [pick(&mut r, &["none", "client_secret_post", "client_secret_basic", "private_key_jwt"])],
                        });
                        if with_dpop {
                            doc["dpop_signing_alg_values_supported"] =
                                json!([pick(&mut r, &["ES256", "RS256"])]);
                        }
                        // Metadata served by an issuer under its own well-known URL may name
                        // its token endpoint.
                        // So may the MCP server's own origin for a 2025-03-26 server (no
                        // protected resource metadata), whatever issuer it names.
                        let own = url::authorization_server_metadata_urls(issuer)
                            .contains(&req.url)
                            || url::authorization_server_metadata_urls("http://mcp.test")
                                .contains(&req.url);
                        if status == 200 && own {
                            trusted.push((issuer.to_owned(), token.to_owned()));
                        }
                        doc.to_string().into_bytes()
                    }
                    _ => json!({
                        "access_token": pick(&mut r, &["at", ""]),
                        "token_type": if with_dpop { pick(&mut r, &["Bearer", "DPoP"]) } else { "Bearer" },
                        "expires_in": u64::from(r.u16()) * 1_000_000,
                        "client_id": "registered",
                        "client_secret": pick(&mut r, &["s", ""]),
                        "error": if with_dpop { pick(&mut r, &["invalid_grant", "use_dpop_nonce"]) } else { "invalid_grant" },
                    })
                    .to_string()
                    .into_bytes(),
                };
                let mut headers = vec![];
                if with_dpop && r.u8().is_multiple_of(2) {
                    let n = pick(&mut r, NONCES);
                    if dpop::valid_nonce(n) {
                        nonces_sent.push(n.to_owned());
                    }
                    headers.push(("dpop-nonce".to_owned(), n.to_owned()));
                }
                let is_token = req.headers.iter().any(|(k, _)| k == "dpop");
                if is_token && status == 400 && !headers.is_empty() {
                    nonce_refusals += 1;
                    assert!(
                        nonce_refusals <= 2 * (dpop::MAX_NONCE_RETRIES + 1),
                        "token requests sent again for nonces without end"
                    );
                } else if is_token {
                    nonce_refusals = 0;
                }
                if r.u8().is_multiple_of(16) {
                    flow.handle_transport_error(now, "cut".into());
                } else {
                    flow.handle_response(
                        now,
                        AuthResponse {
                            status,
                            headers,
                            body,
                        },
                    );
                }
            }
            Step::LoadClient { issuer } => {
                let c = match r.u8() % 3 {
                    0 => None,
                    1 => Some(ClientCredentials {
                        issuer: issuer.clone(),
                        client_id: "stored".into(),
                        client_secret: Some("stored-secret".into()),
                        auth_method: None,
                    }),
                    _ => Some(ClientCredentials {
                        issuer: format!("{issuer}/other"),
                        client_id: FOREIGN.into(),
                        client_secret: Some(FOREIGN.into()),
                        auth_method: None,
                    }),
                };
                flow.handle_client(now, c);
            }
            Step::Authorize { url: auth_url } => {
                assert!(!auth_url.contains(FOREIGN));
                let q = url::redirect_params(&auth_url);
                let state = q
                    .iter()
                    .find(|(k, _)| k == "state")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let mut params = vec![("code".to_owned(), CODE.to_owned())];
                match r.u8() % 3 {
                    0 => params.push(("state".into(), state)),
                    1 => params.push(("state".into(), "forged".into())),
                    _ => {}
                }
                match r.u8() % 4 {
                    0 => params.push(("iss".into(), AS.into())),
                    1 => params.push(("iss".into(), "http://as.test/".into())),
                    2 => params.push(("error".into(), "access_denied".into())),
                    _ => {}
                }
                flow.handle_redirect(now, &params);
            }
            Step::Done(_) | Step::Failed(_) => return,
        }
    }
    panic!("the flow did not end within 64 steps");
}
