//! Both lifecycles: legacy initialize negotiation, 2026-07-28 per-request validation, era
//! detection on the client.
mod support;

use std::time::Duration;

use mcp_proto::jsonrpc::code;
use mcp_proto::schema::messages::ClientRequest;
use mcp_proto::schema::{Era, PaginatedRequestParams, ProtocolVersion};
use mcp_proto::session::{ClientEvent, ConnectError, EraPreference, RequestOptions, ServerEvent};
use serde_json::json;
use support::*;

#[test]
fn initialize_echoes_every_legacy_version() {
    for v in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let mut raw = Raw::new(server_config());
        let r = raw.initialize(v);
        assert_eq!(r["id"], "init");
        assert_eq!(r["result"]["protocolVersion"], v, "{r}");
        assert_eq!(r["result"]["serverInfo"]["name"], "test-server");
        assert!(r["result"]["capabilities"]["tools"].is_object());
        assert!(
            matches!(raw.events.as_slice(), [ServerEvent::Initialized { version, .. }] if version.as_str() == v)
        );
    }
}

#[test]
fn initialize_with_unknown_version_offers_latest_legacy() {
    for v in ["1999-01-01", "2026-07-28"] {
        let mut raw = Raw::new(server_config());
        let r = raw.initialize(v);
        assert_eq!(r["result"]["protocolVersion"], "2025-11-25");
    }
    let mut cfg = server_config();
    cfg.versions = vec![ProtocolVersion::V2025_03_26, ProtocolVersion::V2025_06_18];
    let mut raw = Raw::new(cfg);
    assert_eq!(
        raw.initialize("2025-11-25")["result"]["protocolVersion"],
        "2025-06-18"
    );
}

#[test]
fn modern_only_server_names_its_versions_on_initialize() {
    let mut cfg = server_config();
    cfg.versions = vec![ProtocolVersion::V2026_07_28];
    let mut raw = Raw::new(cfg);
    let r = raw.initialize("2025-11-25");
    assert_eq!(r["error"]["code"], code::INVALID_PARAMS);
    assert_eq!(r["error"]["data"]["supported"], json!(["2026-07-28"]));
}

#[test]
fn second_initialize_is_refused() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-11-25");
    let r = raw.initialize("2025-11-25");
    assert_eq!(r["error"]["code"], code::INVALID_REQUEST);
}

#[test]
fn before_initialize_only_ping_is_served() {
    let mut raw = Raw::new(server_config());
    let out = raw.send(json!({"jsonrpc":"2.0","id":1,"method":"ping"}));
    assert_eq!(out, vec![json!({"jsonrpc":"2.0","id":1,"result":{}})]);
    let out = raw.send(json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}));
    assert_eq!(out[0]["error"]["code"], code::INVALID_PARAMS);
    assert!(raw.events.is_empty());
}

#[test]
fn legacy_capability_gating_gives_method_not_found() {
    let mut cfg = server_config();
    cfg.capabilities.prompts = None;
    cfg.capabilities.logging = None;
    let mut raw = Raw::new(cfg);
    raw.initialize("2025-06-18");
    for m in [
        "prompts/list",
        "logging/setLevel",
        "server/discover",
        "no/such/method",
    ] {
        let out = raw.send(json!({"jsonrpc":"2.0","id":m,"method":m,"params":{"level":"info"}}));
        assert_eq!(
            out[0]["error"]["code"],
            code::METHOD_NOT_FOUND,
            "{m}: {out:?}"
        );
        assert_eq!(out[0]["id"], m);
    }
}

