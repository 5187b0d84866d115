//! Core tests: no network, a fixed wall clock moved by hand, seeded entropy.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::url::{
    authorization_server_metadata_urls, parse_query, protected_resource_metadata_urls,
    redirect_params, resource_covers,
};
use super::*;
use crate::entropy::SeededEntropy;

pub(super) const MCP: &str = "http://127.0.0.1:9000/mcp";
pub(super) const AS: &str = "http://127.0.0.1:9100";

pub(super) fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

#[test]
fn pkce_rfc7636_appendix_b() {
    let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
    assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    let g = Pkce::generate(&mut SeededEntropy::new(7));
    assert_eq!(g.verifier.len(), 43);
    assert!(g
        .verifier
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(g.challenge, s256(&g.verifier));
}

#[test]
fn www_authenticate_samples() {
    let c = bearer_challenge(
        r#"Bearer resource_metadata="https://r.example/.well-known/oauth-protected-resource", scope="files:read files:write", error="insufficient_scope""#,
    )
    .unwrap();
    assert_eq!(c.scheme, "Bearer");
    assert_eq!(
        c.resource_metadata(),
        Some("https://r.example/.well-known/oauth-protected-resource")
    );
    assert_eq!(c.scope(), Some("files:read files:write"));
    assert_eq!(c.error(), Some("insufficient_scope"));

    // Several challenges, a token68, escapes, odd spacing and case.
    let all = parse_www_authenticate(
        r#"Basic YWxhZGRpbjpvcGVuc2VzYW1l==, DPoP algs="ES256 RS256" , bearer   realm="a \"q\" b",ERROR=invalid_token,,"#,
    );
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(
        all[0].token68.as_deref(),
        Some("YWxhZGRpbjpvcGVuc2VzYW1l==")
    );
    assert_eq!(all[1].param("algs"), Some("ES256 RS256"));
    assert_eq!(all[2].param("realm"), Some(r#"a "q" b"#));
    assert_eq!(all[2].error(), Some("invalid_token"));
    assert_eq!(
        bearer_challenge(r#"Basic realm="x", Bearer scope="s""#)
            .unwrap()
            .scope(),
        Some("s")
    );
    // A bare scheme, and hostile input: no panic, fewer challenges.
    assert_eq!(parse_www_authenticate("Bearer")[0].scheme, "Bearer");
    for junk in [
        "",
        "=",
        "\"",
        "Bearer scope=\"unterminated",
        ",,,",
        "é=\"x\"",
        "Bearer a=b=c",
    ] {
        let _ = parse_www_authenticate(junk);
    }
    // The builder round-trips through the parser.
    let h = BearerChallenge {
        resource_metadata: Some(format!("{MCP}/meta")),
        scope: Some("a b".into()),
        error: Some("insufficient_scope".into()),
        error_description: Some("needs \"b\"".into()),
        ..Default::default()
    }
    .to_header();
    let back = bearer_challenge(&h).unwrap();
    assert_eq!(back.scope(), Some("a b"));
    assert_eq!(back.param("error_description"), Some("needs \"b\""));
    assert_eq!(
        back.resource_metadata(),
        Some(format!("{MCP}/meta").as_str())
    );
}

#[test]
fn discovery_url_tables() {
    let prm = [
        (
            "https://r.example/mcp",
            None,
            vec![
                "https://r.example/.well-known/oauth-protected-resource/mcp",
                "https://r.example/.well-known/oauth-protected-resource",
            ],
        ),
        (
            "https://r.example/a/b/",
            Some("https://r.example/custom.json"),
            vec![
                "https://r.example/custom.json",
                "https://r.example/.well-known/oauth-protected-resource/a/b",
                "https://r.example/.well-known/oauth-protected-resource",
            ],
        ),
        (
            "https://r.example",
            None,
            vec!["https://r.example/.well-known/oauth-protected-resource"],
        ),
        (
            "https://r.example/mcp",
            Some("https://r.example/.well-known/oauth-protected-resource/mcp"),
            vec![
                "https://r.example/.well-known/oauth-protected-resource/mcp",
                "https://r.example/.well-known/oauth-protected-resource",
            ],
        ),
    ];
    for (server, header, want) in prm {
        assert_eq!(
            protected_resource_metadata_urls(server, header),
            want,
            "{server}"
        );
    }
    let asm = [
        (
            "https://as.example",
            vec![
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ],
        ),
        (
            "https://as.example/tenant1",
            vec![
                "https://as.example/.well-known/oauth-authorization-server/tenant1",
                "https://as.example/.well-known/openid-configuration/tenant1",
                "https://as.example/tenant1/.well-known/openid-configuration",
            ],
        ),
        (
            "https://as.example/",
            vec![
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ],
        ),
    ];
    for (issuer, want) in asm {
        assert_eq!(authorization_server_metadata_urls(issuer), want, "{issuer}");
    }
    assert!(authorization_server_metadata_urls("not a url").is_empty());

    assert!(resource_covers("http://h:1/mcp", "http://h:1/mcp"));
    assert!(resource_covers("http://h:1", "http://h:1/mcp"));
    assert!(resource_covers("http://h:1/", "http://h:1/mcp"));
    assert!(resource_covers("HTTP://H:1/mcp", "http://h:1/mcp"));
    assert!(!resource_covers("http://h:1/mc", "http://h:1/mcp"));
    assert!(!resource_covers(
        "https://evil.example/mcp",
        "http://h:1/mcp"
    ));
    assert!(!resource_covers("http://h:2/mcp", "http://h:1/mcp"));
    assert!(!resource_covers("http://h:1/mcp#f", "http://h:1/mcp"));
}

#[test]
fn redirect_locations_resolve() {
    let base = "http://127.0.0.1:9100/auth/abc?x=1";
    for (loc, want) in [
        (
            "/interaction/u1",
            Some("http://127.0.0.1:9100/interaction/u1"),
        ),
        (
            "http://127.0.0.1:1/cb?code=c",
            Some("http://127.0.0.1:1/cb?code=c"),
        ),
        ("//other.test/p", Some("http://other.test/p")),
        ("next?y=2", Some("http://127.0.0.1:9100/auth/next?y=2")),
        ("?y=2", Some("http://127.0.0.1:9100/auth/abc?y=2")),
        ("javascript://alert(1)", None),
        ("ftp://x.test/f", None),
        ("//", None),
    ] {
        assert_eq!(super::url::resolve(base, loc).as_deref(), want, "{loc}");
    }
    assert_eq!(super::url::resolve("not a url", "/x"), None);
}

#[test]
fn query_round_trip() {
    let q = super::url::form(&[("a b", "c&d=e"), ("iss", "http://x/"), ("u", "é")]);
    assert_eq!(
        parse_query(&q),
        vec![
            ("a b".into(), "c&d=e".into()),
            ("iss".into(), "http://x/".into()),
            ("u".into(), "é".into())
        ]
    );
    assert_eq!(
        redirect_params("http://127.0.0.1/cb?code=x+y&state=%41#frag"),
        vec![("code".into(), "x y".into()), ("state".into(), "A".into())]
    );
    // Broken escapes stay as written.
    assert_eq!(parse_query("a=%zz%4"), vec![("a".into(), "%zz%4".into())]);
}

#[test]
fn scope_selection_and_union() {
    let list = vec!["a".to_owned(), "b".to_owned()];
    assert_eq!(
        select_scope(Some("x"), Some(&list), None, None, false, true).as_deref(),
        Some("x")
    );
    assert_eq!(
        select_scope(None, Some(&list), None, None, false, true).as_deref(),
        Some("a b")
    );
    assert_eq!(select_scope(None, None, None, None, true, true), None);
    assert_eq!(
        select_scope(None, Some(&list), None, None, true, true).as_deref(),
        Some("a b offline_access")
    );
    assert_eq!(
        select_scope(None, Some(&list), None, None, true, false).as_deref(),
        Some("a b")
    );
    // Step-up: what was asked before stays.
    assert_eq!(
        select_scope(
            Some("write"),
            None,
            None,
            Some("read offline_access"),
            false,
            true
        )
        .as_deref(),
        Some("read offline_access write")
    );
    assert_eq!(scope_union("a b", "b c a"), "a b c");
    assert_eq!(scope_union("", ""), "");
}

// ----- a fake authorization server and resource ----------------------------------------------

pub(super) type TokenFn = Box<dyn FnMut(&HashMap<String, String>, Option<&str>) -> (u16, Value)>;
pub(super) type RedirectFn = Box<dyn FnMut(&HashMap<String, String>) -> Vec<(String, String)>>;

/// Answers the flow's requests from a table of GET documents and a scripted token endpoint.
pub(super) struct Fake {
    pub(super) docs: HashMap<String, Value>,
    pub(super) token: TokenFn,
    pub(super) registered: u32,
    pub(super) seen: Vec<AuthRequest>,
    /// What the headless "browser" redirects with, given the authorization query.
    pub(super) redirect: RedirectFn,
    pub(super) stored: Vec<ClientCredentials>,
}

pub(super) fn prm(resource: &str, issuer: &str) -> Value {
    json!({"resource": resource, "authorization_servers": [issuer]})
}

pub(super) fn as_meta(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "registration_endpoint": format!("{issuer}/register"),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    })
}

impl Fake {
    pub(super) fn new() -> Fake {
        let mut docs = HashMap::new();
        docs.insert(
            "http://127.0.0.1:9000/.well-known/oauth-protected-resource/mcp".to_owned(),
            prm(MCP, AS),
        );
        docs.insert(
            format!("{AS}/.well-known/oauth-authorization-server"),
            as_meta(AS),
        );
        let mut n = 0;
        Fake {
            docs,
            token: Box::new(move |_, _| {
                n += 1;
                (
                    200,
                    json!({"access_token": format!("at{n}"), "token_type": "Bearer",
                        "expires_in": 60, "refresh_token": format!("rt{n}")}),
                )
            }),
            registered: 0,
            seen: Vec::new(),
            redirect: Box::new(|q| {
                vec![
                    ("code".into(), "the-code".into()),
                    ("state".into(), q["state"].clone()),
                    ("iss".into(), AS.into()),
                ]
            }),
            stored: Vec::new(),
        }
    }

    pub(super) fn answer(&mut self, req: &AuthRequest) -> AuthResponse {
        self.seen.push(req.clone());
        let json_resp = |status: u16, v: Value| AuthResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: v.to_string().into_bytes(),
        };
        match req.method {
            AuthMethod::Get => match self.docs.get(&req.url) {
                Some(v) => json_resp(200, v.clone()),
                None => json_resp(404, json!({})),
            },
            AuthMethod::Post if req.url.ends_with("/register") => {
                self.registered += 1;
                let issuer = req.url.trim_end_matches("/register");
                json_resp(
                    201,
                    json!({"client_id": format!("client-of-{issuer}"), "client_secret": "s"}),
                )
            }
            AuthMethod::Post => {
                let form: HashMap<String, String> =
                    parse_query(std::str::from_utf8(&req.body).unwrap())
                        .into_iter()
                        .collect();
                let auth = req
                    .headers
                    .iter()
                    .find(|(k, _)| k == "authorization")
                    .map(|(_, v)| v.as_str());
                let (status, v) = (self.token)(&form, auth);
                json_resp(status, v)
            }
        }
    }

    /// Runs `flow` to its end (bounded), as a driver would.
    fn drive(&mut self, mut flow: AuthFlow, now: SystemTime) -> Result<FlowOutcome, AuthError> {
        for _ in 0..64 {
            let step = flow.poll_step().expect("a flow always has a next step");
            match step {
                Step::Send(req) => {
                    let resp = self.answer(&req);
                    flow.handle_response(now, resp);
                }
                Step::LoadClient { issuer } => {
                    let c = self.stored.iter().find(|c| c.issuer == issuer).cloned();
                    flow.handle_client(now, c);
                }
                Step::Authorize { url } => {
                    self.seen.push(AuthRequest {
                        method: AuthMethod::Get,
                        url: url.clone(),
                        headers: vec![],
                        body: vec![],
                    });
                    let q: HashMap<String, String> = redirect_params(&url).into_iter().collect();
                    let params = (self.redirect)(&q);
                    flow.handle_redirect(now, &params);
                }
                Step::Done(o) => {
                    if let Some(c) = &o.registered {
                        self.stored.retain(|s| s.issuer != c.issuer);
                        self.stored.push(c.clone());
                    }
                    return Ok(*o);
                }
                Step::Failed(e) => return Err(e),
            }
        }
        panic!("flow did not finish");
    }
}

pub(super) fn config() -> Arc<OAuthConfig> {
    Arc::new(OAuthConfig::new(MCP, "http://127.0.0.1:4444/callback"))
}

pub(super) fn authorize(challenge: Option<&str>) -> Start {
    Start::Authorize {
        www_authenticate: challenge.map(str::to_owned),
        previous_scope: None,
    }
}

pub(super) fn flow(start: Start) -> AuthFlow {
    AuthFlow::new(config(), start, t0(), Box::new(SeededEntropy::new(1)))
}

#[test]
fn full_code_flow_registers_and_binds_the_resource() {
    let mut fake = Fake::new();
    let got = std::sync::Arc::new(std::sync::Mutex::new(HashMap::new()));
    let g = got.clone();
    fake.token = Box::new(move |form, auth| {
        *g.lock().unwrap() = form.clone();
        assert!(auth.is_some_and(|a| a.starts_with("Basic ")));
        (
            200,
            json!({"access_token": "at", "token_type": "Bearer", "expires_in": 3600}),
        )
    });
    let out = fake.drive(flow(authorize(None)), t0()).unwrap();
    assert_eq!(out.tokens.access_token, "at");
    assert_eq!(out.tokens.issuer, AS);
    assert_eq!(out.tokens.resource, MCP);
    assert_eq!(out.tokens.expires_at, Some(1_800_000_000 + 3600));
    assert_eq!(out.registered.unwrap().issuer, AS);
    let authz = fake
        .seen
        .iter()
        .find(|r| r.url.contains("/authorize"))
        .unwrap();
    let q: HashMap<_, _> = redirect_params(&authz.url).into_iter().collect();
    assert_eq!(q["resource"], MCP);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(!q.contains_key("scope"), "no scope anywhere: omitted");
    let form = got.lock().unwrap().clone();
    assert_eq!(form["resource"], MCP);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(s256(&form["code_verifier"]), q["code_challenge"]);
    // The root PRM was not asked for: the path-inserted one answered.
    assert!(!fake
        .seen
        .iter()
        .any(|r| r.url.ends_with("/.well-known/oauth-protected-resource")));
}

#[test]
fn rfc9207_iss_table() {
    // (advertised, iss in the redirect, accepted)
    let slash = format!("{AS}/");
    let cases: [(Option<bool>, Option<&str>, bool); 7] = [
        (Some(true), Some(AS), true),
        (None, None, true),
        (Some(false), None, true),
        (Some(true), None, false),
        (Some(true), Some("https://evil.example.com"), false),
        (None, Some("https://evil.example.com"), false),
        (Some(true), Some(slash.as_str()), false),
    ];
    for (advertised, iss, accepted) in cases {
        let mut fake = Fake::new();
        let mut meta = as_meta(AS);
        match advertised {
            Some(b) => meta["authorization_response_iss_parameter_supported"] = json!(b),
            None => {
                meta.as_object_mut()
                    .unwrap()
                    .remove("authorization_response_iss_parameter_supported");
            }
        }
        fake.docs
            .insert(format!("{AS}/.well-known/oauth-authorization-server"), meta);
        let iss = iss.map(str::to_owned);
        fake.redirect = Box::new(move |q| {
            let mut p = vec![
                ("code".into(), "c".into()),
                ("state".into(), q["state"].clone()),
            ];
            if let Some(i) = &iss {
                p.push(("iss".into(), i.clone()));
            }
            p
        });
        let r = fake.drive(flow(authorize(None)), t0());
        let token_requests = fake
            .seen
            .iter()
            .filter(|r| r.url.ends_with("/token"))
            .count();
        assert_eq!(r.is_ok(), accepted, "{advertised:?}: {r:?}");
        assert_eq!(
            token_requests,
            usize::from(accepted),
            "no code is redeemed after a refusal"
        );
        if !accepted {
            assert!(matches!(r, Err(AuthError::IssuerMismatch { .. })));
        }
    }
}

#[test]
fn state_mismatch_and_denial_are_refused() {
    let mut fake = Fake::new();
    fake.redirect = Box::new(|_| {
        vec![
            ("code".into(), "c".into()),
            ("state".into(), "forged".into()),
            ("iss".into(), AS.into()),
        ]
    });
    assert_eq!(
        fake.drive(flow(authorize(None)), t0()).unwrap_err(),
        AuthError::StateMismatch
    );
    let mut fake = Fake::new();
    fake.redirect = Box::new(|q| {
        vec![
            ("error".into(), "access_denied".into()),
            ("state".into(), q["state"].clone()),
            ("iss".into(), AS.into()),
        ]
    });
    assert!(matches!(
        fake.drive(flow(authorize(None)), t0()),
        Err(AuthError::AuthorizationDenied { .. })
    ));
}

#[test]
fn metadata_refusals() {
    // The resource names another server: nothing is sent to any authorization server.
    let mut fake = Fake::new();
    fake.docs.insert(
        "http://127.0.0.1:9000/.well-known/oauth-protected-resource/mcp".into(),
        prm("https://evil.example.com/mcp", AS),
    );
    assert!(matches!(
        fake.drive(flow(authorize(None)), t0()),
        Err(AuthError::ResourceMismatch { .. })
    ));
    assert!(fake
        .seen
        .iter()
        .all(|r| r.url.starts_with("http://127.0.0.1:9000/")));

    // Metadata whose issuer differs from the one its URL was built from.
    let mut fake = Fake::new();
    fake.docs.insert(
        format!("{AS}/.well-known/oauth-authorization-server"),
        json!({"issuer": "https://attacker.example.com", "authorization_endpoint": format!("{AS}/authorize"),
            "token_endpoint": format!("{AS}/token"), "registration_endpoint": format!("{AS}/register"),
            "code_challenge_methods_supported": ["S256"]}),
    );
    assert!(matches!(
        fake.drive(flow(authorize(None)), t0()),
        Err(AuthError::MetadataIssuerMismatch { .. })
    ));
    assert_eq!(fake.registered, 0);
    assert!(!fake.seen.iter().any(|r| r.method == AuthMethod::Post));

    // No S256: refused before any authorization request.
    let mut fake = Fake::new();
    let mut meta = as_meta(AS);
    meta.as_object_mut()
        .unwrap()
        .remove("code_challenge_methods_supported");
    fake.docs
        .insert(format!("{AS}/.well-known/oauth-authorization-server"), meta);
    assert_eq!(
        fake.drive(flow(authorize(None)), t0()).unwrap_err(),
        AuthError::PkceNotSupported
    );
    assert!(!fake.seen.iter().any(|r| r.url.contains("/authorize")));
}

#[test]
fn legacy_fallbacks_of_2025_03_26() {
    // No PRM, metadata at the MCP origin.
    let origin = "http://127.0.0.1:9000";
    let mut fake = Fake::new();
    fake.docs.clear();
    let mut meta = as_meta(origin);
    meta["authorization_endpoint"] = json!(format!("{origin}/oauth/authorize"));
    meta["token_endpoint"] = json!(format!("{origin}/oauth/token"));
    meta["registration_endpoint"] = json!(format!("{origin}/oauth/register"));
    fake.docs.insert(
        format!("{origin}/.well-known/oauth-authorization-server"),
        meta,
    );
    fake.redirect = Box::new(|q| {
        vec![
            ("code".into(), "c".into()),
            ("state".into(), q["state"].clone()),
            ("iss".into(), "http://127.0.0.1:9000".into()),
        ]
    });
    let out = fake.drive(flow(authorize(None)), t0()).unwrap();
    assert_eq!(out.tokens.issuer, origin);
    assert!(fake
        .seen
        .iter()
        .any(|r| r.url == format!("{origin}/oauth/token")));

    // Nothing at all: the default endpoints.
    let mut fake = Fake::new();
    fake.docs.clear();
    fake.redirect = Box::new(|q| {
        vec![
            ("code".into(), "c".into()),
            ("state".into(), q["state"].clone()),
        ]
    });
    let out = fake.drive(flow(authorize(None)), t0()).unwrap();
    assert!(out.discovery.synthesized);
    let urls: Vec<&str> = fake.seen.iter().map(|r| r.url.as_str()).collect();
    assert!(urls.contains(&"http://127.0.0.1:9000/register"));
    assert!(urls
        .iter()
        .any(|u| u.starts_with("http://127.0.0.1:9000/authorize?")));
    assert!(urls.contains(&"http://127.0.0.1:9000/token"));
}

#[test]
fn refresh_keeps_the_old_refresh_token_when_none_is_returned() {
    let mut fake = Fake::new();
    fake.stored.push(ClientCredentials {
        issuer: AS.into(),
        client_id: "c1".into(),
        client_secret: None,
        auth_method: None,
    });
    fake.token = Box::new(|form, _| {
        assert_eq!(form["grant_type"], "refresh_token");
        assert_eq!(form["refresh_token"], "rt-old");
        assert_eq!(form["resource"], MCP);
        assert_eq!(form["client_id"], "c1");
        (
            200,
            json!({"access_token": "at-new", "token_type": "Bearer", "expires_in": 100}),
        )
    });
    let old = TokenSet {
        access_token: "at-old".into(),
        token_type: "Bearer".into(),
        refresh_token: Some("rt-old".into()),
        expires_at: Some(1_800_000_000 - 5),
        scope: Some("read".into()),
        issuer: AS.into(),
        resource: MCP.into(),
    };
    let now = t0() + Duration::from_secs(30);
    // A stored token past its absolute expiry is refreshed before use.
    assert!(old.expires_within(now, Duration::ZERO));
    let out = fake
        .drive(
            flow(Start::Refresh {
                tokens: old,
                discovery: None,
            }),
            now,
        )
        .unwrap();
    assert_eq!(out.tokens.access_token, "at-new");
    assert_eq!(out.tokens.refresh_token.as_deref(), Some("rt-old"));
    assert_eq!(out.tokens.scope.as_deref(), Some("read"));
    assert_eq!(out.tokens.expires_at, Some(1_800_000_030 + 100));
    assert!(!out.tokens.expires_within(now, Duration::from_secs(60)));
    assert!(out
        .tokens
        .expires_within(now + Duration::from_secs(100), Duration::ZERO));
    // Only metadata and the token endpoint: no PRM, no authorization, no registration.
    assert!(fake.seen.iter().all(|r| r.url.starts_with(AS)));
}

#[test]
fn invalid_grant_starts_over_once() {
    let mut fake = Fake::new();
    fake.stored.push(ClientCredentials {
        issuer: AS.into(),
        client_id: "c1".into(),
        client_secret: None,
        auth_method: Some(TokenAuth::None),
    });
    fake.token = Box::new(|form, _| match form["grant_type"].as_str() {
        "refresh_token" => (400, json!({"error": "invalid_grant"})),
        _ => (
            200,
            json!({"access_token": "at-fresh", "token_type": "Bearer"}),
        ),
    });
    let old = TokenSet {
        access_token: "a".into(),
        token_type: "Bearer".into(),
        refresh_token: Some("rt".into()),
        expires_at: None,
        scope: None,
        issuer: AS.into(),
        resource: MCP.into(),
    };
    let out = fake
        .drive(
            flow(Start::Refresh {
                tokens: old,
                discovery: None,
            }),
            t0(),
        )
        .unwrap();
    assert_eq!(out.tokens.access_token, "at-fresh");
    assert!(fake.seen.iter().any(|r| r.url.contains("/authorize")));
}

#[test]
fn step_up_asks_for_the_union() {
    let mut fake = Fake::new();
    let out = fake
        .drive(
            flow(Start::Authorize {
                www_authenticate: Some(
                    r#"Bearer error="insufficient_scope", scope="write""#.into(),
                ),
                previous_scope: Some("read".into()),
            }),
            t0(),
        )
        .unwrap();
    assert_eq!(out.tokens.scope.as_deref(), Some("read write"));
    let authz = fake
        .seen
        .iter()
        .find(|r| r.url.contains("/authorize"))
        .unwrap();
    let q: HashMap<_, _> = redirect_params(&authz.url).into_iter().collect();
    assert_eq!(q["scope"], "read write");
}

#[test]
fn authorization_server_migration_registers_again_and_never_shows_old_credentials() {
    let as2 = "http://127.0.0.1:9200";
    let mut fake = Fake::new();
    let first = fake.drive(flow(authorize(None)), t0()).unwrap();
    assert_eq!(first.tokens.issuer, AS);
    assert_eq!(fake.registered, 1);
    // The resource now names another authorization server.
    fake.docs.insert(
        "http://127.0.0.1:9000/.well-known/oauth-protected-resource/mcp".into(),
        prm(MCP, as2),
    );
    fake.docs.insert(
        format!("{as2}/.well-known/oauth-authorization-server"),
        as_meta(as2),
    );
    let a2 = as2.to_owned();
    fake.redirect = Box::new(move |q| {
        vec![
            ("code".into(), "c".into()),
            ("state".into(), q["state"].clone()),
            ("iss".into(), a2.clone()),
        ]
    });
    fake.seen.clear();
    let second = fake.drive(flow(authorize(None)), t0()).unwrap();
    assert_eq!(second.tokens.issuer, as2);
    assert_eq!(fake.registered, 2, "registered again at the new server");
    let old_id = format!("client-of-{AS}");
    for r in &fake.seen {
        let text = format!(
            "{} {:?} {}",
            r.url,
            r.headers,
            String::from_utf8_lossy(&r.body)
        );
        assert!(!text.contains(&old_id), "old client id shown to {}", r.url);
        let basic = crate::http::base64::encode(
            format!("{}:s", super::url::form_encode(&old_id)).as_bytes(),
        );
        assert!(!text.contains(&basic));
    }
    // A store that hands out the wrong issuer's client is not believed either.
    let mut fake2 = Fake::new();
    fake2.stored.push(ClientCredentials {
        issuer: "http://127.0.0.1:9300".into(),
        client_id: "foreign".into(),
        client_secret: Some("x".into()),
        auth_method: None,
    });
    let mut f = flow(authorize(None));
    loop {
        match f.poll_step().unwrap() {
            Step::Send(r) => {
                let resp = fake2.answer(&r);
                f.handle_response(t0(), resp)
            }
            Step::LoadClient { .. } => {
                f.handle_client(t0(), fake2.stored.first().cloned());
            }
            Step::Authorize { url } => {
                assert!(!url.contains("foreign"));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(fake2.registered, 1);
}

#[test]
fn client_credentials_with_a_signed_assertion() {
    struct Fixed;
    impl JwtSigner for Fixed {
        fn alg(&self) -> &str {
            "ES256"
        }
        fn sign(&self, input: &[u8]) -> Result<Vec<u8>, String> {
            Ok(input.iter().take(4).copied().collect())
        }
    }
    let mut cfg = OAuthConfig::new(MCP, "http://127.0.0.1:1/cb");
    cfg.grant = Grant::ClientCredentials;
    cfg.pre_registered = Some(PreRegistered {
        client_id: "svc".into(),
        client_secret: None,
        issuer: None,
    });
    cfg.signer = Some(Arc::new(Fixed));
    let mut fake = Fake::new();
    let mut meta = as_meta(AS);
    meta["token_endpoint_auth_methods_supported"] = json!(["private_key_jwt"]);
    fake.docs
        .insert(format!("{AS}/.well-known/oauth-authorization-server"), meta);
    fake.token = Box::new(|form, auth| {
        assert!(auth.is_none());
        assert_eq!(form["grant_type"], "client_credentials");
        assert_eq!(form["client_assertion_type"], CLIENT_ASSERTION_TYPE);
        let parts: Vec<&str> = form["client_assertion"].split('.').collect();
        assert_eq!(parts.len(), 3);
        (200, json!({"access_token": "cc", "token_type": "Bearer"}))
    });
    let f = AuthFlow::new(
        Arc::new(cfg),
        authorize(None),
        t0(),
        Box::new(SeededEntropy::new(3)),
    );
    let out = fake.drive(f, t0()).unwrap();
    assert_eq!(out.tokens.access_token, "cc");
    assert_eq!(fake.registered, 0);
}

#[test]
fn hostile_documents_fail_cleanly() {
    for body in [
        &b"not json"[..],
        b"[]",
        b"{\"authorization_servers\": 5}",
        b"\xff\xfe",
    ] {
        let mut fake = Fake::new();
        fake.docs.clear();
        let mut f = flow(authorize(Some(
            "Bearer resource_metadata=\"http://127.0.0.1:9000/m\"",
        )));
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 32);
            match f.poll_step().unwrap() {
                Step::Send(_) => f.handle_response(
                    t0(),
                    AuthResponse {
                        status: 200,
                        headers: vec![],
                        body: body.to_vec(),
                    },
                ),
                Step::LoadClient { .. } => f.handle_client(t0(), None),
                Step::Authorize { .. } => break,
                Step::Done(_) | Step::Failed(_) => break,
            }
        }
    }
    // Out-of-order input is a usage error, not a panic.
    let mut f = flow(authorize(None));
    let _ = f.poll_step();
    f.handle_redirect(t0(), &[]);
    assert!(matches!(
        f.poll_step(),
        Some(Step::Failed(AuthError::Usage(_)))
    ));
}

#[test]
fn jwt_bearer_grant_sends_the_assertion_once() {
    let mut cfg = OAuthConfig::new(MCP, "http://127.0.0.1:1/cb");
    cfg.grant = Grant::JwtBearer;
    cfg.assertion = Some("header.claims.sig".into());
    cfg.pre_registered = Some(PreRegistered {
        client_id: "workload".into(),
        client_secret: None,
        issuer: None,
    });
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    let mut fake = Fake::new();
    fake.token = Box::new(move |form, auth| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert!(auth.is_none());
        assert_eq!(form["grant_type"], JWT_BEARER_GRANT);
        assert_eq!(form["assertion"], "header.claims.sig");
        assert_eq!(form["client_id"], "workload");
        (400, json!({"error": "invalid_grant"}))
    });
    let f = AuthFlow::new(
        Arc::new(cfg),
        authorize(None),
        t0(),
        Box::new(SeededEntropy::new(5)),
    );
    // A refused assertion is reported, not retried and not swapped for another grant.
    assert!(matches!(
        fake.drive(f, t0()),
        Err(AuthError::Endpoint {
            endpoint: "token",
            status: 400,
            ..
        })
    ));
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(fake.registered, 0);
}

#[test]
fn enterprise_managed_exchanges_the_id_token_then_uses_the_id_jag() {
    let mut cfg = OAuthConfig::new(MCP, "http://127.0.0.1:1/cb");
    cfg.grant = Grant::JwtBearer;
    cfg.pre_registered = Some(PreRegistered {
        client_id: "mcp-client".into(),
        client_secret: Some("sec".into()),
        issuer: None,
    });
    cfg.id_jag = Some(IdJagExchange {
        token_endpoint: "http://127.0.0.1:9500/token".into(),
        id_token: "id.token.jwt".into(),
        client_id: "idp-client".into(),
        client_secret: None,
    });
    let mut fake = Fake::new();
    fake.token = Box::new(|form, auth| {
        if form["grant_type"] == TOKEN_EXCHANGE_GRANT {
            assert!(auth.is_none());
            assert_eq!(form["subject_token"], "id.token.jwt");
            assert_eq!(
                form["requested_token_type"],
                "urn:ietf:params:oauth:token-type:id-jag"
            );
            assert_eq!(form["audience"], AS);
            assert_eq!(form["resource"], MCP);
            assert_eq!(form["client_id"], "idp-client");
            (
                200,
                json!({"access_token": "the-id-jag", "token_type": "N_A",
                "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag"}),
            )
        } else {
            assert_eq!(form["grant_type"], JWT_BEARER_GRANT);
            assert_eq!(form["assertion"], "the-id-jag");
            assert!(auth.is_some_and(|a| a.starts_with("Basic ")));
            (200, json!({"access_token": "at", "token_type": "Bearer"}))
        }
    });
    let f = AuthFlow::new(
        Arc::new(cfg),
        authorize(None),
        t0(),
        Box::new(SeededEntropy::new(9)),
    );
    let out = fake.drive(f, t0()).unwrap();
    assert_eq!(out.tokens.access_token, "at");
    let posts: Vec<&str> = fake
        .seen
        .iter()
        .filter(|r| r.method == AuthMethod::Post)
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(
        posts,
        vec!["http://127.0.0.1:9500/token", "http://127.0.0.1:9100/token"]
    );
}
