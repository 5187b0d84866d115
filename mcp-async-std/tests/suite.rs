//! The shared behavioural suite, driven by async-std's executor.

use std::sync::Arc;

use mcp_async_std::mcp_driver::http::client::Connector;
use mcp_async_std::mcp_driver::BoxFuture;
use mcp_async_std::{AsyncStdRuntime, SmolConnector};
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

// Child processes: mcp-smol's `connect_child` (async-process), which async-std programs use
// unchanged, re-exported by mcp-async-std.
mcp_testsuite::child_processes!(
    mcp_async_std,
    "everything_async_std",
    mcp_async_std::Command
);

mcp_testsuite::suite!(
    mcp_async_std::AsyncStdRuntime,
    async_std::task::block_on,
    crate::Net,
    crate::Processes
);
