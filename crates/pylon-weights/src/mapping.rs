//! Hotkeys → uids, given the subnet's neurons at the latest block.
//!
//! Hotkeys that are not registered are reported back to the caller, never silently dropped: a
//! validator must learn that part of its weights went nowhere.

use std::collections::HashMap;

use subxt_utils_accountid32::AccountId32;

use crate::body::WeightsRequest;
use crate::echo::{bounded_list, echo};

/// A registered neuron: its hotkey and uid on the subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidHotkey {
    pub hotkey: AccountId32,
    pub uid: u16,
}

/// Weights by uid (ascending uid order), plus the hotkeys that are not on the subnet.
#[derive(Debug, Clone, PartialEq)]
pub struct UidWeights {
    pub weights: Vec<(u16, f64)>,
    /// Hotkeys as the caller spelled them, in request order.
    pub unknown_hotkeys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Names the first few hotkeys (cut short) and counts the rest.
    #[error("none of the hotkeys is registered on the subnet: {}", listed(.unknown_hotkeys))]
    NoneRegistered { unknown_hotkeys: Vec<String> },
}

fn listed(hotkeys: &[String]) -> String {
    let shown: Vec<String> = hotkeys.iter().map(|h| echo(h)).collect();
    bounded_list(&shown, ", ")
}

/// Map a validated request's hotkeys to uids.
pub fn map_to_uids(
    request: &WeightsRequest,
    neurons: &[UidHotkey],
) -> Result<UidWeights, MappingError> {
    let uid_of: HashMap<[u8; 32], u16> = neurons
        .iter()
        .map(|neuron| (neuron.hotkey.0, neuron.uid))
        .collect();
    let mut weights = Vec::with_capacity(request.entries.len());
    let mut unknown_hotkeys = Vec::new();
    for entry in &request.entries {
        match uid_of.get(&entry.account.0) {
            Some(&uid) => weights.push((uid, entry.weight)),
            None => unknown_hotkeys.push(entry.hotkey.clone()),
        }
    }
    if weights.is_empty() {
        return Err(MappingError::NoneRegistered { unknown_hotkeys });
    }
    // The chain does not need sorted uids, but a stable order makes the extrinsic reproducible.
    weights.sort_by_key(|&(uid, _)| uid);
    Ok(UidWeights {
        weights,
        unknown_hotkeys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::WeightEntry;

    fn account(byte: u8) -> AccountId32 {
        AccountId32([byte; 32])
    }

    fn entry(byte: u8, weight: f64) -> WeightEntry {
        WeightEntry {
            hotkey: account(byte).to_string(),
            account: account(byte),
            weight,
        }
    }

    fn neurons() -> Vec<UidHotkey> {
        vec![
            UidHotkey {
                hotkey: account(1),
                uid: 7,
            },
            UidHotkey {
                hotkey: account(2),
                uid: 3,
            },
            UidHotkey {
                hotkey: account(3),
                uid: 0,
            },
        ]
    }

    #[test]
    fn maps_registered_hotkeys_in_uid_order_and_reports_the_rest() {
        let request = WeightsRequest {
            entries: vec![entry(1, 0.5), entry(9, 1.0), entry(2, 2.0), entry(8, 0.0)],
        };
        let mapped = map_to_uids(&request, &neurons()).unwrap();
        assert_eq!(mapped.weights, vec![(3, 2.0), (7, 0.5)]);
        assert_eq!(
            mapped.unknown_hotkeys,
            vec![account(9).to_string(), account(8).to_string()]
        );
    }

    #[test]
    fn none_registered_is_an_error_listing_them() {
        let request = WeightsRequest {
            entries: vec![entry(9, 1.0)],
        };
        assert_eq!(
            map_to_uids(&request, &neurons()),
            Err(MappingError::NoneRegistered {
                unknown_hotkeys: vec![account(9).to_string()]
            })
        );
        assert!(map_to_uids(&request, &[]).is_err());
    }
}
