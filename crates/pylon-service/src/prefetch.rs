//! On every new head, fetch the hot subnets' neurons for it right away, so readers of the latest
//! block find them rendered and never wait for the chain.

use std::sync::Arc;

use crate::reads;
use crate::state::AppState;

pub async fn follow_heads(state: Arc<AppState>) {
    let mut heads = state.chain.heads();
    loop {
        if heads.changed().await.is_err() {
            return;
        }
        let Some(head) = heads.borrow_and_update().clone() else {
            continue;
        };
        for netuid in state.hot_netuids() {
            let state = state.clone();
            let head = head.clone();
            tokio::spawn(async move {
                if let Err(error) = reads::neurons(&state, netuid, &head).await {
                    tracing::debug!(netuid, block = head.number, %error, "prefetch failed");
                }
            });
        }
    }
}
