//! Plumbing the HTTP test files share: raw hyper client connections to a server on
//! 127.0.0.1 (HTTP/1.1, or HTTP/2 with prior knowledge) and reading whole bodies.

// Each test file uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use hyper::body::{Body as _, Incoming};
use hyper::client::conn::{http1, http2};
use mcp_tokio::mcp_driver::http::HyperIo;
use tokio_util::compat::TokioAsyncReadCompatExt;

/// Reads a body to its end.
pub async fn read_all(mut body: Incoming) -> Bytes {
    let mut out = BytesMut::new();
    while let Some(f) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(d) = f.unwrap().into_data() {
            out.extend_from_slice(&d);
        }
    }
    out.freeze()
}

enum Sender {
    H1(http1::SendRequest<String>),
    H2(http2::SendRequest<String>),
}

/// One client connection to the server, its hyper connection driven by a task of its own.
pub struct Conn {
    sender: Sender,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Exec;

impl<F: std::future::Future<Output = ()> + Send + 'static> hyper::rt::Executor<F> for Exec {
    fn execute(&self, fut: F) {
        tokio::spawn(fut);
    }
}

impl Conn {
    /// An HTTP/1.1 connection.
    pub async fn open(addr: SocketAddr) -> Conn {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, conn) = http1::handshake(HyperIo::new(tcp.compat())).await.unwrap();
        let task = tokio::spawn(async move {
            let _ = conn.await;
        });
        Conn {
            sender: Sender::H1(sender),
            task,
        }
    }

    /// An HTTP/2 connection (prior knowledge).
    pub async fn open_h2(addr: SocketAddr) -> Conn {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, conn) = http2::handshake(Exec, HyperIo::new(tcp.compat()))
            .await
            .unwrap();
        let task = tokio::spawn(async move {
            let _ = conn.await;
        });
        Conn {
            sender: Sender::H2(sender),
            task,
        }
    }

    /// Sends `method` to `path` with `headers` (and, unless they name one, host 127.0.0.1).
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> hyper::Response<Incoming> {
        let mut req = hyper::Request::builder().method(method);
        req = match self.sender {
            Sender::H1(_) if headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) => {
                req.uri(path)
            }
            Sender::H1(_) => req.uri(path).header("host", "127.0.0.1"),
            Sender::H2(_) => req
                .version(hyper::Version::HTTP_2)
                .uri(format!("http://127.0.0.1{path}")),
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body).unwrap();
        match &mut self.sender {
            Sender::H1(s) => s.send_request(req).await.unwrap(),
            Sender::H2(s) => s.send_request(req).await.unwrap(),
        }
    }

    /// Sends `method` to `/mcp` as an MCP client does (JSON body, accepting JSON and SSE),
    /// with `headers` on top.
    pub async fn send(
        &mut self,
        method: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> hyper::Response<Incoming> {
        let mut all = vec![
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ];
        all.extend_from_slice(headers);
        self.request(method, "/mcp", &all, body).await
    }

    /// POSTs `body` to `/mcp`; returns the status, the headers and the whole body.
    pub async fn post(
        &mut self,
        headers: &[(&str, &str)],
        body: serde_json::Value,
    ) -> (u16, hyper::HeaderMap, Bytes) {
        let resp = self.send("POST", headers, body.to_string()).await;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, read_all(resp.into_body()).await)
    }

    /// Drops the TCP connection, as a client that loses its network does.
    pub fn kill(self) {
        self.task.abort();
    }
}
