//! The hand-made seed corpus, as code.
//!
//! `fuzz/corpus/<target>/<name>` holds exactly these bytes; the replay test checks that, and
//! rewrites the directory when run with `MCP_WRITE_CORPUS=1`. Inputs the fuzzer found (crash
//! reproducers worth keeping) can sit next to them under other names.

use serde_json::{json, Value};

use super::ops::{Dir, Op, Script};

/// One seed file.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The target it belongs to.
    pub target: &'static str,
    /// Its file name.
    pub name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let mut out = Vec::new();
    // The targets split from one another read the same inputs, so they share seeds.
    let server = server_bytes();
    out.extend(retarget(&server, "server_app"));
    out.extend(server);
    let client = client_bytes();
    out.extend(retarget(&client, "client_app"));
    out.extend(client);
    out.extend(line_decoder());
    out.extend(sse_decoder());
    let pair = pair_ops();
    out.extend(retarget(&pair, "pair_modern"));
    out.extend(pair);
    out.extend(http_exchange());
    out.extend(http_endpoint());
    out.extend(auth_flow());
    out
}

/// Endpoint sequences: config bytes, then (op, pick, operands) triples.
fn http_endpoint() -> Vec<Seed> {
    let t = "http_endpoint";
    let flood: Vec<u8> = (0..40).flat_map(|i| [0u8, i]).collect();
    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        ("flood", vec![2, 15, 3, 3, 1], flood),
        (
            "init-use-delete",
            vec![4, 8, 4, 4, 1],
            vec![0, 0, 2, 0, 1, 0, 7, 0, 4, 0],
        ),
        (
            "streams-to-the-cap",
            vec![3, 3, 2, 1, 1],
            vec![0, 0, 1, 0, 1, 0, 1, 0, 3, 0, 5, 0, 5, 0],
        ),
        (
            "expiry",
            vec![4, 8, 4, 4, 1],
            vec![0, 0, 0, 1, 2, 0, 8, 0, 16, 8, 0, 200],
        ),
        (
            "listen-cap",
            vec![4, 15, 4, 1, 1],
            vec![5, 0, 5, 0, 5, 0, 7, 0, 5, 0],
        ),
        ("batch", vec![4, 8, 4, 4, 1], vec![0, 0, 6, 0, 7, 0, 6, 0]),
        (
            "garbage",
            vec![4, 8, 4, 4, 1],
            vec![0, 0, 9, 0, 5, b'[', b'[', b'1', b']', b']'],
        ),
        (
            "stateless",
            vec![4, 8, 4, 4, 0],
            vec![0, 0, 1, 0, 2, 0, 9, 0, 2, b'{', b'}'],
        ),
        (
            "busy-table",
            vec![0, 15, 8, 4, 1],
            vec![0, 0, 1, 0, 0, 0, 7, 0, 0, 0],
        ),
        (
            "evict-then-release",
            vec![1, 15, 8, 4, 1],
            vec![0, 0, 2, 0, 0, 0, 0, 0, 7, 0, 7, 0, 7, 0],
        ),
    ];
    cases
        .into_iter()
        .map(|(name, header, ops)| seed(t, name, &header, &ops))
        .collect()
}

/// The same seeds for another target.
fn retarget(seeds: &[Seed], target: &'static str) -> Vec<Seed> {
    seeds
        .iter()
        .map(|s| Seed {
            target,
            ..s.clone()
        })
        .collect()
}

fn seed(target: &'static str, name: &str, header: &[u8], body: &[u8]) -> Seed {
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(body);
    Seed {
        target,
        name: name.to_owned(),
        bytes,
    }
}

