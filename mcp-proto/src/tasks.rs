//! Tasks: long-running requests tracked by id, with the legal state machine, TTL expiry and
//! poll intervals, over a pluggable [`TaskStore`].
//!
//! One table serves both wire shapes (SEP-1686 tasks of 2025-11-25 and the 2026-07-28
//! `io.modelcontextprotocol/tasks` extension): the entries are era-neutral and the session
//! renders them in the shape each peer speaks.
//!
//! The split: a [`TaskStore`] only keeps entries (insert, read, an atomic read-modify-write,
//! list, expiry index); the [`TaskTable`] on top of it is the protocol: ids, TTL caps, which
//! status may follow which, input requests and their answers. A store therefore never has to
//! re-implement the rules, and a backend that survives restarts (a database, a file) plugs in
//! with [`TaskTable::with_store`]. Times are Unix milliseconds, not [`Instant`]s, so entries
//! mean the same thing after a restart.
//!
//! The default [`MemoryTaskStore`] is bounded (at most [`TaskConfig::max_tasks`] entries,
//! expired ones swept on the session's clock) and **loses every task when the process ends**:
//! a restarted server answers `tasks/get` for an old id with "unknown task". Results are kept
//! until the task's TTL runs out and never dropped before: a full store refuses new tasks
//! instead of evicting live ones.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entropy::{random_hex, Entropy};
use crate::jsonrpc::ErrorObject;
use crate::schema::mrtr::{InputRequests, InputResponses};
pub use crate::schema::tasks::TaskStatus;

/// Limits and defaults of a task table.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskConfig {
    /// Most tasks the default in-memory store holds at once (terminal ones included, until
    /// their TTL frees them). Further creations are refused, never made room for.
    pub max_tasks: usize,
    /// Most tasks one owner (a legacy session) may hold at once, expired ones not counted:
    /// one client cannot fill the store the others share. Further creations are refused.
    pub max_tasks_per_owner: usize,
    /// TTL when the requestor asks for none; `None` keeps tasks until removed.
    pub default_ttl: Option<Duration>,
    /// Upper bound on any requested TTL.
    pub max_ttl: Option<Duration>,
    /// Suggested polling interval reported to requestors.
    pub poll_interval: Duration,
    /// Page size of `tasks/list`.
    pub page_size: usize,
}

crate::__config_setters!(TaskConfig {
    with_max_tasks => max_tasks: usize,
    with_max_tasks_per_owner => max_tasks_per_owner: usize,
    with_default_ttl => default_ttl: Option<Duration>,
    with_max_ttl => max_ttl: Option<Duration>,
    with_poll_interval => poll_interval: Duration,
    with_page_size => page_size: usize,
});

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            max_tasks: 1024,
            max_tasks_per_owner: 64,
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
        WallClock {
            base: now,
            base_unix_ms: unix_ms(wall),
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

    /// The monotonic instant at `unix_ms` (for timers: when a task expires).
    pub fn instant_at(&self, unix_ms: u64) -> Instant {
        if unix_ms >= self.base_unix_ms {
            self.base + Duration::from_millis(unix_ms - self.base_unix_ms)
        } else {
            self.base
                .checked_sub(Duration::from_millis(self.base_unix_ms - unix_ms))
                .unwrap_or(self.base)
        }
    }

    /// ISO 8601 UTC timestamp (`2025-11-25T10:30:00.000Z`) of `at`.
    pub fn iso8601(&self, at: Instant) -> String {
        format_iso8601(self.unix_ms(at))
    }
}

