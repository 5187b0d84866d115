//! The shared behavioural suite on smol.

use std::sync::Arc;

use mcp_smol::mcp_driver::http::client::Connector;
use mcp_smol::mcp_driver::BoxFuture;
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

mcp_testsuite::child_processes!(mcp_smol, "everything_smol", mcp_smol::Command);

mcp_testsuite::suite!(
    mcp_smol::SmolRuntime,
    smol::block_on,
    crate::Net,
    crate::Processes
);