/// Lines of JSON, each followed by `\n`.
fn lines(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        out.extend_from_slice(v.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

fn req(id: Value, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn note(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

fn ok(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn err(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn init(version: &str) -> Vec<Value> {
    vec![
        req(
            json!(0),
            "initialize",
            json!({"protocolVersion": version,
                   "capabilities": {"sampling": {}, "elicitation": {}, "roots": {"listChanged": true}},
                   "clientInfo": {"name": "seed", "version": "0"}}),
        ),
        note("notifications/initialized", json!({})),
    ]
}

/// Per-request `_meta` of a 2026-07-28 request.
fn modern(mut params: Value, tasks: bool) -> Value {
    let caps = if tasks {
        json!({"extensions": {"io.modelcontextprotocol/tasks": {}}})
    } else {
        json!({})
    };
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "seed", "version": "0"}
    });
    params
}

fn call(id: i64, text: &str) -> Value {
    req(
        json!(id),
        "tools/call",
        json!({"name": "echo", "arguments": {"text": text}}),
    )
}

fn server_bytes() -> Vec<Seed> {
    let t = "server_bytes";
    let mut v = Vec::new();
    let mut legacy = |name: &str, flags: u8, version: &str, rest: Vec<Value>| {
        let mut all = init(version);
        all.extend(rest);
        for chunk_seed in [0u8, 7] {
            v.push(seed(
                t,
                &format!("{name}-c{chunk_seed}"),
                &[flags, chunk_seed],
                &lines(&all),
            ));
        }
    };
    legacy(
        "legacy-tools",
        0,
        "2025-11-25",
        vec![
            req(json!(1), "tools/list", json!({})),
            call(2, "hello"),
            req(json!("p"), "ping", json!({})),
        ],
    );
    legacy(
        "legacy-2024-prompts-resources",
        0,
        "2024-11-05",
        vec![
            req(json!(1), "prompts/list", json!({})),
            req(json!(2), "prompts/get", json!({"name": "greet"})),
            req(json!(3), "resources/read", json!({"uri": "mem://a"})),
            req(json!(4), "resources/subscribe", json!({"uri": "mem://a"})),
            req(json!(5), "logging/setLevel", json!({"level": "warning"})),
            req(
                json!(6),
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "greet"},
                       "argument": {"name": "who", "value": "a"}}),
            ),
        ],
    );
    legacy(
        "legacy-cancel-and-duplicates",
        0,
        "2025-06-18",
        vec![
            call(1, "a"),
            call(1, "duplicate id while in flight"),
            note(
                "notifications/cancelled",
                json!({"requestId": 1, "reason": "changed my mind"}),
            ),
            note("notifications/cancelled", json!({"requestId": 99})),
            call(1, "reused after cancel"),
        ],
    );
    legacy(
        "legacy-tasks",
        0,
        "2025-11-25",
        vec![
            req(
                json!(1),
                "tools/call",
                json!({"name": "slow", "arguments": {}, "task": {"ttl": 60000}}),
            ),
            req(json!(2), "tasks/list", json!({})),
            req(json!(3), "tasks/get", json!({"taskId": "nope"})),
            req(json!(4), "tasks/result", json!({"taskId": "nope"})),
            req(json!(5), "tasks/cancel", json!({"taskId": "nope"})),
        ],
    );
    legacy(
        "legacy-client-responses",
        0,
        "2025-11-25",
        vec![
            ok(json!(0), json!({"roots": []})),
            err(json!(7), -32601, "no"),
            err(Value::Null, -32700, "parse error"),
            json!({"jsonrpc": "2.0", "id": 3, "result": {}, "error": {"code": 1, "message": "x"}}),
            note(
                "notifications/progress",
                json!({"progressToken": 0, "progress": 1}),
            ),
            note("notifications/roots/list_changed", json!({})),
        ],
    );
    legacy(
        "batch-2025-03-26",
        0,
        "2025-03-26",
        vec![
            json!([
                req(json!(1), "tools/list", json!({})),
                call(2, "in a batch"),
                note("notifications/cancelled", json!({"requestId": 2}))
            ]),
            json!([]),
            json!([1, 2, 3]),
            json!([req(json!(9), "initialize", json!({}))]),
        ],
    );
    legacy(
        "too-many-in-flight",
        0x08,
        "2025-11-25",
        (1..=7).map(|i| call(i, "busy")).collect(),
    );
    legacy("initialize-twice", 0, "2025-11-25", init("2025-06-18"));
    legacy(
        "initialize-unknown-version",
        0,
        "1999-01-01",
        vec![req(json!(1), "tools/list", json!({}))],
    );
    legacy(
        "custom-and-unknown-methods",
        0,
        "2025-11-25",
        vec![
            req(json!(1), "x/custom", json!({"a": 1})),
            req(json!(2), "no/such/method", json!({})),
            note("x/custom-notification", json!({})),
        ],
    );
    legacy(
        "small-server",
        0x10,
        "2025-11-25",
        vec![
            req(json!(1), "prompts/list", json!({})),
            req(json!(2), "resources/list", json!({})),
            call(3, "tools still work"),
        ],
    );

    let modern_frames = vec![
        req(json!(1), "server/discover", modern(json!({}), false)),
        req(json!(2), "tools/list", modern(json!({}), false)),
        req(
            json!(3),
            "tools/call",
            modern(json!({"name": "echo", "arguments": {"text": "2026"}}), true),
        ),
        req(
            json!(4),
            "prompts/get",
            modern(json!({"name": "greet"}), false),
        ),
        req(
            json!(5),
            "resources/read",
            modern(json!({"uri": "mem://a"}), false),
        ),
        req(
            json!(6),
            "subscriptions/listen",
            modern(json!({"notifications": {"toolsListChanged": true}}), false),
        ),
        note("notifications/cancelled", json!({"requestId": 6})),
        req(json!(7), "tasks/get", modern(json!({"taskId": "x"}), true)),
        req(json!(8), "tasks/get", modern(json!({"taskId": "x"}), false)),
        req(json!(9), "ping", modern(json!({}), false)),
    ];
    for (flags, name) in [
        (0u8, "modern-all"),
        (2, "modern-only"),
        (1, "modern-on-legacy-only"),
    ] {
        for chunk_seed in [0u8, 3] {
            v.push(seed(
                t,
                &format!("{name}-c{chunk_seed}"),
                &[flags, chunk_seed],
                &lines(&modern_frames),
            ));
        }
    }
    let mut bad_version = modern(json!({}), false);
    bad_version["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let mut no_caps = modern(json!({}), false);
    no_caps["_meta"]
        .as_object_mut()
        .map(|m| m.remove("io.modelcontextprotocol/clientCapabilities"));
    let mut bad_level = modern(json!({}), false);
    bad_level["_meta"]["io.modelcontextprotocol/logLevel"] = json!("loud");
    v.push(seed(
        t,
        "modern-bad-meta",
        &[0, 5],
        &lines(&[
            req(json!(1), "tools/list", bad_version),
            req(json!(2), "tools/list", no_caps),
            req(json!(3), "tools/list", bad_level),
            req(
                json!(4),
                "tools/call",
                modern(json!({"arguments": 3}), false),
            ),
            req(json!(5), "tools/list", json!({})),
        ]),
    ));

    let raw: [(&str, u8, &[u8]); 14] = [
        ("empty", 0, b""),
        ("not-json", 0, b"{nope\n"),
        ("bad-utf8", 0, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}\n"),
        ("partial-frame", 0, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ini"),
        ("crlf-and-blank-lines", 0, b"\r\n  \n\t\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n"),
        ("jsonrpc-1", 0, b"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}\n"),
        ("id-null-and-float", 0, b"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}\n"),
        ("params-not-object", 0, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":3}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":[1]}\n"),
        ("initialized-without-initialize", 0, b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"),
        ("request-before-initialize", 0, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n"),
        ("deep-nesting", 0, &[b'['; 300]),
        ("escapes-and-big-numbers", 0, b"{\"jsonrpc\":\"2.0\",\"id\":99999999999999999999,\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":\"\\u0000\\ud800\",\"method\":\"p\\u0069ng\"}\n"),
        ("duplicate-keys", 0, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\",\"method\":\"x\"}\n"),
        ("no-newline-at-eof", 0, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"),
    ];
    for (name, flags, body) in raw {
        v.push(seed(t, name, &[flags, 1], body));
    }
    let mut long =
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"".to_vec();
    long.extend_from_slice(&[b'x'; 400]);
    long.extend_from_slice(b"\"}}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n");
    v.push(seed(t, "oversized-line-small-limit", &[0x04, 9], &long));
    v
}

fn client_bytes() -> Vec<Seed> {
    let t = "client_bytes";
    let discover = json!({
        "supportedVersions": ["2026-07-28", "2025-11-25"],
        "capabilities": {"tools": {}, "prompts": {}, "resources": {}},
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}}
    });
    let initialized = |version: &str| {
        json!({"protocolVersion": version, "capabilities": {"tools": {}, "prompts": {}},
               "serverInfo": {"name": "s", "version": "1"}})
    };
    let cases: Vec<(&str, u8, Vec<Value>)> = vec![
        (
            "probe-answered",
            0,
            vec![
                ok(json!(0), discover.clone()),
                ok(json!(1), json!({"tools": []})),
            ],
        ),
        (
            "probe-refused-then-initialize",
            0,
            vec![
                err(json!(0), -32601, "Method not found"),
                ok(json!(6), initialized("2025-11-25")),
                ok(json!(1), json!({"tools": []})),
            ],
        ),
        (
            "probe-no-common-version",
            0,
            vec![ok(
                json!(0),
                json!({"supportedVersions": ["2030-01-01"], "capabilities": {}}),
            )],
        ),
        (
            "initialize-ok",
            1,
            vec![ok(json!(0), initialized("2025-06-18"))],
        ),
        (
            "initialize-bad-version",
            1,
            vec![ok(json!(0), initialized("1999-01-01"))],
        ),
        ("initialize-refused", 1, vec![err(json!(0), -32602, "no")]),
        (
            "initialize-malformed",
            1,
            vec![ok(json!(0), json!({"protocolVersion": 5}))],
        ),
        (
            "modern-results",
            2,
            vec![
                ok(
                    json!(1),
                    json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}],
                                     "resultType": "complete"}),
                ),
                note(
                    "notifications/progress",
                    json!({"progressToken": 2, "progress": 1, "total": 2}),
                ),
                note(
                    "notifications/progress",
                    json!({"progressToken": 2, "progress": 1}),
                ),
                ok(
                    json!(2),
                    json!({"content": [{"type": "text", "text": "hi"}]}),
                ),
                ok(json!(2), json!({"content": []})),
                note(
                    "notifications/subscriptions/acknowledged",
                    json!({"notifications": {"toolsListChanged": true},
                            "_meta": {"io.modelcontextprotocol/subscriptionId": 3}}),
                ),
                note(
                    "notifications/tools/list_changed",
                    json!({"_meta": {"io.modelcontextprotocol/subscriptionId": 3}}),
                ),
                ok(json!(3), json!({})),
                ok(
                    json!(5),
                    json!({"resultType": "input_required", "requestState": "s"}),
                ),
            ],
        ),
        (
            "modern-errors-and-junk",
            2,
            vec![
                err(json!(1), -32603, "boom"),
                err(Value::Null, -32700, "parse error"),
                ok(json!(42), json!({})),
                ok(json!(2), json!({"content": "not an array"})),
                req(json!(9), "sampling/createMessage", json!({})),
                note("notifications/cancelled", json!({"requestId": 3})),
            ],
        ),
        (
            "legacy-server-asks",
            3,
            vec![
                req(json!(100), "ping", json!({})),
                req(json!(101), "roots/list", json!({})),
                req(
                    json!(102),
                    "sampling/createMessage",
                    json!({"messages": [{"role": "user", "content": {"type": "text", "text": "q"}}],
                           "maxTokens": 5}),
                ),
                req(
                    json!(103),
                    "elicitation/create",
                    json!({"message": "name?", "requestedSchema": {"type": "object", "properties": {}}}),
                ),
                req(json!(103), "roots/list", json!({})),
                note("notifications/cancelled", json!({"requestId": 102})),
                req(json!(104), "tasks/list", json!({})),
                req(json!(105), "x/unknown", json!({})),
                note(
                    "notifications/message",
                    json!({"level": "info", "data": "log line"}),
                ),
                note("notifications/tools/list_changed", json!({})),
                ok(json!(4), json!({})),
                ok(json!(1), json!({"tools": []})),
            ],
        ),
        (
            "legacy-batch-of-responses",
            3,
            vec![json!([
                ok(json!(1), json!({"tools": []})),
                ok(json!(2), json!({"content": []}))
            ])],
        ),
    ];
    let mut v = Vec::new();
    for (name, mode, frames) in cases {
        for chunk_seed in [0u8, 11] {
            v.push(seed(
                t,
                &format!("{name}-c{chunk_seed}"),
                &[mode, chunk_seed],
                &lines(&frames),
            ));
        }
    }
    for mode in 0..4u8 {
        v.push(seed(
            t,
            &format!("garbage-m{mode}"),
            &[mode, 2],
            b"\xff\xfe\n{]\n[]\n[1]\n{}\nnull\n\"s\"\n",
        ));
        v.push(seed(t, &format!("empty-m{mode}"), &[mode, 0], b""));
    }
    v
}

