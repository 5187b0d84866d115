//! OAuth on tokio beyond the shared suite (whose `over_oauth` cases every runtime runs):
//! `LoopbackAuthorization` receiving a real browser-style redirect on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_tokio::mcp_driver::http::client::AuthHttp;
use mcp_tokio::{loopback_listener, AuthorizationHandler, LoopbackAuthorization};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GUARD: Duration = Duration::from_secs(30);

/// One request to 127.0.0.1:`port`, as a browser would send it; the whole response.
async fn get(port: u16, target: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req =
        format!("GET {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_authorization_takes_the_redirect_on_127_0_0_1() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "loopback_authorization_takes_the_redirect_on_127_0_0_1",
        async move {
            let listener = loopback_listener(0).await.unwrap();
            let port = listener.port();
            let shown = Arc::new(Mutex::new(Vec::new()));
            let s = shown.clone();
            let handler = LoopbackAuthorization::new(listener, move |url: &str| {
                s.lock().unwrap().push(url.to_owned())
            });
            assert_eq!(
                handler.redirect_uri(),
                format!("http://127.0.0.1:{port}/callback")
            );
            // The flow never sends anything itself: the user's browser does.
            let unused = AuthHttp::new(|_| Box::pin(async { Err("no requests expected".into()) }));
            let waiting =
                tokio::spawn(handler.authorize("https://as.example/authorize?x=1".into(), unused));

            // Other paths (a browser's favicon request) get 404 and do not end the wait.
            let favicon = tokio::time::timeout(GUARD, get(port, "/favicon.ico"))
                .await
                .unwrap();
            assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
            assert!(!waiting.is_finished());

            let page = tokio::time::timeout(
                GUARD,
                get(
                    port,
                    "/callback?code=the%20code&state=s1&iss=https%3A%2F%2Fas.example",
                ),
            )
            .await
            .unwrap();
            assert!(page.starts_with("HTTP/1.1 200"), "{page}");
            let params = tokio::time::timeout(GUARD, waiting)
                .await
                .unwrap()
                .unwrap()
                .expect("the redirect's parameters");
            assert_eq!(
                params,
                [
                    ("code".to_owned(), "the code".to_owned()),
                    ("state".to_owned(), "s1".to_owned()),
                    ("iss".to_owned(), "https://as.example".to_owned()),
                ]
            );
            assert_eq!(*shown.lock().unwrap(), ["https://as.example/authorize?x=1"]);
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_listener_serves_one_accept_at_a_time_and_survives_a_dropped_one() {
    mcp_testsuite::watchdog(
        mcp_tokio::TokioRuntime,
        "a_loopback_listener_serves_one_accept_at_a_time_and_survives_a_dropped_one",
        async move {
            let listener = loopback_listener(0).await.unwrap();
            let port = listener.port();
            let first = listener.accept();
            // A second accept while the first is pending is refused, not queued forever.
            let second = listener.accept().await;
            assert_eq!(
                second.err().map(|e| e.kind()),
                Some(std::io::ErrorKind::WouldBlock)
            );
            // Dropping the pending accept puts the listener back.
            drop(first);
            let accepting = listener.accept();
            let (accepted, _client) =
                tokio::join!(accepting, TcpStream::connect(("127.0.0.1", port)));
            assert!(accepted.is_ok());
        },
    )
    .await
}
