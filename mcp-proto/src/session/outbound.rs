//! Requests we sent and are waiting on: ids, deadlines, progress.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::jsonrpc::{ProgressToken, RequestId};

/// How long a request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout {
    /// Silence allowed before the request times out; progress restarts it when
    /// `reset_on_progress` is set.
    pub idle: Duration,
    /// Hard cap from the moment the request was sent, progress or not.
    pub max_total: Option<Duration>,
    /// Whether a progress notification restarts the idle clock.
    pub reset_on_progress: bool,
}

impl Timeout {
    /// A fixed deadline that progress does not move.
    pub const fn fixed(d: Duration) -> Self {
        Timeout {
            idle: d,
            max_total: None,
            reset_on_progress: false,
        }
    }
}

impl Default for Timeout {
    fn default() -> Self {
        Timeout {
            idle: Duration::from_secs(60),
            max_total: Some(Duration::from_secs(600)),
            reset_on_progress: true,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Pending<M> {
    pub method: M,
    pub deadline: Option<Instant>,
    pub hard_deadline: Option<Instant>,
    pub timeout: Option<Timeout>,
    pub progress_token: Option<ProgressToken>,
    pub last_progress: Option<f64>,
}

/// What happened to a progress notification.
#[derive(Debug, PartialEq)]
pub(crate) enum ProgressCheck {
    /// Belongs to this request and moved forward.
    Accepted(RequestId),
    /// No active request has this token.
    Unknown,
    /// The value did not increase.
    NotIncreasing(RequestId),
}

/// The table of in-flight outgoing requests, generic over what we remember of each method.
#[derive(Debug)]
pub(crate) struct Outbound<M> {
    next_id: i64,
    pending: HashMap<RequestId, Pending<M>>,
    by_token: HashMap<ProgressToken, RequestId>,
    timers: BTreeSet<(Instant, RequestId)>,
    /// Ids recently cancelled or timed out, so a late answer is recognised as a race rather
    /// than a fault. Bounded.
    recently_closed: VecDeque<RequestId>,
    recent_cap: usize,
}

impl<M> Outbound<M> {
    pub(crate) fn new(recent_cap: usize) -> Self {
        Outbound {
            next_id: 0,
            pending: HashMap::new(),
            by_token: HashMap::new(),
            timers: BTreeSet::new(),
            recently_closed: VecDeque::new(),
            recent_cap,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    pub(crate) fn is_pending(&self, id: &RequestId) -> bool {
        self.pending.contains_key(id)
    }

    pub(crate) fn get(&self, id: &RequestId) -> Option<&Pending<M>> {
        self.pending.get(id)
    }

    /// Allocates an id no in-flight request uses.
    pub(crate) fn next_id(&mut self) -> RequestId {
        loop {
            let id = RequestId::Number(self.next_id);
            self.next_id = self.next_id.wrapping_add(1);
            if !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    /// Registers a request sent at `now`. The progress token, when asked for, is the id itself,
    /// which is unique across active requests by construction.
    pub(crate) fn insert(
        &mut self,
        now: Instant,
        id: RequestId,
        method: M,
        timeout: Option<Timeout>,
        with_progress: bool,
    ) -> Option<ProgressToken> {
        let deadline = timeout.map(|t| now + t.idle);
        let hard_deadline = timeout.and_then(|t| t.max_total).map(|d| now + d);
        let deadline = match (deadline, hard_deadline) {
            (Some(d), Some(h)) => Some(d.min(h)),
            (d, _) => d,
        };
        if let Some(d) = deadline {
            self.timers.insert((d, id.clone()));
        }
        let progress_token = with_progress.then(|| id.clone());
        if let Some(t) = &progress_token {
            self.by_token.insert(t.clone(), id.clone());
        }
        self.pending.insert(
            id,
            Pending {
                method,
                deadline,
                hard_deadline,
                timeout,
                progress_token: progress_token.clone(),
                last_progress: None,
            },
        );
        progress_token
    }

    /// Removes a request that got its answer (or was given up).
    pub(crate) fn remove(&mut self, id: &RequestId) -> Option<Pending<M>> {
        let p = self.pending.remove(id)?;
        if let Some(d) = p.deadline {
            self.timers.remove(&(d, id.clone()));
        }
        if let Some(t) = &p.progress_token {
            self.by_token.remove(t);
        }
        Some(p)
    }

    /// Removes a request we gave up on (cancelled or timed out), remembering its id.
    pub(crate) fn close(&mut self, id: &RequestId) -> Option<Pending<M>> {
        let p = self.remove(id)?;
        if self.recent_cap > 0 {
            if self.recently_closed.len() == self.recent_cap {
                self.recently_closed.pop_front();
            }
            self.recently_closed.push_back(id.clone());
        }
        Some(p)
    }

    /// Whether `id` was recently cancelled or timed out by us.
    pub(crate) fn was_closed(&self, id: &RequestId) -> bool {
        self.recently_closed.contains(id)
    }

    /// Checks a progress notification; on success the idle clock restarts if configured.
    pub(crate) fn progress(
        &mut self,
        now: Instant,
        token: &ProgressToken,
        value: f64,
    ) -> ProgressCheck {
        let Some(id) = self.by_token.get(token).cloned() else {
            return ProgressCheck::Unknown;
        };
        let Some(p) = self.pending.get_mut(&id) else {
            return ProgressCheck::Unknown;
        };
        if let Some(last) = p.last_progress {
            // NaN is unordered and rejected here too.
            if value.partial_cmp(&last) != Some(std::cmp::Ordering::Greater) {
                return ProgressCheck::NotIncreasing(id);
            }
        } else if value.is_nan() {
            return ProgressCheck::NotIncreasing(id);
        }
        p.last_progress = Some(value);
        if let Some(t) = p.timeout.filter(|t| t.reset_on_progress) {
            let mut next = now + t.idle;
            if let Some(h) = p.hard_deadline {
                next = next.min(h);
            }
            if let Some(old) = p.deadline.replace(next) {
                self.timers.remove(&(old, id.clone()));
            }
            self.timers.insert((next, id.clone()));
        }
        ProgressCheck::Accepted(id)
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.first().map(|(t, _)| *t)
    }

    /// Takes one request whose deadline is at or before `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<(RequestId, Pending<M>)> {
        let (t, id) = self.timers.first()?.clone();
        if t > now {
            return None;
        }
        let p = self.close(&id)?;
        Some((id, p))
    }

    /// Drains every pending request (shutdown).
    pub(crate) fn drain(&mut self) -> Vec<(RequestId, Pending<M>)> {
        self.timers.clear();
        self.by_token.clear();
        self.pending.drain().collect()
    }
}
