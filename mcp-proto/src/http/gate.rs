//! The front door: which HTTP requests are acceptable and which session serves them.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{decode_header_value, header, Headers, Method, Response};
use crate::jsonrpc::{code, ErrorObject, RawMessage, RequestId};
use crate::schema::{Era, ProtocolVersion};

/// Which browser origins may call the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// Any origin (only sensible behind an authenticating proxy).
    Any,
    /// Origins whose host is a loopback name or address (the default).
    Loopback,
    /// Exactly these origins (`scheme://host[:port]`), plus loopback ones.
    List(Vec<String>),
}

/// Limits and policies of a streamable HTTP server. The defaults protect a server bound to
/// loopback: only loopback `Host`s and `Origin`s, 4 MiB bodies, 1024 sessions idle-expiring
/// after 10 minutes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpServerConfig {
    /// The MCP endpoint's path.
    pub path: String,
    /// Accepted `Host` header values (host names, with or without port). `None` accepts any
    /// host; the default accepts loopback names only (DNS-rebinding protection).
    pub allowed_hosts: Option<Vec<String>>,
    /// Accepted `Origin`s; requests without `Origin` (non-browser clients) always pass.
    pub allowed_origins: Origins,
    /// Largest request body; larger ones get 413.
    pub max_body: usize,
    /// Most legacy sessions at once; `initialize` beyond it gets 503.
    pub max_sessions: usize,
    /// A legacy session with no open stream and no request for this long is ended.
    pub session_idle_timeout: Duration,
    /// A legacy session that sent nothing after `initialize` ends after this much idleness
    /// (never longer than `session_idle_timeout`); at the session cap such sessions are the
    /// first evicted.
    pub probation_idle_timeout: Duration,
    /// Most concurrent response streams per legacy session; more get 429.
    pub max_streams_per_session: usize,
    /// Most requests answering or streams open at once across the server, both eras; more
    /// get 503 (bounds what a flood of slow or long-lived requests can hold).
    pub max_streams: usize,
    /// Most long-lived listening streams at once (legacy GET streams and 2026-07-28
    /// `subscriptions/listen`); more get 503. Kept below `max_streams` so listeners cannot
    /// take the slots ordinary requests need.
    pub max_listen_streams: usize,
    /// How long reading a request body may take; a slower client gets 408 (a peer announcing
    /// a large body and sending a byte a minute must not hold a connection forever).
    pub body_timeout: Duration,
    /// Legacy: answer every request with a JSON body, never SSE.
    pub json_response: bool,
    /// Legacy: no sessions; every message is served on its own, without a handshake.
    pub stateless: bool,
    /// Limits of SSE streams.
    pub streams: super::StreamConfig,
}

crate::__config_setters!(HttpServerConfig {
    with_path => path: String,
    with_allowed_hosts => allowed_hosts: Option<Vec<String>>,
    with_allowed_origins => allowed_origins: Origins,
    with_max_body => max_body: usize,
    with_max_sessions => max_sessions: usize,
    with_session_idle_timeout => session_idle_timeout: Duration,
    with_probation_idle_timeout => probation_idle_timeout: Duration,
    with_max_streams_per_session => max_streams_per_session: usize,
    with_max_streams => max_streams: usize,
    with_max_listen_streams => max_listen_streams: usize,
    with_body_timeout => body_timeout: Duration,
    with_json_response => json_response: bool,
    with_stateless => stateless: bool,
    with_streams => streams: super::StreamConfig,
});

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            path: "/mcp".to_owned(),
            allowed_hosts: Some(vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "[::1]".to_owned(),
            ]),
            allowed_origins: Origins::Loopback,
            max_body: 4 * 1024 * 1024,
            max_sessions: 1024,
            session_idle_timeout: Duration::from_secs(600),
            probation_idle_timeout: Duration::from_secs(60),
            max_streams_per_session: 32,
            max_streams: 4096,
            max_listen_streams: 2048,
            body_timeout: Duration::from_secs(30),
            json_response: false,
            stateless: false,
            streams: super::StreamConfig::default(),
        }
    }
}

