//! The suite against servers run as child processes: each runtime's `connect_child`, its
//! handle, and servers that misbehave, crash or stop. Every case ends with a clear outcome
//! and no hang; [`within`] fails a case that would hang instead of blocking the run.
//!
//! The well-behaved server is the runtime crate's own `everything` example, which
//! `cargo test -p <crate>` builds next to the test binaries; the misbehaving ones are shell
//! one-liners.

use std::io;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::time::Duration;

use mcp_driver::mcp_proto::schema::{Era, Implementation};
use mcp_driver::mcp_proto::session::{ClientConfig, ConnectError, EraPreference, RequestError};
use mcp_driver::process::ChildError;
use mcp_driver::{BoxFuture, CallError, Client, ClientHandler, NoHandler, Runtime};
use serde_json::json;

use crate::{expected_era, Signal};

/// What a runtime lends the child-process cases: its `connect_child` and the handle that
/// returns (the handle's type is the runtime crate's, hence associated functions).
pub trait Processes: Clone + Send + Sync + 'static {
    /// The runtime crate's `ChildServer`; dropping it kills the process.
    type Child: Send + 'static;

    /// The name of the runtime crate's `everything` example (run with `stdio`, it serves
    /// one client on stdin and stdout and exits when stdin closes).
    const EVERYTHING: &'static str;

    /// The runtime crate's `connect_child`, with the child's stderr discarded.
    fn connect_child(
        &self,
        command: Command,
        config: ClientConfig,
        handler: Arc<dyn ClientHandler>,
    ) -> BoxFuture<'static, Result<Self::Child, ChildError>>;

    /// The client talking to the child.
    fn client(child: &Self::Child) -> &Client;

    /// The child's process id, while it runs.
    fn id(child: &Self::Child) -> Option<u32>;

    /// The handle's graceful shutdown: close stdin, wait up to `grace`, SIGTERM, wait again,
    /// SIGKILL.
    fn shutdown(child: Self::Child, grace: Duration) -> BoxFuture<'static, io::Result<ExitStatus>>;

    /// Sends SIGKILL to `pid` from outside (`kill -9`, the crash the cases stage), through
    /// the runtime's own process support; resolves to `kill`'s exit status.
    fn kill(&self, pid: u32) -> BoxFuture<'static, io::Result<ExitStatus>>;
}

/// An example binary of the crate under test: examples are built into `examples/` next to
/// the folder holding the test binary (`target/<profile>/deps`).
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let bin = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} missing: `cargo test -p <crate>` (or `cargo build --example {name}`) builds it",
        bin.display()
    );
    bin
}

pub use crate::python::python_server_over_stdio;
pub use crate::within;

/// Bounds each step of a case; generous, since a real child on a loaded 2-core machine can
/// take seconds to start. Only a hang reaches it.
const GUARD: Duration = Duration::from_secs(60);
const ERAS: [EraPreference; 2] = [EraPreference::Auto, EraPreference::Legacy];

/// Short handshake deadlines, so the cases that expect no answer (a silent or broken
/// server, never a real one) end quickly.
fn quick_config(era: EraPreference) -> ClientConfig {
    let mut c = ClientConfig::new(Implementation::new("child-suite", "1"));
    c.era = era;
    c.probe_timeout = Duration::from_millis(200);
    c.initialize_timeout = Duration::from_millis(400);
    c
}

/// Handshake deadlines for a real server: the era it answers in must not depend on how fast
/// the machine starts it. A `server/discover` probe that timed out would fall back to
/// `initialize` and pass as a legacy server; the deadline is the guard's, not a guess at
/// start-up time.
fn patient_config(era: EraPreference) -> ClientConfig {
    let mut c = ClientConfig::new(Implementation::new("child-suite", "1"));
    c.era = era;
    c.probe_timeout = GUARD;
    c.initialize_timeout = GUARD;
    c
}

fn sh(script: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(script);
    c
}

fn everything<P: Processes>() -> Command {
    let mut c = Command::new(example_binary(P::EVERYTHING));
    c.arg("stdio");
    c
}

/// `script` run by `sh` with the `everything` binary as `$0`.
fn around_everything<P: Processes>(script: &str) -> Command {
    let mut c = sh(script);
    c.arg(example_binary(P::EVERYTHING));
    c
}

/// Connects to `command` expecting it to fail; the error, within the guard.
async fn refused<R: Runtime, P: Processes>(
    rt: &R,
    procs: &P,
    command: Command,
    era: EraPreference,
) -> ChildError {
    let what = format!("{command:?} ({era:?})");
    let r = within(
        rt,
        GUARD,
        &what,
        procs.connect_child(command, quick_config(era), Arc::new(NoHandler)),
    )
    .await;
    match r {
        Ok(child) => panic!("{what}: connected to {:?}", P::client(&child).server()),
        Err(e) => e,
    }
}