/// Milliseconds since the Unix epoch of a wall-clock time (0 before the epoch).
pub fn unix_ms(wall: SystemTime) -> u64 {
    wall.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaskOutcome {
    /// The underlying request's result, as JSON.
    Result(Value),
    /// The underlying request's JSON-RPC error.
    Error(ErrorObject),
}

/// One task. Serializable, so a store may keep it anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskEntry {
    /// Unguessable id (128 random bits, hex).
    pub id: String,
    /// Current status.
    pub status: TaskStatus,
    /// Human-readable detail of the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When it was created (Unix ms).
    pub created_ms: u64,
    /// When it last changed (Unix ms).
    pub updated_ms: u64,
    /// Time to live from creation; `None` is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// Suggested polling interval.
    pub poll_interval_ms: u64,
    /// Result or error once terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<TaskOutcome>,
    /// Outstanding input requests (2026 extension), by key; empty unless `input_required`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub input_requests: InputRequests,
    /// Every input key this task ever used: keys are never reused within a task.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub used_keys: BTreeSet<String>,
    /// The method that created the task (e.g. `tools/call`).
    pub method: String,
    /// Who may see it: a legacy session's scope, or `None` for 2026-07-28 tasks (reachable
    /// by their unguessable id alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl TaskEntry {
    /// When the TTL frees this task (Unix ms), if ever.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.ttl_ms.map(|t| self.created_ms.saturating_add(t))
    }

    /// Whether the TTL has run out at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms().is_some_and(|at| at <= now_ms)
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
    /// No task with that id (never existed, expired, or not the caller's).
    #[error("unknown task {0}")]
    Unknown(String),
    /// The store is full.
    #[error("task store full ({0} tasks)")]
    Full(usize),
    /// The owner already holds as many tasks as one owner may.
    #[error("too many tasks for one owner (limit {0})")]
    OwnerFull(usize),
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
    /// The store's backend failed (a restartable store's I/O).
    #[error("task store: {0}")]
    Store(String),
}

/// One page of [`TaskStore::list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskPage {
    /// The tasks, in creation order.
    pub tasks: Vec<TaskEntry>,
    /// Where the next page starts, if there is one (opaque to peers).
    pub next_cursor: Option<String>,
}

/// Where tasks are kept. Storage only: the rules (legal transitions, TTL caps, input keys)
/// live in [`TaskTable`], which calls these methods, so every backend obeys them.
///
/// Implement it to keep tasks somewhere that outlives the process; the in-memory
/// [`MemoryTaskStore`] is the default. Methods are synchronous and take the time as an
/// argument: the core stays free of I/O scheduling, and a backend that must block does so
/// inside the call.
pub trait TaskStore: Send {
    /// Adds a new entry. Refuse with [`TaskError::Full`] rather than evicting a live task;
    /// entries whose TTL ran out by `now_ms` may be dropped to make room.
    fn insert(&mut self, now_ms: u64, entry: TaskEntry) -> Result<(), TaskError>;
    /// The entry with this id, expired or not (the table filters).
    fn get(&self, id: &str) -> Option<TaskEntry>;
    /// Applies `f` to the entry atomically: if `f` fails, nothing changes. Returns the entry
    /// as stored afterwards, or [`TaskError::Unknown`].
    fn update(
        &mut self,
        id: &str,
        f: &mut dyn FnMut(&mut TaskEntry) -> Result<(), TaskError>,
    ) -> Result<TaskEntry, TaskError>;
    /// Removes an entry.
    fn remove(&mut self, id: &str) -> Option<TaskEntry>;
    /// Up to `limit` entries of `owner` in creation order, from `cursor` (one this store
    /// issued), skipping those expired at `now_ms`.
    fn list(
        &self,
        now_ms: u64,
        owner: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TaskPage, TaskError>;
    /// Removes every entry whose TTL ran out at `now_ms`; returns their ids.
    fn expire(&mut self, now_ms: u64) -> Vec<String>;
    /// When the next entry expires (Unix ms).
    fn next_expiry(&self) -> Option<u64>;
    /// Entries of `owner` not expired at `now_ms`, counting no further than `limit`. The
    /// default pages through [`Self::list`]; a backend with an index may answer directly.
    fn count_owned(&self, now_ms: u64, owner: &str, limit: usize) -> usize {
        let mut n = 0;
        let mut cursor: Option<String> = None;
        loop {
            let Ok(page) = self.list(now_ms, Some(owner), cursor.as_deref(), 256) else {
                return n;
            };
            n += page.tasks.len();
            match page.next_cursor {
                Some(c) if n < limit => cursor = Some(c),
                _ => return n,
            }
        }
    }
    /// Number of entries held.
    fn len(&self) -> usize;
    /// Whether no entry is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The default store: a bounded map in memory, with an expiry index so sweeps cost only
/// what expires. Everything is lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryTaskStore {
    max: usize,
    tasks: HashMap<String, (u64, TaskEntry)>,
    order: BTreeMap<u64, String>,
    expiries: BTreeSet<(u64, String)>,
    seq: u64,
}

impl MemoryTaskStore {
    /// A store holding at most `max_tasks` entries.
    pub fn new(max_tasks: usize) -> Self {
        MemoryTaskStore {
            max: max_tasks,
            ..Default::default()
        }
    }
}

impl TaskStore for MemoryTaskStore {
    fn insert(&mut self, now_ms: u64, entry: TaskEntry) -> Result<(), TaskError> {
        if self.tasks.len() >= self.max {
            self.expire(now_ms);
        }
        if self.tasks.len() >= self.max {
            return Err(TaskError::Full(self.max));
        }
        self.seq += 1;
        if let Some(at) = entry.expires_at_ms() {
            self.expiries.insert((at, entry.id.clone()));
        }
        self.order.insert(self.seq, entry.id.clone());
        self.tasks.insert(entry.id.clone(), (self.seq, entry));
        Ok(())
    }

