//! Child-process servers, written once: a runtime spawns the process (its own `Command`)
//! and lends it through [`ChildProcess`]; connecting, forwarding stderr and the graceful
//! shutdown sequence are here.

use std::future::Future;
use std::io;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use futures_lite::StreamExt;
use mcp_proto::session::{ClientConfig, ConnectError};

use crate::{Client, ClientHandler, Runtime};

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

/// A runtime's spawned child process, with its stdio pipes, as the driver needs it.
pub trait ChildProcess: Send + 'static {
    /// The pipe to the child's stdin.
    type Stdin: AsyncWrite + Unpin + Send + 'static;
    /// The pipe from the child's stdout.
    type Stdout: AsyncRead + Unpin + Send + 'static;
    /// The pipe from the child's stderr.
    type Stderr: AsyncRead + Unpin + Send + 'static;

    /// Takes the stdio pipes (stdin and stdout must have been piped; stderr when asked).
    fn take_stdio(&mut self) -> ChildPipes<Self::Stdin, Self::Stdout, Self::Stderr>;
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

/// A child's stdio pipes, each `None` when not piped (or already taken).
#[derive(Debug)]
pub struct ChildPipes<I, O, E> {
    /// To the child's stdin.
    pub stdin: Option<I>,
    /// From the child's stdout.
    pub stdout: Option<O>,
    /// From the child's stderr.
    pub stderr: Option<E>,
}

/// A server running as a child process, with a connected client.
///
/// Dropping it kills the process (the runtime spawns it with kill-on-drop).
/// [`shutdown`](Self::shutdown) ends it gracefully: close its stdin, wait, then SIGTERM, then
/// SIGKILL.
#[derive(Debug)]
pub struct ChildServer<C> {
    child: C,
    client: Client,
}

impl<C: ChildProcess> ChildServer<C> {
    /// The client talking to the child.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The child's process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.pid()
    }

    /// Ends the child: closes its stdin and waits up to `grace`, then sends SIGTERM and waits
    /// up to `grace` again, then kills it.
    pub async fn shutdown(mut self, grace: Duration) -> io::Result<ExitStatus> {
        self.client.close();
        shutdown_child(&mut self.child, grace).await
    }
}

/// Connects to a child a runtime just spawned as an MCP server on stdio. `name` prefixes its
/// stderr lines when they are forwarded ([`Stderr::Prefixed`], i.e. stderr piped).
pub async fn connect_spawned<R: Runtime, C: ChildProcess>(
    rt: R,
    mut child: C,
    name: String,
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
) -> Result<ChildServer<C>, ChildError> {
    let ChildPipes {
        stdin: Some(stdin),
        stdout: Some(stdout),
        stderr,
    } = child.take_stdio()
    else {
        return Err(ChildError::Spawn(io::Error::other(
            "child has no stdio pipes",
        )));
    };
    if let Some(err) = stderr {
        rt.spawn(Box::pin(async move {
            let mut lines = BufReader::new(err).lines();
            while let Some(Ok(line)) = lines.next().await {
                eprintln!("[{name}] {line}");
            }
        }));
    }
    let client = crate::connect(rt, config, handler, stdout, stdin)
        .await
        .map_err(ChildError::Connect)?;
    Ok(ChildServer { child, client })
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
