//! Serving the API with limits: a cap on open connections, in all and per client IP, a
//! deadline for a request's
//! headers (slowloris) that also ends idle keep-alive connections, a cap on body size, a
//! deadline for each request, and a cap on open event streams.
//!
//! `axum::serve` has none of these knobs, so connections are accepted here and handed to
//! hyper's HTTP/1 server with a timer. A connection beyond the cap is accepted and closed at
//! once: its client gets an immediate error instead of hanging in the kernel's backlog.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tracing::{debug, warn};

use super::ApiError;

/// The API's limits (`[api]` in `config.toml`, documented in `docs/running-a-node.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// Open connections at most; further ones are closed on accept.
    pub max_connections: usize,
    /// Open connections from one IP address at most (loopback exempt: a local proxy or
    /// tool); further ones are closed on accept, so one host cannot take every slot.
    pub max_connections_per_ip: usize,
    /// A client must send a request's headers within this time, and an idle keep-alive
    /// connection is closed after it.
    pub header_read_timeout: Duration,
    /// A request (body included) must be answered within this time, or gets 503.
    pub request_timeout: Duration,
    /// Largest request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Open `/events` streams at most (each holds a connection); further ones get 503.
    pub max_event_streams: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_connections: 256,
            max_connections_per_ip: 32,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 256 * 1024,
            max_event_streams: 64,
        }
    }
}

/// Open connections per remote IP; a [`PerIpSlot`] gives its count back when dropped.
#[derive(Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

struct PerIpSlot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    /// Takes a slot for `ip`, or None when it holds `limit` already.
    fn take(table: &Arc<PerIp>, ip: IpAddr, limit: usize) -> Option<PerIpSlot> {
        let mut counts = table.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(PerIpSlot {
            table: table.clone(),
            ip,
        })
    }
}

impl Drop for PerIpSlot {
    fn drop(&mut self) {
        let mut counts = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Answers 503 when a request takes longer than `limit`, and gives the body limit's plain
/// 413 the API's JSON error form.
async fn deadline(limit: Duration, max_body: usize, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) if response.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request body larger than {max_body} bytes (api.max_body_bytes)"),
        )
        .into_response(),
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("request not answered within {limit:?}"),
        )
        .into_response(),
    }
}

/// Adds the body limit and the request deadline to the API's routes.
pub fn with_limits(router: Router, limits: &ApiLimits) -> Router {
    let limit = limits.request_timeout;
    let max_body = limits.max_body_bytes;
    router
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            deadline(limit, max_body, request, next)
        }))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
}

/// Serves `router` on `listener` until `stop` turns true; then stops accepting and waits for
/// open requests to finish (event streams are cut).
pub fn serve(
    listener: TcpListener,
    router: Router,
    limits: ApiLimits,
    mut stop: watch::Receiver<bool>,
) -> impl Future<Output = ()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_ip = Arc::new(PerIp::default());
    let service = TowerToHyperService::new(router);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    async move {
        let (closing, _) = watch::channel(false);
        let closing = Arc::new(closing);
        let mut full_logged = false;
        loop {
            let accepted = tokio::select! {
                () = async { let _ = stop.wait_for(|s| *s).await; } => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file handles, mostly: wait a moment instead of spinning.
                    warn!(error = %e, "API accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                if !full_logged {
                    warn!(
                        max = limits.max_connections,
                        "API connection limit reached; closing new connections (api.max_connections)"
                    );
                    full_logged = true;
                }
                drop(stream);
                continue;
            };
            full_logged = false;
            let ip_slot = if peer.ip().is_loopback() {
                None
            } else {
                match PerIp::take(&per_ip, peer.ip(), limits.max_connections_per_ip) {
                    Some(slot) => Some(slot),
                    None => {
                        debug!(%peer, "API connections per IP at the limit; closing");
                        drop(stream);
                        continue;
                    }
                }
            };
            let connection = http.serve_connection(TokioIo::new(stream), service.clone());
            let mut closing = closing.subscribe();
            tokio::spawn(async move {
                let mut connection = std::pin::pin!(connection);
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            debug!(%peer, error = %e, "API connection ended with an error");
                        }
                    }
                    () = async { let _ = closing.wait_for(|c| *c).await; } => {
                        connection.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(Duration::from_secs(3), connection).await;
                    }
                }
                drop(ip_slot);
                drop(permit);
            });
        }
        let _ = closing.send(true);
        // Wait (briefly) for open connections to finish their requests.
        let _ = tokio::time::timeout(
            Duration::from_secs(3),
            slots.acquire_many(u32::try_from(limits.max_connections).unwrap_or(u32::MAX)),
        )
        .await;
    }
}
