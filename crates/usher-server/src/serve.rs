//! The accept loop, with the limits `axum::serve` does not offer: a cap on open connections
//! (in total and per client address), a deadline for the request head, an inactivity deadline
//! for request bodies, and graceful shutdown. Without them a few hundred sockets sending half a
//! request each hold the server (issue 11, item 6). With a certificate ([`crate::tls`]) each
//! connection is TLS, its handshake under the same deadline as a request head.

use std::{
    collections::HashMap,
    convert::Infallible,
    future::Future,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo, http::Request};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::{GracefulShutdown, Watcher},
};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;
use tower_http::timeout::TimeoutBody;

use crate::{
    config::Config,
    proxies::{ClientAddr, TrustedProxies},
};

/// File descriptors kept for everything but client sockets (database pool, files, SMTP).
const RESERVED_FDS: u64 = 128;

/// What the accept loop enforces, taken from [`Config`].
#[derive(Debug, Clone)]
pub struct Edge {
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections per peer address at most (trusted proxies exempt).
    pub max_connections_per_ip: usize,
    /// Deadline for a whole request head.
    pub header_read_timeout: Duration,
    /// Longest silence inside a request body.
    pub body_read_timeout: Duration,
    /// Whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
}

impl Edge {
    /// The limits of `config`, with the connection cap lowered to what the open-file limit
    /// allows (a refused `accept` helps nobody).
    pub fn from_config(config: &Config, open_files: Option<u64>) -> Self {
        let mut max_connections = config.max_connections.max(1);
        if let Some(limit) = open_files {
            let room = usize::try_from(limit.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX);
            if room < max_connections {
                tracing::warn!(
                    max_connections,
                    open_files = limit,
                    "the open-file limit is too low for max_connections; capping connections at {room}"
                );
                max_connections = room;
            }
        }
        Self {
            max_connections,
            max_connections_per_ip: config.max_connections_per_ip.max(1),
            header_read_timeout: config.header_read_timeout,
            body_read_timeout: config.body_read_timeout,
            trusted_proxies: config.trusted_proxies.clone(),
        }
    }
}

/// Raises the soft open-file limit to the hard one, so the connection cap (not `EMFILE`)
/// decides how many clients are served; returns the limit now in force (`None`: unlimited or
/// unknown).
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::warn!(error = %e, "could not raise the open-file limit");
            }
        }
        getrlimit(Resource::Nofile).current
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Open connections per peer address.
#[derive(Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

/// One counted connection; uncounted when dropped.
struct IpSlot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    fn enter(table: &Arc<PerIp>, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut counts = table.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(IpSlot { table: table.clone(), ip })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut counts = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` resolves, then
/// lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    edge: Edge,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(edge.max_connections));
    let per_ip = Arc::new(PerIp::default());
    let graceful = GracefulShutdown::new();
    let edge = Arc::new(edge);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Waiting for a free slot before accepting leaves further clients in the kernel's
        // backlog rather than holding a file descriptor each.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ip_slot = if edge.trusted_proxies.contains(peer.ip()) {
            None
        } else {
            match PerIp::enter(&per_ip, peer.ip(), edge.max_connections_per_ip) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%peer, "too many connections from one address; closed");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        // Taken now, so a shutdown that starts during a TLS handshake still waits for the
        // connection and then closes it gracefully.
        let watcher = graceful.watcher();
        let (app, edge, tls) = (app.clone(), edge.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_connection(TokioIo::new(stream), peer, app, edge, watcher).await,
                // The handshake has the request head's deadline: a client that never finishes
                // it holds a slot no longer than one that never finishes its head.
                Some(acceptor) => match tokio::time::timeout(edge.header_read_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => serve_connection(TokioIo::new(stream), peer, app, edge, watcher).await,
                    Ok(Err(e)) => tracing::debug!(error = %e, %peer, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                },
            }
            drop(ip_slot);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Serves HTTP/1 requests on one connection (plain or TLS) until it closes.
async fn serve_connection<S>(io: TokioIo<S>, peer: SocketAddr, app: Router, edge: Arc<Edge>, watcher: Watcher)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let edge_for_requests = edge.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let edge = edge_for_requests.clone();
        let client = edge.trusted_proxies.client_ip(peer.ip(), request.headers());
        let mut request = request.map(|body| Body::new(TimeoutBody::new(edge.body_read_timeout, body)));
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(ClientAddr(client));
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.oneshot(request).await.unwrap_or_else(|never| match never {})) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(edge.header_read_timeout)
        .serve_connection(io, service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(error = %e, %peer, "connection ended with an error");
    }
}
