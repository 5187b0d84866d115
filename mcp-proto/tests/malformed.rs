//! Bad input from the peer: each gets the right error (or a fault event), never a panic, and
//! the session stays usable afterwards.
mod support;

use mcp_proto::jsonrpc::code;
use mcp_proto::schema::ProtocolVersion;
use mcp_proto::session::ServerEvent;
use serde_json::{json, Value};
use support::*;

/// After any abuse, a normal request must still work.
fn still_usable(raw: &mut Raw) {
    let out = raw.send(json!({"jsonrpc":"2.0","id":"alive","method":"ping"}));
    assert_eq!(out, vec![json!({"jsonrpc":"2.0","id":"alive","result":{}})]);
}

fn one(out: Vec<Value>) -> Value {
    assert_eq!(out.len(), 1, "{out:?}");
    out.into_iter().next().unwrap()
}

#[test]
fn invalid_json_is_a_parse_error_with_null_id() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-11-25");
    for bad in [
        &b"{not json\n"[..],
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\n",
        b"nul\n",
        b"\"just a string\"\n",
    ] {
        let r = one(raw.feed(bad));
        assert!(r["id"].is_null(), "{r}");
        let c = r["error"]["code"].as_i64().unwrap();
        assert!(c == code::PARSE_ERROR || c == code::INVALID_REQUEST, "{r}");
        still_usable(&mut raw);
    }
    let r = one(raw.feed(b"{oops}\n"));
    assert_eq!(r["error"]["code"], code::PARSE_ERROR);
}

#[test]
fn invalid_utf8_is_a_parse_error() {
    let mut raw = Raw::new(server_config());
    let r = one(raw.feed(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xffing\"}\n"));
    assert_eq!(r["error"]["code"], code::PARSE_ERROR);
    assert!(r["id"].is_null());
    still_usable(&mut raw);
}

#[test]
fn oversized_frames_are_refused_and_skipped_without_buffering() {
    let mut cfg = server_config();
    cfg.max_frame_len = 1024;
    let mut raw = Raw::new(cfg);
    let mut big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(5000)
    )
    .into_bytes();
    big.push(b'\n');
    // Arrives in small pieces; the session must not hold more than the limit.
    let mut buf = bytes::BytesMut::new();
    let mut out = Vec::new();
    for piece in big.chunks(100) {
        buf.extend_from_slice(piece);
        raw.server.handle_bytes(raw.now, &mut buf);
        assert!(buf.len() <= 1025, "buffered {}", buf.len());
        out.extend(raw.drain());
    }
    let r = one(out);
    assert_eq!(r["error"]["code"], code::INVALID_REQUEST);
    still_usable(&mut raw);
}

#[test]
fn null_and_invalid_ids_are_invalid_requests() {
    let mut raw = Raw::new(server_config());
    for id in [
        json!(null),
        json!(1.5),
        json!({"a":1}),
        json!([1]),
        json!(true),
    ] {
        let r = one(raw.send(json!({"jsonrpc":"2.0","id":id,"method":"ping"})));
        assert_eq!(r["error"]["code"], code::INVALID_REQUEST, "{id}");
        assert!(r["id"].is_null());
    }
    let r = one(raw.send(json!({"jsonrpc":"1.0","id":4,"method":"ping"})));
    assert_eq!(r["error"]["code"], code::INVALID_REQUEST);
    assert_eq!(r["id"], 4);
    let r = one(raw.send(json!({"jsonrpc":"2.0","id":5,"method":"ping","params":"str"})));
    assert_eq!(r["error"]["code"], code::INVALID_REQUEST);
    still_usable(&mut raw);
}

#[test]
fn duplicate_in_flight_id_is_refused_without_disturbing_the_original() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-11-25");
    let req = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow"}});
    assert!(raw.send(req.clone()).is_empty());
    let r = one(raw.send(req));
    assert_eq!(r["error"]["code"], code::INVALID_REQUEST);
    assert_eq!(raw.server.in_flight(), 1);
    raw.server
        .respond(
            &7.into(),
            mcp_proto::schema::tools::CallToolResult::text("ok"),
        )
        .unwrap();
    let r = one(raw.drain());
    assert_eq!(r["result"]["content"][0]["text"], "ok");
}

