//! Accepting and serving connections with bounds a hostile or broken client cannot get past
//! (`axum::serve` has none): hyper's HTTP/1 connection with a header read timeout (which also
//! closes idle keep-alive connections), a bounded read buffer and head size, and a cap on open
//! connections — one past it is answered `503` with a JSON reason and closed. Graceful shutdown
//! stops accepting and lets open connections finish their request.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::{Service, ServiceExt};

use crate::settings::Settings;

/// How long a refused connection is read from (and discarded) after its 503 is written, so the
/// client's request bytes do not turn the close into a reset that loses the answer.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// The connection bounds, from the settings.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub max_header_bytes: usize,
    pub buffer_bytes: usize,
}

impl ConnectionLimits {
    pub fn from_settings(settings: &Settings) -> Self {
        ConnectionLimits {
            header_read_timeout: settings.header_read_timeout,
            max_connections: settings.max_connections,
            max_header_bytes: settings.max_header_bytes,
            buffer_bytes: settings.connection_buffer_bytes,
        }
    }

    fn http1(&self) -> http1::Builder {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_header_size(self.max_header_bytes)
            .max_buf_size(self.buffer_bytes)
            .keep_alive(true);
        builder
    }
}

/// Serve `router` on `listener` until `shutdown` resolves, then until every open connection
/// has finished (the caller bounds that wait).
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let builder = Arc::new(limits.http1());
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusal = Arc::new(refusal_response(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            crate::metrics::connection_refused();
            tokio::spawn(refuse(stream, refusal.clone()));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let per_connection = hyper::service::service_fn(move |request: Request<Incoming>| {
            service.clone().oneshot(request.map(Body::new))
        });
        let connection =
            graceful.watch(builder.serve_connection(TokioIo::new(stream), per_connection));
        tokio::spawn(async move {
            let _open = crate::metrics::OpenConnection::new();
            if let Err(error) = connection.await {
                // Timeouts, resets and malformed requests: the client's doing, not ours.
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The answer on a connection past `PYLON_MAX_CONNECTIONS`: the same JSON shape as every error.
fn refusal_response(max: usize) -> Vec<u8> {
    let body = serde_json::to_vec(&crate::wire::ErrorResponse {
        status_code: 503,
        detail: format!(
            "too many open connections: the service keeps at most {max} \
             (PYLON_MAX_CONNECTIONS); retry shortly"
        ),
    })
    .expect("an error body serialises");
    let mut response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    response
}

async fn refuse(mut stream: TcpStream, response: Arc<Vec<u8>>) {
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        if stream.write_all(&response).await.is_err() {
            return;
        }
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 1024];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
