//! The shared behavioural suite on tokio.

use std::net::SocketAddr;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use mcp_testsuite::http::Accept;
use mcp_tokio::mcp_driver::http::client::Connector;
use mcp_tokio::mcp_driver::{BoxFuture, Client, ClientHandler};
use mcp_tokio::mcp_proto::session::ClientConfig;
use mcp_tokio::{ChildError, ChildServer, Stderr, TokioConnector, TokioRuntime};
use tokio_util::compat::TokioAsyncReadCompatExt;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// tokio's TCP on 127.0.0.1 for the HTTP cases.
#[derive(Clone)]
struct Net;

impl mcp_testsuite::http::Net<TokioRuntime> for Net {
    fn listen(&self, accept: Accept) -> BoxFuture<'static, SocketAddr> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let _ = tcp.set_nodelay(true);
                    tokio::spawn(accept(Box::new(tcp.compat())));
                }
            });
            addr
        })
    }

    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(TokioConnector)
    }
}

/// tokio's child processes for the child-process cases.
#[derive(Clone)]
struct Processes;

impl mcp_testsuite::child::Processes for Processes {
    type Child = ChildServer;
    const EVERYTHING: &'static str = "everything";

    fn connect_child(
        &self,
        command: std::process::Command,
        config: ClientConfig,
        handler: Arc<dyn ClientHandler>,
    ) -> BoxFuture<'static, Result<ChildServer, ChildError>> {
        Box::pin(mcp_tokio::connect_child(
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
        child.id()
    }

    fn shutdown(
        child: ChildServer,
        grace: Duration,
    ) -> BoxFuture<'static, std::io::Result<ExitStatus>> {
        Box::pin(child.shutdown(grace))
    }

    fn kill(&self, pid: u32) -> BoxFuture<'static, std::io::Result<ExitStatus>> {
        let mut kill = tokio::process::Command::new("kill");
        kill.arg("-9").arg(pid.to_string());
        Box::pin(async move { kill.status().await })
    }
}

mcp_testsuite::suite!(
    mcp_tokio::TokioRuntime,
    block_on,
    crate::Net,
    crate::Processes
);