/// What to do with an acceptable request.
#[derive(Debug, Clone, PartialEq)]
pub enum Exchange {
    /// A 2026-07-28 message: serve it on a fresh session of its own. `id` is `None` for a
    /// notification (answer 202 once the session took it).
    Modern {
        /// The request's id.
        id: Option<RequestId>,
        /// It is `subscriptions/listen` (the one request that outlives its answer's start
        /// and receives server notifications later).
        listen: bool,
        /// The tool of a `tools/call` (whose `Mcp-Param-*` headers the server may check).
        tool: Option<String>,
    },
    /// A legacy `initialize`: open a session, feed it the body.
    Initialize {
        /// The request's id.
        id: RequestId,
    },
    /// A legacy message for an existing session.
    Legacy {
        /// The `Mcp-Session-Id`.
        session: String,
        /// The request's id; `None` for notifications and responses (answer 202).
        id: Option<RequestId>,
    },
    /// A legacy message on a stateless server: a fresh session that assumes `version`.
    Stateless {
        /// The version from the `MCP-Protocol-Version` header (or the oldest with HTTP);
        /// `None` for `initialize` itself, which the fresh session answers normally.
        version: Option<ProtocolVersion>,
        /// The request's id; `None` for notifications and responses.
        id: Option<RequestId>,
    },
    /// Legacy GET: the server-message stream, or a resumption.
    Listen {
        /// The `Mcp-Session-Id`.
        session: String,
        /// Where to resume, if the client asks to.
        last_event_id: Option<String>,
    },
    /// Legacy DELETE: end the session.
    End {
        /// The `Mcp-Session-Id`.
        session: String,
    },
}

/// The stateless front door of a streamable HTTP server.
#[derive(Debug, Clone, Default)]
pub struct HttpServer {
    config: HttpServerConfig,
}

#[derive(Deserialize)]
struct MetaProbe<'a> {
    #[serde(rename = "_meta", default, borrow)]
    meta: Option<MetaFields<'a>>,
    #[serde(default, borrow)]
    name: Option<&'a RawValue>,
    #[serde(default, borrow)]
    uri: Option<&'a RawValue>,
    #[serde(rename = "taskId", default, borrow)]
    task_id: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct MetaFields<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", default, borrow)]
    version: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", default, borrow)]
    capabilities: Option<&'a RawValue>,
}

fn mismatch(id: Option<&RequestId>, message: String) -> Response {
    Response::rpc_error_for(400, id, &ErrorObject::new(code::HEADER_MISMATCH, message))
}

impl HttpServer {
    /// A front door with this configuration.
    pub fn new(config: HttpServerConfig) -> Self {
        HttpServer { config }
    }

    /// The configuration.
    pub fn config(&self) -> &HttpServerConfig {
        &self.config
    }