#[test]
fn responses_to_nothing_are_faults_not_replies() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-11-25");
    raw.events.clear();
    assert!(raw
        .send(json!({"jsonrpc":"2.0","id":123,"result":{}}))
        .is_empty());
    assert!(raw
        .send(json!({"jsonrpc":"2.0","id":124,"error":{"code":-1,"message":"x"}}))
        .is_empty());
    assert!(raw
        .send(json!({"jsonrpc":"2.0","id":125,"error":"not an object"}))
        .is_empty());
    assert_eq!(
        raw.events
            .iter()
            .filter(|e| matches!(e, ServerEvent::PeerFault(_)))
            .count(),
        3
    );
    still_usable(&mut raw);
}

#[test]
fn deep_nesting_is_refused_without_a_stack_overflow() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-11-25");
    let depth = 100_000;
    let mut s = String::from("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"arguments\":{\"a\":");
    s.push_str(&"[".repeat(depth));
    s.push_str(&"]".repeat(depth));
    s.push_str("}}}\n");
    let r = one(raw.feed(s.as_bytes()));
    assert!(
        r["error"]["code"] == code::PARSE_ERROR || r["error"]["code"] == code::INVALID_REQUEST,
        "{r}"
    );
    still_usable(&mut raw);
}

#[test]
fn bad_params_are_invalid_params_with_the_id() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-11-25");
    let r =
        one(raw.send(json!({"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name": 5}})));
    assert_eq!(r["error"]["code"], code::INVALID_PARAMS);
    assert_eq!(r["id"], "x");
    let r = one(raw.send(json!({"jsonrpc":"2.0","id":"y","method":"tools/call"})));
    assert_eq!(r["error"]["code"], code::INVALID_PARAMS);
    still_usable(&mut raw);
}

#[test]
fn malformed_notifications_get_no_reply() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-11-25");
    assert!(raw.send(json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"no":1}}})).is_empty());
    assert!(raw
        .send(json!({"jsonrpc":"2.0","method":"notifications/progress","params":{}}))
        .is_empty());
    assert!(raw
        .send(
            json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":999}})
        )
        .is_empty());
    assert!(raw
        .send(json!({"jsonrpc":"2.0","method":"notifications/whatever"}))
        .is_empty());
    still_usable(&mut raw);
}

/// Ids of the answers in one batch reply, sorted (JSON-RPC leaves their order free).
fn batch_ids(reply: &Value) -> Vec<Value> {
    let mut ids: Vec<Value> = reply
        .as_array()
        .unwrap_or_else(|| panic!("a batch is answered with an array, got {reply}"))
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    ids.sort_by_key(|v| v.to_string());
    ids
}

#[test]
fn batches_only_on_2025_03_26() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-03-26");
    let out = raw.feed(b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]\n");
    assert_eq!(batch_ids(&one(out)), vec![json!(1), json!(2)]);
    assert_eq!(
        one(raw.feed(b"[]\n"))["error"]["code"],
        code::INVALID_REQUEST
    );
    let out =
        raw.feed(b"[{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"initialize\",\"params\":{}}]\n");
    let reply = one(out);
    assert_eq!(reply[0]["error"]["code"], code::INVALID_REQUEST);
    assert_eq!(reply[0]["id"], 9);

    let mut raw = Raw::new(server_config());
    raw.initialize(ProtocolVersion::V2025_06_18.as_str());
    let r = one(raw.feed(b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]\n"));
    assert_eq!(r["error"]["code"], code::INVALID_REQUEST);
    still_usable(&mut raw);
}

/// Before: `["2.0",1,"ping"]` was read positionally into the envelope and answered as a
/// ping with id 1.
#[test]
fn a_batch_item_that_is_an_array_is_an_invalid_request() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-03-26");
    let reply = one(raw.feed(b"[[\"2.0\",1,\"ping\"]]\n"));
    assert_eq!(reply.as_array().map(Vec::len), Some(1), "{reply}");
    assert_eq!(reply[0]["error"]["code"], code::INVALID_REQUEST);
    assert!(reply[0]["id"].is_null(), "{reply}");
    assert!(reply[0].get("result").is_none());
    // Outside a batch too.
    let r = one(raw.feed(b"[\"2.0\",1,\"ping\"]\n"));
    assert!(r.is_array() || r["error"].is_object(), "{r}");
    still_usable(&mut raw);
}