/// Connects to the `everything` example in `era`.
async fn connected<R: Runtime, P: Processes>(
    rt: &R,
    procs: &P,
    command: Command,
    era: EraPreference,
) -> P::Child {
    let child = within(
        rt,
        GUARD,
        "connecting to everything",
        procs.connect_child(command, patient_config(era), Arc::new(NoHandler)),
    )
    .await
    .unwrap_or_else(|e| panic!("connecting to everything ({era:?}): {e}"));
    assert_eq!(P::client(&child).server().era, expected_era(era));
    child
}

/// A server whose first lines are not JSON-RPC fails the handshake, in both eras.
pub async fn a_server_writing_garbage_fails_the_handshake<R: Runtime, P: Processes>(
    rt: R,
    procs: P,
) {
    for era in ERAS {
        let script = r#"echo 'this is not json'; echo '{"also": "not mcp"}'; cat >/dev/null"#;
        let e = refused(&rt, &procs, sh(script), era).await;
        assert!(matches!(e, ChildError::Connect(_)), "{era:?}: {e:?}");
    }
}

/// A server that reads and never answers: the handshake times out, in both eras.
pub async fn a_silent_server_times_out<R: Runtime, P: Processes>(rt: R, procs: P) {
    for era in ERAS {
        let e = refused(&rt, &procs, sh("cat >/dev/null"), era).await;
        assert!(
            matches!(e, ChildError::Connect(ConnectError::Timeout)),
            "{era:?}: {e:?}"
        );
    }
}

/// A server that exits before answering is a connect error, in both eras.
pub async fn a_server_exiting_at_once_is_a_connect_error<R: Runtime, P: Processes>(
    rt: R,
    procs: P,
) {
    for era in ERAS {
        let e = refused(&rt, &procs, sh("exit 3"), era).await;
        assert!(matches!(e, ChildError::Connect(_)), "{era:?}: {e:?}");
    }
}

/// A program that does not exist is a spawn error.
pub async fn a_missing_program_is_a_spawn_error<R: Runtime, P: Processes>(rt: R, procs: P) {
    let missing = Command::new("/nonexistent/mcp-server");
    let e = refused(&rt, &procs, missing, EraPreference::Auto).await;
    assert!(matches!(e, ChildError::Spawn(_)), "{e:?}");
}

/// A server killed (SIGKILL) while a call runs: the call ends with `Closed` instead of
/// hanging, and the client is closed, in both eras.
pub async fn a_server_killed_mid_call_fails_the_call<R: Runtime, P: Processes>(rt: R, procs: P) {
    for era in ERAS {
        let child = connected(&rt, &procs, everything::<P>(), era).await;
        let client = P::client(&child).clone();
        let pid = P::id(&child).expect("running");
        let in_flight = Signal::default();
        let seen = in_flight.clone();
        // 50 steps of 200 ms: long enough never to finish before the kill.
        let call = client.call_tool_with(
            "long_running",
            json!({"steps": 50, "step_ms": 200}),
            Some(Box::new(move |_| seen.set())),
        );
        // The first progress proves the call is in flight; then the server dies.
        let crash = async {
            in_flight.wait().await;
            let status = procs.kill(pid).await.expect("kill runs");
            assert!(status.success(), "kill -9 {pid}: {status:?}");
            std::future::pending().await
        };
        let r = within(
            &rt,
            GUARD,
            "a call to a killed server",
            futures_lite::future::or(call, crash),
        )
        .await;
        assert!(
            matches!(r, Err(CallError::Request(RequestError::Closed))),
            "{era:?}: {r:?}"
        );
        assert!(client.is_closed(), "{era:?}");
        drop(child);
    }
}

/// Dropping the handle kills the child: its client's calls end with `Closed`, not with
/// the 10-second answer a living server would give.
pub async fn dropping_the_handle_kills_the_child<R: Runtime, P: Processes>(rt: R, procs: P) {
    let child = connected(&rt, &procs, everything::<P>(), EraPreference::Auto).await;
    let client = P::client(&child).clone();
    let r = client
        .call_tool("echo", json!({"message": "alive"}))
        .await
        .unwrap();
    assert_eq!(r.content[0].as_text(), Some("alive"));
    drop(child);
    let r = within(
        &rt,
        GUARD,
        "a call after the handle was dropped",
        client.call_tool("long_running", json!({"steps": 50, "step_ms": 200})),
    )
    .await;
    assert!(
        matches!(r, Err(CallError::Request(RequestError::Closed))),
        "{r:?}"
    );
    assert!(client.is_closed());
}

