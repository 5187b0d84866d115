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
//! - a client the (hostile) store returns for another issuer is never shown to anyone.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mcp_proto::auth::{
    url, AuthFlow, AuthMethod, AuthResponse, ClientCredentials, OAuthConfig, Start, Step, TokenSet,
};
use mcp_proto::entropy::SeededEntropy;
use serde_json::json;

use super::reader::Reader;

const MCP: &str = "http://mcp.test/mcp";
const AS: &str = "http://as.test";
const CODE: &str = "CODE-SECRET";
const RT: &str = "RT-SECRET";
const FOREIGN: &str = "FOREIGN-SECRET";

fn pick<'a>(r: &mut Reader<'_>, options: &[&'a str]) -> &'a str {
    options[usize::from(r.u8()) % options.len()]
}

/// Runs one flow on `data`.
pub fn auth_flow(data: &[u8]) {
    let mut r = Reader::new(data);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let config = Arc::new(OAuthConfig::new(MCP, "http://127.0.0.1:1/cb"));
    let start = if r.u8().is_multiple_of(2) {
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
                        let doc = json!({
                            "issuer": issuer,
                            "authorization_endpoint": pick(&mut r, &["http://as.test/authorize", "http://evil.test/a?x=1"]),
                            "token_endpoint": token,
                            "registration_endpoint": "http://as.test/register",
                            "code_challenge_methods_supported": [pick(&mut r, &["S256", "plain"])],
                            "authorization_response_iss_parameter_supported": r.u8().is_multiple_of(2),
                            "token_endpoint_auth_methods_supported": [pick(&mut r, &["none", "client_secret_post", "client_secret_basic", "private_key_jwt"])],
                        });
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
                        "token_type": "Bearer",
                        "expires_in": u64::from(r.u16()) * 1_000_000,
                        "client_id": "registered",
                        "client_secret": pick(&mut r, &["s", ""]),
                        "error": "invalid_grant",
                    })
                    .to_string()
                    .into_bytes(),
                };
                if r.u8().is_multiple_of(16) {
                    flow.handle_transport_error(now, "cut".into());
                } else {
                    flow.handle_response(
                        now,
                        AuthResponse {
                            status,
                            headers: vec![],
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