/// Before: each answer of a batch left as its own line.
#[test]
fn a_batch_on_a_byte_stream_is_answered_with_one_array_once_all_are_answered() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-03-26");
    let batch = json!([
        {"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"x"}},
        {"jsonrpc":"2.0","id":"fast","method":"ping"},
        {"jsonrpc":"1.0","id":"bad","method":"ping"},
        {"jsonrpc":"2.0","method":"notifications/whatever"},
        {"jsonrpc":"1.0","method":"notifications/malformed"},
        17
    ]);
    assert!(
        raw.send(batch).is_empty(),
        "held until the slow call is answered"
    );
    // Something else answered meanwhile leaves on its own.
    assert_eq!(
        one(raw.send(json!({"jsonrpc":"2.0","id":"alone","method":"ping"})))["id"],
        "alone"
    );
    raw.server
        .respond(
            &"slow".into(),
            mcp_proto::schema::tools::CallToolResult::text("done"),
        )
        .unwrap();
    let reply = one(raw.drain());
    assert_eq!(
        batch_ids(&reply),
        vec![json!("bad"), json!("fast"), json!("slow"), json!(null)]
    );

    // A cancelled request is left out; the rest still arrives.
    let batch = json!([
        {"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"x"}},
        {"jsonrpc":"2.0","id":"p","method":"ping"}
    ]);
    assert!(raw.send(batch).is_empty());
    let cancel =
        json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c"}});
    assert_eq!(batch_ids(&one(raw.send(cancel))), vec![json!("p")]);

    // Only notifications: nothing at all.
    let batch = json!([{"jsonrpc":"2.0","method":"notifications/whatever"}]);
    assert!(raw.send(batch).is_empty());

    // Closing answers what is left, still as one array.
    let batch = json!([{"jsonrpc":"2.0","id":"z","method":"tools/call","params":{"name":"x"}}]);
    assert!(raw.send(batch).is_empty());
    raw.server.close();
    assert_eq!(batch_ids(&one(raw.drain())), vec![json!("z")]);
}

/// `handle_message` / `handle_batch` (HTTP) keep each answer on its own request's route.
#[test]
fn a_parsed_batch_answers_each_request_on_its_route() {
    use mcp_proto::jsonrpc::RawBatch;
    use mcp_proto::session::Route;
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-03-26");
    let text = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"}]"#;
    let batch = RawBatch::parse(text).unwrap();
    assert_eq!(batch.answers_owed(), 2);
    raw.server.handle_batch(raw.now, batch);
    let mut routes = Vec::new();
    while let Some(t) = raw.server.poll_transmit() {
        routes.push(t.route);
    }
    assert_eq!(
        routes,
        vec![Route::Request(1.into()), Route::Request(2.into())]
    );
}

/// Before: a notification with a bad `jsonrpc` or bad params was answered with an error.
#[test]
fn a_malformed_notification_envelope_gets_no_reply() {
    let mut raw = Raw::new(server_config());
    raw.initialize("2025-11-25");
    for bad in [
        json!({"jsonrpc":"1.0","method":"notifications/whatever"}),
        json!({"method":"notifications/whatever"}),
        json!({"jsonrpc":"2.0","method":"notifications/whatever","params":"x"}),
        json!({"jsonrpc":"2.0","method":5}),
    ] {
        assert!(raw.send(bad.clone()).is_empty(), "{bad} was answered");
    }
    still_usable(&mut raw);
}

#[test]
fn in_flight_limit_is_enforced_and_recovers() {
    let mut cfg = server_config();
    cfg.max_in_flight = 2;
    let mut raw = Raw::new(cfg);
    raw.initialize("2025-11-25");
    for id in 0..2 {
        assert!(raw
            .send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"x"}}))
            .is_empty());
    }
    let r =
        one(raw.send(json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}})));
    assert_eq!(r["error"]["code"], code::INTERNAL_ERROR);
    raw.server
        .respond(
            &0.into(),
            mcp_proto::schema::tools::CallToolResult::text("a"),
        )
        .unwrap();
    raw.drain();
    assert!(raw
        .send(json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"x"}}))
        .is_empty());
}