    fn get(&self, id: &str) -> Option<TaskEntry> {
        self.tasks.get(id).map(|(_, e)| e.clone())
    }

    fn update(
        &mut self,
        id: &str,
        f: &mut dyn FnMut(&mut TaskEntry) -> Result<(), TaskError>,
    ) -> Result<TaskEntry, TaskError> {
        let (_, stored) = self
            .tasks
            .get_mut(id)
            .ok_or_else(|| TaskError::Unknown(id.to_owned()))?;
        let mut next = stored.clone();
        f(&mut next)?;
        let (old, new) = (stored.expires_at_ms(), next.expires_at_ms());
        if old != new {
            if let Some(at) = old {
                self.expiries.remove(&(at, id.to_owned()));
            }
            if let Some(at) = new {
                self.expiries.insert((at, id.to_owned()));
            }
        }
        *stored = next.clone();
        Ok(next)
    }

    fn remove(&mut self, id: &str) -> Option<TaskEntry> {
        let (seq, t) = self.tasks.remove(id)?;
        self.order.remove(&seq);
        if let Some(at) = t.expires_at_ms() {
            self.expiries.remove(&(at, t.id.clone()));
        }
        Some(t)
    }

    fn list(
        &self,
        now_ms: u64,
        owner: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TaskPage, TaskError> {
        let start = match cursor {
            None => 0,
            Some(c) => c.parse::<u64>().map_err(|_| TaskError::InvalidCursor)?,
        };
        let mut page = TaskPage::default();
        for (seq, id) in self.order.range(start..) {
            let Some((_, t)) = self.tasks.get(id) else {
                continue;
            };
            if t.owner.as_deref() != owner || t.is_expired(now_ms) {
                continue;
            }
            if page.tasks.len() == limit.max(1) {
                page.next_cursor = Some(seq.to_string());
                break;
            }
            page.tasks.push(t.clone());
        }
        Ok(page)
    }

    fn expire(&mut self, now_ms: u64) -> Vec<String> {
        let mut gone = Vec::new();
        while let Some((at, id)) = self.expiries.first().cloned() {
            if at > now_ms {
                break;
            }
            self.expiries.remove(&(at, id.clone()));
            if let Some((seq, _)) = self.tasks.remove(&id) {
                self.order.remove(&seq);
            }
            gone.push(id);
        }
        gone
    }

    fn next_expiry(&self) -> Option<u64> {
        self.expiries.first().map(|(t, _)| *t)
    }

    fn len(&self) -> usize {
        self.tasks.len()
    }
}

/// The task state machine over a [`TaskStore`]. Owned by a session (reachable through
/// `session.tasks()`), or by a driver that shares one store among sessions.
pub struct TaskTable {
    config: TaskConfig,
    store: Box<dyn TaskStore>,
}

impl std::fmt::Debug for TaskTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskTable")
            .field("config", &self.config)
            .field("len", &self.store.len())
            .finish_non_exhaustive()
    }
}