fn line_decoder() -> Vec<Seed> {
    let t = "line_decoder";
    let cases: [(&str, u8, u8, &[u8]); 16] = [
        ("empty", 8, 0, b""),
        ("only-newlines", 8, 14, b"\n\n\n\r\n"),
        (
            "nul-and-controls",
            64,
            15,
            b"{\"a\":\"\x00\x01\x1b\"}\n\x00\n",
        ),
        (
            "one-frame",
            0xff,
            0,
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
        ),
        ("two-frames-chunked", 0xff, 5, b"{\"a\":1}\n{\"b\":2}\n"),
        ("crlf", 16, 3, b"{\"a\":1}\r\n{\"b\":2}\r\n"),
        ("blank-lines", 16, 1, b"\n\r\n \t \r\n{}\n\n"),
        ("at-limit", 4, 2, b"1234\r\n12345\n1234\n"),
        ("cr-past-limit", 4, 9, b"1234\r"),
        (
            "oversized-then-ok",
            8,
            4,
            b"0123456789abcdef more junk\n{\"ok\":1}\n",
        ),
        ("oversized-unterminated", 2, 6, b"[1,2,3"),
        ("bad-utf8", 32, 7, b"{\"s\":\"\xc3\x28\"}\n{\"ok\":true}\n"),
        ("unterminated-tail", 32, 8, b"{}\n[2]"),
        ("lone-crs", 32, 10, b"\r\r\r\n\r"),
        ("zero-limit", 0, 12, b"a\n\n\r\nb"),
        ("utf8-multibyte", 0xff, 13, "{\"é\":\"ü€😀\"}\n".as_bytes()),
    ];
    let mut v = Vec::new();
    for (name, limit, chunk_seed, body) in cases {
        v.push(seed(t, name, &[limit, chunk_seed], body));
        if chunk_seed != 0 {
            // The same stream delivered in one read.
            v.push(seed(t, &format!("{name}-whole"), &[limit, 0], body));
        }
    }
    v
}

