//! The HTTP service: router + tower layers, bound to a socket, serving until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use pylon_chain::{ChainClient, ChainConfig};
use pylon_weights::runner::RunnerConfig;
use tokio::net::TcpListener;
use tower::{Layer, ServiceBuilder};
use tower_http::compression::{Compression, CompressionLayer};

use crate::connections::{self, ConnectionLimits};
use crate::error::ApiError;
use crate::frame::FrameLayer;
use crate::json_errors::JsonErrors;
use crate::request_body::BodyLimits;
use crate::settings::Settings;
use crate::state::AppState;
use crate::writes::{self, Writer, WriterError};
use crate::{events, health, metrics, prefetch, schema, table};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error(transparent)]
    Writer(#[from] WriterError),
    #[error("cannot resume the unfinished weights jobs: {0}")]
    Resume(String),
}

/// A bound, not yet serving, service.
pub struct Service {
    listener: TcpListener,
    state: Arc<AppState>,
    app: App,
}

impl Service {
    /// Connect to the chain (in the background) and bind the listen address.
    pub async fn bind(settings: Settings) -> Result<Self, ServiceError> {
        let addr = SocketAddr::new(settings.host, settings.port);
        let chain = Arc::new(ChainClient::start(ChainConfig {
            network: settings.network.clone(),
            archive: settings.archive_network.clone(),
            archive_cutoff: settings.archive_blocks_cutoff,
        }));
        chain.set_observer(Arc::new(metrics::ChainMetrics {
            uri: settings.network.redacted(),
        }));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| ServiceError::Bind {
                addr,
                reason: e.to_string(),
            })?;
        let runner = RunnerConfig {
            reveal_rule: settings.weights_reveal_rule,
            max_attempts: settings.weights_retry_attempts,
            initial_backoff: settings.weights_retry_delay,
            max_backoff: settings
                .weights_retry_delay
                .max(RunnerConfig::default().max_backoff),
            ..RunnerConfig::default()
        };
        let writer = Writer::open(&settings, chain.clone(), runner)?;
        if let Some(writer) = &writer {
            // The runners wait for the chain with their backoff; nothing blocks on it here.
            let resumed = writer
                .resume()
                .map_err(|e| ServiceError::Resume(e.to_string()))?;
            if resumed > 0 {
                tracing::info!(jobs = resumed, "resumed unfinished weights jobs");
            }
        }
        let body = BodyLimits {
            max_bytes: settings.max_body_bytes,
            read_timeout: settings.body_read_timeout,
        };
        let state = Arc::new(AppState::new(settings, chain, writer));
        let forget = Arc::downgrade(&state);
        state.chain.on_chain_reset(move || {
            if let Some(state) = forget.upgrade() {
                state.forget_chain();
                state.events.chain_reset();
            }
        });
        let app = app(state.clone(), body);
        Ok(Service {
            listener,
            state,
            app,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound socket has an address")
    }

    /// Wait until the chain is connected and its first head known (for tests and start-up logs).
    pub async fn wait_chain_ready(&self, timeout: Duration) -> bool {
        self.state.chain.wait_ready(timeout).await
    }

    /// Serve until `shutdown` resolves; then stop accepting connections and let in-flight
    /// requests finish, for at most `PYLON_SHUTDOWN_TIMEOUT_SECONDS`. Connections are bounded
    /// as [`connections`] says.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let prefetch = tokio::spawn(prefetch::follow_heads(self.state.clone()));
        let events = tokio::spawn(events::follow_heads(self.state.clone()));
        let job_events = tokio::spawn(events::forward_jobs(self.state.clone()));
        let pruning = self.state.writer.as_ref().map(|w| w.spawn_pruning());
        tracing::info!(addr = %self.local_addr(), "serving the Pylon API");
        // Event streams never end on their own: they end at shutdown, not at the drain deadline.
        let hub = self.state.events.clone();
        let shutdown = async move {
            shutdown.await;
            hub.close();
        };
        let (draining, drain) = bounded_shutdown(shutdown, self.state.settings.shutdown_timeout);
        let limits = ConnectionLimits::from_settings(&self.state.settings);
        let server = connections::serve(self.listener, self.app, limits, draining);
        let result = tokio::select! {
            () = server => Ok(()),
            () = drain => Ok(()),
        };
        prefetch.abort();
        events.abort();
        job_events.abort();
        if let Some(pruning) = pruning {
            pruning.abort();
        }
        result
    }
}

/// The shutdown signal for the server, and a future that resolves `bound` after it fired: the
/// drain deadline (a client holding a slow request open must not keep the process alive).
fn bounded_shutdown(
    shutdown: impl Future<Output = ()> + Send + 'static,
    bound: Duration,
) -> (
    impl Future<Output = ()> + Send + 'static,
    impl Future<Output = ()> + Send + 'static,
) {
    let (fired_tx, fired) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!(
            bound_seconds = bound.as_secs_f64(),
            "shutting down: no new connections; finishing in-flight requests"
        );
        let _ = fired_tx.send(());
    };
    let deadline = async move {
        // The sender is dropped unsent when the server stops on its own: then no deadline.
        if fired.await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(bound).await;
        tracing::warn!(
            bound_seconds = bound.as_secs_f64(),
            "in-flight requests did not finish in time (PYLON_SHUTDOWN_TIMEOUT_SECONDS); exiting anyway"
        );
    };
    (signal, deadline)
}

/// Bind and serve until `shutdown`.
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    Service::bind(settings).await?.serve(shutdown).await
}

/// The whole service: every route in its [`frame`](crate::frame), every error in the JSON shape
/// ([`JsonErrors`]), and compression of the answers that are not compressed already (cached
/// reads are compressed once, when cached).
pub type App = Compression<JsonErrors<Router>>;

/// The router with every layer, for a given state.
pub fn app(state: Arc<AppState>, body: BodyLimits) -> App {
    let (api, document) = table::api();
    // One layer per route: the frame, and the route's extractors taking the body the frame read
    // (its size bound is the frame's, not axum's default).
    let frame = ServiceBuilder::new()
        .layer(FrameLayer::new(&state.settings, body))
        .layer(axum::extract::DefaultBodyLimit::disable());
    let router = api
        .merge(schema::router(document))
        .merge(metrics::router())
        .merge(health::router())
        .fallback(no_such_route)
        .layer(frame)
        .with_state(state);
    CompressionLayer::new()
        .gzip(true)
        .zstd(true)
        .layer(JsonErrors(router))
}

/// 404 for a path no table serves; under an open-access prefix, the identity routes are named
/// (writes and `…/self` exist only there).
async fn no_such_route(uri: axum::http::Uri) -> ApiError {
    let path = uri.path();
    if path.starts_with("/api/") && !path.contains("/identity/") && path.contains("/subnet/") {
        return ApiError::NotFound(format!("no such route; {}", writes::IDENTITY_ONLY));
    }
    ApiError::NotFound("no such route".into())
}