impl TaskTable {
    /// A table over a fresh [`MemoryTaskStore`] of `config.max_tasks` entries.
    pub fn new(config: TaskConfig) -> Self {
        let store = Box::new(MemoryTaskStore::new(config.max_tasks));
        TaskTable { config, store }
    }

    /// A table over `store` (e.g. one that survives restarts, or one shared by sessions).
    pub fn with_store(config: TaskConfig, store: Box<dyn TaskStore>) -> Self {
        TaskTable { config, store }
    }

    /// Replaces the store (tasks in the old one are dropped with it).
    pub fn set_store(&mut self, store: Box<dyn TaskStore>) {
        self.store = store;
    }

    /// The configuration.
    pub fn config(&self) -> &TaskConfig {
        &self.config
    }

    /// Number of tasks held (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// A live task by id (`None` once its TTL ran out), whoever owns it.
    pub fn get(&self, now_ms: u64, id: &str) -> Option<TaskEntry> {
        self.store.get(id).filter(|t| !t.is_expired(now_ms))
    }

    /// A live task by id, if `owner` may see it.
    pub fn get_owned(&self, now_ms: u64, id: &str, owner: Option<&str>) -> Option<TaskEntry> {
        self.get(now_ms, id).filter(|t| t.owner.as_deref() == owner)
    }

    /// Creates a task in `working`. `requested_ttl` is capped by `max_ttl`; `poll_interval`
    /// defaults to the configured one.
    pub fn create(
        &mut self,
        now_ms: u64,
        spec: NewTask<'_>,
        entropy: &mut dyn Entropy,
    ) -> Result<TaskEntry, TaskError> {
        let mut ttl = spec.ttl.or(self.config.default_ttl);
        if let (Some(t), Some(max)) = (ttl, self.config.max_ttl) {
            ttl = Some(t.min(max));
        }
        if let Some(owner) = spec.owner.as_deref() {
            let max = self.config.max_tasks_per_owner;
            if self.store.count_owned(now_ms, owner, max) >= max {
                return Err(TaskError::OwnerFull(max));
            }
        }
        let poll = spec.poll_interval.unwrap_or(self.config.poll_interval);
        let id = loop {
            let id = random_hex(entropy, 16);
            if self.store.get(&id).is_none() {
                break id;
            }
        };
        let entry = TaskEntry {
            id,
            status: TaskStatus::Working,
            status_message: None,
            created_ms: now_ms,
            updated_ms: now_ms,
            ttl_ms: ttl.map(|d| d.as_millis() as u64),
            poll_interval_ms: (poll.as_millis() as u64).max(1),
            outcome: None,
            input_requests: InputRequests::new(),
            used_keys: BTreeSet::new(),
            method: spec.method.to_owned(),
            owner: spec.owner,
        };
        self.store.insert(now_ms, entry.clone())?;
        Ok(entry)
    }

    /// Moves a task to `to` if the state machine allows it. Leaving `input_required` drops
    /// the outstanding input requests.
    pub fn transition(
        &mut self,
        now_ms: u64,
        id: &str,
        to: TaskStatus,
        message: Option<String>,
    ) -> Result<TaskTransition, TaskError> {
        let mut from = to;
        self.update_live(now_ms, id, &mut |t| {
            from = t.status;
            check(t, to)?;
            t.status = to;
            t.status_message = message.clone();
            t.updated_ms = now_ms;
            if to != TaskStatus::InputRequired {
                t.input_requests.clear();
            }
            Ok(())
        })?;
        Ok(TaskTransition {
            task_id: id.to_owned(),
            from,
            to,
        })
    }