#[test]
fn garbage_from_the_server_is_a_client_fault_not_a_crash() {
    let mut p = Pair::new(client_config(), server_config());
    p.connect();
    let now = p.now;
    let mut buf = bytes::BytesMut::from(
        &b"hello I am not json\n\xff\xfe\n{\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{}}\n[]\n"[..],
    );
    p.client.handle_bytes(now, &mut buf);
    let mut faults = 0;
    while let Some(e) = p.client.poll_event() {
        assert!(
            matches!(e, mcp_proto::session::ClientEvent::PeerFault(_)),
            "{e:?}"
        );
        faults += 1;
    }
    assert!(faults >= 3);
    assert!(p.client.is_ready());
}

/// Before: every `resources/subscribe` URI was kept, without bound.
#[test]
fn resource_subscriptions_are_capped_per_session() {
    let mut cfg = server_config();
    cfg.max_resource_subscriptions = 3;
    let mut raw = Raw::new(cfg);
    raw.initialize("2025-11-25");
    let sub = |raw: &mut Raw, id: i64, uri: &str| {
        one(raw.send(
            json!({"jsonrpc":"2.0","id":id,"method":"resources/subscribe","params":{"uri":uri}}),
        ))
    };
    for i in 0..3 {
        assert!(sub(&mut raw, i, &format!("mem://{i}"))["result"].is_object());
    }
    let r = sub(&mut raw, 10, "mem://one-too-many");
    assert_eq!(r["error"]["code"], code::INTERNAL_ERROR, "{r}");
    assert_eq!(r["id"], 10);
    // Subscribing again to a URI already held costs nothing and is accepted.
    assert!(sub(&mut raw, 11, "mem://1")["result"].is_object());
    let r = one(raw.send(json!({"jsonrpc":"2.0","id":12,"method":"resources/unsubscribe","params":{"uri":"mem://0"}})));
    assert!(r["result"].is_object());
    assert!(sub(&mut raw, 13, "mem://one-too-many")["result"].is_object());
    still_usable(&mut raw);
}

/// A whole message from a message transport is held to `max_frame_len` like a line: the
/// server answers -32600 naming the limit and handles nothing; the client reports a fault.
#[test]
fn framed_messages_are_held_to_the_frame_limit() {
    use mcp_proto::session::{ClientEvent, ClientSession};
    let mut config = server_config();
    config.max_frame_len = 64;
    let mut raw = Raw::new(config);
    raw.initialize("2025-11-25");
    let ping = |id: &str| format!(r#"{{"jsonrpc":"2.0","id":"{id}","method":"ping"}}"#);
    let long = ping(&"x".repeat(64));
    raw.server.handle_framed(raw.now, long.as_bytes());
    let refused = one(raw.drain());
    assert_eq!(refused["error"]["code"], code::INVALID_REQUEST, "{refused}");
    assert_eq!(refused["id"], Value::Null);
    assert!(refused["error"]["message"].as_str().unwrap().contains("64"));
    // A trailing newline does not count, and the session goes on.
    raw.server
        .handle_framed(raw.now, format!("{}\n", ping("ok")).as_bytes());
    assert_eq!(one(raw.drain())["id"], "ok");

    let mut config = client_config();
    config.max_frame_len = 64;
    let mut client = ClientSession::new(config, raw.now);
    client.connect(raw.now).unwrap();
    client.handle_framed(raw.now, long.as_bytes());
    let faults: Vec<String> = std::iter::from_fn(|| client.poll_event())
        .filter_map(|e| match e {
            ClientEvent::PeerFault(f) => Some(f.message),
            _ => None,
        })
        .collect();
    assert!(
        faults.iter().any(|f| f.contains("exceeds the limit of 64")),
        "{faults:?}"
    );
}
