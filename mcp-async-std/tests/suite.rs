//! The shared behavioural suite, driven by async-std's executor.

use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use mcp_async_std::mcp_driver::http::client::Connector;
use mcp_async_std::mcp_driver::{BoxFuture, Client, ClientHandler};
use mcp_async_std::mcp_proto::session::ClientConfig;
use mcp_async_std::{AsyncStdRuntime, ChildError, ChildServer, SmolConnector, Stderr};
use mcp_testsuite::http::Accept;
use std::net::SocketAddr;

/// async-std's listener on 127.0.0.1 for the HTTP cases (connections share smol's reactor,
/// which async-std runs on).
#[derive(Clone)]
struct Net;

impl mcp_testsuite::http::Net<AsyncStdRuntime> for Net {
    fn listen(&self, accept: Accept) -> BoxFuture<'static, SocketAddr> {
        Box::pin(async move {
            let listener = async_std::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let addr = listener.local_addr().unwrap();
            async_std::task::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let _ = tcp.set_nodelay(true);
                    async_std::task::spawn(accept(Box::new(tcp)));
                }
            });
            addr
        })
    }

    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(SmolConnector)
    }
}

/// Child processes for the child-process cases: mcp-smol's `connect_child` (async-process),
/// which async-std programs use unchanged.
#[derive(Clone)]
struct Processes;

impl mcp_testsuite::child::Processes for Processes {
    type Child = ChildServer;
    const EVERYTHING: &'static str = "everything_async_std";

    fn connect_child(
        &self,
        command: std::process::Command,
        config: ClientConfig,
        handler: Arc<dyn ClientHandler>,
    ) -> BoxFuture<'static, Result<ChildServer, ChildError>> {
        Box::pin(mcp_async_std::connect_child(
            command.into(),
            config,
            handler,
            Stderr::Null,
        ))
    }

    fn client(child: &ChildServer) -> &Client {
        child.client()
    }

    fn id(child: &ChildServer) -> Option<u32> {
        Some(child.id())
    }

    fn shutdown(
        child: ChildServer,
        grace: Duration,
    ) -> BoxFuture<'static, std::io::Result<ExitStatus>> {
        Box::pin(child.shutdown(grace))
    }

    fn kill(&self, pid: u32) -> BoxFuture<'static, std::io::Result<ExitStatus>> {
        let mut kill = mcp_async_std::Command::new("kill");
        kill.arg("-9").arg(pid.to_string());
        Box::pin(async move { kill.status().await })
    }
}

mcp_testsuite::suite!(
    mcp_async_std::AsyncStdRuntime,
    async_std::task::block_on,
    crate::Net,
    crate::Processes
);
