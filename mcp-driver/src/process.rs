//! Child-process servers: what every runtime's `connect_child` shares.

use std::future::Future;
use std::io;
use std::process::ExitStatus;
use std::time::Duration;

use mcp_proto::session::ConnectError;

/// What to do with a child server's stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stderr {
    /// Pass it through to our stderr.
    #[default]
    Inherit,
    /// Discard it.
    Null,
    /// Forward each line to our stderr prefixed with the program name (read by a task, so a
    /// chatty server never blocks on a full pipe).
    Prefixed,
}

impl Stderr {
    /// How the child's stderr is set up for this choice.
    pub fn stdio(self) -> std::process::Stdio {
        match self {
            Stderr::Inherit => std::process::Stdio::inherit(),
            Stderr::Null => std::process::Stdio::null(),
            Stderr::Prefixed => std::process::Stdio::piped(),
        }
    }
}

/// Why a child server could not be started or connected.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// The process could not be spawned.
    #[error("could not start the server: {0}")]
    Spawn(io::Error),
    /// The handshake failed (the server crashed, wrote garbage, or refused).
    #[error("could not connect to the server: {0}")]
    Connect(ConnectError),
}

/// A running child process, as the shutdown sequence needs it.
pub trait ChildProcess {
    /// Waits for exit for at most `grace`; `None` if still running.
    fn wait_for(
        &mut self,
        grace: Duration,
    ) -> impl Future<Output = Option<io::Result<ExitStatus>>> + Send;
    /// The process id, while it runs.
    fn pid(&self) -> Option<u32>;
    /// Kills the process and waits for it.
    fn kill_and_wait(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + Send;
}

/// The MCP stdio shutdown sequence, after the caller closed the child's stdin: wait up to
/// `grace`, then SIGTERM and wait up to `grace` again, then SIGKILL.
pub async fn shutdown_child<C: ChildProcess + Send>(
    child: &mut C,
    grace: Duration,
) -> io::Result<ExitStatus> {
    if let Some(status) = child.wait_for(grace).await {
        return status;
    }
    #[cfg(unix)]
    if let Some(pid) = child.pid() {
        terminate(pid);
        if let Some(status) = child.wait_for(grace).await {
            return status;
        }
    }
    child.kill_and_wait().await
}

#[cfg(unix)]
fn terminate(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // `kill` has no memory-safety preconditions; it is `unsafe` only by FFI convention.
        // The pid cannot have been reused: the caller still holds the unreaped child.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}
