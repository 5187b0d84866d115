//! A legacy session between its `initialize` answer and the client's next message, kept as
//! a compact record.
//!
//! Most sessions a flood opens never send a second message. Keeping each as a full session
//! (decoder, outbox, tables, the transport's streams and task) costs kilobytes; the record
//! keeps only what the handshake decided, and [`ServerSession::revive`] rebuilds the session
//! when the client comes back, in the very state the handshake left it.

use super::*;

/// What a legacy session's handshake decided: its version and what the client declared.
/// Made by [`ServerSession::to_dormant`], turned back into a session by
/// [`ServerSession::revive`].
#[derive(Debug, Clone, PartialEq)]
pub struct DormantSession {
    version: ProtocolVersion,
    client: Box<(Implementation, ClientCapabilities)>,
}

impl DormantSession {
    /// The negotiated protocol version.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The client's `clientInfo`.
    pub fn client_info(&self) -> &Implementation {
        &self.client.0
    }
}

impl ServerSession {
    /// The session as a compact record, when nothing happened on it but the `initialize`
    /// answer (already polled): the client has not sent `notifications/initialized`, nothing
    /// is in flight or queued, no task, subscription or owner tag exists. `None` otherwise.
    pub fn to_dormant(&self) -> Option<DormantSession> {
        let legacy = self.legacy.as_ref()?;
        let untouched = legacy.phase == Phase::AwaitingInitialized
            && legacy.log_level.is_none()
            && !self.closed
            && self.incoming.is_empty()
            && self.events.is_empty()
            && self.outbox.is_idle()
            && self.outgoing.len() == 0
            && self.subscriptions.is_empty()
            && self.resource_subscriptions.is_empty()
            && self.tasks.is_empty()
            && self.task_waiters.is_empty()
            && self.task_asks.is_empty()
            && self.scope.is_none();
        untouched.then(|| DormantSession {
            version: legacy.version,
            client: Box::new((legacy.client_info.clone(), legacy.capabilities.clone())),
        })
    }

    /// A session rebuilt from `record`: as [`ServerSession::new`], then in the state its
    /// `initialize` left it (awaiting `notifications/initialized`).
    pub fn revive(
        config: impl Into<SharedServerConfig>,
        now: Instant,
        wall: SystemTime,
        entropy: Box<dyn Entropy>,
        record: DormantSession,
    ) -> Self {
        let mut session = ServerSession::new(config, now, wall, entropy);
        let (client_info, capabilities) = *record.client;
        session.legacy = Some(Legacy {
            phase: Phase::AwaitingInitialized,
            version: record.version,
            client_info,
            capabilities,
            log_level: None,
        });
        session
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;

    const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{}},"clientInfo":{"name":"c","version":"9"}}}"#;

    fn session(now: Instant) -> ServerSession {
        let config =
            ServerConfig::new(Implementation::new("s", "1"), ServerCapabilities::default());
        ServerSession::new(
            config,
            now,
            SystemTime::UNIX_EPOCH,
            Box::new(SeededEntropy::new(3)),
        )
    }

    fn drain(s: &mut ServerSession) -> Vec<String> {
        std::iter::from_fn(|| s.poll_transmit())
            .map(|t| String::from_utf8(t.frame.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn a_revived_session_goes_on_as_if_it_had_stayed() {
        let now = crate::test_start();
        let mut s = session(now);
        assert!(s.to_dormant().is_none(), "not initialized yet");
        s.handle_message(now, INIT.as_bytes());
        assert!(s.to_dormant().is_none(), "the answer is still queued");
        assert_eq!(drain(&mut s).len(), 1);
        let record = s.to_dormant().expect("dormant after the handshake");
        assert_eq!(record.version(), ProtocolVersion::V2025_06_18);
        assert_eq!(record.client_info().name, "c");

        let config = s.config().clone();
        let mut r = ServerSession::revive(
            config,
            now,
            SystemTime::UNIX_EPOCH,
            Box::new(SeededEntropy::new(4)),
            record.clone(),
        );
        assert_eq!(r.legacy_version(), Some(ProtocolVersion::V2025_06_18));
        assert_eq!(r.to_dormant(), Some(record));
        r.handle_message(
            now,
            br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        );
        r.handle_message(now, br#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#);
        let out = drain(&mut r);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].contains(r#""id":2"#) && out[0].contains(r#""result":{}"#));
        assert!(r.to_dormant().is_none(), "confirmed sessions stay whole");
        // A second initialize is still refused, as on the session that never slept.
        r.handle_message(now, INIT.as_bytes());
        assert!(drain(&mut r)[0].contains("already initialized"));
    }
}