fn sse_decoder() -> Vec<Seed> {
    let t = "sse_decoder";
    let mut v = Vec::new();
    let streams: [(&str, &[u8]); 12] = [
        (
            "event",
            b"id: 7\nevent: message\ndata: {\"jsonrpc\":\"2.0\"}\n\n",
        ),
        ("priming-event", b"id: 1\ndata: \n\n"),
        ("multiline-data", b"data: a\ndata: b\r\ndata:c\r\rdata\n\n"),
        ("comments", b": keep-alive\n:\n: x\n\n"),
        ("retry-and-control", b"retry: 1500\n\nid: 9\n\nretry: x\n\n"),
        ("bom", b"\xEF\xBB\xBFdata: after bom\n\n"),
        ("partial-bom", b"\xEF\xBBdata: x\n\n"),
        ("id-with-nul", b"id: a\0b\ndata: x\n\n"),
        ("unterminated", b"data: never dispatched"),
        ("crlf-split", b"data: a\r"),
        ("bad-utf8", b"data: \xff\xfe\nevent: \xc3\n\n"),
        (
            "unknown-fields",
            b"foo: bar\nDATA: x\ndata:  two spaces\n\n",
        ),
    ];
    for (name, stream) in streams {
        for (limit, chunk_seed) in [(0xffu8, 0u8), (0x04, 3)] {
            let len = u16::try_from(stream.len()).expect("small");
            let mut header = vec![limit, chunk_seed];
            header.extend_from_slice(&len.to_le_bytes());
            v.push(seed(t, &format!("{name}-l{limit}"), &header, stream));
        }
    }
    // Structured round trips: flags, then each text as a length byte and bytes.
    let structured: [(&str, Vec<u8>); 5] = [
        ("rt-plain", [&[0u8][..], &[5], b"hello", &[0]].concat()),
        (
            "rt-all-fields",
            [
                &[7u8][..],
                &[7],
                b"message",
                &[2],
                b"42",
                &[0x10, 0x27, 3],
                &[9],
                b"a\r\nb\rc\nd",
                &[4],
                b"ping",
            ]
            .concat(),
        ),
        (
            "rt-id-with-newline",
            [&[2u8][..], &[3], b"a\nb", &[1], b"x", &[0]].concat(),
        ),
        (
            "rt-empty-event-name",
            [&[1u8][..], &[0], &[3], b"x\n\n", &[2], b"\r\n"].concat(),
        ),
        (
            "rt-trailing-cr",
            [&[0u8][..], &[4], b"ab\n\r", &[1], b":"].concat(),
        ),
    ];
    for (name, body) in structured {
        v.push(seed(t, name, &[0xff, 0, 0, 0], &body));
    }
    v
}

