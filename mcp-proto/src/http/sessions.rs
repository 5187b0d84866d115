//! Legacy HTTP sessions by id: unguessable ids, a cap on how many exist, idle expiry, and
//! eviction of the least recently used idle session when the cap is reached.
//!
//! A full table evicts rather than refuses: refusing newcomers would let anyone who opens
//! sessions and walks away lock every later client out. Sessions that have not yet sent a
//! second message are *on probation*: they go first, and they expire sooner.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::entropy::Entropy;

/// `initialize` was refused: the table is full and every session in it is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sessions (limit {0}), all of them busy")]
pub struct SessionFull(pub usize);

#[derive(Debug)]
struct Slot<T> {
    value: T,
    /// Streams or requests in progress; a busy session never expires nor is evicted.
    busy: usize,
    last_active: Instant,
    /// No message since the one that opened it.
    probation: bool,
}

/// A session added to the table, and the one it displaced to make room, if any.
#[derive(Debug)]
pub struct Inserted<T> {
    /// The new session's id.
    pub id: String,
    /// The least recently used idle session, evicted because the table was full. End it.
    pub evicted: Option<(String, T)>,
}

/// Sessions keyed by `Mcp-Session-Id`. Generic over what the transport keeps per session.
pub struct SessionTable<T> {
    max: usize,
    idle: Duration,
    probation_idle: Duration,
    entropy: Box<dyn Entropy>,
    slots: HashMap<String, Slot<T>>,
}