#[test]
fn modern_requests_are_validated_per_request() {
    let mut raw = Raw::new(server_config());
    // Unsupported version: -32022 with the supported list.
    let mut meta = modern_meta();
    meta["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let out =
        raw.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta": meta}}));
    assert_eq!(out[0]["error"]["code"], code::UNSUPPORTED_PROTOCOL_VERSION);
    assert_eq!(out[0]["error"]["data"]["requested"], "2099-01-01");
    assert_eq!(out[0]["error"]["data"]["supported"], json!(["2026-07-28"]));
    // Missing clientCapabilities: -32602.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28"});
    let out =
        raw.send(json!({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta": meta}}));
    assert_eq!(out[0]["error"]["code"], code::INVALID_PARAMS);
    // Methods 2026-07-28 removed: -32601.
    for (i, m) in [
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "tasks/list",
    ]
    .iter()
    .enumerate()
    {
        let out = raw.send(json!({"jsonrpc":"2.0","id":10+i,"method":m,"params":{"_meta": modern_meta(), "level":"info", "uri":"x://y"}}));
        assert_eq!(out[0]["error"]["code"], code::METHOD_NOT_FOUND, "{m}");
    }
    // A valid one reaches the application with its context, and no state is kept.
    let out = raw.send(
        json!({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta": modern_meta()}}),
    );
    assert!(out.is_empty());
    match raw.events.pop() {
        Some(ServerEvent::Request {
            id,
            request: ClientRequest::ListTools(_),
            context,
        }) => {
            assert_eq!(id, 3.into());
            assert_eq!(context.era, Era::Modern);
            assert_eq!(context.client_info.unwrap().name, "raw");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(raw.server.legacy_version(), None);
}

#[test]
fn version_errors_outrank_bad_params() {
    let mut raw = Raw::new(server_config());
    let mut meta = modern_meta();
    meta["io.modelcontextprotocol/protocolVersion"] = json!("1.0");
    let out =
        raw.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta": meta}}));
    assert_eq!(out[0]["error"]["code"], code::UNSUPPORTED_PROTOCOL_VERSION);
}

#[test]
fn discover_is_answered_by_the_session() {
    let mut raw = Raw::new(server_config());
    let out = raw.send(json!({"jsonrpc":"2.0","id":"d","method":"server/discover","params":{"_meta": modern_meta()}}));
    let r = &out[0]["result"];
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["supportedVersions"][0], "2026-07-28");
    assert!(r["supportedVersions"]
        .as_array()
        .unwrap()
        .contains(&json!("2024-11-05")));
    assert_eq!(r["ttlMs"], 0);
    assert_eq!(r["cacheScope"], "public");
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "test-server"
    );
}

#[test]
fn modern_results_carry_result_type_and_server_info() {
    let mut raw = Raw::new(server_config());
    raw.send(json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"_meta": modern_meta(),"name":"echo","arguments":{"x":1},"unknownField":true}}));
    let Some(ServerEvent::Request {
        id,
        request: ClientRequest::CallTool(p),
        ..
    }) = raw.events.pop()
    else {
        panic!()
    };
    assert_eq!(p.extra["unknownField"], true);
    raw.server
        .respond(&id, mcp_proto::schema::tools::CallToolResult::text("hi"))
        .unwrap();
    let out = raw.drain();
    assert_eq!(out[0]["result"]["resultType"], "complete");
    assert_eq!(out[0]["result"]["content"][0]["text"], "hi");
    assert_eq!(
        out[0]["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["version"],
        "1.0.0"
    );
}

#[test]
fn client_lands_on_modern_with_a_dual_era_server() {
    let mut pair = Pair::new(client_config(), server_config());
    pair.connect();
    let desc = pair.client.server().unwrap().clone();
    assert_eq!(desc.era, Era::Modern);
    assert_eq!(desc.version, ProtocolVersion::V2026_07_28);
    assert_eq!(desc.server_info.unwrap().name, "test-server");
    assert_eq!(pair.c2s_log[0]["method"], "server/discover");
    assert!(pair.c2s_log.iter().all(|m| m["method"] != "initialize"));
}

#[test]
fn client_falls_back_to_initialize_on_a_legacy_server() {
    let mut cfg = server_config();
    cfg.versions.retain(|v| v.era() == Era::Legacy);
    let mut pair = Pair::new(client_config(), cfg);
    pair.connect();
    let desc = pair.client.server().unwrap();
    assert_eq!(desc.era, Era::Legacy);
    assert_eq!(desc.version, ProtocolVersion::V2025_11_25);
    let methods: Vec<_> = pair.c2s_log.iter().map(|m| m["method"].clone()).collect();
    assert_eq!(
        methods,
        vec![
            json!("server/discover"),
            json!("initialize"),
            json!("notifications/initialized")
        ]
    );
    assert!(pair
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::Initialized { .. })));
}

#[test]
fn client_falls_back_when_the_probe_is_never_answered() {
    let mut pair = Pair::new(client_config(), server_config());
    pair.drop_c2s = true;
    pair.client.connect(pair.now).unwrap();
    pair.drive();
    assert!(!pair.client.is_ready());
    pair.drop_c2s = false;
    pair.advance(Duration::from_secs(5));
    assert_eq!(
        pair.c2s_log.last().unwrap()["method"],
        "notifications/initialized"
    );
    assert_eq!(pair.client.server().unwrap().era, Era::Legacy);
}

#[test]
fn legacy_preference_skips_the_probe_and_queued_requests_flow_after_ready() {
    let mut cc = client_config();
    cc.era = EraPreference::Legacy;
    let mut pair = Pair::new(cc, server_config());
    pair.client.connect(pair.now).unwrap();
    let id = pair
        .client
        .send_request(
            pair.now,
            ClientRequest::ListTools(PaginatedRequestParams::default()),
            RequestOptions::default(),
        )
        .unwrap();
    pair.drive();
    assert_eq!(pair.c2s_log[0]["method"], "initialize");
    let ev = pair.take_server_events();
    let Some(ServerEvent::Request { id: sid, .. }) = ev
        .into_iter()
        .find(|e| matches!(e, ServerEvent::Request { .. }))
    else {
        panic!()
    };
    pair.server
        .respond(&sid, mcp_proto::schema::tools::ListToolsResult::default())
        .unwrap();
    pair.drive();
    assert!(pair
        .client_events
        .iter()
        .any(|e| matches!(e, ClientEvent::Response { id: rid, result: Ok(_) } if *rid == id)));
}

#[test]
fn no_common_version_fails_the_connect() {
    let mut cc = client_config();
    cc.era = EraPreference::Modern;
    let mut sc = server_config();
    sc.versions.retain(|v| v.era() == Era::Legacy);
    let mut pair = Pair::new(cc, sc);
    pair.connect();
    assert!(
        pair.client_events
            .iter()
            .any(|e| matches!(e, ClientEvent::ConnectFailed(ConnectError::Malformed(_)))),
        "{:?}",
        pair.client_events
    );
}

#[test]
fn handshake_survives_every_byte_split() {
    for chunk in [1, 2, 3, 5, 7, 64] {
        let mut pair = Pair::with_chunks(client_config(), server_config(), vec![chunk]);
        pair.connect();
        assert!(pair.client.is_ready(), "chunk {chunk}");
    }
}

#[test]
fn modern_cacheable_results_always_carry_caching_hints() {
    let mut raw = Raw::new(server_config());
    raw.send(
        json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta": modern_meta()}}),
    );
    raw.server
        .respond(
            &1.into(),
            mcp_proto::schema::tools::ListToolsResult::default(),
        )
        .unwrap();
    let out = raw.drain();
    assert_eq!(out[0]["result"]["ttlMs"], 0);
    assert_eq!(out[0]["result"]["cacheScope"], "private");
    // Hints the application chose are kept; legacy results get none.
    raw.send(
        json!({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta": modern_meta()}}),
    );
    let r = mcp_proto::schema::tools::ListToolsResult {
        ttl_ms: Some(60_000),
        cache_scope: Some(mcp_proto::schema::CacheScope::Public),
        ..Default::default()
    };
    raw.server.respond(&2.into(), r).unwrap();
    let out = raw.drain();
    assert_eq!(out[0]["result"]["ttlMs"], 60_000);
    assert_eq!(out[0]["result"]["cacheScope"], "public");
    raw.initialize("2025-11-25");
    raw.send(json!({"jsonrpc":"2.0","id":3,"method":"tools/list"}));
    raw.server
        .respond(
            &3.into(),
            mcp_proto::schema::tools::ListToolsResult::default(),
        )
        .unwrap();
    let out = raw.drain();
    assert!(out[0]["result"].get("ttlMs").is_none());
}
