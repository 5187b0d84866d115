//! A client and a server in one process, linked without a byte pipe: the engine moves each
//! frame from one session straight into the other. Same protocol, same sessions, no socket,
//! no extra tasks: the Sans-IO core makes the transport a dozen lines.

use std::sync::Arc;
use std::task::Context;
use std::time::Instant;

use mcp_proto::session::{ClientConfig, ClientSession, ConnectError, Transmit};

use crate::client::{self, Client, ClientHandler};
use crate::engine::{Attached, End, Engine, Io, Round, Transport};
use crate::runtime::Runtime;
use crate::server::{self, ServerHandle, Service};

/// Serves `service` to a client in the same process and returns both ends. The link runs on
/// `rt` until either side closes.
pub async fn connect_in_process<R: Runtime>(
    rt: R,
    service: Service,
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
) -> Result<(Client, ServerHandle), ConnectError> {
    let (handle, server) = server::new_shared(&rt, service);
    let now = rt.now();
    let horizon = config.request_timeout.idle;
    let mut session = ClientSession::new(config, now);
    session
        .connect(now)
        .map_err(|e| ConnectError::Malformed(e.to_string()))?;
    let (client, ready) = client::new_shared(session, handler);
    // While idle the timer still fires `horizon` ahead, so requests moved inline (deadlines
    // at least that far out) need no wake.
    let link = Engine::new(
        rt.clone(),
        vec![Box::new(client.clone()), Box::new(server)],
        Link,
    )
    .with_idle_horizon(horizon);
    // A caller that just sent a request moves it through both sessions itself: a handler
    // that answers at once is done before the caller even waits, with no task hop. If the
    // link is busy (its task is turning, or a handler is calling back in), the task does it.
    let kick = link.kick();
    rt.spawn(Box::pin(async move {
        let _ = link.await;
    }));
    let mut client = client::finish_connect(rt, client, ready).await?;
    client.set_kick(Arc::new(kick));
    Ok((client, handle))
}

/// Session 0 is the client, session 1 the server; each one's frames are the other's input.
struct Link;

impl<R: Runtime> Transport<R> for Link {
    const STOPPED: &'static str = "in-process link stopped";

    fn relay(
        &mut self,
        from: usize,
        now: Instant,
        out: &mut Vec<Transmit>,
        sessions: &[Box<dyn Attached<R>>],
    ) -> bool {
        if out.is_empty() {
            return false;
        }
        sessions[1 - from].deliver(now, &mut out.drain(..).map(|t| t.frame));
        true
    }

    fn poll_io(&mut self, _cx: Option<&mut Context<'_>>, round: &mut Round<'_, R>) -> Io {
        let mut io = Io::default();
        if round.stopped != 0 {
            let reason = if round.stopped & 1 != 0 {
                "client closed"
            } else {
                "server shut down"
            };
            io.end = Some(End::Done(reason.into()));
        }
        io
    }
}