fn pair_ops() -> Vec<Seed> {
    use Dir::{ToClient, ToServer};
    use Op::*;
    // Also `pair_modern`'s: each target maps the setup byte to its own era.
    let t = "pair_legacy";
    let script = |name: &str, setup: u8, seed: u8, ops: Vec<Op>| Seed {
        target: t,
        name: name.to_owned(),
        bytes: Script { setup, seed, ops }.encode(),
    };
    let call = Send { kind: 1, opts: 0 };
    vec![
        script("connect-only-auto", 0, 0, vec![Flush, Flush]),
        script("connect-only-legacy", 1, 0, vec![Flush, Flush, Flush]),
        script(
            "call-and-answer-modern",
            0,
            0,
            vec![
                Flush,
                call.clone(),
                Flush,
                Respond { pick: 0, how: 0 },
                Flush,
            ],
        ),
        script(
            "call-and-answer-legacy-chunked",
            1,
            5,
            vec![
                Flush,
                Flush,
                call.clone(),
                Send { kind: 0, opts: 1 },
                Flush,
                Respond { pick: 1, how: 0 },
                Respond { pick: 0, how: 2 },
                Flush,
            ],
        ),
        script(
            "queued-before-ready",
            0,
            0,
            vec![
                call.clone(),
                Send { kind: 4, opts: 0 },
                Send { kind: 6, opts: 0 },
                Flush,
                Flush,
                Respond { pick: 0, how: 0 },
                Respond { pick: 0, how: 0 },
                Flush,
            ],
        ),
        script(
            "progress-then-answer",
            1,
            0,
            vec![
                Flush,
                Flush,
                Send { kind: 1, opts: 1 },
                Flush,
                Progress { pick: 0, step: 0 },
                Progress { pick: 0, step: 0 },
                Progress { pick: 0, step: 255 },
                Flush,
                Respond { pick: 0, how: 0 },
                RespondAgain,
                Flush,
            ],
        ),
        script(
            "client-cancel",
            0,
            0,
            vec![
                Flush,
                call.clone(),
                Flush,
                ClientCancel { pick: 0 },
                Flush,
                Respond { pick: 0, how: 0 },
                Flush,
            ],
        ),
        script(
            "cancel-races-answer",
            1,
            2,
            vec![
                Flush,
                Flush,
                call.clone(),
                Flush,
                Respond { pick: 0, how: 0 },
                ClientCancel { pick: 0 },
                Flush,
            ],
        ),
        script(
            "timeouts",
            0,
            0,
            vec![
                Flush,
                call.clone(),
                Drop { dir: ToServer },
                Advance { millis: 500 },
                Advance { millis: 5000 },
                Flush,
            ],
        ),
        script(
            "lost-probe-falls-back",
            0,
            0,
            vec![
                Drop { dir: ToServer },
                call.clone(),
                Advance { millis: 200 },
                Flush,
                Flush,
                Respond { pick: 0, how: 0 },
                Flush,
            ],
        ),
        script(
            "lost-handshake-fails",
            1,
            0,
            vec![
                call.clone(),
                Drop { dir: ToServer },
                Advance { millis: 1000 },
                Flush,
            ],
        ),
        script(
            "duplicate-request",
            0,
            1,
            vec![
                Flush,
                call.clone(),
                Duplicate { dir: ToServer },
                Flush,
                Respond { pick: 0, how: 0 },
                Flush,
            ],
        ),
        script(
            "duplicate-after-answer",
            1,
            1,
            vec![
                Flush,
                Flush,
                call.clone(),
                Duplicate { dir: ToServer },
                Deliver {
                    dir: ToServer,
                    frames: 0,
                },
                Respond { pick: 0, how: 0 },
                Flush,
                Respond { pick: 0, how: 0 },
                RespondAgain,
                Flush,
            ],
        ),
        script(
            "duplicate-response",
            0,
            0,
            vec![
                Flush,
                call.clone(),
                Flush,
                Respond { pick: 0, how: 0 },
                Duplicate { dir: ToClient },
                Flush,
            ],
        ),
        script(
            "truncated-frames",
            0,
            4,
            vec![
                Truncate {
                    dir: ToServer,
                    at: 20,
                },
                call.clone(),
                Flush,
                Truncate {
                    dir: ToClient,
                    at: 7,
                },
                Flush,
                Advance { millis: 1000 },
                Flush,
            ],
        ),
        script(
            "legacy-task",
            1,
            0,
            vec![
                Flush,
                Flush,
                Send { kind: 2, opts: 0 },
                Flush,
                CreateTask { pick: 0, ttl: 30 },
                Flush,
                Send { kind: 11, opts: 0 },
                Send { kind: 14, opts: 0 },
                Send { kind: 13, opts: 0 },
                Flush,
                TaskStep { pick: 0, how: 0 },
                TaskStep { pick: 0, how: 1 },
                Flush,
            ],
        ),
        script(
            "modern-task",
            0,
            0,
            vec![
                Flush,
                call.clone(),
                Flush,
                CreateTask { pick: 0, ttl: 0 },
                Flush,
                Send { kind: 11, opts: 0 },
                Send { kind: 18, opts: 0 },
                Flush,
                TaskStep { pick: 0, how: 3 },
                Send { kind: 12, opts: 0 },
                Flush,
                TaskStep { pick: 0, how: 1 },
                Flush,
            ],
        ),
        script(
            "task-expiry",
            0x21,
            0,
            vec![
                Flush,
                Flush,
                Send { kind: 2, opts: 0 },
                Flush,
                CreateTask { pick: 0, ttl: 5 },
                Send { kind: 14, opts: 2 },
                Flush,
                Advance { millis: 2000 },
                Flush,
            ],
        ),
        script(
            "listen-stream",
            0,
            0,
            vec![
                Flush,
                Send { kind: 10, opts: 0 },
                Flush,
                Notify { kind: 0 },
                Flush,
                Notify { kind: 3 },
                CloseSubscription { pick: 0 },
                Flush,
            ],
        ),
        script(
            "listen-cancelled-by-client",
            0,
            0,
            vec![
                Flush,
                Send { kind: 10, opts: 0 },
                Flush,
                ClientCancel { pick: 0 },
                Flush,
            ],
        ),
        script(
            "server-asks",
            1,
            0,
            vec![
                Flush,
                Flush,
                Ask {
                    kind: 0,
                    related: false,
                },
                Ask {
                    kind: 1,
                    related: false,
                },
                Ask {
                    kind: 2,
                    related: false,
                },
                Ask {
                    kind: 3,
                    related: false,
                },
                Flush,
                ClientAnswer {
                    pick: 0,
                    refuse: false,
                },
                ClientAnswer {
                    pick: 0,
                    refuse: true,
                },
                Flush,
            ],
        ),
        script(
            "server-ask-cancelled",
            1,
            0,
            vec![
                Flush,
                Flush,
                call.clone(),
                Flush,
                Ask {
                    kind: 1,
                    related: true,
                },
                Flush,
                CancelAsk { pick: 0 },
                Flush,
                ClientAnswer {
                    pick: 0,
                    refuse: false,
                },
                Flush,
            ],
        ),
        script(
            "server-ask-times-out",
            1,
            0,
            vec![
                Flush,
                Flush,
                Ask {
                    kind: 2,
                    related: false,
                },
                Drop { dir: ToClient },
                Advance { millis: 1000 },
                Flush,
            ],
        ),
        script(
            "input-required",
            0,
            0,
            vec![
                Flush,
                call.clone(),
                Send { kind: 4, opts: 0 },
                Flush,
                Respond { pick: 0, how: 3 },
                Respond { pick: 0, how: 3 },
                Flush,
            ],
        ),
        script(
            "legacy-only-server-modern-client",
            0x06,
            0,
            vec![call.clone(), Flush, Flush, Advance { millis: 1000 }],
        ),
        script(
            "batch-era-server",
            0x0c,
            0,
            vec![
                Flush,
                Flush,
                call.clone(),
                Send { kind: 9, opts: 0 },
                Flush,
                Respond { pick: 0, how: 0 },
                Flush,
            ],
        ),
        script(
            "busy-server",
            0x81,
            3,
            vec![
                Flush,
                Flush,
                call.clone(),
                call.clone(),
                call.clone(),
                call.clone(),
                call.clone(),
                call.clone(),
                Flush,
                Respond { pick: 2, how: 0 },
                Flush,
            ],
        ),
        script(
            "no-timeout-request",
            0,
            0,
            vec![
                Flush,
                Send { kind: 1, opts: 2 },
                Drop { dir: ToServer },
                Advance { millis: 60000 },
                Flush,
            ],
        ),
        script(
            "everything-once",
            1,
            9,
            (0..crate_kinds())
                .map(|k| Send { kind: k, opts: k })
                .chain([
                    Flush,
                    Flush,
                    Respond { pick: 0, how: 0 },
                    Respond { pick: 1, how: 1 },
                    Respond { pick: 2, how: 2 },
                    Flush,
                    Advance { millis: 300 },
                    Flush,
                ])
                .collect(),
        ),
    ]
}