impl<T> std::fmt::Debug for SessionTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTable")
            .field("len", &self.slots.len())
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<T> SessionTable<T> {
    /// A table of at most `max` sessions that end after `idle` without activity (sessions on
    /// probation: after `probation_idle`). Ids are 128 random bits from `entropy`,
    /// hex-encoded.
    pub fn new(
        max: usize,
        idle: Duration,
        probation_idle: Duration,
        entropy: Box<dyn Entropy>,
    ) -> Self {
        SessionTable {
            max,
            idle,
            probation_idle: probation_idle.min(idle),
            entropy,
            slots: HashMap::new(),
        }
    }

    /// Sessions now.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Adds a session on probation and returns its new id. At the cap, the least recently
    /// used idle session goes (those on probation first); when every session is busy, the
    /// newcomer is refused.
    pub fn insert(&mut self, now: Instant, value: T) -> Result<Inserted<T>, SessionFull> {
        let evicted = if self.slots.len() >= self.max {
            let Some(victim) = self.victim() else {
                return Err(SessionFull(self.max));
            };
            self.slots.remove(&victim).map(|s| (victim, s.value))
        } else {
            None
        };
        let id = loop {
            let mut raw = [0u8; 16];
            self.entropy.fill_bytes(&mut raw);
            let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            if !self.slots.contains_key(&id) {
                break id;
            }
        };
        self.slots.insert(
            id.clone(),
            Slot {
                value,
                busy: 0,
                last_active: now,
                probation: true,
            },
        );
        Ok(Inserted { id, evicted })
    }

    /// The idle session to evict: on probation before confirmed, then least recently
    /// active, then the smallest id (so the choice never depends on hash order).
    fn victim(&self) -> Option<String> {
        self.slots
            .iter()
            .filter(|(_, s)| s.busy == 0)
            .min_by(|(a_id, a), (b_id, b)| {
                (!a.probation, a.last_active, a_id).cmp(&(!b.probation, b.last_active, b_id))
            })
            .map(|(id, _)| id.clone())
    }

    /// The session `id`, marking it active and ending its probation (a message came).
    pub fn get(&mut self, now: Instant, id: &str) -> Option<&T> {
        let slot = self.slots.get_mut(id)?;
        slot.last_active = now;
        slot.probation = false;
        Some(&slot.value)
    }

    /// The session `id`, without marking it active.
    pub fn peek(&self, id: &str) -> Option<&T> {
        self.slots.get(id).map(|s| &s.value)
    }

    /// The session `id` to change in place, without marking it active.
    pub fn peek_mut(&mut self, id: &str) -> Option<&mut T> {
        self.slots.get_mut(id).map(|s| &mut s.value)
    }

    /// Whether `id` has sent nothing since the message that opened it.
    pub fn is_on_probation(&self, id: &str) -> bool {
        self.slots.get(id).is_some_and(|s| s.probation)
    }

    /// Work in progress on `id` (streams open, requests answering).
    pub fn busy(&self, id: &str) -> usize {
        self.slots.get(id).map_or(0, |s| s.busy)
    }

    /// Marks work started on `id` (a stream opened, a request in progress).
    pub fn begin(&mut self, now: Instant, id: &str) {
        if let Some(slot) = self.slots.get_mut(id) {
            slot.busy += 1;
            slot.last_active = now;
        }
    }

    /// Marks work on `id` finished; the idle clock starts when nothing is left.
    pub fn end(&mut self, now: Instant, id: &str) {
        if let Some(slot) = self.slots.get_mut(id) {
            slot.busy = slot.busy.saturating_sub(1);
            slot.last_active = now;
        }
    }

    /// Removes `id` (DELETE, or the session closed itself).
    pub fn remove(&mut self, id: &str) -> Option<T> {
        self.slots.remove(id).map(|s| s.value)
    }

    fn expiry(&self, s: &Slot<T>) -> Instant {
        s.last_active
            + if s.probation {
                self.probation_idle
            } else {
                self.idle
            }
    }

    /// When the next idle session expires.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .values()
            .filter(|s| s.busy == 0)
            .map(|s| self.expiry(s))
            .min()
    }

    /// Removes and returns the sessions idle for too long.
    pub fn expire(&mut self, now: Instant) -> Vec<(String, T)> {
        let mut ids: Vec<String> = self
            .slots
            .iter()
            .filter(|(_, s)| s.busy == 0 && self.expiry(s) <= now)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids.into_iter()
            .filter_map(|id| self.slots.remove(&id).map(|s| (id, s.value)))
            .collect()
    }

    /// Every session (for shutdown).
    pub fn drain(&mut self) -> Vec<(String, T)> {
        self.slots.drain().map(|(id, s)| (id, s.value)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;

    fn table(max: usize) -> SessionTable<&'static str> {
        SessionTable::new(
            max,
            Duration::from_secs(10),
            Duration::from_secs(3),
            Box::new(SeededEntropy::new(1)),
        )
    }

    #[test]
    fn idle_expiry_is_shorter_on_probation() {
        let t0 = crate::test_start();
        let mut t = table(4);
        let a = t.insert(t0, "a").unwrap().id;
        let b = t.insert(t0, "b").unwrap().id;
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(t.is_on_probation(&a));
        assert_eq!(t.get(t0, &a), Some(&"a"));
        assert!(!t.is_on_probation(&a));
        assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_secs(3)));
        assert_eq!(t.expire(t0 + Duration::from_secs(3)), vec![(b, "b")]);
        t.begin(t0, &a);
        assert_eq!(t.poll_timeout(), None);
        assert!(t.expire(t0 + Duration::from_secs(60)).is_empty());
        t.end(t0 + Duration::from_secs(20), &a);
        assert!(t.expire(t0 + Duration::from_secs(29)).is_empty());
        assert_eq!(t.expire(t0 + Duration::from_secs(30)).len(), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn a_full_table_evicts_probation_first_then_least_recent_and_never_busy() {
        let t0 = crate::test_start();
        let s = Duration::from_secs;
        let mut t = table(3);
        let old = t.insert(t0, "old").unwrap().id;
        let fresh = t.insert(t0 + s(1), "probation").unwrap().id;
        let busy = t.insert(t0, "busy").unwrap().id;
        t.get(t0, &old);
        t.get(t0, &busy);
        t.begin(t0, &busy);
        // The confirmed `old` is older, but `fresh` never sent a second message.
        let next = t.insert(t0 + s(2), "n1").unwrap();
        assert_eq!(next.evicted, Some((fresh, "probation")));
        t.get(t0 + s(2), &next.id);
        let again = t.insert(t0 + s(2), "n2").unwrap();
        assert_eq!(again.evicted, Some((old, "old")));
        // Now: busy, n1 (confirmed), n2 (probation): n2 goes.
        let third = t.insert(t0 + s(3), "n3").unwrap();
        assert_eq!(third.evicted.map(|e| e.1), Some("n2"));
        t.begin(t0, &third.id);
        t.begin(t0, &next.id);
        assert_eq!(t.insert(t0, "refused").unwrap_err(), SessionFull(3));
        assert_eq!(t.len(), 3);
        assert_eq!(t.busy(&busy), 1);
    }
}
