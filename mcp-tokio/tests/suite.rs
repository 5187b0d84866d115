//! The shared behavioural suite on tokio.

use std::net::SocketAddr;
use std::sync::Arc;

use mcp_testsuite::http::Accept;
use mcp_tokio::mcp_driver::http::client::Connector;
use mcp_tokio::mcp_driver::BoxFuture;
use mcp_tokio::{TokioConnector, TokioRuntime};
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

mcp_testsuite::child_processes!(mcp_tokio, "everything", tokio::process::Command);

mcp_testsuite::suite!(
    mcp_tokio::TokioRuntime,
    block_on,
    crate::Net,
    crate::Processes
);
