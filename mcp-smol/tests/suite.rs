//! The shared behavioural suite on smol.

use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use mcp_smol::mcp_driver::http::client::Connector;
use mcp_smol::mcp_driver::{BoxFuture, Client, ClientHandler};
use mcp_smol::mcp_proto::session::ClientConfig;
use mcp_smol::{ChildError, ChildServer, Stderr};
use mcp_smol::{SmolConnector, SmolRuntime};
use mcp_testsuite::http::Accept;
use std::net::SocketAddr;

/// smol's TCP on 127.0.0.1 for the HTTP cases.
#[derive(Clone)]
struct Net;

impl mcp_testsuite::http::Net<SmolRuntime> for Net {
    fn listen(&self, accept: Accept) -> BoxFuture<'static, SocketAddr> {
        Box::pin(async move {
            let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            smol::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let _ = tcp.set_nodelay(true);
                    smol::spawn(accept(Box::new(tcp))).detach();
                }
            })
            .detach();
            addr
        })
    }

    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(SmolConnector)
    }
}

/// smol's child processes (async-process) for the child-process cases.
#[derive(Clone)]
struct Processes;

impl mcp_testsuite::child::Processes for Processes {
    type Child = ChildServer;
    const EVERYTHING: &'static str = "everything_smol";

    fn connect_child(
        &self,
        command: std::process::Command,
        config: ClientConfig,
        handler: Arc<dyn ClientHandler>,
    ) -> BoxFuture<'static, Result<ChildServer, ChildError>> {
        Box::pin(mcp_smol::connect_child(
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
        let mut kill = mcp_smol::Command::new("kill");
        kill.arg("-9").arg(pid.to_string());
        Box::pin(async move { kill.status().await })
    }
}

mcp_testsuite::suite!(
    mcp_smol::SmolRuntime,
    smol::block_on,
    crate::Net,
    crate::Processes
);
