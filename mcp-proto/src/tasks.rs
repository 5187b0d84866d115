//! The task table: long-running requests tracked by id, with the legal state machine, TTL
//! expiry and poll intervals.
//!
//! One table serves both wire shapes (SEP-1686 tasks of 2025-11-25 and the 2026-07-28
//! `io.modelcontextprotocol/tasks` extension): the entries are era-neutral and the session
//! renders them in the shape each peer speaks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::entropy::{random_hex, Entropy};
use crate::jsonrpc::ErrorObject;
pub use crate::schema::tasks::TaskStatus;

/// Limits and defaults of a task table.
#[derive(Debug, Clone)]
pub struct TaskConfig {
    /// Most tasks held at once (terminal ones included, until their TTL frees them).
    pub max_tasks: usize,
    /// TTL when the requestor asks for none; `None` keeps tasks until removed.
    pub default_ttl: Option<Duration>,
    /// Upper bound on any requested TTL.
    pub max_ttl: Option<Duration>,
    /// Suggested polling interval reported to requestors.
    pub poll_interval: Duration,
    /// Page size of `tasks/list`.
    pub page_size: usize,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            max_tasks: 1024,
            default_ttl: Some(Duration::from_secs(3600)),
            max_ttl: Some(Duration::from_secs(24 * 3600)),
            poll_interval: Duration::from_secs(1),
            page_size: 50,
        }
    }
}

/// Maps the monotonic clock the core runs on to wall-clock timestamps, from one reading the
/// embedder took. The core itself never reads a clock.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    base: Instant,
    base_unix_ms: u64,
}

impl WallClock {
    /// `wall` is the wall-clock time at the monotonic instant `now`.
    pub fn new(now: Instant, wall: SystemTime) -> Self {
        let base_unix_ms = wall
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        WallClock {
            base: now,
            base_unix_ms,
        }
    }

    /// Milliseconds since the Unix epoch at `at`.
    pub fn unix_ms(&self, at: Instant) -> u64 {
        match at.checked_duration_since(self.base) {
            Some(d) => self.base_unix_ms.saturating_add(d.as_millis() as u64),
            None => self
                .base_unix_ms
                .saturating_sub(self.base.duration_since(at).as_millis() as u64),
        }
    }

    /// ISO 8601 UTC timestamp (`2025-11-25T10:30:00.000Z`) of `at`.
    pub fn iso8601(&self, at: Instant) -> String {
        format_iso8601(self.unix_ms(at))
    }
}

/// Formats Unix milliseconds as ISO 8601 UTC.
pub fn format_iso8601(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let ms = unix_ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// The underlying request's result, as JSON.
    Result(Value),
    /// The underlying request's JSON-RPC error.
    Error(ErrorObject),
}

/// One task.
#[derive(Debug, Clone)]
pub struct TaskEntry {
    /// Unguessable id.
    pub id: String,
    /// Current status.
    pub status: TaskStatus,
    /// Human-readable detail of the status.
    pub status_message: Option<String>,
    /// When it was created.
    pub created: Instant,
    /// When its status last changed.
    pub updated: Instant,
    /// Time to live from creation; `None` is unlimited.
    pub ttl: Option<Duration>,
    /// Suggested polling interval.
    pub poll_interval: Duration,
    /// Result or error once terminal.
    pub outcome: Option<TaskOutcome>,
    /// Pending input requests (2026 extension: `inputRequests` while `input_required`).
    pub input_requests: Option<Value>,
    /// The method that created the task (e.g. `tools/call`).
    pub method: String,
    seq: u64,
}

impl TaskEntry {
    /// When the TTL frees this task, if ever.
    pub fn expires_at(&self) -> Option<Instant> {
        self.ttl.map(|t| self.created + t)
    }
}

/// A status change, for events and status notifications.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskTransition {
    /// The task.
    pub task_id: String,
    /// Status before.
    pub from: TaskStatus,
    /// Status after.
    pub to: TaskStatus,
}

/// Why a task operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// No task with that id (never existed, or expired).
    #[error("unknown task {0}")]
    Unknown(String),
    /// The table is at `max_tasks`.
    #[error("task table full ({0} tasks)")]
    Full(usize),
    /// The state machine forbids this change.
    #[error("task {id}: illegal transition {from:?} -> {to:?}")]
    IllegalTransition {
        /// The task.
        id: String,
        /// Current status.
        from: TaskStatus,
        /// Refused status.
        to: TaskStatus,
    },
    /// A `tasks/list` cursor we did not issue.
    #[error("invalid cursor")]
    InvalidCursor,
}

/// The table. Owned by a session; reachable through `session.tasks()`.
#[derive(Debug)]
pub struct TaskTable {
    config: TaskConfig,
    clock: WallClock,
    tasks: HashMap<String, TaskEntry>,
    order: BTreeMap<u64, String>,
    expiries: BTreeSet<(Instant, String)>,
    seq: u64,
}

