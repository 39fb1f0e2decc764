//! The chain's actual pace: the mean block time over recent blocks, from `Timestamp.Now`.
//!
//! Drand rounds are wall-clock times, so anything that turns "N blocks from now" into a round (a
//! CRv4 commit, a timelocked commitment) must follow the blocks as they come: a node that runs
//! faster or slower than its declared slot (`Timestamp.MinimumPeriod` × 2: a local chain, a
//! stall) would otherwise get ciphertexts for rounds outside the intended blocks.

use subxt::dynamic;

use crate::client::ChainClient;
use crate::error::ChainError;
use crate::model::BlockRef;

/// Blocks over which the block time is measured.
pub const PACE_WINDOW: u32 = 10;
/// Fewest block intervals worth measuring: a fresh chain is measured as soon as it has them,
/// rather than assumed to run at its declared slot for its first [`PACE_WINDOW`] blocks.
const PACE_MIN_SPAN: u32 = 2;

impl ChainClient {
    /// Seconds per block over the last [`PACE_WINDOW`] blocks before `head` (fewer on a young
    /// chain, never counting genesis, whose timestamp is not a real one); the declared slot time
    /// when there is too little to measure or the clock did not move.
    pub async fn block_time_secs(&self, head: &BlockRef) -> Result<f64, ChainError> {
        let span = PACE_WINDOW.min(head.number.saturating_sub(1));
        if span >= PACE_MIN_SPAN {
            let earlier = self.block(head.number - span).await?;
            let then = self.timestamp(&earlier).await?;
            let now = self.timestamp(head).await?;
            if now > then {
                return Ok((now - then) as f64 / 1000.0 / f64::from(span));
            }
        }
        self.declared_block_time_secs(head).await
    }

    /// Twice `Timestamp.MinimumPeriod` (Aura's slot), in seconds: 12 on finney.
    pub async fn declared_block_time_secs(&self, head: &BlockRef) -> Result<f64, ChainError> {
        self.route(
            "declared_block_time_secs",
            head.number,
            |connection| async move {
                let at = connection.at(head).await?;
                let minimum_period: u64 = at
                    .constants()
                    .entry(dynamic::constant::<u64>("Timestamp", "MinimumPeriod"))
                    .map_err(ChainError::from_subxt)?;
                Ok((minimum_period * 2) as f64 / 1000.0)
            },
        )
        .await
    }
}