    /// Ends a task with its outcome: `completed` for a result, `failed` for an error.
    pub fn finish(
        &mut self,
        now_ms: u64,
        id: &str,
        outcome: TaskOutcome,
    ) -> Result<TaskTransition, TaskError> {
        let to = match outcome {
            TaskOutcome::Result(_) => TaskStatus::Completed,
            TaskOutcome::Error(_) => TaskStatus::Failed,
        };
        let mut from = to;
        self.update_live(now_ms, id, &mut |t| {
            from = t.status;
            check(t, to)?;
            t.status = to;
            t.status_message = match &outcome {
                TaskOutcome::Error(e) => Some(e.message.clone()),
                TaskOutcome::Result(_) => None,
            };
            t.updated_ms = now_ms;
            t.input_requests.clear();
            t.outcome = Some(outcome.clone());
            Ok(())
        })?;
        Ok(TaskTransition {
            task_id: id.to_owned(),
            from,
            to,
        })
    }

    /// Adds input requests a task waits on and puts it in `input_required` (the transition
    /// is returned when it was `working`; more requests for a task already waiting only add
    /// keys). A key this task used before is refused as illegal: keys are unique over a
    /// task's life.
    pub fn require_input(
        &mut self,
        now_ms: u64,
        id: &str,
        requests: InputRequests,
        message: Option<String>,
    ) -> Result<Option<TaskTransition>, TaskError> {
        let mut from = TaskStatus::InputRequired;
        self.update_live(now_ms, id, &mut |t| {
            from = t.status;
            if from != TaskStatus::InputRequired {
                check(t, TaskStatus::InputRequired)?;
            }
            if requests.keys().any(|k| t.used_keys.contains(k)) {
                return Err(TaskError::IllegalTransition {
                    id: t.id.clone(),
                    from,
                    to: TaskStatus::InputRequired,
                });
            }
            t.status = TaskStatus::InputRequired;
            if message.is_some() {
                t.status_message = message.clone();
            }
            t.updated_ms = now_ms;
            for (k, r) in &requests {
                t.used_keys.insert(k.clone());
                t.input_requests.insert(k.clone(), r.clone());
            }
            Ok(())
        })?;
        Ok((from != TaskStatus::InputRequired).then(|| TaskTransition {
            task_id: id.to_owned(),
            from,
            to: TaskStatus::InputRequired,
        }))
    }

    /// Takes the client's answers (`tasks/update`): only those for outstanding keys count,
    /// the rest are ignored. Answered keys stop being outstanding; when none remain the task
    /// goes back to `working`. Returns the answers that counted and that transition.
    pub fn answer_input(
        &mut self,
        now_ms: u64,
        id: &str,
        responses: InputResponses,
    ) -> Result<(InputResponses, Option<TaskTransition>), TaskError> {
        let mut accepted = InputResponses::new();
        let mut resumed = false;
        self.update_live(now_ms, id, &mut |t| {
            accepted.clear();
            resumed = false;
            for (k, v) in &responses {
                if t.input_requests.remove(k).is_some() {
                    accepted.insert(k.clone(), v.clone());
                }
            }
            if !accepted.is_empty() {
                t.updated_ms = now_ms;
            }
            if t.status == TaskStatus::InputRequired && t.input_requests.is_empty() {
                t.status = TaskStatus::Working;
                t.status_message = None;
                resumed = true;
            }
            Ok(())
        })?;
        let tr = resumed.then(|| TaskTransition {
            task_id: id.to_owned(),
            from: TaskStatus::InputRequired,
            to: TaskStatus::Working,
        });
        Ok((accepted, tr))
    }

