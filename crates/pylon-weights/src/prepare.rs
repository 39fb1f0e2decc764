//! From a validated request to the weights a job carries: map hotkeys to uids, then convert.

use crate::body::WeightsRequest;
use crate::convert::{to_chain_weights, ChainWeights};
use crate::mapping::{map_to_uids, MappingError, UidHotkey};

/// What a `PUT …/weights` turns into, and what its answer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedWeights {
    pub weights: ChainWeights,
    /// Hotkeys not registered on the subnet at the latest block, as the caller spelled them.
    pub unknown_hotkeys: Vec<String>,
}

/// Map and convert a validated request against the subnet's neurons at the latest block.
pub fn prepare_weights(
    request: &WeightsRequest,
    neurons: &[UidHotkey],
) -> Result<PreparedWeights, MappingError> {
    let mapped = map_to_uids(request, neurons)?;
    Ok(PreparedWeights {
        weights: to_chain_weights(&mapped.weights),
        unknown_hotkeys: mapped.unknown_hotkeys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_weights_body;
    use subxt_utils_accountid32::AccountId32;

    #[test]
    fn a_reference_body_becomes_u16_weights_by_uid_with_unknowns_reported() {
        let registered = [AccountId32([1; 32]), AccountId32([2; 32])];
        let stranger = AccountId32([3; 32]);
        let body = format!(
            r#"{{"weights": {{"{}": 0.2, "{}": 0.8, "{}": 0.5}}}}"#,
            registered[0], registered[1], stranger
        );
        let request = parse_weights_body(body.as_bytes()).unwrap();
        let neurons = [
            UidHotkey {
                hotkey: registered[0],
                uid: 9,
            },
            UidHotkey {
                hotkey: registered[1],
                uid: 2,
            },
        ];
        let prepared = prepare_weights(&request, &neurons).unwrap();
        // 0.2 / 0.8 * 65535 = 16383.75 → 16384.
        assert_eq!(
            prepared,
            PreparedWeights {
                weights: ChainWeights {
                    uids: vec![2, 9],
                    values: vec![65535, 16384],
                },
                unknown_hotkeys: vec![stranger.to_string()],
            }
        );
    }
}