fn crate_kinds() -> u8 {
    super::fixtures::CLIENT_REQUEST_KINDS
}

/// Front-door requests of both eras, and stream scripts (legacy resume, modern cancel).
fn http_exchange() -> Vec<Seed> {
    let t = "http_exchange";
    let modern = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let init = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#;
    // [mode=front, stateless, method=POST, header count, (name, value index)..., length(2)]
    let mut out = vec![
        seed(
            t,
            "modern-post",
            &[0, 0, 0, 4, 0, 0, 5, 4, 6, 6, 7, 7, 1, 0],
            modern,
        ),
        seed(t, "legacy-init", &[0, 0, 0, 2, 0, 0, 2, 2, 1, 0], init),
        seed(t, "evil-host", &[0, 0, 0, 1, 0, 9, 1, 0], init),
        seed(t, "resume-get", &[0, 0, 1, 3, 0, 0, 4, 11, 8, 8, 0, 0], b""),
    ];
    // [mode=streams, stream mode, keep-alive, max_queued, store max, ops...]
    // Each op: [request id, stream id, op, operands...].
    let legacy_ops: &[u8] = &[
        1, 0, 0, // open request 1 (stream 1)
        1, 1, 1, 1, 1, 3, b'{', b'}', b'\n', // notification on request 1
        1, 1, 2, // head
        1, 1, 3, // read
        1, 1, 4, // detach
        1, 1, 1, 2, 1, 3, b'{', b'}', b'\n', // result on request 1
        1, 1, 6, 0, // resume 1:0
        1, 1, 3, // read to the end
    ];
    out.push(seed(t, "legacy-resume", &[1, 4 | 8, 10, 8, 16], legacy_ops));
    let modern_ops: &[u8] = &[
        2, 0, 0, // open request 2
        2, 1, 1, 1, 1, 2, b'{', b'}', // notification
        2, 1, 2, // head: SSE
        0, 0, 8, 200, // time passes: keep-alive
        2, 1, 3, // read
        2, 1, 4, // detach: cancels
    ];
    out.push(seed(t, "modern-cancel", &[1, 1, 10, 8, 0], modern_ops));
    let call = br#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    out.push(seed(t, "stateless-post", &[0, 1, 0, 1, 5, 5, 1, 0], call));
    out.push(seed(t, "delete", &[0, 0, 2, 2, 0, 0, 4, 11, 0, 0], b""));
    out.push(seed(t, "not-json", &[0, 0, 0, 1, 4, 11, 1, 0], b"{nope"));
    out.push(seed(t, "huge-length", &[0, 0, 0, 1, 0, 0, 255, 255], init));
    let polling_ops: &[u8] = &[
        3, 0, 0, // open request 3
        3, 1, 7, // close for polling
        3, 1, 3, // read: priming, then end
        3, 1, 1, 1, 1, 2, b'{', b'}', // result after the cut
        3, 1, 6, 0, // resume 1:0
        3, 1, 3, // read to the end
    ];
    out.push(seed(t, "polling-cut", &[1, 4, 10, 8, 16], polling_ops));
    let backlog_ops: &[u8] = &[
        0, 0, 1, 0, 1, 0, 1, 2, b'{', b'}', // session frames before any GET
        0, 0, 1, 0, 1, 0, 1, 2, b'{', b'}', 0, 0, 9, // open the standalone stream
        0, 0, 3, // read it
        0, 0, 4, // drop it
    ];
    out.push(seed(t, "get-backlog", &[1, 4, 10, 2, 4], backlog_ops));
    out
}

