//! What the interop tests share: finding peers and example binaries (skipping, or failing
//! under `MCP_REQUIRE_INTEROP`, when one is missing), starting an example server on
//! streamable HTTP, and running a peer's script for its JSON summary.
//!
//! Included by each interop test with `#[path = "interop/support.rs"] mod support;`.

// Each test uses the part it needs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Bounds one run of a peer's script (the scripts bound their own steps too).
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Bounds the wait for a server to say where it listens.
const START_LIMIT: Duration = Duration::from_secs(30);

/// What the example servers print on stderr once they accept connections, before the URL.
const SERVING: &str = "serving streamable HTTP at ";

/// Says why the test cannot run and returns `None`; panics under `MCP_REQUIRE_INTEROP`
/// (see [`mcp_testsuite::interop_skip`], which also records the skip for the CI summary).
pub fn missing<T>(msg: &str) -> Option<T> {
    mcp_testsuite::interop_skip(msg)
}

/// `Some(path)` if `path` is a file; otherwise [`missing`].
pub fn required(path: PathBuf, what: &str, hint: &str) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path);
    }
    missing(&format!("{what} not found at {}; {hint}", path.display()))
}

/// `.tools/<rest>` at the repository's root (where `scripts/install-peers` installs).
pub fn tools(rest: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.tools")
        .join(rest)
}

/// A script of `tests/interop/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// An example binary of the workspace: test binaries live in `target/<profile>/deps/`,
/// examples in `target/<profile>/examples/`.
pub fn example(name: &str, package: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    required(
        path,
        &format!("the {name} example"),
        &format!("run the tests with `cargo test --workspace`, which builds it, or `cargo build -p {package} --example {name}`"),
    )
}

/// An example server serving streamable HTTP on a port of its choosing on 127.0.0.1; killed
/// when dropped.
pub struct HttpServer {
    /// The endpoint, as the server printed it (`http://127.0.0.1:PORT/mcp`).
    pub url: String,
    stderr: Arc<Mutex<String>>,
    /// Signalled at every line the server writes on stderr.
    line: Arc<tokio::sync::Notify>,
    _child: Child,
}

impl HttpServer {
    /// Starts `binary http --bind 127.0.0.1:0` and waits for the line saying where it listens.
    pub async fn start(binary: &Path) -> HttpServer {
        let mut child = Command::new(binary)
            .args(["http", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", binary.display()));
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let url = tokio::time::timeout(START_LIMIT, async {
            while let Some(line) = lines.next_line().await.expect("the server's stderr") {
                let mut log = stderr.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
                if let Some((_, url)) = line.split_once(SERVING) {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} said nothing about serving in {START_LIMIT:?}",
                binary.display()
            )
        })
        .unwrap_or_else(|| {
            panic!(
                "{} ended before serving:\n{}",
                binary.display(),
                stderr.lock().unwrap()
            )
        });
        // Keep reading, so the server never blocks on a full pipe and failures can show
        // what it said.
        let log = stderr.clone();
        let line = Arc::new(tokio::sync::Notify::new());
        let said = line.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
                said.notify_waiters();
            }
        });
        HttpServer {
            url,
            stderr,
            line,
            _child: child,
        }
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until the server has written `needle` on stderr `times` times (woken by each
    /// line it writes; [`RUN_LIMIT`] bounds only a server that never does).
    pub async fn wait_for_stderr(&self, needle: &str, times: usize) {
        let seen = async {
            loop {
                let next_line = self.line.notified();
                if self.stderr().matches(needle).count() >= times {
                    return;
                }
                next_line.await;
            }
        };
        if tokio::time::timeout(RUN_LIMIT, seen).await.is_err() {
            panic!(
                "{}: the server never wrote {needle:?} {times} times:\n{}",
                self.url,
                self.stderr()
            );
        }
    }
}

/// What the `everything` example writes on stderr when a cancelled `long_running` handler
/// stops (its own cancellation branch ran: the server stopped the work, not only the client
/// its wait).
pub const LONG_RUNNING_STOPPED: &str = "everything: long_running cancelled after";

/// Checks the summary's `update_wait`: the seconds between asking for updates of the counter
/// resource and the first one arriving. The counter moves every
/// [`COUNTER_PERIOD`](mcp_examples_common::COUNTER_PERIOD) and its update must be pushed then,
/// not wait until something else flushes it.
///
/// A bound, not a signal, and one load cannot trip: the server's keep-alive period (15 s,
/// seven and a half counter periods). The peer sends nothing while it waits, so an update
/// held for the next request never arrives (the script's own step bound fails it), and one
/// held until a stream's keep-alive arrives at the bound or later.
pub fn check_update_wait(s: &Value, ctx: &str) {
    let period = mcp_examples_common::COUNTER_PERIOD;
    let limit = mcp_tokio::mcp_proto::http::StreamConfig::default()
        .keep_alive
        .expect("the example servers send keep-alives");
    assert!(limit >= 5 * period, "the bound must leave room for load");
    let wait = s["update_wait"]
        .as_f64()
        .unwrap_or_else(|| panic!("no update_wait in the summary: {ctx}"));
    assert!(
        wait < limit.as_secs_f64(),
        "the first resource update took {wait:.1} s to arrive (the counter moves every \
         {period:?}; allowed: {limit:?}, the keep-alive period): {ctx}"
    );
}

/// Runs a peer's script (`what` names it in failures) to the end and returns the JSON
/// summary it printed on stdout.
pub async fn run_json(command: Command, what: &str) -> Value {
    run_json_and_stderr(command, what).await.0
}

/// [`run_json`], and what the script (and any child it started, sharing its stderr) wrote
/// on stderr.
pub async fn run_json_and_stderr(mut command: Command, what: &str) -> (Value, String) {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{what} starts: {e}"));
    let out = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish in {RUN_LIMIT:?}"))
        .unwrap_or_else(|e| panic!("{what} ran: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed: {}\n{stderr}",
        out.status
    );
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what} printed no JSON summary ({e}):\n{}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (summary, stderr.into_owned())
}