    /// Withdraws outstanding input requests the task no longer waits on (its ask was
    /// dropped); back to `working` when none remain.
    pub fn withdraw_input(
        &mut self,
        now_ms: u64,
        id: &str,
        keys: &[String],
    ) -> Result<Option<TaskTransition>, TaskError> {
        let mut resumed = false;
        self.update_live(now_ms, id, &mut |t| {
            resumed = false;
            for k in keys {
                t.input_requests.remove(k);
            }
            if t.status == TaskStatus::InputRequired && t.input_requests.is_empty() {
                t.status = TaskStatus::Working;
                t.updated_ms = now_ms;
                resumed = true;
            }
            Ok(())
        })?;
        Ok(resumed.then(|| TaskTransition {
            task_id: id.to_owned(),
            from: TaskStatus::InputRequired,
            to: TaskStatus::Working,
        }))
    }

    /// One page of `owner`'s tasks in creation order. The cursor is opaque to peers.
    pub fn list(
        &self,
        now_ms: u64,
        owner: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<TaskPage, TaskError> {
        self.store
            .list(now_ms, owner, cursor, self.config.page_size.max(1))
    }

    /// Removes a task now.
    pub fn remove(&mut self, id: &str) -> Option<TaskEntry> {
        self.store.remove(id)
    }

    /// When the next task expires (Unix ms).
    pub fn next_expiry(&self) -> Option<u64> {
        self.store.next_expiry()
    }

    /// Removes every task whose TTL has run out at `now_ms`; returns their ids.
    pub fn expire(&mut self, now_ms: u64) -> Vec<String> {
        self.store.expire(now_ms)
    }

    fn update_live(
        &mut self,
        now_ms: u64,
        id: &str,
        f: &mut dyn FnMut(&mut TaskEntry) -> Result<(), TaskError>,
    ) -> Result<TaskEntry, TaskError> {
        self.store.update(id, &mut |t| {
            if t.is_expired(now_ms) {
                return Err(TaskError::Unknown(t.id.clone()));
            }
            f(t)
        })
    }
}

/// What a new task is.
#[derive(Debug, Clone, Default)]
pub struct NewTask<'a> {
    /// The method that creates it (e.g. `tools/call`).
    pub method: &'a str,
    /// Requested time to live (capped by the table's `max_ttl`).
    pub ttl: Option<Duration>,
    /// Suggested polling interval; the table's default when `None`.
    pub poll_interval: Option<Duration>,
    /// Who may see it (see [`TaskEntry::owner`]).
    pub owner: Option<String>,
}