/// A well-behaved server exits by itself once its stdin closes: `shutdown` needs no signal
/// and the exit status is a success, in both eras. Afterwards the client is closed.
pub async fn graceful_shutdown_ends_the_child<R: Runtime, P: Processes>(rt: R, procs: P) {
    for era in ERAS {
        let child = connected(&rt, &procs, everything::<P>(), era).await;
        let client = P::client(&child).clone();
        let r = client
            .call_tool("echo", json!({"message": "bye"}))
            .await
            .unwrap();
        assert_eq!(r.content[0].as_text(), Some("bye"));
        // A grace far beyond the guard: only the server's own exit ends this in time.
        let status = within(&rt, GUARD, "shutdown", P::shutdown(child, GUARD * 2))
            .await
            .unwrap();
        assert!(status.success(), "{era:?}: {status:?}");
        assert!(client.is_closed(), "{era:?}");
        let r = client.call_tool("echo", json!({"message": "late"})).await;
        assert!(
            matches!(r, Err(CallError::Request(RequestError::Closed))),
            "{r:?}"
        );
    }
}

/// `shutdown` escalates when closing stdin is not enough: a server that stays after its
/// stdin closes ends by SIGTERM after the grace period, and one that also ignores SIGTERM
/// by SIGKILL after the second.
pub async fn shutdown_escalates_to_sigterm_then_sigkill<R: Runtime, P: Processes>(rt: R, procs: P) {
    // `everything` serves and exits when stdin closes; the child (same pid) then lives on
    // as `tail -f`, its output away from the closed pipe (a `tail` writing to it would end
    // by SIGPIPE on its own).
    let stays = r#""$0" stdio; exec tail -f /dev/null >/dev/null"#;
    let stays_deaf = r#"trap '' TERM; "$0" stdio; exec tail -f /dev/null >/dev/null"#;
    let grace = Duration::from_millis(200);
    for (script, signal) in [(stays, 15), (stays_deaf, 9)] {
        let child = connected(
            &rt,
            &procs,
            around_everything::<P>(script),
            EraPreference::Auto,
        )
        .await;
        assert_eq!(P::client(&child).server().era, Era::Modern);
        let started = rt.now();
        let status = within(&rt, GUARD, "shutdown", P::shutdown(child, grace))
            .await
            .unwrap();
        assert!(!status.success(), "{script}: {status:?}");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(signal), "{script}: {status:?}");
        }
        // The grace periods were honoured: one before SIGTERM, another before SIGKILL.
        let waited = rt.now() - started;
        let graces = if signal == 9 { 2 } else { 1 };
        assert!(waited >= grace * graces, "{script}: ended after {waited:?}");
    }
}

/// Defines `struct Processes` for a runtime crate whose child-process API has
/// `mcp-tokio`'s shape (`connect_child`, `ChildServer`, `Stderr`, `ChildError`): its path,
/// the name of its `everything` example, the async `Command` that runs `kill`, and how a
/// `ChildServer`'s pid reads as an `Option<u32>`.
#[macro_export]
macro_rules! child_processes {
    ($krate:ident, $everything:literal, $command:path) => {
        /// The runtime's child processes for the child-process cases.
        #[derive(Clone)]
        struct Processes;

        impl $crate::child::Processes for Processes {
            type Child = $krate::ChildServer;
            const EVERYTHING: &'static str = $everything;

            fn connect_child(
                &self,
                command: std::process::Command,
                config: $krate::mcp_proto::session::ClientConfig,
                handler: std::sync::Arc<dyn $krate::mcp_driver::ClientHandler>,
            ) -> $krate::mcp_driver::BoxFuture<
                'static,
                Result<$krate::ChildServer, $krate::ChildError>,
            > {
                Box::pin($krate::connect_child(
                    command.into(),
                    config,
                    handler,
                    $krate::Stderr::Null,
                ))
            }

            fn client(child: &$krate::ChildServer) -> &$krate::mcp_driver::Client {
                child.client()
            }

            fn id(child: &$krate::ChildServer) -> Option<u32> {
                child.id()
            }

            fn shutdown(
                child: $krate::ChildServer,
                grace: std::time::Duration,
            ) -> $krate::mcp_driver::BoxFuture<'static, std::io::Result<std::process::ExitStatus>>
            {
                Box::pin(child.shutdown(grace))
            }

            fn kill(
                &self,
                pid: u32,
            ) -> $krate::mcp_driver::BoxFuture<'static, std::io::Result<std::process::ExitStatus>>
            {
                let mut kill = <$command>::new("kill");
                kill.arg("-9").arg(pid.to_string());
                Box::pin(async move { kill.status().await })
            }
        }
    };
}

pub use crate::hostile::{
    a_hostile_stdio_peer_gets_one_answer_per_request_in_bounded_memory,
    a_hostile_tcp_peer_gets_one_answer_per_request_in_bounded_memory,
};
pub use crate::hostile_http::a_hostile_http_peer_gets_one_answer_per_request_in_bounded_memory;
