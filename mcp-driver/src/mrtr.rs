//! Asking the client in 2026-07-28: multi round-trip requests by replay.
//!
//! A handler asks (`cx.elicit(..)`) the same way in both eras. On a 2026-07-28 request the
//! first unanswered ask stops the handler and the request is answered `input_required` with
//! that ask and a `requestState` carrying every answer so far. The client answers and
//! retries; the handler runs again from the top and each ask, in order, now finds its answer.
//! Handlers must therefore ask in a deterministic order.
//!
//! `requestState` is attacker-controlled input, so it is sealed with HMAC-SHA256 under a
//! server key and bound to the method and target it was issued for.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use mcp_proto::entropy::Entropy;
use mcp_proto::schema::mrtr::{InputRequest, InputResponse, InputResponses};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::pump::lock;
use crate::runtime::OsEntropy;

/// Most answers one request may accumulate across rounds (bounds the state a client can make
/// the server verify and hold).
const MAX_ANSWERS: usize = 64;

/// The key that seals `requestState`. Servers behind a load balancer must share one.
#[derive(Clone)]
pub struct StateKey([u8; 32]);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(..)")
    }
}

impl StateKey {
    /// A key from 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        StateKey(bytes)
    }

    /// A fresh random key (fine for a single server process).
    pub fn random() -> Self {
        let mut k = [0u8; 32];
        OsEntropy.fill_bytes(&mut k);
        StateKey(k)
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; 32 bytes cannot be refused.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }

    /// Seals `answers` for a retry of `method` on `target`.
    pub(crate) fn seal(
        &self,
        method: &str,
        target: &str,
        answers: &BTreeMap<String, InputResponse>,
    ) -> String {
        let payload = Payload {
            v: 1,
            method: method.to_owned(),
            target: target.to_owned(),
            answers: answers.clone(),
        };
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let mut mac = self.mac();
        mac.update(&json);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Opens a sealed state; `None` if it was tampered with or issued for something else.
    pub(crate) fn open(
        &self,
        state: &str,
        method: &str,
        target: &str,
    ) -> Option<BTreeMap<String, InputResponse>> {
        let (body, tag) = state.split_once('.')?;
        let json = URL_SAFE_NO_PAD.decode(body).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(&json);
        mac.verify_slice(&tag).ok()?;
        let p: Payload = serde_json::from_slice(&json).ok()?;
        (p.v == 1 && p.method == method && p.target == target && p.answers.len() <= MAX_ANSWERS)
            .then_some(p.answers)
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    v: u8,
    method: String,
    target: String,
    answers: BTreeMap<String, InputResponse>,
}

/// Per-request replay state.
pub(crate) struct Replay {
    pub method: &'static str,
    pub target: String,
    answers: BTreeMap<String, InputResponse>,
    next: AtomicUsize,
    /// The first unanswered ask, set when the handler must stop.
    pending: Mutex<Option<(String, InputRequest)>>,
}

/// Why a retry's state was refused.
pub(crate) struct BadState;

impl Replay {
    /// Builds the replay state of a request: answers from the verified `requestState` plus
    /// this retry's `inputResponses`.
    pub fn new(
        key: &StateKey,
        method: &'static str,
        target: String,
        state: Option<&str>,
        responses: Option<&InputResponses>,
    ) -> Result<Replay, BadState> {
        let mut answers = match state {
            Some(s) => key.open(s, method, &target).ok_or(BadState)?,
            None => BTreeMap::new(),
        };
        if let Some(r) = responses {
            for (k, v) in r {
                answers.insert(k.clone(), v.clone());
            }
        }
        if answers.len() > MAX_ANSWERS {
            return Err(BadState);
        }
        Ok(Replay {
            method,
            target,
            answers,
            next: AtomicUsize::new(0),
            pending: Mutex::new(None),
        })
    }

    /// The answer to the next ask, or `None` after recording the ask as pending.
    pub fn ask(&self, request: InputRequest) -> Option<InputResponse> {
        let key = format!("ask{}", self.next.fetch_add(1, Ordering::SeqCst));
        if let Some(a) = self.answers.get(&key) {
            return Some(a.clone());
        }
        let mut p = lock(&self.pending);
        if p.is_none() {
            *p = Some((key, request));
        }
        None
    }

    /// The ask that stopped the handler, if any.
    pub fn take_pending(&self) -> Option<(String, InputRequest)> {
        lock(&self.pending).take()
    }

    /// Every answer so far, for sealing into the next `requestState`.
    pub fn answers(&self) -> &BTreeMap<String, InputResponse> {
        &self.answers
    }
}
