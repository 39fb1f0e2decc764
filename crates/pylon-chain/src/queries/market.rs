//! Chain-level market data: every subnet's alpha price from its pool reserves, and the drand round
//! the chain stored last.
//!
//! The price is what subtensor's `SwapRuntimeApi.current_alpha_price` answers, computed from the
//! storage it reads, by name from the block's metadata:
//! - `SubtensorModule.SubnetMechanism(netuid)` other than 1 (root, stable subnets): 1 TAO.
//! - otherwise, with `x = SubtensorModule.SubnetAlphaIn`, `y = SubtensorModule.SubnetTAO` and the
//!   balancer's quote weight `w2 = Swap.SwapBalancer(netuid).quote` (`w1 = 1 - w2`):
//!   `price = (w1 / w2) · (y / x)` TAO per alpha, 0 when `x` is 0 (subtensor v3.4.9-424,
//!   `pallets/swap/src/pallet/balancer.rs` `calculate_price`).
//! - runtimes without `Swap.SwapBalancer` (before the balancer swap): `y / x`.
//!
//! The runtime computes in `U64F64` fixed point (64 fractional bits, every step truncating) and
//! answers `price × 10⁹` truncated to an integer: rao of TAO per alpha. [`alpha_price_rao`]
//! follows the same steps, so the numbers agree to the rao.

use scale_value::{At, Value};
use subxt::dynamic;

use crate::client::ChainClient;
use crate::connection::{AtBlock, Connection};
use crate::error::ChainError;
use crate::model::BlockRef;
use crate::neurons::query_storage_at;

const SM: &str = "SubtensorModule";
const RAO_PER_TAO: u64 = 1_000_000_000;
/// `Perquintill`'s denominator (`ONE`).
const PERQUINTILL_ONE: u64 = 1_000_000_000_000_000_000;

/// The pool state one subnet's price is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub mechanism: u16,
    /// `SubnetTAO`, rao.
    pub tao_in: u64,
    /// `SubnetAlphaIn`, rao of alpha.
    pub alpha_in: u64,
    /// The balancer's quote (TAO) weight in `Perquintill` parts; `None` on runtimes without it.
    pub quote_weight: Option<u64>,
}

/// Rao of TAO per alpha, as `SwapRuntimeApi.current_alpha_price` computes it (see the module docs).
pub fn alpha_price_rao(pool: &PoolState) -> u64 {
    if pool.mechanism != 1 {
        return RAO_PER_TAO;
    }
    if pool.alpha_in == 0 {
        return 0;
    }
    let reserves = fixed_div(from_int(pool.tao_in), from_int(pool.alpha_in));
    let price = match pool.quote_weight {
        Some(quote) => {
            let base = PERQUINTILL_ONE.saturating_sub(quote);
            fixed_mul(fixed_div(from_int(base), from_int(quote)), reserves)
        }
        None => reserves,
    };
    let scaled = fixed_mul(price, from_int(RAO_PER_TAO));
    u64::try_from(scaled >> 64).unwrap_or(u64::MAX)
}

/// A U64F64 holding the integer `n` (its raw bits).
fn from_int(n: u64) -> u128 {
    u128::from(n) << 64
}

/// U64F64 division as `safe_div` does it: `(a << 64) / b` truncating; 0 on division by zero or
/// when the quotient overflows (`checked_div(..).unwrap_or_default()`).
fn fixed_div(a: u128, b: u128) -> u128 {
    if b == 0 {
        return 0;
    }
    // Restoring long division over the 192-bit numerator `a << 64`; the remainder stays < b.
    let mut rem: u128 = 0;
    let mut q: u128 = 0;
    for i in (0..192u32).rev() {
        let bit = if i >= 64 { (a >> (i - 64)) & 1 } else { 0 };
        let carry = rem >> 127;
        rem = (rem << 1) | bit;
        if q >> 127 == 1 {
            return 0;
        }
        q <<= 1;
        if carry == 1 || rem >= b {
            rem = rem.wrapping_sub(b);
            q |= 1;
        }
    }
    q
}

/// U64F64 multiplication, `saturating_mul`: `(a · b) >> 64`, truncating, saturating at the max.
fn fixed_mul(a: u128, b: u128) -> u128 {
    let mask = u128::from(u64::MAX);
    let (ah, al, bh, bl) = (a >> 64, a & mask, b >> 64, b & mask);
    let high = ah * bh; // contributes high << 64
    let mid = (ah * bl).checked_add(al * bh);
    let low = (al * bl) >> 64;
    let Some(mid) = mid else {
        return u128::MAX;
    };
    if high > mask {
        return u128::MAX;
    }
    (high << 64)
        .checked_add(mid)
        .and_then(|v| v.checked_add(low))
        .unwrap_or(u128::MAX)
}

