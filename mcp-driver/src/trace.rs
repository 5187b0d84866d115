//! Diagnostics through `tracing`, with the `tracing` feature: a span per connection and per
//! request, events for peer faults, refused requests, handler panics, reconnects and auth
//! decisions. Every event has the target `mcp`.
//!
//! Without the feature the macros here expand to nothing, [`Span`] is a zero-sized stand-in
//! and [`instrument`] returns its future unchanged: no code on the hot path, and `tracing`
//! is not a dependency at all.
//!
//! Levels: `error` for handler panics, `warn` for peer faults and a lost HTTP session,
//! `info` for connections, reconnects, refusals and auth decisions, `debug` for requests.

// With neither side built nothing here is used.
#![cfg_attr(
    not(any(feature = "server", feature = "client")),
    allow(unused_macros, unused_imports)
)]

use std::future::Future;

#[cfg(feature = "tracing")]
pub(crate) use tracing::Span;

/// Stand-in for `tracing::Span` without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Span;

/// `fut`, entering `span` whenever it is polled.
#[cfg(feature = "tracing")]
pub(crate) fn instrument<F: Future>(fut: F, span: Span) -> tracing::instrument::Instrumented<F> {
    tracing::Instrument::instrument(fut, span)
}

/// `fut` itself: there is no span without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
pub(crate) fn instrument<F: Future>(fut: F, _span: Span) -> F {
    fut
}

/// An event at `$level` (`error`, `warn`, `info`, `debug`, `trace`) with `tracing`'s field
/// syntax; nothing without the feature (its arguments are not evaluated).
#[cfg(feature = "tracing")]
macro_rules! event {
    ($level:ident, $($arg:tt)+) => {
        ::tracing::$level!(target: "mcp", $($arg)+)
    };
}

#[cfg(not(feature = "tracing"))]
macro_rules! event {
    ($level:ident, $($arg:tt)+) => {
        ()
    };
}

/// A span (`$kind` is `info_span`, `debug_span`, ...) with `tracing`'s field syntax; the
/// zero-sized stand-in without the feature.
#[cfg(feature = "tracing")]
macro_rules! span {
    ($kind:ident, $($arg:tt)+) => {
        ::tracing::$kind!(target: "mcp", $($arg)+)
    };
}

#[cfg(not(feature = "tracing"))]
macro_rules! span {
    ($kind:ident, $($arg:tt)+) => {
        $crate::trace::Span
    };
}

pub(crate) use {event, span};

/// The era as a span field value.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) fn era(era: mcp_proto::schema::Era) -> &'static str {
    match era {
        mcp_proto::schema::Era::Legacy => "legacy",
        mcp_proto::schema::Era::Modern => "modern",
    }
}

/// An HTTP client transport event: reconnects at `info`, failures at `warn`.
#[cfg(all(feature = "http", feature = "client"))]
pub(crate) fn http_client_event(_e: &mcp_proto::http::HttpClientEvent) {
    #[cfg(feature = "tracing")]
    {
        use mcp_proto::http::HttpClientEvent as E;
        match _e {
            E::SessionExpired => event!(info, "http: session expired, reinitializing"),
            E::Reinitialized => event!(info, "http: reconnected with a new session"),
            E::LegacySseTransport { endpoint } => {
                event!(info, %endpoint, "http: server speaks the 2024-11-05 HTTP+SSE transport")
            }
            E::Failed(error) => event!(warn, %error, "http: connection failed"),
            E::ExchangeFailed { what, error } => {
                event!(warn, %what, %error, "http: exchange failed")
            }
            E::ToolRejected { tool, reason } => event!(warn, %tool, %reason, "http: tool rejected"),
            #[allow(unreachable_patterns)]
            other => event!(debug, event = ?other, "http: client event"),
        }
    }
}

/// An HTTP server response: a refusal (4xx) at `info`, a server error at `warn`.
#[cfg(all(feature = "http", feature = "server"))]
pub(crate) fn http_response(_status: u16) {
    #[cfg(feature = "tracing")]
    match _status {
        400..=499 => event!(info, status = _status, "http: request refused"),
        500.. => event!(warn, status = _status, "http: server error"),
        _ => {}
    }
}
