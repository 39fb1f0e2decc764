//! RPC middleware counting every request that names a method (known or not), so tests can assert
//! that a cached client made no chain calls.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use jsonrpsee::core::middleware::{Batch, Notification, RpcServiceT};
use jsonrpsee::types::Request;

#[derive(Clone)]
pub struct Counting<S> {
    pub inner: S,
    pub counter: Arc<AtomicU64>,
}

impl<S> RpcServiceT for Counting<S>
where
    S: RpcServiceT + Send + Sync + Clone + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl std::future::Future<Output = Self::MethodResponse> + Send + 'a {
        self.counter.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(method = request.method_name(), "rpc request");
        self.inner.call(request)
    }

    fn batch<'a>(
        &self,
        requests: Batch<'a>,
    ) -> impl std::future::Future<Output = Self::BatchResponse> + Send + 'a {
        self.counter
            .fetch_add(requests.len() as u64, Ordering::Relaxed);
        self.inner.batch(requests)
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl std::future::Future<Output = Self::NotificationResponse> + Send + 'a {
        self.counter.fetch_add(1, Ordering::Relaxed);
        self.inner.notification(n)
    }
}
