//! The shared behavioural suite on smol.

use std::sync::Arc;

use mcp_smol::mcp_driver::http::client::Connector;
use mcp_smol::mcp_driver::BoxFuture;
use mcp_smol::{HttpService, SmolConnector, SmolRuntime};

/// smol's TCP on 127.0.0.1 for the HTTP cases.
#[derive(Clone)]
struct Net;

impl mcp_testsuite::http::Net<SmolRuntime> for Net {
    fn serve(&self, http: HttpService<SmolRuntime>) -> BoxFuture<'static, String> {
        Box::pin(async move {
            let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/mcp", listener.local_addr().unwrap());
            smol::spawn(mcp_smol::serve_http_with(listener, http)).detach();
            url
        })
    }

    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(SmolConnector)
    }
}

mcp_testsuite::suite!(mcp_smol::SmolRuntime, smol::block_on, crate::Net);
