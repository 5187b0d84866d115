//! Legacy HTTP sessions by id: unguessable ids, a cap on how many exist, idle expiry.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::entropy::Entropy;

/// `initialize` was refused: the table is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sessions (limit {0})")]
pub struct SessionFull(pub usize);

#[derive(Debug)]
struct Slot<T> {
    value: T,
    /// Streams or requests in progress; a busy session never expires.
    busy: usize,
    last_active: Instant,
}

/// Sessions keyed by `Mcp-Session-Id`. Generic over what the transport keeps per session.
pub struct SessionTable<T> {
    max: usize,
    idle: Duration,
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
    /// A table of at most `max` sessions that end after `idle` without activity. Ids are
    /// 128 random bits from `entropy`, hex-encoded.
    pub fn new(max: usize, idle: Duration, entropy: Box<dyn Entropy>) -> Self {
        SessionTable {
            max,
            idle,
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

    /// Adds a session; returns its new id.
    pub fn insert(&mut self, now: Instant, value: T) -> Result<String, SessionFull> {
        if self.slots.len() >= self.max {
            return Err(SessionFull(self.max));
        }
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
            },
        );
        Ok(id)
    }

    /// The session `id`, marking it active.
    pub fn get(&mut self, now: Instant, id: &str) -> Option<&T> {
        let slot = self.slots.get_mut(id)?;
        slot.last_active = now;
        Some(&slot.value)
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

    /// When the next idle session expires.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .values()
            .filter(|s| s.busy == 0)
            .map(|s| s.last_active + self.idle)
            .min()
    }

    /// Removes and returns the sessions idle for too long.
    pub fn expire(&mut self, now: Instant) -> Vec<(String, T)> {
        let idle = self.idle;
        let ids: Vec<String> = self
            .slots
            .iter()
            .filter(|(_, s)| s.busy == 0 && s.last_active + idle <= now)
            .map(|(id, _)| id.clone())
            .collect();
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

    #[test]
    fn limits_and_idle_expiry() {
        let t0 = crate::test_start();
        let mut t = SessionTable::new(2, Duration::from_secs(10), Box::new(SeededEntropy::new(1)));
        let a = t.insert(t0, "a").unwrap();
        let b = t.insert(t0, "b").unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(t.insert(t0, "c"), Err(SessionFull(2)));
        t.begin(t0, &a);
        assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        let gone = t.expire(t0 + Duration::from_secs(10));
        assert_eq!(gone, vec![(b.clone(), "b")]);
        assert_eq!(t.get(t0, &a), Some(&"a"));
        t.end(t0 + Duration::from_secs(20), &a);
        assert!(t.expire(t0 + Duration::from_secs(29)).is_empty());
        assert_eq!(t.expire(t0 + Duration::from_secs(30)).len(), 1);
        assert!(t.is_empty());
        assert!(t.insert(t0, "d").is_ok());
    }
}
