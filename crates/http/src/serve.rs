//! The server loop: what `axum::serve` does (accept, HTTP/1.1 through hyper, the client's
//! address as `ConnectInfo`, graceful shutdown that lets requests in flight finish), plus a
//! header-read timeout, which `axum::serve` cannot be given.
//!
//! hyper starts the header-read timer whenever a connection waits for a request's head: on
//! a new connection and between the requests of a kept-alive one. So one limit closes both a
//! client that sends its headers a byte at a time (slowloris) and a keep-alive connection
//! left idle; without it a thousand such connections stayed open indefinitely.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::time::Duration;
use tower::ServiceExt;

/// How the server treats connections.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Time a client has to send a request's head, counted from when the connection starts
    /// waiting for it (also the longest a kept-alive connection may stay idle).
    pub header_read_timeout: Duration,
}

/// Default for [`ServeOptions::header_read_timeout`].
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

/// Serve `app` on `listener` until `shutdown` completes; then stop accepting, let the
/// requests in flight finish, and return.
pub async fn serve(
    mut listener: tokio::net::TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .keep_alive(true);
    loop {
        // axum's `Listener` for `TcpListener` retries failed accepts (backing off when the
        // process is out of file descriptors), as `axum::serve` does.
        let (stream, remote) = tokio::select! {
            conn = axum::serve::Listener::accept(&mut listener) => conn,
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(remote));
            app.clone().oneshot(req.map(Body::new))
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::debug!("not accepting any more connections; waiting for those open");
    graceful.shutdown().await;
    Ok(())
}
