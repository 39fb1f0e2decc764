//! Subtensor's per-block epoch bookkeeping: each subnet's epoch runs when
//! `(block + netuid + 1) % (tempo + 1) == tempo`, which resets `BlocksSinceLastStep` and records
//! `LastMechansimStepBlock` (subtensor's spelling); other blocks count up. Emission and
//! consensus are not simulated.

use scale_value::Value;

use crate::state_access::StateAccess;

const SM: &str = "SubtensorModule";

/// Whether `netuid`'s epoch runs in `block` (subtensor's `blocks_until_next_epoch == 0`).
pub fn runs_epoch(netuid: u16, tempo: u16, block: u64) -> bool {
    if tempo == 0 {
        return false;
    }
    let tempo = u64::from(tempo);
    (block + u64::from(netuid) + 1) % (tempo + 1) == tempo
}

pub fn block_step(state: &mut dyn StateAccess, block: u32) {
    let netuids: Vec<Value> = state
        .iter_prefix(SM, "NetworksAdded", &[])
        .into_iter()
        .filter(|(_, added)| added.as_bool() == Some(true))
        .filter_map(|(keys, _)| keys.into_iter().next())
        .collect();
    for netuid in netuids {
        let key = [netuid.clone()];
        let number = |v: Option<Value>| v.and_then(|v| v.as_u128()).unwrap_or(0);
        let tempo = number(state.read(SM, "Tempo", &key)) as u16;
        let id = number(Some(netuid)) as u16;
        if runs_epoch(id, tempo, block.into()) {
            state.write(SM, "BlocksSinceLastStep", &key, Value::u128(0));
            state.write(
                SM,
                "LastMechansimStepBlock",
                &key,
                Value::u128(block.into()),
            );
        } else {
            let since = number(state.read(SM, "BlocksSinceLastStep", &key));
            state.write(SM, "BlocksSinceLastStep", &key, Value::u128(since + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_run_at_subtensors_offsets() {
        // netuid 1, tempo 360: (block + 2) % 361 == 360 → blocks 358, 719, …
        assert!(runs_epoch(1, 360, 358));
        assert!(runs_epoch(1, 360, 719));
        assert!(!runs_epoch(1, 360, 359));
        assert!(!runs_epoch(1, 0, 358));
    }
}