fn check(t: &TaskEntry, to: TaskStatus) -> Result<(), TaskError> {
    if t.status.can_transition_to(to) {
        Ok(())
    } else {
        Err(TaskError::IllegalTransition {
            id: t.id.clone(),
            from: t.status,
            to,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;
    use crate::schema::mrtr::{InputRequest, InputResponse};

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(
            format_iso8601(1_764_064_800_000),
            "2025-11-25T10:00:00.000Z"
        );
    }

    #[test]
    fn wall_clock_maps_both_ways() {
        let now = crate::test_start();
        let c = WallClock::new(now, UNIX_EPOCH + Duration::from_secs(1_000));
        assert_eq!(c.unix_ms(now + Duration::from_millis(5)), 1_000_005);
        assert_eq!(c.instant_at(1_000_005), now + Duration::from_millis(5));
    }

    fn table(max: usize) -> (TaskTable, SeededEntropy) {
        let config = TaskConfig {
            max_tasks: max,
            default_ttl: Some(Duration::from_secs(10)),
            ..Default::default()
        };
        (TaskTable::new(config), SeededEntropy::new(7))
    }

    fn spec() -> NewTask<'static> {
        NewTask {
            method: "tools/call",
            ..Default::default()
        }
    }

    #[test]
    fn full_store_refuses_but_frees_expired_entries() {
        let (mut t, mut e) = table(1);
        let a = t.create(0, spec(), &mut e).unwrap();
        assert_eq!(t.create(9_999, spec(), &mut e), Err(TaskError::Full(1)));
        // Still there until its TTL ran out, then it makes room.
        assert!(t.get(9_999, &a.id).is_some());
        assert!(t.create(10_000, spec(), &mut e).is_ok());
        assert!(t.get(10_000, &a.id).is_none());
    }

    #[test]
    fn one_owner_cannot_fill_the_store_and_ttls_are_clamped() {
        let config = TaskConfig {
            max_tasks: 8,
            max_tasks_per_owner: 3,
            default_ttl: Some(Duration::from_secs(10)),
            max_ttl: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        let (mut t, mut e) = (TaskTable::new(config), SeededEntropy::new(7));
        let of = |owner: &str, ttl: u64| NewTask {
            method: "tools/call",
            ttl: Some(Duration::from_secs(ttl)),
            owner: Some(owner.to_owned()),
            ..Default::default()
        };
        let first = t.create(0, of("greedy", 5), &mut e).unwrap();
        for _ in 0..2 {
            t.create(0, of("greedy", 100_000), &mut e).unwrap();
        }
        assert_eq!(
            t.create(0, of("greedy", 5), &mut e),
            Err(TaskError::OwnerFull(3))
        );
        // Another owner is still served, and the store is not full.
        let other = t.create(0, of("polite", 100_000), &mut e).unwrap();
        assert_eq!(
            other.ttl_ms,
            Some(60_000),
            "a client's TTL is clamped to max_ttl"
        );
        // Once one of its tasks expires, the owner may create again.
        assert_eq!(first.ttl_ms, Some(5_000));
        assert!(t.create(5_000, of("greedy", 5), &mut e).is_ok());
        assert_eq!(
            t.create(5_000, of("greedy", 5), &mut e),
            Err(TaskError::OwnerFull(3))
        );
    }

    #[test]
    fn input_keys_are_answered_once_and_never_reused() {
        let (mut t, mut e) = table(4);
        let id = t.create(0, spec(), &mut e).unwrap().id;
        let ask = |k: &str| {
            let mut m = InputRequests::new();
            m.insert(k.to_owned(), InputRequest::list_roots());
            m
        };
        assert!(t.require_input(1, &id, ask("a"), None).unwrap().is_some());
        assert!(t.require_input(1, &id, ask("b"), None).unwrap().is_none());
        let answer = |k: &str| {
            let mut m = InputResponses::new();
            let roots = crate::schema::roots::ListRootsResult::default();
            m.insert(k.to_owned(), InputResponse::from(roots));
            m
        };
        let (got, tr) = t.answer_input(2, &id, answer("a")).unwrap();
        assert!(got.contains_key("a") && tr.is_none());
        let (got, _) = t.answer_input(2, &id, answer("a")).unwrap();
        assert!(got.is_empty(), "answered keys no longer count");
        let (_, tr) = t.answer_input(3, &id, answer("b")).unwrap();
        assert_eq!(tr.map(|t| t.to), Some(TaskStatus::Working));
        assert!(t.require_input(4, &id, ask("a"), None).is_err());
    }

    #[test]
    fn terminal_states_are_sticky_and_expiry_hides_tasks() {
        let (mut t, mut e) = table(4);
        let id = t.create(0, spec(), &mut e).unwrap().id;
        t.finish(1, &id, TaskOutcome::Result(Value::Null)).unwrap();
        assert!(t.transition(2, &id, TaskStatus::Cancelled, None).is_err());
        assert_eq!(t.next_expiry(), Some(10_000));
        assert!(t.get(9_999, &id).is_some());
        assert!(t.get(10_000, &id).is_none());
        assert!(matches!(
            t.transition(10_000, &id, TaskStatus::Cancelled, None),
            Err(TaskError::Unknown(_))
        ));
        assert_eq!(t.expire(10_000), vec![id]);
        assert!(t.is_empty());
    }
}