impl ChainClient {
    /// Every subnet's alpha price at `block` (rao of TAO per alpha), in netuid order: the subnets
    /// in `SubtensorModule.NetworksAdded`.
    pub async fn alpha_prices(&self, block: &BlockRef) -> Result<Vec<(u16, u64)>, ChainError> {
        self.route("alpha_prices", block.number, |connection| async move {
            let at = connection.at(block).await?;
            let netuids = networks_added(&at).await?;
            let pools = pool_states(&connection, &at, block, &netuids).await?;
            Ok(netuids
                .into_iter()
                .zip(pools.iter().map(alpha_price_rao))
                .collect())
        })
        .await
    }

    /// One subnet's alpha price at `block` (rao of TAO per alpha), or `None` when the subnet does
    /// not exist at that block.
    pub async fn alpha_price(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<Option<u64>, ChainError> {
        self.route("alpha_price", block.number, |connection| async move {
            let at = connection.at(block).await?;
            let exists = at
                .storage()
                .try_fetch(
                    dynamic::storage::<(u16,), Value>(SM, "NetworksAdded"),
                    (netuid,),
                )
                .await
                .map_err(ChainError::from_subxt)?
                .map(|v| v.decode().map_err(ChainError::from_subxt))
                .transpose()?
                .is_some_and(|v| v.as_bool() == Some(true));
            if !exists {
                return Ok(None);
            }
            let pools = pool_states(&connection, &at, block, &[netuid]).await?;
            Ok(pools.first().map(alpha_price_rao))
        })
        .await
    }

    /// `Drand.LastStoredRound` at `block`: the newest drand round whose pulse the chain holds.
    pub async fn drand_last_stored_round(&self, block: &BlockRef) -> Result<u64, ChainError> {
        self.route(
            "drand_last_stored_round",
            block.number,
            |connection| async move {
                let at = connection.at(block).await?;
                let value = at
                    .storage()
                    .fetch(
                        dynamic::storage::<(), Value>("Drand", "LastStoredRound"),
                        (),
                    )
                    .await
                    .map_err(ChainError::from_subxt)?
                    .decode()
                    .map_err(ChainError::from_subxt)?;
                value
                    .as_u128()
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| ChainError::Decode("Drand.LastStoredRound is not a u64".into()))
            },
        )
        .await
    }
}

/// The netuids with `NetworksAdded = true`, ascending.
async fn networks_added(at: &AtBlock) -> Result<Vec<u16>, ChainError> {
    let mut entries = at
        .storage()
        .iter(dynamic::storage::<(u16,), Value>(SM, "NetworksAdded"), ())
        .await
        .map_err(ChainError::from_subxt)?;
    let mut netuids = Vec::new();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(ChainError::from_subxt)?;
        let key = entry.key().map_err(ChainError::from_subxt)?;
        let netuid = key
            .part(0)
            .and_then(|part| part.decode_as::<Value>().ok().flatten())
            .and_then(|v| v.as_u128())
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| ChainError::Decode("NetworksAdded key without a netuid".into()))?;
        let added = entry.value().decode().map_err(ChainError::from_subxt)?;
        if added.as_bool() == Some(true) {
            netuids.push(netuid);
        }
    }
    netuids.sort_unstable();
    Ok(netuids)
}

/// The pool state of each netuid, read in one batched storage call.
async fn pool_states(
    connection: &Connection,
    at: &AtBlock,
    block: &BlockRef,
    netuids: &[u16],
) -> Result<Vec<PoolState>, ChainError> {
    let balancer = has_item(at, "Swap", "SwapBalancer");
    let mut items: Vec<(&str, &str)> = vec![
        (SM, "SubnetMechanism"),
        (SM, "SubnetTAO"),
        (SM, "SubnetAlphaIn"),
    ];
    if balancer {
        items.push(("Swap", "SwapBalancer"));
    }
    let per_netuid = items.len();
    let keyed: Vec<(&str, &str, u16)> = netuids
        .iter()
        .flat_map(|&n| items.iter().map(move |&(p, i)| (p, i, n)))
        .collect();
    let values = read_netuid_keyed(connection, at, block, &keyed).await?;
    let number = |value: &Value<u32>, what: &str| -> Result<u64, ChainError> {
        value
            .as_u128()
            .or_else(|| value.at(0).and_then(|v| v.as_u128()))
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| ChainError::Decode(format!("{what} is not a number")))
    };
    values
        .chunks(per_netuid)
        .map(|chunk| {
            let quote_weight = if balancer {
                let quote = chunk[3]
                    .at("quote")
                    .ok_or_else(|| ChainError::Decode("Swap.SwapBalancer without quote".into()))?;
                Some(number(quote, "Swap.SwapBalancer.quote")?)
            } else {
                None
            };
            Ok(PoolState {
                mechanism: number(&chunk[0], "SubnetMechanism")? as u16,
                tao_in: number(&chunk[1], "SubnetTAO")?,
                alpha_in: number(&chunk[2], "SubnetAlphaIn")?,
                quote_weight,
            })
        })
        .collect()
}