/// OAuth flows: a start byte, then per step a status byte, a body kind and its choices.
fn auth_flow() -> Vec<Seed> {
    let t = "auth_flow";
    vec![
        // Challenge with a PRM URL; PRM ok; metadata ok (S256); store empty; registration;
        // redirect with state and iss; token.
        seed(
            t,
            "code-flow",
            &[
                0, 0, 7, 1, 0, 0, 1, 7, 2, 0, 0, 0, 0, 0, 0, 0, 1, 7, 3, 0, 0, 0, 0, 1, 0, 0, 0, 7,
                3, 0, 0, 0, 0, 1,
            ],
            b"",
        ),
        seed(
            t,
            "refresh",
            &[1, 7, 2, 0, 0, 0, 0, 0, 0, 0, 1, 7, 3, 0, 0, 0, 0, 1],
            b"",
        ),
        seed(
            t,
            "refresh-foreign-client",
            &[1, 7, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2, 7, 3, 0, 0, 0, 0, 1],
            b"",
        ),
        seed(t, "resource-mismatch", &[0, 0, 7, 1, 2, 0, 1], b""),
        seed(
            t,
            "issuer-mismatch",
            &[0, 0, 7, 1, 0, 0, 1, 7, 2, 2, 0, 0, 0, 0, 0, 1],
            b"",
        ),
        seed(
            t,
            "evil-token-endpoint",
            &[0, 0, 7, 1, 0, 0, 1, 7, 2, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1],
            b"",
        ),
        seed(
            t,
            "iss-trailing-slash",
            &[0, 0, 7, 1, 0, 0, 1, 7, 2, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1],
            b"",
        ),
        seed(
            t,
            "forged-state",
            &[0, 0, 7, 1, 0, 0, 1, 7, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1],
            b"",
        ),
        seed(
            t,
            "no-prm-legacy",
            &[0, 2, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1],
            b"",
        ),
        seed(t, "raw-garbage", &[0, 1, 7, 0, 8, 1], b"{\"issuer\":"),
        seed(
            t,
            "transport-cuts",
            &[0, 0, 7, 1, 0, 0, 0, 7, 1, 0, 0, 16],
            b"",
        ),
        seed(
            t,
            "step-up-plain-pkce",
            &[0, 1, 7, 1, 0, 0, 1, 7, 2, 0, 0, 0, 1, 0, 0, 1],
            b"",
        ),
    ]
}