impl TaskTable {
    /// An empty table.
    pub fn new(config: TaskConfig, clock: WallClock) -> Self {
        TaskTable {
            config,
            clock,
            tasks: HashMap::new(),
            order: BTreeMap::new(),
            expiries: BTreeSet::new(),
            seq: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TaskConfig {
        &self.config
    }

    /// The wall clock used for timestamps.
    pub fn clock(&self) -> &WallClock {
        &self.clock
    }

    /// Number of tasks held.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// A task by id.
    pub fn get(&self, id: &str) -> Option<&TaskEntry> {
        self.tasks.get(id)
    }

    /// Creates a task in `working`. `requested_ttl` is capped by `max_ttl`.
    pub fn create(
        &mut self,
        now: Instant,
        method: &str,
        requested_ttl: Option<Duration>,
        entropy: &mut dyn Entropy,
    ) -> Result<&TaskEntry, TaskError> {
        if self.tasks.len() >= self.config.max_tasks {
            return Err(TaskError::Full(self.config.max_tasks));
        }
        let mut ttl = requested_ttl.or(self.config.default_ttl);
        if let (Some(t), Some(max)) = (ttl, self.config.max_ttl) {
            ttl = Some(t.min(max));
        }
        let id = loop {
            let id = random_hex(entropy, 16);
            if !self.tasks.contains_key(&id) {
                break id;
            }
        };
        self.seq += 1;
        let entry = TaskEntry {
            id: id.clone(),
            status: TaskStatus::Working,
            status_message: None,
            created: now,
            updated: now,
            ttl,
            poll_interval: self.config.poll_interval,
            outcome: None,
            input_requests: None,
            method: method.to_owned(),
            seq: self.seq,
        };
        if let Some(at) = entry.expires_at() {
            self.expiries.insert((at, id.clone()));
        }
        self.order.insert(self.seq, id.clone());
        Ok(self.tasks.entry(id).or_insert(entry))
    }

    /// Moves a task to `to` if the state machine allows it.
    pub fn transition(
        &mut self,
        now: Instant,
        id: &str,
        to: TaskStatus,
        message: Option<String>,
    ) -> Result<TaskTransition, TaskError> {
        let t = self
            .tasks
            .get_mut(id)
            .ok_or_else(|| TaskError::Unknown(id.to_owned()))?;
        let from = t.status;
        if !from.can_transition_to(to) {
            return Err(TaskError::IllegalTransition {
                id: id.to_owned(),
                from,
                to,
            });
        }
        t.status = to;
        t.status_message = message;
        t.updated = now;
        if to != TaskStatus::InputRequired {
            t.input_requests = None;
        }
        Ok(TaskTransition {
            task_id: id.to_owned(),
            from,
            to,
        })
    }

    /// Ends a task with its outcome: `completed` for a result, `failed` for an error.
    pub fn finish(
        &mut self,
        now: Instant,
        id: &str,
        outcome: TaskOutcome,
    ) -> Result<TaskTransition, TaskError> {
        let to = match outcome {
            TaskOutcome::Result(_) => TaskStatus::Completed,
            TaskOutcome::Error(_) => TaskStatus::Failed,
        };
        let tr = self.transition(now, id, to, None)?;
        if let Some(t) = self.tasks.get_mut(id) {
            t.outcome = Some(outcome);
        }
        Ok(tr)
    }

    /// Puts a task into `input_required` with the requests it waits on.
    pub fn require_input(
        &mut self,
        now: Instant,
        id: &str,
        input_requests: Value,
        message: Option<String>,
    ) -> Result<TaskTransition, TaskError> {
        let tr = self.transition(now, id, TaskStatus::InputRequired, message)?;
        if let Some(t) = self.tasks.get_mut(id) {
            t.input_requests = Some(input_requests);
        }
        Ok(tr)
    }

    /// One page of tasks in creation order. The cursor is opaque to peers.
    pub fn list(
        &self,
        cursor: Option<&str>,
    ) -> Result<(Vec<&TaskEntry>, Option<String>), TaskError> {
        let start = match cursor {
            None => 0,
            Some(c) => c.parse::<u64>().map_err(|_| TaskError::InvalidCursor)?,
        };
        let mut page = Vec::new();
        let mut next = None;
        for (seq, id) in self.order.range(start..) {
            if page.len() == self.config.page_size.max(1) {
                next = Some(seq.to_string());
                break;
            }
            if let Some(t) = self.tasks.get(id) {
                page.push(t);
            }
        }
        Ok((page, next))
    }

    /// Removes a task now.
    pub fn remove(&mut self, id: &str) -> Option<TaskEntry> {
        let t = self.tasks.remove(id)?;
        self.order.remove(&t.seq);
        if let Some(at) = t.expires_at() {
            self.expiries.remove(&(at, t.id.clone()));
        }
        Some(t)
    }

    /// When the next task expires.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.expiries.first().map(|(t, _)| *t)
    }

    /// Removes every task whose TTL has run out at `now`; returns their ids.
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        let mut gone = Vec::new();
        while let Some((at, id)) = self.expiries.first().cloned() {
            if at > now {
                break;
            }
            self.expiries.remove(&(at, id.clone()));
            if let Some(t) = self.tasks.remove(&id) {
                self.order.remove(&t.seq);
            }
            gone.push(id);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(
            format_iso8601(1_764_064_800_000),
            "2025-11-25T10:00:00.000Z"
        );
    }
}