pub(crate) fn has_item(at: &AtBlock, pallet: &str, item: &str) -> bool {
    at.metadata()
        .pallet_by_name(pallet)
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name(item))
        .is_some()
}

/// `pallet.item(netuid)` for each entry, batched into one `state_queryStorageAt`; absent entries
/// take the default the metadata declares.
pub(crate) async fn read_netuid_keyed(
    connection: &Connection,
    at: &AtBlock,
    block: &BlockRef,
    keyed: &[(&str, &str, u16)],
) -> Result<Vec<Value<u32>>, ChainError> {
    let storage = at.storage();
    let metadata = at.metadata();
    let types = metadata.types();
    let mut keys = Vec::with_capacity(keyed.len());
    let mut defaults = Vec::with_capacity(keyed.len());
    let mut value_types = Vec::with_capacity(keyed.len());
    for &(pallet, item, netuid) in keyed {
        let entry = storage
            .entry(dynamic::storage::<(u16,), Value>(pallet, item))
            .map_err(ChainError::from_subxt)?;
        keys.push(entry.fetch_key((netuid,)).map_err(ChainError::from_subxt)?);
        defaults.push(entry.default_value().map(|v| v.bytes().to_vec()));
        let ty = metadata
            .pallet_by_name(pallet)
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name(item))
            .map(|e| e.value_ty())
            .ok_or_else(|| ChainError::Decode(format!("no {pallet}.{item} in metadata")))?;
        value_types.push(ty);
    }
    let values = query_storage_at(connection, &keys, block).await?;
    keyed
        .iter()
        .zip(values.into_iter().zip(defaults).zip(value_types))
        .map(|(&(pallet, item, _), ((value, default), ty))| {
            let bytes = value
                .or(default)
                .ok_or_else(|| ChainError::Decode(format!("{pallet}.{item} has no value")))?;
            scale_value::scale::decode_as_type(&mut &bytes[..], ty, types)
                .map_err(|e| ChainError::Decode(format!("{pallet}.{item}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(tao_in: u64, alpha_in: u64, quote_weight: Option<u64>) -> PoolState {
        PoolState {
            mechanism: 1,
            tao_in,
            alpha_in,
            quote_weight,
        }
    }

    #[test]
    fn stable_and_root_subnets_cost_one_tao() {
        let root = PoolState {
            mechanism: 0,
            ..pool(5, 7, None)
        };
        assert_eq!(alpha_price_rao(&root), 1_000_000_000);
    }

    #[test]
    fn an_empty_alpha_reserve_prices_at_zero() {
        assert_eq!(alpha_price_rao(&pool(10, 0, Some(PERQUINTILL_ONE / 2))), 0);
    }

    #[test]
    fn equal_weights_price_is_the_reserve_ratio_in_rao() {
        let half = PERQUINTILL_ONE / 2;
        // 2 TAO against 8 alpha: 0.25 TAO per alpha.
        assert_eq!(
            alpha_price_rao(&pool(2_000_000_000, 8_000_000_000, Some(half))),
            250_000_000
        );
        // 1 TAO against 3 alpha: 0.333… TAO, truncated through U64F64 to 333_333_333 rao.
        assert_eq!(
            alpha_price_rao(&pool(1_000_000_000, 3_000_000_000, Some(half))),
            333_333_333
        );
        assert_eq!(alpha_price_rao(&pool(7, 7, None)), 1_000_000_000);
    }

    #[test]
    fn unequal_weights_scale_the_price_by_w1_over_w2() {
        // w2 = 0.25 → w1/w2 = 3; reserves 1:1 → 3 TAO per alpha.
        let quarter = PERQUINTILL_ONE / 4;
        assert_eq!(
            alpha_price_rao(&pool(5_000_000_000, 5_000_000_000, Some(quarter))),
            3_000_000_000
        );
    }

    #[test]
    fn fixed_point_steps_match_their_definitions() {
        // 1/3 in U64F64 is 0x5555…5 (64 fractional bits, truncated).
        assert_eq!(fixed_div(from_int(1), from_int(3)), 0x5555_5555_5555_5555);
        assert_eq!(fixed_div(from_int(6), from_int(3)), from_int(2));
        assert_eq!(fixed_div(from_int(1), 0), 0);
        // Overflowing quotients are 0 like `safe_div`'s `checked_div(..).unwrap_or_default()`.
        assert_eq!(fixed_div(from_int(u64::MAX), 1), 0);
        assert_eq!(fixed_mul(from_int(3), from_int(4)), from_int(12));
        assert_eq!(fixed_mul(from_int(u64::MAX), from_int(u64::MAX)), u128::MAX);
        // Wide division agrees with u128 division where that one cannot overflow.
        for (a, b) in [
            (12345u128, 7u128),
            (1 << 60, 3),
            (u64::MAX as u128, 1 << 40),
        ] {
            assert_eq!(fixed_div(a, b), (a << 64) / b);
        }
    }
}
