//! The shared behavioural suite on tokio.

use std::sync::Arc;

use mcp_tokio::mcp_driver::http::client::Connector;
use mcp_tokio::mcp_driver::BoxFuture;
use mcp_tokio::{HttpService, TokioConnector, TokioRuntime};

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
    fn serve(&self, http: HttpService<TokioRuntime>) -> BoxFuture<'static, String> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/mcp", listener.local_addr().unwrap());
            tokio::spawn(mcp_tokio::serve_http_with(listener, http));
            url
        })
    }

    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(TokioConnector)
    }
}

mcp_testsuite::suite!(mcp_tokio::TokioRuntime, block_on, crate::Net);
