//! The HTTP listeners. Each accepted connection is served with HTTP/1.1 under the limits in
//! [`ConnectionLimits`]: a header-read timeout (which also ends kept-alive connections left
//! unused), a per-request timeout, an idle timeout for a connection that stops moving bytes,
//! and a cap on open connections per listener ([`slots`]), so neither slow clients nor many
//! clients on one listener can keep another listener's requests waiting.
//!
//! A listener given a [`Tls`] serves HTTPS: a connection whose first byte opens a TLS
//! handshake is served encrypted, any other is served as plain HTTP (which the web layer
//! answers from other computers with a redirect to https). Each request carries its
//! [`Encryption`].
//!
//! Stopping: the listener closes, connections without a request in progress close at once,
//! and requests in progress finish before `serve` returns.

mod activity;
mod open_files;
mod slots;

pub use open_files::fit_open_files_limit;

use crate::config::ConnectionLimits;
use crate::tls::Tls;
use activity::{Activity, Watched};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use slots::{InFlight, Slot, Slots};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Whether a request came over TLS on this listener (a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    Plain,
    Tls,
}

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// Serves `router` on `listener` until `stop` turns true, then waits for requests in progress.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    tls: Option<Arc<Tls>>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let slots = Slots::new(limits.max_per_listener);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of files or memory: give closing connections a moment, keep serving.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let Some(slot) = slots.admit() else {
            tracing::debug!(%peer, "connection refused: every connection has a request in progress");
            continue;
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(open_connection(
            stream,
            peer,
            router.clone(),
            limits,
            tls.clone(),
            slot,
            stop.clone(),
        ));
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Starts a connection: on a TLS listener, waits (within the header-read timeout) for the
/// client's first byte and completes the handshake if it opens one.
async fn open_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    tls: Option<Arc<Tls>>,
    slot: Slot,
    stop: watch::Receiver<bool>,
) {
    let activity = Activity::new();
    let acceptor = match tls {
        None => None,
        Some(tls) => {
            let mut first = [0u8; 1];
            match tokio::time::timeout(limits.header_read, stream.peek(&mut first)).await {
                Ok(Ok(1)) => (first[0] == TLS_HANDSHAKE).then(|| tls.acceptor()),
                _ => return,
            }
        }
    };
    let io = Watched::new(stream, activity.clone());
    let Some(acceptor) = acceptor else {
        return serve_connection(
            io,
            Encryption::Plain,
            peer,
            router,
            limits,
            activity,
            slot,
            stop,
        )
        .await;
    };
    let handshake = tokio::time::timeout(limits.header_read, acceptor.accept(io)).await;
    match handshake {
        Ok(Ok(io)) => {
            serve_connection(
                io,
                Encryption::Tls,
                peer,
                router,
                limits,
                activity,
                slot,
                stop,
            )
            .await
        }
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve_connection<I>(
    io: I,
    encryption: Encryption,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    activity: Activity,
    slot: Slot,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    let conn_state = slot.conn().clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let in_flight = conn_state.begin_request();
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(encryption);
        let router = router.clone();
        async move {
            let res = match tokio::time::timeout(limits.request, router.oneshot(req)).await {
                Ok(Ok(res)) => res,
                Ok(Err(never)) => match never {},
                Err(_) => timed_out(),
            };
            Ok::<_, Infallible>(res.map(|body| Tracked {
                body,
                _in_flight: in_flight,
            }))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = activity.idle_for(limits.idle) => return,
            _ = slot.displaced(), if !closing => {
                if !slot.conn().has_request() {
                    return;
                }
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = stop.wait_for(|s| *s), if !closing => {
                if !slot.conn().has_request() {
                    return;
                }
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

fn timed_out() -> Response<axum::body::Body> {
    (
        StatusCode::REQUEST_TIMEOUT,
        "The request took too long and was stopped; try again.",
    )
        .into_response()
}

/// A reply body that keeps its request counted as in progress until it has been sent.
struct Tracked {
    body: axum::body::Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
