//! Asking the client in 2026-07-28: multi round-trip requests by replay.
//!
//! A handler asks (`cx.elicit(..)`) the same way in both eras. On a 2026-07-28 request a
//! handler that waits on an unanswered ask is stopped, and the request is answered
//! `input_required` with every ask it made that has no answer yet (asks awaited together,
//! e.g. joined, go out in one round) and a `requestState` carrying the answers used so far.
//! The client answers and retries; the handler runs again from the top and each ask, in
//! order, now finds its answer. Handlers must therefore ask in a deterministic order.
//!
//! Asks are keyed in `inputRequests`/`inputResponses` by the name the handler gave
//! (`cx.ask("user_name").elicit(..)`) or else by their position (`ask0`, `ask1`, ...). A
//! missing answer, or one of the wrong kind, is asked for again rather than failing.
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

use crate::engine::lock;
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
    /// Answers from the verified `requestState` and this retry's `inputResponses`.
    answers: BTreeMap<String, InputResponse>,
    /// The number of the next ask that has no key of its own (`ask0`, `ask1`, ...).
    next: AtomicUsize,
    /// The answers this run consumed: what the next `requestState` carries.
    used: Mutex<BTreeMap<String, InputResponse>>,
    /// Asks with no answer yet, in the order they were made. Every ask made before the
    /// handler stops goes into the same `input_required` result.
    pending: Mutex<Vec<(String, InputRequest)>>,
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
            used: Mutex::new(BTreeMap::new()),
            pending: Mutex::new(Vec::new()),
        })
    }

    /// The answer to an ask, or `None` after recording the ask as pending.
    ///
    /// The ask is looked up under `key`, or under the next automatic key (`ask0`, `ask1`,
    /// ... in the order of the asks without a key of their own). An answer of the wrong
    /// kind (say, a sampling result for an elicitation) counts as no answer: the ask is made
    /// again rather than failing the request.
    pub fn ask(&self, key: Option<String>, request: InputRequest) -> Option<InputResponse> {
        let key = key.unwrap_or_else(|| format!("ask{}", self.next.fetch_add(1, Ordering::SeqCst)));
        if let Some(answer) = self.answers.get(&key).filter(|a| a.answers(&request)) {
            lock(&self.used).insert(key, answer.clone());
            return Some(answer.clone());
        }
        let mut pending = lock(&self.pending);
        if !pending.iter().any(|(k, _)| *k == key) {
            pending.push((key, request));
        }
        None
    }

    /// The asks that stopped the handler (empty if none did), taken.
    pub fn take_pending(&self) -> Vec<(String, InputRequest)> {
        std::mem::take(&mut *lock(&self.pending))
    }

    /// The `requestState` for the next round: the answers this run consumed, sealed. Answers
    /// the handler never asked for (stray keys a client sent along) are not carried on.
    pub fn seal(&self, key: &StateKey) -> String {
        key.seal(self.method, &self.target, &lock(&self.used))
    }
}

#[cfg(test)]
mod tests {
    use mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult, RequestedSchema};
    use mcp_proto::schema::roots::ListRootsResult;
    use serde_json::json;

    use super::*;

    fn form() -> InputRequest {
        InputRequest::Elicit(ElicitRequestParams::form("?", RequestedSchema::new()))
    }

    fn accepted() -> InputResponse {
        InputResponse::Elicit(ElicitResult::accept(Default::default()))
    }

    fn responses(pairs: &[(&str, InputResponse)]) -> InputResponses {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn replay(key: &StateKey, state: Option<&str>, r: Option<&InputResponses>) -> Replay {
        let new = Replay::new(key, "tools/call", "t".into(), state, r);
        new.unwrap_or_else(|_| panic!("state refused"))
    }

    #[test]
    fn asks_made_together_are_pending_together_under_their_keys() {
        let key = StateKey::random();
        let r = replay(&key, None, None);
        assert!(r.ask(Some("user_name".into()), form()).is_none());
        assert!(r.ask(None, InputRequest::list_roots()).is_none());
        assert!(r.ask(None, form()).is_none());
        let keys: Vec<String> = r.take_pending().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["user_name", "ask0", "ask1"]);
        assert!(r.take_pending().is_empty());
    }

    #[test]
    fn answers_of_the_wrong_kind_are_asked_again() {
        let key = StateKey::random();
        let roots = InputResponse::ListRoots(ListRootsResult::new(Vec::new()));
        let other = InputResponse::Other(json!(12345));
        let given = responses(&[("a", roots), ("b", other), ("c", accepted())]);
        let r = replay(&key, None, Some(&given));
        assert!(r.ask(Some("a".into()), form()).is_none());
        assert!(r.ask(Some("b".into()), form()).is_none());
        assert_eq!(r.ask(Some("c".into()), form()), Some(accepted()));
        let keys: Vec<String> = r.take_pending().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn the_state_carries_the_answers_used_and_nothing_else() {
        let key = StateKey::random();
        let given = responses(&[("step1", accepted()), ("stray", accepted())]);
        let r = replay(&key, None, Some(&given));
        assert_eq!(r.ask(Some("step1".into()), form()), Some(accepted()));
        assert!(r.ask(Some("step2".into()), form()).is_none());
        let state = r.seal(&key);
        let opened = key.open(&state, "tools/call", "t").expect("valid state");
        assert_eq!(opened.keys().collect::<Vec<_>>(), ["step1"]);

        // The next round finds step1 in the state and step2 in the responses.
        let given = responses(&[("step2", accepted())]);
        let r = replay(&key, Some(&state), Some(&given));
        assert!(r.ask(Some("step1".into()), form()).is_some());
        assert!(r.ask(Some("step2".into()), form()).is_some());
        assert!(r.take_pending().is_empty());
    }

    #[test]
    fn tampered_or_foreign_state_is_refused() {
        let key = StateKey::random();
        let r = replay(&key, None, None);
        let state = r.seal(&key);
        let refused = |state: &str, target: &str| {
            Replay::new(&key, "tools/call", target.into(), Some(state), None).is_err()
        };
        assert!(!refused(&state, "t"));
        assert!(refused(&format!("{state}-TAMPERED"), "t"));
        assert!(refused(&state, "another tool"));
        assert!(refused("not a state", "t"));
        let other_key = StateKey::random();
        assert!(Replay::new(&other_key, "tools/call", "t".into(), Some(&state), None).is_err());
    }
}