    /// Checks what can be checked before the body is read: path, method, `Host`, `Origin`,
    /// and the announced body length. `Err` is the response to send.
    pub fn check_head(
        &self,
        method: Method,
        path: &str,
        headers: &(impl Headers + ?Sized),
        content_length: Option<u64>,
    ) -> Result<(), Response> {
        let path_only = path.split('?').next().unwrap_or(path);
        if path_only != self.config.path {
            return Err(Response::status(404));
        }
        if !self.host_allowed(headers.get_str(header::HOST)) {
            return Err(Response::rpc_error(
                403,
                &ErrorObject::invalid_request("Host not allowed"),
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            if !self.origin_allowed(origin) {
                return Err(Response::rpc_error(
                    403,
                    &ErrorObject::invalid_request("Origin not allowed"),
                ));
            }
        }
        match method {
            Method::Post => {
                if content_length.is_some_and(|n| n > self.config.max_body as u64) {
                    return Err(self.too_large());
                }
                Ok(())
            }
            Method::Get | Method::Delete => Ok(()),
            Method::Other => Err(Response::status(405).with_header("allow", "GET, POST, DELETE")),
        }
    }

    /// The 408 response for a body not read within `body_timeout`.
    pub fn too_slow(&self) -> Response {
        Response::rpc_error(
            408,
            &ErrorObject::invalid_request(format!(
                "request body not received within {:?}",
                self.config.body_timeout
            )),
        )
        .with_header("connection", "close")
    }

    /// The 413 response for a body over the limit (also when a body without a length grows
    /// past it while being read).
    pub fn too_large(&self) -> Response {
        Response::rpc_error(
            413,
            &ErrorObject::invalid_request(format!(
                "request body exceeds {} bytes",
                self.config.max_body
            )),
        )
    }

    fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(allowed) = &self.config.allowed_hosts else {
            return true;
        };
        let Some(host) = host else { return false };
        let name = strip_port(host);
        allowed
            .iter()
            .any(|a| a.eq_ignore_ascii_case(host) || a.eq_ignore_ascii_case(name))
    }

    fn origin_allowed(&self, origin: &[u8]) -> bool {
        let Ok(origin) = std::str::from_utf8(origin) else {
            return false;
        };
        let loopback = || {
            let rest = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            rest.is_some_and(|r| is_loopback(strip_port(r.trim_end_matches('/'))))
        };
        match &self.config.allowed_origins {
            Origins::Any => true,
            Origins::Loopback => loopback(),
            Origins::List(list) => {
                loopback()
                    || list
                        .iter()
                        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
            }
        }
    }

    /// Decides what a request means, given its already size-checked body (empty for GET and
    /// DELETE). `Err` is the response to send without involving any session.
    pub fn classify(
        &self,
        method: Method,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
    ) -> Result<Exchange, Response> {
        self.classify_message(method, headers, body).map(|(e, _)| e)
    }

    /// [`classify`](Self::classify), also returning the message the body was parsed into when
    /// there is one (not for a batch), so the session can take it as it is
    /// ([`ServerSession::handle_parsed`](crate::session::ServerSession::handle_parsed))
    /// instead of parsing the body again.
    pub fn classify_message<'b>(
        &self,
        method: Method,
        headers: &(impl Headers + ?Sized),
        body: &'b [u8],
    ) -> Result<(Exchange, Option<RawMessage<'b>>), Response> {
        let session = headers
            .get_str(header::SESSION_ID)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        match method {
            Method::Get | Method::Delete => {
                let Some(session) = session else {
                    return Err(if self.config.stateless {
                        Response::status(405).with_header("allow", "POST")
                    } else {
                        Response::rpc_error(
                            400,
                            &ErrorObject::invalid_request("missing Mcp-Session-Id header"),
                        )
                    });
                };
                if method == Method::Delete {
                    return Ok((Exchange::End { session }, None));
                }
                if !accepts(headers, "text/event-stream") {
                    return Err(Response::rpc_error(
                        406,
                        &ErrorObject::invalid_request("GET needs Accept: text/event-stream"),
                    ));
                }
                let last_event_id = headers
                    .get_str(header::LAST_EVENT_ID)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
                return Ok((
                    Exchange::Listen {
                        session,
                        last_event_id,
                    },
                    None,
                ));
            }
            Method::Other => return Err(Response::status(405)),
            Method::Post => {}
        }
        if let Some(ct) = headers.get_str(header::CONTENT_TYPE) {
            let mime = ct.split(';').next().unwrap_or("").trim();
            if !mime.eq_ignore_ascii_case("application/json") {
                return Err(Response::rpc_error(
                    415,
                    &ErrorObject::invalid_request("Content-Type must be application/json"),
                ));
            }
        }
        let Ok(text) = std::str::from_utf8(body) else {
            return Err(Response::rpc_error(
                400,
                &ErrorObject::parse_error("body is not valid UTF-8"),
            ));
        };
        let header_version = headers.get_str(header::PROTOCOL_VERSION).map(str::trim);
        let parsed_header = header_version.and_then(ProtocolVersion::parse);
        if text.trim_start().starts_with('[') {
            // Batches (2025-03-26 only) go to their session as they are.
            let Some(session) = session else {
                return Err(Response::rpc_error(
                    400,
                    &ErrorObject::invalid_request("batches need a session"),
                ));
            };
            return Ok((Exchange::Legacy { session, id: None }, None));
        }
        let msg = match RawMessage::parse(text) {
            Ok(m) => m,
            Err(e) => return Err(Response::rpc_error_for(400, e.id.as_ref(), &e.error)),
        };
        let (id, method_name, params) = match &msg {
            RawMessage::Request { id, method, params } => (Some(id), Some(&**method), *params),
            RawMessage::Notification { method, params } => (None, Some(&**method), *params),
            _ => (None, None, None),
        };
        let probe = params.and_then(|p| serde_json::from_str::<MetaProbe<'_>>(p.get()).ok());
        let body_version = probe
            .as_ref()
            .and_then(|p| p.meta.as_ref())
            .and_then(|m| m.version)
            .map(|v| v.get());
        let header_modern = parsed_header.is_some_and(|v| v.era() == Era::Modern);
        let modern = header_modern
            || (body_version.is_some() && method_name != Some("initialize") && session.is_none());
        if modern {
            let Some(method_name) = method_name else {
                return Err(Response::rpc_error(
                    400,
                    &ErrorObject::invalid_request("responses are not accepted on 2026-07-28"),
                ));
            };
            self.check_modern(id, method_name, headers, probe.as_ref())?;
            return Ok((
                Exchange::Modern {
                    id: id.cloned(),
                    listen: method_name == "subscriptions/listen",
                    tool: (method_name == "tools/call")
                        .then(|| probe.as_ref().and_then(|p| p.name))
                        .flatten()
                        .and_then(|n| serde_json::from_str(n.get()).ok()),
                },
                Some(msg),
            ));
        }
        if self.config.stateless {
            let version = match (header_version, parsed_header) {
                (None, _) => ProtocolVersion::V2025_03_26,
                (Some(_), Some(v)) => v,
                (Some(v), None) => return Err(unsupported_legacy(id, v)),
            };
            let handshake = method_name == Some("initialize");
            return Ok((
                Exchange::Stateless {
                    version: (!handshake).then_some(version),
                    id: id.cloned(),
                },
                Some(msg),
            ));
        }
        if let (Some(v), None) = (header_version, parsed_header) {
            return Err(unsupported_legacy(id, v));
        }
        match (session, method_name) {
            (None, Some("initialize")) => match id {
                Some(id) => Ok((Exchange::Initialize { id: id.clone() }, Some(msg))),
                None => Err(Response::rpc_error(
                    400,
                    &ErrorObject::invalid_request("initialize must be a request"),
                )),
            },
            (Some(_), Some("initialize")) => Err(Response::rpc_error_for(
                400,
                id,
                &ErrorObject::invalid_request("initialize must not carry Mcp-Session-Id"),
            )),
            (Some(session), _) => Ok((
                Exchange::Legacy {
                    session,
                    id: id.cloned(),
                },
                Some(msg),
            )),
            (None, _) => Err(Response::rpc_error_for(
                400,
                id,
                &ErrorObject::invalid_request("missing Mcp-Session-Id header"),
            )),
        }
    }

    /// 2026-07-28 header rules: the mirrored headers must be present and match the body.
    fn check_modern(
        &self,
        id: Option<&RequestId>,
        method: &str,
        headers: &(impl Headers + ?Sized),
        probe: Option<&MetaProbe<'_>>,
    ) -> Result<(), Response> {
        if crate::schema::messages::method::REMOVED_IN_MODERN.contains(&method) {
            // Unknown to this revision, whatever its params say: 404 tells a client it
            // reached a modern endpoint that lacks the method (not a legacy server).
            return Err(Response::rpc_error_for(
                404,
                id,
                &ErrorObject::method_not_found(method),
            ));
        }
        let meta = probe.and_then(|p| p.meta.as_ref());
        let body_version = meta.and_then(|m| m.version);
        if id.is_some() {
            let Some(body_version) = body_version else {
                return Err(Response::rpc_error_for(
                    400,
                    id,
                    &ErrorObject::invalid_params(
                        "missing _meta[\"io.modelcontextprotocol/protocolVersion\"]",
                    ),
                ));
            };
            if meta.and_then(|m| m.capabilities).is_none() {
                return Err(Response::rpc_error_for(
                    400,
                    id,
                    &ErrorObject::invalid_params(
                        "missing _meta[\"io.modelcontextprotocol/clientCapabilities\"]",
                    ),
                ));
            }
            let body_version: Option<&str> = serde_json::from_str(body_version.get()).ok();
            match (headers.get_str(header::PROTOCOL_VERSION), body_version) {
                (None, _) => {
                    return Err(mismatch(id, "missing MCP-Protocol-Version header".into()))
                }
                (Some(h), Some(b)) if h.trim() == b => {}
                (Some(h), b) => {
                    return Err(mismatch(
                        id,
                        format!(
                            "MCP-Protocol-Version header '{}' does not match body value '{}'",
                            h.trim(),
                            b.unwrap_or("")
                        ),
                    ))
                }
            }
        }
        match headers.get(header::METHOD).map(decode_header_value) {
            None => return Err(mismatch(id, "missing Mcp-Method header".into())),
            Some(None) => return Err(mismatch(id, "invalid Mcp-Method header".into())),
            Some(Some(h)) if h == method => {}
            Some(Some(h)) => {
                return Err(mismatch(
                    id,
                    format!("Mcp-Method header '{h}' does not match body value '{method}'"),
                ))
            }
        }
        let target = match method {
            "tools/call" | "prompts/get" => probe.and_then(|p| p.name),
            "resources/read" => probe.and_then(|p| p.uri),
            // The tasks extension routes on the task (SEP-2663).
            "tasks/get" | "tasks/update" | "tasks/cancel" => probe.and_then(|p| p.task_id),
            _ => return Ok(()),
        };
        let target: Option<String> = target.and_then(|t| serde_json::from_str(t.get()).ok());
        let Some(target) = target else {
            // The session reports the missing param as -32602.
            return Ok(());
        };
        match headers.get(header::NAME).map(decode_header_value) {
            None => Err(mismatch(id, "missing Mcp-Name header".into())),
            Some(None) => Err(mismatch(id, "invalid Mcp-Name header".into())),
            Some(Some(h)) if h == target => Ok(()),
            Some(Some(h)) => Err(mismatch(
                id,
                format!("Mcp-Name header '{h}' does not match body value '{target}'"),
            )),
        }
    }
}

fn unsupported_legacy(id: Option<&RequestId>, v: &str) -> Response {
    Response::rpc_error_for(
        400,
        id,
        &ErrorObject::invalid_request(format!("unsupported MCP-Protocol-Version '{v}'")),
    )
}

/// Whether the Accept header lists `mime` (or a wildcard); a missing header accepts all.
fn accepts(headers: &(impl Headers + ?Sized), mime: &str) -> bool {
    let Some(accept) = headers.get_str(header::ACCEPT) else {
        return true;
    };
    accept.split(',').any(|part| {
        let m = part.split(';').next().unwrap_or("").trim();
        m.eq_ignore_ascii_case(mime) || m == "*/*" || m.eq_ignore_ascii_case("text/*")
    })
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    match host.rfind(':') {
        Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &host[..i],
        _ => host,
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> HttpServer {
        HttpServer::new(HttpServerConfig::default())
    }

    #[test]
    fn host_and_origin_protect_loopback() {
        let s = server();
        let ok = [("host", "127.0.0.1:3000")];
        assert!(s.check_head(Method::Post, "/mcp", &ok, None).is_ok());
        let evil = [("host", "evil.example.com")];
        assert_eq!(
            s.check_head(Method::Post, "/mcp", &evil, None)
                .unwrap_err()
                .status,
            403
        );
        let evil_origin = [
            ("host", "localhost:1"),
            ("origin", "http://evil.example.com"),
        ];
        assert_eq!(
            s.check_head(Method::Post, "/mcp", &evil_origin, None)
                .unwrap_err()
                .status,
            403
        );
        let good_origin = [("host", "localhost:1"), ("origin", "http://localhost:5173")];
        assert!(s
            .check_head(Method::Post, "/mcp", &good_origin, None)
            .is_ok());
        assert_eq!(
            s.check_head(Method::Post, "/other", &ok, None)
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            s.check_head(Method::Post, "/mcp", &ok, Some(5 << 20))
                .unwrap_err()
                .status,
            413
        );
    }

    #[test]
    fn modern_headers_must_match_the_body() {
        let s = server();
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
        let good = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "add"),
        ];
        assert_eq!(
            s.classify(Method::Post, &good, body).unwrap(),
            Exchange::Modern {
                id: Some(RequestId::Number(1)),
                listen: false,
                tool: Some("add".into())
            }
        );
        let encoded = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?YWRk?="),
        ];
        // The sentinel form decodes to the body's name ("add"), and that is the tool named.
        assert_eq!(
            s.classify(Method::Post, &encoded, body).unwrap(),
            Exchange::Modern {
                id: Some(RequestId::Number(1)),
                listen: false,
                tool: Some("add".into())
            }
        );
        let encoded_other = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?c3Vi?="),
        ];
        assert!(
            s.classify(Method::Post, &encoded_other, body).is_err(),
            "an encoded name that decodes to another tool (\"sub\") must be refused"
        );
        for bad in [
            [
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/list"),
                ("mcp-name", "add"),
            ],
            [
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "sub"),
            ],
            [
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("x-other", "1"),
            ],
        ] {
            let r = s.classify(Method::Post, &bad, body).unwrap_err();
            assert_eq!(r.status, 400);
            let Body::Full(b) = &r.body else { panic!() };
            assert!(std::str::from_utf8(b).unwrap().contains("-32020"));
        }
    }

    #[test]
    fn legacy_routing() {
        let s = server();
        let init = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#;
        assert!(matches!(
            s.classify(Method::Post, &[("accept", "application/json")], init),
            Ok(Exchange::Initialize { .. })
        ));
        let call = br#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
        assert_eq!(
            s.classify(Method::Post, &[("x", "y")], call)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            s.classify(Method::Post, &[("mcp-session-id", "abc")], call)
                .unwrap(),
            Exchange::Legacy {
                session: "abc".into(),
                id: Some(RequestId::Number(2))
            }
        );
        assert_eq!(
            s.classify(Method::Post, &[("mcp-session-id", "abc")], b"{nope")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            s.classify(
                Method::Get,
                &[("mcp-session-id", "abc"), ("last-event-id", "3:7")],
                b""
            )
            .unwrap(),
            Exchange::Listen {
                session: "abc".into(),
                last_event_id: Some("3:7".into())
            }
        );
    }

    use super::super::Body;
}
