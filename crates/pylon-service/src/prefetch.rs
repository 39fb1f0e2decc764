//! On every new head, fetch the hot subnets' neurons for it right away, so readers of the latest
//! block find them rendered and never wait for the chain.

use std::sync::Arc;

use crate::encoding::Coding;
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
                // Heads can arrive faster than a fetch: one that is no longer the latest is skipped.
                if state.chain.head().as_ref() != Some(&head) {
                    return;
                }
                // One fetch of a subnet's latest neurons at a time: on a stalled chain, heads
                // would otherwise collect one stalled fetch each (memory and node load growing
                // for as long as the stall lasts). The next head after it ends is fetched.
                let Some(claim) = state.claim_refresh(netuid) else {
                    return;
                };
                let fetched = reads::neurons(&state, netuid, &head).await;
                drop(claim);
                match fetched {
                    // Compress ahead too, so no reader of the new block waits for it.
                    Ok(rendered) => {
                        let _ = tokio::task::spawn_blocking(move || {
                            let views = std::iter::once(&rendered).chain(rendered.companion());
                            for view in views {
                                view.encoded(Coding::Zstd);
                                view.encoded(Coding::Gzip);
                            }
                        })
                        .await;
                    }
                    Err(error) => {
                        tracing::debug!(netuid, block = head.number, %error, "prefetch failed")
                    }
                }
            });
        }
    }
}
